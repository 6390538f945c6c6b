//! The mock Graph API of the load test: the shared `whatsapp::mock` (Meta's wire format and
//! limits), plus the view the end-to-end measurement needs — when each recipient's replies
//! arrived. Only replies Meta would have accepted count as answers; refusals are counted apart.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use whatsapp::mock::MockGraph;

#[derive(Default)]
pub struct Received {
    /// recipient → arrival time of each accepted reply
    pub by_recipient: HashMap<String, Vec<Instant>>,
    pub total: u64,
    /// Replies Meta would have refused (a product bug under load).
    pub refused: u64,
}

#[derive(Clone)]
pub struct GraphMock {
    delay: Duration,
    mock: Option<MockGraph>,
}

impl GraphMock {
    pub fn new(delay: Duration) -> GraphMock {
        GraphMock { delay, mock: None }
    }

    /// Serves until the process ends; returns the bound address.
    pub async fn spawn(&mut self, listen: &str) -> anyhow::Result<std::net::SocketAddr> {
        // Ids unique across loadgen runs: a soak runs many against one database.
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default();
        let prefix = format!("wamid.LOADGEN-{}-{started}-", std::process::id());
        let mock = MockGraph::builder()
            .delay(self.delay)
            .wamid_prefix(&prefix)
            .listen(listen)
            .await?;
        let addr = mock.addr;
        self.mock = Some(mock);
        Ok(addr)
    }

    /// Every request received so far, as the shared mock recorded it.
    pub fn with_calls<T>(&self, f: impl FnOnce(&[whatsapp::mock::Call]) -> T) -> T {
        match &self.mock {
            Some(mock) => mock.with_calls(f),
            None => f(&[]),
        }
    }

    pub fn with_received<T>(&self, f: impl FnOnce(&Received) -> T) -> T {
        let mut r = Received::default();
        if let Some(mock) = &self.mock {
            mock.with_calls(|calls| {
                for c in calls {
                    if c.is_accepted() {
                        r.by_recipient
                            .entry(c.to().to_string())
                            .or_default()
                            .push(c.at);
                        r.total += 1;
                    } else if c.refusal().is_some() {
                        r.refused += 1;
                    }
                }
            });
        }
        f(&r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[tokio::test]
    async fn answers_like_meta_and_records_the_recipient() {
        let mut mock = GraphMock::new(Duration::ZERO);
        let addr = mock.spawn("127.0.0.1:0").await.expect("bind");
        let client = reqwest::Client::new();
        let url = format!("http://{addr}/v25.0/100000000000001/messages");
        let resp = client
            .post(&url)
            .bearer_auth("EAAG-load")
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
        // A reply Meta would refuse is not an answer.
        let refused = client
            .post(&url)
            .bearer_auth("EAAG-load")
            .json(&json!({"messaging_product": "whatsapp", "to": "5511999990001", "type": "text", "text": {"body": "x".repeat(4097)}}))
            .send()
            .await
            .expect("send");
        assert_eq!(refused.status(), 400);
        mock.with_received(|r| {
            assert_eq!(r.total, 1);
            assert_eq!(r.refused, 1);
            assert_eq!(r.by_recipient["5511999990000"].len(), 1);
            assert!(!r.by_recipient.contains_key("5511999990001"));
        });
    }
}
