//! The customer's 24 h WhatsApp window where staff write (issue 18 item 5): the conversation's
//! reply box and the approval page say whether it is open; outside it nothing that Meta would
//! refuse (131047) is queued, and the person is told plainly on the page. Over HTTP, SQLite
//! always, PostgreSQL too when `ORCAZAP_TEST_POSTGRES_URL` is set.

use testkit::*;

both_engines!(
    TestApp;
    approval_outside_the_window_is_refused_and_the_approver_told,
    reply_box_outside_the_window_says_whatsapp_does_not_allow_it,
    rejection_message_outside_the_window_is_refused_but_rejecting_is_not,
);

const OPEN: &str = "Janela do WhatsApp aberta até";
const CLOSED: &str = "Janela do WhatsApp fechada: o WhatsApp só permite mensagens modelo";

/// The customer's last message was more than 24 h ago.
async fn close_window(app: &TestApp) {
    sqlx::query("UPDATE conversations SET window_expires_at = $1 WHERE tenant_id = $2")
        .bind(store::now_ms() - 60_000)
        .bind(&app.demo.tenant_id)
        .execute(app.db.write())
        .await
        .unwrap();
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    use sqlx::Row;
    sqlx::query(sql)
        .fetch_one(app.db.read())
        .await
        .unwrap()
        .get::<i64, _>(0)
}

async fn approval_outside_the_window_is_refused_and_the_approver_told(app: &TestApp) {
    app.customer_says(
        &app.demo,
        "5511955556666",
        "Carlos",
        "10 sacos de cimento, entrega amanhã em Itaquera, pix",
    )
    .await;
    let (approval_id, quote_id) = app
        .pending_approval(&app.demo)
        .await
        .expect("no freight rule for Itaquera → approval");
    let owner = app.as_owner().await;
    let path = format!("/aprovacoes/{approval_id}");
    // The freight first: without it nothing can be approved (issue 12 item 5).
    owner
        .post_form(&format!("{path}/editar"), &[("freight", "45,00")])
        .await
        .expect_status(303);
    let html = owner.page(&path).await;
    assert!(html.contains(OPEN), "the window is shown while open");
    assert!(html.contains("id=\"approve\""), "and approving is offered");

    close_window(app).await;
    let sent_before = app.graph_accepted().len();
    let html = owner.page(&path).await;
    assert!(html.contains(CLOSED), "the closed window is shown");
    assert!(
        !html.contains("id=\"approve\""),
        "no button for a send WhatsApp would refuse"
    );
    assert!(html.contains("O orçamento não pode ser enviado agora"));

    // Posted anyway (an old tab): refused with the reason, nothing queued or decided.
    let body = owner
        .post_form(&format!("{path}/aprovar"), &[])
        .await
        .page_with_status(409)
        .await;
    assert!(
        body.contains("a janela de 24 h do WhatsApp está fechada"),
        "the approver is told why: {body}"
    );
    app.drain().await;
    assert_eq!(app.graph_accepted().len(), sent_before, "nothing sent");
    let still = format!(
        "SELECT COUNT(*) FROM quotes WHERE id = '{quote_id}' AND status = 'pending_approval'"
    );
    assert_eq!(count(app, &still).await, 1, "the quote still waits");
    assert_eq!(
        count(
            app,
            "SELECT COUNT(*) FROM approvals WHERE status = 'pending'"
        )
        .await,
        1
    );

    // The customer writes again: the window reopens and the approval goes through.
    app.customer_says(
        &app.demo,
        "5511955556666",
        "Carlos",
        "e aí, já tem o orçamento?",
    )
    .await;
    let html = owner.page(&path).await;
    assert!(html.contains(OPEN), "reopened by the customer's message");
    owner
        .post_form(&format!("{path}/aprovar"), &[])
        .await
        .expect_status(303);
    app.drain().await;
    let sent = format!("SELECT COUNT(*) FROM quotes WHERE id = '{quote_id}' AND status = 'sent'");
    assert_eq!(count(app, &sent).await, 1);
}

async fn reply_box_outside_the_window_says_whatsapp_does_not_allow_it(app: &TestApp) {
    app.customer_says(&app.demo, "5511955557777", "Ana", "oi, bom dia")
        .await;
    let conv = store::conversations::list(&app.db, &app.demo.tenant_id, None, 10)
        .await
        .unwrap()
        .remove(0);
    let staff = app.as_attendant().await;
    let path = format!("/conversas/{}", conv.id);
    staff
        .post_form(&format!("{path}/assumir"), &[])
        .await
        .expect_status(303);
    let html = staff.page(&path).await;
    assert!(html.contains(OPEN), "the window is shown at the reply box");
    assert!(html.contains("id=\"reply-text\""));
    staff
        .post_form(&format!("{path}/responder"), &[("text", "Bom dia, Ana!")])
        .await
        .expect_status(303);

    close_window(app).await;
    let html = staff.page(&path).await;
    assert!(html.contains(CLOSED));
    assert!(
        !html.contains("id=\"reply-text\""),
        "the reply box does not pretend"
    );
    assert!(html.contains("O WhatsApp não permite mensagens livres agora"));
    let body = staff
        .post_form(
            &format!("{path}/responder"),
            &[("text", "Ainda quer o orçamento?")],
        )
        .await
        .page_with_status(409)
        .await;
    assert!(
        body.contains("o WhatsApp não permite mensagens livres agora"),
        "{body}"
    );
    assert_eq!(
        count(
            app,
            "SELECT COUNT(*) FROM messages WHERE direction = 'out' AND sent_by IS NOT NULL"
        )
        .await,
        1,
        "only the reply inside the window was queued"
    );
}

async fn rejection_message_outside_the_window_is_refused_but_rejecting_is_not(app: &TestApp) {
    app.customer_says(
        &app.demo,
        "5511955557777",
        "Dora",
        "10 sacos de cimento, entrega amanhã em Itaquera, pix",
    )
    .await;
    let (approval_id, quote_id) = app
        .pending_approval(&app.demo)
        .await
        .expect("no freight rule for Itaquera → approval");
    let owner = app.as_owner().await;
    let reject = format!("/aprovacoes/{approval_id}/rejeitar");
    // Longer than WhatsApp takes: refused as bad input, even inside the window.
    let long = "a".repeat(4097);
    owner
        .post_form(&reject, &[("reason", "sem estoque"), ("message", &long)])
        .await
        .expect_status(400);

    close_window(app).await;
    let sent_before = app.graph_accepted().len();
    let body = owner
        .post_form(
            &reject,
            &[
                ("reason", "sem estoque"),
                ("message", "Desculpe, acabou o cimento."),
            ],
        )
        .await
        .page_with_status(409)
        .await;
    assert!(
        body.contains("a janela de 24 h do WhatsApp está fechada"),
        "the approver is told why: {body}"
    );
    let pending = format!(
        "SELECT COUNT(*) FROM quotes WHERE id = '{quote_id}' AND status = 'pending_approval'"
    );
    assert_eq!(count(app, &pending).await, 1, "nothing decided");

    // Rejecting without a message needs no window.
    owner
        .post_form(&reject, &[("reason", "sem estoque"), ("message", "")])
        .await
        .expect_status(303);
    app.drain().await;
    assert_eq!(app.graph_accepted().len(), sent_before, "nothing sent");
    let rejected =
        format!("SELECT COUNT(*) FROM quotes WHERE id = '{quote_id}' AND status = 'rejected'");
    assert_eq!(count(app, &rejected).await, 1);
}
