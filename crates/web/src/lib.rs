//! The HTTP side of OrçaZap.
//!
//! One listener serves every host; [`host::Site`] decides which router answers:
//! `BASE`/`www.BASE` (public site, simulator in demo mode), `api.BASE` (webhooks, operator
//! admin) and `{slug}.BASE` (a store's dashboard). `/health`, `/ready` and `/metrics` answer
//! on every host.

pub mod app;
pub mod auth;
pub mod client_ip;
pub mod dashboard;
pub mod error;
pub mod health;
pub mod host;
pub mod layers;
pub mod public;
pub mod render;
pub mod simulator;
pub mod state;
pub mod storable_forms;
pub mod webhook;

pub use app::{build_router, Application};
pub use state::{AppState, WebConfig};

/// The store dashboard's routes (`{slug}.BASE`).
pub fn store_routes(state: &AppState) -> axum::Router<AppState> {
    dashboard::routes(state)
}
