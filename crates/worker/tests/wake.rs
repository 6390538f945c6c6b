//! A job a worker enqueues (inside its transaction, as every handler does) wakes another
//! worker at once — told after the commit, not by a NOTIFY inside the transaction — with
//! nothing left to the poll interval, which here is an hour.

use std::sync::Arc;
use std::time::{Duration, Instant};

use store::jobs::{self, NewJob};
use store::testing::TestDb;
use store::{Db, DbConfig, Engine};
use tokio::sync::{watch, Notify};
use worker::{Worker, WorkerConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_enqueued_job_wakes_a_worker() {
    if let Some(t) = TestDb::new(Engine::Sqlite).await {
        // SQLite's workers share the process (and its one writer): same handle.
        enqueued_job_wakes_a_worker(&t, t.db.clone()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_enqueued_job_wakes_a_worker_in_another_process() {
    if let Some(t) = TestDb::new(Engine::Postgres).await {
        // Another process: its own pool, its own in-process wake-up.
        let other = Db::connect(&DbConfig::new(&t.url)).await.unwrap();
        enqueued_job_wakes_a_worker(&t, other).await;
    }
}

async fn enqueued_job_wakes_a_worker(t: &TestDb, worker_db: Db) {
    let mut cfg = WorkerConfig::new("sleepy");
    cfg.concurrency = 1;
    cfg.poll_interval = Duration::from_secs(3600);
    let graph = whatsapp::graph::GraphClient::new(whatsapp::graph::GraphConfig::default()).unwrap();
    let cipher = store::crypto::TokenCipher::new(b"test-key", &[]);
    // Nobody else holds this: only the store's bell can wake the worker.
    let wake = Arc::new(Notify::new());
    let w = Arc::new(Worker::new(worker_db.clone(), graph, cipher, cfg, wake));
    let (stop_tx, stop_rx) = watch::channel(false);
    let running = tokio::spawn(w.clone().run(stop_rx));

    // Wait until the worker found the queue empty and sleeps, and (PostgreSQL) listens.
    tokio::time::sleep(Duration::from_millis(300)).await;
    if t.db.engine() == Engine::Postgres {
        let deadline = Instant::now() + Duration::from_secs(10);
        while count(&t.db, "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'").await == 0 {
            assert!(Instant::now() < deadline, "the worker never listened");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    // What a handler does: add a job inside its transaction. (A quote.expire job without a
    // tenant ends at once, dead — it only needs to be picked up.)
    let job = NewJob::new(
        worker::QUOTE_EXPIRE_JOB,
        serde_json::json!({ "quote_id": "nenhum" }),
    );
    let id =
        t.db.tx(move |c| Box::pin(async move { jobs::enqueue(c, &job).await }))
            .await
            .unwrap();
    let enqueued = Instant::now();
    loop {
        let j = jobs::get(&t.db, &id).await.unwrap().unwrap();
        if j.attempts > 0 {
            break;
        }
        assert!(
            enqueued.elapsed() < Duration::from_secs(5),
            "the sleeping worker was not woken: job still {:?} after 5 s",
            j.status
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop_tx.send(true);
    running.await.unwrap();
    worker_db.close().await;
}

async fn count(db: &Db, sql: &str) -> i64 {
    use sqlx::Row;
    sqlx::query(sql)
        .fetch_one(db.read())
        .await
        .unwrap()
        .get::<i64, _>(0)
}
