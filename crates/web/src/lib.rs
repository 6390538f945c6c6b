//! The HTTP side of OrçaZap.
//!
//! One listener serves every host; [`host::Site`] decides which router answers:
//! `BASE`/`www.BASE` (public site; the simulator on `BASE` in demo mode), `api.BASE`
//! (webhooks, operator admin, `/metrics`) and `{slug}.BASE` (a store's dashboard). A bare IP
//! address gets `/health`, `/ready` and `/metrics` only; any other name `/health` and
//! `/ready` only (404 for everything else).

pub mod account;
pub mod app;
pub mod auth;
pub mod billing;
pub mod client_ip;
pub mod dashboard;
pub mod error;
pub mod families;
pub mod health;
pub mod host;
pub mod layers;
pub mod multipart;
pub mod public;
pub mod render;
pub mod server;
pub mod simulator;
pub mod state;
pub mod storable_forms;
pub mod webhook;

pub use app::{build_router, Application};
pub use server::ServerTimeouts;
pub use state::{AppState, WebConfig};

/// The store dashboard's routes (`{slug}.BASE`).
pub fn store_routes(state: &AppState) -> axum::Router<AppState> {
    dashboard::routes(state)
}
