//! The one test kit of OrçaZap, for every crate's black-box tests (a dev-dependency only).
//!
//! - [`TestApp`]: the web side and a worker, assembled through [`web::AppState::new`] as the
//!   `orcazap` binary assembles them, on a fresh database of either engine with two demo
//!   stores ([`store::seed`]);
//! - [`MockGraph`]: the mock of Meta's Graph API (`whatsapp::mock`) with refusal bookkeeping;
//! - [`both_engines!`]: one test per engine for each scenario (`store::both_engines`);
//! - [`Session`] and [`Answer`]: requests that read as claims,
//!   `app.as_attendant().await.post_form("/equipe/convidar", &form).await.expect_status(403)`;
//!   [`Read`] for what came back (`body`, `page_with_status`, `header_text`); requests naming
//!   a host (`get_on`, `post_on`) and signed webhook deliveries (`webhook`, `webhook_on`).

mod app;
mod fixtures;
mod graph;
mod html;
mod llm;
mod request;
mod smtp;
mod stripe;
mod transcribe;

pub use app::*;
pub use fixtures::sent_now;
pub use graph::{GraphCall, MockGraph};
pub use html::*;
pub use llm::*;
pub use request::{Answer, ExpectStatus, Read, Session};
pub use smtp::{SmtpMessage, SmtpSink};
pub use store::both_engines;
pub use store::testing::{Fixture, TestDb};
pub use stripe::*;
pub use transcribe::{MockTranscriber, TranscriptionUpload};
