//! The worker loop: claim, run with a timeout, record the outcome; heartbeats, queue
//! metrics, wake-ups ([`store::notify`], plus polling) and graceful shutdown.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use store::crypto::TokenCipher;
use store::jobs::{self, Job, StoreTurn};
use store::{Db, StoreError};
use tokio::sync::{watch, Notify};
use tracing::Instrument;
use whatsapp::graph::GraphClient;

use crate::job::{JobCtx, Outcome};
use crate::tenant_ctx::ContextCache;

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub worker_id: String,
    /// Jobs run at once by this process.
    pub concurrency: usize,
    /// How long a claimed job is ours before another worker may take it.
    pub lease: Duration,
    /// A job running longer than this is stopped and retried.
    pub job_timeout: Duration,
    /// Fallback polling when no wake-up arrives.
    pub poll_interval: Duration,
    /// Backoff for failed jobs: base and cap.
    pub retry_base: Duration,
    pub retry_cap: Duration,
    /// How long shutdown waits for running jobs before releasing them.
    pub shutdown_grace: Duration,
    /// Raw webhook payloads older than this are deleted by housekeeping (LGPD).
    pub webhook_retention: Duration,
    /// Where customers open public pages (`https://BASE`, or `http://BASE:PORT` in
    /// development): the quote links the worker signs point there.
    pub public_url: String,
    /// The CEP service's base URL (ViaCEP's format, `ORCAZAP_CEP_API_BASE`); None: no
    /// look-up, addresses stay as the customer wrote them.
    pub cep_api_base: Option<String>,
    /// Which format that service speaks: `viacep` (default) or `brasilapi`
    /// (`ORCAZAP_CEP_PROVIDER`, `worker::cep::provider`).
    pub cep_provider: String,
    /// The optional language model (`ORCAZAP_LLM_*`, `worker::assistant`); None: rules only.
    pub llm: Option<crate::assistant::LlmConfig>,
    /// Voice notes and photos: limits, retention, transcription deadline (issue 16).
    pub media: crate::media::MediaConfig,
    /// E-mail (`email.send` jobs): SMTP server and sender (`crate::email`).
    pub mail: crate::email::MailConfig,
}

impl WorkerConfig {
    pub fn new(worker_id: impl Into<String>) -> WorkerConfig {
        WorkerConfig {
            worker_id: worker_id.into(),
            concurrency: 8,
            lease: Duration::from_secs(60),
            job_timeout: Duration::from_secs(30),
            poll_interval: Duration::from_millis(1000),
            retry_base: Duration::from_secs(2),
            retry_cap: Duration::from_secs(600),
            shutdown_grace: Duration::from_secs(15),
            webhook_retention: Duration::from_secs(30 * 24 * 3600),
            public_url: "http://localhost:8080".into(),
            cep_api_base: None,
            cep_provider: "viacep".into(),
            llm: None,
            media: crate::media::MediaConfig::default(),
            mail: crate::email::MailConfig::default(),
        }
    }
}

pub struct Worker {
    pub db: Db,
    pub graph: GraphClient,
    pub cipher: TokenCipher,
    pub contexts: ContextCache,
    pub cfg: WorkerConfig,
    /// Wakes idle loops when a job is enqueued in this process or NOTIFY arrives.
    pub wake: Arc<Notify>,
    running: Mutex<HashSet<String>>,
    /// Jobs claimed for this worker in the commit of the job before them in their lane
    /// ([`crate::job::Completion::complete`]): run before claiming anything else.
    handed_over: Mutex<VecDeque<Job>>,
    /// Round-robin among stores with work ([`jobs::claim_next`]).
    turn: StoreTurn,
    /// The CEP service built from `cfg.cep_api_base` (or set by [`Worker::with_cep`]).
    cep: Option<Arc<dyn crate::cep::CepProvider>>,
    /// The optional language model (set by [`Worker::with_llm`]).
    llm: Option<Arc<crate::assistant::LlmAssistant>>,
    /// Speech to text for voice notes; None: voice notes go to a person. Behind a lock so a
    /// running worker (a test's) can switch it.
    transcriber: std::sync::RwLock<Option<Arc<dyn voice::Transcriber>>>,
    /// Media limits in force (`cfg.media` at start; tests change them with
    /// [`Worker::set_media`]).
    media: std::sync::RwLock<crate::media::MediaConfig>,
    /// Built from `cfg.mail`: SMTP, the log (development) or off.
    mailer: Arc<crate::email::Mailer>,
}

/// Bounded label values for job kinds.
fn kind_label(kind: &str) -> &'static str {
    match kind {
        crate::ADVANCE_JOB => crate::ADVANCE_JOB,
        crate::SEND_JOB => crate::SEND_JOB,
        crate::QUOTE_EXPIRE_JOB => crate::QUOTE_EXPIRE_JOB,
        crate::WINDOW_EXPIRE_JOB => crate::WINDOW_EXPIRE_JOB,
        crate::TEMPLATE_SUBMIT_JOB => crate::TEMPLATE_SUBMIT_JOB,
        crate::TEMPLATE_SYNC_JOB => crate::TEMPLATE_SYNC_JOB,
        crate::FOLLOW_UP_JOB => crate::FOLLOW_UP_JOB,
        crate::CEP_LOOKUP_JOB => crate::CEP_LOOKUP_JOB,
        crate::EMAIL_JOB => crate::EMAIL_JOB,
        _ => "other",
    }
}

impl Worker {
    pub fn new(
        db: Db,
        graph: GraphClient,
        cipher: TokenCipher,
        cfg: WorkerConfig,
        wake: Arc<Notify>,
    ) -> Worker {
        let cep = cfg.cep_api_base.as_deref().and_then(|base| {
            match crate::cep::provider(&cfg.cep_provider, base) {
                Ok(v) => Some(v),
                Err(e) => {
                    tracing::warn!(error = %e, "CEP service not usable: look-ups off");
                    None
                }
            }
        });
        let llm =
            cfg.llm
                .as_ref()
                .and_then(|l| match crate::assistant::LlmAssistant::from_config(l) {
                    Ok(a) => Some(Arc::new(a)),
                    Err(e) => {
                        tracing::warn!(error = %e, "language model not usable: rules only");
                        None
                    }
                });
        let mailer = crate::email::Mailer::from_config(&cfg.mail).unwrap_or_else(|e| {
            tracing::error!(error = %e, "e-mail settings not usable: e-mail off");
            Arc::new(crate::email::Mailer::Off)
        });
        Worker {
            db,
            graph,
            cipher,
            contexts: ContextCache::default(),
            media: std::sync::RwLock::new(cfg.media),
            cfg,
            wake,
            running: Mutex::new(HashSet::new()),
            handed_over: Mutex::new(VecDeque::new()),
            turn: StoreTurn::default(),
            cep,
            llm,
            transcriber: std::sync::RwLock::new(None),
            mailer,
        }
    }

    /// Reads the messages the rules are unsure of with this language model too
    /// (`worker::assistant`).
    pub fn with_llm(mut self, llm: Arc<crate::assistant::LlmAssistant>) -> Worker {
        self.llm = Some(llm);
        self
    }

    /// Another CEP service than the configured one.
    pub fn with_cep(mut self, provider: Arc<dyn crate::cep::CepProvider>) -> Worker {
        self.cep = Some(provider);
        self
    }

    /// Voice notes are written down by this provider (issue 16).
    pub fn with_transcriber(self, t: Arc<dyn voice::Transcriber>) -> Worker {
        self.set_transcriber(Some(t));
        self
    }

    /// Another transcription provider, or none (tests switch it on a running worker).
    pub fn set_transcriber(&self, t: Option<Arc<dyn voice::Transcriber>>) {
        if let Ok(mut slot) = self.transcriber.write() {
            *slot = t;
        }
    }

    /// Other media limits from the next job on.
    pub fn set_media(&self, m: crate::media::MediaConfig) {
        if let Ok(mut slot) = self.media.write() {
            *slot = m;
        }
    }

    /// The media limits in force.
    pub fn media(&self) -> crate::media::MediaConfig {
        self.media.read().map(|m| *m).unwrap_or(self.cfg.media)
    }

    /// Claims and runs one job. `None` when nothing was ready. Tests drive the worker with
    /// this, one step at a time.
    /// A job handed over by the previous one in its lane runs first, without a claim.
    pub async fn run_once(&self) -> Result<Option<(Job, Outcome)>, StoreError> {
        let lease_ms = self.cfg.lease.as_millis() as i64;
        let handed = self.handed_over.lock().ok().and_then(|mut q| q.pop_front());
        let job = match handed {
            Some(job) => job,
            None => {
                let Some(job) =
                    jobs::claim_next(&self.db, &self.cfg.worker_id, lease_ms, &self.turn).await?
                else {
                    return Ok(None);
                };
                if let Ok(mut r) = self.running.lock() {
                    r.insert(job.id.clone());
                }
                job
            }
        };
        let next_in_lane = Arc::new(Mutex::new(None));
        let span = tracing::info_span!("job", job_id = %job.id, kind = %job.kind, tenant_id = job.tenant_id.as_deref().unwrap_or(""),
            request_id = job.request_id.as_deref().unwrap_or(""), attempt = job.attempts, conversation_id = tracing::field::Empty);
        let started = std::time::Instant::now();
        let completed = AtomicBool::new(false);
        let outcome = match tokio::time::timeout(
            self.cfg.job_timeout,
            self.dispatch(&job, &completed, &next_in_lane)
                .instrument(span.clone()),
        )
        .await
        {
            Ok(o) => o,
            Err(_) => Outcome::Retry {
                after_ms: 0,
                error: format!("job timed out after {:?}", self.cfg.job_timeout),
            },
        };
        let kind = kind_label(&job.kind);
        metrics::histogram!("orcazap_job_duration_seconds", "kind" => kind)
            .record(started.elapsed().as_secs_f64());
        let label = self
            .record(&job, &outcome, completed.load(Ordering::Acquire))
            .instrument(span)
            .await?;
        metrics::counter!("orcazap_jobs_total", "kind" => kind, "outcome" => label).increment(1);
        // The lane's next job was claimed in the step's commit; without that commit it was
        // never claimed and stays where it was.
        let next = next_in_lane
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
            .filter(|_| completed.load(Ordering::Acquire));
        if let Ok(mut r) = self.running.lock() {
            r.remove(&job.id);
            if let Some(next) = &next {
                r.insert(next.id.clone());
            }
        }
        if let Some(next) = next {
            if let Ok(mut q) = self.handed_over.lock() {
                q.push_back(next);
            }
        }
        Ok(Some((job, outcome)))
    }

    async fn dispatch(
        &self,
        job: &Job,
        completed: &AtomicBool,
        next_in_lane: &Arc<Mutex<Option<Job>>>,
    ) -> Outcome {
        let payload: serde_json::Value = match serde_json::from_str(&job.payload_json) {
            Ok(v) => v,
            Err(e) => return Outcome::Dead(format!("payload is not JSON: {e}")),
        };
        let field = |name: &str| {
            payload
                .get(name)
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        let transcriber = self.transcriber.read().ok().and_then(|t| t.clone());
        let media = self.media();
        let jc = JobCtx {
            job,
            db: &self.db,
            graph: &self.graph,
            cipher: &self.cipher,
            contexts: &self.contexts,
            public_url: &self.cfg.public_url,
            worker_id: &self.cfg.worker_id,
            cep: self.cep.as_deref(),
            llm: self.llm.as_deref(),
            transcriber: transcriber.as_deref(),
            media,
            completed,
            lease_ms: self.cfg.lease.as_millis() as i64,
            handed_over: next_in_lane,
        };
        match job.kind.as_str() {
            crate::ADVANCE_JOB => match field("conversation_id") {
                Some(id) => crate::advance::handle(&jc, &id).await,
                None => Outcome::Dead("missing conversation_id".into()),
            },
            crate::SEND_JOB => match field("message_id") {
                Some(id) => crate::send::handle(&jc, &id).await,
                None => Outcome::Dead("missing message_id".into()),
            },
            crate::QUOTE_EXPIRE_JOB => match field("quote_id") {
                Some(id) => crate::expire::quote(&jc, &id).await,
                None => Outcome::Dead("missing quote_id".into()),
            },
            crate::WINDOW_EXPIRE_JOB => match field("conversation_id") {
                Some(id) => crate::expire::window(&jc, &id).await,
                None => Outcome::Dead("missing conversation_id".into()),
            },
            crate::TEMPLATE_SUBMIT_JOB => match field("template_id") {
                Some(id) => crate::meta_templates::submit(&jc, &id).await,
                None => Outcome::Dead("missing template_id".into()),
            },
            crate::TEMPLATE_SYNC_JOB => crate::meta_templates::sync(&jc).await,
            crate::FOLLOW_UP_JOB => match (field("quote_id"), field("purpose")) {
                (Some(id), Some(purpose)) => {
                    let sent_at = payload
                        .get("sent_at")
                        .and_then(serde_json::Value::as_i64)
                        .unwrap_or(0);
                    crate::followup::run(&jc, &id, &purpose, sent_at).await
                }
                _ => Outcome::Dead("missing quote_id or purpose".into()),
            },
            crate::CEP_LOOKUP_JOB => match (field("order_id"), field("cep")) {
                (Some(id), Some(cep)) => crate::cep::handle(&jc, &id, &cep).await,
                _ => Outcome::Dead("missing order_id or cep".into()),
            },
            crate::EMAIL_JOB => crate::email::handle(&jc, &self.mailer, &payload).await,
            other => Outcome::Dead(format!("unknown job kind {other:?}")),
        }
    }

    async fn record(
        &self,
        job: &Job,
        outcome: &Outcome,
        completed: bool,
    ) -> Result<&'static str, StoreError> {
        let me = &self.cfg.worker_id;
        match outcome {
            // The handler's own transaction marked it done with the step's writes.
            Outcome::Done if completed => Ok("ok"),
            Outcome::Done => {
                // One fenced statement: a transaction around it only added BEGIN and COMMIT
                // round trips to every job.
                jobs::mark_done(&self.db, &job.id, me).await?;
                Ok("ok")
            }
            Outcome::Retry { after_ms, error } => {
                let backoff = jobs::backoff_ms(
                    job.attempts - 1,
                    self.cfg.retry_base.as_millis() as i64,
                    self.cfg.retry_cap.as_millis() as i64,
                );
                let delay = (*after_ms).max(backoff);
                let dead = jobs::fail(&self.db, job, me, error, Some(delay)).await?;
                if dead {
                    tracing::error!(error = %error, "job is dead after its last attempt");
                    Ok("dead")
                } else {
                    tracing::warn!(error = %error, retry_in_ms = delay, "job failed; will retry");
                    Ok("retry")
                }
            }
            Outcome::Wait { after_ms, reason } => {
                jobs::postpone(&self.db, job, me, reason, *after_ms).await?;
                tracing::info!(reason = %reason, wait_ms = after_ms, "job waits");
                Ok("waiting")
            }
            Outcome::Dead(error) => {
                jobs::fail(&self.db, job, me, error, None).await?;
                tracing::error!(error = %error, "job is dead");
                Ok("dead")
            }
        }
    }

    /// Runs until `shutdown` turns true: `concurrency` loops, heartbeats, queue metrics and a
    /// listener that wakes the loops when jobs are ready ([`store::notify::listen`]).
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(worker_id = %self.cfg.worker_id, concurrency = self.cfg.concurrency, "worker started");
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..self.cfg.concurrency.max(1) {
            let w = self.clone();
            let mut stop = shutdown.clone();
            tasks.spawn(async move {
                loop {
                    if *stop.borrow() {
                        break;
                    }
                    match w.run_once().await {
                        Ok(Some(_)) => continue,
                        Ok(None) => {}
                        Err(e) => tracing::warn!(error = %e, "claiming a job failed; the database may be unavailable"),
                    }
                    tokio::select! {
                        _ = w.wake.notified() => {}
                        _ = tokio::time::sleep(w.cfg.poll_interval) => {}
                        _ = stop.changed() => {}
                    }
                }
            });
        }
        let bg = {
            let w = self.clone();
            let stop = shutdown.clone();
            tokio::spawn(async move { w.background(stop).await })
        };
        // Jobs committed elsewhere (the webhook, the dashboard, another worker) wake the loops
        // at once instead of at their next poll.
        let listener = {
            let w = self.clone();
            let stop = shutdown.clone();
            tokio::spawn(async move { store::notify::listen(&w.db, &w.wake, stop).await })
        };
        let _ = shutdown.changed().await;
        tracing::info!("worker stopping: finishing running jobs");
        self.wake.notify_waiters();
        let grace = tokio::time::sleep(self.cfg.shutdown_grace);
        tokio::pin!(grace);
        loop {
            tokio::select! {
                next = tasks.join_next() => if next.is_none() { break },
                _ = &mut grace => {
                    tasks.abort_all();
                    break;
                }
            }
        }
        // Jobs still marked as ours go back to the queue at once instead of waiting for the
        // lease to run out.
        let leftover: Vec<String> = self
            .running
            .lock()
            .map(|r| r.iter().cloned().collect())
            .unwrap_or_default();
        for id in leftover {
            if let Err(e) = jobs::release(&self.db, &id, &self.cfg.worker_id).await {
                tracing::warn!(error = %e, job_id = %id, "could not release job; its lease will expire");
            }
        }
        bg.abort();
        listener.abort();
        tracing::info!("worker stopped");
    }

    async fn background(&self, mut stop: watch::Receiver<bool>) {
        let host = std::env::var("HOSTNAME").unwrap_or_default();
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        let mut n: u64 = 0;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.changed() => return,
            }
            if let Err(e) = jobs::worker_beat(&self.db, &self.cfg.worker_id, &host).await {
                tracing::warn!(error = %e, "worker heartbeat failed");
            }
            if let Ok(stats) = jobs::stats(&self.db).await {
                let mut seen = Vec::with_capacity(stats.len());
                for s in stats {
                    let kind = kind_label(&s.kind);
                    seen.push(kind);
                    metrics::gauge!("orcazap_queue_ready_jobs", "kind" => kind).set(s.ready as f64);
                    metrics::gauge!("orcazap_queue_dead_jobs", "kind" => kind).set(s.dead as f64);
                    metrics::gauge!("orcazap_queue_oldest_ready_age_seconds", "kind" => kind)
                        .set(s.oldest_ready_age_ms as f64 / 1000.0);
                }
                // A kind whose queue emptied is no longer listed: zero it.
                crate::families::zero_queue_gauges(&seen);
            }
            n += 1;
            // Housekeeping about every ten minutes.
            if n % 120 == 1 {
                // A failed purge only postpones it; it is logged so a lasting failure is seen.
                if let Err(e) = jobs::purge_done(&self.db, 7 * 24 * 3600 * 1000).await {
                    tracing::warn!(error = %e, "finished-job purge failed");
                }
                if let Err(e) = store::sessions::purge_expired(&self.db).await {
                    tracing::warn!(error = %e, "expired-session purge failed");
                }
                let keep_ms =
                    i64::try_from(self.cfg.webhook_retention.as_millis()).unwrap_or(i64::MAX);
                match store::webhook_events::purge_older_than(&self.db, keep_ms).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(deleted = n, "old webhook payloads purged"),
                    Err(e) => tracing::warn!(error = %e, "webhook payload purge failed"),
                }
                let keep_ms = i64::try_from(self.media().retention.as_millis()).unwrap_or(i64::MAX);
                match store::media::purge_older_than(&self.db, keep_ms).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(emptied = n, "old voice notes and photos purged"),
                    Err(e) => tracing::warn!(error = %e, "media purge failed"),
                }
                // Receipts for ids no send recorded within a week (Meta redelivers for 7 days).
                if let Err(e) =
                    store::messages::purge_early_receipts(&self.db, 7 * 24 * 3600 * 1000).await
                {
                    tracing::warn!(error = %e, "early receipt purge failed");
                }
            }
        }
    }
}
