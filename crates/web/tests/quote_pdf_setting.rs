//! The owner's switch for the quote PDF on `/regras` (issue 15 item 1): off by default, only
//! the owner changes it, the change is audited, and from then on a quote is followed by its
//! PDF as a WhatsApp document. Over HTTP, SQLite always, PostgreSQL too when
//! `ORCAZAP_TEST_POSTGRES_URL` is set.

use testkit::*;

both_engines!(TestApp; the_owner_turns_the_quote_pdf_on_and_the_next_quote_carries_it);

async fn count(app: &TestApp, sql: &str) -> i64 {
    use sqlx::Row;
    sqlx::query(sql)
        .fetch_one(app.db.read())
        .await
        .unwrap()
        .get::<i64, _>(0)
}

fn documents(app: &TestApp) -> usize {
    app.graph_accepted()
        .iter()
        .filter(|m| m["type"] == "document")
        .count()
}

async fn the_owner_turns_the_quote_pdf_on_and_the_next_quote_carries_it(app: &TestApp) {
    let order = "10 sacos de cimento, entrega amanhã no Grajaú, pix";
    let owner = app.as_owner().await;
    let page = owner.page("/regras").await;
    assert!(
        page.contains("id=\"quote-pdf\""),
        "the switch is on the rules page"
    );
    assert!(!page.contains("id=\"quote-pdf\" checked"), "off by default");
    app.customer_says(&app.demo, "5511955550001", "Bia", order)
        .await;
    assert_eq!(documents(app), 0, "no PDF while it is off");

    let staff = app.as_attendant().await;
    staff
        .post_form("/regras/pdf-orcamento", &[("quote_pdf", "on")])
        .await
        .expect_status(403);
    owner
        .post_form("/regras/pdf-orcamento", &[("quote_pdf", "on")])
        .await
        .expect_status(303);
    assert!(owner
        .page("/regras")
        .await
        .contains("id=\"quote-pdf\" checked"));
    assert_eq!(
        count(
            app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'rules.quote_pdf' AND after_json LIKE '%true%'"
        )
        .await,
        1
    );
    app.customer_says(&app.demo, "5511955550002", "Caio", order)
        .await;
    assert_eq!(documents(app), 1, "the quote's PDF went out");
    let doc = app
        .graph_accepted()
        .into_iter()
        .find(|m| m["type"] == "document")
        .unwrap();
    assert_eq!(doc["to"], "5511955550002");
    assert!(doc["document"]["filename"]
        .as_str()
        .unwrap()
        .starts_with("Orcamento-ORC-"));

    // Staff see the document in the transcript as a file.
    let conv: String = {
        use sqlx::Row;
        sqlx::query("SELECT conversation_id FROM messages WHERE kind = 'document'")
            .fetch_one(app.db.read())
            .await
            .unwrap()
            .get(0)
    };
    let page = owner.page(&format!("/conversas/{conv}")).await;
    assert!(page.contains("📄 Arquivo: Orcamento-ORC-"), "{page}");

    // Unticked: the box is absent from the form, and the PDF stops.
    owner
        .post_form("/regras/pdf-orcamento", &[])
        .await
        .expect_status(303);
    assert!(!owner
        .page("/regras")
        .await
        .contains("id=\"quote-pdf\" checked"));
    app.customer_says(&app.demo, "5511955550003", "Duda", order)
        .await;
    assert_eq!(documents(app), 1, "no new PDF after switching it off");
}
