//! `/orcamentos`: every quote, filtered by status, number and day, and one quote in full. The
//! quote's display (lines, totals, status in pt-BR) is shared with the approval pages.

use axum::extract::{Path, Query, State};
use axum::response::Html;
use chrono::NaiveDate;
use domain::clock::StoreClock;
use domain::money::Centavos;
use domain::pricing::{ApprovalReason, PricedQuote};
use domain::status::QuoteStatus;
use minijinja::{context, Value};
use serde::Deserialize;
use store::quotes;

use super::change::read_conn;
use super::security::Me;
use super::view::{self, brl};
use crate::error::AppError;
use crate::state::AppState;

pub(super) fn reasons_pt(json: &str) -> Vec<&'static str> {
    serde_json::from_str::<Vec<String>>(json)
        .unwrap_or_default()
        .iter()
        .filter_map(|c| ApprovalReason::from_code(c))
        .map(|r| r.label_pt())
        .collect()
}

pub(super) fn priced_of(q: &quotes::Quote) -> Result<PricedQuote, AppError> {
    serde_json::from_str(&q.snapshot_json)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("quote snapshot: {e}")))
}

pub(super) fn quote_view(q: &quotes::Quote, p: &PricedQuote, clock: &StoreClock) -> Value {
    let lines: Vec<Value> = p
        .lines
        .iter()
        .map(|l| {
            context! {
                sku => l.sku.clone(), name => l.name.clone(), unit => l.unit.label_for(l.quantity),
                quantity => l.quantity.to_br(), unit_price => brl(l.unit_price.0),
                unit_price_input => Centavos(l.unit_price.0).to_reais(),
                line_total => brl(l.line_total.0),
                discount => (l.volume_discount_bp.0 > 0).then(|| l.volume_discount_bp.to_percent_br()),
            }
        })
        .collect();
    context! {
        id => q.id.clone(), number => q.number.clone(), status => q.status.label_pt(), status_code => q.status.as_str(),
        created => clock.datetime_br(q.created_at), valid_until => clock.date_br(q.valid_until),
        lines => lines,
        unknown => p.unknown.iter().map(|u| context! { text => u, suggestion => p.suggestion_for(u) }).collect::<Vec<_>>(),
        subtotal => brl(p.subtotal.0),
        payment => p.payment_method.label_pt(),
        payment_discount => brl(p.payment_discount.0),
        // No "Desconto boleto (0%) -R$ 0,00" line when there is no discount (issue 12 item 8).
        has_payment_discount => p.payment_discount.0 != 0,
        payment_discount_pct => p.payment_discount_bp.to_percent_br(),
        freight => p.freight.map(|f| brl(f.0)),
        freight_input => p.freight.filter(|_| !p.pickup).map(|f| f.to_reais()).unwrap_or_default(),
        pickup => p.pickup,
        freight_rule => p.freight_rule.clone(),
        total => brl(p.total.0),
        margin => p.margin_bp.map(|m| m.to_percent_br()),
        conversation_id => q.conversation_id.clone(),
    }
}

#[derive(Deserialize, Default)]
pub struct QuoteFilter {
    status: Option<String>,
    numero: Option<String>,
    de: Option<String>,
    ate: Option<String>,
}

/// `aaaa-mm-dd` (the date input's format) → that day in the store.
fn parse_day(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

pub async fn list(
    State(state): State<AppState>,
    me: Me,
    Query(f): Query<QuoteFilter>,
) -> Result<Html<String>, AppError> {
    // An unknown status in the address lists every quote, as no filter would.
    let status = f
        .status
        .as_deref()
        .and_then(|s| s.parse::<QuoteStatus>().ok());
    let number = f
        .numero
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.len() <= 32)
        .map(str::to_string);
    let clock = view::clock(&me);
    let from =
        f.de.as_deref()
            .and_then(parse_day)
            .map(|d| clock.start_of(d));
    // Up to the last millisecond before the next day starts in the store.
    let to = f
        .ate
        .as_deref()
        .and_then(parse_day)
        .and_then(|d| d.succ_opt())
        .map(|next| clock.start_of(next) - 1);
    let list = quotes::list_with_customer(
        &state.db,
        &me.tenant.id,
        status,
        number.as_deref(),
        from,
        to,
        200,
    )
    .await?;
    let rows: Vec<Value> = list
        .iter()
        .map(|row| {
            let q = &row.quote;
            // The name the customer goes by on WhatsApp, else the number staff would dial.
            let customer = row
                .customer_name
                .clone()
                .filter(|n| !n.trim().is_empty())
                .or_else(|| view::phone_of(&row.customer_wa_id).map(|(shown, _)| shown))
                .unwrap_or_else(|| "cliente sem nome".to_string());
            context! { id => q.id.clone(), number => q.number.clone(), status => q.status.label_pt(), status_code => q.status.as_str(),
                total => brl(q.total_cents), created => clock.datetime_br(q.created_at), customer => customer,
                conversation_id => q.conversation_id.clone() }
        })
        .collect();
    // Superseded quotes are listed but not offered as a filter: the customer never saw them.
    let statuses: Vec<Value> = QuoteStatus::ALL
        .iter()
        .filter(|s| **s != QuoteStatus::Superseded)
        .map(|s| context! { code => s.as_str(), label => s.label_pt() })
        .collect();
    view::page(
        &me,
        "dashboard/quotes.html",
        "orcamentos",
        context! {
            rows => rows, statuses => statuses,
            f => context! { status => status, numero => number, de => f.de, ate => f.ate },
        },
    )
}

pub async fn detail(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Html<String>, AppError> {
    let q = quotes::get(&state.db, &me.tenant.id, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    let p = priced_of(&q)?;
    let approval = {
        let mut c = read_conn(&state).await?;
        quotes::approval_for_quote(&mut c, &me.tenant.id, &q.id).await?
    };
    view::page(
        &me,
        "dashboard/quote.html",
        "orcamentos",
        context! {
            quote => quote_view(&q, &p, &view::clock(&me)),
            lost_reason => q.lost_reason.clone(),
            approval => approval.map(|a| context! { id => a.id, status => a.status, status_pt => a.status.label_pt(), reasons => reasons_pt(&a.reasons_json) }),
        },
    )
}
