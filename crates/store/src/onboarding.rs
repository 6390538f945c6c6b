//! Onboarding (issue 17 item 1): what a new store has set up, read from the data itself —
//! never a box the owner ticks — and the few writes only onboarding makes (the legal name,
//! the typical-list price marks). Every query filters by `tenant_id`.

use sqlx::{AnyConnection, Row};

use crate::channels::TEST_PNID_PREFIX;
use crate::db::{now_ms, Db, StoreError};
use crate::store_profile::{self, StoreProfile};

/// The facts the checklist is computed from.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub legal_name: String,
    pub profile: StoreProfile,
    /// Active catalog items.
    pub catalog_items: i64,
    /// Catalog items from the typical list whose example price nobody saved yet.
    pub price_review: i64,
    /// The owner saved the payment discounts or added a volume rule at least once (audit log).
    pub rules_reviewed: bool,
    /// The total above which a quote waits for a person (0: every quote waits).
    pub approval_above_cents: i64,
    pub freight_rules: i64,
    /// A number at Meta with a token (not the test channel).
    pub whatsapp_connected: bool,
    /// A quote came out of a conversation on the store's test channel.
    pub test_quote: bool,
}

async fn count(c: &mut AnyConnection, sql: &str, tenant_id: &str) -> Result<i64, StoreError> {
    Ok(sqlx::query(sql)
        .bind(tenant_id)
        .fetch_one(&mut *c)
        .await?
        .try_get(0)?)
}

pub async fn facts(db: &Db, tenant_id: &str) -> Result<Facts, StoreError> {
    let mut c = db.read().acquire().await?;
    let profile = store_profile::get_conn(&mut c, tenant_id).await?;
    let legal_name = legal_name_conn(&mut c, tenant_id).await?;
    let catalog_items = count(
        &mut c,
        "SELECT CAST(COUNT(*) AS BIGINT) FROM catalog_items WHERE tenant_id = $1 AND active = 1",
        tenant_id,
    )
    .await?;
    let price_review = count(
        &mut c,
        "SELECT CAST(COUNT(*) AS BIGINT) FROM catalog_items WHERE tenant_id = $1 AND price_review = 1",
        tenant_id,
    )
    .await?;
    let rules_reviewed = count(
        &mut c,
        "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE tenant_id = $1 AND action IN ('rules.update', 'rules.volume_add')",
        tenant_id,
    )
    .await?
        > 0;
    let approval_above_cents: i64 =
        sqlx::query("SELECT approval_above_cents FROM pricing_rules WHERE tenant_id = $1")
            .bind(tenant_id)
            .fetch_optional(&mut *c)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?
            .unwrap_or(0);
    let freight_rules = count(
        &mut c,
        "SELECT CAST(COUNT(*) AS BIGINT) FROM freight_rules WHERE tenant_id = $1",
        tenant_id,
    )
    .await?;
    let whatsapp_connected = count(
        &mut c,
        &format!(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM channels WHERE tenant_id = $1 \
             AND access_token_enc IS NOT NULL AND phone_number_id NOT LIKE '{TEST_PNID_PREFIX}%'"
        ),
        tenant_id,
    )
    .await?
        > 0;
    let test_quote = count(
        &mut c,
        &format!(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM quotes q \
             JOIN conversations v ON v.id = q.conversation_id AND v.tenant_id = q.tenant_id \
             JOIN channels ch ON ch.id = v.channel_id AND ch.tenant_id = q.tenant_id \
             WHERE q.tenant_id = $1 AND ch.phone_number_id LIKE '{TEST_PNID_PREFIX}%'"
        ),
        tenant_id,
    )
    .await?
        > 0;
    Ok(Facts {
        legal_name,
        profile,
        catalog_items,
        price_review,
        rules_reviewed,
        approval_above_cents,
        freight_rules,
        whatsapp_connected,
        test_quote,
    })
}

async fn legal_name_conn(c: &mut AnyConnection, tenant_id: &str) -> Result<String, StoreError> {
    Ok(sqlx::query("SELECT legal_name FROM tenants WHERE id = $1")
        .bind(tenant_id)
        .fetch_optional(&mut *c)
        .await?
        .ok_or(StoreError::NotFound)?
        .try_get(0)?)
}

/// The store's legal name (razão social); empty until the owner fills it in.
pub async fn legal_name(db: &Db, tenant_id: &str) -> Result<String, StoreError> {
    let mut c = db.read().acquire().await?;
    legal_name_conn(&mut c, tenant_id).await
}

pub async fn set_legal_name(
    c: &mut AnyConnection,
    tenant_id: &str,
    legal_name: &str,
) -> Result<(), StoreError> {
    let done = sqlx::query("UPDATE tenants SET legal_name = $2, updated_at = $3 WHERE id = $1")
        .bind(tenant_id)
        .bind(legal_name)
        .bind(now_ms())
        .execute(&mut *c)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Marks items (by SKU) as carrying an example price the owner should review.
pub async fn mark_price_review(
    c: &mut AnyConnection,
    tenant_id: &str,
    skus: &[String],
) -> Result<(), StoreError> {
    for sku in skus {
        sqlx::query("UPDATE catalog_items SET price_review = 1 WHERE tenant_id = $1 AND sku = $2")
            .bind(tenant_id)
            .bind(sku)
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

/// SKUs of the items still marked for price review, by name.
pub async fn price_review_skus(db: &Db, tenant_id: &str) -> Result<Vec<String>, StoreError> {
    let rows = sqlx::query(
        "SELECT sku FROM catalog_items WHERE tenant_id = $1 AND price_review = 1 ORDER BY name",
    )
    .bind(tenant_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?)
}
