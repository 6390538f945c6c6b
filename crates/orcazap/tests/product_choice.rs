//! "When unsure, ask — with WhatsApp's own controls" (issue 13), black-box: webhook →
//! worker → engine → mock Graph API. "30 metros de fio" in the demo store (fio 2,5 and fio 4
//! by the metre) gets one list message whose rows are the two fios; the customer's tap comes
//! back as Meta's `list_reply` webhook, the draft takes that fio with the 30 m, and the quote
//! follows. A typed answer works the same way; the store's default cement is never asked
//! about — on SQLite and PostgreSQL.

mod common;

use common::{text_webhook, TestApp};

testkit::both_engines!(
    TestApp;
    a_tapped_row_is_quoted_with_the_amount_given,
    a_typed_answer_is_quoted_too,
    the_default_cement_is_never_asked_about,
);

const THE_REST: &str = ", entrega amanhã no Grajaú, pago no pix";

async fn says(app: &TestApp, wa_id: &str, wamid: &str, text: &str) {
    assert_eq!(
        app.webhook(&text_webhook(wa_id, wamid, text))
            .await
            .status(),
        200
    );
    app.drain().await;
}

fn sent_to(app: &TestApp, wa_id: &str) -> Vec<testkit::GraphCall> {
    app.graph
        .accepted()
        .into_iter()
        .filter(|c| c.to() == wa_id)
        .collect()
}

/// The rows of a list message as Meta received it: (id, title, description).
fn rows(call: &testkit::GraphCall) -> Vec<(String, String, String)> {
    assert_eq!(call.body["interactive"]["type"], "list", "{}", call.body);
    call.body["interactive"]["action"]["sections"][0]["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or_default().to_string();
            (s("id"), s("title"), s("description"))
        })
        .collect()
}

async fn asked_which_fio(app: &TestApp, wa: &str) -> Vec<(String, String, String)> {
    says(
        app,
        wa,
        &format!("wamid.{wa}.1"),
        &format!("preciso de 30 metros de fio{THE_REST}"),
    )
    .await;
    let sent = sent_to(app, wa);
    assert_eq!(sent.len(), 1, "one question: {sent:?}");
    let body = sent[0].body["interactive"]["body"]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(body.contains("Qual *fio*"), "{body}");
    assert_eq!(
        sent[0].body["interactive"]["action"]["button"],
        "Ver opções"
    );
    let rows = rows(&sent[0]);
    let ids: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(ids, ["choice:CAB-25M", "choice:CAB-40M"]);
    for (_, title, description) in &rows {
        assert!(title.chars().count() <= 24, "{title}");
        assert!(description.contains("R$"), "{description}");
    }
    rows
}

fn quote_of(app: &TestApp, wa: &str) -> String {
    let sent = sent_to(app, wa);
    let last = sent.last().expect("an answer").text();
    assert!(last.contains("R$"), "a quote: {last}");
    last
}

async fn a_tapped_row_is_quoted_with_the_amount_given(app: &TestApp) {
    const C: &str = "5511950000101";
    let rows = asked_which_fio(app, C).await;
    let (id, title, description) = &rows[1];
    let tap = whatsapp::webhook::build_list_reply_webhook(
        "100000000000001",
        "5511933334444",
        C,
        None,
        "wamid.CHOICE-TAP",
        None,
        id,
        title,
        Some(description),
        store::now_ms() / 1000,
    );
    assert_eq!(app.webhook(&tap).await.status(), 200);
    app.drain().await;
    let quote = quote_of(app, C);
    assert!(quote.contains("30 m — Cabo flexível 4mm²"), "{quote}");
    assert_eq!(quote.matches(" — ").count(), 1, "one line: {quote}");
    assert!(!quote.contains("Não encontrei"), "{quote}");
    // The tap is stored as the customer's message, as Meta sent it.
    let t = app.demo_tenant().await;
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM messages WHERE tenant_id = '{}' AND kind = 'list_reply'",
            t.id
        ))
        .await,
        1
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM messages WHERE tenant_id = '{}' AND kind = 'list' \
             AND direction = 'out'",
            t.id
        ))
        .await,
        1
    );
}

async fn a_typed_answer_is_quoted_too(app: &TestApp) {
    const C: &str = "5511950000102";
    asked_which_fio(app, C).await;
    says(app, C, "wamid.TYPED", "o de 2,5").await;
    let quote = quote_of(app, C);
    assert!(quote.contains("30 m — Cabo flexível 2,5mm²"), "{quote}");
}

async fn the_default_cement_is_never_asked_about(app: &TestApp) {
    const C: &str = "5511950000103";
    says(
        app,
        C,
        "wamid.CEM",
        &format!("quero 10 sacos de cimento{THE_REST}"),
    )
    .await;
    let sent = sent_to(app, C);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_ne!(sent[0].body["interactive"]["type"], "list");
    assert!(
        sent[0].text().contains("10 sc — Cimento CP-II"),
        "{}",
        sent[0].text()
    );
}
