//! Per-store message templates, versioned: every save is a new version, history is kept, the
//! highest version is the one in use.

use sqlx::{AnyConnection, Row};

use crate::db::{new_id, now_ms, Db, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateVersion {
    pub id: String,
    pub kind: String,
    pub version: i64,
    pub source: String,
    pub created_by: Option<String>,
    pub created_at: i64,
}

/// The store's current source for a kind, if it customised it.
pub async fn current(
    c: &mut AnyConnection,
    tenant_id: &str,
    kind: &str,
) -> Result<Option<String>, StoreError> {
    let row = sqlx::query("SELECT source FROM message_templates WHERE tenant_id = $1 AND kind = $2 ORDER BY version DESC LIMIT 1")
        .bind(tenant_id)
        .bind(kind)
        .fetch_optional(&mut *c)
        .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

/// The current (latest) version of every template kind the store customised, as
/// `(kind code, source)`: one round trip for what [`current`] per kind took fourteen (the
/// worker loads them for every conversation step; issue 14 item 6).
pub async fn current_all(
    c: &mut AnyConnection,
    tenant_id: &str,
) -> Result<Vec<(String, String)>, StoreError> {
    let rows = sqlx::query(
        "SELECT t.kind, t.source FROM message_templates t WHERE t.tenant_id = $1
           AND t.version = (SELECT MAX(l.version) FROM message_templates l WHERE l.tenant_id = t.tenant_id AND l.kind = t.kind)
         ORDER BY t.kind",
    )
    .bind(tenant_id)
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

/// Saves a new version (the caller validated it). Returns the version number.
pub async fn save(
    c: &mut AnyConnection,
    tenant_id: &str,
    kind: &str,
    source: &str,
    user_id: Option<&str>,
) -> Result<i64, StoreError> {
    let row = sqlx::query("SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) FROM message_templates WHERE tenant_id = $1 AND kind = $2")
        .bind(tenant_id)
        .bind(kind)
        .fetch_one(&mut *c)
        .await?;
    let version: i64 = row.try_get::<i64, _>(0)? + 1;
    sqlx::query("INSERT INTO message_templates (id, tenant_id, kind, version, source, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(new_id())
        .bind(tenant_id)
        .bind(kind)
        .bind(version)
        .bind(source)
        .bind(user_id)
        .bind(now_ms())
        .execute(&mut *c)
        .await
        .map_err(|e| StoreError::from_unique(e, "o modelo foi alterado ao mesmo tempo; tente de novo"))?;
    Ok(version)
}

pub async fn history(
    db: &Db,
    tenant_id: &str,
    kind: &str,
) -> Result<Vec<TemplateVersion>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, kind, version, source, created_by, created_at FROM message_templates WHERE tenant_id = $1 AND kind = $2 ORDER BY version DESC",
    )
    .bind(tenant_id)
    .bind(kind)
    .fetch_all(db.read())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(TemplateVersion {
                id: r.try_get(0)?,
                kind: r.try_get(1)?,
                version: r.try_get(2)?,
                source: r.try_get(3)?,
                created_by: r.try_get(4)?,
                created_at: r.try_get(5)?,
            })
        })
        .collect()
}
