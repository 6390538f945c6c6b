//! `/regras`: payment-method discounts, minimum margin, the approval threshold, quote validity
//! and volume discounts. Owner only; every change audited.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use domain::money::{limits, BasisPoints, Centavos, Quantity};
use minijinja::{context, Value};
use serde::Deserialize;
use store::rules::PricingRulesRow;

use super::change::{Change, FormPage};
use super::security::Me;
use super::view;
use crate::error::AppError;
use crate::state::AppState;

const DONE: &str = "/regras?ok=salvo";

/// `5`, `2,5` → basis points (500, 250), 0–100 % (the domain's rule).
pub fn parse_percent(field: &str, what: &str) -> Result<i64, String> {
    BasisPoints::parse_percent(field, what).map(|bp| bp.0)
}

fn pct_input(bp: i64) -> String {
    BasisPoints(bp)
        .to_percent_br()
        .trim_end_matches('%')
        .trim()
        .to_string()
}

fn money_input(c: i64) -> String {
    Centavos(c).to_reais()
}

pub struct RulesPage;

impl FormPage for RulesPage {
    async fn render(
        state: &AppState,
        me: &Me,
        notice: Option<&str>,
        errors: Vec<String>,
        status: StatusCode,
    ) -> Result<Response, AppError> {
        let r = store::rules::load(&state.db, &me.tenant.id).await?;
        let p = &r.pricing;
        let (attendant_limit, quote_pdf, quote_link, invoice_data, meta_payments, follow_ups) = {
            let mut c = super::change::read_conn(state).await?;
            (
                store::tenants::attendant_approval_limit(&mut c, &me.tenant.id).await?,
                store::store_profile::quote_pdf_enabled(&mut c, &me.tenant.id).await?,
                store::store_profile::quote_link_enabled(&mut c, &me.tenant.id).await?,
                store::store_profile::invoice_data_enabled(&mut c, &me.tenant.id).await?,
                store::store_profile::meta_payments_enabled(&mut c, &me.tenant.id).await?,
                store::follow_ups::settings(&mut c, &me.tenant.id).await?,
            )
        };
        let volume: Vec<Value> = r
            .volume
            .iter()
            .map(|v| {
                context! { id => v.id.clone(), sku => v.sku.clone().unwrap_or_else(|| "todos os itens".into()),
                    min => Quantity::from_thousandths(v.min_quantity_milli).to_br(), pct => BasisPoints(v.discount_bp).to_percent_br() }
            })
            .collect();
        let html = view::page(
            me,
            "dashboard/rules.html",
            "regras",
            context! {
                notice => view::notice(notice), errors => errors, volume => volume,
                attendant_limit => attendant_limit.map(money_input).unwrap_or_default(),
                quote_pdf => quote_pdf, quote_link => quote_link, invoice_data => invoice_data,
                meta_payments => meta_payments,
                reminder_hours => follow_ups.reminder_hours_before_expiry,
                follow_up_hours => follow_ups.follow_up_after_hours,
                p => context! {
                    pix => pct_input(p.pix_discount_bp), cartao => pct_input(p.cartao_discount_bp),
                    boleto => pct_input(p.boleto_discount_bp), dinheiro => pct_input(p.dinheiro_discount_bp),
                    min_margin => pct_input(p.min_margin_bp), approval_above => money_input(p.approval_above_cents),
                    validity => p.quote_validity_hours,
                },
            },
        )?;
        Ok((status, html).into_response())
    }
}

#[derive(Deserialize)]
pub struct RulesForm {
    #[serde(default)]
    pix: String,
    #[serde(default)]
    cartao: String,
    #[serde(default)]
    boleto: String,
    #[serde(default)]
    dinheiro: String,
    #[serde(default)]
    min_margin: String,
    #[serde(default)]
    approval_above: String,
    #[serde(default)]
    validity: String,
}

fn rules_json(p: &PricingRulesRow) -> serde_json::Value {
    serde_json::json!({
        "pix_discount_bp": p.pix_discount_bp, "cartao_discount_bp": p.cartao_discount_bp,
        "boleto_discount_bp": p.boleto_discount_bp, "dinheiro_discount_bp": p.dinheiro_discount_bp,
        "min_margin_bp": p.min_margin_bp, "approval_above_cents": p.approval_above_cents,
        "quote_validity_hours": p.quote_validity_hours,
    })
}

/// Every field checked, every message collected: the owner fixes them all at once.
fn check(f: &RulesForm) -> Result<PricingRulesRow, Vec<String>> {
    let mut errors = Vec::new();
    let mut pct = |v: &str, what: &str| {
        parse_percent(v, what)
            .map_err(|e| errors.push(e))
            .unwrap_or(0)
    };
    let mut new = PricingRulesRow {
        pix_discount_bp: pct(&f.pix, "Desconto PIX"),
        cartao_discount_bp: pct(&f.cartao, "Desconto cartão"),
        boleto_discount_bp: pct(&f.boleto, "Desconto boleto"),
        dinheiro_discount_bp: pct(&f.dinheiro, "Desconto dinheiro"),
        min_margin_bp: pct(&f.min_margin, "Margem mínima"),
        approval_above_cents: 0,
        quote_validity_hours: 0,
    };
    match limits::APPROVAL_ABOVE.parse(&f.approval_above) {
        Ok(c) => new.approval_above_cents = c.0,
        Err(e) => errors.push(format!(
            "{e} Use um valor em reais, como 5.000,00 (0 = sem limite)"
        )),
    }
    match f.validity.trim().parse::<i64>() {
        Ok(h) if (1..=24 * 90).contains(&h) => new.quote_validity_hours = h,
        _ => errors.push("Validade: número de horas entre 1 e 2160".into()),
    }
    if errors.is_empty() {
        Ok(new)
    } else {
        Err(errors)
    }
}

pub async fn save(
    State(state): State<AppState>,
    me: Me,
    Form(f): Form<RulesForm>,
) -> Result<Response, AppError> {
    let new = match check(&f) {
        Ok(new) => new,
        Err(errors) => return RulesPage::refuse(&state, &me, errors).await,
    };
    let before = store::rules::load(&state.db, &me.tenant.id).await?.pricing;
    Change::new("rules.update", "pricing_rules")
        .before(rules_json(&before))
        .after(rules_json(&new))
        .save_then::<RulesPage, _>(&state, &me, DONE, move |c, t| {
            Box::pin(async move { store::rules::save_pricing(c, &t, &new).await })
        })
        .await
}

#[derive(Deserialize)]
pub struct VolumeForm {
    #[serde(default)]
    sku: String,
    #[serde(default)]
    min_quantity: String,
    #[serde(default)]
    pct: String,
}

pub async fn add_volume(
    State(state): State<AppState>,
    me: Me,
    Form(f): Form<VolumeForm>,
) -> Result<Response, AppError> {
    let mut errors = Vec::new();
    let sku = f.sku.trim().to_string();
    if !sku.is_empty() {
        let exists = store::catalog::list(&state.db, &me.tenant.id)
            .await?
            .iter()
            .any(|s| s.item.sku == sku);
        if !exists {
            errors.push(format!("SKU {sku} não existe no catálogo"));
        }
    }
    let min = f
        .min_quantity
        .parse::<Quantity>()
        .map_err(|_| errors.push("Quantidade mínima inválida".into()))
        .and_then(|q| {
            q.check_line()
                .map_err(|e| errors.push(format!("Quantidade mínima: {e}")))
        })
        .ok();
    let bp = parse_percent(&f.pct, "Desconto")
        .map_err(|e| errors.push(e))
        .ok();
    let (Some(min), Some(bp), true) = (min, bp, errors.is_empty()) else {
        return RulesPage::refuse(&state, &me, errors).await;
    };
    Change::new("rules.volume_add", "volume_discount")
        .after(serde_json::json!({ "sku": sku, "min_quantity_milli": min.thousandths(), "discount_bp": bp }))
        .save_then::<RulesPage, _>(&state, &me, DONE, move |c, t| {
            Box::pin(async move {
                let sku = (!sku.is_empty()).then_some(sku);
                store::rules::add_volume_discount(c, &t, sku.as_deref(), min.thousandths(), bp)
                    .await
                    .map(|_| ())
            })
        })
        .await
}

pub async fn delete_volume(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let rules = store::rules::load(&state.db, &me.tenant.id).await?;
    let v = rules
        .volume
        .iter()
        .find(|v| v.id == id)
        .ok_or(AppError::NotFound)?;
    Change::new("rules.volume_delete", "volume_discount")
        .of(&id)
        .before(serde_json::json!({ "sku": v.sku, "min_quantity_milli": v.min_quantity_milli, "discount_bp": v.discount_bp }))
        .save_then::<RulesPage, _>(&state, &me, DONE, move |c, t| {
            Box::pin(async move { store::rules::delete_volume_discount(c, &t, &id).await })
        })
        .await
}

#[derive(Deserialize)]
pub struct AttendantLimitForm {
    #[serde(default)]
    limit: String,
}

/// The largest total an attendant may approve (empty = no limit; owners always can).
pub async fn save_attendant_limit(
    State(state): State<AppState>,
    me: Me,
    Form(f): Form<AttendantLimitForm>,
) -> Result<Response, AppError> {
    let new = match f.limit.trim() {
        "" => None,
        text => match limits::APPROVAL_ABOVE.parse(text) {
            Ok(c) => Some(c.0),
            Err(e) => {
                let msg = format!("{e} Use um valor em reais, como 5.000,00 (vazio = sem limite)");
                return RulesPage::refuse(&state, &me, vec![msg]).await;
            }
        },
    };
    let before = {
        let mut c = super::change::read_conn(&state).await?;
        store::tenants::attendant_approval_limit(&mut c, &me.tenant.id).await?
    };
    Change::new("rules.attendant_approval_limit", "tenant")
        .of(&me.tenant.id)
        .before(serde_json::json!({ "attendant_approval_limit_cents": before }))
        .after(serde_json::json!({ "attendant_approval_limit_cents": new }))
        .save_then::<RulesPage, _>(&state, &me, DONE, move |c, t| {
            Box::pin(async move { store::tenants::set_attendant_approval_limit(c, &t, new).await })
        })
        .await
}

#[derive(Deserialize)]
pub struct QuotePdfForm {
    /// The checkbox: present ("on") when ticked, absent otherwise.
    #[serde(default)]
    quote_pdf: Option<String>,
}

/// Whether quotes go out with their PDF as a WhatsApp document (issue 15 item 1).
pub async fn save_quote_pdf(
    State(state): State<AppState>,
    me: Me,
    Form(f): Form<QuotePdfForm>,
) -> Result<Response, AppError> {
    let new = f.quote_pdf.is_some();
    let before = {
        let mut c = super::change::read_conn(&state).await?;
        store::store_profile::quote_pdf_enabled(&mut c, &me.tenant.id).await?
    };
    Change::new("rules.quote_pdf", "tenant")
        .of(&me.tenant.id)
        .before(serde_json::json!({ "quote_pdf": before }))
        .after(serde_json::json!({ "quote_pdf": new }))
        .save_then::<RulesPage, _>(&state, &me, DONE, move |c, t| {
            Box::pin(async move { store::store_profile::set_quote_pdf(c, &t, new).await })
        })
        .await
}

#[derive(Deserialize)]
pub struct QuoteLinkForm {
    /// The checkbox: present ("on") when ticked, absent otherwise.
    #[serde(default)]
    quote_link: Option<String>,
}

/// Whether quotes go out with the link to their public page as a button (issue 15 item 3).
pub async fn save_quote_link(
    State(state): State<AppState>,
    me: Me,
    Form(f): Form<QuoteLinkForm>,
) -> Result<Response, AppError> {
    let new = f.quote_link.is_some();
    let before = {
        let mut c = super::change::read_conn(&state).await?;
        store::store_profile::quote_link_enabled(&mut c, &me.tenant.id).await?
    };
    Change::new("rules.quote_link", "tenant")
        .of(&me.tenant.id)
        .before(serde_json::json!({ "quote_link": before }))
        .after(serde_json::json!({ "quote_link": new }))
        .save_then::<RulesPage, _>(&state, &me, DONE, move |c, t| {
            Box::pin(async move { store::store_profile::set_quote_link(c, &t, new).await })
        })
        .await
}

#[derive(Deserialize)]
pub struct InvoiceDataForm {
    /// The checkbox: present ("on") when ticked, absent otherwise.
    #[serde(default)]
    invoice_data: Option<String>,
}

/// "Pedir dados para nota": the bot asks the CPF or CNPJ after the delivery address (issue
/// 15 item 4).
pub async fn save_invoice_data(
    State(state): State<AppState>,
    me: Me,
    Form(f): Form<InvoiceDataForm>,
) -> Result<Response, AppError> {
    let new = f.invoice_data.is_some();
    let before = {
        let mut c = super::change::read_conn(&state).await?;
        store::store_profile::invoice_data_enabled(&mut c, &me.tenant.id).await?
    };
    Change::new("rules.invoice_data", "tenant")
        .of(&me.tenant.id)
        .before(serde_json::json!({ "invoice_data": before }))
        .after(serde_json::json!({ "invoice_data": new }))
        .save_then::<RulesPage, _>(&state, &me, DONE, move |c, t| {
            Box::pin(async move { store::store_profile::set_invoice_data(c, &t, new).await })
        })
        .await
}

#[derive(Deserialize)]
pub struct MetaPaymentsForm {
    /// The checkbox: present ("on") when ticked, absent otherwise.
    #[serde(default)]
    meta_payments: Option<String>,
}

/// "Cobrar pelo WhatsApp": after "Confirmar" the order goes as Meta's `order_details` message
/// with the PIX code (payments in Brazil, issue 15 item 2), and paid/delivered on /pedidos as
/// `order_status` messages.
pub async fn save_meta_payments(
    State(state): State<AppState>,
    me: Me,
    Form(f): Form<MetaPaymentsForm>,
) -> Result<Response, AppError> {
    let new = f.meta_payments.is_some();
    let before = {
        let mut c = super::change::read_conn(&state).await?;
        store::store_profile::meta_payments_enabled(&mut c, &me.tenant.id).await?
    };
    Change::new("rules.meta_payments", "tenant")
        .of(&me.tenant.id)
        .before(serde_json::json!({ "meta_payments": before }))
        .after(serde_json::json!({ "meta_payments": new }))
        .save_then::<RulesPage, _>(&state, &me, DONE, move |c, t| {
            Box::pin(async move { store::store_profile::set_meta_payments(c, &t, new).await })
        })
        .await
}

#[derive(Deserialize)]
pub struct FollowUpForm {
    #[serde(default)]
    reminder_hours: String,
    #[serde(default)]
    follow_up_hours: String,
}

/// Longest delay a follow-up may have: a week (quotes rarely hold longer).
const FOLLOW_UP_HOURS_MAX: i64 = 168;

/// Hours from the form: empty = off, else a whole number from 1 to a week.
fn hours(field: &str, label: &str, errors: &mut Vec<String>) -> Option<i64> {
    let v = field.trim();
    if v.is_empty() {
        return None;
    }
    match v.parse::<i64>() {
        Ok(h) if (1..=FOLLOW_UP_HOURS_MAX).contains(&h) => Some(h),
        _ => {
            errors.push(format!(
                "{label}: um número inteiro de horas, de 1 a {FOLLOW_UP_HOURS_MAX}, ou vazio para desligar"
            ));
            None
        }
    }
}

/// `POST /regras/lembretes`: the follow-ups on a sent quote (issue 15 item 6).
pub async fn save_follow_ups(
    State(state): State<AppState>,
    me: Me,
    Form(f): Form<FollowUpForm>,
) -> Result<Response, AppError> {
    let mut errors = Vec::new();
    let new = store::follow_ups::FollowUpSettings {
        reminder_hours_before_expiry: hours(
            &f.reminder_hours,
            "Lembrete antes de vencer",
            &mut errors,
        ),
        follow_up_after_hours: hours(&f.follow_up_hours, "Sem resposta depois de", &mut errors),
    };
    if !errors.is_empty() {
        return RulesPage::refuse(&state, &me, errors).await;
    }
    let before = {
        let mut c = super::change::read_conn(&state).await?;
        store::follow_ups::settings(&mut c, &me.tenant.id).await?
    };
    let json = |s: &store::follow_ups::FollowUpSettings| {
        serde_json::json!({
            "reminder_hours_before_expiry": s.reminder_hours_before_expiry,
            "follow_up_after_hours": s.follow_up_after_hours,
        })
    };
    Change::new("rules.follow_ups", "tenant")
        .of(&me.tenant.id)
        .before(json(&before))
        .after(json(&new))
        .save_then::<RulesPage, _>(&state, &me, DONE, move |c, t| {
            Box::pin(async move { store::follow_ups::set_settings(c, &t, new).await })
        })
        .await
}
