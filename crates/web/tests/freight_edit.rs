//! Freight rules can be edited in place, not only deleted and re-added (issue 12 item 11),
//! through the real HTTP server on SQLite and, when configured, PostgreSQL.

use store::rules::FreightZoneRow;
use testkit::*;

both_engines!(
    TestApp;
    owner_edits_a_freight_rule_in_place,
    a_bad_edit_is_refused_and_changes_nothing,
);

async fn owner_edits_a_freight_rule_in_place(app: &TestApp) {
    let before = store::rules::load(&app.db, &app.demo.tenant_id)
        .await
        .unwrap()
        .freight;
    let rule = before
        .first()
        .expect("the demo store has freight rules")
        .clone();
    let s = app.as_owner().await;
    let list = s.page("/frete").await;
    assert!(
        list.contains(&format!("href=\"/frete/{}\"", rule.id)),
        "an Editar link per rule"
    );
    let form = s
        .get(&format!("/frete/{}", rule.id))
        .answer()
        .await
        .page_with_status(200)
        .await;
    assert!(
        form.contains(&format!("value=\"{}\"", rule.label)),
        "form filled in: {form}"
    );
    s.post_form(
        &format!("/frete/{}", rule.id),
        &[
            ("label", "Zona Sul nova"),
            ("kind", "cep"),
            ("bairros", ""),
            ("cep_from", "04000-000"),
            ("cep_to", "04999-999"),
            ("base", "R$ 1.234,50"),
            ("per_kg", "0,15"),
            ("free_above", ""),
        ],
    )
    .await
    .expect_status(303);
    let after = store::rules::load(&app.db, &app.demo.tenant_id)
        .await
        .unwrap()
        .freight;
    assert_eq!(after.len(), before.len(), "edited, not added");
    let edited = after.iter().find(|r| r.id == rule.id).expect("same rule");
    assert_eq!(
        edited.position, rule.position,
        "keeps its place in the order"
    );
    assert_eq!(edited.label, "Zona Sul nova");
    assert_eq!(
        edited.zone,
        FreightZoneRow::CepRange {
            from: 4_000_000,
            to: 4_999_999
        }
    );
    assert_eq!((edited.base_cents, edited.per_kg_cents), (123_450, 15));
    assert_eq!(edited.free_above_cents, None);
    // An attendant can neither open nor save the form.
    let a = app.as_attendant().await;
    a.get(&format!("/frete/{}", rule.id))
        .answer()
        .await
        .expect_status(403);
}

async fn a_bad_edit_is_refused_and_changes_nothing(app: &TestApp) {
    let before = store::rules::load(&app.db, &app.demo.tenant_id)
        .await
        .unwrap()
        .freight;
    let rule = before[0].clone();
    let s = app.as_owner().await;
    let body = s
        .post_form(
            &format!("/frete/{}", rule.id),
            &[
                ("label", ""),
                ("kind", "bairros"),
                ("bairros", ""),
                ("base", "-5"),
            ],
        )
        .await
        .page_with_status(422)
        .await;
    assert!(body.contains("Nome da regra: obrigatório"), "{body}");
    assert!(body.contains("Informe pelo menos um bairro"), "{body}");
    let after = store::rules::load(&app.db, &app.demo.tenant_id)
        .await
        .unwrap()
        .freight;
    assert_eq!(after, before);
}
