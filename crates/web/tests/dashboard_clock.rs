//! One clock (issue 11 item 7): the dashboard shows dates in the store's configured time zone,
//! the one the bot writes validity dates in, not in a fixed UTC−3. SQLite always, PostgreSQL
//! too when `ORCAZAP_TEST_POSTGRES_URL` is set.

use testkit::*;

both_engines!(TestApp; a_store_in_manaus_sees_times_in_manaus);

/// 2026-01-01T03:30Z: 23:30 of New Year's Eve in Manaus (UTC−4), already 00:30 of New Year's
/// Day in São Paulo (UTC−3).
const NEW_YEAR_0330Z: i64 = 1_767_238_200_000;
const IN_MANAUS: &str = "31/12/2025 23:30";
const IN_SAO_PAULO: &str = "01/01/2026 00:30";

/// A page as a person reads it: the HTML escaper writes `/` as `&#x2f;`.
async fn page(app: &TestApp, path: &str, session: &str) -> String {
    app.page("demo", path, Some(session))
        .await
        .replace("&#x2f;", "/")
}

async fn a_store_in_manaus_sees_times_in_manaus(app: &TestApp) {
    app.customer_says(
        &app.demo,
        "5511955554444",
        "Carlos",
        "10 sacos de cimento, entrega amanhã em Itaquera, pix",
    )
    .await;
    let (_, quote_id) = app
        .pending_approval(&app.demo)
        .await
        .expect("no freight rule for Itaquera → approval");
    let quote = store::quotes::get(&app.db, &app.demo.tenant_id, &quote_id)
        .await
        .unwrap()
        .unwrap();
    // The store is in Manaus, and everything it has happened at one known instant.
    let tenant_id = app.demo.tenant_id.clone();
    app.db
        .tx(move |c| {
            Box::pin(async move {
                sqlx::query("UPDATE tenants SET timezone = 'America/Manaus' WHERE id = $1")
                    .bind(&tenant_id)
                    .execute(&mut *c)
                    .await?;
                for sql in [
                    "UPDATE conversations SET last_message_at = $2, created_at = $2 WHERE tenant_id = $1",
                    "UPDATE messages SET created_at = $2 WHERE tenant_id = $1",
                    "UPDATE quotes SET created_at = $2 WHERE tenant_id = $1",
                    "UPDATE approvals SET created_at = $2 WHERE tenant_id = $1",
                ] {
                    sqlx::query(sql)
                        .bind(&tenant_id)
                        .bind(NEW_YEAR_0330Z)
                        .execute(&mut *c)
                        .await?;
                }
                Ok(())
            })
        })
        .await
        .unwrap();
    let s = app
        .login("demo", OWNER_EMAIL, PASSWORD)
        .await
        .expect("owner logs in");

    // Every page that shows when something happened.
    let pages = [
        "/conversas".to_string(),
        format!("/conversas/{}", quote.conversation_id),
        "/aprovacoes".to_string(),
        "/orcamentos".to_string(),
        format!("/orcamentos/{quote_id}"),
    ];
    for path in &pages {
        let html = page(app, path, &s).await;
        assert!(html.contains(IN_MANAUS), "{path} shows Manaus time");
        assert!(
            !html.contains(IN_SAO_PAULO),
            "{path} shows São Paulo time for a store in Manaus"
        );
    }

    // A day filter means the store's day: New Year's Eve in Manaus holds the quote, New
    // Year's Day does not.
    let eve = app
        .page("demo", "/orcamentos?de=2025-12-31&ate=2025-12-31", Some(&s))
        .await;
    assert!(
        eve.contains(&quote.number),
        "the quote is on Dec 31 in Manaus"
    );
    let new_year = app
        .page("demo", "/orcamentos?de=2026-01-01&ate=2026-01-01", Some(&s))
        .await;
    assert!(
        !new_year.contains(&quote.number),
        "the quote is not on Jan 1 in Manaus"
    );
}
