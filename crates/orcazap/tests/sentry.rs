//! Error tracking end to end: a local endpoint plays Sentry and receives the envelopes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::post;
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;

type Seen = Arc<Mutex<Vec<(String, String, String)>>>;

async fn receive(
    State(seen): State<Seen>,
    Path(project): Path<String>,
    headers: HeaderMap,
    body: String,
) -> &'static str {
    let auth = headers
        .get("x-sentry-auth")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    seen.lock().unwrap().push((project, auth, body));
    "{}"
}

fn event_of(envelope: &str) -> serde_json::Value {
    let lines: Vec<&str> = envelope.lines().collect();
    assert_eq!(lines.len(), 3, "header, item header, event: {envelope}");
    let item: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(item["type"], "event");
    assert_eq!(item["length"].as_u64().unwrap() as usize, lines[2].len());
    serde_json::from_str(lines[2]).unwrap()
}

async fn wait_for(seen: &Seen, n: usize) {
    for _ in 0..300 {
        if seen.lock().unwrap().len() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("expected {n} envelopes, got {}", seen.lock().unwrap().len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_and_panics_arrive_scrubbed_and_tagged() {
    let seen: Seen = Arc::default();
    let app = axum::Router::new()
        .route("/api/{project}/envelope/", post(receive))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let layer =
        orcazap::sentry::SentryLayer::new(&format!("http://publickey@{addr}/77"), "production")
            .unwrap();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer.clone()))
        .unwrap();
    layer.install_panic_hook();

    let token = "EAAGm0PBZCsecretaccesstoken1234567890";
    let span = tracing::info_span!(
        "job",
        kind = "send_message",
        tenant_id = "tenant-123",
        request_id = "req-abc"
    );
    async {
        tracing::info!("not an error: never sent");
        tracing::error!(
            access_token = token,
            password = "hunter2-senha",
            body = "quero 10 sacos de cimento",
            phone = "5511987654321",
            code = 190,
            "Graph falhou para 5511987654321 com Bearer {token} e senha=hunter2-senha"
        );
    }
    .instrument(span)
    .await;
    wait_for(&seen, 1).await;

    let (project, auth, envelope) = seen.lock().unwrap()[0].clone();
    assert_eq!(project, "77");
    assert!(
        auth.contains("sentry_key=publickey") && auth.contains("sentry_version=7"),
        "{auth}"
    );
    for secret in [token, "hunter2", "cimento", "5511987654321"] {
        assert!(!envelope.contains(secret), "{secret} leaked: {envelope}");
    }
    let ev = event_of(&envelope);
    assert_eq!(ev["level"], "error");
    assert_eq!(ev["environment"], "production");
    assert_eq!(ev["tags"]["job_kind"], "send_message");
    assert_eq!(ev["tags"]["tenant_id"], "tenant-123");
    assert_eq!(ev["tags"]["request_id"], "req-abc");
    assert_eq!(ev["extra"]["code"], "190");
    assert_eq!(ev["extra"]["access_token"], orcazap::sentry::FILTERED);
    assert_eq!(ev["extra"]["phone"], "5511*******21");
    let msg = ev["message"]["formatted"].as_str().unwrap();
    assert!(
        msg.starts_with("Graph falhou para 5511*******21 com Bearer [filtrado]"),
        "{msg}"
    );

    // A panic in a task is reported too (the default hook still runs after).
    let span = tracing::info_span!("http", request_id = "req-panic");
    let h = tokio::spawn(
        async move {
            let v: Vec<u8> = Vec::new();
            if v.is_empty() {
                panic!("boom with token={}", "EAAGsupersecret0000000000000");
            }
        }
        .instrument(span),
    );
    assert!(h.await.is_err());
    wait_for(&seen, 2).await;
    let (_, _, envelope) = seen.lock().unwrap()[1].clone();
    assert!(!envelope.contains("EAAGsupersecret"), "{envelope}");
    let ev = event_of(&envelope);
    assert_eq!(ev["tags"]["panic"], "true");
    assert_eq!(ev["tags"]["request_id"], "req-panic");
    assert!(ev["message"]["formatted"]
        .as_str()
        .unwrap()
        .starts_with("panic: boom"));
    assert_eq!(seen.lock().unwrap().len(), 2, "info events are not sent");
}
