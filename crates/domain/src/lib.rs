//! OrçaZap's domain: the rules of the product with no I/O, no async and no database.
//!
//! Everything here is deterministic and cheap to test: the web layer, the worker and the
//! CLI feed it values and persist what it returns.

pub mod address;
pub mod ask;
pub mod catalog;
pub mod changes;
pub mod clock;
pub mod conversation;
pub mod engine;
pub mod freight_answer;
pub mod handoff;
pub mod ids;
pub mod inbound;
pub mod money;
pub mod pix;
pub mod pricing;
pub mod proactive;
pub mod sanitize;
pub mod slots;
pub mod status;
pub mod stored_text;
pub mod tax_id;
pub mod templates;
pub mod understanding;
