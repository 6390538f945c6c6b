//! The hand-off to a person, black-box (issue 12 items 2 and 3, issue 18 items 1 and 6):
//! every trigger puts the conversation in the waiting-for-a-person queue, the bot
//! acknowledges once and stays silent while it waits, a person's answer or hand-back takes it
//! out — on SQLite and PostgreSQL.

mod common;

use common::{fixture, text_webhook, TestApp};

testkit::both_engines!(
    TestApp;
    asking_for_a_person_is_acknowledged_once_then_silence,
    the_button_asks_for_a_person_after_the_quote,
    frustration_and_failed_attempts_queue_the_conversation,
    a_person_answers_and_hands_back,
    approval_message_said_once_and_a_decline_goes_to_a_person,
    a_send_refused_for_good_puts_the_conversation_in_front_of_a_person,
    a_failed_receipt_puts_the_conversation_in_front_of_a_person,
    a_failed_receipt_before_the_send_committed_still_reaches_a_person,
    a_day_old_message_redelivered_is_not_answered_but_shown_to_a_person,
);

const ACK: &str = "Já chamei alguém da equipe";

async fn conversation_of(app: &TestApp, wa_id: &str) -> store::conversations::Conversation {
    let t = app.demo_tenant().await;
    store::conversations::list(&app.db, &t.id, None, 50)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.contact_wa_id == wa_id)
        .expect("the customer's conversation")
}

fn texts_to(app: &TestApp, wa_id: &str) -> Vec<String> {
    app.graph
        .accepted()
        .iter()
        .filter(|c| c.to() == wa_id)
        .map(|c| c.text())
        .collect()
}

async fn says(app: &TestApp, wa_id: &str, wamid: &str, text: &str) {
    assert_eq!(
        app.webhook(&text_webhook(wa_id, wamid, text))
            .await
            .status(),
        200
    );
    app.drain().await;
}

async fn asking_for_a_person_is_acknowledged_once_then_silence(app: &TestApp) {
    const C: &str = "5511940000001";
    says(app, C, "wamid.H1", "quero falar com atendente").await;
    let conv = conversation_of(app, C).await;
    assert_eq!(conv.state, "WAITING_PERSON");
    assert!(conv.waiting_since.is_some());
    assert_eq!(
        conv.waiting_reason.as_deref(),
        Some(domain::handoff::ASKED),
        "the reason is shown to staff"
    );
    let sent = texts_to(app, C);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].contains(ACK), "{sent:?}");

    for (i, text) in ["oi?? alguém aí?", "??", "10 sacos de cimento", "alô"]
        .iter()
        .enumerate()
    {
        says(app, C, &format!("wamid.H1-{i}"), text).await;
    }
    assert_eq!(texts_to(app, C).len(), 1, "silent while waiting");
    let conv = conversation_of(app, C).await;
    assert_eq!(conv.state, "WAITING_PERSON");
    assert!(
        conv.unread >= 5,
        "stored and counted for staff: {}",
        conv.unread
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM messages WHERE conversation_id = '{}' AND direction = 'in' AND status = 'processed'",
            conv.id
        ))
        .await,
        5,
        "every message is stored and handled (shown, not answered)"
    );
    let t = app.demo_tenant().await;
    assert_eq!(
        store::conversations::waiting_for_person(&app.db, &t.id)
            .await
            .unwrap(),
        1
    );
}

async fn the_button_asks_for_a_person_after_the_quote(app: &TestApp) {
    const C: &str = "5511940000002";
    says(
        app,
        C,
        "wamid.B1",
        "10 sacos de cimento, entrega amanhã no Grajaú, pix",
    )
    .await;
    assert_eq!(conversation_of(app, C).await.state, "QUOTE_SENT");
    let tap = whatsapp::webhook::build_button_reply_webhook(
        "100000000000001",
        "5511933334444",
        C,
        None,
        "wamid.B2",
        None,
        domain::engine::BUTTON_HUMAN,
        "Falar com atendente",
        1_764_316_900,
    );
    assert_eq!(app.webhook(&tap).await.status(), 200);
    app.drain().await;
    let conv = conversation_of(app, C).await;
    assert_eq!(conv.state, "WAITING_PERSON");
    let sent = texts_to(app, C);
    assert_eq!(sent.len(), 2, "quote, then one acknowledgement: {sent:?}");
    assert!(sent[1].contains(ACK), "{sent:?}");
    // "sim" while waiting confirms nothing: a person decides.
    says(app, C, "wamid.B3", "sim").await;
    assert_eq!(texts_to(app, C).len(), 2);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM quotes WHERE status = 'accepted'")
            .await,
        0
    );
}

async fn frustration_and_failed_attempts_queue_the_conversation(app: &TestApp) {
    const F: &str = "5511940000003";
    says(app, F, "wamid.F1", "oi?? alguém aí?").await;
    assert_eq!(conversation_of(app, F).await.state, "CAPTURE_MIN");
    says(app, F, "wamid.F2", "oi?? alguém aí?").await;
    let conv = conversation_of(app, F).await;
    assert_eq!(conv.state, "WAITING_PERSON");
    assert!(
        conv.waiting_reason
            .unwrap_or_default()
            .contains("sem resposta"),
        "frustration is named"
    );
    let sent = texts_to(app, F);
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(!sent[0].contains(ACK) && sent[1].contains(ACK), "{sent:?}");

    const S: &str = "5511940000004";
    for (i, text) in ["bom dia", "hmm", "kkkk", "blz"].iter().enumerate() {
        says(app, S, &format!("wamid.S{i}"), text).await;
    }
    let conv = conversation_of(app, S).await;
    assert_eq!(conv.state, "WAITING_PERSON");
    assert!(
        conv.waiting_reason
            .unwrap_or_default()
            .contains("3 mensagens"),
        "three failed attempts are named"
    );
    let sent = texts_to(app, S);
    assert_eq!(
        sent.len(),
        4,
        "three tries, then the acknowledgement: {sent:?}"
    );
    assert!(sent[3].contains(ACK));
}

async fn a_person_answers_and_hands_back(app: &TestApp) {
    const C: &str = "5511940000005";
    says(
        app,
        C,
        "wamid.P1",
        "bom dia, preciso de 10 sacos de cimento",
    )
    .await;
    says(app, C, "wamid.P2", "quero falar com um atendente").await;
    let conv = conversation_of(app, C).await;
    assert_eq!(conv.state, "WAITING_PERSON");

    let staff = app.dashboard_login(orcazap::seed::DEMO_ATTENDANT).await;
    let r = staff
        .post(
            &format!("/conversas/{}/responder", conv.id),
            &[(
                "text",
                "Oi! Aqui é a Ana, da loja. Para quando é a entrega?",
            )],
        )
        .await;
    assert_eq!(r.status(), 303);
    app.drain().await;
    let conv = conversation_of(app, C).await;
    assert_eq!(conv.state, "CAPTURE_MIN", "out of the queue, where it was");
    assert!(conv.waiting_since.is_none() && conv.waiting_reason.is_none());
    assert!(
        conv.taken_over_by.is_some(),
        "the person who answered has it"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM messages WHERE conversation_id = '{}' AND direction = 'out' AND sent_by IS NOT NULL AND status = 'sent'",
            conv.id
        ))
        .await,
        1,
        "sent as the person"
    );
    let before = texts_to(app, C).len();
    says(app, C, "wamid.P3", "amanhã").await;
    assert_eq!(
        texts_to(app, C).len(),
        before,
        "the person has it: the bot is silent"
    );

    let r = staff
        .post(&format!("/conversas/{}/devolver", conv.id), &[])
        .await;
    assert_eq!(r.status(), 303);
    says(app, C, "wamid.P4", "no Grajaú, pix").await;
    let sent = texts_to(app, C);
    assert!(sent.len() > before, "the bot answers after the hand-back");
    assert!(
        sent.last().unwrap().contains("ORC-"),
        "and quotes with what it kept: {sent:?}"
    );

    // Handing back straight from the queue (no answer) resumes the bot too.
    const D: &str = "5511940000006";
    says(app, D, "wamid.P5", "atendente").await;
    let conv = conversation_of(app, D).await;
    assert_eq!(conv.state, "WAITING_PERSON");
    let r = staff
        .post(&format!("/conversas/{}/devolver", conv.id), &[])
        .await;
    assert_eq!(r.status(), 303);
    let conv = conversation_of(app, D).await;
    assert_eq!(conv.state, "CAPTURE_MIN");
    assert!(conv.taken_over_by.is_none());
    says(app, D, "wamid.P6", "bom dia").await;
    assert_eq!(texts_to(app, D).len(), 2, "the bot speaks again");
}

async fn approval_message_said_once_and_a_decline_goes_to_a_person(app: &TestApp) {
    const C: &str = "5511940000007";
    says(
        app,
        C,
        "wamid.A1",
        "quero 10 sacos de cimento, entrega amanhã em Itaquera, pago no pix",
    )
    .await;
    assert_eq!(conversation_of(app, C).await.state, "HUMAN_APPROVAL");
    assert_eq!(texts_to(app, C).len(), 1, "the wait message");
    says(app, C, "wamid.A2", "ok, obrigado").await;
    assert_eq!(texts_to(app, C).len(), 1, "said once, not on every message");
    says(app, C, "wamid.A3", "achei caro, vou pesquisar").await;
    let conv = conversation_of(app, C).await;
    assert_eq!(conv.state, "WAITING_PERSON");
    let why = conv.waiting_reason.unwrap_or_default();
    assert!(why.contains("achei caro, vou pesquisar"), "{why}");
    let sent = texts_to(app, C);
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(sent[1].contains(ACK));
    // The approval still waits and can be decided from the queue.
    let t = app.demo_tenant().await;
    let approvals =
        store::quotes::approvals(&app.db, &t.id, domain::status::ApprovalStatus::Pending, 10)
            .await
            .unwrap();
    assert_eq!(approvals.len(), 1);
    let staff = app.dashboard_login(orcazap::seed::DEMO_ATTENDANT).await;
    // No freight rule for the place: the approver sets it first (issue 12 item 5).
    let r = staff
        .post(
            &format!("/aprovacoes/{}/editar", approvals[0].id),
            &[("freight", "45,00")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let r = staff
        .post(&format!("/aprovacoes/{}/aprovar", approvals[0].id), &[])
        .await;
    assert_eq!(r.status(), 303);
    app.drain().await;
    let conv = conversation_of(app, C).await;
    assert_eq!(conv.state, "QUOTE_SENT");
    assert!(conv.waiting_since.is_none());
    assert!(texts_to(app, C).last().unwrap().contains("ORC-"));
}

async fn a_send_refused_for_good_puts_the_conversation_in_front_of_a_person(app: &TestApp) {
    const C: &str = "5511940000008";
    // 131026: message undeliverable — permanent, not retried.
    app.graph.script(
        400,
        serde_json::json!({"error": {"message": "(#131026) Message undeliverable", "type": "OAuthException", "code": 131026, "fbtrace_id": "A1"}}),
    );
    says(app, C, "wamid.R1", "oi, bom dia").await;
    let conv = conversation_of(app, C).await;
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM messages WHERE conversation_id = '{}' AND status = 'failed'",
            conv.id
        ))
        .await,
        1
    );
    assert_eq!(conv.state, "WAITING_PERSON", "visible in the queue");
    let why = conv.waiting_reason.unwrap_or_default();
    assert!(
        why.contains("131026") && why.contains("não a recebeu"),
        "{why}"
    );
    // The customer writes again: the bot stays silent, a person has to look.
    says(app, C, "wamid.R2", "10 sacos de cimento").await;
    assert!(
        texts_to(app, C).is_empty(),
        "nothing more goes out while it waits"
    );
}

/// Meta's `failed` receipt for `wamid`, code 131026 (undeliverable), from the fixture.
fn failed_receipt_for(wamid: &str) -> String {
    fixture("status_failed_undeliverable.json")
        .replace("wamid.OUTBOUND-QUOTE-000000000000002", wamid)
}

async fn a_failed_receipt_puts_the_conversation_in_front_of_a_person(app: &TestApp) {
    const C: &str = "5511940000009";
    says(
        app,
        C,
        "wamid.F1",
        "10 sacos de cimento, entrega amanhã no Grajaú, pix",
    )
    .await;
    let conv = conversation_of(app, C).await;
    assert_eq!(conv.state, "QUOTE_SENT");
    let quote_wamid = app
        .graph
        .accepted()
        .iter()
        .rev()
        .find(|c| c.to() == C)
        .and_then(|c| c.wamid().map(str::to_string))
        .expect("the quote went out with Meta's id");
    // The quote was accepted by the API, then Meta could not deliver it.
    let receipt = failed_receipt_for(&quote_wamid);
    assert_eq!(app.webhook(&receipt).await.status(), 200);
    let conv = conversation_of(app, C).await;
    assert_eq!(conv.state, "WAITING_PERSON", "visible in the queue");
    let why = conv.waiting_reason.clone().unwrap_or_default();
    assert!(
        why.contains("131026") && why.contains("não a recebeu"),
        "{why}"
    );
    // Meta redelivers the same receipt: still one conversation waiting, nothing sent.
    let sent_before = app.graph.calls().len();
    assert_eq!(app.webhook(&receipt).await.status(), 200);
    app.drain().await;
    let again = conversation_of(app, C).await;
    assert_eq!(again.state, "WAITING_PERSON");
    assert_eq!(again.waiting_since, conv.waiting_since, "queued once");
    assert_eq!(
        app.graph.calls().len(),
        sent_before,
        "receipts never cause a send"
    );
}

async fn a_failed_receipt_before_the_send_committed_still_reaches_a_person(app: &TestApp) {
    const C: &str = "5511940000010";
    assert_eq!(
        app.webhook(&text_webhook(C, "wamid.E1", "oi, bom dia"))
            .await
            .status(),
        200
    );
    // The mock names its answers wamid.MOCK-1, -2, …: the greeting will be the next one.
    // Its `failed` receipt arrives first, before the worker has sent anything, and is kept.
    let next = format!("wamid.MOCK-{}", app.graph.calls().len() + 1);
    assert_eq!(app.webhook(&failed_receipt_for(&next)).await.status(), 200);
    assert!(texts_to(app, C).is_empty(), "nothing sent yet");
    app.drain().await;
    let conv = conversation_of(app, C).await;
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM messages WHERE conversation_id = '{}' AND status = 'failed' AND error_code = 131026",
            conv.id
        ))
        .await,
        1,
        "the early receipt was applied when the send committed"
    );
    assert_eq!(conv.state, "WAITING_PERSON");
    assert!(conv.waiting_reason.unwrap_or_default().contains("131026"));
}

async fn a_day_old_message_redelivered_is_not_answered_but_shown_to_a_person(app: &TestApp) {
    const C: &str = "5511940000011";
    // Meta redelivers, after an outage on our side, a message the customer sent 25 h ago: its
    // window closed an hour ago, so WhatsApp would refuse any free-form answer (131047).
    let sent_at = store::now_ms() / 1000 - 25 * 3600;
    let old = whatsapp::webhook::build_text_webhook(
        "100000000000001",
        "5511933334444",
        C,
        Some("Cliente Teste"),
        "wamid.OLD1",
        "10 sacos de cimento, entrega amanhã no Grajaú, pix",
        sent_at,
    );
    assert_eq!(app.webhook(&old).await.status(), 200);
    app.drain().await;
    assert!(
        texts_to(app, C).is_empty(),
        "nothing attempted outside the window"
    );
    assert!(
        app.graph.calls().iter().all(|c| c.to() != C),
        "not even a refused attempt"
    );
    let conv = conversation_of(app, C).await;
    assert_eq!(conv.state, "WAITING_PERSON");
    assert!(
        conv.waiting_reason
            .unwrap_or_default()
            .contains("janela de 24 h"),
        "staff read why"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM messages WHERE conversation_id = '{}' AND direction = 'out' AND status = 'failed'",
            conv.id
        ))
        .await,
        1,
        "the answer the bot wrote is kept, failed, with the reason"
    );
}
