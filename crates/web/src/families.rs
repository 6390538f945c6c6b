//! The web side's metric families (and the store's, which the web side drives), registered
//! at start-up with zero values for every known label value (issue 14 item 4): an alert on
//! a series that has not appeared yet can never fire, and `rate()` needs a zero before the
//! first increment. Gauges computed at scrape time (`orcazap_ready`, pool connections,
//! memory, heartbeat age) are set by [`crate::health::metrics`] before each render.

/// Outcomes of a webhook event as labelled on `orcazap_webhook_events_total`.
const WEBHOOK_OUTCOMES: [&str; 9] = [
    "accepted",
    "duplicate",
    "unknown_channel",
    "status",
    "ignored",
    "unreadable",
    "too_large",
    "bad_signature",
    "malformed",
];

/// Message kinds as labelled on `orcazap_inbound_messages_total` (`MessageContent::kind`).
const MESSAGE_KINDS: [&str; 12] = [
    "text",
    "button",
    "list_reply",
    "image",
    "audio",
    "location",
    "reaction",
    "document",
    "contacts",
    "sticker",
    "system",
    "unsupported",
];

/// Classes as labelled on `orcazap_rate_limited_total`.
const RATE_LIMIT_CLASSES: [&str; 5] = ["Login", "LoginSuspect", "Admin", "Write", "Read"];

/// The route every WhatsApp webhook arrives on (the 5xx-ratio alert reads it).
const WEBHOOK_ROUTE: &str = "/webhooks/whatsapp";

/// Registers every web and store family. Call once, after the recorder is installed and
/// before the first scrape.
pub fn register() {
    for status in ["200", "401", "413", "500", "503"] {
        metrics::counter!("orcazap_http_requests_total", "route" => WEBHOOK_ROUTE, "method" => "POST", "status" => status)
            .absolute(0);
    }
    let _ = metrics::histogram!("orcazap_http_request_duration_seconds", "route" => WEBHOOK_ROUTE, "method" => "POST");
    for outcome in WEBHOOK_OUTCOMES {
        metrics::counter!("orcazap_webhook_events_total", "outcome" => outcome).absolute(0);
    }
    for kind in MESSAGE_KINDS {
        metrics::counter!("orcazap_inbound_messages_total", "kind" => kind).absolute(0);
    }
    let _ = metrics::histogram!("orcazap_webhook_batch_size");
    metrics::counter!("orcazap_webhook_batch_splits_total").absolute(0);
    let _ = metrics::histogram!("orcazap_db_acquire_wait_seconds");
    for class in RATE_LIMIT_CLASSES {
        metrics::counter!("orcazap_rate_limited_total", "class" => class).absolute(0);
    }
    metrics::counter!("orcazap_login_failures_total").absolute(0);
    metrics::counter!("orcazap_admin_auth_failures_total").absolute(0);
    metrics::counter!("orcazap_signups_total").absolute(0);
    // Accounts (crate::account): e-mailed links issued, used or refused; wrong second factors.
    for outcome in crate::account::LINK_OUTCOMES {
        metrics::counter!("orcazap_account_links_total", "outcome" => outcome).absolute(0);
    }
    metrics::counter!("orcazap_two_factor_failures_total").absolute(0);
    for outcome in QUOTE_PAGE_OUTCOMES {
        metrics::counter!("orcazap_quote_page_views_total", "outcome" => outcome).absolute(0);
    }
    // Meta's reviews of WhatsApp message templates (`webhook::template_reviews`).
    for outcome in ["applied", "unknown_template"] {
        metrics::counter!("orcazap_template_reviews_total", "outcome" => outcome).absolute(0);
    }
}

/// Outcomes of opening a public quote page (`public::quote_page`): shown, gone (410: expired
/// or replaced) and invalid (404: a link we never signed — probing shows here).
pub const QUOTE_PAGE_OUTCOMES: [&str; 3] = ["shown", "gone", "invalid"];
