//! The optional language model's budget and rate limit per store (issue 16,
//! docs/assistants.md), enforced in the database so that every worker process shares them.
//!
//! Money here is in **millicentavos** (1/1000 of a centavo): one call to a small hosted model
//! costs a fraction of a centavo, and rounding each call up to a whole centavo would spend a
//! store's budget many times faster than the provider bills it. Shown to people in centavos.
//!
//! A call is paid in two steps:
//! 1. [`reserve`]: one conditional `UPDATE` adds the call's largest possible cost (the prompt's
//!    tokens and the answer's `max_tokens`) to the month's spend only if the sum stays within
//!    the budget, and counts the call in the store's current minute only while that minute is
//!    under the rate limit. On PostgreSQL a concurrent `UPDATE` of the same row waits and
//!    re-checks the condition on the row the first one wrote; SQLite has one writer. Two
//!    workers therefore cannot both spend the last real.
//! 2. [`settle`]: after the answer, the difference between the reservation and the cost the
//!    provider reported (its token counts × the configured prices) is given back. A worker
//!    that dies in between leaves the reservation spent: the budget errs on the side of
//!    spending less, never more.

use sqlx::{AnyConnection, Row};

use crate::db::{now_ms, Db, StoreError};

/// Millicentavos in one centavo.
pub const MILLICENTS_PER_CENT: i64 = 1000;

/// The rate window: calls are counted per store and per minute.
pub const WINDOW_MS: i64 = 60_000;

/// What [`reserve`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// The estimate is charged: call the model, then [`settle`].
    Granted,
    /// The month's budget cannot take the estimate: rules only.
    OverBudget,
    /// The store made its allowed calls this minute: rules only.
    RateLimited,
}

/// One store's month, as the dashboard and the metrics show it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage {
    pub month: String,
    pub spent_millicents: i64,
    pub calls: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub refused_budget: i64,
    pub refused_rate: i64,
    /// Unix ms of the last call refused for the budget this month (staff are told).
    pub last_refused_at: Option<i64>,
    /// Unix ms of the last call granted this month.
    pub last_granted_at: Option<i64>,
}

impl Usage {
    /// The spend in whole centavos, rounded up (what the store is shown never understates).
    pub fn spent_cents(&self) -> i64 {
        (self.spent_millicents + MILLICENTS_PER_CENT - 1).div_euclid(MILLICENTS_PER_CENT)
    }

    /// The budget ran out: the last call asked for was refused for it (none granted since).
    pub fn exhausted(&self) -> bool {
        match (self.last_refused_at, self.last_granted_at) {
            (Some(r), Some(g)) => r >= g,
            (Some(_), None) => true,
            _ => false,
        }
    }
}

/// Charges `estimate_millicents` to the store's `month` (`YYYY-MM` in the store's time zone)
/// if the month's spend stays within `budget_millicents` and the store has made fewer than
/// `per_minute` calls in the current minute. A refusal is counted (and, for the budget,
/// remembered as the note staff see).
pub async fn reserve(
    db: &Db,
    tenant_id: &str,
    month: &str,
    estimate_millicents: i64,
    budget_millicents: i64,
    per_minute: i64,
) -> Result<Reservation, StoreError> {
    let (tenant_id, month) = (tenant_id.to_string(), month.to_string());
    let estimate = estimate_millicents.max(0);
    db.tx(move |c| {
        Box::pin(async move {
            let now = now_ms();
            let minute = now.div_euclid(WINDOW_MS);
            ensure_row(c, &tenant_id, &month, now).await?;
            let granted = sqlx::query(
                "UPDATE assistant_usage SET
                    spent_millicents = spent_millicents + $3,
                    calls = calls + 1,
                    window_calls = CASE WHEN window_minute = $4 THEN window_calls + 1 ELSE 1 END,
                    window_minute = $4,
                    last_granted_at = $7,
                    updated_at = $7
                 WHERE tenant_id = $1 AND month = $2
                   AND spent_millicents + $3 <= $5
                   AND (window_minute <> $4 OR window_calls < $6)",
            )
            .bind(&tenant_id)
            .bind(&month)
            .bind(estimate)
            .bind(minute)
            .bind(budget_millicents)
            .bind(per_minute)
            .bind(now)
            .execute(&mut *c)
            .await?
            .rows_affected()
                == 1;
            if granted {
                return Ok(Reservation::Granted);
            }
            // Which condition refused it: read on the row this transaction now sees.
            let row = sqlx::query(
                "SELECT spent_millicents, window_minute, window_calls FROM assistant_usage
                 WHERE tenant_id = $1 AND month = $2",
            )
            .bind(&tenant_id)
            .bind(&month)
            .fetch_one(&mut *c)
            .await?;
            let spent: i64 = row.try_get(0)?;
            let (window, calls): (i64, i64) = (row.try_get(1)?, row.try_get(2)?);
            let over_budget = spent.saturating_add(estimate) > budget_millicents;
            let outcome = if over_budget {
                sqlx::query(
                    "UPDATE assistant_usage SET refused_budget = refused_budget + 1,
                        last_refused_at = $3, updated_at = $3
                     WHERE tenant_id = $1 AND month = $2",
                )
                .bind(&tenant_id)
                .bind(&month)
                .bind(now)
                .execute(&mut *c)
                .await?;
                Reservation::OverBudget
            } else {
                debug_assert!(window == minute && calls >= per_minute);
                sqlx::query(
                    "UPDATE assistant_usage SET refused_rate = refused_rate + 1, updated_at = $3
                     WHERE tenant_id = $1 AND month = $2",
                )
                .bind(&tenant_id)
                .bind(&month)
                .bind(now)
                .execute(&mut *c)
                .await?;
                Reservation::RateLimited
            };
            Ok(outcome)
        })
    })
    .await
}

/// Replaces a granted reservation by the call's real cost (`actual_millicents`, which may be
/// zero when the call failed before the provider billed anything) and adds its tokens.
pub async fn settle(
    db: &Db,
    tenant_id: &str,
    month: &str,
    reserved_millicents: i64,
    actual_millicents: i64,
    prompt_tokens: i64,
    completion_tokens: i64,
) -> Result<(), StoreError> {
    let (tenant_id, month) = (tenant_id.to_string(), month.to_string());
    let delta = actual_millicents.max(0) - reserved_millicents.max(0);
    db.tx(move |c| {
        Box::pin(async move {
            sqlx::query(
                "UPDATE assistant_usage SET
                    spent_millicents = CASE WHEN spent_millicents + $3 < 0 THEN 0
                                            ELSE spent_millicents + $3 END,
                    prompt_tokens = prompt_tokens + $4,
                    completion_tokens = completion_tokens + $5,
                    updated_at = $6
                 WHERE tenant_id = $1 AND month = $2",
            )
            .bind(&tenant_id)
            .bind(&month)
            .bind(delta)
            .bind(prompt_tokens.max(0))
            .bind(completion_tokens.max(0))
            .bind(now_ms())
            .execute(&mut *c)
            .await?;
            Ok(())
        })
    })
    .await
}

async fn ensure_row(
    c: &mut AnyConnection,
    tenant_id: &str,
    month: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO assistant_usage (tenant_id, month, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (tenant_id, month) DO NOTHING",
    )
    .bind(tenant_id)
    .bind(month)
    .bind(now)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// The store's month (zeros when nothing was spent yet).
pub async fn usage(db: &Db, tenant_id: &str, month: &str) -> Result<Usage, StoreError> {
    let row = sqlx::query(
        "SELECT spent_millicents, calls, prompt_tokens, completion_tokens, refused_budget,
                refused_rate, last_refused_at, last_granted_at
         FROM assistant_usage WHERE tenant_id = $1 AND month = $2",
    )
    .bind(tenant_id)
    .bind(month)
    .fetch_optional(db.read())
    .await?;
    let Some(r) = row else {
        return Ok(Usage {
            month: month.to_string(),
            ..Usage::default()
        });
    };
    Ok(Usage {
        month: month.to_string(),
        spent_millicents: r.try_get(0)?,
        calls: r.try_get(1)?,
        prompt_tokens: r.try_get(2)?,
        completion_tokens: r.try_get(3)?,
        refused_budget: r.try_get(4)?,
        refused_rate: r.try_get(5)?,
        last_refused_at: r.try_get(6)?,
        last_granted_at: r.try_get(7)?,
    })
}

/// The store's own monthly budget in centavos, when it has one (else the install's default).
pub async fn store_budget_cents(db: &Db, tenant_id: &str) -> Result<Option<i64>, StoreError> {
    let row = sqlx::query("SELECT assistant_budget_cents FROM tenants WHERE id = $1")
        .bind(tenant_id)
        .fetch_optional(db.read())
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(row.try_get(0)?)
}

/// Sets (or, with None, clears) the store's own monthly budget in centavos.
pub async fn set_store_budget_cents(
    db: &Db,
    tenant_id: &str,
    cents: Option<i64>,
) -> Result<(), StoreError> {
    let tenant_id = tenant_id.to_string();
    let cents = cents.map(|c| c.max(0));
    db.tx(move |c| {
        Box::pin(async move {
            let n = sqlx::query(
                "UPDATE tenants SET assistant_budget_cents = $2, updated_at = $3 WHERE id = $1",
            )
            .bind(&tenant_id)
            .bind(cents)
            .bind(now_ms())
            .execute(&mut *c)
            .await?
            .rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
    })
    .await
}

/// Across stores, for the operator's metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthOverview {
    /// The least budget left (centavos, rounded down) among the stores that used the model in
    /// the month; the default budget when none did.
    pub least_left_cents: i64,
    /// Stores refused at least one call for their budget in the month.
    pub stores_refused: i64,
}

pub async fn month_overview(
    db: &Db,
    month: &str,
    default_budget_cents: i64,
) -> Result<MonthOverview, StoreError> {
    let row = sqlx::query(
        "SELECT MIN(COALESCE(t.assistant_budget_cents, $2) * 1000 - u.spent_millicents),
                COUNT(u.last_refused_at)
         FROM assistant_usage u JOIN tenants t ON t.id = u.tenant_id
         WHERE u.month = $1",
    )
    .bind(month)
    .bind(default_budget_cents)
    .fetch_one(db.read())
    .await?;
    let least: Option<i64> = row.try_get(0)?;
    Ok(MonthOverview {
        least_left_cents: least
            .map(|mc| mc.div_euclid(MILLICENTS_PER_CENT))
            .unwrap_or(default_budget_cents),
        stores_refused: row.try_get(1)?,
    })
}
