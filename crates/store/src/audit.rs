//! The audit log: who changed what, with before and after.

use sqlx::{AnyConnection, Row};

use crate::db::{new_id, now_ms, Db, StoreError};

pub struct Entry<'a> {
    pub tenant_id: Option<&'a str>,
    pub actor_user_id: Option<&'a str>,
    /// Human-readable actor: an email, `sistema`, `operador`, `cli`.
    pub actor_label: &'a str,
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: Option<&'a str>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub request_id: Option<&'a str>,
}

/// Written in the same transaction as the change it describes.
pub async fn record(c: &mut AnyConnection, e: &Entry<'_>) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_log (id, tenant_id, actor_user_id, actor_label, action, entity, entity_id, before_json, after_json, request_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(new_id())
    .bind(e.tenant_id)
    .bind(e.actor_user_id)
    .bind(e.actor_label)
    .bind(e.action)
    .bind(e.entity)
    .bind(e.entity_id)
    .bind(e.before.as_ref().map(|v| v.to_string()))
    .bind(e.after.as_ref().map(|v| v.to_string()))
    .bind(e.request_id)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub actor_label: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub created_at: i64,
}

pub async fn list(
    db: &Db,
    tenant_id: Option<&str>,
    limit: i64,
) -> Result<Vec<AuditRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT actor_label, action, entity, entity_id, before_json, after_json, created_at FROM audit_log
         WHERE ($1 = '' OR tenant_id = $1) ORDER BY created_at DESC LIMIT $2",
    )
    .bind(tenant_id.unwrap_or(""))
    .bind(limit)
    .fetch_all(db.read())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AuditRow {
                actor_label: r.try_get(0)?,
                action: r.try_get(1)?,
                entity: r.try_get(2)?,
                entity_id: r.try_get(3)?,
                before_json: r.try_get(4)?,
                after_json: r.try_get(5)?,
                created_at: r.try_get(6)?,
            })
        })
        .collect()
}
