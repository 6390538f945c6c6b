//! Billing with Stripe (issue 17 item 3, docs/billing.md): the webhook on `api.BASE`
//! (signature, tolerance, each event id once, out-of-order events, grace period), the gate on
//! automatic quotes and the banner, and the billing page (Checkout, Portal, invoices). Over
//! HTTP with the real server, the worker, the mock Graph API and a local Stripe speaking
//! Stripe's wire format: SQLite always, PostgreSQL too when `ORCAZAP_TEST_POSTGRES_URL` is set.

use std::ops::Deref;

use domain::pricing::ApprovalReason;
use serde_json::json;
use store::Engine;
use testkit::*;

/// The application with billing on, against a local Stripe.
struct Billed {
    app: TestApp,
    stripe: StripeMock,
}

impl Deref for Billed {
    type Target = TestApp;
    fn deref(&self) -> &TestApp {
        &self.app
    }
}

impl Fixture for Billed {
    async fn start(engine: Engine) -> Option<Billed> {
        let stripe = StripeMock::start().await;
        let cfg = billing_config(&stripe);
        let app = TestApp::start_with(engine, move |c| c.billing = Some(cfg)).await?;
        Some(Billed { app, stripe })
    }
}

both_engines!(
    Billed;
    a_signature_made_like_stripe_is_accepted_and_a_bad_or_old_one_is_not,
    malformed_and_unknown_events,
    a_replayed_or_duplicated_event_changes_nothing,
    an_older_event_arriving_late_does_not_overwrite_a_newer_state,
    past_due_keeps_automatic_quotes_during_the_grace_period_only,
    an_unpaid_store_gets_its_quotes_in_approval_with_its_own_reason,
    an_active_store_sends_quotes_automatically,
    checkout_portal_and_invoices,
    the_billing_page_is_the_owners_and_stripe_failures_are_explained,
    a_failed_payment_emails_the_owners_once,
);

/// The default application: billing off.
mod off {
    use super::*;
    both_engines!(
        TestApp;
        billing_off_has_no_webhook_no_page_and_no_gate,
    );
}

const CARLOS: &str = "5511955554444";
const AUTO_QUOTE: &str = "10 sacos de cimento, entrega amanhã no Grajaú, pix";

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

async fn status_of(app: &TestApp) -> store::billing::Subscription {
    store::billing::of_tenant(&app.db, &app.demo.tenant_id)
        .await
        .unwrap()
}

/// A subscription event for the demo store, created at `created` (unix s).
fn sub_event(app: &TestApp, id: &str, kind: &str, status: &str, created: i64) -> String {
    stripe_event(
        id,
        kind,
        created,
        subscription("sub_demo", "cus_demo", status, Some(&app.demo.tenant_id)),
    )
}

async fn deliver(app: &TestApp, body: &str) -> (u16, String) {
    let r = app.stripe_webhook(body).answer().await;
    let status = r.status().as_u16();
    (status, r.body().await)
}

async fn approval_reasons(app: &TestApp, quote_id: &str) -> Vec<ApprovalReason> {
    let q = store::quotes::get(&app.db, &app.demo.tenant_id, quote_id)
        .await
        .unwrap()
        .unwrap();
    let p: domain::pricing::PricedQuote = serde_json::from_str(&q.snapshot_json).unwrap();
    p.approval_reasons
}

async fn a_signature_made_like_stripe_is_accepted_and_a_bad_or_old_one_is_not(b: &Billed) {
    let body = sub_event(
        b,
        "evt_sig_1",
        "customer.subscription.updated",
        "active",
        now(),
    );
    // A wrong secret, a tampered body, no header, a timestamp outside the 300 s tolerance
    // either way: 400, the same short answer for all, and nothing recorded.
    for (sig_body, secret, t, why) in [
        (body.as_str(), "whsec_wrong", now(), "wrong secret"),
        (
            &body.replace("active", "canceled") as &str,
            STRIPE_WEBHOOK_SECRET,
            now(),
            "body changed after signing",
        ),
        (body.as_str(), STRIPE_WEBHOOK_SECRET, now() - 301, "expired"),
        (body.as_str(), STRIPE_WEBHOOK_SECRET, now() + 301, "future"),
    ] {
        let sig = stripe_signature(secret, t, sig_body);
        let r = b
            .post_on(
                &format!("api.localhost:{}", b.addr.port()),
                "/webhooks/stripe",
            )
            .header("stripe-signature", sig)
            .header("content-type", "application/json")
            .body(body.clone())
            .answer()
            .await;
        assert_eq!(r.status(), 400, "{why}");
        let text = r.body().await;
        assert!(
            !text.contains("mismatch") && !text.contains("tolerance") && !text.contains("expected"),
            "{why}: no detail leaked: {text}"
        );
    }
    let r = b
        .post_on(
            &format!("api.localhost:{}", b.addr.port()),
            "/webhooks/stripe",
        )
        .body(body.clone())
        .answer()
        .await;
    assert_eq!(r.status(), 400, "no Stripe-Signature");
    assert!(store::billing::events(&b.db).await.unwrap().is_empty());
    assert_eq!(status_of(b).await.status, "none");

    // Within the tolerance (299 s old) and correctly signed: applied.
    let r = b
        .stripe_webhook_signed(&body, STRIPE_WEBHOOK_SECRET, now() - 299)
        .answer()
        .await;
    assert_eq!(r.status(), 200);
    let s = status_of(b).await;
    assert_eq!(s.status, "active");
    assert_eq!(s.customer_id.as_deref(), Some("cus_demo"));
    assert_eq!(s.subscription_id.as_deref(), Some("sub_demo"));
    assert_eq!(s.price_id.as_deref(), Some(STRIPE_PRICE_ID));
    // Only the API host has the route: a store's host does not.
    let r = b
        .app
        .post("demo", "/webhooks/stripe", None, &[])
        .answer()
        .await;
    assert_ne!(r.status(), 200);
}

async fn malformed_and_unknown_events(b: &Billed) {
    // Signed but not JSON / not an event: 400.
    for body in ["not json", "{\"id\": 5}", "{}"] {
        let (status, _) = deliver(b, body).await;
        assert_eq!(status, 400, "{body}");
    }
    // An event type the product does not act on: 200, recorded as ignored, nothing changes.
    let body = stripe_event(
        "evt_unknown_1",
        "customer.created",
        now(),
        json!({"id": "cus_demo", "object": "customer", "metadata": {"tenant_id": b.demo.tenant_id}}),
    );
    let (status, text) = deliver(b, &body).await;
    assert_eq!(status, 200);
    assert_eq!(text, "ignored");
    assert_eq!(status_of(b).await.status, "none");
    // An event for a store that does not exist: 200 (Stripe must not retry it), no change.
    let body = stripe_event(
        "evt_nobody",
        "customer.subscription.updated",
        now(),
        subscription("sub_x", "cus_nobody", "canceled", Some("no-such-tenant")),
    );
    let (status, text) = deliver(b, &body).await;
    assert_eq!((status, text.as_str()), (200, "unknown_tenant"));
    let events = store::billing::events(&b.db).await.unwrap();
    assert_eq!(events.len(), 2, "{events:?}");
}

async fn a_replayed_or_duplicated_event_changes_nothing(b: &Billed) {
    let t = now();
    let past_due = sub_event(
        b,
        "evt_pd",
        "customer.subscription.updated",
        "past_due",
        t - 60,
    );
    let active = sub_event(b, "evt_ok", "customer.subscription.updated", "active", t);
    assert_eq!(deliver(b, &past_due).await, (200, "applied".to_string()));
    assert_eq!(status_of(b).await.status, "past_due");
    assert_eq!(deliver(b, &active).await, (200, "applied".to_string()));
    // The past_due event again (a replay with a fresh signature): 200, and the state stays.
    assert_eq!(deliver(b, &past_due).await, (200, "duplicate".to_string()));
    assert_eq!(status_of(b).await.status, "active");

    // The same new event delivered three times at once: processed once.
    let canceled = sub_event(
        b,
        "evt_cancel",
        "customer.subscription.deleted",
        "canceled",
        t + 5,
    );
    let (r1, r2, r3) = tokio::join!(
        deliver(b, &canceled),
        deliver(b, &canceled),
        deliver(b, &canceled)
    );
    let mut outcomes = [r1, r2, r3].map(|(s, t)| {
        assert_eq!(s, 200);
        t
    });
    outcomes.sort();
    assert_eq!(outcomes, ["applied", "duplicate", "duplicate"]);
    assert_eq!(status_of(b).await.status, "canceled");
    let events = store::billing::events(&b.db).await.unwrap();
    assert_eq!(events.len(), 3, "one row per event id: {events:?}");
}

async fn an_older_event_arriving_late_does_not_overwrite_a_newer_state(b: &Billed) {
    let t = now();
    // Stripe sent "active" (t) after "past_due" (t - 100), but "active" arrives first.
    let newer = sub_event(b, "evt_new", "customer.subscription.updated", "active", t);
    let older = sub_event(
        b,
        "evt_old",
        "customer.subscription.updated",
        "past_due",
        t - 100,
    );
    assert_eq!(deliver(b, &newer).await, (200, "applied".to_string()));
    assert_eq!(deliver(b, &older).await, (200, "stale".to_string()));
    let s = status_of(b).await;
    assert_eq!(s.status, "active");
    assert_eq!(s.state_at, Some(t * 1000));
    assert_eq!(s.grace_until, None);
    // A late invoice.payment_failed (older) changes nothing either.
    let failed = stripe_event(
        "evt_old_inv",
        "invoice.payment_failed",
        t - 50,
        json!({"id": "in_1", "object": "invoice", "customer": "cus_demo", "subscription": "sub_demo"}),
    );
    assert_eq!(deliver(b, &failed).await, (200, "stale".to_string()));
    assert_eq!(status_of(b).await.status, "active");
    // A newer payment failure does: past_due, its grace counted from the event's time.
    let failed = stripe_event(
        "evt_new_inv",
        "invoice.payment_failed",
        t + 10,
        json!({"id": "in_2", "object": "invoice", "customer": "cus_demo"}),
    );
    assert_eq!(deliver(b, &failed).await, (200, "applied".to_string()));
    let s = status_of(b).await;
    assert_eq!(s.status, "past_due");
    assert_eq!(s.past_due_since, Some((t + 10) * 1000));
    assert_eq!(s.grace_until, Some((t + 10) * 1000 + 7 * 86_400_000));
    // And invoice.paid brings it back to active, the grace cleared.
    let paid = stripe_event(
        "evt_paid",
        "invoice.paid",
        t + 20,
        json!({"id": "in_2", "object": "invoice", "customer": "cus_demo", "status": "paid"}),
    );
    assert_eq!(deliver(b, &paid).await, (200, "applied".to_string()));
    let s = status_of(b).await;
    assert_eq!((s.status.as_str(), s.grace_until), ("active", None));
}

async fn past_due_keeps_automatic_quotes_during_the_grace_period_only(b: &Billed) {
    let day = 86_400;
    // Past due since yesterday: within the 7 days of grace, quotes still go out; the banner
    // warns with the date.
    let body = sub_event(
        b,
        "evt_pd1",
        "customer.subscription.updated",
        "past_due",
        now() - day,
    );
    assert_eq!(deliver(b, &body).await.0, 200);
    b.customer_says(&b.demo, CARLOS, "Carlos", AUTO_QUOTE).await;
    assert!(
        b.pending_approval(&b.demo).await.is_none(),
        "within grace: sent"
    );
    let owner = b.as_owner().await;
    let home = owner.page("/").await;
    assert!(home.contains("id=\"billing-banner\""), "{home}");
    assert!(home.contains("Pagamento atrasado"), "{home}");

    // Still past due (a later event about the same failure), but it began 8 days ago: the
    // grace is counted from the first past_due, so it is over now.
    let s = status_of(b).await;
    let since = s.past_due_since.unwrap();
    let tenant = b.demo.tenant_id.clone();
    let eight_days_ago = (now() - 8 * day) * 1000;
    b.db.tx(move |c| {
        Box::pin(async move {
            sqlx::query("UPDATE tenants SET subscription_past_due_since = $2, subscription_state_at = $2 WHERE id = $1")
                .bind(&tenant)
                .bind(eight_days_ago)
                .execute(&mut *c)
                .await?;
            Ok(())
        })
    })
    .await
    .unwrap();
    assert!(since > eight_days_ago);
    let body = sub_event(
        b,
        "evt_pd2",
        "customer.subscription.updated",
        "past_due",
        now(),
    );
    assert_eq!(deliver(b, &body).await, (200, "applied".to_string()));
    let s = status_of(b).await;
    assert_eq!(
        s.past_due_since,
        Some(eight_days_ago),
        "the grace's start is kept"
    );
    assert!(s.grace_until.unwrap() < now() * 1000);

    b.customer_says(&b.demo, "5511966667777", "Rita", AUTO_QUOTE)
        .await;
    let (_, quote_id) = b
        .pending_approval(&b.demo)
        .await
        .expect("grace over: the quote waits for a person");
    assert_eq!(
        approval_reasons(b, &quote_id).await,
        vec![ApprovalReason::SubscriptionInactive]
    );
    let home = owner.page("/").await;
    assert!(home.contains("Assinatura inativa"), "{home}");
}

async fn an_unpaid_store_gets_its_quotes_in_approval_with_its_own_reason(b: &Billed) {
    let body = sub_event(
        b,
        "evt_unpaid",
        "customer.subscription.updated",
        "unpaid",
        now(),
    );
    assert_eq!(deliver(b, &body).await.0, 200);
    let before = b.graph_accepted().len();
    b.customer_says(&b.demo, CARLOS, "Carlos", AUTO_QUOTE).await;
    let (approval_id, quote_id) = b
        .pending_approval(&b.demo)
        .await
        .expect("unpaid: the quote goes to approval");
    let reasons = approval_reasons(b, &quote_id).await;
    assert_eq!(reasons, vec![ApprovalReason::SubscriptionInactive]);
    assert!(!reasons.contains(&ApprovalReason::NeedsHuman));
    // No quote went to the customer (only the "a person will check" message).
    let sent: Vec<String> = b.graph_accepted()[before..]
        .iter()
        .map(|m| m.to_string())
        .collect();
    assert!(
        sent.iter().all(|m| !m.contains("Total: R$")),
        "no quote sent: {sent:?}"
    );

    // The approval says why in pt-BR; the banner is on every page, for the owner with the
    // link to the billing page, for an attendant with whom to ask.
    let owner = b.as_owner().await;
    let page = owner.page(&format!("/aprovacoes/{approval_id}")).await;
    assert!(page.contains("assinatura inativa"), "{page}");
    for path in [
        "/",
        "/aprovacoes",
        "/conversas",
        "/catalogo",
        "/regras",
        "/assinatura",
    ] {
        let html = owner.page(path).await;
        assert!(html.contains("id=\"billing-banner\""), "{path}");
        assert!(html.contains("href=\"/assinatura\""), "{path}");
    }
    let attendant = b.as_attendant().await;
    let html = attendant.page("/orcamentos").await;
    assert!(html.contains("id=\"billing-banner\""));
    assert!(html.contains("Peça ao dono da loja"), "{html}");

    // A person can still send it: approving works as always (nothing is blocked or deleted).
    owner
        .post_form(&format!("/aprovacoes/{approval_id}/aprovar"), &[])
        .await
        .expect_status(303);
    b.drain().await;
    assert!(b
        .graph_accepted()
        .iter()
        .any(|m| m["to"] == CARLOS && m.to_string().contains("Total: R$")));

    // Paid again: the banner is gone and the next quote goes out by itself.
    let body = sub_event(
        b,
        "evt_back",
        "customer.subscription.updated",
        "active",
        now() + 1,
    );
    assert_eq!(deliver(b, &body).await, (200, "applied".to_string()));
    assert!(!owner.page("/").await.contains("id=\"billing-banner\""));
    b.customer_says(&b.demo, "5511966667777", "Rita", AUTO_QUOTE)
        .await;
    assert!(b.pending_approval(&b.demo).await.is_none());
}

async fn an_active_store_sends_quotes_automatically(b: &Billed) {
    for (i, state) in ["trialing", "active"].iter().enumerate() {
        let body = sub_event(
            b,
            &format!("evt_{state}"),
            "customer.subscription.updated",
            state,
            now() + i as i64,
        );
        assert_eq!(deliver(b, &body).await, (200, "applied".to_string()));
        let customer = format!("55119{:08}", 10_000_000 + i);
        b.customer_says(&b.demo, &customer, "Cliente", AUTO_QUOTE)
            .await;
        assert!(b.pending_approval(&b.demo).await.is_none(), "{state}");
        assert!(
            b.graph_accepted()
                .iter()
                .any(|m| m["to"] == customer.as_str() && m.to_string().contains("Total: R$")),
            "{state}: quote sent"
        );
    }
    let owner = b.as_owner().await;
    assert!(!owner.page("/").await.contains("id=\"billing-banner\""));
}

async fn checkout_portal_and_invoices(b: &Billed) {
    let owner = b.as_owner().await;
    let page = owner.page("/assinatura").await;
    assert!(page.contains("OrçaZap Mensal"), "{page}");
    assert!(page.contains("R$\u{a0}149,00"), "{page}");
    assert!(page.contains("sem assinatura"), "{page}");
    assert!(page.contains("id=\"subscribe\""));
    assert!(!page.contains("id=\"portal\""), "no customer yet");

    // "Assinar": a Checkout Session as Stripe's API takes it, then Stripe's page.
    let r = owner.post_form("/assinatura/assinar", &[]).await;
    assert_eq!(r.status(), 303);
    let to = r.header_text("location").unwrap().to_string();
    assert!(
        to.starts_with("https://checkout.stripe.com/c/pay/cs_test_"),
        "{to}"
    );
    let call = b.stripe.calls().last().cloned().unwrap();
    assert_eq!(call.path, "/v1/checkout/sessions");
    assert_eq!(call.authorization, format!("Bearer {STRIPE_SECRET_KEY}"));
    let p = &call.params;
    assert_eq!(p["mode"], "subscription");
    assert_eq!(p["line_items[0][price]"], STRIPE_PRICE_ID);
    assert_eq!(p["client_reference_id"], b.demo.tenant_id);
    assert_eq!(
        p["subscription_data[metadata][tenant_id]"],
        b.demo.tenant_id
    );
    let store = format!("http://demo.localhost:{}", b.addr.port());
    assert_eq!(
        p["success_url"],
        format!("{store}/assinatura?ok=assinatura")
    );
    assert_eq!(p["cancel_url"], format!("{store}/assinatura"));
    assert_eq!(p["customer_email"], OWNER_EMAIL);

    // Stripe reports the completed checkout (linked by client_reference_id), then the
    // subscription; the page shows it active and offers the portal.
    let done = stripe_event(
        "evt_cs",
        "checkout.session.completed",
        now(),
        json!({"id": "cs_test_1", "object": "checkout.session", "mode": "subscription",
               "client_reference_id": b.demo.tenant_id, "customer": "cus_new", "subscription": "sub_new"}),
    );
    assert_eq!(deliver(b, &done).await, (200, "linked".to_string()));
    let created = stripe_event(
        "evt_sub",
        "customer.subscription.created",
        now(),
        subscription("sub_new", "cus_new", "active", None),
    );
    assert_eq!(
        deliver(b, &created).await,
        (200, "applied".to_string()),
        "found by customer"
    );
    b.stripe
        .add_invoice("cus_new", "ORCA-0001", 14_900, "paid", now());
    b.stripe
        .add_invoice("cus_other", "OTHER-0001", 99_900, "paid", now());
    let page = owner.page("/assinatura").await;
    assert!(page.contains("id=\"billing-status\">ativa<"), "{page}");
    assert!(page.contains("id=\"portal\""));
    assert!(!page.contains("id=\"subscribe\""), "already subscribed");
    let invoices = between(&page, "id=\"invoices\"", "</section>").unwrap();
    assert!(invoices.contains("ORCA-0001"), "{invoices}");
    assert!(invoices.contains("R$\u{a0}149,00"), "{invoices}");
    assert!(invoices.contains("paga"), "{invoices}");
    assert!(
        !invoices.contains("OTHER-0001"),
        "another customer's invoice"
    );
    let list = b
        .stripe
        .calls()
        .into_iter()
        .rev()
        .find(|c| c.path == "/v1/invoices")
        .unwrap();
    assert_eq!(list.params["customer"], "cus_new");

    // "Gerenciar cartão e plano": the Customer Portal for this customer.
    let r = owner.post_form("/assinatura/portal", &[]).await;
    assert_eq!(r.status(), 303);
    let to = r.header_text("location").unwrap().to_string();
    assert!(
        to.starts_with("https://billing.stripe.com/p/session/"),
        "{to}"
    );
    let call = b.stripe.calls().last().cloned().unwrap();
    assert_eq!(call.path, "/v1/billing_portal/sessions");
    assert_eq!(call.params["customer"], "cus_new");
    assert_eq!(call.params["return_url"], format!("{store}/assinatura"));

    // Subscribing again is refused with the way to change the plan.
    let body = owner
        .post_form("/assinatura/assinar", &[])
        .await
        .page_with_status(409)
        .await;
    assert!(body.contains("Gerenciar cartão e plano"), "{body}");
}

async fn the_billing_page_is_the_owners_and_stripe_failures_are_explained(b: &Billed) {
    let attendant = b.as_attendant().await;
    attendant
        .get("/assinatura")
        .answer()
        .await
        .expect_status(403);
    attendant
        .post_form("/assinatura/assinar", &[])
        .await
        .expect_status(403);
    assert!(!attendant.page("/").await.contains("href=\"/assinatura\""));
    assert!(b.stripe.calls().is_empty(), "an attendant reached Stripe");

    let owner = b.as_owner().await;
    assert!(owner.page("/").await.contains("href=\"/assinatura\""));
    // The portal before any subscription: explained, nothing called.
    let body = owner
        .post_form("/assinatura/portal", &[])
        .await
        .page_with_status(409)
        .await;
    assert!(body.contains("clique em Assinar primeiro"), "{body}");
    // Stripe failing: a pt-BR explanation, no Stripe detail, nothing changed.
    b.stripe.set_failing(true);
    let body = owner
        .post_form("/assinatura/assinar", &[])
        .await
        .page_with_status(502)
        .await;
    assert!(
        body.contains("Não foi possível falar com a Stripe agora"),
        "{body}"
    );
    assert!(!body.contains("unknown error"), "{body}");
    assert_eq!(status_of(b).await.status, "none");
    // Without the CSRF token the POST is refused before Stripe is called.
    let calls = b.stripe.calls().len();
    let r = owner.post("/assinatura/assinar", &[]).answer().await;
    assert_eq!(r.status(), 403);
    assert_eq!(b.stripe.calls().len(), calls);
}

async fn billing_off_has_no_webhook_no_page_and_no_gate(app: &TestApp) {
    let body = stripe_event(
        "evt_off",
        "customer.subscription.updated",
        now(),
        subscription("sub_x", "cus_x", "canceled", Some(&app.demo.tenant_id)),
    );
    let r = app.stripe_webhook(&body).answer().await;
    assert_eq!(r.status(), 404);
    assert!(r.body().await.contains("billing off"));
    assert_eq!(status_of(app).await.status, "none");
    let owner = app.as_owner().await;
    owner.get("/assinatura").answer().await.expect_status(404);
    let home = owner.page("/").await;
    assert!(!home.contains("href=\"/assinatura\""));
    assert!(!home.contains("id=\"billing-banner\""));
    app.customer_says(&app.demo, CARLOS, "Carlos", AUTO_QUOTE)
        .await;
    assert!(app.pending_approval(&app.demo).await.is_none(), "not gated");
}

/// `invoice.payment_failed` → an e-mail to each owner of the store (issue 17 item 4), written
/// with the event: a duplicate delivery sends nothing more, a stale (older) event nothing.
async fn a_failed_payment_emails_the_owners_once(b: &Billed) {
    let t = now();
    deliver(
        b,
        &sub_event(b, "evt_act", "customer.subscription.updated", "active", t),
    )
    .await;
    let failed = stripe_event(
        "evt_fail_1",
        "invoice.payment_failed",
        t + 10,
        json!({"id": "in_9", "object": "invoice", "customer": "cus_demo", "amount_due": 14_900, "currency": "brl"}),
    );
    assert_eq!(deliver(b, &failed).await, (200, "applied".to_string()));
    let mails = b.mail_to(OWNER_EMAIL, 1).await;
    let m = &mails[0];
    assert_eq!(
        m.subject(),
        "Pagamento não aprovado — assinatura do OrçaZap (Depósito Demo)"
    );
    let text = m.text();
    assert!(text.contains("149,00"), "{text}");
    assert!(text.contains("continuam até"), "grace period named: {text}");
    assert!(
        m.link("/assinatura")
            .is_some_and(|l| l.starts_with(&format!("http://{}/assinatura", b.host("demo")))),
        "{text}"
    );
    // The same event again (Stripe retries): recorded once, no second e-mail.
    assert_eq!(deliver(b, &failed).await, (200, "duplicate".to_string()));
    // An older failure arriving late: stale, no e-mail.
    let old = stripe_event(
        "evt_fail_0",
        "invoice.payment_failed",
        t - 100,
        json!({"id": "in_8", "object": "invoice", "customer": "cus_demo"}),
    );
    assert_eq!(deliver(b, &old).await, (200, "stale".to_string()));
    b.drain().await;
    assert_eq!(b.smtp.to(OWNER_EMAIL).len(), 1);
    // Attendants are not billed: nothing for them.
    assert!(b.smtp.to(ATTENDANT_EMAIL).is_empty());
}
