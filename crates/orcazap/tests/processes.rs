//! Real `orcazap worker` processes against one PostgreSQL database, with the web side in
//! this test process: every message answered once, in order per contact.

mod common;

use std::collections::HashMap;

use common::{text_webhook, TestApp};

/// The test database's URL, for processes started by the test.
async fn database_url(app: &TestApp) -> String {
    use sqlx::Row;
    let name: String = sqlx::query("SELECT CAST(current_database() AS TEXT)")
        .fetch_one(app.db.read())
        .await
        .unwrap()
        .get(0);
    store::scratch::replace_db_name(&std::env::var(store::testing::POSTGRES_ENV).unwrap(), &name)
}

/// One `orcazap worker` process on `url`, sending to the test's mock Graph API.
fn worker_process(app: &TestApp, url: &str, i: usize, concurrency: usize) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_orcazap"))
        .arg("worker")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ORCAZAP_DATABASE_URL", url)
        .env(
            "ORCAZAP_SECRET_KEY",
            "test-secret-key-material-0123456789abcdef",
        )
        .env("ORCAZAP_WHATSAPP_API_BASE", &app.graph.url)
        .env("ORCAZAP_WORKER_CONCURRENCY", concurrency.to_string())
        .env("ORCAZAP_AUTO_MIGRATE", "false")
        .env("ORCAZAP_LISTEN", "127.0.0.1:0")
        .env("ORCAZAP_LOG", "warn")
        .env("HOSTNAME", format!("proc-{i}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("worker process starts")
}

/// Issue 14 item 3: a backlog from many contacts (three messages each, queued before any
/// worker runs) drained by three real `orcazap worker` processes on one PostgreSQL. Every
/// message is processed, every reply sent exactly once (the wamids the mock Graph API handed
/// out are exactly the ones stored, one per outbound message), each contact's replies reach
/// Meta in the order they were written, no job ran twice, and all three processes worked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_worker_processes_drain_a_backlog_once_and_in_order() {
    let Some(app) = TestApp::start(store::Engine::Postgres).await else {
        return;
    };
    let url = database_url(&app).await;
    let contacts = 40;
    let script = [
        "oi",
        "10 sacos de cimento e 2 metros de areia média",
        "entrega amanhã no Grajaú, pago no pix",
    ];
    for (round, text) in script.iter().enumerate() {
        for c in 0..contacts {
            let status = app
                .webhook(&text_webhook(
                    &format!("55119500{c:05}"),
                    &format!("wamid.P3-{round}-{c}"),
                    text,
                ))
                .await
                .status();
            assert_eq!(status, 200);
        }
    }
    let queued = app
        .count("SELECT COUNT(*) FROM jobs WHERE status = 'ready' AND kind = 'conversation.advance'")
        .await;
    assert_eq!(
        queued,
        3 * contacts,
        "one job per message waits in the queue"
    );
    let mut children: Vec<_> = (0..3).map(|i| worker_process(&app, &url, i, 4)).collect();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let pending = app
            .count("SELECT COUNT(*) FROM messages WHERE (direction = 'in' AND status = 'received') OR (direction = 'out' AND status = 'pending')")
            .await;
        let unfinished = app
            .count("SELECT COUNT(*) FROM jobs WHERE status IN ('ready', 'running') AND kind IN ('conversation.advance', 'whatsapp.send')")
            .await;
        if pending == 0 && unfinished == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{pending} messages, {unfinished} jobs still pending with three worker processes"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    for c in children.iter_mut() {
        let _ = c.kill();
        let _ = c.wait();
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE direction = 'in' AND status = 'processed'")
            .await,
        3 * contacts,
        "every message processed"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE status = 'dead'")
            .await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE attempts <> 1 AND status = 'done'")
            .await,
        0,
        "no job was claimed twice"
    );
    assert_eq!(
        app.count("SELECT COUNT(DISTINCT locked_by) FROM jobs WHERE status = 'done'")
            .await,
        3,
        "the three processes shared the backlog"
    );
    // Sends per outbound message: each stored wamid was handed out by the mock exactly once,
    // and the mock handed out no other.
    let calls = app.graph.calls();
    let mut handed_out: HashMap<String, usize> = HashMap::new();
    for c in &calls {
        if let Some(w) = c.wamid() {
            *handed_out.entry(w.to_string()).or_default() += 1;
        }
    }
    let stored: Vec<String> = {
        use sqlx::Row;
        sqlx::query("SELECT provider_message_id FROM messages WHERE direction = 'out' AND provider_message_id IS NOT NULL")
            .fetch_all(app.db.read())
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<String, _>(0))
            .collect()
    };
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE direction = 'out'")
            .await,
        stored.len() as i64,
        "every outbound message has Meta's id"
    );
    assert_eq!(
        handed_out.len(),
        stored.len(),
        "one send per outbound message"
    );
    for w in &stored {
        assert_eq!(handed_out.get(w), Some(&1), "{w} sent once");
    }
    // Per contact: the replies reached Meta in the order they were written, and the last
    // one carries the quote (the three messages were read in order).
    for c in 0..contacts {
        let to = format!("55119500{c:05}");
        let sent: Vec<String> = calls
            .iter()
            .filter(|x| x.to() == to && x.wamid().is_some())
            .map(|x| x.text())
            .collect();
        let written: Vec<String> = {
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
        assert_eq!(sent, written, "replies to {to} out of order");
        assert!(
            sent.iter().any(|t| t.contains("R$\u{a0}661,05")),
            "{to} got no quote: {sent:?}"
        );
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_worker_processes_share_one_postgres() {
    let Some(app) = TestApp::start(store::Engine::Postgres).await else {
        return;
    };
    let url = {
        use sqlx::Row;
        // The test database's URL: the app's own connection string.
        let name: String = sqlx::query("SELECT CAST(current_database() AS TEXT)")
            .fetch_one(app.db.read())
            .await
            .unwrap()
            .get(0);
        store::scratch::replace_db_name(
            &std::env::var(store::testing::POSTGRES_ENV).unwrap(),
            &name,
        )
    };
    let spawn = |i: usize| {
        std::process::Command::new(env!("CARGO_BIN_EXE_orcazap"))
            .arg("worker")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("ORCAZAP_DATABASE_URL", &url)
            .env(
                "ORCAZAP_SECRET_KEY",
                "test-secret-key-material-0123456789abcdef",
            )
            .env("ORCAZAP_WHATSAPP_API_BASE", &app.graph.url)
            .env("ORCAZAP_WORKER_CONCURRENCY", "2")
            .env("ORCAZAP_AUTO_MIGRATE", "false")
            .env("ORCAZAP_LISTEN", "127.0.0.1:0")
            .env("ORCAZAP_LOG", "warn")
            .env("HOSTNAME", format!("proc-{i}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("worker process starts")
    };
    let mut children = [spawn(0), spawn(1)];
    for round in 0..2 {
        for c in 0..15 {
            let text = if round == 0 {
                "oi"
            } else {
                "10 sacos de cimento"
            };
            app.webhook(&text_webhook(
                &format!("55119600{c:05}"),
                &format!("wamid.PR{round}-{c}"),
                text,
            ))
            .await;
        }
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    loop {
        let pending = app
            .count("SELECT COUNT(*) FROM messages WHERE (direction = 'in' AND status = 'received') OR (direction = 'out' AND status = 'pending')")
            .await;
        if pending == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{pending} messages still pending with two worker processes"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    for c in children.iter_mut() {
        // SIGTERM would be the graceful path; the check below only needs them gone.
        let _ = c.kill();
        let _ = c.wait();
    }
    // Both processes were up and serving the queue (which one takes which job is up to them).
    assert_eq!(
        app.count("SELECT COUNT(*) FROM worker_heartbeats").await,
        2,
        "two worker processes registered"
    );
    let outbound = app
        .count("SELECT COUNT(*) FROM messages WHERE direction = 'out'")
        .await;
    assert_eq!(
        app.graph.calls().len() as i64,
        outbound,
        "each outbound message sent exactly once"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE direction = 'in' AND status = 'processed'")
            .await,
        30
    );
    app.stop().await;
}
