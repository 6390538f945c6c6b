//! The database of OrçaZap, on SQLite and PostgreSQL from one code base.
//!
//! All SQL goes through sqlx's `Any` driver with text written once for both engines (`$1`
//! placeholders, `RETURNING`, `ON CONFLICT` work on both); the few places where the dialects
//! differ branch on [`Engine`] and say why. Column types are only TEXT and BIGINT, so one
//! schema serves both.

pub mod audit;
pub mod backup;
pub mod catalog;
pub mod channels;
pub mod conversations;
pub mod crypto;
pub mod dashboard_queries;
pub mod db;
pub mod error;
pub mod inbound;
pub mod jobs;
pub mod messages;
pub mod migrate;
pub mod notify;
pub mod operator;
pub mod privacy;
pub mod quotes;
pub mod recorder;
pub mod rules;
pub mod sessions;
pub mod signup;
pub mod templates;
pub mod tenants;
pub mod testing;
pub mod users;
pub mod webhook_events;

pub use db::{new_id, now_ms, Db, DbConfig, Engine};
pub use error::{Doing, StoreError};
