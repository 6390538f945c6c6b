//! Pricing a quote: exact integer arithmetic, rounding half up to the centavo at each step
//! of `demo-store.md` (see docs/pricing.md).

use serde::{Deserialize, Serialize};

use super::approval::ApprovalReason;
use super::rules::{clamp_bp, StoreRules};
use crate::catalog::{CatalogItem, Unit};
use crate::money::{div_round_half_up, BasisPoints, Centavos, Quantity, QUANTITY_SCALE};
use crate::slots::{Location, PaymentMethod};

/// What the conversation gathered, resolved against the catalog.
#[derive(Debug, Clone)]
pub struct QuoteRequest<'a> {
    pub lines: Vec<(&'a CatalogItem, Quantity)>,
    /// Product texts the customer asked for that match no catalog item.
    pub unknown: Vec<String>,
    pub payment: PaymentMethod,
    pub location: Location,
    /// An LLM helped to interpret the messages.
    pub llm_assisted: bool,
    /// The customer asked something the bot cannot decide.
    pub needs_human: bool,
}

/// The immutable snapshot stored with the quote: editing the catalog or the rules later does
/// not change it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricedQuote {
    pub lines: Vec<PricedLine>,
    pub subtotal: Centavos,
    pub payment_method: PaymentMethod,
    pub payment_discount_bp: BasisPoints,
    pub payment_discount: Centavos,
    /// `None` when no freight rule matches the location (never a made-up freight).
    pub freight: Option<Centavos>,
    /// Label of the freight rule that applied.
    pub freight_rule: Option<String>,
    /// subtotal − payment discount + freight (freight counted as 0 when unknown).
    pub total: Centavos,
    /// `None` when there is nothing to sell (no priced line or a zero net value).
    pub margin_bp: Option<BasisPoints>,
    /// Every reason that applies, in a fixed order.
    pub approval_reasons: Vec<ApprovalReason>,
    pub unknown: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricedLine {
    pub sku: String,
    pub name: String,
    pub unit: Unit,
    pub quantity: Quantity,
    /// Catalog price of one unit when the quote was made.
    pub list_price: Centavos,
    pub volume_discount_bp: BasisPoints,
    /// list price less the volume discount, rounded.
    pub unit_price: Centavos,
    /// unit price × quantity, rounded.
    pub line_total: Centavos,
    /// catalog cost × quantity, rounded.
    pub cost_total: Centavos,
    /// Weight of one unit, in grams (as in the catalog).
    pub weight_grams: i64,
}

impl PricedQuote {
    pub fn needs_approval(&self) -> bool {
        !self.approval_reasons.is_empty()
    }

    /// The merchandise value after the payment discount (the margin's base).
    pub fn net_merchandise(&self) -> Centavos {
        Centavos(self.subtotal.0 - self.payment_discount.0)
    }
}

fn saturate(v: i128) -> i64 {
    v.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// `amount × (1 − bp)`, rounded half up.
fn less_bp(amount: Centavos, bp: BasisPoints) -> Centavos {
    let keep = (BasisPoints::FULL.0 - bp.0) as i128;
    Centavos(saturate(div_round_half_up(
        amount.0 as i128 * keep,
        BasisPoints::FULL.0 as i128,
    )))
}

/// `amount × bp`, rounded half up.
fn bp_of(amount: Centavos, bp: BasisPoints) -> Centavos {
    Centavos(saturate(div_round_half_up(
        amount.0 as i128 * bp.0 as i128,
        BasisPoints::FULL.0 as i128,
    )))
}

/// `per_unit × quantity`, rounded half up (quantity is in thousandths).
fn times_quantity(per_unit: i64, q: Quantity) -> i64 {
    saturate(div_round_half_up(
        per_unit as i128 * q.thousandths() as i128,
        QUANTITY_SCALE as i128,
    ))
}

pub fn price_quote(req: &QuoteRequest, rules: &StoreRules) -> PricedQuote {
    let mut lines = Vec::with_capacity(req.lines.len());
    // Exact weight in milligrams (grams × thousandths of a unit): freight rounds only once.
    let mut weight_mg: i128 = 0;
    for (item, quantity) in &req.lines {
        // A negative quantity cannot be bought; pricing it would make totals negative.
        let quantity = Quantity::from_thousandths(quantity.thousandths().max(0));
        let list_price = Centavos(item.price.0.max(0));
        let volume_discount_bp = rules.volume_discount(&item.sku, quantity);
        let unit_price = less_bp(list_price, volume_discount_bp);
        let line_total = Centavos(times_quantity(unit_price.0, quantity));
        let cost_total = Centavos(times_quantity(item.cost.0.max(0), quantity));
        let weight_grams = item.weight_grams.max(0);
        weight_mg += weight_grams as i128 * quantity.thousandths() as i128;
        lines.push(PricedLine {
            sku: item.sku.clone(),
            name: item.name.clone(),
            unit: item.unit,
            quantity,
            list_price,
            volume_discount_bp,
            unit_price,
            line_total,
            cost_total,
            weight_grams,
        });
    }

    let subtotal = Centavos(saturate(
        lines.iter().map(|l| l.line_total.0 as i128).sum::<i128>(),
    ));
    let payment_discount_bp = clamp_bp(rules.payment_discount(req.payment));
    let payment_discount = bp_of(subtotal, payment_discount_bp);
    let net = Centavos(subtotal.0 - payment_discount.0);

    let rule = rules.freight_rule_for(&req.location);
    let freight = rule.map(|r| {
        // Compared with the subtotal before the payment discount, so that choosing PIX never
        // costs the customer the free freight (a larger discount never raises the total).
        let free = r.free_above.is_some_and(|limit| subtotal >= limit);
        if free {
            Centavos::ZERO
        } else {
            let by_weight = div_round_half_up(r.per_kg.0.max(0) as i128 * weight_mg, 1_000_000);
            Centavos(saturate(r.base.0.max(0) as i128 + by_weight))
        }
    });
    let total = Centavos(saturate(net.0 as i128 + freight.map_or(0, |f| f.0 as i128)));

    let cost: i128 = lines.iter().map(|l| l.cost_total.0 as i128).sum();
    let margin_bp = (net.0 > 0).then(|| {
        BasisPoints(saturate(div_round_half_up(
            (net.0 as i128 - cost) * BasisPoints::FULL.0 as i128,
            net.0 as i128,
        )))
    });

    let mut approval_reasons = Vec::new();
    if !req.unknown.is_empty() {
        approval_reasons.push(ApprovalReason::UnknownItem);
    }
    if margin_bp.is_some_and(|m| m < rules.min_margin) {
        approval_reasons.push(ApprovalReason::MarginBelowMinimum);
    }
    if total > rules.approval_above {
        approval_reasons.push(ApprovalReason::TotalAboveThreshold);
    }
    if freight.is_none() {
        approval_reasons.push(ApprovalReason::NoFreightRule);
    }
    if req.llm_assisted {
        approval_reasons.push(ApprovalReason::LlmAssisted);
    }
    if req.needs_human {
        approval_reasons.push(ApprovalReason::NeedsHuman);
    }

    PricedQuote {
        lines,
        subtotal,
        payment_method: req.payment,
        payment_discount_bp,
        payment_discount,
        freight,
        freight_rule: rule.map(|r| r.label.clone()),
        total,
        margin_bp,
        approval_reasons,
        unknown: req.unknown.clone(),
    }
}
