//! The owner's switch for the quote page's link on `/regras` (issue 15 item 3): off by
//! default, only the owner changes it, the change is audited, and from then on a quote is
//! followed by a `cta_url` button whose link opens the page on the public site. Over HTTP,
//! SQLite always, PostgreSQL too when `ORCAZAP_TEST_POSTGRES_URL` is set.

use testkit::*;

both_engines!(TestApp; the_owner_turns_the_quote_link_on_and_the_next_quote_carries_it);

async fn count(app: &TestApp, sql: &str) -> i64 {
    use sqlx::Row;
    sqlx::query(sql)
        .fetch_one(app.db.read())
        .await
        .unwrap()
        .get::<i64, _>(0)
}

fn links(app: &TestApp) -> Vec<String> {
    app.graph
        .accepted()
        .iter()
        .filter_map(|c| c.cta_url().map(|(_, url)| url.to_string()))
        .collect()
}

async fn the_owner_turns_the_quote_link_on_and_the_next_quote_carries_it(app: &TestApp) {
    let order = "10 sacos de cimento, entrega amanhã no Grajaú, pix";
    let owner = app.as_owner().await;
    let page = owner.page("/regras").await;
    assert!(
        page.contains("id=\"quote-link\""),
        "the switch is on the rules page"
    );
    assert!(
        !page.contains("id=\"quote-link\" checked"),
        "off by default"
    );
    app.customer_says(&app.demo, "5511955560001", "Bia", order)
        .await;
    assert!(links(app).is_empty(), "no link while it is off");

    let staff = app.as_attendant().await;
    staff
        .post_form("/regras/link-orcamento", &[("quote_link", "on")])
        .await
        .expect_status(403);
    owner
        .post_form("/regras/link-orcamento", &[("quote_link", "on")])
        .await
        .expect_status(303);
    assert!(owner
        .page("/regras")
        .await
        .contains("id=\"quote-link\" checked"));
    assert_eq!(
        count(
            app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'rules.quote_link' AND after_json LIKE '%true%'"
        )
        .await,
        1
    );
    app.customer_says(&app.demo, "5511955560002", "Caio", order)
        .await;
    let sent = links(app);
    assert_eq!(sent.len(), 1, "the quote's link went out");
    // The link opens the page on the public site, with no login.
    let path = sent[0]
        .strip_prefix(&format!("http://localhost:{}", app.addr.port()))
        .expect("a link to this server's public site")
        .to_string();
    let page = app
        .http
        .get(app.url(&path))
        .header("host", format!("localhost:{}", app.addr.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Depósito Demo"));

    // Staff see the link message in the transcript, with its button.
    let conv: String = {
        use sqlx::Row;
        sqlx::query("SELECT conversation_id FROM messages WHERE kind = 'cta_url'")
            .fetch_one(app.db.read())
            .await
            .unwrap()
            .get(0)
    };
    let page = owner.page(&format!("/conversas/{conv}")).await;
    assert!(page.contains("Botão: Ver orçamento"), "{page}");

    owner
        .post_form("/regras/link-orcamento", &[])
        .await
        .expect_status(303);
    app.customer_says(&app.demo, "5511955560003", "Duda", order)
        .await;
    assert_eq!(links(app).len(), 1, "no new link after switching it off");
}
