//! Language-model providers behind one trait ([`ChatProvider`]); the one shipped speaks the
//! OpenAI chat-completions wire format, which hosted APIs and local servers (llama.cpp's
//! `llama-server`, vLLM, Ollama) all answer.
//!
//! URL convention: `ORCAZAP_LLM_BASE_URL` is the API root **including** its version path, as
//! the OpenAI SDKs take it, and the request goes to `{base}/chat/completions`:
//! `https://api.openai.com/v1`, `http://127.0.0.1:8080/v1` (llama-server),
//! `http://127.0.0.1:11434/v1` (Ollama), `http://127.0.0.1:8000/v1` (vLLM).
//!
//! Every request has a timeout; 429, 5xx, timeouts and connection errors are retried with
//! exponential backoff (honouring a short `Retry-After`) within one overall deadline; after
//! [`BREAKER_FAILURES`] failed calls in a row a circuit breaker stops calling for
//! [`BREAKER_OPEN`], then lets one trial call through.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

/// Failed calls in a row that open the breaker.
pub const BREAKER_FAILURES: u32 = 5;
/// How long an open breaker refuses calls before one trial.
pub const BREAKER_OPEN: Duration = Duration::from_secs(30);
/// First retry delay; doubles each retry.
pub const BACKOFF_BASE: Duration = Duration::from_millis(250);
/// The longest `Retry-After` honoured (a longer one ends the call: the rules answer).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(2);

/// One request: a system prompt, one user message, the JSON schema the answer must follow.
#[derive(Debug, Clone)]
pub struct ChatRequest {
    pub system: String,
    pub user: String,
    /// The `json_schema` of `response_format` (`{"name","strict","schema"}`).
    pub schema: Value,
    pub max_tokens: u32,
}

/// The model's answer and what the provider says it used.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatAnswer {
    /// `choices[0].message.content`: the JSON text the caller validates.
    pub content: String,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    /// The provider reported no `usage`; the counts are estimates from the text lengths.
    pub estimated_usage: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    #[error("tempo esgotado esperando o modelo")]
    Timeout,
    #[error("o provedor recusou: HTTP {0}")]
    Http(u16),
    #[error("provedor inacessível: {0}")]
    Transport(String),
    #[error("resposta fora do formato chat-completions: {0}")]
    BadResponse(String),
    #[error("circuito aberto: o provedor falhou seguidamente, nova tentativa em instantes")]
    CircuitOpen,
}

impl ProviderError {
    /// Label on `orcazap_llm_calls_total` / `orcazap_llm_fallbacks_total`.
    pub fn label(&self) -> &'static str {
        match self {
            ProviderError::Timeout => "timeout",
            ProviderError::Http(429) => "rate_limited",
            ProviderError::Http(_) => "http_error",
            ProviderError::Transport(_) => "unreachable",
            ProviderError::BadResponse(_) => "bad_response",
            ProviderError::CircuitOpen => "circuit_open",
        }
    }

    /// Worth another attempt: the provider was busy or did not answer.
    fn retryable(&self) -> bool {
        match self {
            ProviderError::Timeout | ProviderError::Transport(_) => true,
            ProviderError::Http(s) => *s == 429 || *s >= 500,
            _ => false,
        }
    }
}

pub type ChatFuture<'a> =
    Pin<Box<dyn Future<Output = Result<ChatAnswer, ProviderError>> + Send + 'a>>;

/// A chat model. Implementations do their own retries; the caller sees one outcome.
pub trait ChatProvider: Send + Sync {
    fn complete<'a>(&'a self, req: &'a ChatRequest) -> ChatFuture<'a>;
    /// The model's name, for logs.
    fn model(&self) -> &str;
}

/// Where and how to call an OpenAI-compatible chat-completions API.
#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    /// API root with its version path (`https://api.openai.com/v1`).
    pub base_url: String,
    /// Bearer token; None for local servers that need none.
    pub api_key: Option<SecretString>,
    pub model: String,
    /// One request, connection included.
    pub request_timeout: Duration,
    /// Retries after the first attempt (429, 5xx, timeouts, connection errors).
    pub retries: u32,
    /// All attempts and waits of one call end within this.
    pub deadline: Duration,
}

/// The OpenAI-compatible provider with retries and a circuit breaker.
pub struct OpenAiCompatible {
    cfg: OpenAiConfig,
    http: reqwest::Client,
    breaker: Breaker,
}

impl OpenAiCompatible {
    pub fn new(cfg: OpenAiConfig) -> Result<OpenAiCompatible, ProviderError> {
        let http = reqwest::Client::builder()
            .connect_timeout(cfg.request_timeout)
            .timeout(cfg.request_timeout)
            .build()
            .map_err(|e| ProviderError::Transport(e.to_string()))?;
        Ok(OpenAiCompatible {
            cfg: OpenAiConfig {
                base_url: cfg.base_url.trim_end_matches('/').to_string(),
                ..cfg
            },
            http,
            breaker: Breaker::default(),
        })
    }

    /// `{base}/chat/completions`.
    pub fn endpoint(&self) -> String {
        format!("{}/chat/completions", self.cfg.base_url)
    }

    async fn attempt(&self, body: &Value) -> Result<ChatAnswer, (ProviderError, Option<Duration>)> {
        let mut r = self.http.post(self.endpoint()).json(body);
        if let Some(key) = &self.cfg.api_key {
            r = r.bearer_auth(key.expose_secret());
        }
        let resp = r.send().await.map_err(|e| {
            if e.is_timeout() {
                (ProviderError::Timeout, None)
            } else {
                (ProviderError::Transport(e.without_url().to_string()), None)
            }
        })?;
        let status = resp.status();
        if !status.is_success() {
            let retry_after = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            return Err((ProviderError::Http(status.as_u16()), retry_after));
        }
        let text = resp.text().await.map_err(|e| {
            if e.is_timeout() {
                (ProviderError::Timeout, None)
            } else {
                (ProviderError::Transport(e.without_url().to_string()), None)
            }
        })?;
        parse_completion(&text).map_err(|e| (e, None))
    }
}

/// The request body: the model, the two messages, deterministic sampling, the answer's size
/// cap and the strict JSON schema (`response_format.type = "json_schema"`).
pub fn request_body(model: &str, req: &ChatRequest) -> Value {
    json!({
        "model": model,
        "messages": [
            {"role": "system", "content": req.system},
            {"role": "user", "content": req.user},
        ],
        "temperature": 0,
        "max_tokens": req.max_tokens,
        "response_format": {"type": "json_schema", "json_schema": req.schema},
    })
}

/// Reads a chat-completions response: `choices[0].message.content` and `usage`. Without
/// `usage` (some local servers), tokens are estimated from the lengths (see [`estimate_tokens`]).
pub fn parse_completion(body: &str) -> Result<ChatAnswer, ProviderError> {
    let v: Value =
        serde_json::from_str(body).map_err(|e| ProviderError::BadResponse(e.to_string()))?;
    let choice = v["choices"]
        .get(0)
        .ok_or_else(|| ProviderError::BadResponse("sem choices[0]".into()))?;
    if let Some(refusal) = choice["message"]["refusal"].as_str() {
        return Err(ProviderError::BadResponse(format!(
            "o modelo recusou: {}",
            refusal.chars().take(120).collect::<String>()
        )));
    }
    let content = choice["message"]["content"]
        .as_str()
        .ok_or_else(|| ProviderError::BadResponse("sem choices[0].message.content".into()))?
        .to_string();
    let usage = &v["usage"];
    let (prompt, completion) = (
        usage["prompt_tokens"].as_i64(),
        usage["completion_tokens"].as_i64(),
    );
    Ok(match (prompt, completion) {
        (Some(p), Some(c)) => ChatAnswer {
            content,
            prompt_tokens: p.max(0),
            completion_tokens: c.max(0),
            estimated_usage: false,
        },
        _ => ChatAnswer {
            completion_tokens: estimate_tokens(&content),
            content,
            prompt_tokens: 0,
            estimated_usage: true,
        },
    })
}

/// A generous token count for pt-BR text (three characters a token; real tokenizers give
/// about four): reservations must not be smaller than what the provider bills.
pub fn estimate_tokens(text: &str) -> i64 {
    (text.chars().count() as i64 + 2) / 3 + 8
}

impl ChatProvider for OpenAiCompatible {
    fn model(&self) -> &str {
        &self.cfg.model
    }

    fn complete<'a>(&'a self, req: &'a ChatRequest) -> ChatFuture<'a> {
        Box::pin(async move {
            if !self.breaker.allow() {
                return Err(ProviderError::CircuitOpen);
            }
            let body = request_body(&self.cfg.model, req);
            let started = Instant::now();
            let mut attempt = 0u32;
            let outcome = loop {
                let left = self.cfg.deadline.saturating_sub(started.elapsed());
                if left.is_zero() {
                    break Err(ProviderError::Timeout);
                }
                let res = match tokio::time::timeout(left, self.attempt(&body)).await {
                    Ok(r) => r,
                    Err(_) => Err((ProviderError::Timeout, None)),
                };
                match res {
                    Ok(mut answer) => {
                        if answer.estimated_usage {
                            answer.prompt_tokens =
                                estimate_tokens(&req.system) + estimate_tokens(&req.user);
                        }
                        break Ok(answer);
                    }
                    Err((e, retry_after)) => {
                        if !e.retryable() || attempt >= self.cfg.retries {
                            break Err(e);
                        }
                        if retry_after.is_some_and(|d| d > MAX_RETRY_AFTER) {
                            break Err(e);
                        }
                        let backoff = BACKOFF_BASE * 2u32.saturating_pow(attempt);
                        let wait = retry_after
                            .unwrap_or(backoff)
                            .max(backoff.min(MAX_RETRY_AFTER));
                        if started.elapsed() + wait >= self.cfg.deadline {
                            break Err(e);
                        }
                        tracing::info!(error = %e, attempt, wait_ms = wait.as_millis() as u64, "language model: retrying");
                        tokio::time::sleep(wait).await;
                        attempt += 1;
                    }
                }
            };
            self.breaker.record(outcome.is_ok());
            outcome
        })
    }
}

/// Consecutive failures; open until an instant, then one trial call.
#[derive(Default)]
pub struct Breaker {
    state: Mutex<BreakerState>,
}

#[derive(Default)]
struct BreakerState {
    failures: u32,
    open_until: Option<Instant>,
    trial_running: bool,
}

impl Breaker {
    /// Whether a call may go out now.
    pub fn allow(&self) -> bool {
        let Ok(mut s) = self.state.lock() else {
            return true;
        };
        match s.open_until {
            None => true,
            Some(until) if Instant::now() < until => false,
            Some(_) => {
                // Half-open: one trial call at a time.
                if s.trial_running {
                    false
                } else {
                    s.trial_running = true;
                    true
                }
            }
        }
    }

    /// A call's outcome (after its retries).
    pub fn record(&self, ok: bool) {
        let Ok(mut s) = self.state.lock() else {
            return;
        };
        s.trial_running = false;
        if ok {
            s.failures = 0;
            s.open_until = None;
        } else {
            s.failures += 1;
            if s.failures >= BREAKER_FAILURES || s.open_until.is_some() {
                if s.open_until.is_none() {
                    tracing::warn!(
                        failures = s.failures,
                        "language model: circuit opened, rules only for {:?}",
                        BREAKER_OPEN
                    );
                }
                s.open_until = Some(Instant::now() + BREAKER_OPEN);
            }
        }
    }

    /// Open right now (tests, metrics).
    pub fn is_open(&self) -> bool {
        self.state
            .lock()
            .map(|s| s.open_until.is_some_and(|u| Instant::now() < u))
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completion_is_read_with_usage_and_without() {
        let a = parse_completion(
            r#"{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"{\"items\":[]}"},"finish_reason":"stop"}],"usage":{"prompt_tokens":120,"completion_tokens":9,"total_tokens":129}}"#,
        )
        .unwrap();
        assert_eq!(a.content, "{\"items\":[]}");
        assert_eq!((a.prompt_tokens, a.completion_tokens), (120, 9));
        assert!(!a.estimated_usage);
        let b = parse_completion(
            r#"{"choices":[{"message":{"role":"assistant","content":"abcdef"}}]}"#,
        )
        .unwrap();
        assert!(b.estimated_usage);
        assert_eq!(b.completion_tokens, estimate_tokens("abcdef"));
        assert!(matches!(
            parse_completion(r#"{"choices":[]}"#),
            Err(ProviderError::BadResponse(_))
        ));
        assert!(matches!(
            parse_completion("<html>"),
            Err(ProviderError::BadResponse(_))
        ));
        assert!(matches!(
            parse_completion(
                r#"{"choices":[{"message":{"role":"assistant","content":null,"refusal":"não posso"}}]}"#
            ),
            Err(ProviderError::BadResponse(_))
        ));
    }

    #[test]
    fn breaker_opens_after_failures_and_lets_one_trial_through() {
        let b = Breaker::default();
        for _ in 0..BREAKER_FAILURES - 1 {
            assert!(b.allow());
            b.record(false);
        }
        assert!(!b.is_open());
        assert!(b.allow());
        b.record(false);
        assert!(b.is_open());
        assert!(!b.allow());
        // Past the open period: one trial, not two at once.
        b.state.lock().unwrap().open_until = Some(Instant::now() - Duration::from_millis(1));
        assert!(b.allow());
        assert!(!b.allow());
        b.record(true);
        assert!(!b.is_open());
        assert!(b.allow());
    }
}
