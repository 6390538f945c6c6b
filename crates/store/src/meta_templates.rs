//! The store's WhatsApp message templates ("modelos de mensagem do WhatsApp", `meta_templates`,
//! migration 0014): what Meta lets the store send outside the 24-hour window once approved.
//! Not the bot's reply texts (`crate::templates`).
//!
//! Status is Meta's word (`PENDING`, `APPROVED`, `REJECTED`, `PAUSED`, `DISABLED`…) or one of
//! ours before Meta has it: [`SUBMITTING`] (queued for the worker to submit) and
//! [`SUBMIT_FAILED`] (Meta refused the submission; the reason says why).

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::db::{new_id, now_ms, Db, StoreError};

/// Saved, waiting for the worker to submit it to Meta.
pub const SUBMITTING: &str = "SUBMITTING";
/// Meta refused the submission itself (a name taken, a body it does not accept).
pub const SUBMIT_FAILED: &str = "SUBMIT_FAILED";
/// The one status a template can be sent in.
pub const APPROVED: &str = "APPROVED";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaTemplate {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    pub language: String,
    pub category: String,
    /// What the product sends it for (`domain::proactive::Purpose` code), if anything.
    pub purpose: Option<String>,
    pub body: String,
    pub status: String,
    pub status_reason: Option<String>,
    /// Meta's id, once submitted.
    pub meta_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLS: &str = "id, tenant_id, name, language, category, purpose, body, status, status_reason, meta_id, created_at, updated_at";

fn from_row(r: &AnyRow) -> Result<MetaTemplate, sqlx::Error> {
    Ok(MetaTemplate {
        id: r.try_get(0)?,
        tenant_id: r.try_get(1)?,
        name: r.try_get(2)?,
        language: r.try_get(3)?,
        category: r.try_get(4)?,
        purpose: r.try_get(5)?,
        body: r.try_get(6)?,
        status: r.try_get(7)?,
        status_reason: r.try_get(8)?,
        meta_id: r.try_get(9)?,
        created_at: r.try_get(10)?,
        updated_at: r.try_get(11)?,
    })
}

/// A template to save (validated by the caller).
pub struct NewMetaTemplate<'a> {
    pub name: &'a str,
    pub language: &'a str,
    pub category: &'a str,
    pub purpose: Option<&'a str>,
    pub body: &'a str,
    pub created_by: Option<&'a str>,
}

const NAME_TAKEN: &str = "Já existe um modelo com esse nome nesse idioma.";

/// The store's templates, newest first.
pub async fn list(db: &Db, tenant_id: &str) -> Result<Vec<MetaTemplate>, StoreError> {
    let sql = format!(
        "SELECT {COLS} FROM meta_templates WHERE tenant_id = $1 ORDER BY created_at DESC, id"
    );
    let rows = sqlx::query(&sql)
        .bind(tenant_id)
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

pub async fn get(
    c: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
) -> Result<MetaTemplate, StoreError> {
    let sql = format!("SELECT {COLS} FROM meta_templates WHERE tenant_id = $1 AND id = $2");
    let row = sqlx::query(&sql)
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(&mut *c)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(from_row(&row)?)
}

/// Saves a template as [`SUBMITTING`]; returns its id. A name the store already uses in that
/// language is a conflict (Meta refuses it too).
pub async fn create(
    c: &mut AnyConnection,
    tenant_id: &str,
    t: &NewMetaTemplate<'_>,
) -> Result<String, StoreError> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO meta_templates (id, tenant_id, name, language, category, purpose, body, status, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(&id)
    .bind(tenant_id)
    .bind(t.name)
    .bind(t.language)
    .bind(t.category)
    .bind(t.purpose)
    .bind(t.body)
    .bind(SUBMITTING)
    .bind(t.created_by)
    .bind(now_ms())
    .execute(&mut *c)
    .await
    .map_err(|e| StoreError::from_unique(e, NAME_TAKEN))?;
    Ok(id)
}

/// Meta took the submission: its id and first status.
pub async fn mark_submitted(
    c: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    meta_id: &str,
    status: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE meta_templates SET meta_id = $3, status = $4, status_reason = NULL, updated_at = $5 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(meta_id)
    .bind(status)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Sets a template's status and reason by our id (a refused submission, for one).
pub async fn set_status(
    c: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    status: &str,
    reason: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE meta_templates SET status = $3, status_reason = $4, updated_at = $5 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(status)
    .bind(reason)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Meta's review of a template, from the webhook or a refresh: found by name and language
/// (how Meta names it to the business), learning Meta's id if we did not have it. Returns
/// whether the store has such a template.
pub async fn apply_review(
    c: &mut AnyConnection,
    tenant_id: &str,
    name: &str,
    language: &str,
    meta_id: Option<&str>,
    status: &str,
    reason: Option<&str>,
) -> Result<bool, StoreError> {
    let res = sqlx::query(
        "UPDATE meta_templates SET status = $4, status_reason = $5, meta_id = COALESCE($6, meta_id), updated_at = $7
         WHERE tenant_id = $1 AND name = $2 AND language = $3",
    )
    .bind(tenant_id)
    .bind(name)
    .bind(language)
    .bind(status)
    .bind(reason)
    .bind(meta_id.filter(|m| !m.is_empty()))
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    Ok(res.rows_affected() > 0)
}

/// The approved template the store set for `purpose`, the newest if several.
pub async fn approved_for(
    c: &mut AnyConnection,
    tenant_id: &str,
    purpose: &str,
) -> Result<Option<MetaTemplate>, StoreError> {
    let sql = format!(
        "SELECT {COLS} FROM meta_templates WHERE tenant_id = $1 AND purpose = $2 AND status = $3 ORDER BY updated_at DESC, id LIMIT 1"
    );
    let row = sqlx::query(&sql)
        .bind(tenant_id)
        .bind(purpose)
        .bind(APPROVED)
        .fetch_optional(&mut *c)
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// The store's approved templates, by name: what staff may send by hand outside the 24 h
/// window (the conversation's reply box).
pub async fn approved(db: &Db, tenant_id: &str) -> Result<Vec<MetaTemplate>, StoreError> {
    let sql = format!(
        "SELECT {COLS} FROM meta_templates WHERE tenant_id = $1 AND status = $2 ORDER BY name, language, id"
    );
    let rows = sqlx::query(&sql)
        .bind(tenant_id)
        .bind(APPROVED)
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}
