//! The overview page's numbers: what happened in a store since a moment (conversations and
//! quotes for the 30-day chart and funnel) and what waits for someone now (approvals,
//! unread conversations). Every query filters by `tenant_id`.

use sqlx::Row;

use domain::status::QuoteStatus;

use crate::db::{Db, StoreError};
use crate::text_column;

/// Raw facts since a moment; the web layer buckets them by local day (dates stay out of SQL
/// so both engines answer the same).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Activity {
    /// created_at of conversations.
    pub conversations: Vec<i64>,
    /// (created_at, status, total_cents, conversation_id) of quotes.
    pub quotes: Vec<(i64, QuoteStatus, i64, String)>,
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
    .map(|r| {
        Ok((
            r.try_get(0)?,
            text_column::parse(r, 1)?,
            r.try_get(2)?,
            r.try_get(3)?,
        ))
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let pending_approvals: i64 = sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM approvals WHERE tenant_id = $1 AND status = 'pending'",
    )
    .bind(tenant_id)
    .fetch_one(db.read())
    .await?
    .try_get(0)?;
    // Customer messages no one on the team has seen yet (`inbox::mark_seen`), not the bot's
    // own to-do counter (`conversations.unread`).
    let unread_conversations = crate::inbox::unseen_conversations(db, tenant_id).await?;
    Ok(Activity {
        conversations,
        quotes,
        pending_approvals,
        unread_conversations,
    })
}
