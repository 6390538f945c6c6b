//! Everything about a store the engine needs, loaded once and cached per catalog version so
//! the understanding index is built once per catalog change, not per message.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use domain::catalog::CatalogItem;
use domain::clock::StoreClock;
use domain::engine::TemplateSet;
use domain::ids::Cep;
use domain::money::{BasisPoints, Centavos, Quantity};
use domain::pricing::{known_bairros, FreightRule, FreightZone, StoreRules, VolumeDiscount};
use domain::slots::PaymentMethod;
use domain::templates::TemplateKind;
use domain::understanding::CatalogIndex;
use store::rules::{FreightZoneRow, RuleSet};
use store::tenants::Tenant;
use store::{Db, StoreError};

/// A store's catalog, index, rules and templates at one catalog version.
pub struct TenantContext {
    pub tenant: Tenant,
    pub catalog: Vec<CatalogItem>,
    pub index: Arc<CatalogIndex>,
    pub rules: StoreRules,
    pub templates: TemplateSet,
}

impl TenantContext {
    /// The store's clock: its dates, the dashboard's and the bot's, in its time zone.
    pub fn clock(&self) -> StoreClock {
        StoreClock::of(&self.tenant.timezone)
    }

    /// Today in the store's time zone.
    pub fn today(&self) -> NaiveDate {
        self.clock().date_of(chrono::Utc::now().timestamp_millis())
    }

    /// The date of a unix-ms instant in the store's time zone.
    pub fn date_of(&self, ms: i64) -> NaiveDate {
        self.clock().date_of(ms)
    }

    /// Billing: a store whose subscription is unpaid, canceled or past due beyond its grace
    /// period keeps its data but gets no automatic quotes: they go to approval with the reason
    /// `subscription_inactive`. Stores without a subscription state (`none`: billing off,
    /// self-hosted) are never gated (docs/billing.md).
    pub fn auto_quotes_enabled(&self) -> bool {
        !self.tenant.subscription_gated()
    }
}

/// Converts stored rules into the domain's pricing rules.
pub fn to_store_rules(r: &RuleSet) -> StoreRules {
    let p = &r.pricing;
    StoreRules {
        payment_discounts: vec![
            (PaymentMethod::Pix, BasisPoints(p.pix_discount_bp)),
            (PaymentMethod::Cartao, BasisPoints(p.cartao_discount_bp)),
            (PaymentMethod::Boleto, BasisPoints(p.boleto_discount_bp)),
            (PaymentMethod::Dinheiro, BasisPoints(p.dinheiro_discount_bp)),
        ],
        volume_discounts: r
            .volume
            .iter()
            .map(|v| VolumeDiscount {
                sku: v.sku.clone(),
                min_quantity: Quantity::from_thousandths(v.min_quantity_milli),
                discount: BasisPoints(v.discount_bp),
            })
            .collect(),
        freight_rules: r
            .freight
            .iter()
            .filter_map(|f| {
                let zone = match &f.zone {
                    FreightZoneRow::Bairros(b) => FreightZone::Bairros(b.clone()),
                    FreightZoneRow::CepRange { from, to } => FreightZone::CepRange {
                        from: Cep::parse(&format!("{from:08}")).ok()?,
                        to: Cep::parse(&format!("{to:08}")).ok()?,
                    },
                };
                Some(FreightRule {
                    label: f.label.clone(),
                    zone,
                    base: Centavos(f.base_cents),
                    per_kg: Centavos(f.per_kg_cents),
                    free_above: f.free_above_cents.map(Centavos),
                })
            })
            .collect(),
        min_margin: BasisPoints(p.min_margin_bp),
        approval_above: Centavos(p.approval_above_cents),
        quote_validity_hours: p.quote_validity_hours.clamp(1, 24 * 90) as u32,
    }
}

/// Caches contexts by (tenant, catalog version).
#[derive(Clone, Default)]
pub struct ContextCache {
    inner: Arc<Mutex<HashMap<String, Arc<TenantContext>>>>,
}

impl ContextCache {
    /// Loads (or reuses) the context of a tenant: one read of the tenant row per job. Rules
    /// and templates are read again only when the row's `settings_version` moved (every
    /// write to them bumps it, migration 0012), so an edit applies from the next job on
    /// without five reads per conversation step; the catalog index is rebuilt only when the
    /// catalog version (or the freight rules, which name the known bairros) changed.
    pub async fn load(&self, db: &Db, tenant_id: &str) -> Result<Arc<TenantContext>, StoreError> {
        let tenant = store::tenants::by_id(db, tenant_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let cached = self
            .inner
            .lock()
            .ok()
            .and_then(|m| m.get(tenant_id).cloned());
        let settings = match &cached {
            Some(ctx) if ctx.tenant.settings_version == tenant.settings_version => None,
            _ => Some(load_settings(db, tenant_id).await?),
        };
        let ctx = match (cached, settings) {
            // Rules and templates unchanged: only the tenant row (and the catalog) may differ.
            (Some(old), None) => {
                let (catalog, index) = if old.tenant.catalog_version == tenant.catalog_version {
                    (old.catalog.clone(), old.index.clone())
                } else {
                    load_catalog(db, tenant_id, &old.rules).await?
                };
                TenantContext {
                    tenant,
                    catalog,
                    index,
                    rules: old.rules.clone(),
                    templates: old.templates.clone(),
                }
            }
            (old, settings) => {
                let (rules, templates) = match settings {
                    Some(s) => s,
                    None => load_settings(db, tenant_id).await?,
                };
                let (catalog, index) = match old {
                    Some(old)
                        if old.tenant.catalog_version == tenant.catalog_version
                            && old.rules.freight_rules == rules.freight_rules =>
                    {
                        (old.catalog.clone(), old.index.clone())
                    }
                    _ => load_catalog(db, tenant_id, &rules).await?,
                };
                TenantContext {
                    tenant,
                    catalog,
                    index,
                    rules,
                    templates,
                }
            }
        };
        let ctx = Arc::new(ctx);
        if let Ok(mut m) = self.inner.lock() {
            m.insert(tenant_id.to_string(), ctx.clone());
        }
        Ok(ctx)
    }
}

/// The store's pricing rules and current templates.
async fn load_settings(db: &Db, tenant_id: &str) -> Result<(StoreRules, TemplateSet), StoreError> {
    let mut c = db.read().acquire().await?;
    let rules = to_store_rules(&store::rules::load_conn(&mut c, tenant_id).await?);
    let mut templates = TemplateSet::new();
    // One query for every kind (it was one per kind: fourteen round trips per job).
    for (code, src) in store::templates::current_all(&mut c, tenant_id).await? {
        if let Some(kind) = TemplateKind::ALL.into_iter().find(|k| k.code() == code) {
            templates.insert(kind, src);
        }
    }
    Ok((rules, templates))
}

/// The catalog and its understanding index (which also knows the freight rules' bairros).
async fn load_catalog(
    db: &Db,
    tenant_id: &str,
    rules: &StoreRules,
) -> Result<(Vec<CatalogItem>, Arc<CatalogIndex>), StoreError> {
    let items: Vec<CatalogItem> = store::catalog::list(db, tenant_id)
        .await?
        .into_iter()
        .map(|s| s.item)
        .collect();
    let active: Vec<CatalogItem> = items.iter().filter(|i| i.active).cloned().collect();
    let index = CatalogIndex::build(&active, &known_bairros(rules));
    Ok((items, Arc::new(index)))
}
