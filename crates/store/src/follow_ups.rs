//! Follow-ups on a sent quote (issue 15 item 6; migration 0014): the store's settings (a
//! reminder N hours before the quote expires, one after N hours without an answer; `None` =
//! off), and the quote's mark that its one follow-up went out.

use sqlx::{AnyConnection, Row};

use crate::db::{now_ms, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FollowUpSettings {
    pub reminder_hours_before_expiry: Option<i64>,
    pub follow_up_after_hours: Option<i64>,
}

pub async fn settings(
    c: &mut AnyConnection,
    tenant_id: &str,
) -> Result<FollowUpSettings, StoreError> {
    let r = sqlx::query(
        "SELECT reminder_hours_before_expiry, follow_up_after_hours FROM tenants WHERE id = $1",
    )
    .bind(tenant_id)
    .fetch_optional(&mut *c)
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok(FollowUpSettings {
        reminder_hours_before_expiry: r.try_get(0)?,
        follow_up_after_hours: r.try_get(1)?,
    })
}

pub async fn set_settings(
    c: &mut AnyConnection,
    tenant_id: &str,
    s: FollowUpSettings,
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE tenants SET reminder_hours_before_expiry = $2, follow_up_after_hours = $3, updated_at = $4 WHERE id = $1",
    )
    .bind(tenant_id)
    .bind(s.reminder_hours_before_expiry)
    .bind(s.follow_up_after_hours)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Marks the quote's one follow-up as sent; false when one already was (at most one per
/// quote, whichever came first).
pub async fn claim(
    c: &mut AnyConnection,
    tenant_id: &str,
    quote_id: &str,
) -> Result<bool, StoreError> {
    let res = sqlx::query(
        "UPDATE quotes SET follow_up_sent_at = $3 WHERE tenant_id = $1 AND id = $2 AND follow_up_sent_at IS NULL",
    )
    .bind(tenant_id)
    .bind(quote_id)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    Ok(res.rows_affected() > 0)
}

/// Whether the customer wrote in the conversation after `since` (any reply stops follow-ups).
pub async fn customer_wrote_since(
    c: &mut AnyConnection,
    tenant_id: &str,
    conversation_id: &str,
    since: i64,
) -> Result<bool, StoreError> {
    let n: i64 = sqlx::query(
        "SELECT COUNT(*) FROM messages WHERE tenant_id = $1 AND conversation_id = $2 AND direction = 'in' AND created_at > $3",
    )
    .bind(tenant_id)
    .bind(conversation_id)
    .bind(since)
    .fetch_one(&mut *c)
    .await?
    .try_get(0)?;
    Ok(n > 0)
}
