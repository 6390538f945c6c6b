//! Meta WhatsApp Cloud API, as OrçaZap uses it:
//!
//! - [`signature`]: the `X-Hub-Signature-256` check every webhook passes first;
//! - [`webhook`]: webhook payloads → normalized [`webhook::WebhookEvent`]s (and builders of
//!   Meta-format payloads for the simulator);
//! - [`graph`]: the Graph API client that sends messages, with error classification and
//!   retries.
//!
//! - [`mock`] (feature `mock`): a local Graph API that refuses what Meta refuses.
//!
//! No database and no tenant knowledge here: callers map `phone_number_id` to a store.

pub mod graph;
#[cfg(feature = "mock")]
pub mod mock;
pub mod signature;
pub mod webhook;
