//! `orcazap channel token --store SLUG`: gives a store's WhatsApp number its Graph access
//! token. The token is stored encrypted with ORCAZAP_SECRET_KEY, so it cannot be set with
//! plain SQL; this is the operator's (and the crash test's) way to do it.

use anyhow::{bail, Context};

use orcazap::config::Config;
use orcazap::run;

/// Encrypts `token` and stores it on every channel of the store `slug` (a store has one
/// number today; if it ever has more, they share the WABA's system-user token).
/// Returns how many channels were updated.
pub async fn set_token(cfg: &Config, slug: &str, token: &str) -> anyhow::Result<usize> {
    let token = token.trim();
    if token.is_empty() {
        bail!("o token está vazio");
    }
    let db = run::connect(cfg).await?;
    let tenant = store::tenants::by_slug(&db, slug)
        .await?
        .with_context(|| format!("nenhuma loja com o identificador {slug:?}"))?;
    let channels = store::channels::for_tenant(&db, &tenant.id).await?;
    if channels.is_empty() {
        bail!("a loja {slug} não tem número de WhatsApp cadastrado");
    }
    let cipher = cfg.cipher();
    let enc = cipher.encrypt(token);
    let key_version = cipher.current_key_id().as_i64();
    let tenant_id = tenant.id.clone();
    let ids: Vec<String> = channels.into_iter().map(|ch| ch.id).collect();
    let n = ids.len();
    db.tx(move |c| {
        Box::pin(async move {
            for id in &ids {
                store::channels::set_token(c, &tenant_id, id, &enc, key_version).await?;
            }
            Ok(())
        })
    })
    .await
    .context("gravando o token")?;
    Ok(n)
}
