//! Account security: single-use links (password reset, invitation, e-mail verification, the
//! second step of a two-factor sign-in), e-mail verification, two-factor (TOTP) settings and
//! recovery codes (migration 0021; docs/security.md, docs/email.md).
//!
//! A link's token is random (256 bits) and only its SHA-256 is stored, like a session: a
//! leaked database dump holds no usable link. Using a link is one `UPDATE … WHERE used_at IS
//! NULL AND revoked_at IS NULL AND expires_at > now RETURNING`, so two clicks at once cannot
//! both use it.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::db::{new_id, now_ms, Db, StoreError};
use crate::sessions::hash_token;
use crate::users::Role;

domain::stored_text_enum! {
    /// `account_tokens.purpose`.
    pub enum Purpose("account token purpose") {
        /// Sets a new password (e-mailed; [`RESET_TTL_MS`]).
        PasswordReset = "password_reset",
        /// Creates a team member with the invite's e-mail and role ([`INVITE_TTL_MS`]).
        Invite = "invite",
        /// Confirms the e-mail of an account ([`VERIFY_TTL_MS`]).
        VerifyEmail = "verify_email",
        /// The password was right; the second factor is next ([`MFA_TTL_MS`]). Bound to the
        /// browser: `email` holds the SHA-256 of a cookie only that browser has.
        MfaPending = "mfa_pending",
    }
}

pub const RESET_TTL_MS: i64 = 60 * 60 * 1000;
pub const INVITE_TTL_MS: i64 = 7 * 24 * 60 * 60 * 1000;
pub const VERIFY_TTL_MS: i64 = 7 * 24 * 60 * 60 * 1000;
pub const MFA_TTL_MS: i64 = 5 * 60 * 1000;

/// A stored link (its token is never stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountToken {
    /// SHA-256 of the token: what the owner's "revoke" button names.
    pub id_hash: String,
    pub purpose: Purpose,
    pub tenant_id: String,
    pub user_id: Option<String>,
    pub email: String,
    pub name: String,
    pub role: Option<Role>,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

const COLS: &str =
    "id_hash, purpose, tenant_id, user_id, email, name, role, created_by, created_at, expires_at";

fn from_row(r: &AnyRow) -> Result<AccountToken, StoreError> {
    let purpose: String = r.try_get(1)?;
    let role: Option<String> = r.try_get(6)?;
    Ok(AccountToken {
        id_hash: r.try_get(0)?,
        purpose: purpose
            .parse()
            .map_err(|e| StoreError::Corrupt(format!("{e}")))?,
        tenant_id: r.try_get(2)?,
        user_id: r.try_get(3)?,
        email: r.try_get(4)?,
        name: r.try_get(5)?,
        role: role.as_deref().map(Role::from_code).transpose()?,
        created_by: r.try_get(7)?,
        created_at: r.try_get(8)?,
        expires_at: r.try_get(9)?,
    })
}

pub struct NewToken<'a> {
    pub purpose: Purpose,
    /// The random token (only its hash is stored).
    pub token: &'a str,
    pub tenant_id: &'a str,
    pub user_id: Option<&'a str>,
    pub email: &'a str,
    pub name: &'a str,
    pub role: Option<Role>,
    pub created_by: Option<&'a str>,
    pub ttl_ms: i64,
}

/// Stores a link. A password reset or a verification link replaces the user's earlier ones of
/// the same purpose (a later reset invalidates an earlier e-mail); an invitation replaces an
/// open invitation of the same e-mail in the store.
pub async fn issue(c: &mut AnyConnection, t: &NewToken<'_>) -> Result<(), StoreError> {
    let now = now_ms();
    match (t.purpose, t.user_id) {
        (Purpose::Invite, _) => {
            sqlx::query(
                "UPDATE account_tokens SET revoked_at = $4 WHERE tenant_id = $1 AND purpose = $2 AND email = $3
                 AND used_at IS NULL AND revoked_at IS NULL",
            )
            .bind(t.tenant_id)
            .bind(t.purpose.as_str())
            .bind(crate::users::normalize_email(t.email))
            .bind(now)
            .execute(&mut *c)
            .await?;
        }
        (_, Some(user)) => {
            sqlx::query(
                "UPDATE account_tokens SET revoked_at = $4 WHERE tenant_id = $1 AND purpose = $2 AND user_id = $3
                 AND used_at IS NULL AND revoked_at IS NULL",
            )
            .bind(t.tenant_id)
            .bind(t.purpose.as_str())
            .bind(user)
            .bind(now)
            .execute(&mut *c)
            .await?;
        }
        _ => {}
    }
    sqlx::query(
        "INSERT INTO account_tokens (id_hash, purpose, tenant_id, user_id, email, name, role, created_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(hash_token(t.token))
    .bind(t.purpose.as_str())
    .bind(t.tenant_id)
    .bind(t.user_id)
    .bind(if t.purpose == Purpose::MfaPending {
        t.email.to_string()
    } else {
        crate::users::normalize_email(t.email)
    })
    .bind(t.name)
    .bind(t.role.map(Role::code))
    .bind(t.created_by)
    .bind(now)
    .bind(now + t.ttl_ms)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// The live link of this token in this store (not used, not revoked, not expired), without
/// using it: the page that asks for the new password shows only for a live link.
pub async fn peek(
    db: &Db,
    purpose: Purpose,
    tenant_id: &str,
    token: &str,
) -> Result<Option<AccountToken>, StoreError> {
    let sql = format!(
        "SELECT {COLS} FROM account_tokens WHERE id_hash = $1 AND purpose = $2 AND tenant_id = $3
         AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $4"
    );
    let row = sqlx::query(&sql)
        .bind(hash_token(token))
        .bind(purpose.as_str())
        .bind(tenant_id)
        .bind(now_ms())
        .fetch_optional(db.read())
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Uses a link: marks it used and returns it, once. `None` when unknown, of another store or
/// purpose, used, revoked or expired.
pub async fn consume(
    c: &mut AnyConnection,
    purpose: Purpose,
    tenant_id: &str,
    token: &str,
) -> Result<Option<AccountToken>, StoreError> {
    let now = now_ms();
    let sql = format!(
        "UPDATE account_tokens SET used_at = $4 WHERE id_hash = $1 AND purpose = $2 AND tenant_id = $3
         AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $4 RETURNING {COLS}"
    );
    let row = sqlx::query(&sql)
        .bind(hash_token(token))
        .bind(purpose.as_str())
        .bind(tenant_id)
        .bind(now)
        .fetch_optional(&mut *c)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Links of this purpose issued for `user_id` since `since_ms` (a cap on reset e-mails).
pub async fn issued_since(
    db: &Db,
    purpose: Purpose,
    user_id: &str,
    since_ms: i64,
) -> Result<i64, StoreError> {
    Ok(sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM account_tokens WHERE purpose = $1 AND user_id = $2 AND created_at >= $3",
    )
    .bind(purpose.as_str())
    .bind(user_id)
    .bind(since_ms)
    .fetch_one(db.read())
    .await?
    .try_get(0)?)
}

/// Every open link of `user_id` with this purpose is revoked (e.g. a password change ends the
/// reset links sent before it).
pub async fn revoke_for_user(
    c: &mut AnyConnection,
    purpose: Purpose,
    user_id: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE account_tokens SET revoked_at = $3 WHERE purpose = $1 AND user_id = $2 AND used_at IS NULL AND revoked_at IS NULL",
    )
    .bind(purpose.as_str())
    .bind(user_id)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// The store's open invitations (not used, not revoked, not expired), newest first.
pub async fn pending_invites(db: &Db, tenant_id: &str) -> Result<Vec<AccountToken>, StoreError> {
    let sql = format!(
        "SELECT {COLS} FROM account_tokens WHERE tenant_id = $1 AND purpose = 'invite'
         AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at DESC"
    );
    let rows = sqlx::query(&sql)
        .bind(tenant_id)
        .bind(now_ms())
        .fetch_all(db.read())
        .await?;
    rows.iter().map(from_row).collect()
}

/// Revokes one open invitation of this store; the invitation when it was open.
pub async fn revoke_invite(
    c: &mut AnyConnection,
    tenant_id: &str,
    id_hash: &str,
) -> Result<Option<AccountToken>, StoreError> {
    let sql = format!(
        "UPDATE account_tokens SET revoked_at = $3 WHERE tenant_id = $1 AND id_hash = $2 AND purpose = 'invite'
         AND used_at IS NULL AND revoked_at IS NULL RETURNING {COLS}"
    );
    let row = sqlx::query(&sql)
        .bind(tenant_id)
        .bind(id_hash)
        .bind(now_ms())
        .fetch_optional(&mut *c)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The account's security state (what [`crate::users::User`] does not carry).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Security {
    pub email_verified_at: Option<i64>,
    /// The TOTP secret, encrypted with the token cipher (`store::crypto`); set during
    /// enrolment, before it is confirmed.
    pub totp_secret_enc: Option<String>,
    /// Two-factor is on since then (the first code was confirmed).
    pub totp_enabled_at: Option<i64>,
    /// The last TOTP time step accepted: a code is never accepted twice.
    pub totp_last_step: Option<i64>,
}

impl std::fmt::Debug for Security {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Security")
            .field("email_verified_at", &self.email_verified_at)
            .field("totp_enabled_at", &self.totp_enabled_at)
            .finish_non_exhaustive()
    }
}

pub async fn security(db: &Db, user_id: &str) -> Result<Security, StoreError> {
    let row = sqlx::query(
        "SELECT email_verified_at, totp_secret_enc, totp_enabled_at, totp_last_step FROM users WHERE id = $1",
    )
    .bind(user_id)
    .fetch_optional(db.read())
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok(Security {
        email_verified_at: row.try_get(0)?,
        totp_secret_enc: row.try_get(1)?,
        totp_enabled_at: row.try_get(2)?,
        totp_last_step: row.try_get(3)?,
    })
}

pub async fn mark_email_verified(
    c: &mut AnyConnection,
    tenant_id: &str,
    user_id: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $3) WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant_id)
    .bind(user_id)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Starts (or restarts) enrolment: a new secret, not yet enabled.
pub async fn set_totp_pending(
    c: &mut AnyConnection,
    tenant_id: &str,
    user_id: &str,
    secret_enc: &str,
) -> Result<(), StoreError> {
    let res = sqlx::query(
        "UPDATE users SET totp_secret_enc = $3, totp_enabled_at = NULL, totp_last_step = NULL, updated_at = $4
         WHERE tenant_id = $1 AND id = $2 AND totp_enabled_at IS NULL",
    )
    .bind(tenant_id)
    .bind(user_id)
    .bind(secret_enc)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    if res.rows_affected() == 0 {
        return Err(StoreError::Conflict(
            "a verificação em duas etapas já está ativa".into(),
        ));
    }
    Ok(())
}

/// Turns two-factor on with the enrolment's secret and stores the recovery codes' hashes
/// (replacing any earlier ones).
pub async fn enable_totp(
    c: &mut AnyConnection,
    tenant_id: &str,
    user_id: &str,
    step: i64,
    recovery_hashes: &[String],
) -> Result<(), StoreError> {
    let now = now_ms();
    let res = sqlx::query(
        "UPDATE users SET totp_enabled_at = $3, totp_last_step = $4, updated_at = $3
         WHERE tenant_id = $1 AND id = $2 AND totp_secret_enc IS NOT NULL AND totp_enabled_at IS NULL",
    )
    .bind(tenant_id)
    .bind(user_id)
    .bind(now)
    .bind(step)
    .execute(&mut *c)
    .await?;
    if res.rows_affected() == 0 {
        return Err(StoreError::Conflict(
            "a verificação em duas etapas já está ativa ou não foi iniciada".into(),
        ));
    }
    replace_recovery_codes(c, user_id, recovery_hashes).await
}

pub async fn disable_totp(
    c: &mut AnyConnection,
    tenant_id: &str,
    user_id: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE users SET totp_secret_enc = NULL, totp_enabled_at = NULL, totp_last_step = NULL, updated_at = $3
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant_id)
    .bind(user_id)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Records `step` as used when it is newer than the last accepted one; false when that code
/// (or a later one) was already used: a code is accepted once.
pub async fn accept_totp_step(
    c: &mut AnyConnection,
    user_id: &str,
    step: i64,
) -> Result<bool, StoreError> {
    let res = sqlx::query(
        "UPDATE users SET totp_last_step = $2 WHERE id = $1 AND totp_enabled_at IS NOT NULL
         AND (totp_last_step IS NULL OR totp_last_step < $2)",
    )
    .bind(user_id)
    .bind(step)
    .execute(&mut *c)
    .await?;
    Ok(res.rows_affected() == 1)
}

pub async fn replace_recovery_codes(
    c: &mut AnyConnection,
    user_id: &str,
    hashes: &[String],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *c)
        .await?;
    let now = now_ms();
    for h in hashes {
        sqlx::query(
            "INSERT INTO recovery_codes (id, user_id, code_hash, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(new_id())
        .bind(user_id)
        .bind(h)
        .bind(now)
        .execute(&mut *c)
        .await?;
    }
    Ok(())
}

/// Uses one recovery code (by its hash): true once, false ever after or when unknown.
pub async fn use_recovery_code(
    c: &mut AnyConnection,
    user_id: &str,
    code_hash: &str,
) -> Result<bool, StoreError> {
    let res = sqlx::query(
        "UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
    )
    .bind(user_id)
    .bind(code_hash)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    Ok(res.rows_affected() == 1)
}

pub async fn recovery_codes_left(db: &Db, user_id: &str) -> Result<i64, StoreError> {
    Ok(sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(user_id)
    .fetch_one(db.read())
    .await?
    .try_get(0)?)
}

/// Whether the store requires two-factor of every member.
pub async fn requires_2fa(db: &Db, tenant_id: &str) -> Result<bool, StoreError> {
    let row = sqlx::query("SELECT require_2fa FROM tenants WHERE id = $1")
        .bind(tenant_id)
        .fetch_optional(db.read())
        .await?;
    Ok(row
        .map(|r| r.try_get::<i64, _>(0))
        .transpose()?
        .unwrap_or(0)
        != 0)
}

pub async fn set_requires_2fa(
    c: &mut AnyConnection,
    tenant_id: &str,
    on: bool,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE tenants SET require_2fa = $2 WHERE id = $1")
        .bind(tenant_id)
        .bind(i64::from(on))
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// E-mails of the store's owners (where the store's notices go).
pub async fn owner_emails(
    c: &mut AnyConnection,
    tenant_id: &str,
) -> Result<Vec<String>, StoreError> {
    let rows = sqlx::query(
        "SELECT email FROM users WHERE tenant_id = $1 AND role = 'owner' ORDER BY email",
    )
    .bind(tenant_id)
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|r| r.try_get::<String, _>(0).map_err(StoreError::from))
        .collect()
}

/// Whether two-factor is on for `user_id`, inside a transaction.
pub async fn totp_enabled(c: &mut AnyConnection, user_id: &str) -> Result<bool, StoreError> {
    let row = sqlx::query("SELECT totp_enabled_at FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(&mut *c)
        .await?;
    Ok(row
        .map(|r| r.try_get::<Option<i64>, _>(0))
        .transpose()?
        .flatten()
        .is_some())
}

/// A store's name, slug and time zone, inside a transaction (for the notices it is sent).
pub async fn tenant_names(
    c: &mut AnyConnection,
    tenant_id: &str,
) -> Result<Option<(String, String, String)>, StoreError> {
    let row = sqlx::query("SELECT name, slug, timezone FROM tenants WHERE id = $1")
        .bind(tenant_id)
        .fetch_optional(&mut *c)
        .await?;
    row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .transpose()
}

/// Locks the user's row (concurrent issuers for one user wait here, on both engines) and
/// counts the links of `purpose` issued for the user since `since_ms`.
pub async fn lock_and_count_since(
    c: &mut AnyConnection,
    purpose: Purpose,
    user_id: &str,
    since_ms: i64,
) -> Result<i64, StoreError> {
    sqlx::query("UPDATE users SET updated_at = updated_at WHERE id = $1")
        .bind(user_id)
        .execute(&mut *c)
        .await?;
    Ok(sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM account_tokens WHERE purpose = $1 AND user_id = $2 AND created_at >= $3",
    )
    .bind(purpose.as_str())
    .bind(user_id)
    .bind(since_ms)
    .fetch_one(&mut *c)
    .await?
    .try_get(0)?)
}
