//! Fair across stores (issue 14 item 2): with 5,000 jobs queued for one store, another
//! store's customers are answered at once. The backlog is inserted in bulk (one statement)
//! as real `conversation.advance` jobs of store A — each one locks A's conversation and
//! finds nothing new, a real transaction per job — so the test stays fast enough for CI.
//! Without the round-robin claim, B's jobs (queued after the backlog) would wait behind all
//! 5,000 and the test fails.

use std::sync::Arc;
use std::time::{Duration, Instant};

use store::crypto::TokenCipher;
use testkit::{Answer, ExpectStatus, TestApp};

testkit::both_engines!(
    TestApp;
    another_store_is_answered_while_one_store_drains_5000_jobs,
);

const BACKLOG: i64 = 5_000;
const PROBES: usize = 20;

async fn another_store_is_answered_while_one_store_drains_5000_jobs(app: &TestApp) {
    // Store A's one real conversation, processed.
    app.customer_says(&app.demo, "5511988880000", "Cliente A", "oi")
        .await;
    let conversation_id: String = {
        use sqlx::Row;
        sqlx::query("SELECT id FROM conversations WHERE tenant_id = $1")
            .bind(&app.demo.tenant_id)
            .fetch_one(app.db.read())
            .await
            .unwrap()
            .get(0)
    };
    // 5,000 due jobs of store A in one statement, each in its own lane, all older than B's.
    let now = store::now_ms();
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
         INSERT INTO jobs (id, kind, tenant_id, serial_key, payload_json, status, attempts, max_attempts, run_at, created_at, updated_at)
         SELECT 'bulk-' || CAST(100000 + i AS TEXT), 'conversation.advance', $2, 'bulk-lane-' || CAST(i AS TEXT),
                $3, 'ready', 0, 8, $4, $4, $4
         FROM n",
    )
    .bind(BACKLOG)
    .bind(&app.demo.tenant_id)
    .bind(serde_json::json!({ "conversation_id": conversation_id }).to_string())
    .bind(now - 1_000)
    .execute(app.db.write())
    .await
    .unwrap();
    let backlog_left = || async {
        use sqlx::Row;
        sqlx::query("SELECT COUNT(*) FROM jobs WHERE tenant_id = $1 AND status = 'ready' AND serial_key LIKE 'bulk-lane-%'")
            .bind(&app.demo.tenant_id)
            .fetch_one(app.db.read())
            .await
            .unwrap()
            .get::<i64, _>(0)
    };
    assert_eq!(backlog_left().await, BACKLOG);

    // A worker as `orcazap worker` runs it: default concurrency, its own loops.
    let graph = whatsapp::graph::GraphClient::new(whatsapp::graph::GraphConfig {
        base_url: app.graph.url.clone(),
        ..Default::default()
    })
    .unwrap();
    let mut wc = worker::WorkerConfig::new("fairness-worker");
    wc.poll_interval = Duration::from_millis(20);
    let w = Arc::new(worker::Worker::new(
        app.db.clone(),
        graph,
        TokenCipher::new(b"test-secret-key-material", &[]),
        wc,
        Arc::new(tokio::sync::Notify::new()),
    ));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(w.run(stop_rx));
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Store B's customers write one every 100 ms while A's backlog drains; the mock Graph API
    // is watched every 5 ms for each one's first reply.
    let mut sent: Vec<(String, Instant)> = Vec::new();
    let mut answered: std::collections::HashMap<String, Instant> = Default::default();
    let observe = |answered: &mut std::collections::HashMap<String, Instant>| {
        let now = Instant::now();
        for c in app.graph.accepted() {
            if c.to().starts_with("55119777") {
                answered.entry(c.to().to_string()).or_insert(now);
            }
        }
    };
    for n in 0..PROBES {
        let wa_id = format!("55119777{n:05}");
        let body = whatsapp::webhook::build_text_webhook(
            &app.other.pnid,
            "5511933334444",
            &wa_id,
            Some("Cliente B"),
            &format!("wamid.FAIR{n}"),
            "oi, bom dia",
            store::now_ms() / 1000,
        );
        let at = Instant::now();
        app.webhook(body)
            .answer()
            .await
            .expect_status_because(200, "webhook accepted");
        sent.push((wa_id, at));
        let next = at + Duration::from_millis(100);
        while Instant::now() < next {
            observe(&mut answered);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while answered.len() < sent.len() {
        assert!(
            Instant::now() < deadline,
            "store B answered {} of {}",
            answered.len(),
            sent.len()
        );
        observe(&mut answered);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut latencies: Vec<Duration> = sent
        .iter()
        .map(|(wa_id, at)| answered[wa_id].saturating_duration_since(*at))
        .collect();
    let left = backlog_left().await;
    let _ = stop_tx.send(true);
    running.await.unwrap();
    latencies.sort();
    let p95 = latencies[(latencies.len() * 95).div_ceil(100) - 1];
    let max = latencies[latencies.len() - 1];
    println!(
        "store B: {} answered, p50 {:?}, p95 {p95:?}, max {max:?}; store A jobs still queued at the end: {left} of {BACKLOG}",
        latencies.len(),
        latencies[latencies.len() / 2]
    );
    assert!(
        left > 0,
        "store A's backlog drained before store B was answered: the test measured nothing"
    );
    assert!(
        p95 <= Duration::from_secs(1),
        "store B waited behind store A's backlog: p95 {p95:?} (latencies {latencies:?})"
    );
}
