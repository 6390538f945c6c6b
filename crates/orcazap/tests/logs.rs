//! Nothing secret reaches the logs, at TRACE level, through realistic flows: webhooks with
//! signatures, the worker sending with the channel's access token, a Graph token error,
//! stores and passwords created, a password changed, secret rotation, a backup, LGPD export
//! and erase. Customer phone numbers appear only masked.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{text_webhook, TestApp, ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer;

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const SECRET_KEY: &str = "test-secret-key-material-0123456789abcdef";
const PASSWORD: &str = "Senha-Muito-Secreta-2026!";
const NEW_PASSWORD: &str = "Outra-Senha-Forte-2027?";
const CUSTOMER: &str = "5511922220000";
const OTHER: &str = "5511977776666";

async fn flows(app: &TestApp) {
    let text = "bom dia, preciso de 10 sacos de cimento e 2 metros de areia média, entrega amanhã no Grajaú, pago no pix";
    app.webhook(&text_webhook(CUSTOMER, "wamid.L1", text)).await;
    // A bad signature and a subscription check carry secrets in the request.
    app.webhook_with(
        &text_webhook(CUSTOMER, "wamid.L2", "oi"),
        Some("sha256=00".into()),
        None,
    )
    .await;
    let _ = app
        .http
        .get(app.url(&format!(
            "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=123"
        )))
        .header("host", "api.localhost")
        .send()
        .await
        .unwrap();
    app.drain().await;
    // Graph refuses the token (190): the error path logs, the token must not be in it.
    app.graph.script(
        401,
        serde_json::json!({"error": {"message": "Error validating access token", "type": "OAuthException", "code": 190}}),
    );
    app.webhook(&text_webhook(OTHER, "wamid.L3", "oi, bom dia"))
        .await;
    app.drain().await;

    orcazap::seed::create_store(
        &app.db,
        "loja-logs",
        "Loja Logs",
        "dono@logs.test",
        PASSWORD,
    )
    .await
    .unwrap();
    orcazap::seed::set_password(&app.db, "loja-logs", "dono@logs.test", NEW_PASSWORD)
        .await
        .unwrap();
    orcazap::secrets::rotate(&app.db, &app.cfg.cipher(), "test")
        .await
        .unwrap();
    let dir = std::env::temp_dir().join(format!("orcazap-logs-{}", store::new_id()));
    orcazap::backup::create(&app.db, &app.cfg.database_url, &dir.join("b"))
        .await
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    orcazap::privacy::export(&app.db, "demo", CUSTOMER)
        .await
        .unwrap();
    orcazap::privacy::erase(&app.db, "demo", CUSTOMER)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_reach_the_logs_at_trace_level() {
    let buf = Buf::default();
    let (b1, b2) = (buf.clone(), buf.clone());
    let subscriber = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(true)
                .with_writer(move || b1.clone())
                .with_filter(tracing_subscriber::filter::LevelFilter::TRACE),
        )
        .with(
            tracing_subscriber::fmt::layer()
                .compact()
                .with_ansi(false)
                .with_writer(move || b2.clone())
                .with_filter(tracing_subscriber::filter::LevelFilter::TRACE),
        );
    tracing::subscriber::set_global_default(subscriber).unwrap();

    for engine in [store::Engine::Sqlite, store::Engine::Postgres] {
        if let Some(app) = TestApp::start(engine).await {
            flows(&app).await;
            app.stop().await;
        }
    }

    let logs = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.len() > 10_000,
        "the flows did log ({} bytes)",
        logs.len()
    );
    assert!(
        logs.contains("TRACE") || logs.contains("\"level\":\"TRACE\""),
        "TRACE level was captured"
    );
    assert!(
        logs.contains(&domain::ids::mask_phone(CUSTOMER)),
        "the erase line names the customer, masked"
    );
    for (what, secret) in [
        ("access token", ACCESS_TOKEN),
        ("app secret", APP_SECRET),
        ("verify token", VERIFY_TOKEN),
        ("secret key", SECRET_KEY),
        ("password", PASSWORD),
        ("new password", NEW_PASSWORD),
        ("customer phone", CUSTOMER),
        ("other customer phone", OTHER),
    ] {
        if let Some(at) = logs.find(secret) {
            let line_start = logs[..at].rfind('\n').map(|i| i + 1).unwrap_or(0);
            let line_end = logs[at..].find('\n').map(|i| at + i).unwrap_or(logs.len());
            panic!(
                "{what} leaked into the logs: {}",
                &logs[line_start..line_end]
            );
        }
    }
}
