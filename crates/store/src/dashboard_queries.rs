//! Tenant-scoped reads and small writes the dashboard needs beyond the other modules:
//! overview numbers, the 30-day chart and funnel, and a few settings updates. Every query
//! filters by `tenant_id`.

use sqlx::{AnyConnection, Row};

use crate::db::{now_ms, Db, StoreError};

/// Raw facts since a moment; the web layer buckets them by local day (dates stay out of SQL
/// so both engines answer the same).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Activity {
    /// created_at of conversations.
    pub conversations: Vec<i64>,
    /// (created_at, status, total_cents, conversation_id) of quotes.
    pub quotes: Vec<(i64, String, i64, String)>,
    pub pending_approvals: i64,
    pub unread_conversations: i64,
}

pub async fn activity_since(
    db: &Db,
    tenant_id: &str,
    since_ms: i64,
) -> Result<Activity, StoreError> {
    let conversations = sqlx::query(
        "SELECT created_at FROM conversations WHERE tenant_id = $1 AND created_at >= $2",
    )
    .bind(tenant_id)
    .bind(since_ms)
    .fetch_all(db.read())
    .await?
    .iter()
    .map(|r| r.try_get::<i64, _>(0))
    .collect::<Result<Vec<_>, _>>()?;
    let quotes = sqlx::query(
        "SELECT created_at, status, total_cents, conversation_id FROM quotes WHERE tenant_id = $1 AND created_at >= $2",
    )
    .bind(tenant_id)
    .bind(since_ms)
    .fetch_all(db.read())
    .await?
    .iter()
    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let pending_approvals: i64 = sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM approvals WHERE tenant_id = $1 AND status = 'pending'",
    )
    .bind(tenant_id)
    .fetch_one(db.read())
    .await?
    .try_get(0)?;
    let unread_conversations: i64 = sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM conversations WHERE tenant_id = $1 AND unread > 0",
    )
    .bind(tenant_id)
    .fetch_one(db.read())
    .await?
    .try_get(0)?;
    Ok(Activity {
        conversations,
        quotes,
        pending_approvals,
        unread_conversations,
    })
}

pub async fn set_role(
    c: &mut AnyConnection,
    tenant_id: &str,
    user_id: &str,
    role: &str,
) -> Result<(), StoreError> {
    let res =
        sqlx::query("UPDATE users SET role = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2")
            .bind(tenant_id)
            .bind(user_id)
            .bind(role)
            .bind(now_ms())
            .execute(&mut *c)
            .await?;
    if res.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn count_owners(c: &mut AnyConnection, tenant_id: &str) -> Result<i64, StoreError> {
    Ok(sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM users WHERE tenant_id = $1 AND role = 'owner'",
    )
    .bind(tenant_id)
    .fetch_one(&mut *c)
    .await?
    .try_get(0)?)
}

/// Moves a freight rule in the evaluation order (first match wins).
pub async fn set_freight_position(
    c: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    position: i64,
) -> Result<(), StoreError> {
    let res =
        sqlx::query("UPDATE freight_rules SET position = $3 WHERE tenant_id = $1 AND id = $2")
            .bind(tenant_id)
            .bind(id)
            .bind(position)
            .execute(&mut *c)
            .await?;
    if res.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn update_channel_ids(
    c: &mut AnyConnection,
    tenant_id: &str,
    channel_id: &str,
    phone_number_id: &str,
    waba_id: &str,
    display_number: &str,
) -> Result<(), StoreError> {
    let res = sqlx::query(
        "UPDATE channels SET phone_number_id = $3, waba_id = $4, display_number = $5, updated_at = $6 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant_id)
    .bind(channel_id)
    .bind(phone_number_id)
    .bind(waba_id)
    .bind(display_number)
    .bind(now_ms())
    .execute(&mut *c)
    .await
    .map_err(|e| StoreError::from_unique(e, "esse phone_number_id já está ligado a outra loja"))?;
    if res.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// The contact for a WhatsApp number, created (without a name or inbound time) if new: the
/// settings page's test send writes to it through the normal outbound path.
pub async fn contact_for_number(
    c: &mut AnyConnection,
    tenant_id: &str,
    wa_id: &str,
) -> Result<String, StoreError> {
    sqlx::query(
        "INSERT INTO contacts (id, tenant_id, wa_id, name, created_at) VALUES ($1, $2, $3, '', $4) ON CONFLICT (tenant_id, wa_id) DO NOTHING",
    )
    .bind(crate::db::new_id())
    .bind(tenant_id)
    .bind(wa_id)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    Ok(
        sqlx::query("SELECT id FROM contacts WHERE tenant_id = $1 AND wa_id = $2")
            .bind(tenant_id)
            .bind(wa_id)
            .fetch_one(&mut *c)
            .await?
            .try_get(0)?,
    )
}
