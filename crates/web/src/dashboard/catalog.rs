//! The catalog: list, add/edit by SKU, active flag, CSV import (all or nothing) and export.

use axum::extract::{Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use domain::catalog::{
    parse_catalog_csv, parse_weight_grams_br, write_catalog_csv, write_model_csv,
    write_price_list_csv, CatalogItem, Unit, DEMO_CATALOG_CSV,
};
use domain::money::limits;
use domain::sanitize::storable;
use minijinja::{context, Value};
use serde::Deserialize;
use store::audit::{self, Entry};

use super::catalog_file::Upload;
use super::security::Me;
use super::view::{self, brl};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Deserialize, Default)]
pub struct CatalogQuery {
    ok: Option<String>,
    q: Option<String>,
}

fn item_json(i: &CatalogItem) -> serde_json::Value {
    serde_json::to_value(i).unwrap_or_default()
}

async fn render(
    state: &AppState,
    me: &Me,
    q: &CatalogQuery,
    form: Option<Value>,
    errors: Vec<String>,
    csv: &str,
    status: StatusCode,
) -> Result<Response, AppError> {
    let items = store::catalog::list(&state.db, &me.tenant.id).await?;
    let review = store::onboarding::price_review_skus(&state.db, &me.tenant.id).await?;
    let needle =
        q.q.as_deref()
            .map(|s| s.trim().to_lowercase())
            .unwrap_or_default();
    let rows: Vec<Value> = items
        .iter()
        .filter(|s| {
            needle.is_empty()
                || s.item.sku.to_lowercase().contains(&needle)
                || s.item.name.to_lowercase().contains(&needle)
        })
        .map(|s| {
            let i = &s.item;
            context! {
                id => s.id.clone(), sku => i.sku.clone(), name => i.name.clone(), unit => i.unit.label(), unit_code => i.unit.code(),
                price => brl(i.price.0), cost => brl(i.cost.0),
                // pt-BR as everywhere a person reads: "1.500 kg", "0,2 kg" (the export keeps "1500").
                weight => domain::money::Quantity::from_thousandths(i.weight_grams).to_br(),
                price_input => i.price.to_reais(),
                cost_input => i.cost.to_reais(),
                aliases => i.aliases.join(", "), active => i.active,
                review => review.contains(&i.sku),
            }
        })
        .collect();
    let units: Vec<Value> = Unit::ALL
        .iter()
        .map(|u| context! { code => u.code(), label => u.label() })
        .collect();
    let html = view::page(
        me,
        "dashboard/catalog.html",
        "catalogo",
        context! {
            rows => rows, units => units, total => items.len(), q => q.q.clone(), price_review => review.len(),
            notice => view::notice(q.ok.as_deref()), form => form, errors => errors, csv => csv,
        },
    )?;
    Ok((status, html).into_response())
}

pub async fn page(
    State(state): State<AppState>,
    me: Me,
    Query(q): Query<CatalogQuery>,
) -> Result<Response, AppError> {
    render(&state, &me, &q, None, vec![], "", StatusCode::OK).await
}

#[derive(Deserialize, Clone)]
pub struct ItemForm {
    #[serde(default)]
    sku: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    price: String,
    #[serde(default)]
    cost: String,
    #[serde(default)]
    weight_kg: String,
    #[serde(default)]
    aliases: String,
    #[serde(default)]
    active: Option<String>,
}

fn parse_item(f: &ItemForm) -> Result<CatalogItem, Vec<String>> {
    let mut errs = Vec::new();
    let sku = f.sku.trim().to_string();
    if sku.is_empty()
        || sku.len() > 64
        || !sku
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        errs.push("SKU: use letras, números, - ou _ (até 64).".to_string());
    }
    let name = storable(f.name.trim()).into_owned();
    if name.is_empty() || name.chars().count() > 200 {
        errs.push("Nome: obrigatório, até 200 caracteres.".into());
    }
    let unit = f
        .unit
        .parse::<Unit>()
        .map_err(|e| errs.push(format!("Unidade: {e}")))
        .ok();
    let price = limits::CATALOG_PRICE
        .parse(&f.price)
        .map_err(|e| errs.push(e.to_string()))
        .ok();
    let cost = limits::CATALOG_COST
        .parse(&f.cost)
        .map_err(|e| errs.push(e.to_string()))
        .ok();
    let weight = parse_weight_grams_br(&f.weight_kg)
        .map_err(|e| errs.push(format!("Peso: {e}")))
        .ok();
    let aliases: Vec<String> = f
        .aliases
        .split([',', ';'])
        .map(|a| storable(a.trim()).into_owned())
        .filter(|a| !a.is_empty())
        .collect();
    match (unit, price, cost, weight) {
        (Some(unit), Some(price), Some(cost), Some(weight_grams)) if errs.is_empty() => {
            Ok(CatalogItem {
                sku,
                name,
                unit,
                price,
                cost,
                weight_grams,
                aliases,
                active: f.active.is_some(),
            })
        }
        _ => Err(errs),
    }
}

pub async fn save_item(
    State(state): State<AppState>,
    me: Me,
    Form(f): Form<ItemForm>,
) -> Result<Response, AppError> {
    let item = match parse_item(&f) {
        Ok(i) => i,
        Err(errs) => {
            let form = context! { sku => f.sku, name => f.name, unit => f.unit, price => f.price, cost => f.cost, weight_kg => f.weight_kg, aliases => f.aliases };
            return render(
                &state,
                &me,
                &CatalogQuery::default(),
                Some(form),
                errs,
                "",
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let before = store::catalog::list(&state.db, &me.tenant.id)
        .await?
        .into_iter()
        .find(|s| s.item.sku == item.sku)
        .map(|s| item_json(&s.item));
    let (tenant_id, actor) = (me.tenant.id.clone(), me.actor());
    state
        .db
        .tx(move |c| {
            Box::pin(async move {
                let id = store::catalog::upsert(c, &tenant_id, &item).await?;
                audit::record(
                    c,
                    &Entry {
                        tenant_id: Some(&tenant_id),
                        actor_user_id: Some(&actor.user_id),
                        actor_label: &actor.label,
                        action: if before.is_some() {
                            "catalog.update"
                        } else {
                            "catalog.create"
                        },
                        entity: "catalog_item",
                        entity_id: Some(&id),
                        before,
                        after: Some(item_json(&item)),
                        request_id: actor.request_id.as_deref(),
                    },
                )
                .await
            })
        })
        .await?;
    Ok(Redirect::to("/catalogo?ok=salvo").into_response())
}

pub async fn toggle_active(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let item = store::catalog::list(&state.db, &me.tenant.id)
        .await?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or(AppError::NotFound)?;
    let (tenant_id, actor) = (me.tenant.id.clone(), me.actor());
    let now_active = !item.item.active;
    state
        .db
        .tx(move |c| {
            Box::pin(async move {
                store::catalog::set_active(c, &tenant_id, &id, now_active).await?;
                audit::record(
                    c,
                    &Entry {
                        tenant_id: Some(&tenant_id),
                        actor_user_id: Some(&actor.user_id),
                        actor_label: &actor.label,
                        action: "catalog.set_active",
                        entity: "catalog_item",
                        entity_id: Some(&id),
                        before: Some(serde_json::json!({ "active": !now_active })),
                        after: Some(serde_json::json!({ "active": now_active })),
                        request_id: actor.request_id.as_deref(),
                    },
                )
                .await
            })
        })
        .await?;
    Ok(Redirect::to("/catalogo?ok=salvo").into_response())
}

/// All or nothing: any bad row shows every row's error and changes nothing. The form is
/// `multipart/form-data` (a CSV file, or pasted text); see `catalog_file`.
pub async fn import_csv(
    State(state): State<AppState>,
    me: Me,
    req: Request,
) -> Result<Response, AppError> {
    let upload = match Upload::read(req, state.cfg.form_body_limit).await {
        Ok(upload) => upload,
        Err(refused) => return Ok(refused),
    };
    let (parsed, shown) = upload.parse();
    let items = match parsed {
        Ok(items) if !items.is_empty() => items,
        refused => {
            let errors = match refused {
                Err(errs) => errs.iter().map(|e| e.to_string()).collect(),
                Ok(_) => vec!["O arquivo não tem nenhum item.".into()],
            };
            return render(
                &state,
                &me,
                &CatalogQuery::default(),
                None,
                errors,
                &shown,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let n = items.len();
    let (tenant_id, actor) = (me.tenant.id.clone(), me.actor());
    state
        .db
        .tx(move |c| {
            Box::pin(async move {
                for item in &items {
                    store::catalog::upsert(c, &tenant_id, item).await?;
                }
                audit::record(c, &Entry {
                    tenant_id: Some(&tenant_id), actor_user_id: Some(&actor.user_id), actor_label: &actor.label,
                    action: "catalog.import", entity: "catalog", entity_id: None,
                    before: None, after: Some(serde_json::json!({ "items": n, "skus": items.iter().map(|i| i.sku.clone()).collect::<Vec<_>>() })),
                    request_id: actor.request_id.as_deref(),
                }).await
            })
        })
        .await?;
    Ok(Redirect::to("/catalogo?ok=importado").into_response())
}

/// The owner gets the whole catalog (the import format); an attendant, who sees no costs on
/// the catalog page, gets the price list: the same file without `cost_cents`, which is what
/// the counter needs.
pub async fn export_csv(State(state): State<AppState>, me: Me) -> Result<Response, AppError> {
    let items: Vec<CatalogItem> = store::catalog::list(&state.db, &me.tenant.id)
        .await?
        .into_iter()
        .map(|s| s.item)
        .collect();
    let (name, body) = if me.is_owner() {
        ("catalogo", write_catalog_csv(&items))
    } else {
        ("precos", write_price_list_csv(&items))
    };
    let disposition = format!("attachment; filename=\"{name}-{}.csv\"", me.tenant.slug);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            // Prices (and for the owner, costs) must not stay in a shared cache.
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response())
}

/// The model spreadsheet to fill in: a few real items of the demo catalog in the format Excel
/// opens directly in Brazil (`;`, UTF-8 with BOM, reais with comma). It names no store data,
/// so any signed-in person may take it.
pub async fn model_csv(_me: Me) -> Result<Response, AppError> {
    let examples: Vec<CatalogItem> = parse_catalog_csv(DEMO_CATALOG_CSV)
        .map_err(|e| anyhow::anyhow!("catálogo de demonstração inválido: {e:?}"))?
        .into_iter()
        .take(3)
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"modelo-catalogo.csv\"",
            ),
        ],
        write_model_csv(&examples),
    )
        .into_response())
}
