//! A local language-model server speaking the OpenAI chat-completions wire format
//! (`POST /v1/chat/completions`, bearer key, `{"choices":[{"message":{"content"}}],"usage"}`
//! answers, OpenAI's error object on refusals), for the optional assistant's tests
//! (`worker::assistant`). Replies are scripted one request at a time ([`LlmMock::push`]);
//! requests are recorded and checked against the format a real server enforces (a model, a
//! messages array, a `json_schema` response format) — a malformed request gets a 400.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

pub const LLM_API_KEY: &str = "sk-test-llm-0123456789";
pub const LLM_MODEL: &str = "modelo-teste";

/// One scripted reply.
#[derive(Debug, Clone)]
pub struct LlmReply {
    status: u16,
    /// For 200: the assistant message's content; otherwise the error message.
    content: String,
    delay: Duration,
    retry_after: Option<u64>,
    /// (prompt, completion) tokens reported; None: computed from the lengths.
    usage: Option<(i64, i64)>,
}

impl LlmReply {
    /// A 200 answer whose message content is `content` (any text: valid JSON or not).
    pub fn content(content: &str) -> LlmReply {
        LlmReply {
            status: 200,
            content: content.to_string(),
            delay: Duration::ZERO,
            retry_after: None,
            usage: None,
        }
    }

    /// A 200 answer whose content is this JSON value.
    pub fn json(v: Value) -> LlmReply {
        LlmReply::content(&v.to_string())
    }

    /// An error status with OpenAI's error object.
    pub fn status(code: u16) -> LlmReply {
        LlmReply {
            status: code,
            content: match code {
                429 => "Rate limit reached for requests".into(),
                _ => "The server had an error while processing your request.".into(),
            },
            ..LlmReply::content("")
        }
    }

    /// Answers only after `d` (a client with a shorter timeout gives up first).
    pub fn after(mut self, d: Duration) -> LlmReply {
        self.delay = d;
        self
    }

    pub fn retry_after(mut self, secs: u64) -> LlmReply {
        self.retry_after = Some(secs);
        self
    }

    /// Reports these token counts in `usage`.
    pub fn usage(mut self, prompt: i64, completion: i64) -> LlmReply {
        self.usage = Some((prompt, completion));
        self
    }
}

/// One request the server received.
#[derive(Debug, Clone)]
pub struct LlmCall {
    pub authorization: String,
    pub body: Value,
}

impl LlmCall {
    /// The text of the user message (the prompt the product built).
    pub fn user_prompt(&self) -> String {
        self.body["messages"]
            .as_array()
            .and_then(|m| m.iter().find(|m| m["role"] == "user"))
            .and_then(|m| m["content"].as_str())
            .unwrap_or_default()
            .to_string()
    }
}

#[derive(Default)]
struct Inner {
    script: VecDeque<LlmReply>,
    /// Used when the script is empty.
    default: Option<LlmReply>,
    calls: Vec<LlmCall>,
}

#[derive(Clone)]
pub struct LlmMock {
    /// The API root with its version path (`http://127.0.0.1:PORT/v1`), as
    /// `ORCAZAP_LLM_BASE_URL` takes it.
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

impl LlmMock {
    pub async fn start() -> LlmMock {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new()
            .route("/v1/chat/completions", post(completions))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        LlmMock {
            url: format!("http://{addr}/v1"),
            inner,
        }
    }

    /// The reply to the next request (in order).
    pub fn push(&self, reply: LlmReply) {
        self.inner.lock().unwrap().script.push_back(reply);
    }

    /// The reply to every request once the script is used up (else a 500).
    pub fn always(&self, reply: LlmReply) {
        self.inner.lock().unwrap().default = Some(reply);
    }

    pub fn calls(&self) -> Vec<LlmCall> {
        self.inner.lock().unwrap().calls.clone()
    }
}

fn error(status: StatusCode, kind: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"message": message, "type": kind, "param": null, "code": null}})),
    )
        .into_response()
}

async fn completions(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "We could not parse the JSON body of your request.",
        );
    };
    inner.lock().unwrap().calls.push(LlmCall {
        authorization: authorization.clone(),
        body: body.clone(),
    });
    if authorization != format!("Bearer {LLM_API_KEY}") {
        return error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "Incorrect API key provided.",
        );
    }
    let messages_ok = body["messages"].as_array().is_some_and(|m| {
        !m.is_empty()
            && m.iter()
                .all(|m| m["role"].is_string() && m["content"].is_string())
    });
    let format_ok = body["response_format"]["type"] == "json_schema"
        && body["response_format"]["json_schema"]["name"].is_string()
        && body["response_format"]["json_schema"]["schema"].is_object();
    if !body["model"].is_string() || !messages_ok || !format_ok {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "Invalid request: model, messages and response_format.json_schema are required.",
        );
    }
    let reply = {
        let mut i = inner.lock().unwrap();
        i.script.pop_front().or_else(|| i.default.clone())
    };
    let Some(reply) = reply else {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "no scripted reply",
        );
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    if reply.status != 200 {
        let status = StatusCode::from_u16(reply.status).unwrap();
        let kind = if reply.status == 429 {
            "rate_limit_exceeded"
        } else {
            "server_error"
        };
        let mut r = error(status, kind, &reply.content);
        if let Some(s) = reply.retry_after {
            r.headers_mut()
                .insert("retry-after", s.to_string().parse().unwrap());
        }
        return r;
    }
    let prompt_chars: usize = body["messages"]
        .as_array()
        .map(|m| {
            m.iter()
                .map(|m| m["content"].as_str().unwrap_or("").len())
                .sum()
        })
        .unwrap_or(0);
    let (prompt, completion) = reply.usage.unwrap_or((
        (prompt_chars / 4) as i64 + 1,
        (reply.content.len() / 4) as i64 + 1,
    ));
    Json(json!({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1_764_900_000,
        "model": body["model"],
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": reply.content, "refusal": null},
            "logprobs": null,
            "finish_reason": "stop"
        }],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    }))
    .into_response()
}
