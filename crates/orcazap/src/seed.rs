//! The demo store of `docs/demo-store.md`, and new stores from the CLI.

use anyhow::Context;
use store::crypto::TokenCipher;
use store::rules::PricingRulesRow;
use store::seed::StoreSeed;
use store::users::Role;
use store::Db;

pub use store::seed::{
    DEMO_ATTENDANT, DEMO_DISPLAY_NUMBER, DEMO_NAME, DEMO_OWNER, DEMO_PHONE_NUMBER_ID, DEMO_SLUG,
    DEMO_WABA_ID,
};

/// What a seed run produced: the logins to print (passwords are generated and shown once).
pub struct Seeded {
    pub created: bool,
    pub logins: Vec<(String, String)>,
}

/// Creates the demo store ([`store::seed`]) if it does not exist; (re)sets the demo users'
/// passwords either way so the printed logins always work. `demo_token` gives the channel an
/// access token (the `demo` command's fake Graph endpoint accepts any).
pub async fn seed_demo(
    db: &Db,
    cipher: &TokenCipher,
    demo_token: Option<&str>,
) -> anyhow::Result<Seeded> {
    let owner_pw = web::auth::password::generate();
    let attendant_pw = web::auth::password::generate();
    let owner_hash = web::auth::password::hash(&owner_pw).map_err(anyhow::Error::msg)?;
    let attendant_hash = web::auth::password::hash(&attendant_pw).map_err(anyhow::Error::msg)?;
    let seed = StoreSeed::demo(
        owner_hash,
        attendant_hash,
        demo_token.map(|t| cipher.encrypt(t)),
        cipher.current_key_id().as_i64(),
    );
    let seeded = store::seed::seed_store(db, seed)
        .await
        .context("seeding the demo store")?;
    Ok(Seeded {
        created: seeded.created,
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
