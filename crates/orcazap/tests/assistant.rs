//! The optional language model (issue 16, docs/assistants.md) end to end: a customer message
//! the rules cannot read → webhook → worker → a local server speaking the OpenAI
//! chat-completions wire format (`testkit::LlmMock`) → validation against the store's catalog
//! → the quote it helped build waits for approval ("assistido por IA"). And every way it must
//! not be trusted: malformed JSON, an invented SKU, an absurd quantity, a timeout, a 429, a
//! spent budget, a rate limit, two workers racing for the last real. SQLite and PostgreSQL.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{text_webhook, TestApp};
use domain::pricing::{ApprovalReason, PricedQuote};
use domain::status::ApprovalStatus;
use serde_json::json;
use store::assistant_budget::{self, Reservation};
use store::testing::{Fixture, TestDb};
use store::Engine;
use testkit::{LlmMock, LlmReply, LLM_API_KEY, LLM_MODEL};
use worker::assistant::{LlmConfig, LlmLimits, OpenAiConfig};

testkit::both_engines!(
    AssistApp;
    a_valid_answer_builds_a_quote_that_waits_for_approval,
    malformed_json_leaves_the_rules_reading,
    an_invented_sku_rejects_the_answer,
    an_absurd_quantity_rejects_the_answer,
    a_timeout_falls_back_to_the_rules_in_bounded_time,
    a_429_is_retried_and_the_answer_used,
    a_spent_budget_mid_month_means_rules_only_and_a_note,
    the_rate_limit_stops_calls_within_the_minute,
    a_clear_message_never_calls_the_model,
);

/// The message the rules cannot read: "daqueles saco cinza" is not a catalog name.
const VAGUE: &str = "manda uns 10 daqueles saco cinza pra obra, entrega amanha no grajau, pix. qualquer coisa me liga 11 98765-4321";
const CUSTOMER: &str = "5511944440000";

/// 0.1 centavo per 1,000 prompt tokens, 0.4 per 1,000 answer tokens (millicentavos).
const PRICE_IN: i64 = 100;
const PRICE_OUT: i64 = 400;
const PER_MINUTE: i64 = 2;

struct AssistApp {
    app: TestApp,
    llm: LlmMock,
}

impl std::ops::Deref for AssistApp {
    type Target = TestApp;
    fn deref(&self) -> &TestApp {
        &self.app
    }
}

impl Fixture for AssistApp {
    async fn start(engine: Engine) -> Option<AssistApp> {
        let llm = LlmMock::start().await;
        let cfg = LlmConfig {
            provider: OpenAiConfig {
                base_url: llm.url.clone(),
                api_key: Some(LLM_API_KEY.into()),
                model: LLM_MODEL.into(),
                request_timeout: Duration::from_millis(400),
                retries: 2,
                deadline: Duration::from_millis(1500),
            },
            limits: LlmLimits {
                input_millicents_per_1k: PRICE_IN,
                output_millicents_per_1k: PRICE_OUT,
                monthly_budget_cents: 2000,
                per_minute: PER_MINUTE,
                max_tokens: 400,
            },
        };
        let app = TestApp::start_with(engine, |wc| wc.llm = Some(cfg)).await?;
        Some(AssistApp { app, llm })
    }

    async fn finish(self) {
        self.app.stop().await;
    }
}

/// The model's answer for [`VAGUE`]: the 50 kg cement, ten of them.
fn cement_answer(sku: &str, quantity: serde_json::Value) -> LlmReply {
    LlmReply::json(json!({
        "items": [{"sku": sku, "quantity": quantity, "text": "10 daqueles saco cinza"}],
        "location": {"cep": null, "bairro": "Grajaú"},
        "payment": "PIX",
        "delivery": "amanha"
    }))
}

async fn say(app: &TestApp, from: &str, text: &str) {
    let wamid = format!("wamid.L{}", uuid_like());
    let r = app.webhook(&text_webhook(from, &wamid, text)).await;
    assert_eq!(r.status(), 200);
    app.drain().await;
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!("{}{}", store::now_ms(), N.fetch_add(1, Ordering::Relaxed))
}

fn month(app: &TestApp) -> String {
    let _ = app;
    // The demo store's time zone is America/Sao_Paulo; its month, as the worker counts it.
    domain::clock::StoreClock::of("America/Sao_Paulo")
        .date_of(store::now_ms())
        .format("%Y-%m")
        .to_string()
}

async fn usage(app: &TestApp) -> assistant_budget::Usage {
    let t = app.demo_tenant().await;
    assistant_budget::usage(&app.db, &t.id, &month(app))
        .await
        .unwrap()
}

/// The quote waiting for approval and its reasons, if any.
async fn pending(app: &TestApp) -> Option<(PricedQuote, Vec<ApprovalReason>)> {
    let t = app.demo_tenant().await;
    let a = store::quotes::approvals(&app.db, &t.id, ApprovalStatus::Pending, 10)
        .await
        .unwrap();
    let a = a.first()?;
    let q = store::quotes::get(&app.db, &t.id, &a.quote_id)
        .await
        .unwrap()
        .unwrap();
    let reasons: Vec<String> = serde_json::from_str(&a.reasons_json).unwrap();
    Some((
        serde_json::from_str(&q.snapshot_json).unwrap(),
        reasons
            .iter()
            .map(|r| ApprovalReason::from_code(r).unwrap())
            .collect(),
    ))
}

/// The conversation's memo says whether the model helped.
async fn assisted(app: &TestApp) -> bool {
    use sqlx::Row;
    let row = sqlx::query("SELECT draft_json FROM conversations ORDER BY created_at DESC LIMIT 1")
        .fetch_one(app.db.read())
        .await
        .unwrap();
    let memo = domain::engine::Memo::from_json(&row.get::<String, _>(0));
    memo.llm_assisted
}

/// The bot's texts to the customer.
fn bot_texts(app: &TestApp) -> Vec<String> {
    app.graph
        .calls()
        .iter()
        .filter(|c| c.body["to"] == CUSTOMER)
        .filter_map(|c| {
            c.body["text"]["body"]
                .as_str()
                .or(c.body["interactive"]["body"]["text"].as_str())
                .map(str::to_string)
        })
        .collect()
}

/// The rules alone answered: no quote, the customer is asked about the words the store does
/// not know, the conversation is not marked as assisted.
async fn rules_answered(app: &TestApp) {
    assert!(
        pending(app).await.is_none(),
        "no quote from a rejected answer"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM quotes").await, 0);
    assert!(
        !assisted(app).await,
        "a rejected answer does not count as help"
    );
    let texts = bot_texts(app);
    assert!(
        texts.iter().any(|t| t.contains("saco cinza")),
        "the rules' question about the unknown words: {texts:?}"
    );
}

async fn a_valid_answer_builds_a_quote_that_waits_for_approval(app: &AssistApp) {
    app.llm.push(cement_answer("CIM-CP2-50", json!(10)));
    say(app, CUSTOMER, VAGUE).await;

    let (quote, reasons) = pending(app).await.expect("a quote waits for approval");
    assert!(
        reasons.contains(&ApprovalReason::LlmAssisted),
        "{reasons:?}"
    );
    let lines: Vec<(String, i64)> = quote
        .lines
        .iter()
        .map(|l| (l.sku.clone(), l.quantity.thousandths()))
        .collect();
    assert_eq!(lines, vec![("CIM-CP2-50".to_string(), 10_000)]);
    assert!(
        quote.unknown.is_empty(),
        "the model's item replaced the unknown words"
    );
    assert!(assisted(app).await);
    assert_eq!(
        ApprovalReason::LlmAssisted.label_pt(),
        "assistido por IA: pedido interpretado com ajuda de IA"
    );

    // The wire format, and what the model was shown.
    let calls = app.llm.calls();
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!(call.authorization, format!("Bearer {LLM_API_KEY}"));
    assert_eq!(call.body["model"], LLM_MODEL);
    assert_eq!(call.body["response_format"]["type"], "json_schema");
    assert_eq!(call.body["response_format"]["json_schema"]["strict"], true);
    assert_eq!(call.body["temperature"], 0);
    let prompt = call.user_prompt();
    assert!(
        !prompt.contains("98765"),
        "phone numbers are masked: {prompt}"
    );
    assert!(prompt.contains("[telefone]"));
    assert!(!prompt.contains(CUSTOMER), "no customer number: {prompt}");
    assert!(
        !prompt.contains("Cliente Teste"),
        "no customer name: {prompt}"
    );
    assert!(
        !prompt.contains("3690") && !prompt.contains("price"),
        "no prices: {prompt}"
    );
    let shown: serde_json::Value = serde_json::from_str(&prompt).unwrap();
    let skus: Vec<&str> = shown["produtos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["sku"].as_str().unwrap())
        .collect();
    assert!(skus.contains(&"CIM-CP2-50"), "{skus:?}");
    assert!(
        !skus.contains(&"POR-60") && skus.len() < 20,
        "only items near the words are sent, not the catalog: {skus:?}"
    );

    // Paid from the store's budget: tokens × prices, exactly.
    let u = usage(app).await;
    assert_eq!(u.calls, 1);
    assert!(u.prompt_tokens > 0 && u.completion_tokens > 0, "{u:?}");
    let expected =
        (u.prompt_tokens * PRICE_IN + 999) / 1000 + (u.completion_tokens * PRICE_OUT + 999) / 1000;
    assert_eq!(
        u.spent_millicents, expected,
        "settled to the real cost: {u:?}"
    );
    assert_eq!(u.refused_budget, 0);
}

async fn malformed_json_leaves_the_rules_reading(app: &AssistApp) {
    app.llm
        .push(LlmReply::content("Claro! Aqui está: {items: [cimento x10]"));
    say(app, CUSTOMER, VAGUE).await;
    assert_eq!(app.llm.calls().len(), 1);
    rules_answered(app).await;
    // Answered and billed: its tokens count.
    let u = usage(app).await;
    assert!(u.spent_millicents > 0 && u.completion_tokens > 0, "{u:?}");
}

async fn an_invented_sku_rejects_the_answer(app: &AssistApp) {
    app.llm.push(cement_answer("CIMENTO-CINZA-50", json!(10)));
    say(app, CUSTOMER, VAGUE).await;
    assert_eq!(app.llm.calls().len(), 1);
    rules_answered(app).await;
}

async fn an_absurd_quantity_rejects_the_answer(app: &AssistApp) {
    app.llm
        .push(cement_answer("CIM-CP2-50", json!(1_000_000_000)));
    say(app, CUSTOMER, VAGUE).await;
    rules_answered(app).await;
    // Zero and negative amounts too.
    for q in [json!(0), json!(-10), json!(2.0001)] {
        let v = worker::assistant::proposal::validate(
            &json!({"items": [{"sku": "CIM-CP2-50", "quantity": q, "text": "x"}],
                    "location": null, "payment": null, "delivery": null})
            .to_string(),
            &orcazap_catalog(),
            &domain::pricing::demo_rules(),
        );
        assert!(
            matches!(v, Err(worker::assistant::Rejected::BadQuantity { .. })),
            "{q}: {v:?}"
        );
    }
}

fn orcazap_catalog() -> Vec<domain::catalog::CatalogItem> {
    let csv = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../eval/catalog.csv"),
    )
    .unwrap();
    domain::catalog::parse_catalog_csv(&csv).unwrap()
}

async fn a_timeout_falls_back_to_the_rules_in_bounded_time(app: &AssistApp) {
    app.llm
        .always(cement_answer("CIM-CP2-50", json!(10)).after(Duration::from_secs(5)));
    let started = std::time::Instant::now();
    say(app, CUSTOMER, VAGUE).await;
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(4),
        "the deadline (1.5 s) bounds the call: {took:?}"
    );
    assert!(app.llm.calls().len() >= 2, "timeouts are retried");
    rules_answered(app).await;
    // A timed-out call may have been billed: the reservation stays spent.
    let u = usage(app).await;
    assert!(u.spent_millicents > 0, "{u:?}");
    assert_eq!((u.prompt_tokens, u.completion_tokens), (0, 0));
}

async fn a_429_is_retried_and_the_answer_used(app: &AssistApp) {
    app.llm.push(LlmReply::status(429).retry_after(0));
    app.llm.push(cement_answer("CIM-CP2-50", json!(10)));
    say(app, CUSTOMER, VAGUE).await;
    assert_eq!(app.llm.calls().len(), 2, "one 429, one answer");
    let (_, reasons) = pending(app)
        .await
        .expect("the retried answer built the quote");
    assert!(reasons.contains(&ApprovalReason::LlmAssisted));
    // One call for the budget and the rate limit, whatever its retries.
    assert_eq!(usage(app).await.calls, 1);
}

async fn a_spent_budget_mid_month_means_rules_only_and_a_note(app: &AssistApp) {
    let t = app.demo_tenant().await;
    // This store may spend R$ 0,50 a month, and has spent all but a fraction of a centavo.
    assistant_budget::set_store_budget_cents(&app.db, &t.id, Some(50))
        .await
        .unwrap();
    let m = month(app);
    assert_eq!(
        assistant_budget::reserve(&app.db, &t.id, &m, 49_990, 50_000, 100)
            .await
            .unwrap(),
        Reservation::Granted
    );
    assistant_budget::settle(&app.db, &t.id, &m, 49_990, 49_990, 1000, 100)
        .await
        .unwrap();
    app.llm.always(cement_answer("CIM-CP2-50", json!(10)));
    say(app, CUSTOMER, VAGUE).await;
    assert!(app.llm.calls().is_empty(), "no call over budget");
    rules_answered(app).await;
    let u = usage(app).await;
    assert_eq!(u.refused_budget, 1);
    assert!(u.last_refused_at.is_some(), "the note staff see");
    assert_eq!(u.spent_millicents, 49_990, "nothing more spent");

    // Staff are told on the dashboard's start page.
    let dash = app.dashboard_login(store::seed::DEMO_ATTENDANT).await;
    let (status, page) = dash.get("/").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Orçamento de IA do mês esgotado"),
        "the note on Início: {page}"
    );
    // Raising the store's budget lets the next message use the model again.
    assistant_budget::set_store_budget_cents(&app.db, &t.id, Some(5000))
        .await
        .unwrap();
    say(app, "5511944440001", VAGUE).await;
    assert_eq!(app.llm.calls().len(), 1);
    let (_, page) = dash.get("/").await;
    assert!(page.contains("Gasto:"), "{page}");
    assert!(
        !page.contains("Orçamento de IA do mês esgotado"),
        "the note goes once a call is granted again"
    );
}

async fn the_rate_limit_stops_calls_within_the_minute(app: &AssistApp) {
    app.llm.always(LlmReply::json(json!({
        "items": [], "location": null, "payment": null, "delivery": null
    })));
    for n in 0..(PER_MINUTE + 2) {
        say(app, &format!("55119555500{n:02}"), VAGUE).await;
    }
    let calls = app.llm.calls().len() as i64;
    let u = usage(app).await;
    // A minute boundary may fall inside the loop: then one more call is allowed.
    assert!(
        calls == PER_MINUTE || calls == PER_MINUTE + 1,
        "{calls} calls for {} messages",
        PER_MINUTE + 2
    );
    assert_eq!(u.calls, calls);
    assert_eq!(u.refused_rate, PER_MINUTE + 2 - calls);
}

async fn a_clear_message_never_calls_the_model(app: &AssistApp) {
    app.llm.always(cement_answer("CIM-CP2-50", json!(10)));
    say(
        app,
        CUSTOMER,
        "bom dia, 10 sacos de cimento, entrega amanha no grajau, pix",
    )
    .await;
    assert!(app.llm.calls().is_empty(), "the rules were confident");
    assert!(!assisted(app).await);
    assert_eq!(usage(app).await.calls, 0);
}

mod budget_race {
    use super::*;

    testkit::both_engines!(TestDb, worker_threads = 4; two_workers_racing_cannot_both_spend_the_last_real);

    /// Eight reservations at once on one store, whose budget takes exactly three: three are
    /// granted, whatever the interleaving, on both engines.
    async fn two_workers_racing_cannot_both_spend_the_last_real(t: &TestDb) {
        let tenant = store::seed::seed_store(
            &t.db,
            store::seed::StoreSeed::demo("x".into(), "y".into(), None, 1),
        )
        .await
        .unwrap()
        .tenant_id;
        let db = Arc::new(t.db.clone());
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (db, tenant) = (db.clone(), tenant.clone());
            tasks.push(tokio::spawn(async move {
                assistant_budget::reserve(&db, &tenant, "2026-12", 1000, 3000, 100)
                    .await
                    .unwrap()
            }));
        }
        let mut granted = 0;
        for task in tasks {
            if task.await.unwrap() == Reservation::Granted {
                granted += 1;
            }
        }
        assert_eq!(granted, 3);
        let u = assistant_budget::usage(&t.db, &tenant, "2026-12")
            .await
            .unwrap();
        assert_eq!(u.spent_millicents, 3000);
        assert_eq!(u.calls, 3);
        assert_eq!(u.refused_budget, 5);
        // The last real: two workers, 1 millicentavo left for one 1-millicentavo call.
        assistant_budget::settle(&t.db, &tenant, "2026-12", 1000, 999, 0, 0)
            .await
            .unwrap();
        let (a, b) = tokio::join!(
            assistant_budget::reserve(&t.db, &tenant, "2026-12", 1, 3000, 100),
            assistant_budget::reserve(&t.db, &tenant, "2026-12", 1, 3000, 100)
        );
        let mut both = [a.unwrap(), b.unwrap()];
        both.sort_by_key(|r| *r == Reservation::Granted);
        assert_eq!(both, [Reservation::OverBudget, Reservation::Granted]);
    }
}

/// `orcazap parse --catalog … --assistant` (the eval run with the model on) against the local
/// chat-completions server: the model's reading of the vague case is in the output, a clear
/// case never reaches the model, and `orcazap parse` without the flag prints exactly what it
/// printed before (no model, no network).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parse_with_the_assistant_flag_runs_the_eval_contract() {
    use std::io::Write;
    use std::process::{Command, Stdio};

    let llm = LlmMock::start().await;
    llm.push(cement_answer("CIM-CP2-50", json!(10)));
    let catalog = concat!(env!("CARGO_MANIFEST_DIR"), "/../../eval/catalog.csv");
    let input = format!(
        "{}\n{}\n",
        json!({"id": "vago", "turns": [VAGUE]}),
        json!({"id": "claro", "turns": ["bom dia, 10 sacos de cimento, entrega amanha no grajau, pix"]})
    );
    let run = move |assistant: bool, input: String, url: String| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_orcazap"));
        cmd.arg("parse").arg("--catalog").arg(catalog);
        if assistant {
            cmd.arg("--assistant")
                .env("ORCAZAP_LLM_BASE_URL", url)
                .env("ORCAZAP_LLM_API_KEY", LLM_API_KEY)
                .env("ORCAZAP_LLM_MODEL", LLM_MODEL)
                .env("ORCAZAP_LLM_PRICE_INPUT_PER_1K", "0.1")
                .env("ORCAZAP_LLM_PRICE_OUTPUT_PER_1K", "0.4");
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let (i, u) = (input.clone(), llm.url.clone());
    let with = tokio::task::spawn_blocking(move || run(true, i, u))
        .await
        .unwrap();
    assert!(
        with.status.success(),
        "{}",
        String::from_utf8_lossy(&with.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(with.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["id"], "vago");
    assert_eq!(
        lines[0]["items"],
        json!([{"sku": "CIM-CP2-50", "quantity": 10}])
    );
    assert_eq!(lines[0]["unknown"], json!([]));
    assert_eq!(
        lines[1]["items"],
        json!([{"sku": "CIM-CP2-50", "quantity": 10}])
    );
    assert_eq!(
        llm.calls().len(),
        1,
        "only the vague case reached the model"
    );
    let stderr = String::from_utf8_lossy(&with.stderr);
    assert!(stderr.contains("1 consulta(s), 1 ajudaram"), "{stderr}");

    // Without the flag: the rules alone, and the model is never called.
    let (i, u) = (input.clone(), llm.url.clone());
    let without = tokio::task::spawn_blocking(move || run(false, i, u))
        .await
        .unwrap();
    assert!(without.status.success());
    let plain = String::from_utf8(without.stdout).unwrap();
    assert_eq!(
        plain.lines().next().unwrap(),
        r#"{"id":"vago","items":[],"location":{"bairro":"Grajaú"},"payment":"PIX","delivery":"amanha","unknown":["daqueles saco cinza"]}"#
    );
    assert!(without.stderr.is_empty());
    assert_eq!(llm.calls().len(), 1);

    // The flag without a configured model is a clear error, not a silent rules-only run.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_orcazap"));
    let out = cmd
        .args(["parse", "--catalog", catalog, "--assistant"])
        .env_remove("ORCAZAP_LLM_BASE_URL")
        .env_remove("ORCAZAP_LLM_MODEL")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("ORCAZAP_LLM_BASE_URL"));
}

/// The provider against the local server, without a store: a 500 is retried and a wrong key
/// is not; after five failed calls in a row the circuit opens and the next call never reaches
/// the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_retries_server_errors_not_refusals_and_opens_its_circuit() {
    use worker::assistant::{ChatProvider, ChatRequest, OpenAiCompatible, ProviderError};

    let llm = LlmMock::start().await;
    let provider = |key: &str, retries: u32| {
        OpenAiCompatible::new(OpenAiConfig {
            base_url: llm.url.clone(),
            api_key: Some(key.into()),
            model: LLM_MODEL.into(),
            request_timeout: Duration::from_millis(500),
            retries,
            deadline: Duration::from_secs(3),
        })
        .unwrap()
    };
    let req = ChatRequest {
        system: "s".into(),
        user: "u".into(),
        schema: worker::assistant::proposal::answer_schema(),
        max_tokens: 50,
    };
    // 500 then an answer: one call, two requests.
    llm.push(LlmReply::status(500));
    llm.push(LlmReply::content("{}"));
    let p = provider(LLM_API_KEY, 2);
    assert_eq!(p.complete(&req).await.unwrap().content, "{}");
    assert_eq!(llm.calls().len(), 2);
    // A wrong key is a refusal: not retried.
    let wrong = provider("sk-wrong", 2);
    assert_eq!(wrong.complete(&req).await, Err(ProviderError::Http(401)));
    assert_eq!(llm.calls().len(), 3);
    // Five failed calls open the circuit.
    llm.always(LlmReply::status(503));
    let p = provider(LLM_API_KEY, 0);
    for _ in 0..worker::assistant::provider::BREAKER_FAILURES {
        assert_eq!(p.complete(&req).await, Err(ProviderError::Http(503)));
    }
    let before = llm.calls().len();
    assert_eq!(p.complete(&req).await, Err(ProviderError::CircuitOpen));
    assert_eq!(llm.calls().len(), before, "an open circuit calls nobody");
}
