//! Read-only queries for the operator page (`api.BASE/admin`), across all tenants.

use sqlx::Row;

use crate::db::{Db, StoreError};

/// Outcomes of webhook deliveries that did not reach a store's conversation as expected.
pub const WEBHOOK_FAILURE_OUTCOMES: &[&str] = &["unknown_channel", "ignored"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookFailure {
    pub received_at: i64,
    pub provider: String,
    pub outcome: String,
    pub phone_number_id: Option<String>,
    pub request_id: Option<String>,
}

/// Events per outcome since `since_ms` (all outcomes, most frequent first).
pub async fn webhook_outcomes(db: &Db, since_ms: i64) -> Result<Vec<(String, i64)>, StoreError> {
    let rows = sqlx::query(
        "SELECT outcome, CAST(COUNT(*) AS BIGINT) FROM webhook_events WHERE received_at >= $1
         GROUP BY outcome ORDER BY 2 DESC, outcome",
    )
    .bind(since_ms)
    .fetch_all(db.read())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

/// The latest failed deliveries, without their payloads (customer messages stay out of the
/// operator's page).
pub async fn recent_webhook_failures(
    db: &Db,
    limit: i64,
) -> Result<Vec<WebhookFailure>, StoreError> {
    let rows = sqlx::query(
        "SELECT received_at, provider, outcome, phone_number_id, request_id FROM webhook_events
         WHERE outcome IN ($1, $2) ORDER BY received_at DESC LIMIT $3",
    )
    .bind(WEBHOOK_FAILURE_OUTCOMES[0])
    .bind(WEBHOOK_FAILURE_OUTCOMES[1])
    .bind(limit)
    .fetch_all(db.read())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(WebhookFailure {
                received_at: r.try_get(0)?,
                provider: r.try_get(1)?,
                outcome: r.try_get(2)?,
                phone_number_id: r.try_get(3)?,
                request_id: r.try_get(4)?,
            })
        })
        .collect()
}
