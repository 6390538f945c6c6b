//! A store's pricing rules, volume discounts and freight rules, as stored. The worker turns
//! them into `domain::pricing::StoreRules`.

use sqlx::{AnyConnection, Row};

use crate::db::{new_id, now_ms, Db, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PricingRulesRow {
    pub pix_discount_bp: i64,
    pub cartao_discount_bp: i64,
    pub boleto_discount_bp: i64,
    pub dinheiro_discount_bp: i64,
    pub min_margin_bp: i64,
    pub approval_above_cents: i64,
    pub quote_validity_hours: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeDiscountRow {
    pub id: String,
    /// None = applies to every item (global).
    pub sku: Option<String>,
    pub min_quantity_milli: i64,
    pub discount_bp: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FreightZoneRow {
    Bairros(Vec<String>),
    CepRange { from: i64, to: i64 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FreightRuleRow {
    pub id: String,
    pub position: i64,
    pub label: String,
    pub zone: FreightZoneRow,
    pub base_cents: i64,
    pub per_kg_cents: i64,
    pub free_above_cents: Option<i64>,
}

/// Everything pricing needs for one store.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RuleSet {
    pub pricing: PricingRulesRow,
    pub volume: Vec<VolumeDiscountRow>,
    pub freight: Vec<FreightRuleRow>,
}

pub async fn load(db: &Db, tenant_id: &str) -> Result<RuleSet, StoreError> {
    let mut c = db.read().acquire().await?;
    load_conn(&mut c, tenant_id).await
}

pub async fn load_conn(c: &mut AnyConnection, tenant_id: &str) -> Result<RuleSet, StoreError> {
    let pricing = match sqlx::query(
        "SELECT pix_discount_bp, cartao_discount_bp, boleto_discount_bp, dinheiro_discount_bp, min_margin_bp, approval_above_cents, quote_validity_hours
         FROM pricing_rules WHERE tenant_id = $1",
    )
    .bind(tenant_id)
    .fetch_optional(&mut *c)
    .await?
    {
        Some(r) => PricingRulesRow {
            pix_discount_bp: r.try_get(0)?,
            cartao_discount_bp: r.try_get(1)?,
            boleto_discount_bp: r.try_get(2)?,
            dinheiro_discount_bp: r.try_get(3)?,
            min_margin_bp: r.try_get(4)?,
            approval_above_cents: r.try_get(5)?,
            quote_validity_hours: r.try_get(6)?,
        },
        None => PricingRulesRow { quote_validity_hours: 48, ..Default::default() },
    };
    let volume = sqlx::query(
        "SELECT id, sku, min_quantity_milli, discount_bp FROM volume_discounts WHERE tenant_id = $1 ORDER BY sku, min_quantity_milli",
    )
    .bind(tenant_id)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| {
        Ok(VolumeDiscountRow {
            id: r.try_get(0)?,
            sku: r.try_get(1)?,
            min_quantity_milli: r.try_get(2)?,
            discount_bp: r.try_get(3)?,
        })
    })
    .collect::<Result<Vec<_>, StoreError>>()?;
    let freight = sqlx::query(
        "SELECT id, position, label, kind, bairros_json, cep_from, cep_to, base_cents, per_kg_cents, free_above_cents
         FROM freight_rules WHERE tenant_id = $1 ORDER BY position, id",
    )
    .bind(tenant_id)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| {
        let kind: String = r.try_get(3)?;
        let zone = match kind.as_str() {
            "bairros" => {
                let json: String = r.try_get(4)?;
                FreightZoneRow::Bairros(serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(e.to_string()))?)
            }
            "cep_range" => FreightZoneRow::CepRange {
                from: r.try_get::<Option<i64>, _>(5)?.unwrap_or(0),
                to: r.try_get::<Option<i64>, _>(6)?.unwrap_or(0),
            },
            other => return Err(StoreError::Corrupt(format!("unknown freight rule kind {other:?}"))),
        };
        Ok(FreightRuleRow {
            id: r.try_get(0)?,
            position: r.try_get(1)?,
            label: r.try_get(2)?,
            zone,
            base_cents: r.try_get(7)?,
            per_kg_cents: r.try_get(8)?,
            free_above_cents: r.try_get(9)?,
        })
    })
    .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(RuleSet {
        pricing,
        volume,
        freight,
    })
}

pub async fn save_pricing(
    c: &mut AnyConnection,
    tenant_id: &str,
    p: &PricingRulesRow,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO pricing_rules (tenant_id, pix_discount_bp, cartao_discount_bp, boleto_discount_bp, dinheiro_discount_bp, min_margin_bp,
           approval_above_cents, quote_validity_hours, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (tenant_id) DO UPDATE SET pix_discount_bp = excluded.pix_discount_bp, cartao_discount_bp = excluded.cartao_discount_bp,
           boleto_discount_bp = excluded.boleto_discount_bp, dinheiro_discount_bp = excluded.dinheiro_discount_bp,
           min_margin_bp = excluded.min_margin_bp, approval_above_cents = excluded.approval_above_cents,
           quote_validity_hours = excluded.quote_validity_hours, updated_at = excluded.updated_at",
    )
    .bind(tenant_id)
    .bind(p.pix_discount_bp)
    .bind(p.cartao_discount_bp)
    .bind(p.boleto_discount_bp)
    .bind(p.dinheiro_discount_bp)
    .bind(p.min_margin_bp)
    .bind(p.approval_above_cents)
    .bind(p.quote_validity_hours)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub async fn add_volume_discount(
    c: &mut AnyConnection,
    tenant_id: &str,
    sku: Option<&str>,
    min_quantity_milli: i64,
    discount_bp: i64,
) -> Result<String, StoreError> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO volume_discounts (id, tenant_id, sku, min_quantity_milli, discount_bp, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(tenant_id)
    .bind(sku)
    .bind(min_quantity_milli)
    .bind(discount_bp)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    Ok(id)
}

pub async fn delete_volume_discount(
    c: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
) -> Result<(), StoreError> {
    let res = sqlx::query("DELETE FROM volume_discounts WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .execute(&mut *c)
        .await?;
    if res.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn add_freight_rule(
    c: &mut AnyConnection,
    tenant_id: &str,
    rule: &FreightRuleRow,
) -> Result<String, StoreError> {
    let id = new_id();
    let (kind, bairros, from, to) = match &rule.zone {
        FreightZoneRow::Bairros(b) => (
            "bairros",
            serde_json::to_string(b).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            None,
            None,
        ),
        FreightZoneRow::CepRange { from, to } => {
            ("cep_range", "[]".to_string(), Some(*from), Some(*to))
        }
    };
    sqlx::query(
        "INSERT INTO freight_rules (id, tenant_id, position, label, kind, bairros_json, cep_from, cep_to, base_cents, per_kg_cents, free_above_cents, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&id)
    .bind(tenant_id)
    .bind(rule.position)
    .bind(&rule.label)
    .bind(kind)
    .bind(bairros)
    .bind(from)
    .bind(to)
    .bind(rule.base_cents)
    .bind(rule.per_kg_cents)
    .bind(rule.free_above_cents)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    Ok(id)
}

/// Changes a freight rule's name, zone and values; its place in the order stays (issue 12
/// item 11: rules could be deleted and re-added, not edited).
pub async fn update_freight_rule(
    c: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    rule: &FreightRuleRow,
) -> Result<(), StoreError> {
    let (kind, bairros, from, to) = match &rule.zone {
        FreightZoneRow::Bairros(b) => (
            "bairros",
            serde_json::to_string(b).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            None,
            None,
        ),
        FreightZoneRow::CepRange { from, to } => {
            ("cep_range", "[]".to_string(), Some(*from), Some(*to))
        }
    };
    let res = sqlx::query(
        "UPDATE freight_rules SET label = $3, kind = $4, bairros_json = $5, cep_from = $6, cep_to = $7,
                base_cents = $8, per_kg_cents = $9, free_above_cents = $10
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(&rule.label)
    .bind(kind)
    .bind(bairros)
    .bind(from)
    .bind(to)
    .bind(rule.base_cents)
    .bind(rule.per_kg_cents)
    .bind(rule.free_above_cents)
    .execute(&mut *c)
    .await?;
    if res.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn delete_freight_rule(
    c: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
) -> Result<(), StoreError> {
    let res = sqlx::query("DELETE FROM freight_rules WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .execute(&mut *c)
        .await?;
    if res.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Moves a freight rule in the evaluation order (first match wins).
pub async fn set_freight_position(
    c: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    position: i64,
) -> Result<(), StoreError> {
    let res =
        sqlx::query("UPDATE freight_rules SET position = $3 WHERE tenant_id = $1 AND id = $2")
            .bind(tenant_id)
            .bind(id)
            .bind(position)
            .execute(&mut *c)
            .await?;
    if res.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
