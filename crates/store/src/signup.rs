//! The public site's writes: a store created from the sign-up form, and the one-time
//! hand-off tokens that carry a sign-in from `BASE` to `{slug}.BASE` (cookies are host-only,
//! so the apex cannot set the store's session cookie itself).
//!
//! Hand-off tokens live in the `sessions` table (no new table, no migration): the row's id
//! is `handoff:` + SHA-256 of the token, so it can never be presented as a session cookie
//! (a cookie's row id is its bare digest), it expires after [`HANDOFF_TTL_MS`] and it is
//! deleted by the first attempt to use it, on whatever store.

use sqlx::{AnyConnection, Row};

use crate::audit::{self, Entry};
use crate::db::{now_ms, StoreError};
use crate::rules::{self, PricingRulesRow};
use crate::sessions;
use crate::tenants::{self, Tenant};
use crate::users::{self, Role, User};

/// Long enough for a redirect, short enough that a token in a log or history is useless.
pub const HANDOFF_TTL_MS: i64 = 60 * 1000;
/// Marks hand-off rows (in `user_agent`) so the sessions list can tell them apart.
pub const HANDOFF_MARKER: &str = "handoff";

/// The row id of a hand-off token. A session row id is a bare SHA-256 hex digest of the
/// cookie, so nothing a browser sends as `oz_session` can ever hash to this.
fn handoff_id(token: &str) -> String {
    format!("handoff:{}", sessions::hash_token(token))
}

/// Stores a hand-off token for `user_id` of `tenant_id`; only its hash is kept.
pub async fn issue_handoff(
    c: &mut AnyConnection,
    token: &str,
    tenant_id: &str,
    user_id: &str,
    ip: &str,
) -> Result<(), StoreError> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO sessions (id_hash, tenant_id, user_id, csrf_token, ip, user_agent, created_at, last_seen_at, expires_at)
         VALUES ($1, $2, $3, '', $4, $5, $6, $6, $7)",
    )
    .bind(handoff_id(token))
    .bind(tenant_id)
    .bind(user_id)
    .bind(ip)
    .bind(HANDOFF_MARKER)
    .bind(now)
    .bind(now + HANDOFF_TTL_MS)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Consumes a hand-off token: the row is deleted whatever the outcome (single use, and a
/// try on the wrong store burns it). Returns the user id when the token was live and
/// issued for `tenant_id`.
pub async fn consume_handoff(
    c: &mut AnyConnection,
    token: &str,
    tenant_id: &str,
) -> Result<Option<String>, StoreError> {
    let row = sqlx::query(
        "DELETE FROM sessions WHERE id_hash = $1 AND user_agent = $2 RETURNING tenant_id, user_id, expires_at",
    )
    .bind(handoff_id(token))
    .bind(HANDOFF_MARKER)
    .fetch_optional(&mut *c)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let t: Option<String> = row.try_get(0)?;
    let user_id: String = row.try_get(1)?;
    let expires_at: i64 = row.try_get(2)?;
    Ok((t.as_deref() == Some(tenant_id) && expires_at > now_ms()).then_some(user_id))
}

pub struct NewStore<'a> {
    /// Already validated (`domain::ids::Slug`).
    pub slug: &'a str,
    pub name: &'a str,
    pub owner_email: &'a str,
    /// Argon2id hash of the owner's password.
    pub password_hash: &'a str,
    pub ip: &'a str,
    pub request_id: Option<&'a str>,
}

/// Tenant + owner + default pricing row + audit entry; call inside one transaction. A taken
/// slug is `StoreError::Conflict` with a pt-BR message.
pub async fn create_store(
    c: &mut AnyConnection,
    s: &NewStore<'_>,
) -> Result<(Tenant, User), StoreError> {
    let t = tenants::create(c, s.slug, s.name, "", "America/Sao_Paulo")
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => StoreError::Conflict(format!(
                "O endereço \"{}\" já está em uso por outra loja; escolha outro.",
                s.slug
            )),
            other => other,
        })?;
    let u = users::create(c, &t.id, s.owner_email, "", s.password_hash, Role::Owner).await?;
    rules::save_pricing(
        c,
        &t.id,
        &PricingRulesRow {
            quote_validity_hours: 48,
            ..Default::default()
        },
    )
    .await?;
    audit::record(
        c,
        &Entry {
            tenant_id: Some(&t.id),
            actor_user_id: Some(&u.id),
            actor_label: &u.email,
            action: "store.signup",
            entity: "tenant",
            entity_id: Some(&t.id),
            before: None,
            after: Some(serde_json::json!({ "slug": t.slug, "owner": u.email, "ip": s.ip })),
            request_id: s.request_id,
        },
    )
    .await?;
    Ok((t, u))
}
