//! The store's catalog items and their aliases.

use domain::catalog::{CatalogItem, Unit};
use domain::money::Centavos;
use sqlx::{AnyConnection, Row};

use crate::db::{new_id, now_ms, Db, StoreError};

/// A catalog item with its database id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredItem {
    pub id: String,
    pub item: CatalogItem,
}

/// Every item of a store (active and inactive), with aliases, ordered by SKU.
pub async fn list(db: &Db, tenant_id: &str) -> Result<Vec<StoredItem>, StoreError> {
    let mut c = db.read().acquire().await?;
    list_conn(&mut c, tenant_id).await
}

pub async fn list_conn(
    c: &mut AnyConnection,
    tenant_id: &str,
) -> Result<Vec<StoredItem>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, sku, name, unit, price_cents, cost_cents, weight_grams, active FROM catalog_items WHERE tenant_id = $1 ORDER BY sku",
    )
    .bind(tenant_id)
    .fetch_all(&mut *c)
    .await?;
    let alias_rows = sqlx::query("SELECT item_id, alias FROM catalog_aliases WHERE tenant_id = $1 ORDER BY item_id, position")
        .bind(tenant_id)
        .fetch_all(&mut *c)
        .await?;
    let mut aliases: std::collections::HashMap<String, Vec<String>> =
        std::collections::HashMap::new();
    for r in alias_rows {
        aliases
            .entry(r.try_get(0)?)
            .or_default()
            .push(r.try_get(1)?);
    }
    rows.iter()
        .map(|r| {
            let id: String = r.try_get(0)?;
            let unit: String = r.try_get(3)?;
            let active: i64 = r.try_get(7)?;
            Ok(StoredItem {
                item: CatalogItem {
                    sku: r.try_get(1)?,
                    name: r.try_get(2)?,
                    unit: unit.parse::<Unit>().map_err(StoreError::Corrupt)?,
                    price: Centavos(r.try_get(4)?),
                    cost: Centavos(r.try_get(5)?),
                    weight_grams: r.try_get(6)?,
                    aliases: aliases.remove(&id).unwrap_or_default(),
                    active: active != 0,
                },
                id,
            })
        })
        .collect()
}

/// Inserts or updates an item by SKU, replacing its aliases. Returns the item id. Saving an
/// item is the owner's word on its price: a typical-list mark (`crate::onboarding`) is cleared.
pub async fn upsert(
    c: &mut AnyConnection,
    tenant_id: &str,
    item: &CatalogItem,
) -> Result<String, StoreError> {
    let now = now_ms();
    let row = sqlx::query(
        "INSERT INTO catalog_items (id, tenant_id, sku, name, unit, price_cents, cost_cents, weight_grams, active, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
         ON CONFLICT (tenant_id, sku) DO UPDATE SET name = excluded.name, unit = excluded.unit, price_cents = excluded.price_cents,
           cost_cents = excluded.cost_cents, weight_grams = excluded.weight_grams, active = excluded.active, updated_at = excluded.updated_at,
           price_review = 0
         RETURNING id",
    )
    .bind(new_id())
    .bind(tenant_id)
    .bind(&item.sku)
    .bind(&item.name)
    .bind(item.unit.code())
    .bind(item.price.0)
    .bind(item.cost.0)
    .bind(item.weight_grams)
    .bind(item.active as i64)
    .bind(now)
    .fetch_one(&mut *c)
    .await?;
    let id: String = row.try_get(0)?;
    sqlx::query("DELETE FROM catalog_aliases WHERE tenant_id = $1 AND item_id = $2")
        .bind(tenant_id)
        .bind(&id)
        .execute(&mut *c)
        .await?;
    for (pos, alias) in item.aliases.iter().enumerate() {
        sqlx::query("INSERT INTO catalog_aliases (id, tenant_id, item_id, alias, position) VALUES ($1, $2, $3, $4, $5)")
            .bind(new_id())
            .bind(tenant_id)
            .bind(&id)
            .bind(alias)
            .bind(pos as i64)
            .execute(&mut *c)
            .await?;
    }
    crate::tenants::bump_catalog_version(c, tenant_id).await?;
    Ok(id)
}

pub async fn set_active(
    c: &mut AnyConnection,
    tenant_id: &str,
    item_id: &str,
    active: bool,
) -> Result<(), StoreError> {
    let res = sqlx::query(
        "UPDATE catalog_items SET active = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant_id)
    .bind(item_id)
    .bind(active as i64)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    if res.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    crate::tenants::bump_catalog_version(c, tenant_id).await
}
