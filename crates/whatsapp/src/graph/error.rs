//! Send failures and how they are classified: transient ones are worth retrying, permanent
//! ones are recorded and shown to the store (retrying them only hammers Meta).

use std::time::Duration;

use serde::Deserialize;

/// Meta error codes the product treats specially.
pub mod codes {
    /// Unknown API error; Meta suggests retrying.
    pub const API_UNKNOWN: i64 = 1;
    /// Temporary API service error (downtime).
    pub const API_SERVICE: i64 = 2;
    /// App-level call rate limit.
    pub const API_TOO_MANY_CALLS: i64 = 4;
    /// Invalid parameter in our request.
    pub const INVALID_PARAMETER: i64 = 100;
    /// Access token expired or invalid: the store must reconnect its number.
    pub const INVALID_TOKEN: i64 = 190;
    /// Rate limit on the WhatsApp Business Account.
    pub const RATE_LIMIT_ISSUES: i64 = 80007;
    /// Cloud API throughput reached for the number.
    pub const THROUGHPUT_LIMIT: i64 = 130429;
    /// "Something went wrong": Meta's generic temporary failure.
    pub const SOMETHING_WENT_WRONG: i64 = 131000;
    /// Service temporarily unavailable.
    pub const SERVICE_UNAVAILABLE: i64 = 131016;
    /// Message undeliverable (number not on WhatsApp, blocked, old app…).
    pub const UNDELIVERABLE: i64 = 131026;
    /// More than 24 h since the customer last wrote: only templates may be sent.
    pub const OUTSIDE_WINDOW: i64 = 131047;
    /// Too many messages to the same customer in a short time.
    pub const PAIR_RATE_LIMIT: i64 = 131056;
    /// Business account in maintenance mode.
    pub const MAINTENANCE_MODE: i64 = 131057;
    /// Server temporarily unavailable.
    pub const SERVER_TEMPORARILY_UNAVAILABLE: i64 = 133004;
    /// Permission not granted or removed (the app lost `whatsapp_business_messaging`).
    pub const PERMISSION_DENIED: i64 = 10;
    /// Permission error on the API call (the token's user or app lacks a permission).
    pub const API_PERMISSION: i64 = 200;
    /// The account is temporarily blocked for policy violations.
    pub const TEMPORARILY_BLOCKED: i64 = 368;
    /// The business account is locked (restricted or disabled).
    pub const ACCOUNT_LOCKED: i64 = 131031;
    /// A payment problem on the business account (no payment method, overdue…).
    pub const PAYMENT_ISSUE: i64 = 131042;
    /// Too many of the number's messages were blocked or reported as spam: sending is limited.
    pub const SPAM_RATE_LIMIT: i64 = 131048;
    /// The phone number is not registered on the Cloud API.
    pub const NOT_REGISTERED: i64 = 133010;
}

/// Errors about the store's account or number, not about one message: every other send
/// from that number would fail the same way until the owner fixes it in Meta's tools.
pub const ACCOUNT_LEVEL_CODES: &[i64] = &[
    codes::INVALID_TOKEN,
    codes::PERMISSION_DENIED,
    codes::API_PERMISSION,
    codes::TEMPORARILY_BLOCKED,
    codes::ACCOUNT_LOCKED,
    codes::PAYMENT_ISSUE,
    codes::SPAM_RATE_LIMIT,
    codes::NOT_REGISTERED,
];

/// Whether Meta's `code` says the whole number is unusable (see [`ACCOUNT_LEVEL_CODES`]).
pub fn is_account_level(code: i64) -> bool {
    ACCOUNT_LEVEL_CODES.contains(&code)
}

/// Codes that say "try again later", whatever the HTTP status was.
const TRANSIENT_CODES: &[i64] = &[
    codes::API_UNKNOWN,
    codes::API_SERVICE,
    codes::API_TOO_MANY_CALLS,
    codes::RATE_LIMIT_ISSUES,
    codes::THROUGHPUT_LIMIT,
    codes::SOMETHING_WENT_WRONG,
    codes::SERVICE_UNAVAILABLE,
    codes::PAIR_RATE_LIMIT,
    codes::MAINTENANCE_MODE,
    codes::SERVER_TEMPORARILY_UNAVAILABLE,
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Network trouble, timeouts, 5xx, rate limits: retrying later may succeed.
    #[error("temporary WhatsApp send failure{}: {message}", code_suffix(*.code))]
    Transient {
        code: Option<i64>,
        message: String,
        /// What the server asked for (`Retry-After`), if anything.
        retry_after: Option<Duration>,
    },
    /// Bad token, closed 24 h window, undeliverable number, invalid message…: retrying the
    /// same request can't succeed.
    #[error("WhatsApp send refused{}: {message}", code_suffix(*.code))]
    Permanent { code: Option<i64>, message: String },
}

fn code_suffix(code: Option<i64>) -> String {
    code.map(|c| format!(" (code {c})")).unwrap_or_default()
}

impl SendError {
    /// Meta's error code, when Meta answered with one.
    pub fn code(&self) -> Option<i64> {
        match self {
            SendError::Transient { code, .. } | SendError::Permanent { code, .. } => *code,
        }
    }

    pub fn is_transient(&self) -> bool {
        matches!(self, SendError::Transient { .. })
    }

    /// The explanation (Meta's message and details, or ours). Never contains the token.
    pub fn message(&self) -> &str {
        match self {
            SendError::Transient { message, .. } | SendError::Permanent { message, .. } => message,
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SendError::Transient { retry_after, .. } => *retry_after,
            SendError::Permanent { .. } => None,
        }
    }

    /// The store's account or number is unusable: stop sending from it (see
    /// [`ACCOUNT_LEVEL_CODES`]).
    pub fn is_account_level(&self) -> bool {
        self.code().is_some_and(is_account_level)
    }

    /// Too many messages to one customer: back off more slowly than for other errors.
    pub fn is_pair_rate_limit(&self) -> bool {
        self.code() == Some(codes::PAIR_RATE_LIMIT)
    }

    /// Low-cardinality label for metrics and the store's error list.
    pub fn metric_label(&self) -> &'static str {
        match (self.is_transient(), self.code()) {
            (true, Some(codes::THROUGHPUT_LIMIT)) => "throughput_limit",
            (true, Some(codes::PAIR_RATE_LIMIT)) => "pair_rate_limit",
            (true, Some(_)) => "meta_transient",
            (true, None) => "transient",
            (false, Some(codes::INVALID_TOKEN)) => "invalid_token",
            (_, Some(c)) if is_account_level(c) => "account",
            (false, Some(codes::OUTSIDE_WINDOW)) => "outside_window",
            (false, Some(codes::UNDELIVERABLE)) => "undeliverable",
            (false, Some(codes::INVALID_PARAMETER)) => "invalid_parameter",
            (false, Some(_)) => "meta_permanent",
            (false, None) => "rejected",
        }
    }
}

/// Meta's error body: `{"error":{"message","type","code","error_subcode","error_data","fbtrace_id"}}`.
#[derive(Deserialize)]
struct GraphErrorBody {
    error: GraphErrorDetail,
}

#[derive(Deserialize)]
struct GraphErrorDetail {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    code: Option<i64>,
    #[serde(default)]
    error_subcode: Option<i64>,
    #[serde(default)]
    error_data: Option<GraphErrorData>,
    #[serde(default)]
    fbtrace_id: Option<String>,
}

#[derive(Deserialize)]
struct GraphErrorData {
    #[serde(default)]
    details: Option<String>,
}

/// Classifies a non-2xx Graph answer. `secret` is scrubbed from the message in case a
/// server ever echoes it back.
pub(crate) fn classify_http_error(
    status: u16,
    retry_after: Option<Duration>,
    body: &[u8],
    secret: &str,
) -> SendError {
    let parsed = serde_json::from_slice::<GraphErrorBody>(body).ok();
    let code = parsed.as_ref().and_then(|b| b.error.code);
    let message = match &parsed {
        Some(b) => describe(&b.error, status),
        None => format!("HTTP {status} without a Graph error body"),
    };
    let message = scrub(message, secret);
    let transient = match code {
        Some(c) if TRANSIENT_CODES.contains(&c) => true,
        // An unknown code on a 5xx/429 is still the server's trouble, not ours.
        _ => status >= 500 || status == 429 || status == 408,
    };
    // Known permanent codes win even on a 5xx: the same request will fail the same way.
    let transient = transient && !code.is_some_and(is_known_permanent);
    if transient {
        SendError::Transient {
            code,
            message,
            retry_after,
        }
    } else {
        SendError::Permanent { code, message }
    }
}

fn is_known_permanent(code: i64) -> bool {
    matches!(
        code,
        codes::INVALID_PARAMETER
            | codes::INVALID_TOKEN
            | codes::UNDELIVERABLE
            | codes::OUTSIDE_WINDOW
    )
}

fn describe(e: &GraphErrorDetail, status: u16) -> String {
    let mut out = e
        .message
        .clone()
        .unwrap_or_else(|| format!("HTTP {status}"));
    if let Some(details) = e.error_data.as_ref().and_then(|d| d.details.as_deref()) {
        out.push_str(": ");
        out.push_str(details);
    }
    if let Some(sub) = e.error_subcode {
        out.push_str(&format!(" [subcode {sub}]"));
    }
    if let Some(trace) = &e.fbtrace_id {
        // Meta support asks for it; it identifies the request, not the customer.
        out.push_str(&format!(" [fbtrace_id {trace}]"));
    }
    out
}

/// Errors from the HTTP layer: the request may not have reached Meta, or its answer was lost.
pub(crate) fn classify_transport_error(e: &reqwest::Error) -> SendError {
    if e.is_builder() {
        return SendError::Permanent {
            code: None,
            message: format!("could not build the request: {}", chain(e)),
        };
    }
    let what = if e.is_timeout() {
        "request timed out"
    } else if e.is_connect() {
        "could not connect to the Graph API"
    } else {
        "HTTP transport error"
    };
    SendError::Transient {
        code: None,
        message: format!("{what}: {}", chain(e)),
        retry_after: None,
    }
}

/// The error and its causes on one line (reqwest puts the useful part in `source()`).
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

pub(crate) fn scrub(message: String, secret: &str) -> String {
    if secret.len() < 4 || !message.contains(secret) {
        return message;
    }
    message.replace(secret, "[redacted]")
}

/// `Retry-After` in seconds (Meta doesn't use the HTTP-date form), bounded to an hour so a
/// bogus value can't park a send forever.
pub(crate) fn parse_retry_after(value: Option<&str>) -> Option<Duration> {
    let secs: u64 = value?.trim().parse().ok()?;
    Some(Duration::from_secs(secs.min(3600)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE_LIMIT: &str =
        include_str!("../../../../fixtures/whatsapp/graph_error_rate_limit.json");
    const PAIR_LIMIT: &str =
        include_str!("../../../../fixtures/whatsapp/graph_error_pair_rate_limit.json");
    const TOKEN: &str =
        include_str!("../../../../fixtures/whatsapp/graph_error_invalid_token.json");
    const WINDOW: &str =
        include_str!("../../../../fixtures/whatsapp/graph_error_outside_window.json");

    #[test]
    fn fixtures_classify_as_documented() {
        let e = classify_http_error(400, None, RATE_LIMIT.as_bytes(), "tok");
        assert!(e.is_transient());
        assert_eq!(e.code(), Some(130429));
        assert_eq!(e.metric_label(), "throughput_limit");
        assert!(e
            .message()
            .contains("Cloud API message throughput has been reached"));
        assert!(e.message().contains("fbtrace_id AbCdEfGhIjKlMnOp"));

        let e = classify_http_error(400, Some(Duration::from_secs(3)), PAIR_LIMIT.as_bytes(), "");
        assert!(e.is_transient() && e.is_pair_rate_limit());
        assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
        assert_eq!(e.metric_label(), "pair_rate_limit");

        let e = classify_http_error(401, None, TOKEN.as_bytes(), "");
        assert!(!e.is_transient());
        assert_eq!(e.code(), Some(190));
        assert_eq!(e.metric_label(), "invalid_token");
        assert!(e.message().contains("[subcode 463]"));

        let e = classify_http_error(400, None, WINDOW.as_bytes(), "");
        assert!(!e.is_transient());
        assert_eq!(e.code(), Some(131047));
        assert_eq!(e.metric_label(), "outside_window");
        assert!(e.message().contains("24 hours"));
    }

    #[test]
    fn status_decides_when_the_code_is_unknown_or_missing() {
        let unknown = br#"{"error":{"message":"x","code":999999}}"#;
        assert!(classify_http_error(500, None, unknown, "").is_transient());
        assert!(!classify_http_error(400, None, unknown, "").is_transient());
        assert!(classify_http_error(502, None, b"<html>Bad Gateway</html>", "").is_transient());
        assert!(classify_http_error(429, None, b"", "").is_transient());
        let e = classify_http_error(404, None, b"not found", "");
        assert!(!e.is_transient());
        assert_eq!(e.metric_label(), "rejected");
        // A known permanent code stays permanent even on a 5xx.
        let undeliverable = br#"{"error":{"message":"Message undeliverable","code":131026}}"#;
        let e = classify_http_error(500, None, undeliverable, "");
        assert!(!e.is_transient());
        assert_eq!(e.metric_label(), "undeliverable");
        // Meta's temporary codes are transient even on a 400.
        for code in [1, 2, 4, 80007, 131000, 131016, 131057, 133004] {
            let body = format!(r#"{{"error":{{"message":"m","code":{code}}}}}"#);
            assert!(
                classify_http_error(400, None, body.as_bytes(), "").is_transient(),
                "{code}"
            );
        }
    }

    #[test]
    fn echoed_secret_is_scrubbed() {
        let body = br#"{"error":{"message":"Malformed access token EAAGsecret123","code":190}}"#;
        let e = classify_http_error(400, None, body, "EAAGsecret123");
        assert!(!e.to_string().contains("EAAGsecret123"));
        assert!(!format!("{e:?}").contains("EAAGsecret123"));
        assert!(e.message().contains("[redacted]"));
    }

    #[test]
    fn retry_after_is_seconds_and_bounded() {
        assert_eq!(parse_retry_after(Some("7")), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after(Some("999999")),
            Some(Duration::from_secs(3600))
        );
        assert_eq!(
            parse_retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")),
            None
        );
        assert_eq!(parse_retry_after(None), None);
    }
}
