//! Approval needs the freight resolved, an owner limits what attendants approve, the approver
//! adds lines from the catalog, and a person builds a quote by hand (issue 12 item 5 and the
//! inbox's "build a quote by hand"). Over HTTP with the real server, the worker and the mock
//! Graph API: SQLite always, PostgreSQL too when `ORCAZAP_TEST_POSTGRES_URL` is set.

use domain::money::Quantity;
use testkit::*;

both_engines!(
    TestApp;
    approval_without_freight_is_refused_until_the_freight_is_set,
    pickup_approval_sends_no_freight_and_says_retirada,
    added_line_is_priced_by_the_catalog_and_the_quote_repriced,
    thousands_in_the_edit_form_stay_thousands,
    an_unknown_product_marked_resolved_is_not_sent_as_not_included,
    a_freight_rule_created_while_the_quote_waits_is_applied_on_recalculate,
    attendant_above_the_limit_is_refused_and_the_owner_approves,
    hand_built_quote_is_sent_with_the_bots_pricing_and_confirmed,
    hand_built_quote_without_freight_waits_for_approval,
);

const CARLOS: &str = "5511955554444";

/// A quote waiting for approval: Itaquera has no freight rule. 10 × R$ 36,90 with 5 % PIX.
async fn waiting_quote(app: &TestApp) -> (String, String) {
    app.customer_says(
        &app.demo,
        CARLOS,
        "Carlos",
        "10 sacos de cimento, entrega amanhã em Itaquera, pix",
    )
    .await;
    app.pending_approval(&app.demo)
        .await
        .expect("no freight rule for Itaquera → approval")
}

async fn snapshot(app: &TestApp, quote_id: &str) -> (String, i64, domain::pricing::PricedQuote) {
    let q = store::quotes::get(&app.db, &app.demo.tenant_id, quote_id)
        .await
        .unwrap()
        .unwrap();
    (
        q.status.as_str().to_string(),
        q.total_cents,
        serde_json::from_str(&q.snapshot_json).unwrap(),
    )
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    use sqlx::Row;
    sqlx::query(sql)
        .fetch_one(app.db.read())
        .await
        .unwrap()
        .get::<i64, _>(0)
}

/// The text of the last message Meta accepted for `to` (a button message's body or a text).
fn last_to(app: &TestApp, to: &str) -> String {
    app.graph_accepted()
        .iter()
        .rev()
        .find(|m| m["to"] == to)
        .map(|m| m.to_string())
        .unwrap_or_default()
}

/// After "sim" on a quote paid by PIX: the confirmation, then the PIX copia-e-cola alone
/// (the demo store has a key), then — for a delivery, never a pickup — the question for the
/// delivery address (issue 15 item 4). Returns the confirmation.
fn confirmation_then_pix(app: &TestApp, to: &str, delivery: bool) -> String {
    let mut sent: Vec<String> = app
        .graph_accepted()
        .iter()
        .filter(|m| m["to"] == to)
        .map(|m| m.to_string())
        .collect();
    let asks_address = sent
        .last()
        .is_some_and(|m| m.contains("Para a entrega, me manda o endere"));
    assert_eq!(asks_address, delivery, "address question: {sent:?}");
    if asks_address {
        sent.pop();
    }
    let pix = sent.last().cloned().unwrap_or_default();
    assert!(
        pix.contains("br.gov.bcb.pix"),
        "the PIX code comes after the confirmation: {pix}"
    );
    sent[sent.len() - 2].clone()
}

async fn approval_without_freight_is_refused_until_the_freight_is_set(app: &TestApp) {
    let (approval_id, quote_id) = waiting_quote(app).await;
    let s = app.as_attendant().await;
    let path = format!("/aprovacoes/{approval_id}");
    let html = s.page(&path).await;
    // What the approver decides with: where, when, how it is paid.
    let order = between(&html, "id=\"order\"", "</section>").expect("order facts");
    assert!(order.contains("Itaquera"), "bairro shown: {order}");
    assert!(order.contains("amanhã ("), "delivery day shown: {order}");
    assert!(order.contains("PIX"), "payment shown: {order}");
    assert!(html.contains("id=\"freight-missing\""), "{html}");
    assert!(
        !html.contains("id=\"approve\""),
        "no approve button while the freight is unknown"
    );

    // Posted anyway: refused with the reason, nothing sent, the approval still waits.
    let sent_before = app.graph_accepted().len();
    let body = s
        .post_form(&format!("{path}/aprovar"), &[])
        .await
        .page_with_status(409)
        .await;
    assert!(body.contains("defina o frete antes de aprovar"), "{body}");
    app.drain().await;
    assert_eq!(app.graph_accepted().len(), sent_before, "nothing sent");
    let (status, total, p) = snapshot(app, &quote_id).await;
    assert_eq!(status, "pending_approval");
    assert_eq!(total, 35_055, "369,00 − 18,45 PIX, no freight");
    assert_eq!(p.freight, None);

    // The freight typed as a person writes it: the quote is re-priced, then approved.
    s.post_form(&format!("{path}/editar"), &[("freight", "R$ 35,00")])
        .await
        .expect_status(303);
    let (_, total, p) = snapshot(app, &quote_id).await;
    assert_eq!(p.freight, Some(domain::money::Centavos(3_500)));
    assert_eq!(total, 38_555);
    assert!(
        !p.approval_reasons
            .contains(&domain::pricing::ApprovalReason::NoFreightRule),
        "the reason is gone once the freight is set: {:?}",
        p.approval_reasons
    );
    let html = s.page(&path).await;
    assert!(html.contains("id=\"approve\""));
    assert!(!html.contains("id=\"freight-missing\""));
    s.post_form(&format!("{path}/aprovar"), &[])
        .await
        .expect_status(303);
    app.drain().await;
    let last = last_to(app, CARLOS);
    assert!(last.contains("Frete: R$"), "{last}");
    assert!(last.contains("35,00"), "{last}");
    assert!(last.contains("Total: R$"), "{last}");
    assert!(last.contains("385,55"), "{last}");
    assert!(!last.contains("a confirmar"), "{last}");
    assert_eq!(snapshot(app, &quote_id).await.0, "sent");
}

async fn pickup_approval_sends_no_freight_and_says_retirada(app: &TestApp) {
    let (approval_id, quote_id) = waiting_quote(app).await;
    let s = app.as_owner().await;
    let path = format!("/aprovacoes/{approval_id}");
    s.post_form(
        &format!("{path}/editar"),
        &[("freight_mode", "retirada"), ("freight", "")],
    )
    .await
    .expect_status(303);
    let (_, total, p) = snapshot(app, &quote_id).await;
    assert!(p.pickup);
    assert_eq!(p.freight, Some(domain::money::Centavos::ZERO));
    assert_eq!(total, 35_055, "no freight for a pickup");
    let html = s.page(&path).await;
    let order = between(&html, "id=\"order\"", "</section>").unwrap();
    assert!(order.contains("Retirada na loja"), "{order}");
    assert!(html.contains("id=\"freight-pickup\" checked"), "{html}");
    s.post_form(&format!("{path}/aprovar"), &[])
        .await
        .expect_status(303);
    app.drain().await;
    let last = last_to(app, CARLOS);
    assert!(last.contains("Retirada na loja (sem frete)"), "{last}");
    assert!(!last.contains("Frete:"), "{last}");
    assert!(last.contains("350,55"), "{last}");

    // "sim": the order is confirmed as a pickup.
    app.customer_says(&app.demo, CARLOS, "Carlos", "sim").await;
    let last = confirmation_then_pix(app, CARLOS, false);
    assert!(last.contains("Pedido confirmado"), "{last}");
    assert!(last.contains("Retirada na loja:"), "{last}");
}

/// "1.000" typed, and "1.000" as the page pre-fills it when saved again unchanged, is a
/// thousand tijolos — it once became 1 (the dot read as a decimal point), repricing a R$ 890
/// line to R$ 0,89 and sending the customer the wrong order.
async fn thousands_in_the_edit_form_stay_thousands(app: &TestApp) {
    let (approval_id, quote_id) = waiting_quote(app).await;
    let s = app.as_attendant().await;
    let path = format!("/aprovacoes/{approval_id}");
    s.post_form(
        &format!("{path}/editar"),
        &[
            ("add_sku", "TIJ-6F"),
            ("add_qty", "1.000"),
            ("freight", "35"),
        ],
    )
    .await
    .expect_status(303);
    let (_, _, p) = snapshot(app, &quote_id).await;
    let tijolo = p.lines.iter().find(|l| l.sku == "TIJ-6F").expect("added");
    assert_eq!(tijolo.quantity, Quantity::whole(1_000));
    // The page shows it back the pt-BR way; saving the form untouched changes nothing.
    let html = s.page(&path).await;
    let i = p.lines.iter().position(|l| l.sku == "TIJ-6F").unwrap();
    let shown = format!("name=\"qty_{i}\" value=\"1.000\"");
    assert!(html.contains(&shown), "{shown} in {html}");
    let qty_field = format!("qty_{i}");
    s.post_form(
        &format!("{path}/editar"),
        &[(qty_field.as_str(), "1.000"), ("freight", "35")],
    )
    .await
    .expect_status(303);
    let (_, _, again) = snapshot(app, &quote_id).await;
    assert_eq!(
        again.lines, p.lines,
        "saving the page as shown changed the order"
    );
}

/// The approver dealt with a product the store does not list (told the customer, or added
/// another item): marked resolved, it leaves the quote, and the customer is not sent
/// "não incluído: … vamos verificar" next to the line that replaced it.
async fn an_unknown_product_marked_resolved_is_not_sent_as_not_included(app: &TestApp) {
    app.customer_says(
        &app.demo,
        CARLOS,
        "Carlos",
        "10 sacos de cimento e 2 portas de madeira, entrega amanhã em Itaquera, pix",
    )
    .await;
    // The bot asks once about the product it does not know; the customer insists.
    app.customer_says(&app.demo, CARLOS, "Carlos", "isso mesmo, porta de madeira")
        .await;
    let pending = app.pending_approval(&app.demo).await;
    let (approval_id, quote_id) =
        pending.unwrap_or_else(|| panic!("approval; sent: {:?}", app.graph_accepted()));
    let (_, _, p) = snapshot(app, &quote_id).await;
    assert_eq!(p.unknown.len(), 1, "{:?}", p.unknown);
    let porta = p.unknown[0].clone();
    let s = app.as_owner().await;
    let path = format!("/aprovacoes/{approval_id}");
    let html = s.page(&path).await;
    assert!(html.contains("name=\"resolved_unknown\""), "{html}");
    s.post_form(
        &format!("{path}/editar"),
        &[("resolved_unknown", porta.as_str()), ("freight", "35")],
    )
    .await
    .expect_status(303);
    let (_, _, edited) = snapshot(app, &quote_id).await;
    assert!(edited.unknown.is_empty(), "{:?}", edited.unknown);
    s.post_form(&format!("{path}/aprovar"), &[])
        .await
        .expect_status(303);
    app.drain().await;
    let quote = last_to(app, CARLOS);
    assert!(quote.contains("Cimento"), "{quote}");
    assert!(!quote.contains("Não incluído"), "{quote}");
}

/// The quote waits because Itaquera has no freight rule; the owner creates one and presses
/// "Salvar e recalcular" without typing a value: the new rule prices the freight (it stayed
/// "sem regra" and the owner had to type what the rule already said).
async fn a_freight_rule_created_while_the_quote_waits_is_applied_on_recalculate(app: &TestApp) {
    let (approval_id, quote_id) = waiting_quote(app).await;
    let (_, _, before) = snapshot(app, &quote_id).await;
    assert_eq!(before.freight, None);
    let s = app.as_owner().await;
    s.post_form(
        "/frete",
        &[
            ("label", "Zona Leste"),
            ("kind", "bairros"),
            ("bairros", "Itaquera"),
            ("base", "50,00"),
            ("per_kg", "0"),
        ],
    )
    .await
    .expect_status(303);
    s.post_form(&format!("/aprovacoes/{approval_id}/editar"), &[])
        .await
        .expect_status(303);
    let (_, total, after) = snapshot(app, &quote_id).await;
    assert_eq!(after.freight, Some(domain::money::Centavos(5_000)));
    assert_eq!(after.freight_rule.as_deref(), Some("Zona Leste"));
    assert_eq!(total, before.total.0 + 5_000);
}

async fn added_line_is_priced_by_the_catalog_and_the_quote_repriced(app: &TestApp) {
    let (approval_id, quote_id) = waiting_quote(app).await;
    let s = app.as_attendant().await;
    let path = format!("/aprovacoes/{approval_id}");
    let html = s.page(&path).await;
    assert!(
        html.contains("<option value=\"CAL-CH3-20\">"),
        "the picker lists the catalog"
    );
    // 5 × Cal (R$ 16,90) added, freight typed without cents.
    s.post_form(
        &format!("{path}/editar"),
        &[
            ("add_sku", "CAL-CH3-20"),
            ("add_qty", "5"),
            ("freight", "35"),
        ],
    )
    .await
    .expect_status(303);
    let (_, total, p) = snapshot(app, &quote_id).await;
    assert_eq!(p.lines.len(), 2);
    let cal = &p.lines[1];
    assert_eq!(cal.sku, "CAL-CH3-20");
    assert_eq!(cal.unit_price.0, 1_690);
    assert_eq!(cal.line_total.0, 8_450);
    assert_eq!(
        cal.cost_total.0, 6_450,
        "the catalog's cost, for the margin"
    );
    assert_eq!(p.subtotal.0, 45_350);
    // 453,50 − 5 % (22,675 → 22,68) + 35,00.
    assert_eq!(p.payment_discount.0, 2_268);
    assert_eq!(total, 46_582);
    let html = s.page(&path).await;
    assert!(
        html.contains("Cal hidratada CH-III 20kg"),
        "the new line is shown"
    );
    assert!(html.contains("465,82"), "the new total is shown");
    let audit = count(
        app,
        "SELECT COUNT(*) FROM audit_log WHERE action = 'quote.edit' AND after_json LIKE '%CAL-CH3-20%'",
    )
    .await;
    assert_eq!(audit, 1, "the edit is audited with the added product");

    // The same product again, an unknown one, or no quantity: refused, nothing changed.
    for (fields, message) in [
        (
            vec![("add_sku", "CAL-CH3-20"), ("add_qty", "1")],
            "Cal hidratada CH-III 20kg já está no orçamento",
        ),
        (
            vec![("add_sku", "NAO-EXISTE"), ("add_qty", "1")],
            "O produto NAO-EXISTE não está no catálogo ativo",
        ),
        (
            vec![("add_sku", "ARE-MED-M3"), ("add_qty", "")],
            "Informe a quantidade do produto a adicionar",
        ),
        (
            vec![("add_sku", "ARE-MED-M3"), ("add_qty", "0")],
            "informe uma quantidade maior que zero",
        ),
    ] {
        let body = s
            .post_form(&format!("{path}/editar"), &fields)
            .await
            .page_with_status(400)
            .await;
        assert!(body.contains(message), "{fields:?}: {body}");
    }
    assert_eq!(snapshot(app, &quote_id).await.1, 46_582, "unchanged");
}

async fn attendant_above_the_limit_is_refused_and_the_owner_approves(app: &TestApp) {
    let (approval_id, quote_id) = waiting_quote(app).await;
    let owner = app.as_owner().await;
    let staff = app.as_attendant().await;
    // Only the owner sets the limit; a bad value is refused with its reason.
    staff
        .post_form("/regras/limite-atendente", &[("limit", "300,00")])
        .await
        .expect_status(403);
    let body = owner
        .post_form("/regras/limite-atendente", &[("limit", "trezentos")])
        .await
        .body()
        .await;
    assert!(body.contains("Use um valor em reais"), "{body}");
    owner
        .post_form("/regras/limite-atendente", &[("limit", "R$ 300,00")])
        .await
        .expect_status(303);
    assert!(owner.page("/regras").await.contains("value=\"300,00\""));
    assert_eq!(
        count(
            app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'rules.attendant_approval_limit' AND after_json LIKE '%30000%'",
        )
        .await,
        1,
        "the limit change is audited"
    );

    // 385,55 with the freight: above the attendant's 300,00.
    let path = format!("/aprovacoes/{approval_id}");
    staff
        .post_form(&format!("{path}/editar"), &[("freight", "35,00")])
        .await
        .expect_status(303);
    let html = staff.page(&path).await;
    assert!(html.contains("id=\"above-limit\""), "{html}");
    assert!(!html.contains("id=\"approve\""));
    let body = staff
        .post_form(&format!("{path}/aprovar"), &[])
        .await
        .page_with_status(403)
        .await;
    assert!(
        body.contains("passa do limite de aprovação de atendentes da loja (R$"),
        "{body}"
    );
    assert!(body.contains("300,00"), "{body}");
    assert_eq!(snapshot(app, &quote_id).await.0, "pending_approval");

    // The owner is never limited.
    let html = owner.page(&path).await;
    assert!(html.contains("id=\"approve\""));
    owner
        .post_form(&format!("{path}/aprovar"), &[])
        .await
        .expect_status(303);
    app.drain().await;
    assert_eq!(snapshot(app, &quote_id).await.0, "sent");
    assert!(last_to(app, CARLOS).contains("385,55"));

    // Removing the limit: an attendant approves any total again.
    owner
        .post_form("/regras/limite-atendente", &[("limit", "")])
        .await
        .expect_status(303);
    let mut c = app.db.read().acquire().await.unwrap();
    assert_eq!(
        store::tenants::attendant_approval_limit(&mut c, &app.demo.tenant_id)
            .await
            .unwrap(),
        None
    );
}

async fn hand_built_quote_is_sent_with_the_bots_pricing_and_confirmed(app: &TestApp) {
    const ANA: &str = "5511944443333";
    app.customer_says(&app.demo, ANA, "Ana", "oi, vcs tem tijolo baiano?")
        .await;
    let conv = store::conversations::list(&app.db, &app.demo.tenant_id, None, 10)
        .await
        .unwrap()
        .remove(0);
    let staff = app.as_attendant().await;
    let path = format!("/conversas/{}", conv.id);
    assert!(
        !staff.page(&path).await.contains("id=\"build-quote\""),
        "offered to the person who takes over"
    );
    staff
        .post_form(&format!("{path}/assumir"), &[])
        .await
        .expect_status(303);
    assert!(staff.page(&path).await.contains("id=\"build-quote\""));
    let form = staff.page(&format!("{path}/orcamento")).await;
    assert!(form.contains("id=\"hand-quote\""), "{form}");
    assert!(form.contains("<option value=\"ARE-MED-M3\">"));

    // Bad inputs first: each refused with its reason, nothing stored.
    for (fields, status, message) in [
        (
            vec![("payment", "PIX")],
            400,
            "escolha pelo menos um produto",
        ),
        (
            vec![
                ("sku_0", "CIM-CP2-50"),
                ("qty_0", "dez"),
                ("payment", "PIX"),
            ],
            400,
            "Linha 1: quantidade inválida",
        ),
        (
            vec![("sku_0", "CIM-CP2-50"), ("qty_0", "10")],
            400,
            "Escolha a forma de pagamento",
        ),
        (
            vec![
                ("sku_0", "CIM-CP2-50"),
                ("qty_0", "10"),
                ("payment", "PIX"),
                ("location", "0456"),
            ],
            400,
            "CEP inválido",
        ),
    ] {
        let body = staff
            .post_form(&format!("{path}/orcamento"), &fields)
            .await
            .page_with_status(status)
            .await;
        assert!(body.contains(message), "{fields:?}: {body}");
    }
    assert_eq!(count(app, "SELECT COUNT(*) FROM quotes").await, 0);

    let sent_before = app.graph_accepted().len();
    let r = staff
        .post_form(
            &format!("{path}/orcamento"),
            &[
                ("sku_0", "CIM-CP2-50"),
                ("qty_0", "10"),
                ("sku_1", "ARE-MED-M3"),
                ("qty_1", "1"),
                ("payment", "PIX"),
                ("location", "grajau"),
            ],
        )
        .await
        .expect_status(303);
    assert_eq!(
        r.header_text("location"),
        Some(format!("{path}?ok=orcamento").as_str())
    );
    app.drain().await;
    let sent = app.graph_accepted();
    assert_eq!(sent.len(), sent_before + 1, "one quote message");
    let msg = sent.last().unwrap();
    assert_eq!(msg["to"], ANA);
    assert_eq!(msg["type"], "interactive", "with the quote's buttons");
    let text = msg.to_string();
    // 369,00 + 145,00 = 514,00; PIX 5 % = 25,70; Grajaú freight 35,00.
    assert!(text.contains("523,30"), "{text}");
    assert!(text.contains("Frete: R$"), "{text}");
    assert!(text.contains("ORC-"), "numbered like the bot's: {text}");
    let q = store::quotes::latest_for_conversation(
        &mut app.db.read().acquire().await.unwrap(),
        &app.demo.tenant_id,
        &conv.id,
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(q.status.as_str(), "sent");
    assert_eq!(q.total_cents, 52_330);
    let conv_now = store::conversations::get(&app.db, &app.demo.tenant_id, &conv.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(conv_now.state.as_str(), "QUOTE_SENT");
    assert!(
        conv_now.taken_over_by.is_none(),
        "the bot answers the buttons"
    );
    assert_eq!(
        count(
            app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'quote.hand_built'"
        )
        .await,
        1
    );
    assert_eq!(
        count(app, "SELECT COUNT(*) FROM jobs WHERE kind = 'quote.expire'").await,
        1,
        "it expires like the bot's"
    );

    // The customer accepts: the bot confirms the hand-built quote.
    app.customer_says(&app.demo, ANA, "Ana", "sim").await;
    let confirmation = confirmation_then_pix(app, ANA, true);
    assert!(confirmation.contains("Pedido confirmado"), "{confirmation}");
    assert!(confirmation.contains(&q.number), "{confirmation}");
}

async fn hand_built_quote_without_freight_waits_for_approval(app: &TestApp) {
    const RUI: &str = "5511922221111";
    app.customer_says(&app.demo, RUI, "Rui", "quero falar com atendente")
        .await;
    let conv = store::conversations::list(&app.db, &app.demo.tenant_id, None, 10)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(conv.state.as_str(), "WAITING_PERSON");
    let staff = app.as_attendant().await;
    let path = format!("/conversas/{}", conv.id);
    assert!(
        staff.page(&path).await.contains("id=\"build-quote\""),
        "offered from the person queue"
    );
    let sent_before = app.graph_accepted().len();
    let r = staff
        .post_form(
            &format!("{path}/orcamento"),
            &[
                ("sku_0", "CIM-CP2-50"),
                ("qty_0", "4"),
                ("payment", "DINHEIRO"),
                ("location", "Itaquera"),
            ],
        )
        .await
        .expect_status(303);
    let (approval_id, quote_id) = app.pending_approval(&app.demo).await.expect("held");
    assert_eq!(
        r.header_text("location"),
        Some(format!("/aprovacoes/{approval_id}?ok=montado").as_str())
    );
    app.drain().await;
    assert_eq!(app.graph_accepted().len(), sent_before, "nothing sent yet");
    let conv_now = store::conversations::get(&app.db, &app.demo.tenant_id, &conv.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(conv_now.state.as_str(), "HUMAN_APPROVAL");
    assert!(conv_now.waiting_since.is_none(), "out of the person queue");
    // The same approval path: pickup, then approve.
    staff
        .post_form(
            &format!("/aprovacoes/{approval_id}/editar"),
            &[("freight_mode", "retirada")],
        )
        .await
        .expect_status(303);
    staff
        .post_form(&format!("/aprovacoes/{approval_id}/aprovar"), &[])
        .await
        .expect_status(303);
    app.drain().await;
    let last = last_to(app, RUI);
    // 4 × 36,90 = 147,60 − 3 % dinheiro (4,43) = 143,17.
    assert!(last.contains("143,17"), "{last}");
    assert!(last.contains("Retirada na loja"), "{last}");
    assert_eq!(snapshot(app, &quote_id).await.0, "sent");
}
