//! `orcazap contact export|erase`: a customer's data rights (LGPD) for one store.

use anyhow::{bail, Context};
use domain::ids::{mask_phone, WaId};
use store::Db;

async fn tenant_and_number(db: &Db, slug: &str, phone: &str) -> anyhow::Result<(String, String)> {
    let wa = WaId::parse(phone).map_err(|e| anyhow::anyhow!(e))?;
    let tenant = store::tenants::by_slug(db, slug)
        .await?
        .with_context(|| format!("loja {slug:?} não encontrada"))?;
    Ok((tenant.id, wa.as_str().to_string()))
}

/// Everything the store holds about the contact, as JSON. Audit-logged.
pub async fn export(db: &Db, slug: &str, phone: &str) -> anyhow::Result<serde_json::Value> {
    let (tenant_id, wa) = tenant_and_number(db, slug, phone).await?;
    let Some(json) = store::privacy::export_contact(db, &tenant_id, &wa).await? else {
        bail!(
            "a loja {slug} não tem contato com o número {}",
            mask_phone(&wa)
        );
    };
    let masked = mask_phone(&wa);
    db.tx(move |c| {
        Box::pin(async move {
            store::audit::record(
                c,
                &store::audit::Entry {
                    tenant_id: Some(&tenant_id),
                    actor_user_id: None,
                    actor_label: "cli",
                    action: "contact.export",
                    entity: "contact",
                    entity_id: None,
                    before: None,
                    after: Some(serde_json::json!({ "phone": masked })),
                    request_id: None,
                },
            )
            .await
        })
    })
    .await?;
    Ok(json)
}

/// Erases the contact (see `store::privacy::erase_contact`), audit-logged in the same
/// transaction with the number masked.
pub async fn erase(db: &Db, slug: &str, phone: &str) -> anyhow::Result<store::privacy::Erasure> {
    let (tenant_id, wa) = tenant_and_number(db, slug, phone).await?;
    let masked = mask_phone(&wa);
    let done = db
        .tx(move |c| {
            Box::pin(async move {
                let Some(e) = store::privacy::erase_contact(c, &tenant_id, &wa).await? else {
                    return Ok(None);
                };
                store::audit::record(
                    c,
                    &store::audit::Entry {
                        tenant_id: Some(&tenant_id),
                        actor_user_id: None,
                        actor_label: "cli",
                        action: "contact.erase",
                        entity: "contact",
                        entity_id: Some(&e.contact_id),
                        before: Some(serde_json::json!({ "phone": masked })),
                        after: Some(serde_json::json!({
                            "messages_deleted": e.messages_deleted,
                            "conversations_deleted": e.conversations_deleted,
                            "quotes_anonymised": e.quotes_anonymised,
                            "webhook_events_deleted": e.webhook_events_deleted,
                        })),
                        request_id: None,
                    },
                )
                .await?;
                Ok(Some(e))
            })
        })
        .await?;
    match done {
        Some(e) => {
            tracing::info!(phone = %mask_phone(phone.trim().trim_start_matches('+')), messages = e.messages_deleted, "contact erased");
            Ok(e)
        }
        None => bail!("a loja {slug} não tem contato com esse número"),
    }
}
