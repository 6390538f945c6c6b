//! The Graph API client: `POST {base}/{version}/{phone_number_id}/messages`.
//!
//! One `reqwest::Client` (rustls, connection pool) per process, cloned cheaply. Access
//! tokens are per channel and passed per call as [`SecretString`]: the client never stores
//! them, and they are never formatted into logs or errors.

mod backoff;
mod config;
mod error;
mod inbound_media;
mod message;
mod orders;
mod signup;
mod templates;
mod test_channel;

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

pub use backoff::PAIR_RATE_LIMIT_FACTOR;
pub use config::{
    GraphConfig, GraphConfigError, RetryPolicy, DEFAULT_API_VERSION, DEFAULT_BASE_URL,
};
pub use error::{codes, is_account_level, SendError, ACCOUNT_LEVEL_CODES};
pub use inbound_media::{base_mime, DownloadedMedia, MediaError, MediaInfo, MediaLimits};
pub use message::{
    is_user_id, split_text, InvalidMessage, ListRow, OutboundMessage, Recipient, ReplyButton,
    MAX_BUTTONS, MAX_BUTTON_ID_CHARS, MAX_BUTTON_TITLE_CHARS, MAX_CAPTION_CHARS,
    MAX_FILENAME_CHARS, MAX_INTERACTIVE_BODY_CHARS, MAX_LIST_BUTTON_CHARS, MAX_LIST_ROWS,
    MAX_ROW_DESCRIPTION_CHARS, MAX_ROW_TITLE_CHARS, MAX_SECTION_TITLE_CHARS, MAX_TEXT_BODY_CHARS,
    MAX_USER_ID_CHARS,
};
pub use orders::{
    OrderDetails, OrderItem, OrderStatusUpdate, MAX_ORDER_ITEM_NAME_CHARS, MAX_REFERENCE_ID_CHARS,
    ORDER_STATUSES, PIX_KEY_TYPES,
};
pub use signup::{signup_codes, AccountError, PhoneNumberInfo};
pub use templates::{
    check_template_body, fill_template, is_template_name, read_typing_json, submission_json,
    SubmittedTemplate, TemplateState, TemplateSubmission, MAX_TEMPLATE_BODY_CHARS,
    MAX_TEMPLATE_NAME_CHARS, TEMPLATE_CATEGORIES, TEMPLATE_STATUSES,
};
pub use test_channel::{is_test_channel, TEST_PNID_PREFIX};

/// Header that carries our request id to the Graph API (and into Meta's logs).
pub const REQUEST_ID_HEADER: &str = "X-Request-Id";

/// Graph answers are small; a bigger body means something is wrong on the other side.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// Meta accepted the message; `wamid` is how receipts will refer to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    pub wamid: String,
}

#[derive(Debug, Clone)]
pub struct GraphClient {
    http: reqwest::Client,
    base_url: String,
    api_version: String,
    retry: RetryPolicy,
}

/// Meta's largest document (`POST /{phone_number_id}/media`, "Supported media types").
pub const MAX_DOCUMENT_BYTES: usize = 100 * 1024 * 1024;

/// A file to upload as WhatsApp media.
#[derive(Debug, Clone)]
pub struct MediaUpload<'a> {
    pub bytes: &'a [u8],
    /// Its MIME type, one Meta supports (`application/pdf`).
    pub mime_type: &'a str,
    pub filename: &'a str,
}

#[derive(Deserialize)]
struct UploadOkBody {
    id: String,
}

#[derive(Deserialize)]
struct SendOkBody {
    #[serde(default)]
    messages: Vec<SendOkMessage>,
}

#[derive(Deserialize)]
struct SendOkMessage {
    id: String,
}

impl GraphClient {
    pub fn new(cfg: GraphConfig) -> Result<GraphClient, GraphConfigError> {
        cfg.validate()?;
        let http = reqwest::Client::builder()
            .connect_timeout(cfg.connect_timeout)
            .timeout(cfg.request_timeout)
            .user_agent(concat!("orcazap-whatsapp/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(GraphClient {
            http,
            base_url: cfg.base_url.trim_end_matches('/').to_string(),
            api_version: cfg.api_version,
            retry: cfg.retry,
        })
    }

    pub fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }

    /// `{base}/{version}/{phone_number_id}/messages`.
    pub fn messages_url(&self, phone_number_id: &str) -> String {
        format!(
            "{}/{}/{}/messages",
            self.base_url, self.api_version, phone_number_id
        )
    }

    /// `{base}/{version}/{phone_number_id}/media`.
    pub fn media_url(&self, phone_number_id: &str) -> String {
        format!(
            "{}/{}/{}/media",
            self.base_url, self.api_version, phone_number_id
        )
    }

    /// Uploads a file (`multipart/form-data` with `messaging_product`, `type` and `file`, as
    /// Meta documents it) and returns its media id, which a document message then names. One
    /// attempt, classified like a send: the caller retries transient failures. Media ids live
    /// 30 days at Meta; callers keep the id with what it was made from.
    pub async fn upload_media(
        &self,
        phone_number_id: &str,
        access_token: &SecretString,
        file: &MediaUpload<'_>,
    ) -> Result<String, SendError> {
        let token = channel_token(phone_number_id, access_token)?;
        if file.bytes.is_empty() || file.bytes.len() > MAX_DOCUMENT_BYTES {
            return Err(permanent(format!(
                "media of {} bytes: Meta takes 1 byte to 100 MB",
                file.bytes.len()
            )));
        }
        let (content_type, body) = multipart_body(file);
        let body = if is_test_channel(phone_number_id) {
            test_channel::answer(
                test_channel::Call::Media(&content_type),
                phone_number_id,
                token,
                &body,
            )?
        } else {
            let request = self
                .http
                .post(self.media_url(phone_number_id))
                .bearer_auth(token)
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(body);
            answer_of(request, token).await?
        };
        serde_json::from_slice::<UploadOkBody>(&body)
            .ok()
            .map(|b| b.id)
            .filter(|id| !id.trim().is_empty())
            .ok_or_else(|| permanent("Meta accepted the upload but sent no media id"))
    }

    /// One attempt. The caller (or [`GraphClient::send_with_retry`]) decides what to do
    /// with a transient failure.
    pub async fn send(
        &self,
        phone_number_id: &str,
        access_token: &SecretString,
        msg: &OutboundMessage,
        request_id: Option<&str>,
    ) -> Result<SentMessage, SendError> {
        let token = channel_token(phone_number_id, access_token)?;
        msg.validate().map_err(|e| permanent(e.to_string()))?;
        if is_test_channel(phone_number_id) {
            let json = serde_json::to_vec(&msg.to_graph_json()).unwrap_or_default();
            let body =
                test_channel::answer(test_channel::Call::Message, phone_number_id, token, &json)?;
            return parse_success(&body, token);
        }

        // `bearer_auth` marks the header sensitive, so HTTP-level debug output hides it.
        let mut request = self
            .http
            .post(self.messages_url(phone_number_id))
            .bearer_auth(token)
            .json(&msg.to_graph_json());
        if let Some(id) = request_id.filter(|id| is_header_safe(id)) {
            request = request.header(REQUEST_ID_HEADER, id);
        }
        let body = answer_of(request, token).await?;
        parse_success(&body, token)
    }

    /// Up to `retry.max_attempts` attempts, waiting with exponential backoff and full
    /// jitter between them, on transient failures only. Returns the last error when the
    /// attempts run out; the job queue takes it from there.
    pub async fn send_with_retry(
        &self,
        phone_number_id: &str,
        access_token: &SecretString,
        msg: &OutboundMessage,
        request_id: Option<&str>,
    ) -> Result<SentMessage, SendError> {
        let attempts = self.retry.max_attempts.max(1);
        let mut attempt = 1;
        loop {
            let err = match self
                .send(phone_number_id, access_token, msg, request_id)
                .await
            {
                Ok(sent) => return Ok(sent),
                Err(err) => err,
            };
            if !err.is_transient() || attempt >= attempts {
                tracing::warn!(
                    phone_number_id,
                    request_id,
                    attempt,
                    kind = msg.kind(),
                    code = err.code(),
                    error = err.metric_label(),
                    message = %err.message(),
                    "WhatsApp send failed"
                );
                return Err(err);
            }
            let wait =
                backoff::delay_after(&self.retry, attempt, &err, backoff::thread_random_upto);
            tracing::info!(
                phone_number_id,
                request_id,
                attempt,
                code = err.code(),
                error = err.metric_label(),
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                "WhatsApp send failed temporarily; retrying"
            );
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }
}

fn permanent(message: impl Into<String>) -> SendError {
    SendError::Permanent {
        code: None,
        message: message.into(),
    }
}

/// The token of a channel whose id can go in a URL: an empty token or an id that is not all
/// digits (it becomes a path segment, so it can't reach another path) fails before any request.
fn channel_token<'a>(
    phone_number_id: &str,
    access_token: &'a SecretString,
) -> Result<&'a str, SendError> {
    let token = access_token.expose_secret();
    if token.trim().is_empty() {
        return Err(permanent("the channel has no access token"));
    }
    if phone_number_id.is_empty() || !phone_number_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(permanent("phone_number_id must be digits"));
    }
    Ok(token)
}

/// Sends one Graph request and returns the body of a 2xx answer; anything else is classified
/// (transport error, Meta's error body, `Retry-After`) with the token scrubbed.
async fn answer_of(request: reqwest::RequestBuilder, token: &str) -> Result<Vec<u8>, SendError> {
    let response = request
        .send()
        .await
        .map_err(|e| error::classify_transport_error(&e))?;
    let status = response.status().as_u16();
    let retry_after = error::parse_retry_after(
        response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok()),
    );
    let body = read_capped(response).await?;
    if (200..300).contains(&status) {
        return Ok(body);
    }
    Err(error::classify_http_error(
        status,
        retry_after,
        &body,
        token,
    ))
}

/// The upload's form: `messaging_product`, `type`, then `file` with its name and type. Built by
/// hand (a fixed boundary that cannot occur in the parts' headers; the file is checked for it)
/// rather than through reqwest's multipart feature, to keep the client's dependencies small.
fn multipart_body(file: &MediaUpload<'_>) -> (String, Vec<u8>) {
    let mut boundary = String::from("orcazap-media-boundary-7d1c9b2e");
    while file
        .bytes
        .windows(boundary.len())
        .any(|w| w == boundary.as_bytes())
    {
        boundary.push('x');
    }
    // Quotes and line breaks in a file name would break the part's header.
    let filename: String = file
        .filename
        .chars()
        .map(|c| if c == '"' || c.is_control() { '_' } else { c })
        .collect();
    let mut body = Vec::with_capacity(file.bytes.len() + 512);
    for (name, value) in [("messaging_product", "whatsapp"), ("type", file.mime_type)] {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: {}\r\n\r\n",
            file.mime_type
        )
        .as_bytes(),
    );
    body.extend_from_slice(file.bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Visible ASCII only: anything else would make the request unbuildable, and a request id
/// is never worth failing a send over.
fn is_header_safe(value: &str) -> bool {
    !value.is_empty() && value.len() <= 200 && value.bytes().all(|b| (0x21..0x7f).contains(&b))
}

async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, SendError> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| error::classify_transport_error(&e))?
    {
        let room = MAX_RESPONSE_BYTES.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= MAX_RESPONSE_BYTES {
            break;
        }
    }
    Ok(body)
}

fn parse_success(body: &[u8], token: &str) -> Result<SentMessage, SendError> {
    let wamid = serde_json::from_slice::<SendOkBody>(body)
        .ok()
        .and_then(|b| b.messages.into_iter().next())
        .map(|m| m.id)
        .filter(|id| !id.trim().is_empty());
    match wamid {
        Some(wamid) => Ok(SentMessage { wamid }),
        // Meta took the request but we can't tell which message it made: retrying could
        // send the customer a duplicate, so this is permanent and goes to a person.
        None => Err(SendError::Permanent {
            code: None,
            message: error::scrub(
                format!(
                    "Graph API answered 2xx without messages[0].id ({} bytes)",
                    body.len()
                ),
                token,
            ),
        }),
    }
}

/// Retry waits are bounded by the policy; exposed so the job queue can reuse the same
/// backoff for its own reschedules.
pub fn backoff_delay(policy: &RetryPolicy, failed_attempt: u32, err: &SendError) -> Duration {
    backoff::delay_after(policy, failed_attempt, err, backoff::thread_random_upto)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_fixture_gives_the_wamid() {
        let body = include_str!("../../../../fixtures/whatsapp/graph_send_ok_response.json");
        assert_eq!(
            parse_success(body.as_bytes(), "tok").unwrap().wamid,
            "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABEYEjQ1QzQ0RjE2QjQ3MjY5NkM2NwA="
        );
        let e = parse_success(br#"{"messages":[]}"#, "tok").unwrap_err();
        assert!(!e.is_transient());
    }

    #[test]
    fn url_has_base_version_and_channel() {
        let client = GraphClient::new(GraphConfig {
            base_url: "http://127.0.0.1:1/".into(),
            ..GraphConfig::default()
        })
        .unwrap();
        assert_eq!(
            client.messages_url("100000000000001"),
            "http://127.0.0.1:1/v25.0/100000000000001/messages"
        );
    }

    #[test]
    fn header_safety() {
        assert!(is_header_safe("req-01HZX"));
        assert!(!is_header_safe(""));
        assert!(!is_header_safe("a b"));
        assert!(!is_header_safe("ação"));
        assert!(!is_header_safe("a\r\nX-Evil: 1"));
    }
}
