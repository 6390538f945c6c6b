//! The application under test: a real server on port 0 assembled as `orcazap` assembles it
//! ([`web::AppState::new`]), a fresh database with two demo stores ([`store::seed`]), the mock
//! Graph API and a worker driven one job at a time.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HOST;
use secrecy::SecretString;
use store::crypto::TokenCipher;
use store::seed::{SeedChannel, SeedUser, StoreSeed};
use store::testing::{Fixture, TestDb};
use store::Engine;
use tokio::sync::Notify;
use web::{AppState, Application, WebConfig};
use worker::{Worker, WorkerConfig};

use crate::graph::MockGraph;
use crate::html::{cookie_from, hidden_csrf, meta_csrf, session_cookie};
use crate::request::{Answer, ExpectStatus};
use crate::smtp::{SmtpMessage, SmtpSink};

pub const APP_SECRET: &str = "test-app-secret";
pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";
pub const OWNER_EMAIL: &str = "dona@demo.com.br";
pub const ATTENDANT_EMAIL: &str = "balcao@demo.com.br";
pub const PASSWORD: &str = "cimento areia brita 2026";
/// The stores' access token; the mock Graph API accepts no other.
pub const GRAPH_TOKEN: &str = "EAAG-test-token";
/// The sender the test worker writes e-mail from.
pub const MAIL_FROM: &str = "OrçaZap <nao-responda@orcazap.test>";

pub struct Store {
    pub tenant_id: String,
    pub pnid: String,
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub db: store::Db,
    pub worker: Worker,
    /// The shared mock Graph API (Meta's wire format and limits).
    pub graph: MockGraph,
    pub demo: Store,
    pub other: Store,
    /// The local SMTP server the worker sends the product's e-mail to.
    pub smtp: SmtpSink,
    pub http: reqwest::Client,
    _testdb: TestDb,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

/// The demo store ([`store::seed`]) under another name, with this kit's logins and token.
async fn seed_store(
    db: &store::Db,
    cipher: &TokenCipher,
    slug: &str,
    name: &str,
    pnid: &str,
) -> Store {
    let hash = web::auth::password::hash(PASSWORD).unwrap();
    let user = |email: &str, name: &str| SeedUser {
        email: email.into(),
        name: name.into(),
        password_hash: hash.clone(),
    };
    let seed = StoreSeed {
        slug: slug.into(),
        name: name.into(),
        city: "São Paulo".into(),
        owner: user(OWNER_EMAIL, "Dona Maria"),
        attendant: user(ATTENDANT_EMAIL, "João do Balcão"),
        channel: SeedChannel {
            phone_number_id: pnid.into(),
            waba_id: "200000000000001".into(),
            display_number: "+55 11 3333-4444".into(),
            access_token_enc: Some(cipher.encrypt(GRAPH_TOKEN)),
            key_version: cipher.current_key_id().as_i64(),
        },
    };
    let seeded = store::seed::seed_store(db, seed).await.unwrap();
    assert!(seeded.created, "a fresh database has no {slug:?}");
    Store {
        tenant_id: seeded.tenant_id,
        pnid: pnid.into(),
    }
}

/// A message the product sent and Meta would refuse is a bug the customer pays for: every
/// test using this harness fails on one (checked when the app is dropped, unless the test
/// already failed).
impl Drop for TestApp {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        self.graph.assert_no_unexpected_refusal();
    }
}

impl TestApp {
    /// None when the engine is not available here (PostgreSQL without its env var).
    pub async fn start(engine: Engine) -> Option<TestApp> {
        TestApp::start_with_admin(engine, Some(ADMIN_TOKEN)).await
    }

    /// `admin_token` is `ORCAZAP_ADMIN_TOKEN` (None: the operator page is off).
    pub async fn start_with_admin(engine: Engine, admin_token: Option<&str>) -> Option<TestApp> {
        let admin = admin_token.map(SecretString::from);
        TestApp::start_with(engine, move |c| c.admin_token = admin).await
    }

    /// A server whose configuration `configure` adjusts (e.g. trusted proxies).
    pub async fn start_with(
        engine: Engine,
        configure: impl FnOnce(&mut WebConfig),
    ) -> Option<TestApp> {
        let testdb = TestDb::new(engine).await?;
        let db = testdb.db.clone();
        let cipher = TokenCipher::new(b"test-secret-key-material", &[]);
        let demo = seed_store(&db, &cipher, "demo", "Depósito Demo", "100000000000001").await;
        let other = seed_store(&db, &cipher, "outra", "Outra Loja", "100000000000002").await;

        let graph_mock = MockGraph::start(GRAPH_TOKEN).await;
        let smtp = SmtpSink::start().await;

        let app = Application::bind("127.0.0.1:0").await.unwrap();
        let addr = app.local_addr().unwrap();
        let wake = Arc::new(Notify::new());
        let mut cfg = WebConfig {
            base_domain: "localhost".into(),
            https: false,
            whatsapp_app_secret: Some(SecretString::from(APP_SECRET)),
            whatsapp_verify_token: None,
            metrics_token: None,
            admin_token: Some(SecretString::from(ADMIN_TOKEN)),
            trusted_proxies: Vec::new(),
            // Meta documents webhook payloads of up to 3 MB, as the binary's default.
            webhook_body_limit: 3 * 1024 * 1024,
            form_body_limit: 256 * 1024,
            heartbeat_max_age: Duration::from_secs(60),
            demo: false,
            demo_phone_number_id: "100000000000001".into(),
            self_url: format!("http://{addr}"),
            billing: None,
            llm_budget_cents: None,
            email_on: true,
            admin_totp_secret: None,
            // The dashboard's Graph calls (Embedded Signup, connection health) reach the mock.
            graph: Some(
                whatsapp::graph::GraphClient::new(whatsapp::graph::GraphConfig {
                    base_url: graph_mock.url.clone(),
                    ..Default::default()
                })
                .unwrap(),
            ),
            embedded_signup: None,
        };
        configure(&mut cfg);
        let state = AppState::new(db.clone(), cfg, cipher.clone(), wake.clone(), None).unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            app.serve(state, async move {
                rx.await.ok();
            })
            .await
            .ok();
        });
        let graph = whatsapp::graph::GraphClient::new(whatsapp::graph::GraphConfig {
            base_url: graph_mock.url.clone(),
            ..Default::default()
        })
        .unwrap();
        let mut worker_cfg = WorkerConfig::new("test-worker");
        // Quote links point at this server's public site (`localhost:PORT`).
        worker_cfg.public_url = format!("http://localhost:{}", addr.port());
        worker_cfg.mail = worker::email::MailConfig {
            smtp_url: Some(smtp.url.clone()),
            from: MAIL_FROM.into(),
            log_when_off: false,
            timeout: Duration::from_secs(5),
        };
        let worker = Worker::new(db.clone(), graph, cipher, worker_cfg, wake);
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Some(TestApp {
            addr,
            db,
            worker,
            graph: graph_mock,
            demo,
            other,
            smtp,
            http,
            _testdb: testdb,
            _shutdown: tx,
        })
    }

    pub fn host(&self, slug: &str) -> String {
        format!("{slug}.localhost:{}", self.addr.port())
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn get(&self, slug: &str, path: &str, cookie: Option<&str>) -> reqwest::RequestBuilder {
        let mut r = self.http.get(self.url(path)).header(HOST, self.host(slug));
        if let Some(c) = cookie {
            r = r.header("cookie", format!("oz_session={c}"));
        }
        r
    }

    /// The body of a GET that must reach the app (any status), as a person's browser shows it.
    pub async fn page(&self, slug: &str, path: &str, cookie: Option<&str>) -> String {
        self.get(slug, path, cookie)
            .answer()
            .await
            .text()
            .await
            .expect("body is text")
    }

    pub fn post(
        &self,
        slug: &str,
        path: &str,
        cookie: Option<&str>,
        form: &[(&str, &str)],
    ) -> reqwest::RequestBuilder {
        let mut r = self
            .http
            .post(self.url(path))
            .header(HOST, self.host(slug))
            .form(form);
        if let Some(c) = cookie {
            r = r.header("cookie", format!("oz_session={c}"));
        }
        r
    }

    /// A customer message through the signed webhook, then the worker until the queue is
    /// empty (the bot answers or asks for approval).
    pub async fn customer_says(&self, store: &Store, from: &str, name: &str, text: &str) {
        let body = whatsapp::webhook::build_text_webhook(
            &store.pnid,
            "5511933334444",
            from,
            Some(name),
            &format!("wamid.T{}", uuid::Uuid::new_v4().simple()),
            text,
            store::now_ms() / 1000,
        );
        self.webhook(body)
            .answer()
            .await
            .expect_status_because(200, "webhook accepted");
        self.drain().await;
    }

    /// The message bodies Meta would have delivered, in order.
    pub fn graph_accepted(&self) -> Vec<serde_json::Value> {
        self.graph.accepted().into_iter().map(|c| c.body).collect()
    }

    pub async fn drain(&self) {
        for _ in 0..50 {
            match self.worker.run_once().await.unwrap() {
                Some(_) => continue,
                None => return,
            }
        }
    }

    /// Runs queued jobs (e-mail among them; e-mails may be queued by a task that runs after
    /// the answer) until `to` has received `n` e-mails, or fails after 5 s.
    pub async fn mail_to(&self, to: &str, n: usize) -> Vec<SmtpMessage> {
        for _ in 0..100 {
            let got = self.smtp.to(to);
            if got.len() >= n {
                return got;
            }
            if self.worker.run_once().await.unwrap().is_none() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        panic!("{to} got {} e-mails, expected {n}", self.smtp.to(to).len());
    }

    pub async fn pending_approval(&self, store: &Store) -> Option<(String, String)> {
        let a = store::quotes::approvals(
            &self.db,
            &store.tenant_id,
            domain::status::ApprovalStatus::Pending,
            10,
        )
        .await
        .unwrap();
        a.first().map(|a| (a.id.clone(), a.quote_id.clone()))
    }

    /// Signs in through the real form; returns the session token.
    pub async fn login(
        &self,
        slug: &str,
        email: &str,
        password: &str,
    ) -> Result<String, reqwest::Response> {
        let (csrf, login_cookie) = self.login_form(slug).await;
        let r = self
            .http
            .post(self.url("/login"))
            .header(HOST, self.host(slug))
            .header("cookie", format!("oz_login_csrf={login_cookie}"))
            .form(&[("email", email), ("password", password), ("csrf", &csrf)])
            .answer()
            .await;
        match session_cookie(r.headers()) {
            Some(tok) if r.status() == 303 && !tok.is_empty() => Ok(tok),
            _ => Err(r),
        }
    }

    /// The login form's CSRF field and its double-submit cookie.
    pub async fn login_form(&self, slug: &str) -> (String, String) {
        let r = self.get(slug, "/login", None).answer().await;
        let cookie = cookie_from(r.headers(), "oz_login_csrf").expect("login csrf cookie");
        let html = r.text().await.unwrap();
        (hidden_csrf(&html).expect("csrf field"), cookie)
    }

    /// The session's CSRF token, from the page's meta tag.
    pub async fn csrf(&self, slug: &str, session: &str) -> String {
        let html = self
            .get(slug, "/", Some(session))
            .answer()
            .await
            .text()
            .await
            .unwrap();
        meta_csrf(&html).expect("csrf meta")
    }
}

impl Fixture for TestApp {
    async fn start(engine: Engine) -> Option<TestApp> {
        TestApp::start(engine).await
    }
}
