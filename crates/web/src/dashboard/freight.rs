//! `/frete`: freight rules by bairro or CEP range, evaluated in order (first match wins).
//! Owner only; every change audited.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use domain::money::{limits, Centavos, MoneyLimit};
use domain::sanitize::storable;
use minijinja::{context, Value};
use serde::Deserialize;
use store::rules::{FreightRuleRow, FreightZoneRow};

use super::change::{Change, FormPage};
use super::security::Me;
use super::view::{self, brl};
use crate::error::AppError;
use crate::state::AppState;

const DONE: &str = "/frete?ok=salvo";

fn zone_label(z: &FreightZoneRow) -> String {
    match z {
        FreightZoneRow::Bairros(b) => format!("Bairros: {}", b.join(", ")),
        FreightZoneRow::CepRange { from, to } => format!(
            "CEP {} a {}",
            domain::ids::Cep::parse(&format!("{from:08}"))
                .map(|c| c.formatted())
                .unwrap_or_else(|_| from.to_string()),
            domain::ids::Cep::parse(&format!("{to:08}"))
                .map(|c| c.formatted())
                .unwrap_or_else(|_| to.to_string()),
        ),
    }
}

fn freight_json(r: &FreightRuleRow) -> serde_json::Value {
    serde_json::json!({ "label": r.label, "zone": zone_label(&r.zone), "position": r.position, "base_cents": r.base_cents,
        "per_kg_cents": r.per_kg_cents, "free_above_cents": r.free_above_cents })
}

pub struct FreightPage;

impl FormPage for FreightPage {
    async fn render(
        state: &AppState,
        me: &Me,
        notice: Option<&str>,
        errors: Vec<String>,
        status: StatusCode,
    ) -> Result<Response, AppError> {
        render_page(
            state,
            me,
            notice,
            errors,
            status,
            &PreviewQuery::default(),
            None,
        )
        .await
    }
}

/// The freight page, with the preview's question and answer when there is one.
async fn render_page(
    state: &AppState,
    me: &Me,
    notice: Option<&str>,
    errors: Vec<String>,
    status: StatusCode,
    q: &PreviewQuery,
    preview: Option<Value>,
) -> Result<Response, AppError> {
    {
        let r = store::rules::load(&state.db, &me.tenant.id).await?;
        let items: Vec<Value> = store::catalog::list(&state.db, &me.tenant.id)
            .await?
            .into_iter()
            .filter(|s| s.item.active)
            .map(|s| context! { sku => s.item.sku, name => s.item.name, unit => s.item.unit.label() })
            .collect();
        let rows: Vec<Value> = r
            .freight
            .iter()
            .map(|f| {
                context! { id => f.id.clone(), position => f.position, label => f.label.clone(), zone => zone_label(&f.zone),
                    base => brl(f.base_cents), per_kg => brl(f.per_kg_cents), free_above => f.free_above_cents.map(brl) }
            })
            .collect();
        let html = view::page(
            me,
            "dashboard/freight.html",
            "frete",
            context! {
                rows => rows, notice => view::notice(notice), errors => errors, items => items, preview => preview,
                pq => context! { onde => q.onde.clone(), sku => q.sku.clone(), quantidade => q.quantidade.clone() },
            },
        )?;
        Ok((status, html).into_response())
    }
}

/// `GET /frete/previa?onde=…&sku=…&quantidade=…`: "quanto custa entregar no CEP X / bairro
/// Y?". The answer is the worker's own pricing (`domain::pricing::price_quote` with the
/// store's rules as the worker loads them), for the item and quantity asked, or for an empty
/// order when none is chosen (the rule's fixed part).
#[derive(Deserialize, Default)]
pub struct PreviewQuery {
    #[serde(default)]
    onde: String,
    #[serde(default)]
    sku: String,
    #[serde(default)]
    quantidade: String,
}

pub async fn preview(
    State(state): State<AppState>,
    me: Me,
    axum::extract::Query(q): axum::extract::Query<PreviewQuery>,
) -> Result<Response, AppError> {
    match preview_answer(&state, &me, &q).await? {
        Ok(answer) => {
            render_page(&state, &me, None, vec![], StatusCode::OK, &q, Some(answer)).await
        }
        Err(errors) => {
            render_page(
                &state,
                &me,
                None,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
                &q,
                None,
            )
            .await
        }
    }
}

/// Where a person typed: a CEP (8 digits, with or without the dash) or a bairro's name.
fn location_of(text: &str) -> Result<domain::slots::Location, String> {
    let t = storable(text.trim()).into_owned();
    let digits = t.chars().filter(char::is_ascii_digit).count();
    if digits > 0
        && t.chars()
            .all(|c| c.is_ascii_digit() || c == '-' || c == '.')
    {
        return domain::ids::Cep::parse(&t)
            .map(domain::slots::Location::Cep)
            .map_err(|_| "CEP inválido: use 8 dígitos, como 04846-000.".to_string());
    }
    if t.is_empty() || t.chars().count() > 80 {
        return Err("Informe um CEP (como 04846-000) ou o nome de um bairro.".into());
    }
    Ok(domain::slots::Location::Bairro(t))
}

async fn preview_answer(
    state: &AppState,
    me: &Me,
    q: &PreviewQuery,
) -> Result<Result<Value, Vec<String>>, AppError> {
    let mut errors = Vec::new();
    let location = location_of(&q.onde).map_err(|e| errors.push(e)).ok();
    let catalog = store::catalog::list(&state.db, &me.tenant.id).await?;
    let item = if q.sku.trim().is_empty() {
        None
    } else {
        let found = catalog
            .iter()
            .find(|s| s.item.active && s.item.sku == q.sku.trim());
        if found.is_none() {
            errors.push("Produto não encontrado no catálogo.".into());
        }
        found
    };
    let quantity = if item.is_some() {
        let text = if q.quantidade.trim().is_empty() {
            "1"
        } else {
            q.quantidade.trim()
        };
        match text.parse::<domain::money::Quantity>() {
            Ok(v) if v.thousandths() > 0 && v.check_line().is_ok() => Some(v),
            _ => {
                errors.push(
                    "Quantidade inválida: use um número maior que zero, como 10 ou 2,5.".into(),
                );
                None
            }
        }
    } else {
        None
    };
    let Some(location) = location else {
        return Ok(Err(errors));
    };
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let rules =
        worker::tenant_ctx::to_store_rules(&store::rules::load(&state.db, &me.tenant.id).await?);
    let lines: Vec<(&domain::catalog::CatalogItem, domain::money::Quantity)> =
        match (item, quantity) {
            (Some(s), Some(qty)) => vec![(&s.item, qty)],
            _ => vec![],
        };
    let req = domain::pricing::QuoteRequest {
        lines,
        unknown: vec![],
        payment: domain::slots::PaymentMethod::Pix,
        location: location.clone(),
        llm_assisted: false,
        needs_human: false,
    };
    let priced = match domain::pricing::price_quote(&req, &rules) {
        Ok(p) => p,
        Err(e) => return Ok(Err(vec![format!("Não foi possível calcular: {e}")])),
    };
    let weight_grams: i64 = match (item, quantity) {
        (Some(s), Some(qty)) => {
            (s.item.weight_grams as i128 * qty.thousandths() as i128 / 1000) as i64
        }
        _ => 0,
    };
    Ok(Ok(context! {
        place => location.label_pt(),
        item => item.map(|s| s.item.name.clone()),
        quantity => quantity.map(|q| q.to_br()),
        unit => item.map(|s| s.item.unit.label()),
        weight => domain::money::Quantity::from_thousandths(weight_grams).to_br(),
        subtotal => brl(priced.subtotal.0),
        rule => priced.freight_rule.clone(),
        freight => priced.freight.map(|f| brl(f.0)),
        free => priced.freight == Some(Centavos::ZERO),
    }))
}

#[derive(Deserialize)]
pub struct FreightForm {
    #[serde(default)]
    label: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    bairros: String,
    #[serde(default)]
    cep_from: String,
    #[serde(default)]
    cep_to: String,
    #[serde(default)]
    base: String,
    #[serde(default)]
    per_kg: String,
    #[serde(default)]
    free_above: String,
    #[serde(default)]
    position: String,
}

/// The rule a form describes, or every pt-BR error of the form.
fn rule_from(f: &FreightForm, position: i64) -> Result<FreightRuleRow, Vec<String>> {
    let mut errors = Vec::new();
    let label = f.label.trim().to_string();
    if label.is_empty() || label.chars().count() > 80 {
        errors.push("Nome da regra: obrigatório, até 80 caracteres".into());
    }
    let zone = if f.kind == "cep" {
        match (
            domain::ids::Cep::parse(&f.cep_from),
            domain::ids::Cep::parse(&f.cep_to),
        ) {
            (Ok(a), Ok(b)) if a.value() <= b.value() => Some(FreightZoneRow::CepRange {
                from: a.value() as i64,
                to: b.value() as i64,
            }),
            _ => {
                errors.push(
                    "Faixa de CEP inválida: use 8 dígitos, o primeiro menor ou igual ao segundo"
                        .into(),
                );
                None
            }
        }
    } else {
        let b: Vec<String> = f
            .bairros
            .split([',', ';', '\n'])
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        if b.is_empty() {
            errors.push("Informe pelo menos um bairro".into());
            None
        } else {
            Some(FreightZoneRow::Bairros(b))
        }
    };
    let money = |v: &str, limit: MoneyLimit, errors: &mut Vec<String>| match limit.parse(v) {
        Ok(c) => c.0,
        Err(e) => {
            errors.push(format!("{e} Use um valor em reais, como 35,00"));
            0
        }
    };
    let base = money(&f.base, limits::FREIGHT_BASE, &mut errors);
    let per_kg = if f.per_kg.trim().is_empty() {
        0
    } else {
        money(&f.per_kg, limits::FREIGHT_PER_KG, &mut errors)
    };
    let free_above = if f.free_above.trim().is_empty() {
        None
    } else {
        Some(money(
            &f.free_above,
            limits::FREE_FREIGHT_ABOVE,
            &mut errors,
        ))
    };
    match (zone, errors.is_empty()) {
        (Some(zone), true) => Ok(FreightRuleRow {
            id: String::new(),
            position,
            label,
            zone,
            base_cents: base,
            per_kg_cents: per_kg,
            free_above_cents: free_above,
        }),
        _ => Err(errors),
    }
}

pub async fn add(
    State(state): State<AppState>,
    me: Me,
    Form(f): Form<FreightForm>,
) -> Result<Response, AppError> {
    let rules = store::rules::load(&state.db, &me.tenant.id).await?;
    let position = f
        .position
        .trim()
        .parse::<i64>()
        .unwrap_or_else(|_| rules.freight.iter().map(|r| r.position).max().unwrap_or(0) + 1);
    let row = match rule_from(&f, position) {
        Ok(row) => row,
        Err(errors) => return FreightPage::refuse(&state, &me, errors).await,
    };
    Change::new("freight.add", "freight_rule")
        .after(freight_json(&row))
        .save_then::<FreightPage, _>(&state, &me, DONE, move |c, t| {
            Box::pin(async move {
                store::rules::add_freight_rule(c, &t, &row)
                    .await
                    .map(|_| ())
            })
        })
        .await
}

/// One of the store's freight rules, or 404 (another store's id is not found either).
async fn rule_of(state: &AppState, me: &Me, id: &str) -> Result<FreightRuleRow, AppError> {
    let rules = store::rules::load(&state.db, &me.tenant.id).await?;
    rules
        .freight
        .into_iter()
        .find(|r| r.id == id)
        .ok_or(AppError::NotFound)
}

/// `/frete/{id}`: the rule's form, filled in with what it is now.
pub async fn edit_page(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let r = &rule_of(&state, &me, &id).await?;
    let reais = |c: i64| Centavos(c).to_reais();
    let (kind, bairros, cep_from, cep_to) = match &r.zone {
        FreightZoneRow::Bairros(b) => ("bairros", b.join(", "), String::new(), String::new()),
        FreightZoneRow::CepRange { from, to } => (
            "cep",
            String::new(),
            format!("{from:08}"),
            format!("{to:08}"),
        ),
    };
    let rule = context! {
        id => r.id.clone(), label => r.label.clone(), kind => kind, bairros => bairros,
        cep_from => cep_from, cep_to => cep_to, base => reais(r.base_cents),
        per_kg => if r.per_kg_cents == 0 { String::new() } else { reais(r.per_kg_cents) },
        free_above => r.free_above_cents.map(reais).unwrap_or_default(),
    };
    let html = view::page(
        &me,
        "dashboard/freight_edit.html",
        "frete",
        context! { rule => rule },
    )?;
    Ok(html.into_response())
}

/// Saves an edited rule in its place in the order.
pub async fn update(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
    Form(f): Form<FreightForm>,
) -> Result<Response, AppError> {
    let before = &rule_of(&state, &me, &id).await?;
    let row = match rule_from(&f, before.position) {
        Ok(row) => row,
        Err(errors) => return FreightPage::refuse(&state, &me, errors).await,
    };
    Change::new("freight.update", "freight_rule")
        .of(&id)
        .before(freight_json(before))
        .after(freight_json(&row))
        .save_then::<FreightPage, _>(&state, &me, DONE, move |c, t| {
            Box::pin(async move { store::rules::update_freight_rule(c, &t, &id, &row).await })
        })
        .await
}

pub async fn delete(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let r = &rule_of(&state, &me, &id).await?;
    Change::new("freight.delete", "freight_rule")
        .of(&id)
        .before(freight_json(r))
        .save_then::<FreightPage, _>(&state, &me, DONE, move |c, t| {
            Box::pin(async move { store::rules::delete_freight_rule(c, &t, &id).await })
        })
        .await
}

#[derive(Deserialize)]
pub struct MoveForm {
    #[serde(default)]
    dir: String,
}

/// Swaps a rule with its neighbour (first match wins, so order matters).
pub async fn reorder(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
    Form(f): Form<MoveForm>,
) -> Result<Response, AppError> {
    let rules = store::rules::load(&state.db, &me.tenant.id).await?;
    let list = rules.freight;
    let i = list
        .iter()
        .position(|r| r.id == id)
        .ok_or(AppError::NotFound)?;
    let j = if f.dir == "up" {
        i.checked_sub(1)
    } else {
        Some(i + 1).filter(|j| *j < list.len())
    };
    let Some(j) = j else {
        return Ok(Redirect::to("/frete").into_response());
    };
    // Positions may repeat; renumber everything after the swap so the order is explicit.
    let mut ids: Vec<String> = list.iter().map(|r| r.id.clone()).collect();
    ids.swap(i, j);
    let before = serde_json::json!(list.iter().map(|r| r.label.clone()).collect::<Vec<_>>());
    let after = serde_json::json!(ids
        .iter()
        .filter_map(|id| list.iter().find(|r| &r.id == id).map(|r| r.label.clone()))
        .collect::<Vec<_>>());
    Change::new("freight.reorder", "freight_rule")
        .of(&id)
        .before(before)
        .after(after)
        .save_then::<FreightPage, _>(&state, &me, DONE, move |c, t| {
            Box::pin(async move {
                for (pos, rid) in ids.iter().enumerate() {
                    store::rules::set_freight_position(c, &t, rid, pos as i64 + 1).await?;
                }
                Ok(())
            })
        })
        .await
}
