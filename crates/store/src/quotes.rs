//! Quotes (with their immutable snapshot) and the approvals that gate them.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Executor, Row};

use domain::status::{ApprovalStatus, QuoteStatus};

use crate::db::{new_id, now_ms, Db, StoreError};
use crate::text_column;

/// Takes the store's next quote number for `year` (`ORC-2026-000123`), unique per store and
/// year.
///
/// - SQLite: the `quote_counters` row is bumped with one upsert inside the caller's
///   transaction (one writer at a time anyway). No gaps.
/// - PostgreSQL: a sequence per store and year (`quote_number_<tenant>_<year>`, created on the
///   store's first quote of the year, see [`create_number_sequence`]). `nextval` takes no row
///   lock, so concurrent steps of one store no longer queue behind each other until each
///   commits (the counter row lock serialised every quote of a store, issue 14). The price:
///   a number taken by a transaction that rolls back is not reused, so a store's numbers can
///   have gaps (documented in docs/worker.md). `quote_counters` is no longer written there.
pub async fn next_number(
    c: &mut AnyConnection,
    tenant_id: &str,
    year: i32,
) -> Result<String, StoreError> {
    let n = if c.backend_name() == "PostgreSQL" {
        next_from_sequence(c, tenant_id, year).await?
    } else {
        let row = sqlx::query(
            "INSERT INTO quote_counters (tenant_id, year, last_value) VALUES ($1, $2, 1)
             ON CONFLICT (tenant_id, year) DO UPDATE SET last_value = quote_counters.last_value + 1
             RETURNING last_value",
        )
        .bind(tenant_id)
        .bind(year as i64)
        .fetch_one(&mut *c)
        .await?;
        row.try_get(0)?
    };
    Ok(format!("ORC-{year}-{n:06}"))
}

/// `quote_number_<tenant id without hyphens>_<year>`; None when the id is not the hex of a
/// UUID (then it cannot be part of an identifier safely).
fn sequence_name(tenant_id: &str, year: i32) -> Option<String> {
    let hex: String = tenant_id.chars().filter(|c| *c != '-').collect();
    let ok = !hex.is_empty()
        && hex.len() <= 40
        && hex
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
    ok.then(|| format!("quote_number_{hex}_{year}"))
}

async fn next_from_sequence(
    c: &mut AnyConnection,
    tenant_id: &str,
    year: i32,
) -> Result<i64, StoreError> {
    let name = sequence_name(tenant_id, year)
        .ok_or_else(|| StoreError::Corrupt(format!("tenant id {tenant_id:?} is not a UUID")))?;
    // One statement on the hot path; NULL while the sequence does not exist yet.
    let next = "SELECT nextval(to_regclass($1))";
    let n: Option<i64> = sqlx::query(next)
        .bind(&name)
        .fetch_one(&mut *c)
        .await?
        .try_get(0)?;
    if let Some(n) = n {
        return Ok(n);
    }
    create_number_sequence(c, tenant_id, year, &name).await?;
    let n: Option<i64> = sqlx::query(next)
        .bind(&name)
        .fetch_one(&mut *c)
        .await?
        .try_get(0)?;
    n.ok_or_else(|| StoreError::Corrupt(format!("sequence {name} was not created")))
}

/// Creates the store's number sequence for `year`, starting after every number already
/// given: the old counter's value and the highest number among the year's quotes (a database
/// numbered before this change, or restored from a copy that did not carry the sequence).
/// Inside a savepoint: when another transaction creates it at the same time, this one waits
/// for that commit, fails on the catalog's unique key, rolls back to the savepoint and uses
/// the other's sequence.
async fn create_number_sequence(
    c: &mut AnyConnection,
    tenant_id: &str,
    year: i32,
    name: &str,
) -> Result<(), StoreError> {
    let row = sqlx::query(
        "SELECT CAST(GREATEST(
           COALESCE((SELECT last_value FROM quote_counters WHERE tenant_id = $1 AND year = $2), 0),
           COALESCE((SELECT MAX(CAST(substr(number, 10) AS BIGINT)) FROM quotes
                     WHERE tenant_id = $1 AND number ~ $3), 0)) AS BIGINT)",
    )
    .bind(tenant_id)
    .bind(year as i64)
    .bind(format!("^ORC-{year}-[0-9]+$"))
    .fetch_one(&mut *c)
    .await?;
    let last: i64 = row.try_get(0)?;
    c.execute(sqlx::raw_sql("SAVEPOINT quote_number_sequence"))
        .await?;
    // The name is built from hex digits only (sequence_name); the start is a number.
    let create = format!(
        "CREATE SEQUENCE IF NOT EXISTS {name} START WITH {}",
        last + 1
    );
    match c.execute(sqlx::raw_sql(&create)).await {
        Ok(_) => {
            c.execute(sqlx::raw_sql("RELEASE SAVEPOINT quote_number_sequence"))
                .await?;
        }
        Err(e) => {
            tracing::info!(error = %e, sequence = name, "quote number sequence created by another transaction");
            c.execute(sqlx::raw_sql("ROLLBACK TO SAVEPOINT quote_number_sequence"))
                .await?;
        }
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    pub id: String,
    pub tenant_id: String,
    pub conversation_id: String,
    pub number: String,
    pub status: QuoteStatus,
    pub snapshot_json: String,
    pub total_cents: i64,
    pub valid_until: i64,
    pub delivery: Option<String>,
    pub lost_reason: Option<String>,
    pub created_at: i64,
}

const COLS: &str = "id, tenant_id, conversation_id, number, status, snapshot_json, total_cents, valid_until, delivery, lost_reason, created_at";

fn from_row(r: &AnyRow) -> Result<Quote, sqlx::Error> {
    Ok(Quote {
        id: r.try_get(0)?,
        tenant_id: r.try_get(1)?,
        conversation_id: r.try_get(2)?,
        number: r.try_get(3)?,
        status: text_column::parse(r, 4)?,
        snapshot_json: r.try_get(5)?,
        total_cents: r.try_get(6)?,
        valid_until: r.try_get(7)?,
        delivery: r.try_get(8)?,
        lost_reason: r.try_get(9)?,
        created_at: r.try_get(10)?,
    })
}

pub struct NewQuote<'a> {
    pub tenant_id: &'a str,
    pub conversation_id: &'a str,
    pub number: &'a str,
    pub status: QuoteStatus,
    pub snapshot_json: &'a str,
    pub total_cents: i64,
    pub valid_until: i64,
    pub delivery: Option<&'a str>,
}

pub async fn insert(c: &mut AnyConnection, q: &NewQuote<'_>) -> Result<String, StoreError> {
    let id = new_id();
    let now = now_ms();
    sqlx::query(
        "INSERT INTO quotes (id, tenant_id, conversation_id, number, status, snapshot_json, total_cents, valid_until, delivery, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(&id)
    .bind(q.tenant_id)
    .bind(q.conversation_id)
    .bind(q.number)
    .bind(q.status.as_str())
    .bind(q.snapshot_json)
    .bind(q.total_cents)
    .bind(q.valid_until)
    .bind(q.delivery)
    .bind(now)
    .execute(&mut *c)
    .await
    .map_err(|e| StoreError::from_unique(e, "número de orçamento repetido"))?;
    Ok(id)
}

pub async fn get(db: &Db, tenant_id: &str, id: &str) -> Result<Option<Quote>, StoreError> {
    let sql = format!("SELECT {COLS} FROM quotes WHERE tenant_id = $1 AND id = $2");
    let row = sqlx::query(&sql)
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(db.read())
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

pub async fn get_conn(
    c: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
) -> Result<Quote, StoreError> {
    let sql = format!("SELECT {COLS} FROM quotes WHERE tenant_id = $1 AND id = $2");
    let row = sqlx::query(&sql)
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(&mut *c)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(from_row(&row)?)
}

/// The conversation's most recent quote.
pub async fn latest_for_conversation(
    c: &mut AnyConnection,
    tenant_id: &str,
    conversation_id: &str,
) -> Result<Option<Quote>, StoreError> {
    let sql = format!("SELECT {COLS} FROM quotes WHERE tenant_id = $1 AND conversation_id = $2 ORDER BY created_at DESC, id DESC LIMIT 1");
    let row = sqlx::query(&sql)
        .bind(tenant_id)
        .bind(conversation_id)
        .fetch_optional(&mut *c)
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// Quotes list with optional filters (status, number fragment, created after/before ms).
/// The status filter is the stored text (see [`QuoteStatus`]): the dashboard passes its
/// query parameter through until it reads the enum (issue 11).
pub async fn list(
    db: &Db,
    tenant_id: &str,
    status: Option<QuoteStatus>,
    number_like: Option<&str>,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
    limit: i64,
) -> Result<Vec<Quote>, StoreError> {
    let sql = format!(
        "SELECT {COLS} FROM quotes WHERE tenant_id = $1 AND ($2 = '' OR status = $2) AND ($3 = '' OR number LIKE $4)
         AND created_at >= $5 AND created_at <= $6 ORDER BY created_at DESC LIMIT $7"
    );
    let like = number_like
        .map(|n| format!("%{}%", n.replace(['%', '_'], "")))
        .unwrap_or_default();
    let rows = sqlx::query(&sql)
        .bind(tenant_id)
        .bind(status.map_or("", QuoteStatus::as_str))
        .bind(number_like.unwrap_or(""))
        .bind(like)
        .bind(from_ms.unwrap_or(0))
        .bind(to_ms.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// A quote as the quotes list shows it: with who asked for it.
#[derive(Debug, Clone)]
pub struct QuoteRow {
    pub quote: Quote,
    /// The customer's WhatsApp profile name, when Meta sent one.
    pub customer_name: Option<String>,
    /// The customer's WhatsApp id (digits of the phone number, or a username's user id).
    pub customer_wa_id: String,
}

/// [`list`] with the customer of each quote, for the dashboard's list.
pub async fn list_with_customer(
    db: &Db,
    tenant_id: &str,
    status: Option<QuoteStatus>,
    number_like: Option<&str>,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
    limit: i64,
) -> Result<Vec<QuoteRow>, StoreError> {
    let cols: Vec<String> = COLS.split(", ").map(|c| format!("q.{c}")).collect();
    let sql = format!(
        "SELECT {}, k.name, k.wa_id FROM quotes q
         JOIN conversations c ON c.id = q.conversation_id AND c.tenant_id = q.tenant_id
         JOIN contacts k ON k.id = c.contact_id
         WHERE q.tenant_id = $1 AND ($2 = '' OR q.status = $2) AND ($3 = '' OR q.number LIKE $4)
         AND q.created_at >= $5 AND q.created_at <= $6 ORDER BY q.created_at DESC LIMIT $7",
        cols.join(", ")
    );
    let like = number_like
        .map(|n| format!("%{}%", n.replace(['%', '_'], "")))
        .unwrap_or_default();
    let rows = sqlx::query(&sql)
        .bind(tenant_id)
        .bind(status.map_or("", QuoteStatus::as_str))
        .bind(number_like.unwrap_or(""))
        .bind(like)
        .bind(from_ms.unwrap_or(0))
        .bind(to_ms.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(db.read())
        .await?;
    let n = COLS.split(", ").count();
    rows.iter()
        .map(|r| {
            Ok(QuoteRow {
                quote: from_row(r)?,
                customer_name: r.try_get(n)?,
                customer_wa_id: r.try_get(n + 1)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

pub async fn set_status(
    c: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    status: QuoteStatus,
    lost_reason: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE quotes SET status = $3, lost_reason = COALESCE($4, lost_reason), updated_at = $5 WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .bind(status.as_str())
        .bind(lost_reason)
        .bind(now_ms())
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Restarts a quote's validity: an approved quote is valid from when the customer receives it.
pub async fn set_valid_until(
    c: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    valid_until: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE quotes SET valid_until = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(valid_until)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Replaces a quote's snapshot before approval (an attendant edited the lines).
pub async fn replace_snapshot(
    c: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    snapshot_json: &str,
    total_cents: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE quotes SET snapshot_json = $3, total_cents = $4, updated_at = $5 WHERE tenant_id = $1 AND id = $2 AND status = 'pending_approval'",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(snapshot_json)
    .bind(total_cents)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub id: String,
    pub tenant_id: String,
    pub quote_id: String,
    pub status: ApprovalStatus,
    pub reasons_json: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub decision_note: Option<String>,
    pub created_at: i64,
}

const ACOLS: &str = "id, tenant_id, quote_id, status, reasons_json, decided_by, decided_at, decision_note, created_at";

fn approval_from_row(r: &AnyRow) -> Result<Approval, sqlx::Error> {
    Ok(Approval {
        id: r.try_get(0)?,
        tenant_id: r.try_get(1)?,
        quote_id: r.try_get(2)?,
        status: text_column::parse(r, 3)?,
        reasons_json: r.try_get(4)?,
        decided_by: r.try_get(5)?,
        decided_at: r.try_get(6)?,
        decision_note: r.try_get(7)?,
        created_at: r.try_get(8)?,
    })
}

pub async fn insert_approval(
    c: &mut AnyConnection,
    tenant_id: &str,
    quote_id: &str,
    reasons_json: &str,
) -> Result<String, StoreError> {
    let id = new_id();
    sqlx::query("INSERT INTO approvals (id, tenant_id, quote_id, status, reasons_json, created_at) VALUES ($1, $2, $3, 'pending', $4, $5)")
        .bind(&id)
        .bind(tenant_id)
        .bind(quote_id)
        .bind(reasons_json)
        .bind(now_ms())
        .execute(&mut *c)
        .await?;
    Ok(id)
}

/// Approvals in one status (the stored text of an [`ApprovalStatus`]), oldest first.
pub async fn approvals(
    db: &Db,
    tenant_id: &str,
    status: ApprovalStatus,
    limit: i64,
) -> Result<Vec<Approval>, StoreError> {
    let sql = format!("SELECT {ACOLS} FROM approvals WHERE tenant_id = $1 AND status = $2 ORDER BY created_at LIMIT $3");
    let rows = sqlx::query(&sql)
        .bind(tenant_id)
        .bind(status.as_str())
        .bind(limit)
        .fetch_all(db.read())
        .await?;
    Ok(rows
        .iter()
        .map(approval_from_row)
        .collect::<Result<_, _>>()?)
}

pub async fn approval_for_quote(
    c: &mut AnyConnection,
    tenant_id: &str,
    quote_id: &str,
) -> Result<Option<Approval>, StoreError> {
    let sql = format!("SELECT {ACOLS} FROM approvals WHERE tenant_id = $1 AND quote_id = $2 ORDER BY created_at DESC LIMIT 1");
    let row = sqlx::query(&sql)
        .bind(tenant_id)
        .bind(quote_id)
        .fetch_optional(&mut *c)
        .await?;
    Ok(row.as_ref().map(approval_from_row).transpose()?)
}

/// Decides a pending approval. Returns false when it was already decided (two attendants
/// clicking at once: only the first decision counts).
pub async fn decide_approval(
    c: &mut AnyConnection,
    tenant_id: &str,
    approval_id: &str,
    status: ApprovalStatus,
    user_id: Option<&str>,
    note: Option<&str>,
) -> Result<bool, StoreError> {
    let res = sqlx::query(
        "UPDATE approvals SET status = $3, decided_by = $4, decided_at = $5, decision_note = $6 WHERE tenant_id = $1 AND id = $2 AND status = 'pending'",
    )
    .bind(tenant_id)
    .bind(approval_id)
    .bind(status.as_str())
    .bind(user_id)
    .bind(now_ms())
    .bind(note)
    .execute(&mut *c)
    .await?;
    Ok(res.rows_affected() == 1)
}

pub async fn approval_by_id(
    c: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
) -> Result<Option<Approval>, StoreError> {
    let sql = format!("SELECT {ACOLS} FROM approvals WHERE tenant_id = $1 AND id = $2");
    let row = sqlx::query(&sql)
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(&mut *c)
        .await?;
    Ok(row.as_ref().map(approval_from_row).transpose()?)
}

/// A quote by its number (unique per store): the number a quote's reply buttons carry.
pub async fn by_number(
    c: &mut AnyConnection,
    tenant_id: &str,
    number: &str,
) -> Result<Option<Quote>, StoreError> {
    let sql = format!("SELECT {COLS} FROM quotes WHERE tenant_id = $1 AND number = $2");
    let row = sqlx::query(&sql)
        .bind(tenant_id)
        .bind(number)
        .fetch_optional(&mut *c)
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// The quote one of our messages (sent at `sent_at_ms` in `conversation_id`) showed: the
/// newest of the conversation created by then. A quote's message is written in the
/// transaction that creates it, or later when the store approves it, and a newer quote
/// always comes after its message — so this is the quote whose buttons the message carried,
/// also for messages sent before their buttons named the quote (issue 18 item 2).
pub async fn shown_by_message(
    c: &mut AnyConnection,
    tenant_id: &str,
    conversation_id: &str,
    sent_at_ms: i64,
) -> Result<Option<Quote>, StoreError> {
    let sql = format!(
        "SELECT {COLS} FROM quotes WHERE tenant_id = $1 AND conversation_id = $2 AND created_at <= $3
         ORDER BY created_at DESC, id DESC LIMIT 1"
    );
    let row = sqlx::query(&sql)
        .bind(tenant_id)
        .bind(conversation_id)
        .bind(sent_at_ms)
        .fetch_optional(&mut *c)
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}
