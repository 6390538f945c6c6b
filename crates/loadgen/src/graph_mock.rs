//! A stand-in for Meta's Graph API: answers `POST /{version}/{phone_number_id}/messages`
//! like Meta does and records when each recipient's replies arrived.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

#[derive(Default)]
pub struct Received {
    /// recipient → arrival time of each reply
    pub by_recipient: HashMap<String, Vec<Instant>>,
    pub total: u64,
}

#[derive(Clone)]
pub struct GraphMock {
    received: Arc<Mutex<Received>>,
    seq: Arc<AtomicU64>,
    delay: Duration,
}

impl GraphMock {
    pub fn new(delay: Duration) -> GraphMock {
        GraphMock {
            received: Arc::new(Mutex::new(Received::default())),
            seq: Arc::new(AtomicU64::new(0)),
            delay,
        }
    }

    /// Serves until the process ends; returns the bound address.
    pub async fn spawn(&self, listen: &str) -> anyhow::Result<std::net::SocketAddr> {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let app = Router::new()
            .route("/{version}/{phone_number_id}/messages", post(send))
            .with_state(self.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("mock Graph server stopped: {e}");
            }
        });
        Ok(addr)
    }

    pub fn with_received<T>(&self, f: impl FnOnce(&Received) -> T) -> T {
        // A poisoned lock only means a handler panicked mid-insert; the data is still usable.
        let guard = self.received.lock().unwrap_or_else(|p| p.into_inner());
        f(&guard)
    }
}

async fn send(
    State(mock): State<GraphMock>,
    Path((_version, _pnid)): Path<(String, String)>,
    Json(msg): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let now = Instant::now();
    let Some(to) = msg.get("to").and_then(Value::as_str).map(str::to_string) else {
        let err = json!({"error": {"message": "(#100) The parameter to is required.", "type": "OAuthException", "code": 100}});
        return (StatusCode::BAD_REQUEST, Json(err));
    };
    if !mock.delay.is_zero() {
        tokio::time::sleep(mock.delay).await;
    }
    {
        let mut r = mock.received.lock().unwrap_or_else(|p| p.into_inner());
        r.by_recipient.entry(to.clone()).or_default().push(now);
        r.total += 1;
    }
    let n = mock.seq.fetch_add(1, Ordering::Relaxed);
    (
        StatusCode::OK,
        Json(json!({
            "messaging_product": "whatsapp",
            "contacts": [{ "input": to, "wa_id": to }],
            "messages": [{ "id": format!("wamid.MOCK{n:012}") }],
        })),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn answers_like_meta_and_records_the_recipient() {
        let mock = GraphMock::new(Duration::ZERO);
        let addr = mock.spawn("127.0.0.1:0").await.expect("bind");
        let resp = reqwest::Client::new()
            .post(format!("http://{addr}/v25.0/100000000000001/messages"))
            .json(&json!({"messaging_product": "whatsapp", "to": "5511999990000", "type": "text", "text": {"body": "oi"}}))
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), 200);
        let body: Value = resp.json().await.expect("json");
        assert_eq!(body["contacts"][0]["wa_id"], "5511999990000");
        assert!(body["messages"][0]["id"]
            .as_str()
            .is_some_and(|s| s.starts_with("wamid.")));
        mock.with_received(|r| {
            assert_eq!(r.total, 1);
            assert_eq!(r.by_recipient["5511999990000"].len(), 1);
        });
    }
}
