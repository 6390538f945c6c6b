//! A store's subscription as Stripe's webhook drives it (docs/billing.md).
//!
//! The state lives on the tenant row (`subscription_status` and migration 0017's columns) so
//! the worker reads it with the tenant, in the one read it already makes per job. Each Stripe
//! event id is recorded once in `stripe_events`; a state change carries the event's `created`
//! time and an older event never overwrites a newer state.

use sqlx::{AnyConnection, Row};

use crate::db::{now_ms, Db, StoreError};

/// Stripe's subscription states this product knows, and `none` (no subscription: a store that
/// never subscribed, and every store of an install with billing off).
pub const STATES: &[&str] = &[
    "none",
    "trialing",
    "active",
    "incomplete",
    "incomplete_expired",
    "past_due",
    "unpaid",
    "canceled",
    "paused",
];

/// Whether automatic quotes stop for this state at `now_ms`: unpaid, canceled, expired or
/// paused subscriptions, and past_due once its grace period is over. `none`, trialing, active,
/// incomplete (the first payment is being made) and past_due within its grace are not gated.
pub fn gated(status: &str, grace_until: Option<i64>, now_ms: i64) -> bool {
    match status {
        "unpaid" | "canceled" | "incomplete_expired" | "paused" => true,
        // No end recorded (cannot happen through `apply_state`): the grace is over.
        "past_due" => grace_until.is_none_or(|g| now_ms >= g),
        _ => false,
    }
}

/// The state in pt-BR, as the dashboard shows it.
pub fn label_pt(status: &str) -> &'static str {
    match status {
        "none" => "sem assinatura",
        "trialing" => "período de teste",
        "active" => "ativa",
        "incomplete" => "aguardando o primeiro pagamento",
        "incomplete_expired" => "primeiro pagamento não concluído",
        "past_due" => "pagamento atrasado",
        "unpaid" => "não paga",
        "canceled" => "cancelada",
        "paused" => "pausada",
        _ => "desconhecida",
    }
}

/// What the billing page shows and the webhook compares against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub tenant_id: String,
    pub status: String,
    pub customer_id: Option<String>,
    pub subscription_id: Option<String>,
    pub price_id: Option<String>,
    /// Unix ms.
    pub period_end: Option<i64>,
    /// `created` (unix ms) of the event that set the state.
    pub state_at: Option<i64>,
    pub past_due_since: Option<i64>,
    pub grace_until: Option<i64>,
}

const COLS: &str = "id, subscription_status, stripe_customer_id, stripe_subscription_id, subscription_price_id, subscription_period_end, subscription_state_at, subscription_past_due_since, subscription_grace_until";

fn from_row(r: &sqlx::any::AnyRow) -> Result<Subscription, sqlx::Error> {
    Ok(Subscription {
        tenant_id: r.try_get(0)?,
        status: r.try_get(1)?,
        customer_id: r.try_get(2)?,
        subscription_id: r.try_get(3)?,
        price_id: r.try_get(4)?,
        period_end: r.try_get(5)?,
        state_at: r.try_get(6)?,
        past_due_since: r.try_get(7)?,
        grace_until: r.try_get(8)?,
    })
}

pub async fn of_tenant(db: &Db, tenant_id: &str) -> Result<Subscription, StoreError> {
    let mut c = db.read().acquire().await?;
    of_tenant_conn(&mut c, tenant_id).await
}

pub async fn of_tenant_conn(
    c: &mut AnyConnection,
    tenant_id: &str,
) -> Result<Subscription, StoreError> {
    let sql = format!("SELECT {COLS} FROM tenants WHERE id = $1");
    let row = sqlx::query(&sql)
        .bind(tenant_id)
        .fetch_optional(&mut *c)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(from_row(&row)?)
}

/// Whether a tenant with this id exists.
pub async fn tenant_exists(c: &mut AnyConnection, tenant_id: &str) -> Result<bool, StoreError> {
    Ok(sqlx::query("SELECT 1 FROM tenants WHERE id = $1")
        .bind(tenant_id)
        .fetch_optional(&mut *c)
        .await?
        .is_some())
}

/// The tenant linked to a Stripe customer (by checkout or an earlier event).
pub async fn tenant_of_customer(
    c: &mut AnyConnection,
    customer_id: &str,
) -> Result<Option<String>, StoreError> {
    let row = sqlx::query(
        "SELECT id FROM tenants WHERE stripe_customer_id = $1 ORDER BY created_at LIMIT 1",
    )
    .bind(customer_id)
    .fetch_optional(&mut *c)
    .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

/// Records a Stripe event id; false when it was already recorded (a replay or a duplicate
/// delivery: the caller changes nothing). Runs in the transaction that applies the event, so
/// an event whose processing fails is not recorded and Stripe's retry processes it.
pub async fn record_event(
    c: &mut AnyConnection,
    id: &str,
    kind: &str,
    created_ms: i64,
) -> Result<bool, StoreError> {
    let res = sqlx::query(
        "INSERT INTO stripe_events (id, type, created, outcome, received_at) VALUES ($1, $2, $3, 'received', $4)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(kind)
    .bind(created_ms)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    Ok(res.rows_affected() == 1)
}

/// What processing a recorded event led to (`applied`, `stale`, `unknown_tenant`, `ignored`…).
pub async fn event_outcome(
    c: &mut AnyConnection,
    id: &str,
    tenant_id: Option<&str>,
    outcome: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE stripe_events SET outcome = $2, tenant_id = $3 WHERE id = $1")
        .bind(id)
        .bind(outcome)
        .bind(tenant_id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// (id, type, outcome) of the events recorded, oldest first (tests and support).
pub async fn events(db: &Db) -> Result<Vec<(String, String, String)>, StoreError> {
    let rows = sqlx::query("SELECT id, type, outcome FROM stripe_events ORDER BY received_at, id")
        .fetch_all(db.read())
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .collect()
}

/// Links the Stripe customer (and subscription, when known) to the tenant. Ids already
/// linked are replaced only by present values.
pub async fn link(
    c: &mut AnyConnection,
    tenant_id: &str,
    customer_id: Option<&str>,
    subscription_id: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE tenants SET stripe_customer_id = COALESCE($2, stripe_customer_id),
            stripe_subscription_id = COALESCE($3, stripe_subscription_id), updated_at = $4
         WHERE id = $1",
    )
    .bind(tenant_id)
    .bind(customer_id)
    .bind(subscription_id)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// A state an event says the subscription is in.
#[derive(Debug, Clone)]
pub struct StateChange<'a> {
    pub status: &'a str,
    /// The event's `created`, unix ms.
    pub at_ms: i64,
    pub subscription_id: Option<&'a str>,
    pub price_id: Option<&'a str>,
    pub period_end_ms: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Applied,
    /// The tenant's state was set by a newer event: nothing changed.
    Stale,
}

/// Sets the state unless a newer event already set one (events of the same second apply in
/// the order they arrive). Entering past_due starts the grace period (`grace_ms` from the
/// event's time); staying past_due keeps its start; leaving it clears both.
pub async fn apply_state(
    c: &mut AnyConnection,
    tenant_id: &str,
    change: &StateChange<'_>,
    grace_ms: i64,
) -> Result<Applied, StoreError> {
    let cur = of_tenant_conn(c, tenant_id).await?;
    if cur.state_at.is_some_and(|at| change.at_ms < at) {
        return Ok(Applied::Stale);
    }
    let past_due_since = match (change.status, cur.status.as_str()) {
        ("past_due", "past_due") => cur.past_due_since.or(Some(change.at_ms)),
        ("past_due", _) => Some(change.at_ms),
        _ => None,
    };
    let grace_until = past_due_since.map(|s| s.saturating_add(grace_ms));
    sqlx::query(
        "UPDATE tenants SET subscription_status = $2, subscription_state_at = $3,
            subscription_past_due_since = $4, subscription_grace_until = $5,
            stripe_subscription_id = COALESCE($6, stripe_subscription_id),
            subscription_price_id = COALESCE($7, subscription_price_id),
            subscription_period_end = COALESCE($8, subscription_period_end), updated_at = $9
         WHERE id = $1",
    )
    .bind(tenant_id)
    .bind(change.status)
    .bind(change.at_ms)
    .bind(past_due_since)
    .bind(grace_until)
    .bind(change.subscription_id)
    .bind(change.price_id)
    .bind(change.period_end_ms)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    Ok(Applied::Applied)
}

#[cfg(test)]
mod tests {
    use super::gated;

    #[test]
    fn the_gate_follows_the_state_and_the_grace_period() {
        let now = 1_000_000;
        for open in ["none", "trialing", "active", "incomplete"] {
            assert!(!gated(open, None, now), "{open}");
        }
        for closed in ["unpaid", "canceled", "incomplete_expired", "paused"] {
            assert!(gated(closed, None, now), "{closed}");
        }
        assert!(!gated("past_due", Some(now + 1), now), "within the grace");
        assert!(gated("past_due", Some(now), now), "grace over");
        assert!(gated("past_due", None, now));
    }
}
