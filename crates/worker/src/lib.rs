//! The worker: takes jobs from the database queue and runs them.
//!
//! Job kinds:
//! - `conversation.advance` — read the contact's new messages in order, run the
//!   conversation engine, and commit state, quote and outbound messages together.
//! - `whatsapp.send` — send one outbound message through the Graph API and record the
//!   outcome; never sends a message Meta already accepted.
//! - `quote.expire`, `conversation.window_expire` — scheduled follow-ups.
//! - `order.cep_lookup` — fill an order's address from its CEP (`cep`), never blocking it.
//! - `email.send` — one e-mail of the outbox over SMTP (`email`), retried while the server is away.
//! - `quote.follow_up` — the store's reminder / no-answer message on a sent quote.
//! - `meta_template.submit`, `meta_template.sync` — the store's WhatsApp message templates at
//!   Meta (submission for review, status read back).
//!
//! Housekeeping (finished jobs, expired sessions, old webhook payloads) is not a job: the
//! heartbeat loop in [`runner`] does it about every ten minutes.
//!
//! [`actions`] holds what the dashboard triggers (approve, reject, reply by hand, take
//! over): the same code paths the bot uses. The quoting steps both need (create a quote,
//! send it, schedule its expiry) live in `quoting`, which both read.

pub mod actions;
mod advance;
pub mod assistant;
pub mod cep;
pub mod delivery;
pub mod document;
pub mod email;
mod expire;
pub mod families;
mod followup;
pub mod handoff;
pub mod job;
pub mod media;
mod meta_templates;
pub mod opt_out;
pub mod order_address;
pub mod order_followup;
pub mod outbound;
pub mod payment;
pub mod proactive;
pub mod quote_link;
mod quoting;
mod read_receipt;
pub mod runner;
mod send;
mod tapped;
pub mod tenant_ctx;

pub use job::{JobCtx, Outcome};
pub use runner::{Worker, WorkerConfig};

pub const SEND_JOB: &str = "whatsapp.send";
pub const QUOTE_EXPIRE_JOB: &str = "quote.expire";
pub const WINDOW_EXPIRE_JOB: &str = "conversation.window_expire";
/// Submit one of the store's WhatsApp message templates to Meta (`{"template_id"}`).
pub const TEMPLATE_SUBMIT_JOB: &str = "meta_template.submit";
/// A follow-up on a sent quote (`{"quote_id","purpose","sent_at"}`): `worker::followup`.
pub const FOLLOW_UP_JOB: &str = "quote.follow_up";
/// Read the review status of the store's WhatsApp message templates back from Meta.
pub const TEMPLATE_SYNC_JOB: &str = "meta_template.sync";
pub use order_address::CEP_LOOKUP_JOB;
pub use store::email::EMAIL_JOB;
pub use store::inbound::ADVANCE_JOB;
