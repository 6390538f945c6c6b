//! The surfaces only the real binary shows (issue 19 item 4, issue 10's HTTP findings): each
//! test starts `orcazap` as a process in a temporary directory and talks to it over HTTP or a
//! raw socket — `orcazap demo` as the README runs it, `/metrics` with and without its token,
//! production's refusal to serve without one, HTTPS mode, the server's connection timeouts,
//! the development key file's mode and the monitoring contract. Database-backed checks run
//! on SQLite and, with `ORCAZAP_TEST_POSTGRES_URL`, on PostgreSQL.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use store::testing::TestDb;
use store::Engine;

const SECRET_KEY: &str = "test-secret-key-material-0123456789abcdef";
const METRICS_TOKEN: &str = "metrics-token-0123456789abcdef0123456789";
const PASSWORD: &str = "cimento areia brita 2026";
/// The README's example message; the demo store quotes it at R$ 661,05 (tests/pipeline.rs).
const QUOTE_REQUEST: &str = "bom dia, preciso de 10 sacos de cimento e 2 metros de areia média, entrega amanhã no Grajaú, pago no pix";

/// A scratch working directory, removed at the end.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let mut b = [0u8; 8];
        rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut b);
        let p = std::env::temp_dir().join(format!("orcazap-{tag}-{}", hex::encode(b)));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running `orcazap` process; its stdout and stderr lines arrive on channels.
struct Proc {
    child: Child,
    stdout: mpsc::Receiver<String>,
    stderr: mpsc::Receiver<String>,
    seen: Vec<String>,
}

fn lines_of(r: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn orcazap(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_orcazap"));
    c.args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ORCAZAP_LISTEN", "127.0.0.1:0")
        .env("ORCAZAP_LOG_FORMAT", "json")
        .env("ORCAZAP_LOG", "info,sqlx=warn");
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

impl Proc {
    fn spawn(mut cmd: Command) -> Proc {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("orcazap starts");
        let stdout = lines_of(child.stdout.take().unwrap());
        let stderr = lines_of(child.stderr.take().unwrap());
        Proc {
            child,
            stdout,
            stderr,
            seen: Vec::new(),
        }
    }

    /// The first line (stdout or stderr) `pick` accepts, within a generous bound so a broken
    /// start fails the test instead of hanging it.
    fn wait_for<T>(&mut self, what: &str, pick: impl Fn(&str) -> Option<T>) -> T {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            for rx in [&self.stdout, &self.stderr] {
                while let Ok(line) = rx.try_recv() {
                    if let Some(x) = pick(&line) {
                        return x;
                    }
                    self.seen.push(line);
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "orcazap exited ({status}) before {what}:\n{}",
                    self.seen.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("no {what} within 60 s:\n{}", self.seen.join("\n"));
    }

    /// The port from the "listening" log line of `serve`.
    fn port_from_log(&mut self) -> u16 {
        self.wait_for("the listening line", |line| {
            let v: serde_json::Value = serde_json::from_str(line).ok()?;
            (v["message"] == "listening")
                .then(|| v["addr"].as_str()?.rsplit(':').next()?.parse().ok())
                .flatten()
        })
    }

    /// SIGTERM, then the exit status (bounded).
    fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("orcazap did not stop within 30 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for the process to exit by itself; its status and everything it wrote.
    fn exit(mut self) -> (std::process::ExitStatus, String) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "orcazap did not exit");
            std::thread::sleep(Duration::from_millis(50));
        };
        // Read until each reader thread hangs up (the pipe closed with the process), so
        // the last lines are never lost to a race; bounded in case a grandchild holds it.
        for rx in [&self.stdout, &self.stderr] {
            while let Ok(l) = rx.recv_timeout(Duration::from_secs(10)) {
                self.seen.push(l);
            }
        }
        (status, self.seen.join("\n"))
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// A request to the process on 127.0.0.1:port naming `host`.
fn req(
    http: &reqwest::Client,
    method: reqwest::Method,
    port: u16,
    host: &str,
    path: &str,
) -> reqwest::RequestBuilder {
    http.request(method, format!("http://127.0.0.1:{port}{path}"))
        .header(reqwest::header::HOST, host)
}

fn cookie(resp: &reqwest::Response, name: &str) -> Option<(String, String)> {
    resp.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|l| l.starts_with(&format!("{name}=")))
        .map(|l| {
            let value = l[name.len() + 1..].split(';').next().unwrap().to_string();
            (value, l.to_string())
        })
}

// ---------------------------------------------------------------------------------------
// `orcazap demo`, as the README runs it
// ---------------------------------------------------------------------------------------

struct Demo {
    proc: Proc,
    port: u16,
    dir: TempDir,
    http: reqwest::Client,
}

impl Demo {
    fn start() -> Demo {
        let dir = TempDir::new("demo");
        let mut proc = Proc::spawn(orcazap(&dir.0, &["demo"], &[("ORCAZAP_LOG", "warn")]));
        // The line the README promises: the simulator URL on BASE (localhost).
        let port: u16 = proc.wait_for("the simulator URL", |line| {
            let url = line.split("Simulador de WhatsApp:").nth(1)?.trim();
            let rest = url.strip_prefix("http://localhost:")?;
            rest.strip_suffix("/simulator")?.parse().ok()
        });
        proc.wait_for("the dashboard URL", |line| {
            line.contains(&format!("http://demo.localhost:{port}/"))
                .then_some(())
        });
        Demo {
            proc,
            port,
            dir,
            http: client(),
        }
    }

    fn base(&self) -> String {
        format!("localhost:{}", self.port)
    }

    fn get(&self, host: &str, path: &str) -> reqwest::RequestBuilder {
        req(&self.http, reqwest::Method::GET, self.port, host, path)
    }

    /// Writes as `phone` through the simulator page; the simulator's view cookie.
    async fn say(&self, phone: &str, text: &str, view: Option<&str>) -> String {
        let mut r = req(
            &self.http,
            reqwest::Method::POST,
            self.port,
            &self.base(),
            "/simulator/send",
        )
        .json(&serde_json::json!({ "phone": phone, "name": "Cliente", "text": text }));
        if let Some(v) = view {
            r = r.header("cookie", format!("oz_sim={v}"));
        }
        let r = r.send().await.unwrap();
        assert_eq!(r.status(), 200, "simulator send");
        let (v, _) = cookie(&r, "oz_sim").expect("the simulator's view cookie");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["status"], 200, "the signed webhook was accepted");
        v
    }

    async fn replies(&self, host: &str, phone: &str, view: Option<&str>) -> reqwest::Response {
        let mut r = self.get(host, &format!("/simulator/messages?phone={phone}&after=0"));
        if let Some(v) = view {
            r = r.header("cookie", format!("oz_sim={v}"));
        }
        r.send().await.unwrap()
    }

    async fn bodies(&self, phone: &str, view: Option<&str>) -> Vec<String> {
        let r = self.replies(&self.base(), phone, view).await;
        assert_eq!(r.status(), 200);
        let v: serde_json::Value = r.json().await.unwrap();
        v["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["body"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// Polls like the simulator page until a reply contains `needle`.
    async fn await_reply(&self, phone: &str, view: &str, needle: &str) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let bodies = self.bodies(phone, Some(view)).await;
            if bodies.iter().any(|b| b.contains(needle)) {
                return bodies;
            }
            assert!(
                Instant::now() < deadline,
                "no reply containing {needle:?} within 60 s: {bodies:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_chats_through_the_simulator_and_stops_cleanly() {
    let demo = Demo::start();
    let base = demo.base();
    let page = demo.get(&base, "/simulator").send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("simulator.js"));
    let dash = demo
        .get(&format!("demo.localhost:{}", demo.port), "/")
        .send()
        .await
        .unwrap();
    assert_eq!(dash.status(), 303, "the dashboard asks for a login");

    // A customer asks for a quote and the bot answers through the real webhook, worker and
    // Graph client.
    let phone = "5511987650001";
    let view = demo.say(phone, QUOTE_REQUEST, None).await;
    let bodies = demo.await_reply(phone, &view, "R$\u{a0}661,05").await;
    assert!(
        bodies.iter().any(|b| b.contains("R$\u{a0}661,05")),
        "{bodies:?}"
    );

    // A voice note through the simulator (issue 16): the demo's fake Graph API serves the file
    // to the worker as Meta serves media; the demo has no speech recogniser, so the customer
    // is told and a person is called ("transcrição desligada").
    let voice_phone = "5511987650003";
    let voice_view = {
        use base64::Engine as _;
        let ogg = include_bytes!("../../../fixtures/audio/dez_sacos_de_cimento.ogg");
        let r = req(
            &demo.http,
            reqwest::Method::POST,
            demo.port,
            &base,
            "/simulator/send",
        )
        .json(&serde_json::json!({
            "phone": voice_phone, "name": "Cliente",
            "audio_base64": base64::engine::general_purpose::STANDARD.encode(ogg),
            "audio_mime": "audio/ogg",
        }))
        .send()
        .await
        .unwrap();
        assert_eq!(r.status(), 200, "simulator sends the audio");
        cookie(&r, "oz_sim").expect("view cookie").0
    };
    let bodies = demo
        .await_reply(voice_phone, &voice_view, "Não consegui entender seu áudio")
        .await;
    assert!(
        bodies
            .iter()
            .any(|b| b.contains("Uma pessoa da equipe vai ouvi-lo")),
        "{bodies:?}"
    );

    // The simulator shows a browser only its own conversation.
    assert!(
        demo.bodies(phone, None).await.is_empty(),
        "without the view cookie nothing is shown"
    );
    let other = "5511987650002";
    let other_view = demo.say(other, "oi", None).await;
    assert!(
        demo.bodies(phone, Some(&other_view)).await.is_empty(),
        "a browser writing as another number does not see this one's replies"
    );
    let forged = format!("{phone}.0.{}", "0".repeat(64));
    assert!(demo.bodies(phone, Some(&forged)).await.is_empty());
    // ... and answers on BASE only.
    for host in [
        format!("www.localhost:{}", demo.port),
        format!("api.localhost:{}", demo.port),
        format!("127.0.0.1:{}", demo.port),
        "evil.com".to_string(),
    ] {
        assert_eq!(
            demo.get(&host, "/simulator").send().await.unwrap().status(),
            404,
            "simulator on {host}"
        );
        assert_eq!(
            demo.replies(&host, phone, Some(&view)).await.status(),
            404,
            "simulator messages on {host}"
        );
    }

    // The development key the demo generated is readable by its owner only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(demo.dir.0.join("orcazap-dev-secret.key"))
            .expect("the demo wrote its development key")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "mode {:o}", mode & 0o777);
    }

    let Demo { proc, dir, .. } = demo;
    let status = proc.terminate();
    assert!(status.success(), "demo exits cleanly on SIGTERM: {status}");
    drop(dir);
}

/// The metric names `monitoring/` is written against (dashboard, alerts) and their types.
fn monitoring_contract() -> Vec<(String, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../monitoring/metrics.txt");
    std::fs::read_to_string(path)
        .expect("monitoring/metrics.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut it = l.split_whitespace();
            (
                it.next().unwrap().to_string(),
                it.next().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// Metric names the source emits (`counter!("orcazap_…"`, `gauge!`, `histogram!`).
fn emitted_in_source() -> BTreeSet<String> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../");
    let mut out = BTreeSet::new();
    let mut stack = vec![PathBuf::from(root)];
    while let Some(p) = stack.pop() {
        for e in std::fs::read_dir(&p).unwrap().flatten() {
            let path = e.path();
            if path.is_dir() {
                if path
                    .file_name()
                    .is_some_and(|n| n != "tests" && n != "target")
                {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for mac in ["counter!(", "gauge!(", "histogram!("] {
                    for chunk in text.split(mac).skip(1) {
                        let chunk = chunk.trim_start();
                        if let Some(rest) = chunk.strip_prefix("\"orcazap_") {
                            let name: String = rest
                                .chars()
                                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                                .collect();
                            out.insert(format!("orcazap_{name}"));
                        }
                    }
                }
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitoring_contract_matches_the_running_binary() {
    let contract = monitoring_contract();
    let names: BTreeSet<String> = contract.iter().map(|(n, _)| n.clone()).collect();
    // Every metric the code can emit is in the contract, and nothing else is.
    let source = emitted_in_source();
    assert_eq!(
        source.difference(&names).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "metrics the binary emits but monitoring/metrics.txt (and so the dashboard) lacks"
    );
    assert_eq!(
        names.difference(&source).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "metrics in monitoring/metrics.txt that no code emits"
    );

    // What a running binary actually exposes after a conversation matches, name and type.
    let demo = Demo::start();
    let phone = "5511987650003";
    let view = demo.say(phone, QUOTE_REQUEST, None).await;
    demo.await_reply(phone, &view, "R$\u{a0}661,05").await;
    let text = demo
        .get(&format!("api.localhost:{}", demo.port), "/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut exposed = std::collections::BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut it = rest.split_whitespace();
            if let (Some(n), Some(t)) = (it.next(), it.next()) {
                exposed.insert(n.to_string(), t.to_string());
            }
        }
    }
    let exposed: std::collections::BTreeMap<_, _> = exposed
        .into_iter()
        .filter(|(n, _)| n.starts_with("orcazap_"))
        .collect();
    for (name, kind) in &exposed {
        let declared = contract.iter().find(|(n, _)| n == name);
        assert_eq!(
            declared.map(|(_, k)| k.as_str()),
            Some(kind.as_str()),
            "{name} ({kind}) is exposed but not declared with that type in monitoring/metrics.txt"
        );
    }
    for must in [
        "orcazap_http_requests_total",
        "orcazap_webhook_events_total",
        "orcazap_inbound_messages_total",
        "orcazap_jobs_total",
        "orcazap_graph_requests_total",
        "orcazap_quotes_total",
        "orcazap_db_pool_connections",
        "orcazap_ready",
    ] {
        assert!(
            exposed.contains_key(must),
            "{must} missing after a conversation: {exposed:?}"
        );
    }
    let status = demo.proc.terminate();
    assert!(status.success());
}

// ---------------------------------------------------------------------------------------
// `orcazap serve`: /metrics, production, HTTPS mode, timeouts
// ---------------------------------------------------------------------------------------

fn serve_env<'a>(url: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut env = vec![
        ("ORCAZAP_DATABASE_URL", url),
        ("ORCAZAP_SECRET_KEY", SECRET_KEY),
        ("ORCAZAP_WHATSAPP_APP_SECRET", "test-app-secret"),
        ("ORCAZAP_WHATSAPP_VERIFY_TOKEN", "test-verify-token"),
    ];
    env.extend_from_slice(extra);
    env
}

fn serve(dir: &TempDir, url: &str, extra: &[(&str, &str)]) -> (Proc, u16) {
    let mut p = Proc::spawn(orcazap(
        &dir.0,
        &["serve", "--web-only"],
        &serve_env(url, extra),
    ));
    let port = p.port_from_log();
    (p, port)
}

store::both_engines!(
    TestDb;
    every_metric_family_is_present_at_the_first_scrape,
    metrics_answer_on_api_and_the_address_only_behind_the_token,
    production_refuses_to_serve_without_a_metrics_token,
    https_mode_marks_cookies_secure_and_sends_hsts,
);

/// Issue 14 item 4: a freshly started `orcazap serve` (web and worker), scraped before any
/// request, webhook or job, exposes every family of monitoring/metrics.txt with its type —
/// an alert on a series that has not appeared yet could never fire.
async fn every_metric_family_is_present_at_the_first_scrape(db: &TestDb) {
    let dir = TempDir::new("first-scrape");
    let mut p = Proc::spawn(orcazap(&dir.0, &["serve"], &serve_env(&db.url, &[])));
    let port = p.port_from_log();
    let text = req(
        &client(),
        reqwest::Method::GET,
        port,
        &format!("127.0.0.1:{port}"),
        "/metrics",
    )
    .send()
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    let mut exposed = std::collections::BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut it = rest.split_whitespace();
            if let (Some(n), Some(t)) = (it.next(), it.next()) {
                exposed.insert(n.to_string(), t.to_string());
            }
        }
    }
    let missing: Vec<String> = monitoring_contract()
        .into_iter()
        .filter(|(name, kind)| exposed.get(name) != Some(kind))
        .map(|(name, kind)| format!("{name} ({kind})"))
        .collect();
    assert!(
        missing.is_empty(),
        "families absent (or of another type) at the first scrape: {missing:?}\n{text}"
    );
    // Zero values for the known labels, not just the family: a rate over the job outcomes
    // and the alert on dead jobs have their series.
    for series in [
        "orcazap_jobs_total{kind=\"whatsapp.send\",outcome=\"dead\"} 0",
        "orcazap_queue_dead_jobs{kind=\"conversation.advance\"} 0",
        "orcazap_webhook_events_total{outcome=\"bad_signature\"} 0",
        "orcazap_whatsapp_channel_blocked_total{code=\"190\"} 0",
    ] {
        assert!(text.contains(series), "{series} missing:\n{text}");
    }
    assert!(p.terminate().success());
}

async fn metrics_answer_on_api_and_the_address_only_behind_the_token(db: &TestDb) {
    let dir = TempDir::new("metrics");
    let http = client();
    // With a token: 401 without it or with a wrong one, the text format with it.
    let (p, port) = serve(&dir, &db.url, &[("ORCAZAP_METRICS_TOKEN", METRICS_TOKEN)]);
    let api = format!("api.localhost:{port}");
    let get = |host: &str, auth: Option<&str>| {
        let mut r = req(&http, reqwest::Method::GET, port, host, "/metrics");
        if let Some(a) = auth {
            r = r.header("authorization", a.to_string());
        }
        r.send()
    };
    let good = format!("Bearer {METRICS_TOKEN}");
    assert_eq!(get(&api, None).await.unwrap().status(), 401);
    assert_eq!(
        get(&api, Some("Bearer errado")).await.unwrap().status(),
        401
    );
    assert_eq!(
        get(&api, Some(METRICS_TOKEN)).await.unwrap().status(),
        401,
        "bearer scheme only"
    );
    let ok = get(&api, Some(&good)).await.unwrap();
    assert_eq!(ok.status(), 200);
    assert!(ok
        .text()
        .await
        .unwrap()
        .contains("orcazap_http_requests_total"));
    // Prometheus scrapes the private address: the Host is that address.
    let by_address = get(&format!("127.0.0.1:{port}"), Some(&good))
        .await
        .unwrap();
    assert_eq!(by_address.status(), 200);
    // Never on the public site, a store's host or a foreign name — not even with the token.
    for host in [
        format!("localhost:{port}"),
        format!("www.localhost:{port}"),
        format!("demo.localhost:{port}"),
        format!("admin.localhost:{port}"),
        "evil.com".to_string(),
    ] {
        assert_eq!(
            get(&host, Some(&good)).await.unwrap().status(),
            404,
            "{host}"
        );
    }
    assert!(p.terminate().success());

    // Without a token (development only): open, on the same hosts.
    let (p, port) = serve(&dir, &db.url, &[]);
    let r = req(
        &http,
        reqwest::Method::GET,
        port,
        &format!("api.localhost:{port}"),
        "/metrics",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let r = req(
        &http,
        reqwest::Method::GET,
        port,
        &format!("localhost:{port}"),
        "/metrics",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 404);
    assert!(p.terminate().success());
}

async fn production_refuses_to_serve_without_a_metrics_token(db: &TestDb) {
    let dir = TempDir::new("prod");
    let prod = [
        ("ORCAZAP_ENV", "production"),
        ("ORCAZAP_ALLOW_SQLITE_IN_PRODUCTION", "true"),
    ];
    for token in [None, Some("curto-demais")] {
        let mut extra = prod.to_vec();
        if let Some(t) = token {
            extra.push(("ORCAZAP_METRICS_TOKEN", t));
        }
        for role in [&["serve", "--web-only"][..], &["worker"][..]] {
            let p = Proc::spawn(orcazap(&dir.0, role, &serve_env(&db.url, &extra)));
            let (status, out) = p.exit();
            assert!(
                !status.success(),
                "{role:?} with token {token:?} must refuse to start"
            );
            assert!(out.contains("ORCAZAP_METRICS_TOKEN"), "{out}");
            assert!(!out.contains("\"listening\""), "{out}");
        }
    }
    // With a proper token it serves, and /metrics wants it.
    let mut extra = prod.to_vec();
    extra.push(("ORCAZAP_METRICS_TOKEN", METRICS_TOKEN));
    let (p, port) = serve(&dir, &db.url, &extra);
    let http = client();
    let api = format!("api.localhost:{port}");
    let r = req(&http, reqwest::Method::GET, port, &api, "/metrics")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = req(&http, reqwest::Method::GET, port, &api, "/metrics")
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(p.terminate().success());
}

fn create_store(dir: &TempDir, url: &str, slug: &str) {
    let mut c = orcazap(
        &dir.0,
        &[
            "store",
            "create",
            "--slug",
            slug,
            "--name",
            "Loja HTTPS",
            "--owner-email",
            "dona@https.com.br",
        ],
        &serve_env(url, &[]),
    );
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "store create: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The store's login form, then a correct login: every cookie set on the way and the
/// response headers of the page. `session_name` is the session cookie's name, which is
/// `__Host-oz_session` under HTTPS and `oz_session` on plain HTTP (docs/security.md).
async fn login_cookies(
    port: u16,
    slug: &str,
    session_name: &str,
) -> (Vec<String>, reqwest::header::HeaderMap) {
    let http = client();
    let host = format!("{slug}.localhost:{port}");
    let page = req(&http, reqwest::Method::GET, port, &host, "/login")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let headers = page.headers().clone();
    let (csrf_cookie, csrf_line) = cookie(&page, "oz_login_csrf").expect("login csrf cookie");
    let html = page.text().await.unwrap();
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("csrf field")
        .to_string();
    let r = req(&http, reqwest::Method::POST, port, &host, "/login")
        .header("cookie", format!("oz_login_csrf={csrf_cookie}"))
        .form(&[
            ("email", "dona@https.com.br"),
            ("password", PASSWORD),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "login succeeds");
    let (_, session_line) = cookie(&r, session_name).expect("session cookie");
    (vec![csrf_line, session_line], headers)
}

async fn https_mode_marks_cookies_secure_and_sends_hsts(db: &TestDb) {
    let dir = TempDir::new("https");
    create_store(&dir, &db.url, "loja-https");
    // HTTPS mode is ORCAZAP_HTTPS=true, nothing else (docs/operations.md § Reverse proxy).
    let (p, port) = serve(&dir, &db.url, &[("ORCAZAP_HTTPS", "true")]);
    let (cookies, headers) = login_cookies(port, "loja-https", "__Host-oz_session").await;
    for line in &cookies {
        assert!(line.contains("; Secure"), "{line}");
        assert!(
            line.contains("HttpOnly") && line.contains("SameSite=Lax"),
            "{line}"
        );
        assert!(!line.contains("Domain="), "host-only: {line}");
    }
    assert_eq!(
        headers["strict-transport-security"],
        "max-age=63072000; includeSubDomains"
    );
    assert!(p.terminate().success());

    // Plain HTTP, even when a proxy says otherwise: X-Forwarded-Proto is not read.
    let (p, port) = serve(&dir, &db.url, &[("ORCAZAP_HTTPS", "false")]);
    let (cookies, headers) = login_cookies(port, "loja-https", "oz_session").await;
    for line in &cookies {
        assert!(!line.contains("Secure"), "{line}");
    }
    assert!(!headers.contains_key("strict-transport-security"));
    let http = client();
    let r = req(
        &http,
        reqwest::Method::GET,
        port,
        &format!("loja-https.localhost:{port}"),
        "/login",
    )
    .header("x-forwarded-proto", "https")
    .send()
    .await
    .unwrap();
    assert!(!r.headers().contains_key("strict-transport-security"));
    assert!(!cookie(&r, "oz_login_csrf").unwrap().1.contains("Secure"));
    assert!(p.terminate().success());
}

// ---------------------------------------------------------------------------------------
// Connection timeouts (no database involved: SQLite only)
// ---------------------------------------------------------------------------------------

/// Reads until the server closes the connection; what it sent. Panics if it stays open for
/// 20 s — far beyond the 300 ms timeout configured, so only a missing timeout trips it.
fn read_until_closed(s: &mut TcpStream) -> String {
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!(
                "the server kept the connection open ({e}); received {:?}",
                String::from_utf8_lossy(&got)
            ),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_and_idle_connections_are_closed() {
    let Some(db) = TestDb::new(Engine::Sqlite).await else {
        panic!("sqlite");
    };
    let dir = TempDir::new("timeouts");
    let (p, port) = serve(&dir, &db.url, &[("ORCAZAP_HTTP_HEADER_TIMEOUT_MS", "300")]);
    let connect = || TcpStream::connect(("127.0.0.1", port)).unwrap();

    // Half a request head, then nothing: the connection is closed.
    let mut slow = connect();
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        .unwrap();
    let got = read_until_closed(&mut slow);
    assert!(!got.contains("200 OK"), "{got}");

    // A connection that never sends a byte.
    let mut silent = connect();
    read_until_closed(&mut silent);

    // A kept-alive connection idle after its response.
    let mut idle = connect();
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let got = read_until_closed(&mut idle);
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");

    // A normal request on a fresh connection still works.
    let r = client()
        .get(format!("http://127.0.0.1:{port}/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(p.terminate().success());
}

/// A body sent one byte at a time (slow-body "R.U.D.Y."): the header timeout never fires once
/// the head is complete, and a per-read timeout would be reset by every byte. Found by the
/// attack re-run (scripts/attack): a webhook POST announcing 1,000 bytes and trickling them
/// stayed open for as long as the client kept going.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_bodies_are_cut_off() {
    let Some(db) = TestDb::new(Engine::Sqlite).await else {
        panic!("sqlite");
    };
    let dir = TempDir::new("slowbody");
    let (p, port) = serve(&dir, &db.url, &[("ORCAZAP_HTTP_HEADER_TIMEOUT_MS", "300")]);
    for (host, path) in [
        ("api.localhost", "/webhooks/whatsapp"),
        ("localhost", "/signup"),
    ] {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.write_all(
            format!(
                "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
            )
            .as_bytes(),
        )
        .unwrap();
        // One byte every 50 ms, never the whole body, until the server hangs up.
        let mut w = s.try_clone().unwrap();
        let trickle = std::thread::spawn(move || {
            for _ in 0..999 {
                if w.write_all(b"a").is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        let got = read_until_closed(&mut s);
        assert!(!got.starts_with("HTTP/1.1 200"), "{host}{path}: {got}");
        drop(s);
        trickle.join().unwrap();
    }
    // A body that arrives in time is read as before (a wrong signature, not a cut-off body).
    let r = client()
        .post(format!("http://127.0.0.1:{port}/webhooks/whatsapp"))
        .header("host", "api.localhost")
        .header("x-hub-signature-256", format!("sha256={}", "0".repeat(64)))
        .body(vec![b'{'; 100_000])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(p.terminate().success());
}

// ---------------------------------------------------------------------------------------
// The development key file
// ---------------------------------------------------------------------------------------

#[cfg(unix)]
#[test]
fn development_key_file_is_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("devkey");
    let url = format!("sqlite://{}", dir.0.join("db.sqlite").display());
    let key = dir.0.join("orcazap-dev-secret.key");
    let run = || {
        let out = orcazap(
            &dir.0,
            &["migrate", "up"],
            &[("ORCAZAP_DATABASE_URL", &url)],
        )
        .output()
        .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    // Created 0600.
    run();
    assert_eq!(mode(&key), 0o600, "new key file");
    // An existing world-readable one (from an older version) is tightened, key unchanged.
    let before = std::fs::read_to_string(&key).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    run();
    assert_eq!(mode(&key), 0o600, "existing key file tightened");
    assert_eq!(std::fs::read_to_string(&key).unwrap(), before);
    // A too-short one is replaced, 0600 as well.
    std::fs::write(&key, "curta").unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    run();
    assert_eq!(mode(&key), 0o600, "replaced key file");
    assert!(std::fs::read_to_string(&key).unwrap().len() >= 32);
}
