//! What the customer asked for never vanishes, and a change does what they mean (issue 12
//! items 6 and 7, issue 13 group 4), black-box: webhook → worker → mock Graph API, on SQLite
//! and PostgreSQL. An unknown product is listed in the quote and shown to staff; "Alterar"
//! asks what to change and quotes again only once the change arrives; "tira a areia" after a
//! quote is said back and quoted again without the areia.

mod common;

use common::{text_webhook, TestApp};

testkit::both_engines!(
    TestApp;
    an_unknown_product_is_listed_in_the_quote_and_shown_to_staff,
    alterar_asks_what_to_change_then_quotes_the_change,
    tira_a_areia_after_the_quote_is_said_back_and_requoted,
);

const ORDER: &str =
    "10 sacos de cimento e 2 metros de areia média, entrega amanhã no Grajaú, pago no pix";

async fn says(app: &TestApp, wa_id: &str, wamid: &str, text: &str) {
    assert_eq!(
        app.webhook(&text_webhook(wa_id, wamid, text))
            .await
            .status(),
        200
    );
    app.drain().await;
}

fn texts_to(app: &TestApp, wa_id: &str) -> Vec<String> {
    app.graph
        .accepted()
        .iter()
        .filter(|c| c.to() == wa_id)
        .map(|c| c.text())
        .collect()
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

/// (number, status) of every quote, oldest first.
async fn quotes(app: &TestApp) -> Vec<(String, String)> {
    use sqlx::Row;
    sqlx::query("SELECT number, status FROM quotes ORDER BY created_at, number")
        .fetch_all(app.db.read())
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

async fn an_unknown_product_is_listed_in_the_quote_and_shown_to_staff(app: &TestApp) {
    const C: &str = "5511950000001";
    says(
        app,
        C,
        "wamid.U1",
        "2 portas de madeira e 10 sacos de cimento, entrega amanhã no Grajaú, pix",
    )
    .await;
    let sent = texts_to(app, C);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        sent[0].contains("Não encontrei 'portas de madeira'"),
        "named back: {sent:?}"
    );
    says(app, C, "wamid.U2", "isso mesmo").await;
    let conv = conversation_of(app, C).await;
    assert_eq!(conv.state, "HUMAN_APPROVAL");

    let staff = app.dashboard_login(orcazap::seed::DEMO_ATTENDANT).await;
    let (status, page) = staff.get(&format!("/conversas/{}", conv.id)).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("id=\"unknown-items\"") && page.contains("portas de madeira"),
        "the conversation page shows the unknown product"
    );
    let t = app.demo_tenant().await;
    let approvals =
        store::quotes::approvals(&app.db, &t.id, domain::status::ApprovalStatus::Pending, 10)
            .await
            .unwrap();
    assert_eq!(approvals.len(), 1);
    let (status, page) = staff.get(&format!("/aprovacoes/{}", approvals[0].id)).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("id=\"quote-unknown\"") && page.contains("portas de madeira"),
        "the approval page shows it too"
    );
    let r = staff
        .post(&format!("/aprovacoes/{}/aprovar", approvals[0].id), &[])
        .await;
    assert_eq!(r.status(), 303);
    app.drain().await;
    let quote = texts_to(app, C).last().cloned().unwrap_or_default();
    assert!(quote.contains("ORC-"), "{quote}");
    assert!(
        quote.contains("Não incluído: portas de madeira — vamos verificar."),
        "{quote}"
    );
    assert!(quote.contains("Cimento CP-II-E-32 50kg"), "{quote}");
}

async fn alterar_asks_what_to_change_then_quotes_the_change(app: &TestApp) {
    const C: &str = "5511950000002";
    says(app, C, "wamid.A1", ORDER).await;
    let shown = quotes(app).await;
    assert_eq!(shown.len(), 1, "{shown:?}");
    let n1 = shown[0].0.clone();
    let before = texts_to(app, C).len();

    let tap = whatsapp::webhook::build_button_reply_webhook(
        "100000000000001",
        "5511933334444",
        C,
        None,
        "wamid.A2",
        None,
        &format!("quote_change:{n1}"),
        "Alterar",
        store::now_ms() / 1000,
    );
    assert_eq!(app.webhook(&tap).await.status(), 200);
    app.drain().await;
    let sent = texts_to(app, C);
    assert_eq!(sent.len(), before + 1, "one answer to the tap: {sent:?}");
    assert_eq!(sent[before], domain::engine::WHAT_TO_CHANGE);
    let shown = quotes(app).await;
    assert_eq!(
        shown,
        vec![(n1.clone(), "sent".to_string())],
        "no new quote until the change arrives"
    );

    says(app, C, "wamid.A3", "mais 5 sacos de cimento").await;
    let sent = texts_to(app, C);
    assert_eq!(sent.len(), before + 3, "{sent:?}");
    assert!(
        sent[before + 1].starts_with("Certo, *Cimento CP-II-E-32 50kg* agora é 15"),
        "{sent:?}"
    );
    let shown = quotes(app).await;
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert_eq!(shown[0].1, "superseded");
    let n2 = &shown[1].0;
    assert!(
        sent[before + 2].contains(n2.as_str()) && sent[before + 2].contains("15 sc"),
        "{sent:?}"
    );
}

async fn tira_a_areia_after_the_quote_is_said_back_and_requoted(app: &TestApp) {
    const C: &str = "5511950000003";
    says(app, C, "wamid.T1", ORDER).await;
    let first = texts_to(app, C).last().cloned().unwrap_or_default();
    assert!(first.contains("Areia média lavada"), "{first}");
    says(app, C, "wamid.T2", "tira a areia").await;
    let sent = texts_to(app, C);
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert_eq!(sent[1], "Certo, tirei *Areia média lavada (m³)*.");
    let shown = quotes(app).await;
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert!(sent[2].contains(shown[1].0.as_str()), "{sent:?}");
    assert!(!sent[2].contains("Areia"), "{}", sent[2]);
    assert!(sent[2].contains("Cimento CP-II-E-32 50kg"), "{}", sent[2]);
    assert_eq!(conversation_of(app, C).await.state, "QUOTE_SENT");
}
