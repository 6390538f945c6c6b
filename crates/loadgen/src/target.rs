//! Where the webhooks go.

use std::time::Duration;

pub struct Target {
    /// e.g. http://127.0.0.1:8080 (with `host`: the webhook answers on api.BASE only).
    pub base_url: String,
    /// Optional Host header, e.g. api.localhost.
    pub host: Option<String>,
}

impl Target {
    pub fn webhook_url(&self) -> String {
        format!("{}/webhooks/whatsapp", self.base_url.trim_end_matches('/'))
    }

    /// A client holding at most `connections` idle keep-alive connections.
    pub fn client(&self, connections: usize) -> anyhow::Result<reqwest::Client> {
        Ok(reqwest::Client::builder()
            .http1_only()
            .pool_max_idle_per_host(connections)
            .tcp_nodelay(true)
            .timeout(Duration::from_secs(30))
            .build()?)
    }
}
