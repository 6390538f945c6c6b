//! `ORCAZAP_SECRET_KEY` rotation exactly as docs/operations.md tells an operator to do it,
//! with the real binary on both engines: store a token under key A; restart with B and A as
//! old; `orcazap secrets rotate`; remove A; restart — and a customer is still answered,
//! with the store's real token on the Graph request.
//!
//! This is the outage of issue 19: keys were numbered by their place in the list, so B was
//! "version 2" beside A and "version 1" alone, and every token said "no key for version 2".

mod common;

use std::io::Write;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{text_webhook, ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN};
use store::testing::TestDb;
use store::Engine;
use testkit::MockGraph;

const KEY_A: &str = "rotation-key-A-0123456789abcdef0123456789";
const KEY_B: &str = "rotation-key-B-0123456789abcdef0123456789";

/// The environment a production unit would have: only what the operator wrote.
fn orcazap(db_url: &str, graph_url: &str, key: &str, old: Option<&str>) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_orcazap"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ORCAZAP_DATABASE_URL", db_url)
        .env("ORCAZAP_SECRET_KEY", key)
        .env("ORCAZAP_WHATSAPP_APP_SECRET", APP_SECRET)
        .env("ORCAZAP_WHATSAPP_VERIFY_TOKEN", VERIFY_TOKEN)
        .env("ORCAZAP_WHATSAPP_API_BASE", graph_url)
        .env("ORCAZAP_LOG", "warn");
    if let Some(old) = old {
        c.env("ORCAZAP_SECRET_KEY_OLD", old);
    }
    c
}

fn run_ok(c: &mut Command, stdin: Option<&str>) -> String {
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("orcazap runs");
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).unwrap();
    }
    drop(input);
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().unwrap();
    let (out, err) = (
        String::from_utf8_lossy(&stdout),
        String::from_utf8_lossy(&stderr),
    );
    assert!(status.success(), "{status}\nstdout: {out}\nstderr: {err}");
    out.into_owned()
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn serve(mut c: Command) -> (Server, String) {
    let port = free_port();
    let child = c
        .arg("serve")
        .env("ORCAZAP_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("orcazap serve starts");
    let server = Server(child);
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = http
            .get(format!("{base}/ready"))
            .header("host", "api.localhost")
            .send()
            .await;
        if matches!(&ready, Ok(r) if r.status().is_success()) {
            break;
        }
        assert!(Instant::now() < deadline, "serve never became ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (server, base)
}

/// One customer message through the running server; waits for the bot's reply on the mock.
async fn customer_is_answered(base: &str, graph: &MockGraph, from: &str, wamid: &str) {
    let body = text_webhook(from, wamid, "oi, bom dia");
    let res = reqwest::Client::new()
        .post(format!("{base}/webhooks/whatsapp"))
        .header("host", "api.localhost")
        .header("content-type", "application/json")
        .header(
            "x-hub-signature-256",
            whatsapp::signature::sign(APP_SECRET.as_bytes(), body.as_bytes()),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let replies: Vec<_> = graph
            .calls()
            .into_iter()
            .filter(|c| c.to() == from)
            .collect();
        if let Some(reply) = replies.first() {
            assert_eq!(reply.authorization, format!("Bearer {ACCESS_TOKEN}"));
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no reply reached {from}: the worker could not use the store's token"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn documented_rotation_keeps_stores_sending(engine: Engine) {
    let Some(t) = TestDb::new(engine).await else {
        return;
    };
    let graph = MockGraph::start(ACCESS_TOKEN).await;
    let url = t.url.clone();

    // Before: the store's token stored under key A, and the bot answers.
    run_ok(
        orcazap(&url, &graph.url, KEY_A, None)
            .arg("seed")
            .arg("--demo"),
        None,
    );
    run_ok(
        orcazap(&url, &graph.url, KEY_A, None).args(["channel", "token", "--store", "demo"]),
        Some(&format!("{ACCESS_TOKEN}\n")),
    );
    {
        let (_server, base) = serve(orcazap(&url, &graph.url, KEY_A, None)).await;
        customer_is_answered(&base, &graph, "5511911110001", "wamid.ROT-1").await;
    }

    // Step 1: B is the key, A moves to _OLD; rolling restart — still answered.
    {
        let (_server, base) = serve(orcazap(&url, &graph.url, KEY_B, Some(KEY_A))).await;
        customer_is_answered(&base, &graph, "5511911110002", "wamid.ROT-2").await;
    }

    // Step 2: rotate; it says A can go. A second run finds nothing left to do.
    let out = run_ok(
        orcazap(&url, &graph.url, KEY_B, Some(KEY_A)).args(["secrets", "rotate"]),
        None,
    );
    assert!(
        out.starts_with("1 token(s) de canal recriptografado(s)")
            && out.contains("ORCAZAP_SECRET_KEY_OLD pode ser removida"),
        "{out}"
    );
    let again = run_ok(
        orcazap(&url, &graph.url, KEY_B, Some(KEY_A)).args(["secrets", "rotate"]),
        None,
    );
    assert!(
        again.starts_with("0 token(s)") && again.contains("1 já estavam nela"),
        "{again}"
    );

    // Step 3: A removed, restart with B alone — the customer is answered.
    let (_server, base) = serve(orcazap(&url, &graph.url, KEY_B, None)).await;
    customer_is_answered(&base, &graph, "5511911110003", "wamid.ROT-3").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documented_rotation_keeps_stores_sending_sqlite() {
    documented_rotation_keeps_stores_sending(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documented_rotation_keeps_stores_sending_postgres() {
    documented_rotation_keeps_stores_sending(Engine::Postgres).await;
}
