//! A contact's opt-out of proactive messages (issue 15 item 6; migration 0014): "parar",
//! "sair", "não quero mais mensagens"… stop every message the store would start (reminders,
//! follow-ups, templates). Replies to what the customer writes are not proactive and go on.
//! The time is kept (LGPD: when consent was withdrawn), shown in the dashboard, and cleared
//! when the customer writes "voltar" or staff turn messages back on.

use sqlx::{AnyConnection, Row};

use crate::db::{now_ms, StoreError};

/// When the contact opted out, if they did.
pub async fn opted_out_at(
    c: &mut AnyConnection,
    tenant_id: &str,
    contact_id: &str,
) -> Result<Option<i64>, StoreError> {
    let row = sqlx::query("SELECT opted_out_at FROM contacts WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(contact_id)
        .fetch_optional(&mut *c)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(row.try_get(0)?)
}

/// Records the opt-out now, unless one is already recorded (the first time is the one that
/// counts). Returns whether this call recorded it.
pub async fn opt_out(
    c: &mut AnyConnection,
    tenant_id: &str,
    contact_id: &str,
) -> Result<bool, StoreError> {
    let res = sqlx::query(
        "UPDATE contacts SET opted_out_at = $3 WHERE tenant_id = $1 AND id = $2 AND opted_out_at IS NULL",
    )
    .bind(tenant_id)
    .bind(contact_id)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    Ok(res.rows_affected() > 0)
}

/// Clears the opt-out. Returns whether there was one.
pub async fn opt_in(
    c: &mut AnyConnection,
    tenant_id: &str,
    contact_id: &str,
) -> Result<bool, StoreError> {
    let res = sqlx::query(
        "UPDATE contacts SET opted_out_at = NULL WHERE tenant_id = $1 AND id = $2 AND opted_out_at IS NOT NULL",
    )
    .bind(tenant_id)
    .bind(contact_id)
    .execute(&mut *c)
    .await?;
    Ok(res.rows_affected() > 0)
}
