//! Meta WhatsApp Cloud API, as OrçaZap uses it:
//!
//! - [`signature`]: the `X-Hub-Signature-256` check every webhook passes first;
//! - [`webhook`]: webhook payloads → normalized [`webhook::WebhookEvent`]s (and builders of
//!   Meta-format payloads for the simulator);
//! - [`graph`]: the Graph API client that sends messages, with error classification and
//!   retries.
//!
//! No database and no tenant knowledge here: callers map `phone_number_id` to a store.

pub mod graph;
pub mod signature;
pub mod webhook;
