//! The quote's reply buttons against what Meta really sends (issue 18 items 2 and 3): a tap
//! carries the button's id and the id of the message that showed it (`context.id`); the
//! customer-service window and the quote's validity are different clocks. Webhook → worker →
//! mock Graph API, on SQLite and PostgreSQL.

mod common;

use common::{text_webhook, TestApp};
use sqlx::Row;

testkit::both_engines!(
    TestApp;
    tap_on_a_replaced_quote_confirms_nothing_and_offers_the_current_one,
    confirmar_at_hour_25_of_a_48_hour_quote_is_confirmed,
    silent_conversation_without_a_quote_is_still_lost_when_the_window_closes,
    window_is_measured_from_metas_timestamp,
    paying_by_card_gets_no_pix_code,
);

const CUSTOMER: &str = "5511922220000";
const ORDER: &str = "bom dia, preciso de 10 sacos de cimento e 2 metros de areia média, entrega amanhã no Grajaú, pago no pix";

/// Meta's tap on one of our reply buttons, `context.id` naming the message that carried it.
fn tap(wamid: &str, context: Option<&str>, button_id: &str) -> String {
    whatsapp::webhook::build_button_reply_webhook(
        "100000000000001",
        "5511933334444",
        CUSTOMER,
        None,
        wamid,
        context,
        button_id,
        "Confirmar",
        now_s(),
    )
}

fn now_s() -> i64 {
    store::now_ms() / 1000
}

/// (number, total in centavos, status, Meta's id of the message that showed it) per quote,
/// oldest first.
async fn quotes_shown(app: &TestApp) -> Vec<(String, i64, String, String)> {
    let quotes = sqlx::query(
        "SELECT number, total_cents, status, created_at FROM quotes ORDER BY created_at, number",
    )
    .fetch_all(app.db.read())
    .await
    .unwrap();
    let sent = sqlx::query(
        "SELECT provider_message_id, body FROM messages WHERE direction = 'out' AND kind = 'buttons'
         ORDER BY created_at, id",
    )
    .fetch_all(app.db.read())
    .await
    .unwrap();
    quotes
        .iter()
        .map(|q| {
            let number: String = q.get(0);
            let wamid = sent
                .iter()
                .find(|m| m.get::<String, _>(1).contains(&number))
                .map(|m| m.get::<Option<String>, _>(0).unwrap_or_default())
                .unwrap_or_default();
            (number, q.get(1), q.get(2), wamid)
        })
        .collect()
}

fn button_ids(call: &testkit::GraphCall) -> Vec<String> {
    call.body["interactive"]["action"]["buttons"]
        .as_array()
        .map(|b| {
            b.iter()
                .map(|b| b["reply"]["id"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Quote #1, then the customer changes the order and gets #2 at another price. "Confirmar"
/// on #1 — by its `context.id` with the old fixed id, or by #1's own button id — confirms
/// nothing and names #2 with its total and its buttons; "Confirmar" on #2 confirms #2 at
/// #2's total.
async fn tap_on_a_replaced_quote_confirms_nothing_and_offers_the_current_one(app: &TestApp) {
    app.webhook(&text_webhook(CUSTOMER, "wamid.B1", ORDER))
        .await;
    app.drain().await;
    let first = app
        .graph
        .calls()
        .last()
        .cloned()
        .expect("quote #1 went out");
    let shown = quotes_shown(app).await;
    assert_eq!(shown.len(), 1, "{shown:?}");
    let (n1, total1, _, wamid1) = shown[0].clone();
    assert!(!wamid1.is_empty(), "quote #1's message was sent: {shown:?}");
    assert_eq!(
        button_ids(&first),
        vec![
            format!("quote_accept:{n1}"),
            format!("quote_change:{n1}"),
            format!("quote_human:{n1}"),
        ],
        "the buttons name the quote they belong to"
    );

    app.webhook(&text_webhook(
        CUSTOMER,
        "wamid.B2",
        "na verdade são 15 sacos",
    ))
    .await;
    app.drain().await;
    let shown = quotes_shown(app).await;
    assert_eq!(shown.len(), 2, "a revision was sent: {shown:?}");
    let (n2, total2, status2, wamid2) = shown[1].clone();
    assert_eq!(shown[0].2, "superseded");
    assert_eq!(status2, "sent");
    assert_ne!(total1, total2, "the revision has another price");
    let total2_brl = domain::money::Centavos(total2).to_brl();

    // Old buttons already out there carry the bare id: the quote is #1's through context.id.
    let before = app.graph.calls().len();
    app.webhook(&tap("wamid.B3", Some(&wamid1), "quote_accept"))
        .await;
    // And #1's own button (its id names #1), as Meta sends it.
    app.webhook(&tap(
        "wamid.B4",
        Some(&wamid1),
        &format!("quote_accept:{n1}"),
    ))
    .await;
    app.drain().await;
    let answers = app.graph.calls()[before..].to_vec();
    assert_eq!(answers.len(), 2, "one answer per tap: {answers:?}");
    let kept = format!(
        "SELECT COUNT(*) FROM messages WHERE direction = 'in' AND kind = 'button' AND payload_json LIKE '%\"context_id\":\"{wamid1}\"%'"
    );
    assert_eq!(
        app.count(&kept).await,
        2,
        "context.id is stored with each tap"
    );
    for a in &answers {
        let text = a.text();
        assert!(text.contains(&n1) && text.contains(&n2), "{text}");
        assert!(text.contains(&total2_brl), "names #2's total: {text}");
        assert!(!text.contains("confirmado"), "{text}");
        assert_eq!(
            button_ids(a),
            vec![
                format!("quote_accept:{n2}"),
                format!("quote_change:{n2}"),
                format!("quote_human:{n2}"),
            ],
            "offers #2 with its buttons"
        );
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM quotes WHERE status = 'accepted'")
            .await,
        0,
        "nothing confirmed on a tap of #1"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM conversations WHERE state = 'QUOTE_SENT'")
            .await,
        1
    );

    // "Confirmar" on #2 confirms #2 at #2's total.
    app.webhook(&tap(
        "wamid.B5",
        Some(&wamid2),
        &format!("quote_accept:{n2}"),
    ))
    .await;
    app.drain().await;
    let calls = app.graph.calls();
    // Confirmation, PIX code, then the delivery address question (issue 15 item 4).
    assert!(calls[calls.len() - 1].text().contains("endereço"));
    let confirmation = calls[calls.len() - 3].text();
    assert!(
        confirmation.contains("confirmado") && confirmation.contains(&n2),
        "{confirmation}"
    );
    // The PIX code that follows is for #2's total, never #1's.
    let pix = common::pix_fields(&calls[calls.len() - 2].text());
    assert_eq!(pix["54"], format!("{}.{:02}", total2 / 100, total2 % 100));
    let accepted = format!(
        "SELECT COUNT(*) FROM quotes WHERE status = 'accepted' AND number = '{n2}' AND total_cents = {total2}"
    );
    assert_eq!(app.count(&accepted).await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM conversations WHERE state = 'WON'")
            .await,
        1
    );
}

/// Moves the conversation `hours` into the past, as if that much time had gone by since the
/// customer's last message and since the quote was sent (no clock is injected: the stored
/// times move, as the expiry tests elsewhere do).
async fn hours_pass(app: &TestApp, hours: i64) {
    let ms = hours * 3_600_000;
    for sql in [
        "UPDATE conversations SET window_expires_at = window_expires_at - $1, last_message_at = last_message_at - $1",
        "UPDATE quotes SET valid_until = valid_until - $1, created_at = created_at - $1",
        "UPDATE jobs SET run_at = run_at - $1 WHERE status = 'ready'",
    ] {
        sqlx::query(sql)
            .bind(ms)
            .execute(app.db.write())
            .await
            .unwrap();
    }
}

/// Runs the scheduled jobs of `kind` that are due by now; returns how many ran.
async fn run_due(app: &TestApp, kind: &str) -> usize {
    app.drain()
        .await
        .iter()
        .filter(|(j, o)| j.kind == kind && *o == worker::Outcome::Done)
        .count()
}

/// The demo store's quotes hold for 48 h. At hour 25 the customer's 24 h window has closed
/// and its job has run: the quote is still valid and the conversation still open, so
/// "Confirmar" confirms it at its price — not the first-contact greeting of a new
/// conversation. The quote's own clock still ends it at hour 48.
async fn confirmar_at_hour_25_of_a_48_hour_quote_is_confirmed(app: &TestApp) {
    app.webhook(&text_webhook(CUSTOMER, "wamid.H1", ORDER))
        .await;
    app.drain().await;
    let shown = quotes_shown(app).await;
    assert_eq!(shown.len(), 1, "{shown:?}");
    let (number, total, _, wamid) = shown[0].clone();
    let valid_for = app
        .count("SELECT MAX(valid_until - created_at) FROM quotes")
        .await;
    assert_eq!(valid_for / 3_600_000, 48, "the demo store's validity");

    hours_pass(app, 25).await;
    assert_eq!(
        run_due(app, worker::WINDOW_EXPIRE_JOB).await,
        1,
        "the window job ran at hour 24"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM conversations WHERE state = 'QUOTE_SENT'")
            .await,
        1,
        "the closed window does not end the sale"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM quotes WHERE status = 'sent'")
            .await,
        1,
        "the quote holds until its own validity"
    );
    assert_eq!(
        run_due(app, worker::QUOTE_EXPIRE_JOB).await,
        0,
        "the quote is not due yet"
    );

    let before = app.graph.calls().len();
    app.webhook(&tap(
        "wamid.H2",
        Some(&wamid),
        &format!("quote_accept:{number}"),
    ))
    .await;
    app.drain().await;
    let answers = app.graph.calls()[before..].to_vec();
    assert_eq!(
        answers.len(),
        3,
        "the confirmation, the PIX code and the address question: {answers:?}"
    );
    assert!(answers[1].text().starts_with("000201"), "{answers:?}");
    assert!(answers[2].text().contains("endereço"), "{answers:?}");
    let text = answers[0].text();
    assert!(
        text.contains("confirmado") && text.contains(&number),
        "{text}"
    );
    assert!(
        !text.contains("produtos e quantidades"),
        "not the greeting: {text}"
    );
    let accepted =
        format!("SELECT COUNT(*) FROM quotes WHERE status = 'accepted' AND total_cents = {total}");
    assert_eq!(app.count(&accepted).await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM conversations WHERE state = 'WON'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM conversations").await,
        1,
        "the tap landed in the same conversation"
    );
}

/// SPEC: "silent conversations move to LOST on schedule". A conversation with nothing pending
/// (the bot asked for data, no quote) is still closed when the window ends.
async fn silent_conversation_without_a_quote_is_still_lost_when_the_window_closes(app: &TestApp) {
    app.webhook(&text_webhook(CUSTOMER, "wamid.S1", "oi, bom dia"))
        .await;
    app.drain().await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM conversations WHERE state = 'CAPTURE_MIN'")
            .await,
        1
    );
    hours_pass(app, 25).await;
    assert_eq!(run_due(app, worker::WINDOW_EXPIRE_JOB).await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM conversations WHERE state = 'LOST'")
            .await,
        1
    );
}

fn text_at(wamid: &str, text: &str, meta_timestamp_s: i64) -> String {
    whatsapp::webhook::build_text_webhook(
        "100000000000001",
        "5511933334444",
        CUSTOMER,
        None,
        wamid,
        text,
        meta_timestamp_s,
    )
}

async fn window_expires_at(app: &TestApp) -> i64 {
    app.count("SELECT MAX(window_expires_at) FROM conversations")
        .await
}

/// Meta measures the 24 h from its message timestamp: a webhook that reaches us two hours
/// late leaves 22 h, not 24. A message older than the last one (delivered out of order) does
/// not shorten the window, and a timestamp ahead of our clock does not stretch it.
async fn window_is_measured_from_metas_timestamp(app: &TestApp) {
    const DAY_MS: i64 = 24 * 3_600_000;
    let written = now_s() - 2 * 3600;
    app.webhook(&text_at("wamid.M1", "oi, bom dia", written))
        .await;
    assert_eq!(
        window_expires_at(app).await,
        written * 1000 + DAY_MS,
        "24 h from Meta's timestamp"
    );
    let older = written - 3600;
    app.webhook(&text_at("wamid.M2", "tem cimento?", older))
        .await;
    assert_eq!(
        window_expires_at(app).await,
        written * 1000 + DAY_MS,
        "an older message does not shorten it"
    );
    let before = store::now_ms();
    app.webhook(&text_at("wamid.M3", "e areia?", now_s() + 3600))
        .await;
    let after = store::now_ms();
    let w = window_expires_at(app).await;
    assert!(
        (before + DAY_MS..=after + DAY_MS).contains(&w),
        "a timestamp ahead of ours counts from our receipt: {w} not in {}..={}",
        before + DAY_MS,
        after + DAY_MS
    );
    let stored = app
        .count("SELECT COUNT(*) FROM messages WHERE direction = 'in' AND provider_timestamp IS NOT NULL")
        .await;
    assert_eq!(stored, 3, "Meta's timestamp is kept with each message");
}

/// The PIX code follows a confirmation only when the customer pays by PIX.
async fn paying_by_card_gets_no_pix_code(app: &TestApp) {
    let order = ORDER.replace("pago no pix", "pago no cartão");
    app.webhook(&text_webhook(CUSTOMER, "wamid.C1", &order))
        .await;
    app.drain().await;
    let (number, _, _, wamid) = quotes_shown(app).await[0].clone();
    let before = app.graph.calls().len();
    app.webhook(&tap(
        "wamid.C2",
        Some(&wamid),
        &format!("quote_accept:{number}"),
    ))
    .await;
    app.drain().await;
    let answers = app.graph.calls()[before..].to_vec();
    assert_eq!(
        answers.len(),
        2,
        "the confirmation and the address question, no PIX code: {answers:?}"
    );
    assert!(answers[1].text().contains("endereço"), "{answers:?}");
    let text = answers[0].text();
    assert!(
        text.contains("confirmado") && text.contains("cartão"),
        "{text}"
    );
    assert!(!text.contains("Pix copia e cola"), "{text}");
}
