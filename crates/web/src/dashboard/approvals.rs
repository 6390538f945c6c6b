//! `/aprovacoes`: quotes the bot held for a person (low margin, high total, no freight rule):
//! approve (sent through the bot's own path), edit lines and freight (re-priced by the domain)
//! or reject with a reason.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use domain::money::{limits, Centavos, Quantity};
use domain::pricing::{reprice, FreightEdit, LineEdit};
use domain::status::{ApprovalStatus, QuoteStatus};
use minijinja::context;
use serde::Deserialize;
use store::{conversations, quotes};
use worker::actions;

use super::action_err;
use super::change::read_conn;
use super::change::Change;
use super::quotes::{priced_of, quote_view, reasons_pt};
use super::security::Me;
use super::view::{self, brl, Notice};
use crate::error::AppError;
use crate::state::AppState;

pub async fn list(
    State(state): State<AppState>,
    me: Me,
    Query(n): Query<Notice>,
) -> Result<Html<String>, AppError> {
    let list = quotes::approvals(&state.db, &me.tenant.id, ApprovalStatus::Pending, 100).await?;
    let clock = view::clock(&me);
    let mut rows = Vec::new();
    for a in list {
        let Some(q) = quotes::get(&state.db, &me.tenant.id, &a.quote_id).await? else {
            continue;
        };
        let conv = conversations::get(&state.db, &me.tenant.id, &q.conversation_id).await?;
        // The quote's current reasons, as on the detail page (an edit re-checks them).
        let reasons = match priced_of(&q) {
            Ok(p) => p.approval_reasons.iter().map(|r| r.label_pt()).collect(),
            Err(_) => reasons_pt(&a.reasons_json),
        };
        rows.push(context! {
            id => a.id, number => q.number, total => brl(q.total_cents),
            reasons => reasons, created => clock.datetime_br(a.created_at),
            customer => conv.map(|c| if c.contact_name.is_empty() { domain::ids::mask_phone(&c.contact_wa_id) } else { c.contact_name }).unwrap_or_default(),
        });
    }
    view::page(
        &me,
        "dashboard/approvals.html",
        "aprovacoes",
        context! { rows => rows, notice => view::notice(n.ok.as_deref()) },
    )
}

async fn load_approval(
    state: &AppState,
    me: &Me,
    id: &str,
) -> Result<(quotes::Approval, quotes::Quote), AppError> {
    let mut c = read_conn(state).await?;
    let a = quotes::approval_by_id(&mut c, &me.tenant.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let q = quotes::get_conn(&mut c, &me.tenant.id, &a.quote_id).await?;
    Ok((a, q))
}

pub async fn detail(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
    Query(n): Query<Notice>,
) -> Result<Html<String>, AppError> {
    let (a, q) = load_approval(&state, &me, &id).await?;
    let p = priced_of(&q)?;
    let conv = conversations::get(&state.db, &me.tenant.id, &q.conversation_id).await?;
    let clock = view::clock(&me);
    // What the approver needs to decide: where it goes, when, how it is paid and what the
    // customer asked that the quote does not include.
    let location = conv
        .as_ref()
        .and_then(|c| actions::memo_of(c).draft.location)
        .map(|l| l.label_pt());
    let delivery = q
        .delivery
        .as_deref()
        .and_then(|d| serde_json::from_str::<domain::slots::Delivery>(d).ok())
        .map(|d| domain::engine::delivery_words(d, clock.date_of(store::now_ms())));
    let limit = if me.is_owner() {
        None
    } else {
        let mut c = read_conn(&state).await?;
        store::tenants::attendant_approval_limit(&mut c, &me.tenant.id).await?
    };
    let above_limit = limit.filter(|l| q.total_cents > *l).map(brl);
    view::page(
        &me,
        "dashboard/approval.html",
        "aprovacoes",
        context! {
            notice => view::notice(n.ok.as_deref()),
            // The quote's current reasons: an edit re-checks them (`reprice`).
            approval => context! { id => a.id, status => a.status, status_pt => a.status.label_pt(), reasons => p.approval_reasons.iter().map(|r| r.label_pt()).collect::<Vec<_>>(), note => a.decision_note },
            quote => quote_view(&q, &p, &clock),
            order => context! {
                location => location, delivery => delivery, payment => p.payment_method.label_pt(),
                unknown => p.unknown.clone(), pickup => p.pickup,
                freight_missing => p.freight.is_none(),
            },
            above_limit => above_limit,
            catalog => super::hand_quote::catalog_options(&state, &me).await?,
            window => super::window::window_view(conv.as_ref().and_then(|c| c.window_expires_at), store::now_ms(), &view::clock(&me)),
            customer => conv.map(|c| c.contact_name).unwrap_or_default(),
        },
    )
}

pub async fn approve(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    // An owner can always approve; an attendant up to the store's limit (issue 12 item 5).
    let approver = if me.is_owner() {
        actions::Approver::Owner
    } else {
        actions::Approver::Attendant
    };
    actions::approve_quote_as(
        &state.db,
        &state.contexts,
        &me.tenant.id,
        &id,
        &me.actor(),
        approver,
    )
    .await
    .map_err(action_err)?;
    state.wake.notify_one();
    Ok(Redirect::to("/aprovacoes?ok=aprovado").into_response())
}

#[derive(Deserialize)]
pub struct RejectForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    message: String,
}

pub async fn reject(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
    Form(f): Form<RejectForm>,
) -> Result<Response, AppError> {
    let reason = f.reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(AppError::BadRequest(
            "Diga o motivo da rejeição (até 500 caracteres).".into(),
        ));
    }
    let msg = f.message.trim();
    actions::reject_quote(
        &state.db,
        &me.tenant.id,
        &id,
        reason,
        (!msg.is_empty()).then_some(msg),
        &me.actor(),
    )
    .await
    .map_err(action_err)?;
    state.wake.notify_one();
    Ok(Redirect::to("/aprovacoes?ok=rejeitado").into_response())
}

pub async fn edit_lines(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let (a, q) = load_approval(&state, &me, &id).await?;
    if a.status != ApprovalStatus::Pending || q.status != QuoteStatus::PendingApproval {
        return Err(AppError::Conflict("essa aprovação já foi decidida".into()));
    }
    let p = priced_of(&q)?;
    let get = |k: &str| {
        fields
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
    };
    // Only the form is parsed here; limits, totals and approval reasons are the domain's
    // (`reprice_edited`), the same code that prices a fresh quote.
    let mut edits = Vec::with_capacity(p.lines.len());
    for (i, l) in p.lines.iter().enumerate() {
        let quantity = match get(&format!("qty_{i}")) {
            Some(s) => s
                .parse::<Quantity>()
                .map_err(|e| AppError::BadRequest(format!("Linha {} ({}): {e}.", i + 1, l.name)))?,
            None => l.quantity,
        };
        let unit_price = match get(&format!("price_{i}")) {
            Some(s) => limits::QUOTE_UNIT_PRICE
                .parse(&s)
                .map_err(|e| AppError::BadRequest(format!("Linha {} ({}): {e}", i + 1, l.name)))?,
            None => l.unit_price,
        };
        edits.push(LineEdit {
            quantity,
            unit_price,
        });
    }
    // "Retirada na loja" wins over a typed value; an empty value keeps the quote's freight —
    // or, for a quote that waited without one, takes the store's rule for the place if the
    // owner has created it since (the walk found "sem regra" after adding the rule).
    let freight = if get("freight_mode").as_deref() == Some("retirada") {
        FreightEdit::Pickup
    } else {
        match get("freight").filter(|s| !s.is_empty()) {
            Some(s) => FreightEdit::Value(
                limits::FREIGHT
                    .parse(&s)
                    .map_err(|e| AppError::BadRequest(e.to_string()))?,
            ),
            None if p.freight.is_none() && !p.pickup => {
                let conv = conversations::get(&state.db, &me.tenant.id, &q.conversation_id).await?;
                match conv.and_then(|c| actions::memo_of(&c).draft.location) {
                    Some(place) => FreightEdit::ByRule(place),
                    None => FreightEdit::Keep,
                }
            }
            None => FreightEdit::Keep,
        }
    };
    let catalog = store::catalog::list(&state.db, &me.tenant.id).await?;
    // A line added from the catalog: product and quantity, priced by the domain.
    let add_sku = get("add_sku").unwrap_or_default();
    let add_qty = get("add_qty").unwrap_or_default();
    let added = match (add_sku.is_empty(), add_qty.is_empty()) {
        (true, true) => None,
        (true, false) => {
            return Err(AppError::BadRequest(
                "Escolha o produto a adicionar.".into(),
            ))
        }
        (false, true) => {
            return Err(AppError::BadRequest(
                "Informe a quantidade do produto a adicionar.".into(),
            ))
        }
        (false, false) => {
            let item = catalog
                .iter()
                .find(|s| s.item.active && s.item.sku == add_sku)
                .map(|s| &s.item)
                .ok_or_else(|| {
                    AppError::BadRequest(format!(
                        "O produto {add_sku} não está no catálogo ativo da loja."
                    ))
                })?;
            let quantity = add_qty
                .parse::<Quantity>()
                .map_err(|e| AppError::BadRequest(format!("{}: {e}.", item.name)))?;
            Some((item, quantity))
        }
    };
    let costs: HashMap<String, Centavos> = catalog
        .iter()
        .map(|s| (s.item.sku.clone(), s.item.cost))
        .collect();
    let rules =
        worker::tenant_ctx::to_store_rules(&store::rules::load(&state.db, &me.tenant.id).await?);
    // Products not in the catalog the person marked as dealt with (a line added, or the
    // customer told): they leave the quote's "não incluído" list.
    let resolved: Vec<String> = fields
        .iter()
        .filter(|(n, _)| n == "resolved_unknown")
        .map(|(_, v)| v.clone())
        .filter(|v| p.unknown.contains(v))
        .collect();
    let new = reprice(
        &p,
        &edits,
        freight,
        added.as_slice(),
        &resolved,
        &costs,
        &rules,
    )
    .map_err(|e| AppError::BadRequest(e.to_string()))?;
    let snapshot = serde_json::to_string(&new).map_err(|e| AppError::Internal(e.into()))?;
    let (quote_id, total) = (q.id.clone(), new.total.0);
    Change::new("quote.edit", "quote")
        .of(&q.id)
        .before(serde_json::json!({ "total_cents": q.total_cents, "lines": p.lines.len(), "freight_cents": p.freight.map(|f| f.0), "pickup": p.pickup }))
        .after(serde_json::json!({ "total_cents": new.total.0, "lines": new.lines.len(), "freight_cents": new.freight.map(|f| f.0), "pickup": new.pickup, "added_sku": added.map(|(i, _)| i.sku.clone()), "unknown": new.unknown }))
        .save(&state, &me, move |c, t| {
            Box::pin(
                async move { quotes::replace_snapshot(c, &t, &quote_id, &snapshot, total).await },
            )
        })
        .await?;
    Ok(Redirect::to(&format!("/aprovacoes/{id}?ok=editado")).into_response())
}
