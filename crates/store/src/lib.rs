//! The database of OrçaZap, on SQLite and PostgreSQL from one code base.
//!
//! All SQL goes through sqlx's `Any` driver with text written once for both engines (`$1`
//! placeholders, `RETURNING`, `ON CONFLICT` work on both); the few places where the dialects
//! differ branch on [`Engine`] and say why. Column types are only TEXT and BIGINT, so one
//! schema serves both.
//!
//! Statuses and states are TEXT columns holding the words of enums declared once
//! (`domain::status`, `domain::conversation::State`, [`jobs::JobStatus`]). Rows are read into
//! those enums (a word that names no variant is a decode error) and written from them. Inside
//! SQL the words are spelled out where a statement needs a fixed one (`status = 'pending'`):
//! partial-index predicates must appear literally to be used, and migration 0003's function
//! writes the same words.

pub mod accounts;
pub mod assistant_budget;
pub mod audit;
pub mod backup;
pub mod billing;
pub mod catalog;
pub mod channels;
pub mod conversations;
pub mod crypto;
pub mod db;
pub mod email;
pub mod error;
pub mod follow_ups;
pub mod inbound;
pub mod inbox;
pub mod jobs;
pub mod media;
pub mod messages;
pub mod meta_templates;
pub mod migrate;
pub mod notify;
pub mod onboarding;
pub mod operator;
pub mod opt_out;
pub mod orders;
pub mod outgoing;
pub mod overview;
pub mod privacy;
pub mod quote_link;
pub mod quotes;
pub mod recorder;
pub mod rules;
pub mod scratch;
pub mod seed;
pub mod sessions;
pub mod signup;
pub mod store_profile;
pub mod templates;
pub mod tenants;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod text_column;
pub mod users;
pub mod webhook_events;

pub use db::{new_id, now_ms, Db, DbConfig, Engine};
pub use error::{Doing, StoreError};
