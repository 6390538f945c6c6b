//! Real `orcazap worker` processes against one PostgreSQL database, with the web side in
//! this test process: every message answered once, in order per contact.

mod common;

use common::{text_webhook, TestApp};

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
