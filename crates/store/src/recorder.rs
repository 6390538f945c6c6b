//! Group commit for webhook deliveries.
//!
//! Meta sends each message in its own POST, and storing one costs a round trip and a commit
//! (a WAL flush on PostgreSQL, an fsync on SQLite) whatever its size. Under load many POSTs
//! are waiting at the same moment, so the recorder stores the ones that are waiting together,
//! in one transaction ([`inbound::record_deliveries`]), and answers each POST only after that
//! commit: nothing is acknowledged to Meta before it is durable.
//!
//! It adds no delay when idle: a committer takes whatever is queued the moment it is free, so
//! a lone webhook is stored alone, at once. If a shared transaction fails for a reason other
//! than the database being away, each of its deliveries is retried on its own, so one bad
//! delivery cannot fail the others.
//!
//! The committers are spawned tasks: a POST whose client hangs up stops waiting, but its
//! delivery is still stored (Meta's redelivery is then a duplicate, recognised by Meta's id).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, Mutex};

use crate::db::{Db, Engine};
use crate::error::{report, Doing, StoreError};
use crate::inbound::{self, Delivery, EventOutcome};

/// Most deliveries stored by one transaction: bounds the time the first of them waits. At 32
/// connections transactions average ~7 deliveries. Measured on the 2-core benchmark machine
/// (docs/benchmarks.md): caps of 64, 16 and 8 gave the same throughput (~3,200–3,300
/// webhooks/s median) and median p99s of ~25.6, ~23 and ~20 ms.
const MAX_BATCH: usize = 8;
/// Deliveries waiting for a committer before POSTs wait to enqueue.
const QUEUE: usize = 1024;

type Reply = oneshot::Sender<Result<Vec<EventOutcome>, StoreError>>;

struct Pending {
    delivery: Delivery,
    reply: Reply,
}

/// Handle to the committers: cheap to clone. They stop once every handle is dropped and the
/// queue is drained.
#[derive(Clone)]
pub struct Recorder {
    queue: mpsc::Sender<Pending>,
    counts: Arc<Counts>,
}

/// Shared transactions (more than one delivery) run, and those that failed and were split.
#[derive(Default)]
struct Counts {
    batches: AtomicU64,
    split: AtomicU64,
}

impl Recorder {
    /// Starts the committers (must run inside a Tokio runtime). PostgreSQL gets two, so one
    /// batch executes while the other waits for its WAL flush. More do not help: measured on
    /// the 2-core benchmark machine, 1 / 2 / 4 committers stored about 1,250 / 2,250 / 1,650
    /// webhooks/s — with more transactions than cores, backends holding the WAL and row locks
    /// get preempted and everyone waits (docs/benchmarks.md). SQLite has one writer, so one.
    pub fn start(db: Db) -> Recorder {
        let committers = match db.engine() {
            Engine::Sqlite => 1,
            Engine::Postgres => db.max_write_connections().clamp(1, 2) as usize,
        };
        let (queue, rx) = mpsc::channel(QUEUE);
        let rx = Arc::new(Mutex::new(rx));
        let counts = Arc::new(Counts::default());
        for _ in 0..committers {
            tokio::spawn(commit_loop(db.clone(), rx.clone(), counts.clone()));
        }
        Recorder { queue, counts }
    }

    /// (shared transactions run, shared transactions that failed and were split).
    pub fn batch_counts(&self) -> (u64, u64) {
        (
            self.counts.batches.load(Ordering::Relaxed),
            self.counts.split.load(Ordering::Relaxed),
        )
    }

    /// Stores one delivery, possibly together with others, and returns its outcomes once
    /// they are committed. A failure says it happened while recording a webhook delivery.
    pub async fn record(&self, delivery: Delivery) -> Result<Vec<EventOutcome>, StoreError> {
        self.record_inner(delivery)
            .await
            .doing("recording webhook delivery")
    }

    async fn record_inner(&self, delivery: Delivery) -> Result<Vec<EventOutcome>, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Pending { delivery, reply })
            .await
            .map_err(|_| StoreError::Task("the webhook recorder has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Task("the webhook recorder dropped a delivery".into()))?
    }
}

async fn commit_loop(db: Db, rx: Arc<Mutex<mpsc::Receiver<Pending>>>, counts: Arc<Counts>) {
    loop {
        let batch = {
            // One committer at a time takes from the queue: it waits for the first delivery
            // and then takes everything already waiting behind it.
            let mut rx = rx.lock().await;
            let Some(first) = rx.recv().await else {
                return;
            };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(p) => batch.push(p),
                    Err(_) => break,
                }
            }
            batch
        };
        commit(&db, batch, &counts).await;
    }
}

async fn commit(db: &Db, batch: Vec<Pending>, counts: &Counts) {
    metrics::histogram!("orcazap_webhook_batch_size").record(batch.len() as f64);
    if batch.len() > 1 {
        counts.batches.fetch_add(1, Ordering::Relaxed);
    }
    let (deliveries, replies): (Vec<Delivery>, Vec<Reply>) =
        batch.into_iter().map(|p| (p.delivery, p.reply)).unzip();
    let deliveries = Arc::new(deliveries);
    match inbound::record_shared(db, deliveries.clone()).await {
        Ok(all) => {
            for (reply, outcomes) in replies.into_iter().zip(all) {
                // The POST may have gone (client hang-up): its delivery is stored anyway.
                let _ = reply.send(Ok(outcomes));
            }
        }
        Err(e) if replies.len() == 1 => {
            if let Some(reply) = replies.into_iter().next() {
                let _ = reply.send(Err(e));
            }
        }
        Err(e) if e.is_transient() => {
            // The database is away: retrying each alone would only multiply the wait. Every
            // POST of the batch gets the error and Meta redelivers later.
            let message = report(&e);
            for reply in replies {
                let _ = reply.send(Err(StoreError::Task(message.clone())));
            }
        }
        Err(e) => {
            counts.split.fetch_add(1, Ordering::Relaxed);
            metrics::counter!("orcazap_webhook_batch_splits_total").increment(1);
            tracing::warn!(error = %report(&e), size = replies.len(),
                "storing webhooks together failed; storing each on its own");
            for (i, reply) in replies.into_iter().enumerate() {
                let one = Arc::new(vec![deliveries[i].clone()]);
                let result = inbound::record_shared(db, one)
                    .await
                    .and_then(|mut v| v.pop().ok_or_else(inbound::no_outcome));
                let _ = reply.send(result);
            }
        }
    }
}
