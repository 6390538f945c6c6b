//! The demo store of `docs/demo-store.md`, and new stores from the CLI.

use anyhow::Context;
use domain::catalog::{parse_catalog_csv, DEMO_CATALOG_CSV};
use domain::pricing::{demo_rules, FreightZone, StoreRules};
use domain::slots::PaymentMethod;
use store::crypto::TokenCipher;
use store::rules::{FreightRuleRow, FreightZoneRow, PricingRulesRow};
use store::users::Role;
use store::Db;

pub const DEMO_SLUG: &str = "demo";
pub const DEMO_NAME: &str = "Depósito Exemplo Materiais de Construção";
pub const DEMO_OWNER: &str = "dono@demo.orcazap.test";
pub const DEMO_ATTENDANT: &str = "atendente@demo.orcazap.test";
pub const DEMO_PHONE_NUMBER_ID: &str = "100000000000001";
pub const DEMO_WABA_ID: &str = "200000000000002";
pub const DEMO_DISPLAY_NUMBER: &str = "+55 11 93333-4444";

/// What a seed run produced: the logins to print (passwords are generated and shown once).
pub struct Seeded {
    pub created: bool,
    pub logins: Vec<(String, String)>,
}

fn rule_rows(rules: &StoreRules) -> (PricingRulesRow, Vec<FreightRuleRow>) {
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

/// Creates the demo store if it does not exist; (re)sets the demo users' passwords either
/// way so the printed logins always work. `demo_token` gives the channel an access token
/// (the `demo` command's fake Graph endpoint accepts any).
pub async fn seed_demo(
    db: &Db,
    cipher: &TokenCipher,
    demo_token: Option<&str>,
) -> anyhow::Result<Seeded> {
    let items = parse_catalog_csv(DEMO_CATALOG_CSV)
        .map_err(|errs| anyhow::anyhow!("embedded catalog is invalid: {errs:?}"))?;
    let rules = demo_rules();
    let (pricing, freight) = rule_rows(&rules);
    let owner_pw = web::auth::password::generate();
    let attendant_pw = web::auth::password::generate();
    let owner_hash = web::auth::password::hash(&owner_pw).map_err(anyhow::Error::msg)?;
    let attendant_hash = web::auth::password::hash(&attendant_pw).map_err(anyhow::Error::msg)?;
    let token_enc = demo_token.map(|t| cipher.encrypt(t));
    let key_version = cipher.current_key_id().as_i64();
    let created = db
        .tx(move |c| {
            Box::pin(async move {
                let existing = sqlx::query("SELECT id FROM tenants WHERE slug = $1").bind(DEMO_SLUG).fetch_optional(&mut *c).await?;
                let tenant_id = match existing {
                    Some(row) => {
                        use sqlx::Row;
                        let id: String = row.try_get(0)?;
                        for (email, hash) in [(DEMO_OWNER, &owner_hash), (DEMO_ATTENDANT, &attendant_hash)] {
                            sqlx::query("UPDATE users SET password_hash = $3, failed_logins = 0, locked_until = NULL WHERE tenant_id = $1 AND email = $2")
                                .bind(&id)
                                .bind(email)
                                .bind(hash)
                                .execute(&mut *c)
                                .await?;
                        }
                        if let Some(enc) = &token_enc {
                            sqlx::query("UPDATE channels SET access_token_enc = $2, key_version = $3 WHERE tenant_id = $1")
                                .bind(&id)
                                .bind(enc)
                                .bind(key_version)
                                .execute(&mut *c)
                                .await?;
                        }
                        return Ok(false);
                    }
                    None => store::tenants::create(c, DEMO_SLUG, DEMO_NAME, "São Paulo (SP)", "America/Sao_Paulo").await?.id,
                };
                store::users::create(c, &tenant_id, DEMO_OWNER, "Dono da Loja", &owner_hash, Role::Owner).await?;
                store::users::create(c, &tenant_id, DEMO_ATTENDANT, "Atendente", &attendant_hash, Role::Attendant).await?;
                store::channels::create(c, &tenant_id, DEMO_PHONE_NUMBER_ID, DEMO_WABA_ID, DEMO_DISPLAY_NUMBER, token_enc.as_deref(), key_version)
                    .await?;
                for item in &items {
                    store::catalog::upsert(c, &tenant_id, item).await?;
                }
                store::rules::save_pricing(c, &tenant_id, &pricing).await?;
                for v in &rules.volume_discounts {
                    store::rules::add_volume_discount(c, &tenant_id, v.sku.as_deref(), v.min_quantity.thousandths(), v.discount.0).await?;
                }
                for f in &freight {
                    store::rules::add_freight_rule(c, &tenant_id, f).await?;
                }
                store::audit::record(
                    c,
                    &store::audit::Entry {
                        tenant_id: Some(&tenant_id),
                        actor_user_id: None,
                        actor_label: "cli",
                        action: "store.seed_demo",
                        entity: "tenant",
                        entity_id: Some(&tenant_id),
                        before: None,
                        after: Some(serde_json::json!({ "slug": DEMO_SLUG, "items": items.len() })),
                        request_id: None,
                    },
                )
                .await?;
                Ok(true)
            })
        })
        .await
        .context("seeding the demo store")?;
    Ok(Seeded {
        created,
        logins: vec![
            (DEMO_OWNER.into(), owner_pw),
            (DEMO_ATTENDANT.into(), attendant_pw),
        ],
    })
}

/// `orcazap store create`: a new store with its owner.
pub async fn create_store(
    db: &Db,
    slug: &str,
    name: &str,
    owner_email: &str,
    password: &str,
) -> anyhow::Result<()> {
    let slug = domain::ids::Slug::parse(slug).map_err(anyhow::Error::msg)?;
    if name.trim().is_empty() {
        anyhow::bail!("o nome da loja não pode ficar vazio");
    }
    if !owner_email.contains('@') || owner_email.len() > 254 {
        anyhow::bail!("e-mail do dono inválido: {owner_email:?}");
    }
    web::auth::password::check_strength(password, &[owner_email, name, slug.as_str()])
        .map_err(|e| anyhow::anyhow!("senha fraca: {e}"))?;
    let hash = web::auth::password::hash(password).map_err(anyhow::Error::msg)?;
    let (slug, name, email) = (
        slug.as_str().to_string(),
        name.trim().to_string(),
        owner_email.to_string(),
    );
    db.tx(move |c| {
        Box::pin(async move {
            let t = store::tenants::create(c, &slug, &name, "", "America/Sao_Paulo").await?;
            let u = store::users::create(c, &t.id, &email, "", &hash, Role::Owner).await?;
            store::rules::save_pricing(
                c,
                &t.id,
                &PricingRulesRow {
                    quote_validity_hours: 48,
                    ..Default::default()
                },
            )
            .await?;
            store::audit::record(
                c,
                &store::audit::Entry {
                    tenant_id: Some(&t.id),
                    actor_user_id: None,
                    actor_label: "cli",
                    action: "store.create",
                    entity: "tenant",
                    entity_id: Some(&t.id),
                    before: None,
                    after: Some(serde_json::json!({ "slug": slug, "owner": u.email })),
                    request_id: None,
                },
            )
            .await
        })
    })
    .await
    .map_err(|e| match e {
        store::StoreError::Conflict(m) => anyhow::anyhow!(m),
        other => anyhow::Error::new(other),
    })
}

/// `orcazap user password`: an operator resets a user's password (and unlocks the account).
pub async fn set_password(db: &Db, slug: &str, email: &str, password: &str) -> anyhow::Result<()> {
    web::auth::password::check_strength(password, &[email, slug])
        .map_err(|e| anyhow::anyhow!("senha fraca: {e}"))?;
    let tenant = store::tenants::by_slug(db, slug)
        .await?
        .ok_or_else(|| anyhow::anyhow!("loja {slug:?} não existe"))?;
    let user = store::users::by_email(db, &tenant.id, email)
        .await?
        .ok_or_else(|| anyhow::anyhow!("usuário {email:?} não existe na loja {slug}"))?;
    let hash = web::auth::password::hash(password).map_err(anyhow::Error::msg)?;
    let (tid, uid) = (tenant.id.clone(), user.id.clone());
    db.tx(move |c| {
        Box::pin(async move {
            store::users::set_password(c, &tid, &uid, &hash).await?;
            store::sessions::delete_for_user(c, &uid).await?;
            store::audit::record(
                c,
                &store::audit::Entry {
                    tenant_id: Some(&tid),
                    actor_user_id: None,
                    actor_label: "cli",
                    action: "user.password_reset",
                    entity: "user",
                    entity_id: Some(&uid),
                    before: None,
                    after: None,
                    request_id: None,
                },
            )
            .await
        })
    })
    .await?;
    Ok(())
}
