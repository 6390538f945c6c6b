//! Pricing a quote: exact integer arithmetic, rounding half up to the centavo at each step
//! of `demo-store.md` (see docs/pricing.md).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::approval::ApprovalReason;
use super::rules::{clamp_bp, FreightRule, StoreRules};
use crate::catalog::{CatalogItem, Unit};
use crate::money::{
    div_round_half_up, limits, AmountError, BasisPoints, Centavos, Quantity, QuantityError,
    QUANTITY_SCALE,
};
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
    /// The customer picks the goods up at the store: no freight (`freight` is `Some(0)`), and
    /// the message says so. Set by a person on the approval page; absent in older snapshots.
    #[serde(default)]
    pub pickup: bool,
    /// `None` when there is nothing to sell (no priced line or a zero net value).
    pub margin_bp: Option<BasisPoints>,
    /// Every reason that applies, in a fixed order.
    pub approval_reasons: Vec<ApprovalReason>,
    pub unknown: Vec<String>,
    /// The nearest catalog item to an unknown product, when there is one ("selador em
    /// galão" → "Selador acrílico 18L"): the quote asks "você quis dizer …?".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suggestions: Vec<Suggestion>,
}

/// A catalog item offered for a product the quote does not include.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggestion {
    /// The unknown product, as in [`PricedQuote::unknown`].
    pub unknown: String,
    pub sku: String,
    /// The catalog name, as the customer reads it.
    pub name: String,
}

impl PricedQuote {
    /// The suggested catalog name for an unknown product.
    pub fn suggestion_for(&self, unknown: &str) -> Option<&str> {
        self.suggestions
            .iter()
            .find(|s| s.unknown == unknown)
            .map(|s| s.name.as_str())
    }
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

/// Why a quote could not be priced. The messages are pt-BR and shown to the person as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    #[error("Linha {line} ({name}): {source}.")]
    Quantity {
        line: usize,
        name: String,
        source: QuantityError,
    },
    #[error("Linha {line} ({name}): {source}")]
    Amount {
        line: usize,
        name: String,
        source: AmountError,
    },
    #[error("{0}")]
    Freight(AmountError),
    #[error("O orçamento precisa de pelo menos um item.")]
    NoLines,
    #[error("A edição não corresponde às linhas do orçamento.")]
    LinesMismatch,
    /// A line added from the catalog names a product the quote already has.
    #[error("{0} já está no orçamento: altere a quantidade dessa linha.")]
    DuplicateLine(String),
    /// A line added with quantity zero.
    #[error("{0}: informe uma quantidade maior que zero.")]
    EmptyLine(String),
    /// Only reachable with amounts outside the input limits (e.g. data stored before them).
    #[error("Os valores do orçamento são grandes demais para calcular.")]
    Overflow,
}

/// Centavos from an exact intermediate, or [`PricingError::Overflow`]: never a wrapped or
/// saturated amount that a customer could receive.
fn cents(v: i128) -> Result<Centavos, PricingError> {
    i64::try_from(v)
        .map(Centavos)
        .map_err(|_| PricingError::Overflow)
}

/// `amount × (1 − bp)`, rounded half up.
fn less_bp(amount: Centavos, bp: BasisPoints) -> Result<Centavos, PricingError> {
    let keep = (BasisPoints::FULL.0 - bp.0) as i128;
    cents(div_round_half_up(
        amount.0 as i128 * keep,
        BasisPoints::FULL.0 as i128,
    ))
}

/// `amount × bp`, rounded half up.
fn bp_of(amount: Centavos, bp: BasisPoints) -> Result<Centavos, PricingError> {
    cents(div_round_half_up(
        amount.0 as i128 * bp.0 as i128,
        BasisPoints::FULL.0 as i128,
    ))
}

/// `per_unit × quantity`, rounded half up (quantity is in thousandths). Two `i64` factors
/// always fit in `i128`; only the result can be out of range.
fn times_quantity(per_unit: Centavos, q: Quantity) -> Result<Centavos, PricingError> {
    cents(div_round_half_up(
        per_unit.0 as i128 * q.thousandths() as i128,
        QUANTITY_SCALE as i128,
    ))
}

fn checked_sum(values: impl Iterator<Item = i64>) -> Result<Centavos, PricingError> {
    let mut sum: i128 = 0;
    for v in values {
        sum = sum.checked_add(v as i128).ok_or(PricingError::Overflow)?;
    }
    cents(sum)
}

/// One catalog item at a quantity, priced from the catalog and the store's volume discounts:
/// the same for a line the bot quoted and one a person added (`line` is 1-based, for errors).
fn price_line(
    line: usize,
    item: &CatalogItem,
    quantity: Quantity,
    rules: &StoreRules,
) -> Result<PricedLine, PricingError> {
    // A negative quantity cannot be bought; pricing it would make totals negative.
    let quantity = Quantity::from_thousandths(quantity.thousandths().max(0))
        .check_line()
        .map_err(|source| PricingError::Quantity {
            line,
            name: item.name.clone(),
            source,
        })?;
    let list_price = Centavos(item.price.0.max(0));
    let volume_discount_bp = rules.volume_discount(&item.sku, quantity);
    let unit_price = less_bp(list_price, volume_discount_bp)?;
    Ok(PricedLine {
        sku: item.sku.clone(),
        name: item.name.clone(),
        unit: item.unit,
        quantity,
        list_price,
        volume_discount_bp,
        unit_price,
        line_total: times_quantity(unit_price, quantity)?,
        cost_total: times_quantity(Centavos(item.cost.0.max(0)), quantity)?,
        weight_grams: item.weight_grams.max(0),
    })
}

/// Prices what the conversation gathered. Refuses (instead of pricing) a line above
/// [`MAX_QUANTITY`](crate::money::MAX_QUANTITY) and any amount that does not fit: the bot hands those to a person.
pub fn price_quote(req: &QuoteRequest, rules: &StoreRules) -> Result<PricedQuote, PricingError> {
    let mut lines = Vec::with_capacity(req.lines.len());
    for (i, (item, quantity)) in req.lines.iter().enumerate() {
        lines.push(price_line(i + 1, item, *quantity, rules)?);
    }
    let pickup = req.location == Location::Retirada;
    // A pickup has no freight rule to look for: it is free, as when a person marks it.
    let rule = if pickup {
        None
    } else {
        rules.freight_rule_for(&req.location)
    };
    let freight = match rule {
        None if pickup => Some(Centavos::ZERO),
        None => None,
        Some(r) => Some(freight_by(r, &lines)?),
    };
    summarize(
        lines,
        Summary {
            payment_method: req.payment,
            payment_discount_bp: clamp_bp(rules.payment_discount(req.payment)),
            freight,
            freight_rule: rule.map(|r| r.label.clone()),
            pickup,
            unknown: req.unknown.clone(),
            llm_assisted: req.llm_assisted,
            needs_human: req.needs_human,
            subscription_inactive: false,
        },
        rules,
    )
}

/// Everything of a quote that is not its lines.
struct Summary {
    payment_method: PaymentMethod,
    payment_discount_bp: BasisPoints,
    freight: Option<Centavos>,
    freight_rule: Option<String>,
    pickup: bool,
    unknown: Vec<String>,
    llm_assisted: bool,
    needs_human: bool,
    /// Kept when a person edits a quote that waited for this reason.
    subscription_inactive: bool,
}

/// Totals, margin and approval reasons of priced lines: the one place they are computed, for
/// a fresh quote and for one a person edited.
fn summarize(
    lines: Vec<PricedLine>,
    s: Summary,
    rules: &StoreRules,
) -> Result<PricedQuote, PricingError> {
    let subtotal = checked_sum(lines.iter().map(|l| l.line_total.0))?;
    let payment_discount = bp_of(subtotal, s.payment_discount_bp)?;
    let net = cents(subtotal.0 as i128 - payment_discount.0 as i128)?;
    let total = cents(net.0 as i128 + s.freight.map_or(0, |f| f.0 as i128))?;

    let cost = checked_sum(lines.iter().map(|l| l.cost_total.0))?;
    let margin_bp = if net.0 > 0 {
        let m = div_round_half_up(
            (net.0 as i128 - cost.0 as i128) * BasisPoints::FULL.0 as i128,
            net.0 as i128,
        );
        Some(BasisPoints(
            i64::try_from(m).map_err(|_| PricingError::Overflow)?,
        ))
    } else {
        None
    };

    let mut approval_reasons = Vec::new();
    if !s.unknown.is_empty() {
        approval_reasons.push(ApprovalReason::UnknownItem);
    }
    if margin_bp.is_some_and(|m| m < rules.min_margin) {
        approval_reasons.push(ApprovalReason::MarginBelowMinimum);
    }
    // 0 is "sem limite" on /regras (and a new store's default): no total waits for it.
    if rules.approval_above.0 > 0 && total > rules.approval_above {
        approval_reasons.push(ApprovalReason::TotalAboveThreshold);
    }
    if s.freight.is_none() {
        approval_reasons.push(ApprovalReason::NoFreightRule);
    }
    if s.llm_assisted {
        approval_reasons.push(ApprovalReason::LlmAssisted);
    }
    if s.needs_human {
        approval_reasons.push(ApprovalReason::NeedsHuman);
    }
    if s.subscription_inactive {
        approval_reasons.push(ApprovalReason::SubscriptionInactive);
    }

    Ok(PricedQuote {
        lines,
        subtotal,
        payment_method: s.payment_method,
        payment_discount_bp: s.payment_discount_bp,
        payment_discount,
        freight: s.freight,
        freight_rule: s.freight_rule,
        total,
        pickup: s.pickup,
        margin_bp,
        approval_reasons,
        unknown: s.unknown,
        suggestions: Vec::new(),
    })
}

/// What a person typed for one line of a quote waiting for approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineEdit {
    /// Zero removes the line.
    pub quantity: Quantity,
    pub unit_price: Centavos,
}

/// What a person decided about the freight of a quote waiting for approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FreightEdit {
    /// The store's freight rule for this place, as a fresh quote gets it — for a quote that
    /// waited without one until the owner added the rule ("Salvar e recalcular" after
    /// creating it). No rule for the place: the quote's freight as it is.
    ByRule(Location),
    /// The quote's freight (or pickup) as it is.
    Keep,
    /// This freight, typed by the person.
    Value(Centavos),
    /// "Retirada na loja": no freight, and the message says the customer picks it up.
    Pickup,
}

/// A freight rule's price for these lines: free above the rule's limit — compared with the
/// subtotal before the payment discount, so that choosing PIX never costs the customer the
/// free freight — else the base plus the per-kg price of the exact weight (milligrams:
/// grams × thousandths of a unit, so freight rounds only once). Fresh and edited quotes both.
fn freight_by(r: &FreightRule, lines: &[PricedLine]) -> Result<Centavos, PricingError> {
    let subtotal = checked_sum(lines.iter().map(|l| l.line_total.0))?;
    if r.free_above.is_some_and(|limit| subtotal >= limit) {
        return Ok(Centavos::ZERO);
    }
    let weight_mg = lines.iter().try_fold(0i128, |acc, l| {
        acc.checked_add(l.weight_grams as i128 * l.quantity.thousandths() as i128)
            .ok_or(PricingError::Overflow)
    })?;
    let by_weight = (r.per_kg.0.max(0) as i128)
        .checked_mul(weight_mg)
        .map(|v| div_round_half_up(v, 1_000_000))
        .ok_or(PricingError::Overflow)?;
    cents(r.base.0.max(0) as i128 + by_weight)
}

/// A quote after a person changed its quantities, unit prices or freight: every input is
/// checked against the limits, the totals and the margin are computed exactly as for a fresh
/// quote, and the approval reasons are those a fresh quote with these lines would get (the
/// unknown items, IA help and "needs a person" of the conversation are kept).
///
/// `freight: None` keeps the quote's freight. The payment discount percentage of the quote is
/// kept. `unit_costs` is the catalog's cost per SKU; a line whose SKU is gone keeps the cost it
/// was quoted with.
pub fn reprice_edited(
    original: &PricedQuote,
    edits: &[LineEdit],
    freight: Option<Centavos>,
    unit_costs: &HashMap<String, Centavos>,
    rules: &StoreRules,
) -> Result<PricedQuote, PricingError> {
    let freight = freight.map_or(FreightEdit::Keep, FreightEdit::Value);
    reprice(original, edits, freight, &[], &[], unit_costs, rules)
}

/// [`reprice_edited`] with the freight decision spelled out and lines added from the catalog:
/// an added line is priced exactly as the bot prices one (catalog price, the store's volume
/// discount, cost and weight); a product already in the quote is refused (change its
/// quantity instead). The freight is not recomputed from the rules: it is the quote's, the
/// person's value, or zero for a pickup.
///
/// `resolved` are products the quote did not include that the person dealt with (added from
/// the catalog, or told the customer): they leave the quote's "não incluído" list, so the
/// customer is not sent a priced line and "não incluído: … vamos verificar" for the same
/// thing. A product whose suggested catalog item is among the added lines is resolved too.
pub fn reprice(
    original: &PricedQuote,
    edits: &[LineEdit],
    freight: FreightEdit,
    added: &[(&CatalogItem, Quantity)],
    resolved: &[String],
    unit_costs: &HashMap<String, Centavos>,
    rules: &StoreRules,
) -> Result<PricedQuote, PricingError> {
    if edits.len() != original.lines.len() {
        return Err(PricingError::LinesMismatch);
    }
    let mut lines = Vec::with_capacity(edits.len() + added.len());
    for (i, (line, edit)) in original.lines.iter().zip(edits).enumerate() {
        let quantity = edit
            .quantity
            .check_line()
            .map_err(|source| PricingError::Quantity {
                line: i + 1,
                name: line.name.clone(),
                source,
            })?;
        let unit_price = limits::QUOTE_UNIT_PRICE
            .check(edit.unit_price)
            .map_err(|source| PricingError::Amount {
                line: i + 1,
                name: line.name.clone(),
                source,
            })?;
        if quantity.is_zero() {
            continue;
        }
        let unit_cost = match unit_costs.get(&line.sku) {
            Some(c) => Centavos(c.0.max(0)),
            None => {
                let old = line.quantity.thousandths().max(1) as i128;
                cents(div_round_half_up(
                    line.cost_total.0 as i128 * QUANTITY_SCALE as i128,
                    old,
                ))?
            }
        };
        lines.push(PricedLine {
            quantity,
            unit_price,
            line_total: times_quantity(unit_price, quantity)?,
            cost_total: times_quantity(unit_cost, quantity)?,
            ..line.clone()
        });
    }
    for (i, (item, quantity)) in added.iter().enumerate() {
        if original.lines.iter().any(|l| l.sku == item.sku)
            || added[..i].iter().any(|(o, _)| o.sku == item.sku)
        {
            return Err(PricingError::DuplicateLine(item.name.clone()));
        }
        let n = original.lines.len() + i + 1;
        let quantity = quantity
            .check_line()
            .map_err(|source| PricingError::Quantity {
                line: n,
                name: item.name.clone(),
                source,
            })?;
        if quantity.is_zero() {
            return Err(PricingError::EmptyLine(item.name.clone()));
        }
        lines.push(price_line(n, item, quantity, rules)?);
    }
    if lines.is_empty() {
        return Err(PricingError::NoLines);
    }
    let (freight, freight_rule, pickup) = match freight {
        FreightEdit::Keep => (
            original.freight,
            original.freight_rule.clone(),
            original.pickup,
        ),
        FreightEdit::Value(f) => (
            Some(limits::FREIGHT.check(f).map_err(PricingError::Freight)?),
            original.freight_rule.clone(),
            false,
        ),
        FreightEdit::Pickup => (Some(Centavos::ZERO), None, true),
        FreightEdit::ByRule(place) => match rules.freight_rule_for(&place) {
            Some(r) => (Some(freight_by(r, &lines)?), Some(r.label.clone()), false),
            None => (
                original.freight,
                original.freight_rule.clone(),
                original.pickup,
            ),
        },
    };
    let had = |r: ApprovalReason| original.approval_reasons.contains(&r);
    let is_resolved = |u: &String| {
        resolved.contains(u)
            || original
                .suggestions
                .iter()
                .any(|s| &s.unknown == u && added.iter().any(|(item, _)| item.sku == s.sku))
    };
    let unknown: Vec<String> = original
        .unknown
        .iter()
        .filter(|u| !is_resolved(u))
        .cloned()
        .collect();
    summarize(
        lines,
        Summary {
            payment_method: original.payment_method,
            payment_discount_bp: clamp_bp(original.payment_discount_bp),
            freight,
            freight_rule,
            pickup,
            unknown: unknown.clone(),
            llm_assisted: had(ApprovalReason::LlmAssisted),
            needs_human: had(ApprovalReason::NeedsHuman),
            subscription_inactive: had(ApprovalReason::SubscriptionInactive),
        },
        rules,
    )
    .map(|mut q| {
        q.suggestions = original
            .suggestions
            .iter()
            .filter(|s| unknown.contains(&s.unknown))
            .cloned()
            .collect();
        q
    })
}
