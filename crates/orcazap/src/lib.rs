//! The `orcazap` binary's library: configuration, wiring and seeding, shared by `main` and
//! the black-box tests (which start the application exactly as `main` does).

pub mod assist_cmd;
pub mod backup;
pub mod config;
pub mod privacy;
pub mod run;
pub mod secrets;
pub mod seed;
pub mod sentry;
