//! The waiting-for-a-person queue in the dashboard, over HTTP (issue 12 item 3): the menu's
//! badge on every page, the overview tile, the queue oldest first with its waiting time and
//! reason, and a store never sees another store's queue. SQLite always, PostgreSQL too when
//! `ORCAZAP_TEST_POSTGRES_URL` is set.

use testkit::*;

both_engines!(TestApp; the_queue_is_visible_at_a_glance);

const MIN: i64 = 60_000;

async fn the_queue_is_visible_at_a_glance(app: &TestApp) {
    app.customer_says(&app.demo, "5511911112222", "Bruno", "bom dia")
        .await;
    let staff = app.as_attendant().await;
    let overview = staff.page("/").await;
    assert!(
        !overview.contains("id=\"nav-waiting\""),
        "no queue, no badge"
    );
    assert!(
        overview.contains("id=\"tile-waiting\""),
        "the tile is always there"
    );

    app.customer_says(
        &app.demo,
        "5511933335555",
        "Carla",
        "quero falar com atendente",
    )
    .await;
    app.customer_says(&app.demo, "5511955556666", "Davi", "atendente")
        .await;
    // Carla has waited 12 minutes, Davi 2 hours and 5 minutes: Davi comes first.
    let now = store::now_ms();
    for (wa_id, ago) in [("5511933335555", 12 * MIN), ("5511955556666", 125 * MIN)] {
        let (t, w) = (app.demo.tenant_id.clone(), wa_id.to_string());
        app.db
            .tx(move |c| {
                Box::pin(async move {
                    sqlx::query(
                        "UPDATE conversations SET waiting_since = $1 WHERE tenant_id = $2
                         AND contact_id = (SELECT id FROM contacts WHERE tenant_id = $2 AND wa_id = $3)",
                    )
                    .bind(now - ago)
                    .bind(&t)
                    .bind(&w)
                    .execute(&mut *c)
                    .await?;
                    Ok(())
                })
            })
            .await
            .unwrap();
    }

    // The badge on every page a signed-in person opens, and in the tab's title.
    for path in [
        "/",
        "/conversas",
        "/orcamentos",
        "/aprovacoes",
        "/catalogo",
        "/conta/senha",
    ] {
        let html = staff.page(path).await;
        let badge = html
            .split("id=\"nav-waiting\"")
            .nth(1)
            .unwrap_or_else(|| panic!("{path}: no badge"));
        assert!(badge.contains("<span class=\"badge\">2</span>"), "{path}");
        assert!(html.contains("<title>(2) "), "{path}: tab title");
    }
    let overview = staff.page("/").await;
    let tile = overview.split("id=\"tile-waiting\"").nth(1).unwrap();
    assert!(
        tile.contains("<span class=\"num\">2</span><span>aguardando atendente</span>"),
        "{}",
        &tile[..200.min(tile.len())]
    );

    let queue = staff.page("/conversas?estado=WAITING_PERSON").await;
    let davi = queue.find("Davi").expect("Davi is listed");
    let carla = queue.find("Carla").expect("Carla is listed");
    assert!(davi < carla, "oldest wait first");
    assert!(!queue.contains("Bruno"), "only the queue");
    assert!(queue.contains("há 2 h 05 min") && queue.contains("há 12 min"));
    assert!(queue.contains("o cliente pediu para falar com um atendente"));

    // The conversation shows the wait and lets the person answer without taking it first.
    let conv = store::conversations::list(
        &app.db,
        &app.demo.tenant_id,
        Some(domain::conversation::State::WaitingPerson),
        10,
    )
    .await
    .unwrap()
    .remove(0);
    let page = staff.page(&format!("/conversas/{}", conv.id)).await;
    assert!(page.contains("id=\"waiting\"") && page.contains("há 2 h 05 min"));
    assert!(page.contains("id=\"reply-text\""), "the reply box is there");

    // The other store's people see none of it.
    let other = app
        .signed_in("outra", OWNER_EMAIL, PASSWORD)
        .await
        .page("/")
        .await;
    assert!(!other.contains("id=\"nav-waiting\""));
}
