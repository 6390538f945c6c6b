//! Inbound media (issue 16): what a customer sent as a voice note or a photo, fetched from
//! Meta in two steps, as Meta documents "Retrieve media URL" and "Download media":
//!
//! 1. `GET {base}/{version}/{media-id}` with the channel's token answers
//!    `{"messaging_product","url","mime_type","sha256","file_size","id"}`;
//! 2. `GET {url}` with the same token (Bearer) answers the bytes. The URL lives about five
//!    minutes and the media id a few days, so the worker fetches on arrival.
//!
//! Limits are the caller's ([`MediaLimits`]): a media whose declared or actual size is over
//! the limit, or whose type is not one the caller takes, is refused before (or while) its
//! bytes are read — never buffered whole first.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{error, GraphClient, SendError};

/// What the caller accepts.
#[derive(Debug, Clone, Copy)]
pub struct MediaLimits<'a> {
    /// Largest file taken, in bytes.
    pub max_bytes: usize,
    /// MIME types taken (compared without parameters: `audio/ogg; codecs=opus` is `audio/ogg`).
    pub types: &'a [&'a str],
}

/// Meta's answer to `GET /{media-id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaInfo {
    pub id: String,
    pub url: String,
    pub mime_type: String,
    /// As Meta sent it (hex or base64 of the SHA-256); empty when absent.
    pub sha256: String,
    /// Declared size in bytes, when Meta sent one.
    pub file_size: Option<u64>,
}

/// A downloaded media file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadedMedia {
    pub mime_type: String,
    pub bytes: Vec<u8>,
    /// Hex SHA-256 of `bytes`.
    pub sha256: String,
}

/// Why a media file was not fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    /// Over the caller's limit (declared by Meta or counted while reading).
    #[error("media too large: {size} bytes, the limit is {limit}")]
    TooLarge { size: u64, limit: usize },
    /// A type the caller does not take.
    #[error("media type {0:?} is not accepted")]
    WrongType(String),
    /// The bytes are not what Meta's hash says (a truncated or altered download).
    #[error("media hash does not match Meta's sha256")]
    HashMismatch,
    /// The media id is malformed (it would not be a single path segment).
    #[error("media id must be letters and digits")]
    BadId,
    /// Meta's answer or the download failed: transient ones may succeed later.
    #[error("{0}")]
    Graph(SendError),
}

impl MediaError {
    pub fn is_transient(&self) -> bool {
        matches!(self, MediaError::Graph(e) if e.is_transient())
    }

    /// Low-cardinality label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            MediaError::TooLarge { .. } => "too_large",
            MediaError::WrongType(_) => "wrong_type",
            MediaError::HashMismatch => "hash_mismatch",
            MediaError::BadId => "bad_id",
            MediaError::Graph(e) if e.is_transient() => "unavailable",
            MediaError::Graph(_) => "refused",
        }
    }
}

#[derive(Deserialize)]
struct InfoBody {
    #[serde(default)]
    id: String,
    url: String,
    #[serde(default)]
    mime_type: String,
    #[serde(default)]
    sha256: String,
    /// Meta's examples show a string; some answers carry a number.
    #[serde(default)]
    file_size: Option<serde_json::Value>,
}

/// The MIME type without parameters, lower case.
pub fn base_mime(mime: &str) -> String {
    mime.split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

fn type_taken(mime: &str, limits: &MediaLimits<'_>) -> bool {
    let base = base_mime(mime);
    limits.types.iter().any(|t| base == base_mime(t))
}

/// Meta's `sha256` may be hex or base64: either spelling of our digest matches.
fn hash_matches(declared: &str, digest: &[u8]) -> bool {
    use base64::Engine as _;
    let declared = declared.trim();
    declared.is_empty()
        || declared.eq_ignore_ascii_case(&hex::encode(digest))
        || declared == base64::engine::general_purpose::STANDARD.encode(digest)
        || declared == base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest)
}

impl GraphClient {
    /// `{base}/{version}/{media-id}`.
    pub fn media_info_url(&self, media_id: &str) -> String {
        format!("{}/{}/{}", self.base_url, self.api_version, media_id)
    }

    /// Step 1: Meta's description of the media (short-lived URL, type, hash, size).
    pub async fn media_info(
        &self,
        media_id: &str,
        access_token: &SecretString,
    ) -> Result<MediaInfo, MediaError> {
        if media_id.is_empty()
            || media_id.len() > 128
            || !media_id.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(MediaError::BadId);
        }
        let token = access_token.expose_secret();
        if token.trim().is_empty() {
            return Err(MediaError::Graph(super::permanent(
                "the channel has no access token",
            )));
        }
        let request = self
            .http
            .get(self.media_info_url(media_id))
            .bearer_auth(token);
        let body = super::answer_of(request, token)
            .await
            .map_err(MediaError::Graph)?;
        let b: InfoBody = serde_json::from_slice(&body).map_err(|_| {
            MediaError::Graph(super::permanent(
                "Meta's media answer has no url (not the documented JSON)",
            ))
        })?;
        let file_size = match b.file_size {
            Some(serde_json::Value::Number(n)) => n.as_u64(),
            Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        };
        Ok(MediaInfo {
            id: b.id,
            url: b.url,
            mime_type: b.mime_type,
            sha256: b.sha256,
            file_size,
        })
    }

    /// Both steps: describe, check the declared type and size, download with the token
    /// (stopping as soon as the limit is passed), check the hash and the served type.
    pub async fn fetch_media(
        &self,
        media_id: &str,
        access_token: &SecretString,
        limits: &MediaLimits<'_>,
    ) -> Result<DownloadedMedia, MediaError> {
        let info = self.media_info(media_id, access_token).await?;
        if !type_taken(&info.mime_type, limits) {
            return Err(MediaError::WrongType(base_mime(&info.mime_type)));
        }
        if let Some(size) = info.file_size {
            if size > limits.max_bytes as u64 {
                return Err(MediaError::TooLarge {
                    size,
                    limit: limits.max_bytes,
                });
            }
        }
        if !(info.url.starts_with("https://") || info.url.starts_with("http://")) {
            return Err(MediaError::Graph(super::permanent(
                "Meta's media url is not http(s)",
            )));
        }
        let token = access_token.expose_secret();
        let response = self
            .http
            .get(&info.url)
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| MediaError::Graph(error::classify_transport_error(&e)))?;
        let status = response.status().as_u16();
        let served_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if !(200..300).contains(&status) {
            let body = super::read_capped(response)
                .await
                .map_err(MediaError::Graph)?;
            return Err(MediaError::Graph(error::classify_http_error(
                status, None, &body, token,
            )));
        }
        // The served type, when the server names one, must be one taken too.
        if let Some(t) = served_type.as_deref() {
            if base_mime(t) != "application/octet-stream" && !type_taken(t, limits) {
                return Err(MediaError::WrongType(base_mime(t)));
            }
        }
        let bytes = read_limited(response, limits.max_bytes).await?;
        let digest = Sha256::digest(&bytes);
        if !hash_matches(&info.sha256, &digest) {
            return Err(MediaError::HashMismatch);
        }
        Ok(DownloadedMedia {
            mime_type: base_mime(&info.mime_type),
            bytes,
            sha256: hex::encode(digest),
        })
    }
}

/// Reads the body up to `max` bytes; one byte more is [`MediaError::TooLarge`].
async fn read_limited(mut response: reqwest::Response, max: usize) -> Result<Vec<u8>, MediaError> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| MediaError::Graph(error::classify_transport_error(&e)))?
    {
        if body.len() + chunk.len() > max {
            return Err(MediaError::TooLarge {
                size: (body.len() + chunk.len()) as u64,
                limit: max,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_compare_without_parameters() {
        let limits = MediaLimits {
            max_bytes: 10,
            types: &["audio/ogg", "image/jpeg"],
        };
        assert!(type_taken("audio/ogg; codecs=opus", &limits));
        assert!(type_taken("Image/JPEG", &limits));
        assert!(!type_taken("video/mp4", &limits));
        assert!(!type_taken("", &limits));
    }

    /// Meta's documented answer (fixture): every field read, `file_size` given as a string.
    #[test]
    fn metas_media_answer_reads() {
        let body = include_str!("../../../../fixtures/whatsapp/graph_media_info_response.json");
        let b: InfoBody = serde_json::from_str(body).unwrap();
        assert!(b.url.starts_with("https://lookaside.fbsbx.com/"));
        assert_eq!(base_mime(&b.mime_type), "audio/ogg");
        assert_eq!(b.id, "2234567890123456");
        assert_eq!(b.sha256.len(), 64);
        assert_eq!(b.file_size, Some(serde_json::json!("4358")));
    }

    #[test]
    fn hash_in_hex_or_base64() {
        let d = Sha256::digest(b"abc");
        assert!(hash_matches(&hex::encode(d), &d));
        assert!(hash_matches(&hex::encode(d).to_uppercase(), &d));
        use base64::Engine as _;
        assert!(hash_matches(
            &base64::engine::general_purpose::STANDARD.encode(d),
            &d
        ));
        assert!(!hash_matches(&hex::encode(Sha256::digest(b"abd")), &d));
        assert!(hash_matches("", &d), "absent: nothing to check");
    }
}
