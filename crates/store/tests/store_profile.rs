//! The store's document data and PIX key: saved and read back on both engines.

use domain::pix::{Merchant, PixKey, PixKeyKind};
use store::store_profile::{self, StorePix, StoreProfile};
use store::testing::TestDb;
use store::{seed, tenants, Db};

store::both_engines!(
    TestDb;
    profile_and_pix_key_round_trip,
    demo_store_has_a_pix_key,
    tenant_row_carries_the_quote_switches_and_follow_ups
);

async fn new_tenant(db: &Db, slug: &str) -> String {
    let slug = slug.to_string();
    db.tx(move |c| {
        Box::pin(async move {
            Ok(
                tenants::create(c, &slug, "Loja", "Recife", "America/Sao_Paulo")
                    .await?
                    .id,
            )
        })
    })
    .await
    .unwrap()
}

async fn profile_and_pix_key_round_trip(t: &TestDb) {
    let a = new_tenant(&t.db, "loja-a").await;
    let b = new_tenant(&t.db, "loja-b").await;
    // A new store has no key: no PIX code is offered.
    assert_eq!(
        store_profile::get(&t.db, &a).await.unwrap(),
        StoreProfile::default()
    );

    let profile = StoreProfile {
        cnpj: "12.ABC.345/01DE-35".into(),
        address: "Rua da Aurora, 100 — Boa Vista, Recife/PE".into(),
        phone: "(81) 3333-4444".into(),
        pix: Some(StorePix {
            key: PixKey::parse(PixKeyKind::Email, "Vendas@Loja.com.br").unwrap(),
            merchant: Merchant::new("Loja São João", "Recife").unwrap(),
        }),
    };
    let (id, p) = (a.clone(), profile.clone());
    t.db.tx(move |c| Box::pin(async move { store_profile::save(c, &id, &p).await }))
        .await
        .unwrap();
    let back = store_profile::get(&t.db, &a).await.unwrap();
    assert_eq!(back, profile);
    let pix = back.pix.unwrap();
    assert_eq!(pix.key.as_str(), "vendas@loja.com.br");
    assert_eq!(pix.merchant.name(), "LOJA SAO JOAO");
    // Another store is untouched.
    assert_eq!(
        store_profile::get(&t.db, &b).await.unwrap(),
        StoreProfile::default()
    );

    // Removing the key.
    let id = a.clone();
    t.db.tx(move |c| {
        Box::pin(async move {
            let p = StoreProfile {
                pix: None,
                ..store_profile::get_conn(c, &id).await?
            };
            store_profile::save(c, &id, &p).await
        })
    })
    .await
    .unwrap();
    assert_eq!(store_profile::get(&t.db, &a).await.unwrap().pix, None);
}

async fn demo_store_has_a_pix_key(t: &TestDb) {
    let seeded = seed::seed_store(
        &t.db,
        seed::StoreSeed::demo("x".into(), "y".into(), None, 1),
    )
    .await
    .unwrap();
    let profile = store_profile::get(&t.db, &seeded.tenant_id).await.unwrap();
    // docs/demo-store.md: the key is the store's CNPJ, DEPOSITO EXEMPLO, SAO PAULO.
    assert_eq!(profile.cnpj, "12.345.678/0001-95");
    let pix = profile.pix.expect("the demo store has a PIX key");
    assert_eq!(pix.key.kind(), PixKeyKind::Cnpj);
    assert_eq!(pix.key.as_str(), "12345678000195");
    assert_eq!(pix.merchant.name(), "DEPOSITO EXEMPLO");
    assert_eq!(pix.merchant.city(), "SAO PAULO");
    assert!(!profile.address.is_empty() && !profile.phone.is_empty());
}

/// The worker reads these with the tenant row (`Tenant::quote_pdf`, `quote_link`,
/// `follow_ups`) instead of a query each per quote: the row says what the setters wrote.
async fn tenant_row_carries_the_quote_switches_and_follow_ups(t: &TestDb) {
    let a = new_tenant(&t.db, "loja-a").await;
    let b = new_tenant(&t.db, "loja-b").await;
    let fresh = tenants::by_id(&t.db, &a).await.unwrap().unwrap();
    assert!(!fresh.quote_pdf && !fresh.quote_link);
    assert_eq!(
        fresh.follow_ups,
        store::follow_ups::FollowUpSettings::default()
    );
    let settings = store::follow_ups::FollowUpSettings {
        reminder_hours_before_expiry: Some(6),
        follow_up_after_hours: Some(24),
    };
    let id = a.clone();
    t.db.tx(move |c| {
        Box::pin(async move {
            store_profile::set_quote_pdf(c, &id, true).await?;
            store_profile::set_quote_link(c, &id, true).await?;
            store::follow_ups::set_settings(c, &id, settings).await
        })
    })
    .await
    .unwrap();
    let row = tenants::by_id(&t.db, &a).await.unwrap().unwrap();
    assert!(row.quote_pdf && row.quote_link);
    assert_eq!(row.follow_ups, settings);
    // The same values the single-purpose reads return.
    let mut c = t.db.read().acquire().await.unwrap();
    assert!(store_profile::quote_pdf_enabled(&mut c, &a).await.unwrap());
    assert!(store_profile::quote_link_enabled(&mut c, &a).await.unwrap());
    assert_eq!(
        store::follow_ups::settings(&mut c, &a).await.unwrap(),
        settings
    );
    drop(c);
    // Off again, and another store untouched.
    let id = a.clone();
    t.db.tx(move |c| {
        Box::pin(async move {
            store_profile::set_quote_pdf(c, &id, false).await?;
            store_profile::set_quote_link(c, &id, false).await
        })
    })
    .await
    .unwrap();
    let row = tenants::by_id(&t.db, &a).await.unwrap().unwrap();
    assert!(!row.quote_pdf && !row.quote_link);
    let other = tenants::by_id(&t.db, &b).await.unwrap().unwrap();
    assert!(!other.quote_pdf && !other.quote_link);
    assert_eq!(
        other.follow_ups,
        store::follow_ups::FollowUpSettings::default()
    );
}
