//! Several workers against one database; scheduled expiry jobs.

mod common;

use std::sync::Arc;

use common::{text_webhook, TestApp};

testkit::both_engines!(
    TestApp;
    quote_validity_expiry_moves_to_lost_and_tells_the_customer,
    silent_conversation_is_lost_when_the_window_closes,
);

/// Three worker processes' worth of loops on one PostgreSQL database: every message is
/// answered exactly once and each contact's replies come in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn several_workers_on_postgres() {
    let Some(app) = TestApp::start(store::Engine::Postgres).await else {
        return;
    };
    let contacts = 12;
    for round in 0..3 {
        for c in 0..contacts {
            let text = match round {
                0 => "oi".to_string(),
                1 => "10 sacos de cimento".to_string(),
                _ => "entrega amanhã no Grajaú".to_string(),
            };
            let status = app
                .webhook(&text_webhook(
                    &format!("55119700{c:05}"),
                    &format!("wamid.MW{round}-{c}"),
                    &text,
                ))
                .await
                .status();
            assert_eq!(status, 200);
        }
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut handles = Vec::new();
    for i in 0..3 {
        let mut wc = worker::WorkerConfig::new(format!("mw-{i}"));
        wc.concurrency = 3;
        wc.poll_interval = std::time::Duration::from_millis(50);
        let w = Arc::new(worker::Worker::new(
            app.db.clone(),
            orcazap::run::graph_client(&app.cfg).unwrap(),
            app.cfg.cipher(),
            wc,
            Arc::new(tokio::sync::Notify::new()),
        ));
        handles.push(tokio::spawn(w.run(stop_rx.clone())));
    }
    // Wait (bounded) until every inbound message is processed and every reply sent.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let pending = app.count("SELECT COUNT(*) FROM messages WHERE (direction = 'in' AND status = 'received') OR (direction = 'out' AND status = 'pending')").await;
        if pending == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{pending} messages still pending"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let _ = stop_tx.send(true);
    for h in handles {
        h.await.unwrap();
    }
    let calls = app.graph.calls();
    let outbound = app
        .count("SELECT COUNT(*) FROM messages WHERE direction = 'out'")
        .await;
    assert_eq!(
        calls.len() as i64,
        outbound,
        "every outbound message sent exactly once"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE status = 'dead'")
            .await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE direction = 'in' AND status = 'processed'")
            .await,
        3 * contacts as i64
    );
    // Per contact, the Graph API saw the replies in the order they were written.
    for c in 0..contacts {
        let to = format!("55119700{c:05}");
        let sent: Vec<String> = calls
            .iter()
            .filter(|x| x.to() == to)
            .map(|x| x.text())
            .collect();
        let stored: Vec<String> = {
            use sqlx::Row;
            sqlx::query("SELECT m.body FROM messages m JOIN contacts k ON k.id = m.contact_id WHERE k.wa_id = $1 AND m.direction = 'out' ORDER BY m.created_at, m.id")
                .bind(&to)
                .fetch_all(app.db.read())
                .await
                .unwrap()
                .iter()
                .map(|r| r.get::<String, _>(0))
                .collect()
        };
        assert_eq!(sent, stored, "replies to {to} out of order");
    }
    app.stop().await;
}

async fn quote_validity_expiry_moves_to_lost_and_tells_the_customer(app: &TestApp) {
    app.webhook(&text_webhook(
        "5511912340000",
        "wamid.E1",
        "10 sacos de cimento, entrega amanhã no Grajaú, pix",
    ))
    .await;
    app.drain().await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM quotes WHERE status = 'sent'")
            .await,
        1
    );
    // Time passes: the quote's validity and its scheduled job are due now.
    sqlx::query("UPDATE quotes SET valid_until = $1")
        .bind(store::now_ms() - 1000)
        .execute(app.db.write())
        .await
        .unwrap();
    sqlx::query("UPDATE jobs SET run_at = $1 WHERE kind = 'quote.expire'")
        .bind(store::now_ms() - 1000)
        .execute(app.db.write())
        .await
        .unwrap();
    let before = app.graph.calls().len();
    while app.worker.run_once().await.unwrap().is_some() {}
    app.drain().await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM quotes WHERE status = 'expired'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM conversations WHERE state = 'LOST'")
            .await,
        1
    );
    let calls = app.graph.calls();
    assert_eq!(
        calls.len(),
        before + 1,
        "the customer is told while the window is open"
    );
    assert!(
        calls.last().unwrap().text().contains("ORC-"),
        "{}",
        calls.last().unwrap().text()
    );
}

async fn silent_conversation_is_lost_when_the_window_closes(app: &TestApp) {
    app.webhook(&text_webhook(
        "5511912350000",
        "wamid.W1",
        "10 sacos de cimento",
    ))
    .await;
    app.drain().await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM conversations WHERE state = 'CAPTURE_MIN'")
            .await,
        1
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'conversation.window_expire' AND status = 'ready'").await, 1);
    // 24 h later, nothing from the customer.
    sqlx::query("UPDATE conversations SET window_expires_at = $1")
        .bind(store::now_ms() - 1000)
        .execute(app.db.write())
        .await
        .unwrap();
    sqlx::query("UPDATE jobs SET run_at = $1 WHERE kind = 'conversation.window_expire'")
        .bind(store::now_ms() - 1000)
        .execute(app.db.write())
        .await
        .unwrap();
    let before = app.graph.calls().len();
    while app.worker.run_once().await.unwrap().is_some() {}
    assert_eq!(
        app.count("SELECT COUNT(*) FROM conversations WHERE state = 'LOST'")
            .await,
        1
    );
    assert_eq!(
        app.graph.calls().len(),
        before,
        "outside the window only templates may be sent: nothing goes out"
    );
}
