//! The owner's settings: pricing rules, volume discounts, freight, message templates, team
//! and the WhatsApp number. Every change is audited with before and after.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use domain::money::{limits, BasisPoints, Centavos, MoneyLimit, Quantity};
use domain::templates::{self, TemplateKind};
use minijinja::{context, Value};
use serde::Deserialize;
use store::audit::{self, Entry};
use store::rules::{FreightRuleRow, FreightZoneRow, PricingRulesRow};
use store::users::Role;

use super::security::Me;
use super::view::{self, brl, datetime_br};
use crate::auth::password;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Deserialize, Default)]
pub struct Notice {
    ok: Option<String>,
}

/// Writes a change and its audit entry in one transaction.
#[allow(clippy::too_many_arguments)]
async fn audited<F>(
    state: &AppState,
    me: &Me,
    action: &'static str,
    entity: &'static str,
    entity_id: Option<String>,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
    change: F,
) -> Result<(), AppError>
where
    F: for<'c> FnOnce(&'c mut sqlx::AnyConnection, String) -> store::db::BoxFut<'c, ()>
        + Send
        + 'static,
{
    let (tenant_id, actor) = (me.tenant.id.clone(), me.actor());
    state
        .db
        .tx(move |c| {
            Box::pin(async move {
                change(&mut *c, tenant_id.clone()).await?;
                audit::record(
                    c,
                    &Entry {
                        tenant_id: Some(&tenant_id),
                        actor_user_id: Some(&actor.user_id),
                        actor_label: &actor.label,
                        action,
                        entity,
                        entity_id: entity_id.as_deref(),
                        before,
                        after,
                        request_id: actor.request_id.as_deref(),
                    },
                )
                .await
            })
        })
        .await?;
    Ok(())
}

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
    Centavos(c).to_brl().trim_start_matches("R$ ").to_string()
}

// ---------- rules ----------

async fn rules_render(
    state: &AppState,
    me: &Me,
    notice: Option<&str>,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let r = store::rules::load(&state.db, &me.tenant.id).await?;
    let p = &r.pricing;
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

pub async fn rules_page(
    State(state): State<AppState>,
    me: Me,
    Query(n): Query<Notice>,
) -> Result<Response, AppError> {
    rules_render(&state, &me, n.ok.as_deref(), vec![], StatusCode::OK).await
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

pub async fn save_rules(
    State(state): State<AppState>,
    me: Me,
    Form(f): Form<RulesForm>,
) -> Result<Response, AppError> {
    let mut errors = Vec::new();
    let mut pct = |v: &str, what: &str| {
        parse_percent(v, what)
            .map_err(|e| errors.push(e))
            .unwrap_or(0)
    };
    let new = PricingRulesRow {
        pix_discount_bp: pct(&f.pix, "Desconto PIX"),
        cartao_discount_bp: pct(&f.cartao, "Desconto cartão"),
        boleto_discount_bp: pct(&f.boleto, "Desconto boleto"),
        dinheiro_discount_bp: pct(&f.dinheiro, "Desconto dinheiro"),
        min_margin_bp: pct(&f.min_margin, "Margem mínima"),
        approval_above_cents: 0,
        quote_validity_hours: 0,
    };
    let mut new = new;
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
    if !errors.is_empty() {
        return rules_render(&state, &me, None, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let before = store::rules::load(&state.db, &me.tenant.id).await?.pricing;
    let after = rules_json(&new);
    audited(
        &state,
        &me,
        "rules.update",
        "pricing_rules",
        None,
        Some(rules_json(&before)),
        Some(after),
        move |c, t| Box::pin(async move { store::rules::save_pricing(c, &t, &new).await }),
    )
    .await?;
    Ok(Redirect::to("/regras?ok=salvo").into_response())
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
        return rules_render(&state, &me, None, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let after = serde_json::json!({ "sku": sku, "min_quantity_milli": min.thousandths(), "discount_bp": bp });
    audited(
        &state,
        &me,
        "rules.volume_add",
        "volume_discount",
        None,
        None,
        Some(after),
        move |c, t| {
            Box::pin(async move {
                let sku = (!sku.is_empty()).then_some(sku);
                store::rules::add_volume_discount(c, &t, sku.as_deref(), min.thousandths(), bp)
                    .await
                    .map(|_| ())
            })
        },
    )
    .await?;
    Ok(Redirect::to("/regras?ok=salvo").into_response())
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
    let before = serde_json::json!({ "sku": v.sku, "min_quantity_milli": v.min_quantity_milli, "discount_bp": v.discount_bp });
    let vid = id.clone();
    audited(
        &state,
        &me,
        "rules.volume_delete",
        "volume_discount",
        Some(id),
        Some(before),
        None,
        move |c, t| {
            Box::pin(async move { store::rules::delete_volume_discount(c, &t, &vid).await })
        },
    )
    .await?;
    Ok(Redirect::to("/regras?ok=salvo").into_response())
}

// ---------- freight ----------

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

async fn freight_render(
    state: &AppState,
    me: &Me,
    notice: Option<&str>,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let r = store::rules::load(&state.db, &me.tenant.id).await?;
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
        context! { rows => rows, notice => view::notice(notice), errors => errors },
    )?;
    Ok((status, html).into_response())
}

pub async fn freight_page(
    State(state): State<AppState>,
    me: Me,
    Query(n): Query<Notice>,
) -> Result<Response, AppError> {
    freight_render(&state, &me, n.ok.as_deref(), vec![], StatusCode::OK).await
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

pub async fn add_freight(
    State(state): State<AppState>,
    me: Me,
    Form(f): Form<FreightForm>,
) -> Result<Response, AppError> {
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
    let rules = store::rules::load(&state.db, &me.tenant.id).await?;
    let position = f
        .position
        .trim()
        .parse::<i64>()
        .unwrap_or_else(|_| rules.freight.iter().map(|r| r.position).max().unwrap_or(0) + 1);
    let (Some(zone), true) = (zone, errors.is_empty()) else {
        return freight_render(&state, &me, None, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let row = FreightRuleRow {
        id: String::new(),
        position,
        label,
        zone,
        base_cents: base,
        per_kg_cents: per_kg,
        free_above_cents: free_above,
    };
    let after = freight_json(&row);
    audited(
        &state,
        &me,
        "freight.add",
        "freight_rule",
        None,
        None,
        Some(after),
        move |c, t| {
            Box::pin(async move {
                store::rules::add_freight_rule(c, &t, &row)
                    .await
                    .map(|_| ())
            })
        },
    )
    .await?;
    Ok(Redirect::to("/frete?ok=salvo").into_response())
}

pub async fn delete_freight(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let rules = store::rules::load(&state.db, &me.tenant.id).await?;
    let r = rules
        .freight
        .iter()
        .find(|r| r.id == id)
        .ok_or(AppError::NotFound)?;
    let before = freight_json(r);
    let fid = id.clone();
    audited(
        &state,
        &me,
        "freight.delete",
        "freight_rule",
        Some(id),
        Some(before),
        None,
        move |c, t| Box::pin(async move { store::rules::delete_freight_rule(c, &t, &fid).await }),
    )
    .await?;
    Ok(Redirect::to("/frete?ok=salvo").into_response())
}

#[derive(Deserialize)]
pub struct MoveForm {
    #[serde(default)]
    dir: String,
}

/// Swaps a rule with its neighbour (first match wins, so order matters).
pub async fn move_freight(
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
    audited(
        &state,
        &me,
        "freight.reorder",
        "freight_rule",
        Some(id),
        Some(before),
        Some(after),
        move |c, t| {
            Box::pin(async move {
                for (pos, rid) in ids.iter().enumerate() {
                    store::rules::set_freight_position(c, &t, rid, pos as i64 + 1).await?;
                }
                Ok(())
            })
        },
    )
    .await?;
    Ok(Redirect::to("/frete?ok=salvo").into_response())
}

// ---------- templates ----------

fn kind_of(code: &str) -> Result<TemplateKind, AppError> {
    TemplateKind::from_code(code).ok_or(AppError::NotFound)
}

pub async fn templates_page(
    State(state): State<AppState>,
    me: Me,
) -> Result<Html<String>, AppError> {
    let mut rows = Vec::new();
    for k in TemplateKind::ALL {
        let hist = store::templates::history(&state.db, &me.tenant.id, k.code()).await?;
        rows.push(context! { code => k.code(), label => k.label_pt(), version => hist.first().map(|h| h.version), custom => !hist.is_empty() });
    }
    view::page(
        &me,
        "dashboard/templates.html",
        "modelos",
        context! { rows => rows },
    )
}

async fn editor(
    state: &AppState,
    me: &Me,
    kind: TemplateKind,
    source: Option<String>,
    error: Option<templates::TemplateError>,
    notice: Option<&str>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let hist = store::templates::history(&state.db, &me.tenant.id, kind.code()).await?;
    let current = hist
        .first()
        .map(|h| h.source.clone())
        .unwrap_or_else(|| templates::default_source(kind).to_string());
    let source = source.unwrap_or(current);
    let preview = templates::render(kind, &source, &templates::sample_context(kind));
    let users = store::users::list(&state.db, &me.tenant.id).await?;
    let history: Vec<Value> = hist
        .iter()
        .map(|h| {
            let who = h.created_by.as_ref().and_then(|id| users.iter().find(|u| &u.id == id)).map(|u| u.email.clone()).unwrap_or_else(|| "—".into());
            context! { version => h.version, at => datetime_br(h.created_at), who => who, source => h.source.clone() }
        })
        .collect();
    let vars: Vec<Value> = templates::variables(kind)
        .iter()
        .map(|(n, d)| context! { name => n, desc => d })
        .collect();
    let lines: Vec<Value> = source.lines().enumerate().map(|(i, l)| context! { n => i + 1, text => l, bad => error.as_ref().and_then(|e| e.line) == Some(i + 1) }).collect();
    let html = view::page(
        me,
        "dashboard/template_edit.html",
        "modelos",
        context! {
            kind => context! { code => kind.code(), label => kind.label_pt() },
            source => source, vars => vars, history => history, notice => view::notice(notice),
            error => error.as_ref().map(|e| context! { line => e.line, message => e.message.clone() }),
            error_lines => if error.as_ref().and_then(|e| e.line).is_some() { lines } else { vec![] },
            preview => preview.as_ref().ok().cloned(),
            preview_error => preview.err().map(|e| e.message),
        },
    )?;
    Ok((status, html).into_response())
}

pub async fn template_editor(
    State(state): State<AppState>,
    me: Me,
    Path(code): Path<String>,
    Query(n): Query<Notice>,
) -> Result<Response, AppError> {
    let kind = kind_of(&code)?;
    editor(
        &state,
        &me,
        kind,
        None,
        None,
        n.ok.as_deref(),
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize)]
pub struct TemplateForm {
    #[serde(default)]
    source: String,
}

pub async fn save_template(
    State(state): State<AppState>,
    me: Me,
    Path(code): Path<String>,
    Form(f): Form<TemplateForm>,
) -> Result<Response, AppError> {
    let kind = kind_of(&code)?;
    let source = f.source.replace("\r\n", "\n");
    if let Err(e) = templates::validate(kind, &source) {
        return editor(
            &state,
            &me,
            kind,
            Some(source),
            Some(e),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let before = {
        let mut c = state
            .db
            .read()
            .acquire()
            .await
            .map_err(store::StoreError::from)?;
        store::templates::current(&mut c, &me.tenant.id, kind.code()).await?
    };
    let user_id = me.user.id.clone();
    let after = serde_json::json!({ "source": source });
    audited(
        &state,
        &me,
        "template.save",
        "message_template",
        Some(kind.code().to_string()),
        before.map(|s| serde_json::json!({ "source": s })),
        Some(after),
        move |c, t| {
            Box::pin(async move {
                store::templates::save(c, &t, kind.code(), &source, Some(&user_id))
                    .await
                    .map(|_| ())
            })
        },
    )
    .await?;
    Ok(Redirect::to(&format!("/modelos/{}?ok=salvo", kind.code())).into_response())
}

/// HTMX live preview: the text rendered with sample data, or the error at its line.
pub async fn preview_template(
    me: Me,
    Path(code): Path<String>,
    Form(f): Form<TemplateForm>,
) -> Result<Html<String>, AppError> {
    let kind = kind_of(&code)?;
    let out = templates::render(
        kind,
        &f.source.replace("\r\n", "\n"),
        &templates::sample_context(kind),
    );
    view::page(
        &me,
        "dashboard/template_preview.html",
        "modelos",
        context! {
            preview => out.as_ref().ok().cloned(),
            error => out.err().map(|e| context! { line => e.line, message => e.message }),
        },
    )
}

// ---------- team ----------

async fn team_render(
    state: &AppState,
    me: &Me,
    notice: Option<&str>,
    created: Option<Value>,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let users = store::users::list(&state.db, &me.tenant.id).await?;
    let sessions = store::sessions::list_for_tenant(&state.db, &me.tenant.id).await?;
    let rows: Vec<Value> = users
        .iter()
        .map(|u| context! { id => u.id.clone(), name => u.name.clone(), email => u.email.clone(), role => u.role.label_pt(), role_code => u.role.code(), me => u.id == me.user.id })
        .collect();
    let sess: Vec<Value> = sessions
        .iter()
        .map(|s| {
            let who = users.iter().find(|u| u.id == s.user_id).map(|u| u.email.clone()).unwrap_or_default();
            context! { id => s.id_hash.clone(), who => who, ip => s.ip.clone(), agent => s.user_agent.chars().take(60).collect::<String>(),
                last => datetime_br(s.last_seen_at), current => s.id_hash == me.session.id_hash }
        })
        .collect();
    let html = view::page(
        me,
        "dashboard/team.html",
        "equipe",
        context! { rows => rows, sessions => sess, notice => view::notice(notice), created => created, errors => errors },
    )?;
    Ok((status, html).into_response())
}

pub async fn team_page(
    State(state): State<AppState>,
    me: Me,
    Query(n): Query<Notice>,
) -> Result<Response, AppError> {
    team_render(&state, &me, n.ok.as_deref(), None, vec![], StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

/// The generated password is shown once, on this response, and never stored in clear.
pub async fn invite(
    State(state): State<AppState>,
    me: Me,
    Form(f): Form<InviteForm>,
) -> Result<Response, AppError> {
    let email = store::users::normalize_email(&f.email);
    let name = f.name.trim().to_string();
    let mut errors = Vec::new();
    if !(email.contains('@') && email.len() <= 200 && !email.contains(char::is_whitespace)) {
        errors.push("E-mail inválido".to_string());
    }
    if name.is_empty() || name.chars().count() > 100 {
        errors.push("Nome: obrigatório, até 100 caracteres".into());
    }
    let role = if f.role == "owner" {
        Role::Owner
    } else {
        Role::Attendant
    };
    if !errors.is_empty() {
        return team_render(
            &state,
            &me,
            None,
            None,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let pw = password::generate();
    let hash = password::hash(&pw).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    let after = serde_json::json!({ "email": email, "name": name, "role": role.code() });
    let (e2, n2) = (email.clone(), name.clone());
    let res = audited(
        &state,
        &me,
        "team.invite",
        "user",
        None,
        None,
        Some(after),
        move |c, t| {
            Box::pin(async move {
                store::users::create(c, &t, &e2, &n2, &hash, role)
                    .await
                    .map(|_| ())
            })
        },
    )
    .await;
    match res {
        Ok(()) => {}
        Err(AppError::Conflict(m)) => {
            return team_render(&state, &me, None, None, vec![m], StatusCode::CONFLICT).await
        }
        Err(e) => return Err(e),
    }
    team_render(
        &state,
        &me,
        None,
        Some(context! { email => email, password => pw }),
        vec![],
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

pub async fn set_role(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
    Form(f): Form<RoleForm>,
) -> Result<Response, AppError> {
    let user = store::users::by_id(&state.db, &me.tenant.id, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    let role = if f.role == "owner" {
        Role::Owner
    } else {
        Role::Attendant
    };
    let before = serde_json::json!({ "role": user.role.code() });
    let after = serde_json::json!({ "role": role.code() });
    audited(
        &state,
        &me,
        "team.set_role",
        "user",
        Some(id.clone()),
        Some(before),
        Some(after),
        move |c, t| {
            Box::pin(async move {
                store::users::set_role(c, &t, &id, role).await?;
                // A store never loses its last owner.
                if store::users::count_owners(c, &t).await? == 0 {
                    return Err(store::StoreError::Conflict(
                        "a loja precisa de pelo menos um dono".into(),
                    ));
                }
                Ok(())
            })
        },
    )
    .await?;
    Ok(Redirect::to("/equipe?ok=salvo").into_response())
}

pub async fn revoke_session(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let sid = id.clone();
    let res = audited(
        &state,
        &me,
        "team.revoke_session",
        "session",
        None,
        None,
        None,
        move |c, t| {
            Box::pin(async move {
                if store::sessions::revoke(c, &t, &sid).await? {
                    Ok(())
                } else {
                    Err(store::StoreError::NotFound)
                }
            })
        },
    )
    .await;
    res?;
    Ok(Redirect::to("/equipe?ok=encerrada").into_response())
}

// ---------- WhatsApp ----------

async fn whatsapp_render(
    state: &AppState,
    me: &Me,
    notice: Option<&str>,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let ch = store::channels::for_tenant(&state.db, &me.tenant.id)
        .await?
        .into_iter()
        .next();
    let html = view::page(
        me,
        "dashboard/whatsapp.html",
        "whatsapp",
        context! {
            notice => view::notice(notice), errors => errors,
            ch => ch.map(|c| context! { phone_number_id => c.phone_number_id, waba_id => c.waba_id, display => c.display_number,
                has_token => c.access_token_enc.is_some(), last_error => c.last_error_code }),
        },
    )?;
    Ok((status, html).into_response())
}

pub async fn whatsapp_page(
    State(state): State<AppState>,
    me: Me,
    Query(n): Query<Notice>,
) -> Result<Response, AppError> {
    whatsapp_render(&state, &me, n.ok.as_deref(), vec![], StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct WhatsappForm {
    #[serde(default)]
    phone_number_id: String,
    #[serde(default)]
    waba_id: String,
    #[serde(default)]
    display: String,
    #[serde(default)]
    token: String,
}

/// The token is encrypted before it touches the database and never sent back to a browser;
/// an empty field keeps the stored one.
pub async fn save_whatsapp(
    State(state): State<AppState>,
    me: Me,
    Form(f): Form<WhatsappForm>,
) -> Result<Response, AppError> {
    let digits = |s: &str| s.trim().to_string();
    let (pnid, waba, display) = (
        digits(&f.phone_number_id),
        digits(&f.waba_id),
        f.display.trim().to_string(),
    );
    let mut errors = Vec::new();
    if pnid.is_empty() || pnid.len() > 32 || !pnid.bytes().all(|b| b.is_ascii_digit()) {
        errors.push("Phone number ID: só números, como aparece no painel da Meta".to_string());
    }
    if !waba.is_empty() && (waba.len() > 32 || !waba.bytes().all(|b| b.is_ascii_digit())) {
        errors.push("WABA ID: só números".into());
    }
    if display.chars().count() > 30 {
        errors.push("Número exibido: até 30 caracteres".into());
    }
    let token = f.token.trim().to_string();
    if token.len() > 1024 || token.contains(char::is_whitespace) {
        errors.push("Token de acesso inválido".into());
    }
    if !errors.is_empty() {
        return whatsapp_render(&state, &me, None, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let existing = store::channels::for_tenant(&state.db, &me.tenant.id)
        .await?
        .into_iter()
        .next();
    let enc = (!token.is_empty()).then(|| state.cipher.encrypt(&token));
    let version = state.cipher.current_key_id().as_i64();
    let before = existing.as_ref().map(|c| serde_json::json!({ "phone_number_id": c.phone_number_id, "waba_id": c.waba_id, "display": c.display_number }));
    // The audit log records that the token changed, never the token.
    let after = serde_json::json!({ "phone_number_id": pnid, "waba_id": waba, "display": display, "token_changed": enc.is_some() });
    let res = audited(
        &state,
        &me,
        "whatsapp.update",
        "channel",
        existing.as_ref().map(|c| c.id.clone()),
        before,
        Some(after),
        move |c, t| {
            Box::pin(async move {
                match existing {
                    Some(ch) => {
                        store::channels::update_ids(c, &t, &ch.id, &pnid, &waba, &display).await?;
                        if let Some(enc) = enc {
                            store::channels::set_token(c, &t, &ch.id, &enc, version).await?;
                        }
                    }
                    None => {
                        store::channels::create(
                            c,
                            &t,
                            &pnid,
                            &waba,
                            &display,
                            enc.as_deref(),
                            version,
                        )
                        .await?;
                    }
                }
                Ok(())
            })
        },
    )
    .await;
    match res {
        Ok(()) => Ok(Redirect::to("/whatsapp?ok=salvo").into_response()),
        Err(AppError::Conflict(m)) => {
            whatsapp_render(&state, &me, None, vec![m], StatusCode::CONFLICT).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct TestSendForm {
    #[serde(default)]
    phone: String,
}

pub const TEST_MESSAGE: &str =
    "Teste do OrçaZap: este número está conectado e pronto para responder orçamentos. ✅";

/// Sends a test text through the same outbound queue and worker as the bot; it shows up in
/// the inbox with its delivery ticks (or Meta's error), which is the proof the connection
/// works. Meta only delivers free text inside the 24 h window, so the page asks the owner
/// to message the store's number first.
pub async fn test_send(
    State(state): State<AppState>,
    me: Me,
    Form(f): Form<TestSendForm>,
) -> Result<Response, AppError> {
    let digits: String = f.phone.chars().filter(|c| c.is_ascii_digit()).collect();
    let wa = match domain::ids::WaId::parse(&digits) {
        Ok(w) => w,
        Err(e) => {
            return whatsapp_render(
                &state,
                &me,
                None,
                vec![format!("Número: {e}")],
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    };
    let Some(ch) = store::channels::for_tenant(&state.db, &me.tenant.id)
        .await?
        .into_iter()
        .next()
    else {
        return whatsapp_render(
            &state,
            &me,
            None,
            vec!["Conecte um número antes de testar.".into()],
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let engine = state.db.engine();
    let (to, user_id, rid) = (
        wa.as_str().to_string(),
        me.user.id.clone(),
        me.request_id.clone(),
    );
    let after = serde_json::json!({ "to": wa.masked() });
    let conv_id = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let conv_out = conv_id.clone();
    audited(
        &state,
        &me,
        "whatsapp.test_send",
        "channel",
        Some(ch.id.clone()),
        None,
        Some(after),
        move |c, t| {
            Box::pin(async move {
                let contact = store::conversations::contact_for_number(c, &t, &to).await?;
                let conv = store::conversations::open_for_contact(c, &t, &contact, &ch.id).await?;
                let target = worker::outbound::Target {
                    engine,
                    tenant_id: &t,
                    conversation_id: &conv,
                    contact_id: &contact,
                    request_id: Some(&rid),
                };
                let payload = worker::outbound::Payload::Text {
                    to: to.clone(),
                    body: TEST_MESSAGE.to_string(),
                };
                worker::outbound::queue(c, &target, &payload, Some(&user_id)).await?;
                if let Ok(mut g) = conv_out.lock() {
                    *g = conv;
                }
                Ok(())
            })
        },
    )
    .await?;
    state.wake.notify_one();
    let conv = conv_id.lock().map(|g| g.clone()).unwrap_or_default();
    Ok(Redirect::to(&format!("/conversas/{conv}?ok=enviada")).into_response())
}
