//! Raw webhook deliveries, kept for audit and debugging (retention is configurable).

use sqlx::{AnyConnection, Row};

use crate::db::{new_id, now_ms, Db, StoreError};

pub struct NewEvent<'a> {
    pub tenant_id: Option<&'a str>,
    pub channel_id: Option<&'a str>,
    pub provider: &'a str,
    pub phone_number_id: Option<&'a str>,
    /// `accepted`, `duplicate`, `unknown_channel`, `ignored`, `status`.
    pub outcome: &'a str,
    pub payload: &'a str,
    pub request_id: Option<&'a str>,
}

pub async fn record(c: &mut AnyConnection, e: &NewEvent<'_>) -> Result<String, StoreError> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO webhook_events (id, tenant_id, channel_id, provider, phone_number_id, outcome, payload, request_id, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&id)
    .bind(e.tenant_id)
    .bind(e.channel_id)
    .bind(e.provider)
    .bind(e.phone_number_id)
    .bind(e.outcome)
    .bind(e.payload)
    .bind(e.request_id)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    Ok(id)
}

/// Count of events per outcome (tests and the operator page).
pub async fn count_by_outcome(db: &Db, outcome: &str) -> Result<i64, StoreError> {
    let row = sqlx::query("SELECT COUNT(*) FROM webhook_events WHERE outcome = $1")
        .bind(outcome)
        .fetch_one(db.read())
        .await?;
    Ok(row.try_get(0)?)
}

/// Deletes raw payloads older than the retention period.
pub async fn purge_older_than(db: &Db, retention_ms: i64) -> Result<u64, StoreError> {
    let res = sqlx::query("DELETE FROM webhook_events WHERE received_at < $1")
        .bind(now_ms() - retention_ms)
        .execute(db.write())
        .await?;
    Ok(res.rows_affected())
}

/// When the last webhook delivery for this channel arrived (any outcome: a message, a
/// receipt, a duplicate), within the raw-payload retention; None when none is kept.
pub async fn last_for_channel(
    db: &Db,
    tenant_id: &str,
    channel_id: &str,
) -> Result<Option<i64>, StoreError> {
    let row = sqlx::query(
        "SELECT MAX(received_at) FROM webhook_events WHERE channel_id = $1 AND tenant_id = $2",
    )
    .bind(channel_id)
    .bind(tenant_id)
    .fetch_one(db.read())
    .await?;
    Ok(row.try_get::<Option<i64>, _>(0)?)
}
