//! The delivery day, black-box (issue 12 item 4): webhook → worker → engine → mock Graph API.
//! "entrega dia 12" is an answer (it once looped on "só falta o dia da entrega"), the day
//! question carries Hoje / Amanhã / Outro dia buttons and a tap answers it, and a question
//! asked twice without an answer puts the conversation in front of a person — on SQLite and
//! PostgreSQL.

mod common;

use common::{text_webhook, TestApp};
use domain::slots::Delivery;

testkit::both_engines!(
    TestApp;
    entrega_dia_12_completes_the_order,
    a_tap_on_amanha_completes_the_order,
    two_unanswered_day_questions_go_to_a_person,
);

const ALL_BUT_THE_DAY: &str = "10 sacos de cimento, entrega no Grajaú, pago no pix";

async fn says(app: &TestApp, wa_id: &str, wamid: &str, text: &str) {
    assert_eq!(
        app.webhook(&text_webhook(wa_id, wamid, text))
            .await
            .status(),
        200
    );
    app.drain().await;
}

async fn taps(app: &TestApp, wa_id: &str, wamid: &str, id: &str, title: &str) {
    let body = whatsapp::webhook::build_button_reply_webhook(
        "100000000000001",
        "5511933334444",
        wa_id,
        None,
        wamid,
        None,
        id,
        title,
        store::now_ms() / 1000,
    );
    assert_eq!(app.webhook(&body).await.status(), 200);
    app.drain().await;
}

fn sent_to(app: &TestApp, wa_id: &str) -> Vec<testkit::GraphCall> {
    app.graph
        .accepted()
        .into_iter()
        .filter(|c| c.to() == wa_id)
        .collect()
}

/// The reply buttons of a call, as (id, title).
fn buttons(call: &testkit::GraphCall) -> Vec<(String, String)> {
    call.body["interactive"]["action"]["buttons"]
        .as_array()
        .map(|bs| {
            bs.iter()
                .map(|b| {
                    (
                        b["reply"]["id"].as_str().unwrap_or_default().to_string(),
                        b["reply"]["title"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn day_buttons() -> Vec<(String, String)> {
    vec![
        ("day:today".to_string(), "Hoje".to_string()),
        ("day:tomorrow".to_string(), "Amanhã".to_string()),
        ("day:other".to_string(), "Outro dia".to_string()),
    ]
}

async fn conversation_of(app: &TestApp, wa_id: &str) -> store::conversations::Conversation {
    let t = app.demo_tenant().await;
    store::conversations::list(&app.db, &t.id, None, 50)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.contact_wa_id == wa_id)
        .expect("the customer's conversation")
}

/// The store's today (the demo store is in São Paulo).
fn today() -> chrono::NaiveDate {
    domain::clock::StoreClock::default().date_of(store::now_ms())
}

/// Asks for the day (with the buttons), then taps "Confirmar" on the quote that follows the
/// answer; returns the quote's text.
async fn quoted_then_accepted(app: &TestApp, wa: &str, answer: impl AsyncFnOnce()) -> String {
    says(app, wa, &format!("wamid.{wa}.1"), ALL_BUT_THE_DAY).await;
    let sent = sent_to(app, wa);
    assert_eq!(sent.len(), 1, "one question: {sent:?}");
    assert!(sent[0].is_interactive());
    assert!(
        sent[0].text().contains("o dia da entrega"),
        "{}",
        sent[0].text()
    );
    assert_eq!(buttons(&sent[0]), day_buttons());

    answer().await;
    let sent = sent_to(app, wa);
    assert_eq!(sent.len(), 2, "the answer is quoted at once: {sent:?}");
    let quote = sent[1].text();
    assert!(quote.contains("R$"), "{quote}");
    assert!(
        !quote.contains("só falta"),
        "the day is not asked again: {quote}"
    );
    let accept = buttons(&sent[1])
        .into_iter()
        .find(|(id, _)| id.starts_with("quote_accept:"))
        .expect("the quote's Confirmar button")
        .0;
    taps(app, wa, &format!("wamid.{wa}.9"), &accept, "Confirmar").await;
    let conv = conversation_of(app, wa).await;
    assert_eq!(conv.state, "WON");
    let sent = sent_to(app, wa);
    // The confirmation, then the PIX code alone (the order pays by PIX), then the question
    // for the delivery address (issue 15 item 4).
    assert!(sent.last().unwrap().text().contains("endereço"));
    assert!(sent[sent.len() - 2].text().starts_with("000201"));
    assert!(
        sent[sent.len() - 3].text().contains("confirmado"),
        "{}",
        sent[sent.len() - 3].text()
    );
    quote
}

async fn entrega_dia_12_completes_the_order(app: &TestApp) {
    const C: &str = "5511950000001";
    let quote = quoted_then_accepted(app, C, async || {
        says(app, C, "wamid.D12", "entrega dia 12").await;
    })
    .await;
    let day = Delivery::DayOfMonth(12).resolve(today()).unwrap();
    let want = format!("dia 12 ({})", domain::clock::day_br(day));
    assert!(quote.contains(&want), "{want} in {quote}");
    // Only the cement: neither "dia" nor 12 became an item or an unknown product.
    assert!(quote.contains("10 sc — Cimento"), "{quote}");
    assert_eq!(quote.matches(" — ").count(), 1, "one line: {quote}");
    assert!(!quote.contains("Não encontrei"), "{quote}");
    let t = app.demo_tenant().await;
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM quotes WHERE tenant_id = '{}' AND status = 'accepted'",
            t.id
        ))
        .await,
        1
    );
}

async fn a_tap_on_amanha_completes_the_order(app: &TestApp) {
    const C: &str = "5511950000002";
    let quote = quoted_then_accepted(app, C, async || {
        taps(app, C, "wamid.TAP", "day:tomorrow", "Amanhã").await;
    })
    .await;
    let tomorrow = Delivery::Amanha.resolve(today()).unwrap();
    let want = format!("amanhã ({})", domain::clock::day_br(tomorrow));
    assert!(quote.contains(&want), "{want} in {quote}");
}

async fn two_unanswered_day_questions_go_to_a_person(app: &TestApp) {
    const C: &str = "5511950000003";
    says(app, C, "wamid.N1", ALL_BUT_THE_DAY).await;
    says(app, C, "wamid.N2", "vou ver aqui").await;
    let sent = sent_to(app, C);
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(sent.iter().all(|c| buttons(c) == day_buttons()));
    says(app, C, "wamid.N3", "certo").await;
    let sent = sent_to(app, C);
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert!(
        !sent[2].is_interactive() && sent[2].text().contains("Já chamei alguém da equipe"),
        "a person is called, not a third question: {}",
        sent[2].text()
    );
    let conv = conversation_of(app, C).await;
    assert_eq!(conv.state, "WAITING_PERSON");
    let why = conv.waiting_reason.expect("a reason staff can read");
    assert!(why.contains("o dia da entrega"), "{why}");
    // Silent from then on.
    says(app, C, "wamid.N4", "e aí").await;
    assert_eq!(sent_to(app, C).len(), 3);
}
