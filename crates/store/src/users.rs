//! People who sign in to a store's dashboard: its owner and attendants.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::db::{new_id, now_ms, Db, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Owner,
    Attendant,
}

impl Role {
    pub fn code(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Attendant => "attendant",
        }
    }

    pub fn label_pt(self) -> &'static str {
        match self {
            Role::Owner => "Dono(a)",
            Role::Attendant => "Atendente",
        }
    }

    pub fn from_code(s: &str) -> Result<Role, StoreError> {
        match s {
            "owner" => Ok(Role::Owner),
            "attendant" => Ok(Role::Attendant),
            other => Err(StoreError::Corrupt(format!("unknown role {other:?}"))),
        }
    }
}

#[derive(Clone)]
pub struct User {
    pub id: String,
    pub tenant_id: String,
    pub email: String,
    pub name: String,
    /// Argon2id PHC string; never shown, never logged.
    pub password_hash: String,
    pub role: Role,
    pub failed_logins: i64,
    pub locked_until: Option<i64>,
    /// The e-mail was confirmed (a link from it was used) at this time; None: not yet.
    pub email_verified_at: Option<i64>,
    /// Two-factor sign-in is on since then (`store::accounts`).
    pub totp_enabled_at: Option<i64>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("tenant_id", &self.tenant_id)
            .field("role", &self.role)
            .field("password_hash", &"[redacted]")
            .finish_non_exhaustive()
    }
}

const COLS: &str = "id, tenant_id, email, name, password_hash, role, failed_logins, locked_until, email_verified_at, totp_enabled_at";

fn from_row(r: &AnyRow) -> Result<User, StoreError> {
    let role: String = r.try_get(5)?;
    Ok(User {
        id: r.try_get(0)?,
        tenant_id: r.try_get(1)?,
        email: r.try_get(2)?,
        name: r.try_get(3)?,
        password_hash: r.try_get(4)?,
        role: Role::from_code(&role)?,
        failed_logins: r.try_get(6)?,
        locked_until: r.try_get(7)?,
        email_verified_at: r.try_get(8)?,
        totp_enabled_at: r.try_get(9)?,
    })
}

/// Emails are compared lower-cased and trimmed.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

pub async fn create(
    c: &mut AnyConnection,
    tenant_id: &str,
    email: &str,
    name: &str,
    password_hash: &str,
    role: Role,
) -> Result<User, StoreError> {
    let now = now_ms();
    // Verified from the start: people are created by an operator (`store create`, seed) or
    // by an invitation link that reached their mailbox. Only a sign-up starts unverified
    // (`signup::create_store` clears it).
    let sql = format!(
        "INSERT INTO users (id, tenant_id, email, name, password_hash, role, created_at, updated_at, email_verified_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7) RETURNING {COLS}"
    );
    let row = sqlx::query(&sql)
        .bind(new_id())
        .bind(tenant_id)
        .bind(normalize_email(email))
        .bind(name)
        .bind(password_hash)
        .bind(role.code())
        .bind(now)
        .fetch_one(&mut *c)
        .await
        .map_err(|e| {
            StoreError::from_unique(e, "já existe um usuário com esse e-mail nesta loja")
        })?;
    from_row(&row)
}

pub async fn by_email(db: &Db, tenant_id: &str, email: &str) -> Result<Option<User>, StoreError> {
    let sql = format!("SELECT {COLS} FROM users WHERE tenant_id = $1 AND email = $2");
    let row = sqlx::query(&sql)
        .bind(tenant_id)
        .bind(normalize_email(email))
        .fetch_optional(db.read())
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn by_id(db: &Db, tenant_id: &str, id: &str) -> Result<Option<User>, StoreError> {
    let sql = format!("SELECT {COLS} FROM users WHERE tenant_id = $1 AND id = $2");
    let row = sqlx::query(&sql)
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(db.read())
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Users with this email in any store (central login finds the store this way).
pub async fn stores_for_email(db: &Db, email: &str) -> Result<Vec<(User, String)>, StoreError> {
    let sql = "SELECT u.id, u.tenant_id, u.email, u.name, u.password_hash, u.role, u.failed_logins, u.locked_until,
         u.email_verified_at, u.totp_enabled_at, t.slug
         FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.email = $1 ORDER BY t.slug";
    let rows = sqlx::query(sql)
        .bind(normalize_email(email))
        .fetch_all(db.read())
        .await?;
    rows.iter()
        .map(|r| Ok((from_row(r)?, r.try_get::<String, _>(10)?)))
        .collect()
}

pub async fn list(db: &Db, tenant_id: &str) -> Result<Vec<User>, StoreError> {
    let sql = format!("SELECT {COLS} FROM users WHERE tenant_id = $1 ORDER BY role DESC, email");
    let rows = sqlx::query(&sql)
        .bind(tenant_id)
        .fetch_all(db.read())
        .await?;
    rows.iter().map(from_row).collect()
}

pub async fn set_password(
    c: &mut AnyConnection,
    tenant_id: &str,
    user_id: &str,
    password_hash: &str,
) -> Result<(), StoreError> {
    let res = sqlx::query(
        "UPDATE users SET password_hash = $3, failed_logins = 0, locked_until = NULL, updated_at = $4 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant_id)
    .bind(user_id)
    .bind(password_hash)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    if res.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Changes a person's role (the caller checks the store keeps an owner, in the same transaction).
pub async fn set_role(
    c: &mut AnyConnection,
    tenant_id: &str,
    user_id: &str,
    role: Role,
) -> Result<(), StoreError> {
    let res =
        sqlx::query("UPDATE users SET role = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2")
            .bind(tenant_id)
            .bind(user_id)
            .bind(role.code())
            .bind(now_ms())
            .execute(&mut *c)
            .await?;
    if res.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn count_owners(c: &mut AnyConnection, tenant_id: &str) -> Result<i64, StoreError> {
    Ok(sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM users WHERE tenant_id = $1 AND role = 'owner'",
    )
    .bind(tenant_id)
    .fetch_one(&mut *c)
    .await?
    .try_get(0)?)
}

/// The e-mail is not confirmed yet (a sign-up: anyone can type any address).
pub async fn mark_unverified(
    c: &mut AnyConnection,
    tenant_id: &str,
    user_id: &str,
) -> Result<User, StoreError> {
    let sql = format!(
        "UPDATE users SET email_verified_at = NULL WHERE tenant_id = $1 AND id = $2 RETURNING {COLS}"
    );
    let row = sqlx::query(&sql)
        .bind(tenant_id)
        .bind(user_id)
        .fetch_optional(&mut *c)
        .await?
        .ok_or(StoreError::NotFound)?;
    from_row(&row)
}
