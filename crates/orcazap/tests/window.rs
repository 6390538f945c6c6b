//! Past the 24-hour window (issue 15 items 5–7), black-box on both engines: webhook → worker →
//! mock Graph API, and the dashboard.
//!
//! - the owner writes a WhatsApp message template, the worker submits it to Meta, Meta's
//!   `message_template_status_update` webhook approves it, "Atualizar status" reads a later
//!   review back; an attendant reads the list but cannot submit;
//! - a proactive message (the expired quote's notice) goes free-form inside the window, as the
//!   approved template outside it, and outside it without a template nothing is sent and the
//!   conversation shows staff why — never a free-form send after 24 h;
//! - "parar" stops proactive messages (confirmed once, recorded with its time, shown), "voltar"
//!   and staff bring them back;
//! - the worker marks the customer's message read with a typing indicator;
//! - follow-ups set on /regras go once per quote and a reply stops them.

mod common;

use common::{text_webhook, TestApp};
use sqlx::Row;
use store::seed::{DEMO_ATTENDANT, DEMO_OWNER, DEMO_WABA_ID};

testkit::both_engines!(
    TestApp;
    a_template_is_submitted_then_approved_by_webhook_and_refreshed,
    outside_the_window_the_expired_quote_goes_as_the_approved_template,
    outside_the_window_without_a_template_nothing_is_sent_and_staff_see_why,
    parar_stops_proactive_messages_until_voltar_or_staff,
    the_worker_marks_the_message_read_with_a_typing_indicator,
    a_follow_up_goes_once_per_quote_and_a_reply_stops_it,
    outside_the_window_staff_send_an_approved_template_by_hand,
    the_opt_out_and_its_history_are_in_the_lgpd_export,
    the_template_refresh_reads_every_page_of_metas_list,
);

const CUSTOMER: &str = "5511955550001";
const ORDER: &str = "10 sacos de cimento, entrega amanhã no Grajaú, pix";
const EXPIRED_BODY: &str = "Olá {{1}}, o orçamento {{2}} venceu. Quer que a gente refaça?";

async fn says(app: &TestApp, wamid: &str, text: &str) {
    assert_eq!(
        app.webhook(&text_webhook(CUSTOMER, wamid, text))
            .await
            .status(),
        200
    );
    app.drain().await;
}

async fn template_status(app: &TestApp, name: &str) -> (String, Option<String>) {
    let r = sqlx::query("SELECT status, status_reason FROM meta_templates WHERE name = $1")
        .bind(name)
        .fetch_one(app.db.read())
        .await
        .unwrap();
    (r.get(0), r.get(1))
}

/// The owner creates the template for an expired quote through the dashboard; the worker
/// submits it; Meta approves it (webhook). Returns the owner's dashboard.
async fn approved_expired_template(app: &TestApp) -> common::Dashboard {
    let owner = app.dashboard_login(DEMO_OWNER).await;
    let r = owner
        .post(
            "/modelos-whatsapp/novo",
            &[
                ("name", "orcamento_vencido"),
                ("category", "UTILITY"),
                ("purpose", "quote_expired"),
                ("body", EXPIRED_BODY),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    app.drain().await;
    let submitted = app
        .graph
        .review_template("orcamento_vencido", "pt_BR", "APPROVED", "NONE");
    let t = submitted.expect("the worker submitted the template to Meta");
    let webhook = whatsapp::webhook::build_template_status_webhook(
        DEMO_WABA_ID,
        &t.id,
        "orcamento_vencido",
        "pt_BR",
        "APPROVED",
        None,
        store::now_ms() / 1000,
    );
    assert_eq!(app.webhook(&webhook).await.status(), 200);
    assert_eq!(
        template_status(app, "orcamento_vencido").await.0,
        "APPROVED"
    );
    owner
}

/// A quote sent to [`CUSTOMER`], then its validity over and its expiry job due, with the
/// customer's last message `window_closed` (more than 24 h ago) or not. Returns how many
/// messages Meta had accepted before the expiry.
async fn quote_expires(app: &TestApp, window_closed: bool) -> usize {
    says(app, "wamid.W1", ORDER).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM quotes WHERE status = 'sent'")
            .await,
        1
    );
    let now = store::now_ms();
    sqlx::query("UPDATE quotes SET valid_until = $1")
        .bind(now - 1000)
        .execute(app.db.write())
        .await
        .unwrap();
    if window_closed {
        sqlx::query("UPDATE conversations SET window_expires_at = $1")
            .bind(now - 1000)
            .execute(app.db.write())
            .await
            .unwrap();
    }
    let before = app.graph.accepted().len();
    sqlx::query("UPDATE jobs SET run_at = $1 WHERE kind = 'quote.expire'")
        .bind(now - 1000)
        .execute(app.db.write())
        .await
        .unwrap();
    app.drain().await;
    while app.worker.run_once().await.unwrap().is_some() {}
    app.drain().await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM quotes WHERE status = 'expired'")
            .await,
        1
    );
    before
}

async fn a_template_is_submitted_then_approved_by_webhook_and_refreshed(app: &TestApp) {
    let owner = app.dashboard_login(DEMO_OWNER).await;
    // Meta's rules, said in pt-BR before anything is saved.
    let bad = owner
        .post(
            "/modelos-whatsapp/novo",
            &[
                ("name", "Lembrete Orçamento"),
                ("category", "UTILITY"),
                ("purpose", "quote_reminder"),
                ("body", "Olá {{1}}, seu orçamento {{4}}."),
            ],
        )
        .await;
    assert_eq!(bad.status(), 422);
    let html = bad.text().await.unwrap();
    assert!(html.contains("só letras minúsculas"), "{html}");
    assert!(html.contains("Texto:"), "{html}");
    assert_eq!(app.count("SELECT COUNT(*) FROM meta_templates").await, 0);

    let r = owner
        .post(
            "/modelos-whatsapp/novo",
            &[
                ("name", "lembrete_orcamento"),
                ("category", "UTILITY"),
                ("purpose", "quote_reminder"),
                (
                    "body",
                    "Olá {{1}}, seu orçamento {{2}} vale até {{3}}. Podemos confirmar?",
                ),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    app.drain().await;
    let at_meta = app.graph.templates();
    assert_eq!(at_meta.len(), 1, "submitted to Meta once");
    assert_eq!(
        (
            at_meta[0].waba_id.as_str(),
            at_meta[0].category.as_str(),
            at_meta[0].parameters
        ),
        (DEMO_WABA_ID, "UTILITY", 3)
    );
    assert_eq!(
        template_status(app, "lembrete_orcamento").await.0,
        "PENDING"
    );
    let (_, page) = owner.get("/modelos-whatsapp").await;
    assert!(page.contains("Em análise pela Meta"), "{page}");

    // Meta's review arrives by webhook (the fixture's format).
    let approved =
        common::fixture("template_status_approved.json").replace("700000000000101", &at_meta[0].id);
    assert_eq!(app.webhook(&approved).await.status(), 200);
    assert_eq!(
        template_status(app, "lembrete_orcamento").await,
        ("APPROVED".to_string(), None)
    );
    let meta_id: String = sqlx::query("SELECT meta_id FROM meta_templates")
        .fetch_one(app.db.read())
        .await
        .unwrap()
        .get(0);
    assert_eq!(meta_id, at_meta[0].id);

    // Later Meta pauses it; "Atualizar status" reads that back.
    app.graph
        .review_template("lembrete_orcamento", "pt_BR", "PAUSED", "LOW_QUALITY")
        .unwrap();
    let r = owner.post("/modelos-whatsapp/atualizar", &[]).await;
    assert_eq!(r.status(), 303);
    app.drain().await;
    assert_eq!(
        template_status(app, "lembrete_orcamento").await,
        ("PAUSED".to_string(), Some("LOW_QUALITY".to_string()))
    );
    let (_, page) = owner.get("/modelos-whatsapp").await;
    assert!(page.contains("Pausado pela Meta") && page.contains("LOW_QUALITY"));
    assert!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action IN ('meta_template.create', 'meta_template.refresh')")
            .await
            >= 2
    );

    // An attendant reads the list, cannot submit.
    let attendant = app.dashboard_login(DEMO_ATTENDANT).await;
    let (status, page) = attendant.get("/modelos-whatsapp").await;
    assert_eq!(status, 200);
    assert!(page.contains("lembrete_orcamento"));
    assert!(
        !page.contains("meta-template-new"),
        "no form for attendants"
    );
    let r = attendant
        .post(
            "/modelos-whatsapp/novo",
            &[("name", "x"), ("category", "UTILITY"), ("body", "Oi")],
        )
        .await;
    assert_eq!(r.status(), 403);
    assert_eq!(app.graph.templates().len(), 1);
}

async fn outside_the_window_the_expired_quote_goes_as_the_approved_template(app: &TestApp) {
    approved_expired_template(app).await;
    let before = quote_expires(app, true).await;
    let after = app.graph.accepted();
    assert_eq!(after.len(), before + 1, "one message: the template");
    let sent = after.last().unwrap();
    assert_eq!(sent.body["type"], "template");
    assert_eq!(sent.body["template"]["name"], "orcamento_vencido");
    assert_eq!(sent.body["template"]["language"]["code"], "pt_BR");
    let params: Vec<&str> = sent.body["template"]["components"][0]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert_eq!(params.len(), 2);
    assert!(params[1].starts_with("ORC-"), "{params:?}");
    // The transcript shows what the customer read.
    let body: String = sqlx::query(
        "SELECT body FROM messages WHERE direction = 'out' AND kind = 'template' AND status <> 'failed'",
    )
    .fetch_one(app.db.read())
    .await
    .unwrap()
    .get(0);
    assert!(body.starts_with("Olá ") && body.contains(params[1]) && body.contains("venceu"));
}

async fn outside_the_window_without_a_template_nothing_is_sent_and_staff_see_why(app: &TestApp) {
    let before = quote_expires(app, true).await;
    // After the window closed, nothing: not a free-form text, not a refused attempt.
    assert_eq!(app.graph.calls().len(), before);
    let held: (String, Option<String>) = {
        let r = sqlx::query(
            "SELECT status, error_message FROM messages WHERE direction = 'out' ORDER BY created_at DESC, id DESC LIMIT 1",
        )
        .fetch_one(app.db.read())
        .await
        .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!(held.0, "failed");
    let reason = held.1.unwrap();
    assert!(reason.contains("janela de 24 h"), "{reason}");
    assert!(reason.contains("Orçamento vencido"), "{reason}");

    let owner = app.dashboard_login(DEMO_OWNER).await;
    let conv: String = sqlx::query("SELECT id FROM conversations")
        .fetch_one(app.db.read())
        .await
        .unwrap()
        .get(0);
    let (_, page) = owner.get(&format!("/conversas/{conv}")).await;
    assert!(page.contains("Não foi entregue ao cliente"), "{page}");
    assert!(page.contains("não tem modelo de mensagem do WhatsApp aprovado"));
}

async fn parar_stops_proactive_messages_until_voltar_or_staff(app: &TestApp) {
    says(app, "wamid.P0", ORDER).await;
    let before = app.graph.accepted().len();
    says(app, "wamid.P1", "Parar").await;
    let after = app.graph.accepted();
    assert_eq!(after.len(), before + 1, "the opt-out is confirmed");
    assert!(after.last().unwrap().text().contains("voltar"));
    let opted: Option<i64> = sqlx::query("SELECT opted_out_at FROM contacts WHERE wa_id = $1")
        .bind(CUSTOMER)
        .fetch_one(app.db.read())
        .await
        .unwrap()
        .get(0);
    assert!(
        opted.is_some_and(|at| at <= store::now_ms()),
        "recorded with its time"
    );
    // Once: a second "não quero mais mensagens" gets no second confirmation.
    says(app, "wamid.P2", "não quero mais mensagens").await;
    assert_eq!(app.graph.accepted().len(), before + 1);

    // The quote expires inside the window: its notice is proactive, so it is held.
    let sent_before = app.graph.accepted().len();
    sqlx::query("UPDATE quotes SET valid_until = $1")
        .bind(store::now_ms() - 1000)
        .execute(app.db.write())
        .await
        .unwrap();
    sqlx::query("UPDATE jobs SET run_at = $1 WHERE kind = 'quote.expire'")
        .bind(store::now_ms() - 1000)
        .execute(app.db.write())
        .await
        .unwrap();
    while app.worker.run_once().await.unwrap().is_some() {}
    app.drain().await;
    assert_eq!(app.graph.accepted().len(), sent_before, "nothing proactive");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE status = 'failed' AND error_message LIKE '%pediu para não receber%'")
            .await,
        1
    );

    // Staff see it, with the time.
    let owner = app.dashboard_login(DEMO_OWNER).await;
    let conv: String = sqlx::query("SELECT id FROM conversations ORDER BY created_at DESC LIMIT 1")
        .fetch_one(app.db.read())
        .await
        .unwrap()
        .get(0);
    let (_, page) = owner.get(&format!("/conversas/{conv}")).await;
    assert!(page.contains("pediu para não receber mensagens"), "{page}");

    // "voltar" takes it back, confirmed.
    says(app, "wamid.P3", "voltar").await;
    assert!(app
        .graph
        .accepted()
        .last()
        .unwrap()
        .text()
        .contains("voltou a receber"));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM contacts WHERE opted_out_at IS NOT NULL")
            .await,
        0
    );

    // Opted out again, staff turn it back on from the conversation (audited).
    says(app, "wamid.P4", "pare de mandar mensagem").await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM contacts WHERE opted_out_at IS NOT NULL")
            .await,
        1
    );
    let (_, page) = owner.get(&format!("/conversas/{conv}")).await;
    assert!(page.contains("opt-back-in"));
    let r = owner
        .post(&format!("/conversas/{conv}/reativar-mensagens"), &[])
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM contacts WHERE opted_out_at IS NOT NULL")
            .await,
        0
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'contact.opt_in' AND actor_user_id IS NOT NULL"
        )
        .await,
        1,
        "staff's, beside the customer's own"
    );
}

async fn the_worker_marks_the_message_read_with_a_typing_indicator(app: &TestApp) {
    says(app, "wamid.R1", "oi, vocês têm cimento?").await;
    // Best effort, beside the reply: give the spawned request a moment.
    for _ in 0..100 {
        if !app.graph.read_marks().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let marks = app.graph.read_marks();
    assert_eq!(marks.len(), 1, "{marks:?}");
    assert_eq!(marks[0].message_id, "wamid.R1");
    assert!(marks[0].typing && marks[0].accepted);
    assert!(!app.graph.accepted().is_empty(), "and the reply went out");
}

/// Makes every `quote.follow_up` job due and runs it.
async fn follow_ups_due(app: &TestApp) {
    sqlx::query("UPDATE jobs SET run_at = $1 WHERE kind = 'quote.follow_up' AND status = 'ready'")
        .bind(store::now_ms() - 1)
        .execute(app.db.write())
        .await
        .unwrap();
    while app.worker.run_once().await.unwrap().is_some() {}
    app.drain().await;
}

async fn a_follow_up_goes_once_per_quote_and_a_reply_stops_it(app: &TestApp) {
    let owner = app.dashboard_login(DEMO_OWNER).await;
    let bad = owner
        .post(
            "/regras/lembretes",
            &[("reminder_hours", "0"), ("follow_up_hours", "dois")],
        )
        .await;
    assert_eq!(bad.status(), 422);
    let r = owner
        .post(
            "/regras/lembretes",
            &[("reminder_hours", "2"), ("follow_up_hours", "1")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'rules.follow_ups'")
            .await,
        1
    );

    says(app, "wamid.F1", ORDER).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'quote.follow_up'")
            .await,
        2,
        "the reminder and the no-answer follow-up are scheduled"
    );
    let number: String = sqlx::query("SELECT number FROM quotes")
        .fetch_one(app.db.read())
        .await
        .unwrap()
        .get(0);
    let before = app.graph.accepted().len();
    follow_ups_due(app).await;
    let after = app.graph.accepted();
    assert_eq!(after.len(), before + 1, "one follow-up per quote, not two");
    assert!(after.last().unwrap().text().contains(&number));
    assert_eq!(after.last().unwrap().to(), CUSTOMER);

    // Another customer answers after the quote: their follow-ups are off.
    let other = "5511955550002";
    let sends = |wamid: &'static str, text: &'static str| {
        let body = text_webhook(other, wamid, text);
        async move {
            assert_eq!(app.webhook(&body).await.status(), 200);
            app.drain().await;
        }
    };
    sends("wamid.F2", ORDER).await;
    sends("wamid.F3", "vou ver com meu sócio e te falo").await;
    let before = app.graph.accepted().len();
    follow_ups_due(app).await;
    assert_eq!(
        app.graph.accepted().len(),
        before,
        "a reply stops the follow-ups"
    );
}

async fn outside_the_window_staff_send_an_approved_template_by_hand(app: &TestApp) {
    approved_expired_template(app).await;
    says(app, "wamid.M1", "oi, bom dia").await;
    let conv: String = sqlx::query("SELECT id FROM conversations")
        .fetch_one(app.db.read())
        .await
        .unwrap()
        .get(0);
    let template_id: String = sqlx::query("SELECT id FROM meta_templates")
        .fetch_one(app.db.read())
        .await
        .unwrap()
        .get(0);
    let attendant = app.dashboard_login(DEMO_ATTENDANT).await;
    let path = format!("/conversas/{conv}");
    assert_eq!(
        attendant
            .post(&format!("{path}/assumir"), &[])
            .await
            .status(),
        303
    );
    // Inside the window: free text, no template offered.
    let (_, page) = attendant.get(&path).await;
    assert!(page.contains("id=\"reply-text\""));
    assert!(!page.contains("id=\"reply-templates\""));

    sqlx::query("UPDATE conversations SET window_expires_at = $1")
        .bind(store::now_ms() - 1000)
        .execute(app.db.write())
        .await
        .unwrap();
    let (_, page) = attendant.get(&path).await;
    assert!(!page.contains("id=\"reply-text\""), "no free text outside");
    assert!(page.contains("id=\"reply-templates\""), "{page}");
    assert!(page.contains("orcamento_vencido") && page.contains("name=\"p2\""));

    // Free text is refused with the reason and never sent.
    let before = app.graph.calls().len();
    let r = attendant
        .post(&format!("{path}/responder"), &[("text", "Ainda quer?")])
        .await;
    assert_eq!(r.status(), 409);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("o WhatsApp não permite mensagens livres agora"),
        "{body}"
    );
    // A variable left empty: refused, nothing queued.
    let r = attendant
        .post(
            &format!("{path}/modelo"),
            &[("template", &template_id), ("p1", "Ana"), ("p2", "  ")],
        )
        .await;
    assert_eq!(r.status(), 400);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("preencha a variável {{2}}"));
    // A template that is not approved (or another store's id): refused.
    let r = attendant
        .post(
            &format!("{path}/modelo"),
            &[("template", "nao-existe"), ("p1", "Ana"), ("p2", "X")],
        )
        .await;
    assert_eq!(r.status(), 409);
    app.drain().await;
    assert_eq!(app.graph.calls().len(), before, "nothing went to Meta");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE direction = 'out' AND sent_by IS NOT NULL")
            .await,
        0
    );

    let r = attendant
        .post(
            &format!("{path}/modelo"),
            &[
                ("template", &template_id),
                ("p1", "Ana"),
                ("p2", "ORC-2026-000042"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    app.drain().await;
    let calls = app.graph.accepted();
    let sent = calls.last().unwrap();
    assert_eq!(sent.body["type"], "template", "{}", sent.body);
    assert_eq!(sent.body["template"]["name"], "orcamento_vencido");
    let params: Vec<&str> = sent.body["template"]["components"][0]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert_eq!(params, ["Ana", "ORC-2026-000042"]);
    let row = sqlx::query(
        "SELECT body, status, sent_by FROM messages WHERE direction = 'out' AND kind = 'template'",
    )
    .fetch_one(app.db.read())
    .await
    .unwrap();
    assert_eq!(
        row.get::<String, _>(0),
        "Olá Ana, o orçamento ORC-2026-000042 venceu. Quer que a gente refaça?"
    );
    assert_ne!(row.get::<String, _>(1), "failed");
    assert!(
        row.get::<Option<String>, _>(2).is_some(),
        "in the attendant's name"
    );
    let (_, page) = attendant.get(&path).await;
    assert!(page.contains("o orçamento ORC-2026-000042 venceu"));

    // A customer who opted out gets no template either.
    sqlx::query("UPDATE contacts SET opted_out_at = $1")
        .bind(store::now_ms())
        .execute(app.db.write())
        .await
        .unwrap();
    let r = attendant
        .post(
            &format!("{path}/modelo"),
            &[("template", &template_id), ("p1", "Ana"), ("p2", "X")],
        )
        .await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("pediu para não receber"));
}

async fn the_opt_out_and_its_history_are_in_the_lgpd_export(app: &TestApp) {
    says(app, "wamid.L0", ORDER).await;
    let json = orcazap::privacy::export(&app.db, "demo", CUSTOMER)
        .await
        .unwrap();
    assert_eq!(json["opt_out"]["opted_out"], false);
    assert!(json["opt_out"]["opted_out_at"].is_null());
    assert_eq!(json["opt_out"]["history"].as_array().unwrap().len(), 0);

    says(app, "wamid.L1", "parar").await;
    let at: i64 = sqlx::query("SELECT opted_out_at FROM contacts WHERE wa_id = $1")
        .bind(CUSTOMER)
        .fetch_one(app.db.read())
        .await
        .unwrap()
        .get(0);
    let json = orcazap::privacy::export(&app.db, "demo", CUSTOMER)
        .await
        .unwrap();
    let o = &json["opt_out"];
    assert_eq!(o["opted_out"], true);
    assert_eq!(o["opted_out_at"], at);
    let utc = o["opted_out_at_utc"].as_str().unwrap();
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(utc)
            .unwrap()
            .timestamp(),
        at / 1000,
        "{utc}"
    );
    assert_eq!(json["contact"]["opted_out_at"], at);
    let history = o["history"].as_array().unwrap();
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(history[0]["change"], "opt_out");
    assert_eq!(history[0]["by"], "cliente (WhatsApp)");

    // "voltar", then again "parar", then staff turn it back on: every change, in order.
    says(app, "wamid.L2", "voltar").await;
    says(app, "wamid.L3", "não quero mais mensagens").await;
    let owner = app.dashboard_login(DEMO_OWNER).await;
    let conv: String = sqlx::query("SELECT id FROM conversations ORDER BY created_at DESC LIMIT 1")
        .fetch_one(app.db.read())
        .await
        .unwrap()
        .get(0);
    let r = owner
        .post(&format!("/conversas/{conv}/reativar-mensagens"), &[])
        .await;
    assert_eq!(r.status(), 303);
    let json = orcazap::privacy::export(&app.db, "demo", CUSTOMER)
        .await
        .unwrap();
    assert_eq!(json["opt_out"]["opted_out"], false);
    let changes: Vec<(String, String)> = json["opt_out"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["change"].as_str().unwrap().to_string(),
                h["by"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("opt_out".to_string(), "cliente (WhatsApp)".to_string()),
            ("opt_in".to_string(), "cliente (WhatsApp)".to_string()),
            ("opt_out".to_string(), "cliente (WhatsApp)".to_string()),
            ("opt_in".to_string(), DEMO_OWNER.to_string()),
        ]
    );
}

async fn the_template_refresh_reads_every_page_of_metas_list(app: &TestApp) {
    let owner = app.dashboard_login(DEMO_OWNER).await;
    let names = ["aviso_um", "aviso_dois", "aviso_tres"];
    for name in names {
        let r = owner
            .post(
                "/modelos-whatsapp/novo",
                &[
                    ("name", name),
                    ("category", "UTILITY"),
                    ("body", "Olá {{1}}, seu pedido está a caminho."),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
    }
    app.drain().await;
    assert_eq!(app.graph.templates().len(), 3);
    // Two more made in WhatsApp Manager (the store does not have them: ignored).
    app.graph
        .add_template(DEMO_WABA_ID, "feito_no_manager", "pt_BR", "APPROVED");
    app.graph
        .add_template(DEMO_WABA_ID, "outro_do_manager", "pt_BR", "REJECTED");
    for name in names {
        app.graph
            .review_template(name, "pt_BR", "APPROVED", "NONE")
            .unwrap();
    }
    // Meta serves two per page here: five templates are three pages.
    app.graph.set_template_page_max(2);
    let r = owner.post("/modelos-whatsapp/atualizar", &[]).await;
    assert_eq!(r.status(), 303);
    app.drain().await;
    let pages = app.graph.template_pages();
    assert_eq!(pages.len(), 3, "{pages:?}");
    assert_eq!(pages[0].after, None);
    assert!(pages[1].after.is_some() && pages[2].after.is_some());
    assert_ne!(pages[1].after, pages[2].after);
    assert!(pages.iter().all(|p| p.limit.as_deref() == Some("250")));
    assert_eq!(
        pages.iter().map(|p| p.returned).collect::<Vec<_>>(),
        [2, 2, 1]
    );
    assert!(!pages[2].has_next);
    for name in names {
        assert_eq!(template_status(app, name).await.0, "APPROVED", "{name}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM meta_templates").await, 3);
}
