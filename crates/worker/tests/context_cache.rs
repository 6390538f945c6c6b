//! The worker's per-store cache (`ContextCache`): rules and templates are reused while the
//! store's `settings_version` is unchanged and re-read as soon as an edit moved it, so an
//! owner's change applies from the next job on; the catalog index is rebuilt only when the
//! catalog (or the freight bairros) changed. On both engines, with the demo store.

use std::sync::Arc;

use domain::templates::TemplateKind;
use store::testing::TestDb;
use store::Engine;
use worker::tenant_ctx::ContextCache;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_edits_apply_at_the_next_load() {
    if let Some(t) = TestDb::new(Engine::Sqlite).await {
        edits_apply_at_the_next_load(&t).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_edits_apply_at_the_next_load() {
    if let Some(t) = TestDb::new(Engine::Postgres).await {
        edits_apply_at_the_next_load(&t).await;
    }
}

async fn edits_apply_at_the_next_load(t: &TestDb) {
    let db = &t.db;
    let seeded = store::seed::seed_store(
        db,
        store::seed::StoreSeed::demo("x".into(), "y".into(), None, 1),
    )
    .await
    .unwrap();
    let tenant = seeded.tenant_id;
    let cache = ContextCache::default();

    let first = cache.load(db, &tenant).await.unwrap();
    let again = cache.load(db, &tenant).await.unwrap();
    // Nothing changed: the same index, the same rules and templates, the tenant read again.
    assert!(Arc::ptr_eq(&first.index, &again.index));
    assert_eq!(first.rules, again.rules);
    assert_eq!(first.templates, again.templates);
    assert_eq!(again.tenant.settings_version, first.tenant.settings_version);

    // The owner edits a template: the next load has it.
    let t2 = tenant.clone();
    db.tx(move |c| {
        Box::pin(async move {
            store::templates::save(c, &t2, TemplateKind::Declined.code(), "Tudo bem!", None).await
        })
    })
    .await
    .unwrap();
    let edited = cache.load(db, &tenant).await.unwrap();
    assert!(edited.tenant.settings_version > first.tenant.settings_version);
    assert_eq!(
        edited
            .templates
            .get(&TemplateKind::Declined)
            .map(String::as_str),
        Some("Tudo bem!")
    );
    // Templates are not the catalog: the index is kept.
    assert!(Arc::ptr_eq(&first.index, &edited.index));

    // The owner changes the PIX discount: the next load prices with it.
    let mut pricing = store::rules::load(db, &tenant).await.unwrap().pricing;
    pricing.pix_discount_bp += 100;
    let (t2, p2) = (tenant.clone(), pricing.clone());
    db.tx(move |c| Box::pin(async move { store::rules::save_pricing(c, &t2, &p2).await }))
        .await
        .unwrap();
    let priced = cache.load(db, &tenant).await.unwrap();
    let pix = priced
        .rules
        .payment_discounts
        .iter()
        .find(|(m, _)| *m == domain::slots::PaymentMethod::Pix)
        .map(|(_, bp)| bp.0);
    assert_eq!(pix, Some(pricing.pix_discount_bp));
    assert_eq!(
        priced
            .templates
            .get(&TemplateKind::Declined)
            .map(String::as_str),
        Some("Tudo bem!"),
        "a rules edit keeps the edited templates"
    );

    // A catalog change rebuilds the index; rules and templates stay as they are.
    let t2 = tenant.clone();
    db.tx(move |c| Box::pin(async move { store::tenants::bump_catalog_version(c, &t2).await }))
        .await
        .unwrap();
    let recatalogued = cache.load(db, &tenant).await.unwrap();
    assert!(!Arc::ptr_eq(&priced.index, &recatalogued.index));
    assert_eq!(recatalogued.rules, priced.rules);
    assert_eq!(recatalogued.templates, priced.templates);
}
