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
pub mod db;
pub mod inbound;
pub mod jobs;
pub mod messages;
pub mod migrate;
pub mod operator;
pub mod overview;
pub mod privacy;
pub mod quotes;
pub mod recorder;
pub mod rules;
pub mod scratch;
pub mod seed;
pub mod sessions;
pub mod signup;
pub mod templates;
pub mod tenants;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod users;
pub mod webhook_events;

pub use db::{new_id, now_ms, Db, DbConfig, Engine, StoreError};
