//! The `orcazap` binary's library: configuration, wiring and seeding, shared by `main` and
//! the black-box tests (which start the application exactly as `main` does).

pub mod config;
pub mod run;
pub mod seed;
