//! The demo store of `docs/demo-store.md`: its catalog, pricing and freight rules, two users
//! and a WhatsApp channel. `orcazap demo` / `orcazap seed` create it under the names below;
//! the test kits create the same store under their own names (several per database), so the
//! binary and every test run against one shape of store.
//!
//! Passwords arrive already hashed: hashing belongs to `web::auth::password`, above this crate.

use domain::catalog::{parse_catalog_csv, DEMO_CATALOG_CSV};
use domain::pricing::{demo_rules, FreightZone, StoreRules};
use domain::slots::PaymentMethod;
use sqlx::Row;

use crate::rules::{FreightRuleRow, FreightZoneRow, PricingRulesRow};
use crate::users::Role;
use crate::{Db, StoreError};

pub const DEMO_SLUG: &str = "demo";
pub const DEMO_NAME: &str = "Depósito Exemplo Materiais de Construção";
pub const DEMO_CITY: &str = "São Paulo (SP)";
pub const DEMO_OWNER: &str = "dono@demo.orcazap.test";
pub const DEMO_ATTENDANT: &str = "atendente@demo.orcazap.test";
pub const DEMO_PHONE_NUMBER_ID: &str = "100000000000001";
pub const DEMO_WABA_ID: &str = "200000000000002";
pub const DEMO_DISPLAY_NUMBER: &str = "+55 11 93333-4444";
/// docs/demo-store.md: the CNPJ is also the PIX key, so the demo's quotes carry a PIX code.
pub const DEMO_CNPJ: &str = "12.345.678/0001-95";
pub const DEMO_PIX_NAME: &str = "Depósito Exemplo";
pub const DEMO_PIX_CITY: &str = "São Paulo";
/// Printed on the quote PDF; fictitious, in the bairro the demo's cheapest freight serves.
pub const DEMO_ADDRESS: &str = "Av. Dona Belmira Marin, 1000 — Grajaú, São Paulo/SP, 04846-000";

/// The demo store's document data and PIX key.
pub fn demo_profile() -> Result<crate::store_profile::StoreProfile, StoreError> {
    use domain::pix::{Merchant, PixKey, PixKeyKind};
    let bad = |e: &dyn std::fmt::Display| StoreError::Corrupt(format!("demo PIX key: {e}"));
    Ok(crate::store_profile::StoreProfile {
        cnpj: DEMO_CNPJ.into(),
        address: DEMO_ADDRESS.into(),
        phone: DEMO_DISPLAY_NUMBER.into(),
        pix: Some(crate::store_profile::StorePix {
            key: PixKey::parse(PixKeyKind::Cnpj, DEMO_CNPJ).map_err(|e| bad(&e))?,
            merchant: Merchant::new(DEMO_PIX_NAME, DEMO_PIX_CITY).map_err(|e| bad(&e))?,
        }),
    })
}

/// One of the store's two users.
#[derive(Debug, Clone)]
pub struct SeedUser {
    pub email: String,
    pub name: String,
    pub password_hash: String,
}

/// The store's WhatsApp channel.
#[derive(Debug, Clone)]
pub struct SeedChannel {
    pub phone_number_id: String,
    pub waba_id: String,
    pub display_number: String,
    /// The access token, already encrypted (None: the channel cannot send yet).
    pub access_token_enc: Option<String>,
    pub key_version: i64,
}

/// A demo store to create: who it is; what it sells and how it prices is always the demo's.
#[derive(Debug, Clone)]
pub struct StoreSeed {
    pub slug: String,
    pub name: String,
    pub city: String,
    pub owner: SeedUser,
    pub attendant: SeedUser,
    pub channel: SeedChannel,
}

impl StoreSeed {
    /// The demo store of `docs/demo-store.md` with the given password hashes and channel token.
    pub fn demo(
        owner_hash: String,
        attendant_hash: String,
        access_token_enc: Option<String>,
        key_version: i64,
    ) -> StoreSeed {
        StoreSeed {
            slug: DEMO_SLUG.into(),
            name: DEMO_NAME.into(),
            city: DEMO_CITY.into(),
            owner: SeedUser {
                email: DEMO_OWNER.into(),
                name: "Dono da Loja".into(),
                password_hash: owner_hash,
            },
            attendant: SeedUser {
                email: DEMO_ATTENDANT.into(),
                name: "Atendente".into(),
                password_hash: attendant_hash,
            },
            channel: SeedChannel {
                phone_number_id: DEMO_PHONE_NUMBER_ID.into(),
                waba_id: DEMO_WABA_ID.into(),
                display_number: DEMO_DISPLAY_NUMBER.into(),
                access_token_enc,
                key_version,
            },
        }
    }
}

/// What [`seed_store`] did.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub tenant_id: String,
    /// False when the store already existed (only passwords and token were reset).
    pub created: bool,
}

/// The demo rules as the rows the dashboard edits.
pub fn rule_rows(rules: &StoreRules) -> (PricingRulesRow, Vec<FreightRuleRow>) {
    let bp = |m: PaymentMethod| {
        rules
            .payment_discounts
            .iter()
            .find(|(p, _)| *p == m)
            .map(|(_, b)| b.0)
            .unwrap_or(0)
    };
    let pricing = PricingRulesRow {
        pix_discount_bp: bp(PaymentMethod::Pix),
        cartao_discount_bp: bp(PaymentMethod::Cartao),
        boleto_discount_bp: bp(PaymentMethod::Boleto),
        dinheiro_discount_bp: bp(PaymentMethod::Dinheiro),
        min_margin_bp: rules.min_margin.0,
        approval_above_cents: rules.approval_above.0,
        quote_validity_hours: i64::from(rules.quote_validity_hours),
    };
    let freight = rules
        .freight_rules
        .iter()
        .enumerate()
        .map(|(i, f)| FreightRuleRow {
            id: String::new(),
            position: i as i64 + 1,
            label: f.label.clone(),
            zone: match &f.zone {
                FreightZone::Bairros(b) => FreightZoneRow::Bairros(b.clone()),
                FreightZone::CepRange { from, to } => FreightZoneRow::CepRange {
                    from: i64::from(from.value()),
                    to: i64::from(to.value()),
                },
            },
            base_cents: f.base.0,
            per_kg_cents: f.per_kg.0,
            free_above_cents: f.free_above.map(|c| c.0),
        })
        .collect();
    (pricing, freight)
}

/// Creates the store if its slug is free. If it exists, (re)sets its users' passwords (and
/// unlocks them) and, when one is given, the channel's token, so freshly printed logins
/// always work. One transaction either way.
pub async fn seed_store(db: &Db, seed: StoreSeed) -> Result<Seeded, StoreError> {
    let items = parse_catalog_csv(DEMO_CATALOG_CSV)
        .map_err(|errs| StoreError::Corrupt(format!("the embedded demo catalog: {errs:?}")))?;
    let rules = demo_rules();
    let (pricing, freight) = rule_rows(&rules);
    let profile = demo_profile()?;
    db.tx(move |c| {
        Box::pin(async move {
            let existing = sqlx::query("SELECT id FROM tenants WHERE slug = $1")
                .bind(&seed.slug)
                .fetch_optional(&mut *c)
                .await?;
            if let Some(row) = existing {
                let id: String = row.try_get(0)?;
                for u in [&seed.owner, &seed.attendant] {
                    sqlx::query("UPDATE users SET password_hash = $3, failed_logins = 0, locked_until = NULL WHERE tenant_id = $1 AND email = $2")
                        .bind(&id)
                        .bind(&u.email)
                        .bind(&u.password_hash)
                        .execute(&mut *c)
                        .await?;
                }
                if let Some(enc) = &seed.channel.access_token_enc {
                    sqlx::query("UPDATE channels SET access_token_enc = $2, key_version = $3 WHERE tenant_id = $1")
                        .bind(&id)
                        .bind(enc)
                        .bind(seed.channel.key_version)
                        .execute(&mut *c)
                        .await?;
                }
                return Ok(Seeded {
                    tenant_id: id,
                    created: false,
                });
            }
            let t = crate::tenants::create(c, &seed.slug, &seed.name, &seed.city, "America/Sao_Paulo")
                .await?;
            crate::store_profile::save(c, &t.id, &profile).await?;
            for (u, role) in [(&seed.owner, Role::Owner), (&seed.attendant, Role::Attendant)] {
                crate::users::create(c, &t.id, &u.email, &u.name, &u.password_hash, role).await?;
            }
            let ch = &seed.channel;
            crate::channels::create(
                c,
                &t.id,
                &ch.phone_number_id,
                &ch.waba_id,
                &ch.display_number,
                ch.access_token_enc.as_deref(),
                ch.key_version,
            )
            .await?;
            for item in &items {
                crate::catalog::upsert(c, &t.id, item).await?;
            }
            crate::rules::save_pricing(c, &t.id, &pricing).await?;
            for v in &rules.volume_discounts {
                crate::rules::add_volume_discount(
                    c,
                    &t.id,
                    v.sku.as_deref(),
                    v.min_quantity.thousandths(),
                    v.discount.0,
                )
                .await?;
            }
            for f in &freight {
                crate::rules::add_freight_rule(c, &t.id, f).await?;
            }
            crate::audit::record(
                c,
                &crate::audit::Entry {
                    tenant_id: Some(&t.id),
                    actor_user_id: None,
                    actor_label: "cli",
                    action: "store.seed_demo",
                    entity: "tenant",
                    entity_id: Some(&t.id),
                    before: None,
                    after: Some(serde_json::json!({ "slug": seed.slug, "items": items.len() })),
                    request_id: None,
                },
            )
            .await?;
            Ok(Seeded {
                tenant_id: t.id,
                created: true,
            })
        })
    })
    .await
}
