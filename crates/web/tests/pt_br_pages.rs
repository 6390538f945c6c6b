//! What a person reads is Portuguese with real values (issue 12 item 8): stored English words
//! and programmer's number formats do not reach the dashboard. SQLite always, PostgreSQL too
//! when `ORCAZAP_TEST_POSTGRES_URL` is set.

use testkit::*;

both_engines!(
    TestApp;
    overview_names_the_store_without_guessing_an_article,
    quote_page_says_the_approval_state_in_portuguese,
    catalog_weights_are_written_in_pt_br,
    a_quote_without_payment_discount_has_no_zero_line,
    the_quotes_list_names_each_customer,
);

async fn overview_names_the_store_without_guessing_an_article(app: &TestApp) {
    let page = app.as_owner().await.page("/").await;
    assert!(page.contains("Hoje em Depósito Demo"), "{page}");
    assert!(!page.contains("Hoje na "), "article guessed: {page}");
}

async fn quote_page_says_the_approval_state_in_portuguese(app: &TestApp) {
    app.customer_says(
        &app.demo,
        "5511944443333",
        "Ana Souza",
        // No freight rule covers Itaquera in the demo store: the quote waits for approval.
        "bom dia, 20 sacos de cimento, entrega amanhã em Itaquera, pago no pix",
    )
    .await;
    let (_, quote_id) = app
        .pending_approval(&app.demo)
        .await
        .expect("no freight rule for Itaquera → approval");
    let page = app
        .as_owner()
        .await
        .page(&format!("/orcamentos/{quote_id}"))
        .await;
    assert!(page.contains("Aprovação: aguardando decisão"), "{page}");
    assert!(!page.contains("Aprovação: pending"), "{page}");
}

async fn catalog_weights_are_written_in_pt_br(app: &TestApp) {
    let page = app.as_owner().await.page("/catalogo?q=TIJ-6F").await;
    assert!(page.contains("2,3 kg"), "{page}");
    assert!(!page.contains("2.3 kg"), "{page}");
    // A cubic metre of sand weighs 1.500 kg: thousands take the dot, as on every pt-BR page.
    let page = app.as_owner().await.page("/catalogo?q=ARE-MED-M3").await;
    assert!(page.contains("1.500 kg"), "{page}");
    assert!(!page.contains("1500 kg"), "{page}");
}

async fn a_quote_without_payment_discount_has_no_zero_line(app: &TestApp) {
    // Boleto has 0% in the demo store (docs/demo-store.md).
    app.customer_says(
        &app.demo,
        "5511955554444",
        "Carlos Pereira",
        "10 sacos de cimento, entrega amanhã em Itaquera, boleto",
    )
    .await;
    let q = store::quotes::list(&app.db, &app.demo.tenant_id, None, None, None, None, 1)
        .await
        .unwrap()
        .remove(0);
    let page = app
        .as_owner()
        .await
        .page(&format!("/orcamentos/{}", q.id))
        .await;
    assert!(page.contains("Subtotal"), "{page}");
    assert!(!page.contains("Desconto Boleto (0%)"), "{page}");
    assert!(
        !page.contains("payment-discount"),
        "zero line shown: {page}"
    );
}

async fn the_quotes_list_names_each_customer(app: &TestApp) {
    app.customer_says(
        &app.demo,
        "5511933332222",
        "Marta Lima",
        "5 sacos de cimento, entrega amanhã em Itaquera, boleto",
    )
    .await;
    app.customer_says(
        &app.demo,
        "5511922221111",
        "",
        "3 sacos de cal, entrega amanhã em Itaquera, boleto",
    )
    .await;
    let page = app.as_owner().await.page("/orcamentos").await;
    assert!(page.contains("<th>Cliente</th>"), "{page}");
    assert!(page.contains("Marta Lima"), "{page}");
    // No profile name: the number as staff dial it.
    assert!(page.contains("+55 11 92222-1111"), "{page}");
}
