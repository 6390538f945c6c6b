//! What a job handler is given and what it answers: the contract between the runner, which
//! claims jobs and records their outcomes, and the handlers (`advance`, `send`, `expire`),
//! which do the work. Both sides import this module and never each other.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use sqlx::AnyConnection;
use store::crypto::TokenCipher;
use store::jobs::{self, Job};
use store::{Db, StoreError};
use whatsapp::graph::GraphClient;

use crate::tenant_ctx::ContextCache;

/// One claimed job and what its handler may use.
pub struct JobCtx<'a> {
    pub job: &'a Job,
    pub db: &'a Db,
    pub graph: &'a GraphClient,
    pub cipher: &'a TokenCipher,
    /// Each store's settings, catalogue and templates, cached between jobs.
    pub contexts: &'a ContextCache,
    /// Where customers open public pages: `https://BASE` (the quote links).
    pub public_url: &'a str,
    pub worker_id: &'a str,
    /// The CEP service (`ORCAZAP_CEP_API_BASE`), when one is configured.
    pub cep: Option<&'a dyn crate::cep::CepProvider>,
    /// The optional language model (`ORCAZAP_LLM_*`), when one is configured.
    pub llm: Option<&'a crate::assistant::LlmAssistant>,
    /// Speech to text for voice notes (`ORCAZAP_TRANSCRIBE_*`), when configured.
    pub transcriber: Option<&'a dyn voice::Transcriber>,
    /// Media limits and retention (`worker::media`).
    pub media: crate::media::MediaConfig,
    /// Set when the handler marked the job done inside its own transaction
    /// ([`JobCtx::completion`]): the runner then has nothing left to write for it.
    pub completed: &'a AtomicBool,
    /// How long a claim is ours: the lease of a job handed over by [`Completion::complete`].
    pub lease_ms: i64,
    /// The lane's next job, claimed by [`Completion::complete`] in the step's commit; the
    /// runner takes it only once that commit happened ([`JobCtx::completed_in_step`]).
    pub handed_over: &'a Arc<Mutex<Option<Job>>>,
}

impl JobCtx<'_> {
    /// What completes this job inside the step's transaction (owned: transactions run in
    /// their own task). One commit per step instead of two: the step's writes and "done"
    /// land together, so a crash cannot leave a finished step whose job runs again.
    pub fn completion(&self) -> Completion {
        Completion {
            job_id: self.job.id.clone(),
            worker_id: self.worker_id.to_string(),
            serial_key: self.job.serial_key.clone(),
            lease_ms: self.lease_ms,
            handed_over: self.handed_over.clone(),
        }
    }

    /// The transaction holding [`Completion::complete`] committed.
    pub fn completed_in_step(&self) {
        self.completed.store(true, Ordering::Release);
    }
}

/// Marks one claimed job done inside the caller's transaction, fenced like
/// [`jobs::complete`]: a worker that lost its lease changes nothing.
pub struct Completion {
    job_id: String,
    worker_id: String,
    serial_key: Option<String>,
    lease_ms: i64,
    handed_over: Arc<Mutex<Option<Job>>>,
}

impl Completion {
    /// Done, and the contact's next send (the reply this step just wrote, the PDF after the
    /// quote) claimed in the same commit so this worker sends it next without a claim of its
    /// own ([`jobs::claim_lane_next`]).
    pub async fn complete(&self, c: &mut AnyConnection) -> Result<bool, StoreError> {
        let done = jobs::complete(c, &self.job_id, &self.worker_id).await?;
        let next = match (&self.serial_key, done) {
            (Some(key), true) => {
                jobs::claim_lane_next(c, key, crate::SEND_JOB, &self.worker_id, self.lease_ms)
                    .await?
            }
            _ => None,
        };
        // A poisoned lock still holds the slot: the claimed job must reach the runner.
        *self
            .handed_over
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = next;
        Ok(done)
    }
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// Try again later (at the earliest after `after_ms`, or the runner's backoff).
    Retry {
        after_ms: i64,
        error: String,
    },
    /// Failed for good: the job is listed as dead with the reason, for the operator.
    Dead(String),
    /// Cannot run yet for a reason outside the job (the store's WhatsApp number is blocked by
    /// Meta): back in `after_ms`, or sooner when the cause is fixed, without using up an
    /// attempt — waiting for the owner is not a failure of the job.
    Wait {
        after_ms: i64,
        reason: String,
    },
}

impl Outcome {
    /// A store failure: retried when trying again can help (the database away, busy, timing
    /// out, a serialization failure or deadlock), dead with the reason otherwise (a constraint
    /// violation, a decode or type error, a missing row, corrupt data — each fails the same
    /// way on every attempt, so retrying only delays the operator seeing it).
    pub fn from_store(e: StoreError) -> Outcome {
        let error = store::error::report(&e);
        if e.is_transient() {
            Outcome::Retry { after_ms: 0, error }
        } else {
            Outcome::Dead(error)
        }
    }
}
