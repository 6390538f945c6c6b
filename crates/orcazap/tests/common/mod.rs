//! Black-box test harness: the real application (web on port 0, worker stepped one job at a
//! time) on a fresh database of either engine, with a local mock of Meta's Graph API.

#![allow(dead_code)] // each test binary uses a different part of the harness

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use orcazap::config::Config;
use orcazap::run::{self, DemoOptions, Roles, Running};
use store::testing::TestDb;
use store::Engine;

pub const APP_SECRET: &str = "test-app-secret";
pub const VERIFY_TOKEN: &str = "test-verify-token";
pub const ACCESS_TOKEN: &str = "EAAG-test-access-token";

/// One request the mock Graph API received.
#[derive(Debug, Clone)]
pub struct GraphCall {
    pub phone_number_id: String,
    pub authorization: String,
    pub request_id: Option<String>,
    pub body: serde_json::Value,
}

impl GraphCall {
    pub fn to(&self) -> &str {
        self.body["to"].as_str().unwrap_or_default()
    }

    /// The text of a text or interactive message.
    pub fn text(&self) -> String {
        self.body["text"]["body"]
            .as_str()
            .or_else(|| self.body["interactive"]["body"]["text"].as_str())
            .unwrap_or_default()
            .to_string()
    }

    pub fn is_interactive(&self) -> bool {
        self.body["type"] == "interactive"
    }
}

#[derive(Default)]
struct MockState {
    calls: Vec<GraphCall>,
    /// Scripted answers (status, body); when empty, success.
    script: VecDeque<(u16, serde_json::Value)>,
    counter: u64,
}

#[derive(Clone)]
pub struct MockGraph {
    pub url: String,
    state: Arc<Mutex<MockState>>,
}

impl MockGraph {
    pub async fn start() -> MockGraph {
        let state = Arc::new(Mutex::new(MockState::default()));
        let app = Router::new()
            .route("/{version}/{pnid}/messages", post(mock_send))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        MockGraph {
            url: format!("http://{addr}"),
            state,
        }
    }

    /// The next answers, in order (e.g. a fixture error body).
    pub fn script(&self, status: u16, body: serde_json::Value) {
        self.state.lock().unwrap().script.push_back((status, body));
    }

    pub fn calls(&self) -> Vec<GraphCall> {
        self.state.lock().unwrap().calls.clone()
    }
}

async fn mock_send(
    State(state): State<Arc<Mutex<MockState>>>,
    Path((_version, pnid)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<serde_json::Value>,
) -> impl IntoResponse {
    let mut s = state.lock().unwrap();
    s.calls.push(GraphCall {
        phone_number_id: pnid,
        authorization: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string(),
        request_id: headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        body: body.clone(),
    });
    if let Some((status, body)) = s.script.pop_front() {
        return (StatusCode::from_u16(status).unwrap(), Json(body));
    }
    s.counter += 1;
    let to = body["to"].clone();
    (
        StatusCode::OK,
        Json(serde_json::json!({
            "messaging_product": "whatsapp",
            "contacts": [{ "input": to, "wa_id": to }],
            "messages": [{ "id": format!("wamid.MOCK-{}", s.counter) }]
        })),
    )
}

pub struct TestApp {
    pub db: store::Db,
    pub graph: MockGraph,
    pub addr: SocketAddr,
    pub worker: Arc<worker::Worker>,
    pub cfg: Config,
    pub http: reqwest::Client,
    running: Option<Running>,
    _tdb: TestDb,
}

pub fn config_for(url: &str, graph_url: &str) -> Config {
    let vars: HashMap<String, String> = [
        ("ORCAZAP_DATABASE_URL", url),
        ("ORCAZAP_LISTEN", "127.0.0.1:0"),
        (
            "ORCAZAP_SECRET_KEY",
            "test-secret-key-material-0123456789abcdef",
        ),
        ("ORCAZAP_WHATSAPP_APP_SECRET", APP_SECRET),
        ("ORCAZAP_WHATSAPP_VERIFY_TOKEN", VERIFY_TOKEN),
        ("ORCAZAP_WHATSAPP_API_BASE", graph_url),
        ("ORCAZAP_WEBHOOK_BODY_LIMIT", "65536"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    Config::from_map(&vars).expect("test config is valid")
}

impl TestApp {
    /// None when the engine is not available here (PostgreSQL without its URL, outside CI).
    pub async fn start(engine: Engine) -> Option<TestApp> {
        let tdb = TestDb::new(engine).await?;
        let graph = MockGraph::start().await;
        let cfg = config_for(&tdb.url, &graph.url);
        orcazap::seed::seed_demo(&tdb.db, &cfg.cipher(), Some(ACCESS_TOKEN))
            .await
            .expect("seed");
        let running = run::start(
            cfg.clone(),
            tdb.db.clone(),
            Roles::WebOnly,
            DemoOptions::default(),
            None,
        )
        .await
        .expect("app starts");
        let addr = running.addr.expect("web listens");
        let wake = running
            .state
            .as_ref()
            .map(|s| s.wake.clone())
            .unwrap_or_default();
        let mut wc = worker::WorkerConfig::new("test-worker");
        wc.retry_base = std::time::Duration::from_millis(1);
        wc.retry_cap = std::time::Duration::from_millis(5);
        // Tiny backoffs so retries happen within the test.
        let graph_client = whatsapp::graph::GraphClient::new(whatsapp::graph::GraphConfig {
            base_url: graph.url.clone(),
            api_version: "v25.0".into(),
            connect_timeout: std::time::Duration::from_secs(2),
            request_timeout: std::time::Duration::from_secs(5),
            retry: whatsapp::graph::RetryPolicy {
                max_attempts: 4,
                base_delay: std::time::Duration::from_millis(5),
                max_delay: std::time::Duration::from_millis(20),
            },
        })
        .unwrap();
        let worker = Arc::new(worker::Worker::new(
            tdb.db.clone(),
            graph_client,
            cfg.cipher(),
            wc,
            wake,
        ));
        Some(TestApp {
            db: tdb.db.clone(),
            graph,
            addr,
            worker,
            cfg,
            http: reqwest::Client::new(),
            running: Some(running),
            _tdb: tdb,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// POSTs a webhook body to api.localhost with a valid signature.
    pub async fn webhook(&self, body: &str) -> reqwest::Response {
        self.webhook_with(
            body,
            Some(whatsapp::signature::sign(
                APP_SECRET.as_bytes(),
                body.as_bytes(),
            )),
            None,
        )
        .await
    }

    pub async fn webhook_with(
        &self,
        body: &str,
        signature: Option<String>,
        request_id: Option<&str>,
    ) -> reqwest::Response {
        let mut req = self
            .http
            .post(self.url("/webhooks/whatsapp"))
            .header("host", "api.localhost")
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(s) = signature {
            req = req.header("x-hub-signature-256", s);
        }
        if let Some(r) = request_id {
            req = req.header("x-request-id", r);
        }
        req.send().await.expect("request reaches the app")
    }

    /// Runs ready jobs until none is left (bounded, so a bug cannot hang the test).
    pub async fn drain(&self) -> Vec<(store::jobs::Job, worker::Outcome)> {
        let mut done = Vec::new();
        for _ in 0..500 {
            match self.worker.run_once().await.expect("worker step") {
                Some(x) => done.push(x),
                None => {
                    // A retry may be scheduled a few ms ahead.
                    let pending = store::jobs::list(&self.db, Some("ready"), 50)
                        .await
                        .unwrap();
                    if pending.iter().any(|j| {
                        j.run_at <= store::now_ms() + 200
                            && j.kind != worker::WINDOW_EXPIRE_JOB
                            && j.kind != worker::QUOTE_EXPIRE_JOB
                    }) {
                        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                        continue;
                    }
                    break;
                }
            }
        }
        done
    }

    pub async fn demo_tenant(&self) -> store::tenants::Tenant {
        store::tenants::by_slug(&self.db, "demo")
            .await
            .unwrap()
            .unwrap()
    }

    pub async fn count(&self, sql: &str) -> i64 {
        use sqlx::Row;
        sqlx::query(sql)
            .fetch_one(self.db.read())
            .await
            .unwrap()
            .get::<i64, _>(0)
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }
}

pub fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../../fixtures/whatsapp/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

pub fn text_webhook(from: &str, wamid: &str, text: &str) -> String {
    whatsapp::webhook::build_text_webhook(
        "100000000000001",
        "5511933334444",
        from,
        Some("Cliente Teste"),
        wamid,
        text,
        1_764_316_800,
    )
}

/// Declares one test per engine for each scenario function `async fn name(app: &TestApp)`.
#[macro_export]
macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { if let Some(app) = $crate::common::TestApp::start(store::Engine::Sqlite).await { super::$name(&app).await; app.stop().await; } } )*
        }
        mod postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { if let Some(app) = $crate::common::TestApp::start(store::Engine::Postgres).await { super::$name(&app).await; app.stop().await; } } )*
        }
    };
}
