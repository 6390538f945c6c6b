//! Dashboard sessions, in the database: they survive restarts and work across instances.
//!
//! The cookie holds a random token; only its SHA-256 is stored, so a leaked database dump
//! does not leak live sessions.

use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

use crate::db::{now_ms, Db, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id_hash: String,
    pub tenant_id: Option<String>,
    pub user_id: String,
    pub csrf_token: String,
    pub ip: String,
    pub user_agent: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

const COLS: &str =
    "id_hash, tenant_id, user_id, csrf_token, ip, user_agent, created_at, last_seen_at, expires_at";

fn from_row(r: &sqlx::any::AnyRow) -> Result<Session, sqlx::Error> {
    Ok(Session {
        id_hash: r.try_get(0)?,
        tenant_id: r.try_get(1)?,
        user_id: r.try_get(2)?,
        csrf_token: r.try_get(3)?,
        ip: r.try_get(4)?,
        user_agent: r.try_get(5)?,
        created_at: r.try_get(6)?,
        last_seen_at: r.try_get(7)?,
        expires_at: r.try_get(8)?,
    })
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub struct NewSession<'a> {
    pub token: &'a str,
    pub tenant_id: Option<&'a str>,
    pub user_id: &'a str,
    pub csrf_token: &'a str,
    pub ip: &'a str,
    pub user_agent: &'a str,
    pub ttl_ms: i64,
}

pub async fn create(c: &mut AnyConnection, s: &NewSession<'_>) -> Result<(), StoreError> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO sessions (id_hash, tenant_id, user_id, csrf_token, ip, user_agent, created_at, last_seen_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)",
    )
    .bind(hash_token(s.token))
    .bind(s.tenant_id)
    .bind(s.user_id)
    .bind(s.csrf_token)
    .bind(s.ip)
    .bind(s.user_agent.chars().take(200).collect::<String>())
    .bind(now)
    .bind(now + s.ttl_ms)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// The live session for a cookie token, or None when unknown, expired or idle too long.
pub async fn find(
    db: &Db,
    token: &str,
    idle_timeout_ms: i64,
) -> Result<Option<Session>, StoreError> {
    let now = now_ms();
    let sql = format!(
        "SELECT {COLS} FROM sessions WHERE id_hash = $1 AND expires_at > $2 AND last_seen_at > $3"
    );
    let row = sqlx::query(&sql)
        .bind(hash_token(token))
        .bind(now)
        .bind(now - idle_timeout_ms)
        .fetch_optional(db.read())
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// Marks activity (for the idle timeout); cheap enough to call once a minute per session.
pub async fn touch(db: &Db, id_hash: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1")
        .bind(id_hash)
        .bind(now_ms())
        .execute(db.write())
        .await?;
    Ok(())
}

pub async fn delete(c: &mut AnyConnection, id_hash: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Revokes a session of this store (the owner's "end session" button).
pub async fn revoke(
    c: &mut AnyConnection,
    tenant_id: &str,
    id_hash: &str,
) -> Result<bool, StoreError> {
    let res = sqlx::query("DELETE FROM sessions WHERE tenant_id = $1 AND id_hash = $2")
        .bind(tenant_id)
        .bind(id_hash)
        .execute(&mut *c)
        .await?;
    Ok(res.rows_affected() == 1)
}

pub async fn delete_for_user(c: &mut AnyConnection, user_id: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub async fn list_for_tenant(db: &Db, tenant_id: &str) -> Result<Vec<Session>, StoreError> {
    let sql = format!("SELECT {COLS} FROM sessions WHERE tenant_id = $1 AND expires_at > $2 ORDER BY last_seen_at DESC");
    let rows = sqlx::query(&sql)
        .bind(tenant_id)
        .bind(now_ms())
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

pub async fn purge_expired(db: &Db) -> Result<u64, StoreError> {
    let res = sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
        .bind(now_ms())
        .execute(db.write())
        .await?;
    Ok(res.rows_affected())
}

/// Login throttling: records a failure for a key (`ip:…` or `acct:…`) and returns the time
/// until which the key is locked, if it now is.
pub async fn throttle_failure(
    c: &mut AnyConnection,
    key: &str,
    max_failures: i64,
    window_ms: i64,
    lockout_ms: i64,
) -> Result<Option<i64>, StoreError> {
    let now = now_ms();
    let row =
        sqlx::query("SELECT failures, window_start FROM login_throttle WHERE throttle_key = $1")
            .bind(key)
            .fetch_optional(&mut *c)
            .await?;
    let (failures, start) = match row {
        Some(r) => {
            let f: i64 = r.try_get(0)?;
            let s: i64 = r.try_get(1)?;
            if now - s > window_ms {
                (1, now)
            } else {
                (f + 1, s)
            }
        }
        None => (1, now),
    };
    let locked = (failures >= max_failures).then_some(now + lockout_ms);
    sqlx::query(
        "INSERT INTO login_throttle (throttle_key, failures, window_start, locked_until) VALUES ($1, $2, $3, $4)
         ON CONFLICT (throttle_key) DO UPDATE SET failures = excluded.failures, window_start = excluded.window_start, locked_until = excluded.locked_until",
    )
    .bind(key)
    .bind(failures)
    .bind(start)
    .bind(locked)
    .execute(&mut *c)
    .await?;
    Ok(locked)
}

/// Until when a key is locked out, if it is.
pub async fn throttle_locked_until(db: &Db, key: &str) -> Result<Option<i64>, StoreError> {
    let row = sqlx::query(
        "SELECT locked_until FROM login_throttle WHERE throttle_key = $1 AND locked_until > $2",
    )
    .bind(key)
    .bind(now_ms())
    .fetch_optional(db.read())
    .await?;
    Ok(row
        .map(|r| r.try_get::<Option<i64>, _>(0))
        .transpose()?
        .flatten())
}

pub async fn throttle_clear(c: &mut AnyConnection, key: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM login_throttle WHERE throttle_key = $1")
        .bind(key)
        .execute(&mut *c)
        .await?;
    Ok(())
}
