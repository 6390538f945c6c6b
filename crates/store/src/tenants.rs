//! Stores (tenants): the unit of isolation. Every tenant-scoped query elsewhere filters by
//! `tenant_id`, which comes from the host and the session, never from user input.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::db::{new_id, now_ms, Db, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub city: String,
    pub timezone: String,
    pub status: String,
    pub subscription_status: String,
    pub catalog_version: i64,
    pub created_at: i64,
    /// Bumped by every write to the store's rules or templates (migration 0012's triggers):
    /// the worker's cached copy is current while this is unchanged.
    pub settings_version: i64,
    /// When a past_due subscription's grace period ends (unix ms; migration 0018): with
    /// `subscription_status`, what [`crate::billing::gated`] decides on.
    pub subscription_grace_until: Option<i64>,
    /// The switches and follow-up settings a quote step reads (migrations 0009, 0013, 0014):
    /// part of the row the worker reads once per job anyway, so sending a quote asks the
    /// database nothing more about the store (three reads per quote before).
    pub quote_pdf: bool,
    pub quote_link: bool,
    pub follow_ups: crate::follow_ups::FollowUpSettings,
}

const COLS: &str =
    "id, slug, name, city, timezone, status, subscription_status, catalog_version, created_at, settings_version, subscription_grace_until, quote_pdf, quote_link, reminder_hours_before_expiry, follow_up_after_hours";

fn from_row(r: &AnyRow) -> Result<Tenant, sqlx::Error> {
    Ok(Tenant {
        id: r.try_get(0)?,
        slug: r.try_get(1)?,
        name: r.try_get(2)?,
        city: r.try_get(3)?,
        timezone: r.try_get(4)?,
        status: r.try_get(5)?,
        subscription_status: r.try_get(6)?,
        catalog_version: r.try_get(7)?,
        created_at: r.try_get(8)?,
        settings_version: r.try_get(9)?,
        subscription_grace_until: r.try_get(10)?,
        quote_pdf: r.try_get::<i64, _>(11)? != 0,
        quote_link: r.try_get::<i64, _>(12)? != 0,
        follow_ups: crate::follow_ups::FollowUpSettings {
            reminder_hours_before_expiry: r.try_get(13)?,
            follow_up_after_hours: r.try_get(14)?,
        },
    })
}

pub async fn create(
    c: &mut AnyConnection,
    slug: &str,
    name: &str,
    city: &str,
    timezone: &str,
) -> Result<Tenant, StoreError> {
    let now = now_ms();
    let sql = format!(
        "INSERT INTO tenants (id, slug, name, city, timezone, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING {COLS}"
    );
    let row = sqlx::query(&sql)
        .bind(new_id())
        .bind(slug)
        .bind(name)
        .bind(city)
        .bind(timezone)
        .bind(now)
        .fetch_one(&mut *c)
        .await
        .map_err(|e| StoreError::from_unique(e, "já existe uma loja com esse endereço"))?;
    Ok(from_row(&row)?)
}

pub async fn by_slug(db: &Db, slug: &str) -> Result<Option<Tenant>, StoreError> {
    let sql = format!("SELECT {COLS} FROM tenants WHERE slug = $1");
    let row = sqlx::query(&sql)
        .bind(slug)
        .fetch_optional(db.read())
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

pub async fn by_id(db: &Db, id: &str) -> Result<Option<Tenant>, StoreError> {
    let sql = format!("SELECT {COLS} FROM tenants WHERE id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(db.read()).await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

pub async fn by_id_conn(c: &mut AnyConnection, id: &str) -> Result<Tenant, StoreError> {
    let sql = format!("SELECT {COLS} FROM tenants WHERE id = $1");
    let row = sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut *c)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(from_row(&row)?)
}

pub async fn list(db: &Db) -> Result<Vec<Tenant>, StoreError> {
    let sql = format!("SELECT {COLS} FROM tenants ORDER BY created_at");
    let rows = sqlx::query(&sql).fetch_all(db.read()).await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// Called after any catalog change so cached understanding indexes are rebuilt.
pub async fn bump_catalog_version(
    c: &mut AnyConnection,
    tenant_id: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE tenants SET catalog_version = catalog_version + 1, updated_at = $2 WHERE id = $1",
    )
    .bind(tenant_id)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Whether billing stops this store's automatic quotes now ([`crate::billing::gated`]).
impl Tenant {
    pub fn subscription_gated(&self) -> bool {
        crate::billing::gated(
            &self.subscription_status,
            self.subscription_grace_until,
            now_ms(),
        )
    }
}

pub async fn set_subscription_status(
    c: &mut AnyConnection,
    tenant_id: &str,
    status: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE tenants SET subscription_status = $2, updated_at = $3 WHERE id = $1")
        .bind(tenant_id)
        .bind(status)
        .bind(now_ms())
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// The largest quote total, in centavos, an attendant of the store may approve; `None` when
/// the owner set no limit (owners are never limited).
pub async fn attendant_approval_limit(
    c: &mut AnyConnection,
    tenant_id: &str,
) -> Result<Option<i64>, StoreError> {
    let row = sqlx::query("SELECT attendant_approval_limit_cents FROM tenants WHERE id = $1")
        .bind(tenant_id)
        .fetch_optional(&mut *c)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(row.try_get::<Option<i64>, _>(0)?)
}

/// Sets (or with `None` removes) the attendants' approval limit.
pub async fn set_attendant_approval_limit(
    c: &mut AnyConnection,
    tenant_id: &str,
    cents: Option<i64>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE tenants SET attendant_approval_limit_cents = $2, updated_at = $3 WHERE id = $1",
    )
    .bind(tenant_id)
    .bind(cents)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    Ok(())
}
