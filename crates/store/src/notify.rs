//! Waking workers when jobs are ready: both sides of it in one place.
//!
//! - Ringing: [`Db::tx`] rings after its COMMIT when the transaction added a job
//!   ([`crate::jobs::enqueue`] marks it), and code that adds jobs another way calls
//!   [`Db::jobs_ready`] after its commit. Never inside the transaction: PostgreSQL serialises
//!   the commits of every transaction that issued a NOTIFY behind one database-wide lock held
//!   through the WAL flush, so transactions could not share a flush (group commit). Rings in
//!   a burst collapse into one `NOTIFY` sent on its own.
//! - Listening: [`listen`] wakes a worker — on PostgreSQL through `LISTEN` (jobs committed by
//!   any process), on SQLite through this process's rings (it is the only writer).
//!
//! A lost wake-up (a crash between commit and ring, a LISTEN connection down) only delays a
//! job until the worker's next poll.

use std::cell::Cell;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use sqlx::AnyPool;
use tokio::sync::{watch, Notify};

use crate::db::{Db, Engine};

/// The PostgreSQL channel workers LISTEN on.
pub const CHANNEL: &str = "orcazap_jobs";

tokio::task_local! {
    /// Set while a [`Db::tx`] runs: did it add a job?
    static JOB_ADDED: Cell<bool>;
}

/// Called by [`crate::jobs::enqueue`]: the surrounding [`Db::tx`] rings after its commit.
pub(crate) fn job_added() {
    let _ = JOB_ADDED.try_with(|added| added.set(true));
}

/// Runs a transaction's work and says whether it added a job.
pub(crate) async fn noting_jobs<F: Future>(work: F) -> (F::Output, bool) {
    JOB_ADDED
        .scope(Cell::new(false), async move {
            let out = work.await;
            (out, JOB_ADDED.with(Cell::get))
        })
        .await
}

/// The bell of one [`Db`].
pub(crate) struct Bell {
    /// PostgreSQL: triggers the task that sends NOTIFY (started on the first ring).
    postgres: OnceLock<Arc<Notify>>,
    /// SQLite: this process's listeners.
    local: watch::Sender<u64>,
}

impl Bell {
    pub(crate) fn new() -> Bell {
        Bell {
            postgres: OnceLock::new(),
            local: watch::channel(0).0,
        }
    }

    pub(crate) fn ring(&self, engine: Engine, pool: &AnyPool) {
        match engine {
            Engine::Sqlite => self.local.send_modify(|n| *n = n.wrapping_add(1)),
            Engine::Postgres => {
                let bell = self.postgres.get_or_init(|| {
                    let bell = Arc::new(Notify::new());
                    tokio::spawn(send_notifies(pool.clone(), bell.clone()));
                    bell
                });
                // A ring while a NOTIFY is in flight leaves one permit: one more NOTIFY, not
                // one each.
                bell.notify_one();
            }
        }
    }
}

/// Sends one NOTIFY per burst of rings until the pool is closed.
async fn send_notifies(pool: AnyPool, bell: Arc<Notify>) {
    loop {
        bell.notified().await;
        if pool.is_closed() {
            return;
        }
        let sent = sqlx::query("SELECT pg_notify($1, 'ready')")
            .bind(CHANNEL)
            .execute(&pool)
            .await;
        if let Err(e) = sent {
            // Workers also poll, so a missed notification delays a job by one poll interval.
            tracing::warn!(error = %e, "could not notify workers; they will find the job by polling");
        }
    }
}

/// Wakes `wake` (one waiter per ring) whenever jobs are ready, until `stop` changes.
pub async fn listen(db: &Db, wake: &Notify, mut stop: watch::Receiver<bool>) {
    match db.engine() {
        Engine::Sqlite => {
            let mut rings = db.bell().local.subscribe();
            loop {
                tokio::select! {
                    changed = rings.changed() => match changed {
                        Ok(()) => wake.notify_one(),
                        Err(_) => return,
                    },
                    _ = stop.changed() => return,
                }
            }
        }
        Engine::Postgres => loop {
            match sqlx::postgres::PgListener::connect(db.url()).await {
                Ok(mut l) => {
                    if let Err(e) = l.listen(CHANNEL).await {
                        tracing::warn!(error = %e, "LISTEN failed");
                    } else {
                        loop {
                            tokio::select! {
                                n = l.recv() => match n {
                                    Ok(_) => wake.notify_one(),
                                    Err(e) => { tracing::warn!(error = %e, "LISTEN connection lost"); break; }
                                },
                                _ = stop.changed() => return,
                            }
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not open LISTEN connection; polling only")
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                _ = stop.changed() => return,
            }
        },
    }
}
