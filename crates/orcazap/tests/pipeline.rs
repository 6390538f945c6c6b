//! The main path, black-box: signed webhook → stored and queued in one transaction → worker
//! → conversation engine → Graph API (mock) — on SQLite and PostgreSQL.

mod common;

use common::{fixture, text_webhook, TestApp, APP_SECRET, VERIFY_TOKEN};

on_both_engines!(
    first_message_gets_the_data_capture_prompt,
    full_request_is_quoted_and_accepted,
    unknown_freight_goes_to_approval_and_customer_waits,
    rejected_quote_is_lost_with_its_reason_and_message,
    duplicate_delivery_changes_nothing,
    bad_signature_and_malformed_bodies_store_nothing,
    oversized_body_is_413,
    subscription_check,
    every_inbound_fixture_is_handled,
    status_receipts_update_outbound_messages,
    unknown_phone_number_id_is_recorded_not_processed,
    request_id_follows_the_job_to_graph,
    permanent_graph_error_is_recorded_without_retry,
    transient_graph_error_is_retried,
    client_hanging_up_does_not_break_the_pool,
    readiness_reports_missing_worker,
);

async fn first_message_gets_the_data_capture_prompt(app: &TestApp) {
    assert_eq!(
        app.webhook(&text_webhook("5511911110000", "wamid.T1", "oi, bom dia"))
            .await
            .status(),
        200
    );
    app.drain().await;
    let calls = app.graph.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].to(), "5511911110000");
    assert_eq!(calls[0].phone_number_id, "100000000000001");
    assert_eq!(
        calls[0].authorization,
        format!("Bearer {}", common::ACCESS_TOKEN)
    );
    assert!(
        calls[0].text().contains("produtos e quantidades"),
        "{}",
        calls[0].text()
    );
    let t = app.demo_tenant().await;
    let conv = store::conversations::list(&app.db, &t.id, None, 10)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(conv.state, "CAPTURE_MIN");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE direction = 'out' AND status = 'sent'")
            .await,
        1
    );
}

async fn full_request_is_quoted_and_accepted(app: &TestApp) {
    let text = "bom dia, preciso de 10 sacos de cimento e 2 metros de areia média, entrega amanhã no Grajaú, pago no pix";
    app.webhook(&text_webhook("5511922220000", "wamid.Q1", text))
        .await;
    app.drain().await;
    let calls = app.graph.calls();
    let quote = calls.last().expect("a quote was sent");
    assert!(quote.is_interactive(), "the quote carries reply buttons");
    assert!(quote.text().contains("R$ 661,05"), "{}", quote.text());
    let ids: Vec<&str> = quote.body["interactive"]["action"]["buttons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["reply"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["quote_accept", "quote_change", "quote_human"]);
    let tap = whatsapp::webhook::build_button_reply_webhook(
        "100000000000001",
        "5511933334444",
        "5511922220000",
        None,
        "wamid.Q2",
        None,
        "quote_accept",
        "Confirmar",
        1_764_316_900,
    );
    app.webhook(&tap).await;
    app.drain().await;
    let calls = app.graph.calls();
    assert!(
        calls.last().unwrap().text().contains("confirmado"),
        "{}",
        calls.last().unwrap().text()
    );
    let t = app.demo_tenant().await;
    let conv = store::conversations::list(&app.db, &t.id, None, 1)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(conv.state, "WON");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM quotes WHERE status = 'accepted' AND total_cents = 66105")
            .await,
        1
    );
}

async fn unknown_freight_goes_to_approval_and_customer_waits(app: &TestApp) {
    let text = "quero 10 sacos de cimento, entrega amanhã em Itaquera, pago no pix";
    app.webhook(&text_webhook("5511933330000", "wamid.A1", text))
        .await;
    app.drain().await;
    let calls = app.graph.calls();
    assert_eq!(calls.len(), 1, "only the wait message goes out: {calls:?}");
    assert!(!calls[0].is_interactive());
    assert!(
        !calls[0].text().contains("R$"),
        "no price before approval: {}",
        calls[0].text()
    );
    let t = app.demo_tenant().await;
    let approvals = store::quotes::approvals(&app.db, &t.id, "pending", 10)
        .await
        .unwrap();
    assert_eq!(approvals.len(), 1);
    assert!(
        approvals[0].reasons_json.contains("no_freight_rule"),
        "{}",
        approvals[0].reasons_json
    );
    // Approving sends the quote through the same path as an automatic one.
    let actor = worker::actions::Actor {
        user_id: owner_id(app).await,
        label: "dono".into(),
        request_id: None,
    };
    worker::actions::approve_quote(
        &app.db,
        &app.worker.contexts,
        &t.id,
        &approvals[0].id,
        &actor,
    )
    .await
    .unwrap();
    app.drain().await;
    let calls = app.graph.calls();
    assert_eq!(calls.len(), 2);
    assert!(
        calls[1].is_interactive() && calls[1].text().contains("ORC-"),
        "{}",
        calls[1].text()
    );
    // A second approval of the same record is refused.
    assert!(worker::actions::approve_quote(
        &app.db,
        &app.worker.contexts,
        &t.id,
        &approvals[0].id,
        &actor
    )
    .await
    .is_err());
}

async fn owner_id(app: &TestApp) -> String {
    let t = app.demo_tenant().await;
    store::users::by_email(&app.db, &t.id, "dono@demo.orcazap.test")
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn duplicate_delivery_changes_nothing(app: &TestApp) {
    let body = fixture("text_message.json");
    assert_eq!(app.webhook(&body).await.status(), 200);
    assert_eq!(app.webhook(&body).await.status(), 200);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE direction = 'in'")
            .await,
        1
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs").await, 1);
    app.drain().await;
    assert_eq!(app.graph.calls().len(), 1);
    assert_eq!(app.webhook(&body).await.status(), 200);
    app.drain().await;
    assert_eq!(
        app.graph.calls().len(),
        1,
        "a late redelivery does not answer again"
    );
}

async fn bad_signature_and_malformed_bodies_store_nothing(app: &TestApp) {
    let body = fixture("text_message.json");
    assert_eq!(app.webhook_with(&body, None, None).await.status(), 401);
    assert_eq!(
        app.webhook_with(&body, Some("sha256=00".into()), None)
            .await
            .status(),
        401
    );
    let wrong = whatsapp::signature::sign(b"another-secret", body.as_bytes());
    assert_eq!(
        app.webhook_with(&body, Some(wrong), None).await.status(),
        401
    );
    // Signed with the right secret but the body was altered afterwards.
    let sig = whatsapp::signature::sign(APP_SECRET.as_bytes(), body.as_bytes());
    assert_eq!(
        app.webhook_with(&body.replace("Bom dia", "Boa noite"), Some(sig), None)
            .await
            .status(),
        401
    );
    let junk = "{not json";
    assert_eq!(app.webhook(junk).await.status(), 400);
    assert_eq!(
        app.webhook(r#"{"object":"page","entry":[]}"#)
            .await
            .status(),
        400
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM webhook_events").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs").await, 0);
}

async fn oversized_body_is_413(app: &TestApp) {
    let big = format!(
        r#"{{"object":"whatsapp_business_account","pad":"{}"}}"#,
        "x".repeat(70_000)
    );
    assert_eq!(app.webhook(&big).await.status(), 413);
    assert_eq!(app.count("SELECT COUNT(*) FROM webhook_events").await, 0);
}

async fn subscription_check(app: &TestApp) {
    let ok = app
        .http
        .get(app.url(&format!("/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444")))
        .header("host", "api.localhost")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "1158201444");
    let bad = app
        .http
        .get(
            app.url("/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1"),
        )
        .header("host", "api.localhost")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 403);
}

async fn every_inbound_fixture_is_handled(app: &TestApp) {
    // (fixture, replies expected, what the reply must contain)
    let cases: &[(&str, usize, &str)] = &[
        ("text_message_brazil_8digit_wa_id.json", 1, ""),
        ("two_messages_one_payload.json", 1, ""),
        ("interactive_button_reply.json", 1, ""),
        ("interactive_list_reply.json", 0, ""),
        ("image_with_caption.json", 1, ""),
        ("audio_voice_note.json", 0, "áudio"),
        ("location.json", 0, ""),
        ("reaction.json", 0, ""),
        ("unsupported_type.json", 0, ""),
        ("non_message_field.json", 0, ""),
    ];
    for (name, _, _) in cases {
        assert_eq!(app.webhook(&fixture(name)).await.status(), 200, "{name}");
    }
    let outcomes = app.drain().await;
    assert!(
        outcomes.iter().all(|(_, o)| *o == worker::Outcome::Done),
        "{outcomes:?}"
    );
    let calls = app.graph.calls();
    // The 8-digit wa_id is answered exactly as Meta sent it, never "fixed".
    assert!(calls.iter().any(|c| c.to() == "551187654321"), "{calls:?}");
    assert!(!calls
        .iter()
        .any(|c| c.to() == "5511987654321" && c.text().is_empty()));
    // The voice note gets a polite request for text.
    assert!(
        calls
            .iter()
            .any(|c| c.to() == "5531977776666" && c.text().contains("áudio")),
        "{calls:?}"
    );
    // Both messages of one payload are stored and processed, in order.
    assert_eq!(app.count("SELECT COUNT(*) FROM messages WHERE provider_message_id LIKE 'wamid.TWO-%' AND status = 'processed'").await, 2);
    // Every stored inbound message was processed; the reaction got no answer of its own.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE direction = 'in' AND status <> 'processed'")
            .await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM webhook_events WHERE outcome = 'ignored'")
            .await,
        1,
        "the non-messages field"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE kind = 'image' AND body LIKE '%bloco%'")
            .await,
        1,
        "the caption is the text"
    );
}

async fn status_receipts_update_outbound_messages(app: &TestApp) {
    app.webhook(&text_webhook("5511944440000", "wamid.S1", "oi"))
        .await;
    app.drain().await;
    let t = app.demo_tenant().await;
    // Give the sent message the ids the fixtures refer to.
    for (old, new) in [("wamid.MOCK-1", "wamid.OUTBOUND-QUOTE-000000000000001")] {
        sqlx::query("UPDATE messages SET provider_message_id = $1 WHERE provider_message_id = $2")
            .bind(new)
            .bind(old)
            .execute(app.db.write())
            .await
            .unwrap();
    }
    assert_eq!(
        app.webhook(&fixture("status_sent_delivered_read.json"))
            .await
            .status(),
        200
    );
    let mut c = app.db.write().acquire().await.unwrap();
    let id: String = {
        use sqlx::Row;
        sqlx::query("SELECT id FROM messages WHERE provider_message_id = 'wamid.OUTBOUND-QUOTE-000000000000001'").fetch_one(&mut *c).await.unwrap().get(0)
    };
    assert_eq!(
        store::messages::by_id(&mut c, &t.id, &id)
            .await
            .unwrap()
            .status,
        "read"
    );
    sqlx::query("UPDATE messages SET provider_message_id = 'wamid.OUTBOUND-FOLLOWUP-00000000000001' WHERE id = $1").bind(&id).execute(&mut *c).await.unwrap();
    drop(c);
    assert_eq!(
        app.webhook(&fixture("status_failed_outside_window.json"))
            .await
            .status(),
        200
    );
    let mut c = app.db.write().acquire().await.unwrap();
    let m = store::messages::by_id(&mut c, &t.id, &id).await.unwrap();
    assert_eq!((m.status.as_str(), m.error_code), ("failed", Some(131047)));
    assert!(m.error_message.unwrap_or_default().contains("24 hours"));
    assert_eq!(app.graph.calls().len(), 1, "receipts never cause a reply");
}

async fn unknown_phone_number_id_is_recorded_not_processed(app: &TestApp) {
    assert_eq!(
        app.webhook(&fixture("unknown_phone_number_id.json"))
            .await
            .status(),
        200
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM webhook_events WHERE outcome = 'unknown_channel' AND phone_number_id = '999999999999999'").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs").await, 0);
}

async fn request_id_follows_the_job_to_graph(app: &TestApp) {
    let body = text_webhook("5511955550000", "wamid.R1", "oi");
    let sig = whatsapp::signature::sign(APP_SECRET.as_bytes(), body.as_bytes());
    let resp = app
        .webhook_with(&body, Some(sig), Some("req-test-0001"))
        .await;
    assert_eq!(resp.headers().get("x-request-id").unwrap(), "req-test-0001");
    app.drain().await;
    assert_eq!(
        app.graph.calls()[0].request_id.as_deref(),
        Some("req-test-0001")
    );
}

async fn permanent_graph_error_is_recorded_without_retry(app: &TestApp) {
    let err: serde_json::Value =
        serde_json::from_str(&fixture("graph_error_invalid_token.json")).unwrap();
    app.graph.script(401, err);
    app.webhook(&text_webhook("5511966660000", "wamid.P1", "oi"))
        .await;
    app.drain().await;
    assert_eq!(app.graph.calls().len(), 1, "190 is not retried");
    assert_eq!(app.count("SELECT COUNT(*) FROM messages WHERE direction = 'out' AND status = 'failed' AND error_code = 190").await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM channels WHERE last_error_code = 190")
            .await,
        1,
        "the store sees the token problem"
    );
}

async fn transient_graph_error_is_retried(app: &TestApp) {
    let err: serde_json::Value =
        serde_json::from_str(&fixture("graph_error_rate_limit.json")).unwrap();
    app.graph.script(429, err);
    app.graph.script(
        500,
        serde_json::json!({"error": {"message": "boom", "code": 2}}),
    );
    app.webhook(&text_webhook("5511977770000", "wamid.X1", "oi"))
        .await;
    app.drain().await;
    let calls = app.graph.calls();
    assert_eq!(calls.len(), 3, "two failures, then success");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE direction = 'out' AND status = 'sent'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE status = 'dead'")
            .await,
        0
    );
}

/// A client that sends a webhook and hangs up at once must not leave a pooled connection
/// inside a transaction (the "non-zero transaction depth" trap).
async fn client_hanging_up_does_not_break_the_pool(app: &TestApp) {
    use tokio::io::AsyncWriteExt;
    for i in 0..20 {
        let body = text_webhook(&format!("55119888{i:05}"), &format!("wamid.H{i}"), "oi");
        let sig = whatsapp::signature::sign(APP_SECRET.as_bytes(), body.as_bytes());
        let mut s = tokio::net::TcpStream::connect(app.addr).await.unwrap();
        let req = format!(
            "POST /webhooks/whatsapp HTTP/1.1\r\nhost: api.localhost\r\ncontent-type: application/json\r\nx-hub-signature-256: {sig}\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).await.unwrap();
        drop(s);
    }
    // Every later request still works.
    for i in 0..5 {
        let status = app
            .webhook(&text_webhook(
                "5511999990000",
                &format!("wamid.OK{i}"),
                "oi",
            ))
            .await
            .status();
        assert_eq!(status, 200);
    }
    assert!(
        app.count("SELECT COUNT(*) FROM messages WHERE provider_message_id LIKE 'wamid.OK%'")
            .await
            == 5
    );
}

async fn readiness_reports_missing_worker(app: &TestApp) {
    let r = app.http.get(app.url("/ready")).send().await.unwrap();
    assert_eq!(r.status(), 503, "no worker heartbeat yet");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["database"], true);
    assert_eq!(body["migrations_current"], true);
    assert_eq!(body["worker_alive"], false);
    store::jobs::worker_beat(&app.db, "w", "h").await.unwrap();
    assert_eq!(
        app.http
            .get(app.url("/ready"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        app.http
            .get(app.url("/health"))
            .header("host", "demo.localhost")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

async fn rejected_quote_is_lost_with_its_reason_and_message(app: &TestApp) {
    app.webhook(&text_webhook(
        "5511933331111",
        "wamid.RJ1",
        "quero 10 sacos de cimento, entrega amanhã em Itaquera, pix",
    ))
    .await;
    app.drain().await;
    let t = app.demo_tenant().await;
    let approval = store::quotes::approvals(&app.db, &t.id, "pending", 10)
        .await
        .unwrap()
        .remove(0);
    let actor = worker::actions::Actor {
        user_id: owner_id(app).await,
        label: "dono".into(),
        request_id: None,
    };
    worker::actions::reject_quote(
        &app.db,
        &t.id,
        &approval.id,
        "não entregamos em Itaquera",
        Some("Desculpe, não atendemos essa região."),
        &actor,
    )
    .await
    .unwrap();
    app.drain().await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM quotes WHERE status = 'rejected'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM conversations WHERE state = 'LOST'")
            .await,
        1
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM approvals WHERE status = 'rejected' AND decision_note = 'não entregamos em Itaquera'").await, 1);
    let calls = app.graph.calls();
    assert_eq!(
        calls.last().unwrap().text(),
        "Desculpe, não atendemos essa região."
    );
    assert!(
        !calls.iter().any(|c| c.is_interactive()),
        "a rejected quote is never sent"
    );
    // Deciding again is refused: only the first decision counts.
    assert!(worker::actions::approve_quote(
        &app.db,
        &app.worker.contexts,
        &t.id,
        &approval.id,
        &actor
    )
    .await
    .is_err());
}
