//! Black-box regression of the template stack overflow (security issue 10, item 1): a store
//! owner's template with ~6,000+ unary `-` (or any deep nesting) aborted the whole process —
//! every store's web and worker — from the editor's preview or save. Against the real
//! server on SQLite, and PostgreSQL when `ORCAZAP_TEST_POSTGRES_URL` is set. The server runs
//! in this test's process, so on the old code the abort fails the test.

use testkit::*;

both_engines!(
    TestApp;
    deep_templates_are_refused_and_the_server_keeps_answering,
    a_deep_template_stored_behind_the_editor_falls_back_when_the_worker_sends,
);

/// The reported payload at the size cap, and the other shapes that recurse in the engine.
fn attacks() -> Vec<(String, &'static str)> {
    let cap = domain::templates::MAX_SOURCE_BYTES;
    vec![
        (
            format!("{{{{ {}1 }}}}", "-".repeat(cap - 7)),
            "demais numa só expressão",
        ),
        (
            format!("{{{{ {}1 }}}}", "-".repeat(6_000)),
            "demais numa só expressão",
        ),
        (
            format!("{{{{ {}cliente }}}}", "not ".repeat((cap - 14) / 4)),
            "demais numa só expressão",
        ),
        (
            format!("{{{{ {}1{} }}}}", "-(".repeat(2_700), ")".repeat(2_700)),
            "aninhados demais",
        ),
        (
            format!(
                "{{% if cliente %}}{}{{% endif %}}",
                "{% elif cliente %}x".repeat((cap - 30) / 19)
            ),
            // (`/` is escaped in HTML)
            "blocos if",
        ),
    ]
}

async fn deep_templates_are_refused_and_the_server_keeps_answering(app: &TestApp) {
    let s = app.as_owner().await;
    for (src, what) in attacks() {
        assert!(src.len() <= domain::templates::MAX_SOURCE_BYTES);
        // Live preview (HTMX): 200 with the error in place of the preview.
        let html = s
            .post("/modelos/data_capture/previa", &[("source", &src)])
            .header("x-csrf-token", &s.csrf)
            .header("hx-request", "true")
            .answer()
            .await
            .expect_status(200)
            .body()
            .await;
        assert!(html.contains(what), "preview names the problem: {what}");
        assert!(html.contains("máximo"), "preview names the limit");
        // Save: 422, the editor with the error, nothing stored.
        let html = s
            .post_form("/modelos/data_capture", &[("source", &src)])
            .await
            .expect_status(422)
            .body()
            .await;
        assert!(html.contains("id=\"template-error\""), "error shown");
        assert!(html.contains(what), "save names the problem: {what}");
        assert!(html.contains("linha 1"), "at its line");
    }
    assert!(
        store::templates::history(&app.db, &app.demo.tenant_id, "data_capture")
            .await
            .unwrap()
            .is_empty(),
        "nothing saved"
    );
    // Still serving: the editor, and a normal save.
    s.get("/modelos/data_capture")
        .answer()
        .await
        .expect_status(200);
    s.post_form(
        "/modelos/data_capture",
        &[("source", "Olá {{ cliente|default('') }}!")],
    )
    .await
    .expect_status(303);
}

/// A template written straight into the database (the editor never saw it) reaches the
/// worker when it answers a customer: the worker survives and sends the default message.
async fn a_deep_template_stored_behind_the_editor_falls_back_when_the_worker_sends(app: &TestApp) {
    let (src, _) = attacks().remove(0);
    {
        let mut c = app.db.write().acquire().await.unwrap();
        store::templates::save(&mut c, &app.demo.tenant_id, "data_capture", &src, None)
            .await
            .unwrap();
    }
    let before = app.graph_accepted().len();
    app.customer_says(&app.demo, "5511955554444", "Carlos", "oi")
        .await;
    let sent = app.graph_accepted()[before..].to_vec();
    let texts: Vec<&str> = sent
        .iter()
        .filter_map(|m| m["text"]["body"].as_str())
        .collect();
    assert_eq!(texts.len(), 1, "{sent:?}");
    assert!(texts[0].starts_with("Olá, Carlos! 👋"), "{}", texts[0]);
    assert!(
        texts[0].contains("Para montar seu orçamento"),
        "{}",
        texts[0]
    );
}
