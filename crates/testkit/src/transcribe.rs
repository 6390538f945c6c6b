//! A local stand-in for an OpenAI-compatible transcription API (issue 16), on 127.0.0.1:0:
//! `POST /v1/audio/transcriptions`, `multipart/form-data` with `file`, `model` (required, as
//! OpenAI requires them), `language`, `response_format`; `Authorization: Bearer KEY`; the
//! answer `{"text": "..."}`, or OpenAI's error envelope `{"error": {"message", "type"}}`
//! with 400/401/503. It checks the upload is a readable WAV and records what it received,
//! so a test can say what reached the provider (16 kHz mono, how many samples).
//!
//! It does not recognise speech: it answers the transcript the test gives it, as a real
//! provider would for the fixture's words ("dez sacos de cimento").

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::json;

/// One upload the mock received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptionUpload {
    pub model: String,
    pub language: Option<String>,
    /// (sample rate, channels, bits, samples) of the WAV file.
    pub wav: Option<(u32, u16, u16, usize)>,
    pub file_name: String,
    pub file_type: String,
}

struct Inner {
    key: Option<String>,
    /// What the next calls answer: Ok(transcript) or Err(HTTP status).
    answer: Mutex<Result<String, u16>>,
    uploads: Mutex<Vec<TranscriptionUpload>>,
}

/// A running mock transcription API. Cloning shares it.
#[derive(Clone)]
pub struct MockTranscriber {
    /// `http://127.0.0.1:PORT`: the `ORCAZAP_TRANSCRIBE_BASE_URL` to configure.
    pub url: String,
    inner: Arc<Inner>,
}

impl MockTranscriber {
    /// Requires `key` as the bearer key (None: no key needed, like a local server); answers
    /// `transcript`.
    pub async fn start(key: Option<&str>, transcript: &str) -> MockTranscriber {
        let inner = Arc::new(Inner {
            key: key.map(str::to_string),
            answer: Mutex::new(Ok(transcript.to_string())),
            uploads: Mutex::default(),
        });
        let app = Router::new()
            .route("/v1/audio/transcriptions", post(transcriptions))
            .layer(axum::extract::DefaultBodyLimit::max(25 * 1024 * 1024))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        MockTranscriber {
            url: format!("http://{addr}"),
            inner,
        }
    }

    /// From now on every call answers this HTTP status (503: the provider is down).
    pub fn fail_with(&self, status: u16) {
        *self.inner.answer.lock().unwrap() = Err(status);
    }

    /// The uploads so far, in order.
    pub fn uploads(&self) -> Vec<TranscriptionUpload> {
        self.inner.uploads.lock().unwrap().clone()
    }

    /// The product's provider pointed at this mock.
    pub fn provider(&self, key: Option<&str>) -> Arc<dyn voice::Transcriber> {
        Arc::new(
            voice::HttpTranscriber::new(voice::HttpTranscriberConfig {
                base_url: self.url.clone(),
                api_key: key.map(|k| secrecy::SecretString::from(k.to_string())),
                model: "whisper-1".into(),
                language: "pt".into(),
                timeout: std::time::Duration::from_secs(5),
            })
            .unwrap(),
        )
    }
}

fn openai_error(status: u16, message: &str, kind: &str) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        [("content-type", "application/json")],
        json!({ "error": { "message": message, "type": kind, "param": null, "code": null } })
            .to_string(),
    )
        .into_response()
}

async fn transcriptions(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if let Some(key) = &inner.key {
        if auth != Some(key.as_str()) {
            return openai_error(401, "Incorrect API key provided.", "invalid_request_error");
        }
    }
    let boundary = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .filter(|c| c.starts_with("multipart/form-data"))
        .and_then(|c| c.split("boundary=").nth(1))
        .map(|b| b.trim_matches('"').to_string());
    let Some(parts) = boundary.and_then(|b| parts(&body, &b)) else {
        return openai_error(
            400,
            "Could not parse multipart form",
            "invalid_request_error",
        );
    };
    let field = |name: &str| parts.iter().find(|p| p.name == name);
    let text = |name: &str| field(name).map(|p| String::from_utf8_lossy(&p.bytes).to_string());
    let Some(model) = text("model") else {
        return openai_error(
            400,
            "you must provide a model parameter",
            "invalid_request_error",
        );
    };
    let Some(file) = field("file") else {
        return openai_error(400, "file is required", "invalid_request_error");
    };
    let wav = voice::wav::describe(&file.bytes);
    inner.uploads.lock().unwrap().push(TranscriptionUpload {
        model,
        language: text("language"),
        wav,
        file_name: file.filename.clone(),
        file_type: file.content_type.clone(),
    });
    if wav.is_none() {
        return openai_error(
            400,
            "Invalid file format. Supported formats: ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm']",
            "invalid_request_error",
        );
    }
    let answer = inner.answer.lock().unwrap().clone();
    match answer {
        Ok(t) => (
            StatusCode::OK,
            [("content-type", "application/json")],
            json!({ "text": t }).to_string(),
        )
            .into_response(),
        Err(status) => openai_error(status, "The server is overloaded", "server_error"),
    }
}

struct Part {
    name: String,
    filename: String,
    content_type: String,
    bytes: Vec<u8>,
}

/// Splits a `multipart/form-data` body into its parts.
fn parts(body: &[u8], boundary: &str) -> Option<Vec<Part>> {
    let d = format!("--{boundary}").into_bytes();
    let mut starts = Vec::new();
    let mut i = 0;
    while i + d.len() <= body.len() {
        if body[i..i + d.len()] == d[..] {
            starts.push(i);
            i += d.len();
        } else {
            i += 1;
        }
    }
    let mut out = Vec::new();
    for w in starts.windows(2) {
        let chunk = body[w[0] + d.len()..w[1]]
            .strip_prefix(b"\r\n")?
            .strip_suffix(b"\r\n")?;
        let split = chunk.windows(4).position(|x| x == b"\r\n\r\n")?;
        let head = std::str::from_utf8(&chunk[..split]).ok()?;
        let line = |name: &str| {
            head.lines()
                .find(|l| l.to_ascii_lowercase().starts_with(name))
                .map(str::to_string)
        };
        let disposition = line("content-disposition")?;
        let param = |key: &str| {
            disposition
                .split(';')
                .map(str::trim)
                .find_map(|p| p.strip_prefix(&format!("{key}=")))
                .map(|v| v.trim_matches('"').to_string())
        };
        out.push(Part {
            name: param("name")?,
            filename: param("filename").unwrap_or_default(),
            content_type: line("content-type")
                .and_then(|l| l.split_once(':').map(|(_, v)| v.trim().to_string()))
                .unwrap_or_default(),
            bytes: chunk[split + 4..].to_vec(),
        });
    }
    Some(out)
}
