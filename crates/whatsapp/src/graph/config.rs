//! Graph API client settings: where to send, how long to wait, how to retry.

use std::time::Duration;

/// Default Graph API host (`ORCAZAP_WHATSAPP_API_BASE`).
pub const DEFAULT_BASE_URL: &str = "https://graph.facebook.com";
/// Default Graph API version (`ORCAZAP_WHATSAPP_API_VERSION`).
pub const DEFAULT_API_VERSION: &str = "v25.0";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphConfig {
    /// Scheme and host, no trailing path (`https://graph.facebook.com`, or a local mock).
    pub base_url: String,
    /// `vNN.N`.
    pub api_version: String,
    pub connect_timeout: Duration,
    /// Whole-request deadline (connect + send + answer).
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
}

impl Default for GraphConfig {
    fn default() -> Self {
        GraphConfig {
            base_url: DEFAULT_BASE_URL.to_string(),
            api_version: DEFAULT_API_VERSION.to_string(),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(20),
            retry: RetryPolicy::default(),
        }
    }
}

/// In-process retries for one send. Anything longer belongs to the job queue, which
/// reschedules the `whatsapp.send` job when these attempts are used up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts including the first (0 is treated as 1).
    pub max_attempts: u32,
    /// Ceiling of the first backoff; doubles each attempt.
    pub base_delay: Duration,
    /// No single wait exceeds this (Retry-After included).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GraphConfigError {
    #[error("Graph API base URL must start with http:// or https:// and have a host: {0:?}")]
    BaseUrl(String),
    #[error("Graph API version must look like v25.0: {0:?}")]
    ApiVersion(String),
    #[error("could not build the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

impl GraphConfig {
    pub(crate) fn validate(&self) -> Result<(), GraphConfigError> {
        let base = self.base_url.trim_end_matches('/');
        let host = base
            .strip_prefix("https://")
            .or_else(|| base.strip_prefix("http://"));
        if !matches!(host, Some(h) if !h.is_empty() && !h.contains(char::is_whitespace)) {
            return Err(GraphConfigError::BaseUrl(self.base_url.clone()));
        }
        let v = &self.api_version;
        let version_ok = v.strip_prefix('v').is_some_and(|rest| {
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        });
        if !version_ok {
            return Err(GraphConfigError::ApiVersion(v.clone()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_current() {
        let cfg = GraphConfig::default();
        assert!(cfg.validate().is_ok());
        assert_eq!(cfg.api_version, "v25.0");
    }

    #[test]
    fn rejects_bad_base_urls_and_versions() {
        for base in ["graph.facebook.com", "ftp://x", "https://", "http:// x"] {
            let cfg = GraphConfig {
                base_url: base.into(),
                ..GraphConfig::default()
            };
            assert!(
                matches!(cfg.validate(), Err(GraphConfigError::BaseUrl(_))),
                "{base}"
            );
        }
        for version in ["25.0", "v", "v25/0", "", "latest"] {
            let cfg = GraphConfig {
                api_version: version.into(),
                ..GraphConfig::default()
            };
            assert!(
                matches!(cfg.validate(), Err(GraphConfigError::ApiVersion(_))),
                "{version}"
            );
        }
        let cfg = GraphConfig {
            base_url: "http://127.0.0.1:9999/".into(),
            ..GraphConfig::default()
        };
        assert!(cfg.validate().is_ok());
    }
}
