//! Money, exports and stored text through the real HTTP server (issue 10 items 4, 6, 7, 8, 9 and
//! issue 11 item 2): SQLite always, PostgreSQL too when `ORCAZAP_TEST_POSTGRES_URL` is set.
//! Each test fails if the control it names is removed.

use testkit::*;

both_engines!(
    TestApp;
    attendant_export_has_prices_but_no_cost,
    negative_or_huge_freight_edit_is_refused_and_nothing_sent,
    overflowing_edit_is_refused,
    edited_quote_rechecks_margin_and_total,
    money_inputs_of_catalog_and_rules_are_bounded,
    csv_export_neutralises_formulas_and_imports_back,
    nul_in_a_delivery_is_stored_and_the_neighbour_answered,
    nul_in_form_fields_is_stored_on_both_engines,
);

/// The catalog export as `session` downloads it.
async fn export(session: &Session<'_>) -> reqwest::Response {
    session.get("/catalogo/exportar.csv").answer().await
}

async fn attendant_export_has_prices_but_no_cost(app: &TestApp) {
    let r = export(&app.as_attendant().await).await.expect_status(200);
    let cache = r.header_text("cache-control").unwrap_or("").to_string();
    let csv = r.body().await;
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("sku,name,unit,price_cents,weight_kg,aliases")
    );
    // CIM-CP2-50 costs 3050 and sells at 3690: the price is there, the cost is not.
    let cim = lines
        .find(|l| l.starts_with("CIM-CP2-50,"))
        .expect("cement row");
    assert!(cim.contains(",3690,"), "{cim}");
    assert!(!cim.contains("3050"), "attendant got the cost: {cim}");
    assert!(!csv.contains("cost"));
    assert_eq!(cache, "no-store");
    // The owner still gets the full catalog (the import format).
    let csv = export(&app.as_owner().await)
        .await
        .expect_status(200)
        .body()
        .await;
    assert!(csv.starts_with("sku,name,unit,price_cents,cost_cents,weight_kg,aliases\n"));
    assert!(csv.contains(",3690,3050,"));
}

/// A quote waiting for approval (no freight rule for Itaquera) and its attendant session.
async fn waiting_quote(app: &TestApp) -> (String, String, Session<'_>) {
    app.customer_says(
        &app.demo,
        "5511955554444",
        "Carlos",
        "10 sacos de cimento, entrega amanhã em Itaquera, pix",
    )
    .await;
    let (approval_id, quote_id) = app
        .pending_approval(&app.demo)
        .await
        .expect("no freight rule for Itaquera → approval");
    (approval_id, quote_id, app.as_attendant().await)
}

async fn quote(app: &TestApp, quote_id: &str) -> (i64, domain::pricing::PricedQuote) {
    let q = store::quotes::get(&app.db, &app.demo.tenant_id, quote_id)
        .await
        .unwrap()
        .unwrap();
    (
        q.total_cents,
        serde_json::from_str(&q.snapshot_json).unwrap(),
    )
}

/// The approval's edit form, sent with the session's CSRF token.
async fn edit(s: &Session<'_>, approval_id: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    s.post_form(&format!("/aprovacoes/{approval_id}/editar"), fields)
        .await
}

async fn negative_or_huge_freight_edit_is_refused_and_nothing_sent(app: &TestApp) {
    let (approval_id, quote_id, s) = waiting_quote(app).await;
    let before = quote(app, &quote_id).await;
    let sent_before = app.graph_accepted().len();
    for (freight, message) in [
        ("-5.000,00", "Frete: não pode ser negativo."),
        ("100.000,01", "Frete: no máximo R$\u{a0}100.000,00."),
        (
            "999999999999999999999",
            "Frete: no máximo R$\u{a0}100.000,00.",
        ),
    ] {
        let body = edit(&s, &approval_id, &[("freight", freight)])
            .await
            .expect_status_because(400, &format!("freight {freight} refused"))
            .body()
            .await;
        assert!(
            body.contains(message),
            "clear message for {freight}: {body}"
        );
        assert_eq!(quote(app, &quote_id).await, before, "quote unchanged");
    }
    app.drain().await;
    assert_eq!(
        app.graph_accepted().len(),
        sent_before,
        "nothing sent to the customer"
    );
    // A valid freight still works and approving sends the exact total.
    edit(&s, &approval_id, &[("freight", "60,00")])
        .await
        .expect_status(303);
    s.post_form(&format!("/aprovacoes/{approval_id}/aprovar"), &[])
        .await
        .expect_status(303);
    app.drain().await;
    let last = app.graph_accepted().last().unwrap().to_string();
    // 369,00 − 5% PIX (18,45) + 60,00.
    assert!(last.contains("Total: R$\u{a0}410,55"), "{last}");
}

async fn overflowing_edit_is_refused(app: &TestApp) {
    let (approval_id, quote_id, s) = waiting_quote(app).await;
    let before = quote(app, &quote_id).await;
    // The finding: 1.000.000 × a huge price was stored as a negative subtotal.
    let body = edit(
        &s,
        &approval_id,
        &[
            ("qty_0", "1000000"),
            ("price_0", "92.233.720.368.547.758,07"),
        ],
    )
    .await
    .expect_status(400)
    .body()
    .await;
    assert!(
        body.contains("Preço: no máximo R$\u{a0}1.000.000,00."),
        "{body}"
    );
    let body = edit(
        &s,
        &approval_id,
        &[("qty_0", "1000000"), ("price_0", "36,90")],
    )
    .await
    .expect_status(400)
    .body()
    .await;
    assert!(
        body.contains("quantidade acima do máximo de 100.000 por item"),
        "{body}"
    );
    assert_eq!(quote(app, &quote_id).await, before, "quote unchanged");
    // At the limits the totals are exact and positive.
    edit(
        &s,
        &approval_id,
        &[("qty_0", "100000"), ("price_0", "1.000.000,00")],
    )
    .await
    .expect_status(303);
    let (total, p) = quote(app, &quote_id).await;
    assert_eq!(p.subtotal.0, 10_000_000_000_000);
    // PIX 5%: 10^13 − 5 × 10^11.
    assert_eq!(total, 9_500_000_000_000);
}

async fn edited_quote_rechecks_margin_and_total(app: &TestApp) {
    let (approval_id, quote_id, s) = waiting_quote(app).await;
    let (_, p) = quote(app, &quote_id).await;
    assert_eq!(
        p.approval_reasons,
        vec![domain::pricing::ApprovalReason::NoFreightRule]
    );
    // Freight set, cement sold at its cost (30,50): the margin falls below the 12% minimum.
    edit(
        &s,
        &approval_id,
        &[("freight", "60,00"), ("price_0", "30,50")],
    )
    .await
    .expect_status(303);
    let (_, p) = quote(app, &quote_id).await;
    assert_eq!(
        p.approval_reasons,
        vec![domain::pricing::ApprovalReason::MarginBelowMinimum]
    );
    let html = s.page(&format!("/aprovacoes/{approval_id}")).await;
    assert!(html.contains("margem abaixo do mínimo"), "{html}");
    assert!(!html.contains("sem regra de frete"), "freight reason gone");
    let list = s.page("/aprovacoes").await;
    assert!(list.contains("margem abaixo do mínimo"), "{list}");
    assert!(!list.contains("sem regra de frete"), "{list}");
    // 1.000 sacos at the list price: above the R$ 8.000,00 automatic limit.
    edit(&s, &approval_id, &[("qty_0", "1000"), ("price_0", "36,90")])
        .await
        .expect_status(303);
    let (_, p) = quote(app, &quote_id).await;
    assert_eq!(
        p.approval_reasons,
        vec![domain::pricing::ApprovalReason::TotalAboveThreshold]
    );
}

async fn money_inputs_of_catalog_and_rules_are_bounded(app: &TestApp) {
    let s = app.as_owner().await;
    let item = |price: &'static str, cost: &'static str| {
        vec![
            ("sku", "LIM-1"),
            ("name", "Produto limite"),
            ("unit", "un"),
            ("price", price),
            ("cost", cost),
            ("weight_kg", "1"),
            ("aliases", ""),
            ("active", "on"),
        ]
    };
    for (price, cost, message) in [
        (
            "1.000.000,01",
            "1,00",
            "Preço: no máximo R$\u{a0}1.000.000,00.",
        ),
        ("10,00", "-1,00", "Custo: não pode ser negativo."),
        ("-10,00", "1,00", "Preço: não pode ser negativo."),
    ] {
        let body = s
            .post_form("/catalogo/itens", &item(price, cost))
            .await
            .expect_status_because(422, &format!("{price}/{cost}"))
            .body()
            .await;
        assert!(body.contains(message), "{message}: {body}");
    }
    let csv =
        "sku,name,unit,price_cents,cost_cents,weight_kg,aliases\nLIM-2,Caro,un,100000001,1,1,\n";
    let body = s
        .post_form("/catalogo/importar", &[("csv", csv)])
        .await
        .expect_status(422)
        .body()
        .await;
    assert!(body.contains("no máximo R$\u{a0}1.000.000,00"), "{body}");
    let skus: Vec<String> = store::catalog::list(&app.db, &app.demo.tenant_id)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.item.sku)
        .collect();
    assert!(
        !skus.iter().any(|s| s.starts_with("LIM-")),
        "nothing stored"
    );

    let freight = |base: &'static str| {
        vec![
            ("label", "Teste"),
            ("kind", "bairros"),
            ("bairros", "Centro"),
            ("base", base),
            ("per_kg", ""),
            ("free_above", ""),
            ("position", ""),
        ]
    };
    let rules_before = store::rules::load(&app.db, &app.demo.tenant_id)
        .await
        .unwrap();
    let body = s
        .post_form("/frete", &freight("100.000,01"))
        .await
        .expect_status(422)
        .body()
        .await;
    assert!(
        body.contains("Valor fixo: no máximo R$\u{a0}100.000,00."),
        "{body}"
    );
    let rules_form = |approval: &'static str, pix: &'static str| {
        vec![
            ("pix", pix),
            ("cartao", "0"),
            ("boleto", "0"),
            ("dinheiro", "3"),
            ("min_margin", "12"),
            ("approval_above", approval),
            ("validity", "48"),
        ]
    };
    let body = s
        .post_form("/regras", &rules_form("100.000.000,01", "5"))
        .await
        .expect_status(422)
        .body()
        .await;
    assert!(
        body.contains("Limite para aprovação: no máximo R$\u{a0}100.000.000,00."),
        "{body}"
    );
    let body = s
        .post_form("/regras", &rules_form("8.000,00", "-5"))
        .await
        .expect_status(422)
        .body()
        .await;
    assert!(
        body.contains("Desconto PIX: não pode ser negativo"),
        "{body}"
    );
    let body = s
        .post_form(
            "/regras/volume",
            &[("sku", ""), ("min_quantity", "1000000"), ("pct", "5")],
        )
        .await
        .expect_status(422)
        .body()
        .await;
    assert!(body.contains("máximo de 100.000"), "{body}");
    let rules_after = store::rules::load(&app.db, &app.demo.tenant_id)
        .await
        .unwrap();
    assert_eq!(
        format!("{rules_before:?}"),
        format!("{rules_after:?}"),
        "no rule changed"
    );
}

async fn csv_export_neutralises_formulas_and_imports_back(app: &TestApp) {
    let s = app.as_owner().await;
    // The probes of the security test, imported as an owner could (or as a supplier's file).
    let csv = "sku,name,unit,price_cents,cost_cents,weight_kg,aliases\n\
               F-1,\"-2+3+cmd|' /C calc'!A0\",un,100,50,1,\"=1+1|@SUM(A1)\"\n\
               F-2,\"-1+HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",un,100,50,1,+55 11\n";
    s.post_form("/catalogo/importar", &[("csv", csv)])
        .await
        .page_with_status(303)
        .await;
    let before = store::catalog::list(&app.db, &app.demo.tenant_id)
        .await
        .unwrap();
    for session in [&s, &app.as_attendant().await] {
        let exported = export(session).await.body().await;
        for line in exported.lines().filter(|l| l.starts_with("F-")) {
            let cells: Vec<&str> = line.split(',').collect();
            let name = cells[1].trim_start_matches('"');
            assert!(name.starts_with('\''), "formula left as is: {line}");
            let last = cells.last().unwrap().trim_start_matches('"');
            assert!(last.starts_with('\''), "aliases left as is: {line}");
        }
    }
    // The owner's export imports back to exactly the same catalog.
    let exported = export(&s).await.body().await;
    s.post_form("/catalogo/importar", &[("csv", &exported)])
        .await
        .page_with_status(303)
        .await;
    let after = store::catalog::list(&app.db, &app.demo.tenant_id)
        .await
        .unwrap();
    assert_eq!(
        after.iter().map(|s| &s.item).collect::<Vec<_>>(),
        before.iter().map(|s| &s.item).collect::<Vec<_>>()
    );
    let f1 = after.iter().find(|s| s.item.sku == "F-1").unwrap();
    assert_eq!(f1.item.name, "-2+3+cmd|' /C calc'!A0");
}

async fn nul_in_a_delivery_is_stored_and_the_neighbour_answered(app: &TestApp) {
    let build = |from: &str, name: &str, text: &str| -> serde_json::Value {
        serde_json::from_str(&whatsapp::webhook::build_text_webhook(
            &app.demo.pnid,
            "5511933334444",
            from,
            Some(name),
            &format!("wamid.N{}", uuid::Uuid::new_v4().simple()),
            text,
            store::now_ms() / 1000,
        ))
        .unwrap()
    };
    // One delivery, two messages: one with NUL and other control characters, one ordinary.
    let mut body = build(
        "5511911110000",
        "Jo\u{0}ana",
        "oi\u{0}\u{1}\u{7}\u{1b}\ttudo\r\nbem\u{7f}",
    );
    let other = build(
        "5511922220000",
        "Carla",
        "10 sacos de cimento, entrega amanhã no Grajaú, pago no pix",
    );
    let value = |v: &serde_json::Value| v["entry"][0]["changes"][0]["value"].clone();
    let (o, v) = (value(&other), &mut body["entry"][0]["changes"][0]["value"]);
    v["messages"]
        .as_array_mut()
        .unwrap()
        .push(o["messages"][0].clone());
    v["contacts"]
        .as_array_mut()
        .unwrap()
        .push(o["contacts"][0].clone());
    let raw = serde_json::to_string(&body).unwrap();
    assert!(raw.contains("\\u0000"), "the NUL travels as JSON escapes");
    app.webhook(raw)
        .answer()
        .await
        .expect_status_because(200, "delivery stored, not 503");
    app.drain().await;

    let convs = store::conversations::list(&app.db, &app.demo.tenant_id, None, 50)
        .await
        .unwrap();
    assert_eq!(convs.len(), 2, "both messages stored");
    let nul = convs
        .iter()
        .find(|c| c.contact_wa_id == "5511911110000")
        .unwrap();
    assert_eq!(nul.contact_name, "Jo\u{FFFD}ana");
    let msgs = store::messages::for_conversation(&app.db, &app.demo.tenant_id, &nul.id, 10)
        .await
        .unwrap();
    let inbound = msgs.iter().find(|m| m.direction == "in").unwrap();
    // NUL replaced; every other control character kept as sent.
    assert_eq!(
        inbound.body,
        "oi\u{FFFD}\u{1}\u{7}\u{1b}\ttudo\r\nbem\u{7f}"
    );
    let sent = app.graph_accepted();
    let to = |wa: &str| {
        sent.iter()
            .filter(|m| m["to"] == wa)
            .map(|m| m.to_string())
            .collect::<Vec<_>>()
    };
    assert!(
        to("5511922220000")
            .iter()
            .any(|m| m.contains("661,05") || m.contains("R$")),
        "the neighbour got the quote: {sent:?}"
    );
    assert!(
        !to("5511911110000").is_empty(),
        "the NUL sender was answered too"
    );
}

async fn nul_in_form_fields_is_stored_on_both_engines(app: &TestApp) {
    let s = app.as_owner().await;
    s.post_form(
        "/catalogo/itens",
        &[
            ("sku", "NUL-1"),
            ("name", "Cimento\u{0}branco\tespecial"),
            ("unit", "sc"),
            ("price", "10,00"),
            ("cost", "5,00"),
            ("weight_kg", "1"),
            ("aliases", "cim\u{0}ento"),
            ("active", "on"),
        ],
    )
    .await
    .page_with_status(303)
    .await;
    let items = store::catalog::list(&app.db, &app.demo.tenant_id)
        .await
        .unwrap();
    let it = &items.iter().find(|s| s.item.sku == "NUL-1").unwrap().item;
    assert_eq!(it.name, "Cimento\u{FFFD}branco\tespecial");
    assert_eq!(it.aliases, vec!["cim\u{FFFD}ento".to_string()]);
    // A manual reply (a form the worker stores and sends) takes the same rule.
    app.customer_says(&app.demo, "5511933330000", "Rui", "bom dia")
        .await;
    let conv = store::conversations::list(&app.db, &app.demo.tenant_id, None, 10)
        .await
        .unwrap()
        .remove(0);
    s.post_form(
        &format!("/conversas/{}/responder", conv.id),
        &[("text", "Olá\u{0}!")],
    )
    .await
    .page_with_status(303)
    .await;
    let msgs = store::messages::for_conversation(&app.db, &app.demo.tenant_id, &conv.id, 20)
        .await
        .unwrap();
    assert!(
        msgs.iter()
            .any(|m| m.direction == "out" && m.body == "Olá\u{FFFD}!"),
        "{:?}",
        msgs.iter().map(|m| &m.body).collect::<Vec<_>>()
    );
}
