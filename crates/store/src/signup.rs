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

/// Long enough for the hand-off's redirects, short enough that a token in a log or history
/// is useless.
pub const HANDOFF_TTL_MS: i64 = 60 * 1000;
/// Marks hand-off rows (in `user_agent`) so the sessions list can tell them apart.
pub const HANDOFF_MARKER: &str = "handoff";

/// The two legs of a hand-off (web::public::login explains the flow). Each leg's token is
/// bound to a cookie of one host of the browser that started it; the row keeps the SHA-256
/// of that cookie (`binding`), in the `csrf_token` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leg {
    /// Issued on `BASE` after the password check; bound to the apex's cookie.
    Central,
    /// Issued on `BASE` once the apex cookie was seen; bound to the store host's cookie.
    Store,
}

impl Leg {
    fn prefix(self) -> &'static str {
        match self {
            Leg::Central => "handoff:",
            Leg::Store => "handoff2:",
        }
    }
}

/// The row id of a hand-off token. A session row id is a bare SHA-256 hex digest of the
/// cookie, so nothing a browser sends as `oz_session` can ever hash to this.
fn handoff_id(leg: Leg, token: &str) -> String {
    format!("{}{}", leg.prefix(), sessions::hash_token(token))
}

/// A live hand-off token, consumed.
#[derive(Debug, Clone)]
pub struct Handoff {
    pub tenant_id: String,
    pub user_id: String,
    /// SHA-256 (hex) of the cookie the token is bound to.
    pub binding: String,
}

/// Stores a hand-off token for `user_id` of `tenant_id`; only its hash is kept.
pub async fn issue_handoff(
    c: &mut AnyConnection,
    leg: Leg,
    token: &str,
    tenant_id: &str,
    user_id: &str,
    ip: &str,
    binding: &str,
) -> Result<(), StoreError> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO sessions (id_hash, tenant_id, user_id, csrf_token, ip, user_agent, created_at, last_seen_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)",
    )
    .bind(handoff_id(leg, token))
    .bind(tenant_id)
    .bind(user_id)
    .bind(binding)
    .bind(ip)
    .bind(HANDOFF_MARKER)
    .bind(now)
    .bind(now + HANDOFF_TTL_MS)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Consumes a hand-off token: the row is deleted whatever the outcome (single use, and a
/// try on the wrong store or from the wrong browser burns it). `None` when it is unknown
/// or expired; the caller checks the store and the binding.
pub async fn consume_handoff(
    c: &mut AnyConnection,
    leg: Leg,
    token: &str,
) -> Result<Option<Handoff>, StoreError> {
    let row = sqlx::query(
        "DELETE FROM sessions WHERE id_hash = $1 AND user_agent = $2 RETURNING tenant_id, user_id, expires_at, csrf_token",
    )
    .bind(handoff_id(leg, token))
    .bind(HANDOFF_MARKER)
    .fetch_optional(&mut *c)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let t: Option<String> = row.try_get(0)?;
    let user_id: String = row.try_get(1)?;
    let expires_at: i64 = row.try_get(2)?;
    let binding: String = row.try_get(3)?;
    Ok(match t {
        Some(tenant_id) if expires_at > now_ms() => Some(Handoff {
            tenant_id,
            user_id,
            binding,
        }),
        _ => None,
    })
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
    let u = users::mark_unverified(c, &t.id, &u.id).await?;
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
