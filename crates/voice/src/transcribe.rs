//! Speech to text behind one trait ([`Transcriber`]). The provider shipped speaks the
//! OpenAI-compatible `POST /v1/audio/transcriptions` (multipart: `file`, `model`, `language`,
//! `response_format=json`; answer `{"text": "..."}`), which hosted services and local servers
//! (whisper.cpp's server with `--inference-path /v1/audio/transcriptions`, faster-whisper
//! servers, LocalAI…) all speak. The API key is sent as `Authorization: Bearer` and never
//! appears in an error or a log.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

/// Why a voice note has no transcript.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranscribeError {
    /// Could not reach the provider, it timed out, or answered 5xx/429: it may work later.
    #[error("transcription provider unavailable: {0}")]
    Unavailable(String),
    /// The provider refused the request (bad key, unknown model, audio refused).
    #[error("transcription refused (HTTP {status}): {message}")]
    Refused { status: u16, message: String },
    /// An answer without the transcript.
    #[error("transcription answer is not the documented JSON: {0}")]
    Invalid(String),
    /// The provider heard nothing it could write down.
    #[error("the transcript is empty")]
    Empty,
}

impl TranscribeError {
    /// Low-cardinality label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            TranscribeError::Unavailable(_) => "unavailable",
            TranscribeError::Refused { .. } => "refused",
            TranscribeError::Invalid(_) => "invalid",
            TranscribeError::Empty => "empty",
        }
    }
}

pub type TranscribeFuture<'a> =
    Pin<Box<dyn Future<Output = Result<String, TranscribeError>> + Send + 'a>>;

/// A speech-to-text provider. `wav`: 16 kHz mono 16-bit PCM WAV ([`crate::wav::encode`]).
pub trait Transcriber: Send + Sync {
    fn transcribe<'a>(&'a self, wav: &'a [u8]) -> TranscribeFuture<'a>;
    /// For logs and the dashboard ("openai-compatible").
    fn name(&self) -> &'static str;
}

/// Settings of the OpenAI-compatible provider (`ORCAZAP_TRANSCRIBE_*`).
#[derive(Debug, Clone)]
pub struct HttpTranscriberConfig {
    /// `https://api.openai.com`, `https://api.openai.com/v1` or `http://127.0.0.1:8178`:
    /// `/v1/audio/transcriptions` (or `/audio/transcriptions` after a `/v1`) is appended.
    pub base_url: String,
    /// None for local servers that need no key.
    pub api_key: Option<SecretString>,
    /// `whisper-1`, `gpt-4o-mini-transcribe`, or what the local server names its model.
    pub model: String,
    /// ISO-639-1 hint; `pt` for Brazilian customers.
    pub language: String,
    /// The whole request, upload and answer included.
    pub timeout: Duration,
}

/// The OpenAI-compatible provider.
pub struct HttpTranscriber {
    url: String,
    api_key: Option<SecretString>,
    model: String,
    language: String,
    http: reqwest::Client,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("ORCAZAP_TRANSCRIBE_BASE_URL must start with http:// or https://: {0:?}")]
    BaseUrl(String),
    #[error("could not build the HTTP client: {0}")]
    Http(String),
}

/// The endpoint for a configured base URL.
pub fn endpoint(base_url: &str) -> String {
    let base = base_url.trim().trim_end_matches('/');
    if base.ends_with("/v1") {
        format!("{base}/audio/transcriptions")
    } else {
        format!("{base}/v1/audio/transcriptions")
    }
}

impl HttpTranscriber {
    pub fn new(cfg: HttpTranscriberConfig) -> Result<HttpTranscriber, ConfigError> {
        let base = cfg.base_url.trim();
        let host = base
            .strip_prefix("https://")
            .or_else(|| base.strip_prefix("http://"));
        if !matches!(host, Some(h) if !h.is_empty() && !h.contains(char::is_whitespace)) {
            return Err(ConfigError::BaseUrl(cfg.base_url.clone()));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(cfg.timeout.min(Duration::from_secs(5)))
            .timeout(cfg.timeout)
            .user_agent(concat!("orcazap-voice/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ConfigError::Http(e.to_string()))?;
        Ok(HttpTranscriber {
            url: endpoint(base),
            api_key: cfg.api_key,
            model: cfg.model,
            language: cfg.language,
            http,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    async fn call(&self, wav: &[u8]) -> Result<String, TranscribeError> {
        let (content_type, body) = multipart(
            &[
                ("model", self.model.as_str()),
                ("language", self.language.as_str()),
                ("response_format", "json"),
            ],
            wav,
        );
        let mut request = self
            .http
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body);
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key.expose_secret());
        }
        let key = self.api_key.as_ref().map(|k| k.expose_secret().to_string());
        let scrub = |s: String| match &key {
            Some(k) if k.len() >= 4 => s.replace(k.as_str(), "[redacted]"),
            _ => s,
        };
        let response = request.send().await.map_err(|e| {
            let what = if e.is_timeout() {
                "timed out"
            } else if e.is_connect() {
                "could not connect"
            } else {
                "HTTP error"
            };
            TranscribeError::Unavailable(scrub(format!("{what}: {}", e.without_url())))
        })?;
        let status = response.status().as_u16();
        let text = response
            .text()
            .await
            .map_err(|e| TranscribeError::Unavailable(scrub(e.without_url().to_string())))?;
        if status == 429 || status >= 500 {
            return Err(TranscribeError::Unavailable(format!("HTTP {status}")));
        }
        if !(200..300).contains(&status) {
            return Err(TranscribeError::Refused {
                status,
                message: scrub(error_message(&text)),
            });
        }
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|_| TranscribeError::Invalid(format!("{} bytes, not JSON", text.len())))?;
        let transcript = v
            .get("text")
            .and_then(|t| t.as_str())
            .ok_or_else(|| TranscribeError::Invalid("no \"text\" field".into()))?;
        let transcript = transcript.split_whitespace().collect::<Vec<_>>().join(" ");
        if transcript.is_empty() {
            return Err(TranscribeError::Empty);
        }
        Ok(transcript)
    }
}

/// OpenAI's error body `{"error":{"message":…}}`, or the start of whatever came.
fn error_message(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
        .unwrap_or_else(|| body.chars().take(200).collect())
}

impl Transcriber for HttpTranscriber {
    fn transcribe<'a>(&'a self, wav: &'a [u8]) -> TranscribeFuture<'a> {
        Box::pin(self.call(wav))
    }

    fn name(&self) -> &'static str {
        "openai-compatible"
    }
}

/// The form: text fields, then `file` (`audio.wav`, `audio/wav`). Built by hand like the
/// Graph upload, with a boundary that does not occur in the audio.
fn multipart(fields: &[(&str, &str)], wav: &[u8]) -> (String, Vec<u8>) {
    let mut boundary = String::from("orcazap-voice-boundary-5e0a77c1");
    while wav
        .windows(boundary.len())
        .any(|w| w == boundary.as_bytes())
    {
        boundary.push('x');
    }
    let mut body = Vec::with_capacity(wav.len() + 512);
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"audio.wav\"\r\nContent-Type: audio/wav\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(wav);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_from_base() {
        assert_eq!(
            endpoint("https://api.openai.com"),
            "https://api.openai.com/v1/audio/transcriptions"
        );
        assert_eq!(
            endpoint("https://api.openai.com/v1/"),
            "https://api.openai.com/v1/audio/transcriptions"
        );
        assert_eq!(
            endpoint("http://127.0.0.1:8178"),
            "http://127.0.0.1:8178/v1/audio/transcriptions"
        );
    }

    #[test]
    fn bad_base_is_refused() {
        for base in ["api.openai.com", "ftp://x", "https://"] {
            let cfg = HttpTranscriberConfig {
                base_url: base.into(),
                api_key: None,
                model: "whisper-1".into(),
                language: "pt".into(),
                timeout: Duration::from_secs(1),
            };
            assert!(HttpTranscriber::new(cfg).is_err(), "{base}");
        }
    }
}
