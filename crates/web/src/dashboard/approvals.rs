//! `/aprovacoes`: quotes the bot held for a person (low margin, high total, no freight rule):
//! approve (sent through the bot's own path), edit lines and freight (re-priced by the domain)
//! or reject with a reason.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use domain::money::{limits, Centavos, Quantity};
use domain::pricing::{reprice_edited, LineEdit};
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
) -> Result<Html<String>, AppError> {
    let (a, q) = load_approval(&state, &me, &id).await?;
    let p = priced_of(&q)?;
    let conv = conversations::get(&state.db, &me.tenant.id, &q.conversation_id).await?;
    view::page(
        &me,
        "dashboard/approval.html",
        "aprovacoes",
        context! {
            // The quote's current reasons: an edit re-checks them (`reprice_edited`).
            approval => context! { id => a.id, status => a.status, status_pt => a.status.label_pt(), reasons => p.approval_reasons.iter().map(|r| r.label_pt()).collect::<Vec<_>>(), note => a.decision_note },
            quote => quote_view(&q, &p, &view::clock(&me)),
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
    actions::approve_quote(&state.db, &state.contexts, &me.tenant.id, &id, &me.actor())
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
    let freight = match get("freight").filter(|s| !s.is_empty()) {
        Some(s) => Some(
            limits::FREIGHT
                .parse(&s)
                .map_err(|e| AppError::BadRequest(e.to_string()))?,
        ),
        None => None,
    };
    let costs: HashMap<String, Centavos> = store::catalog::list(&state.db, &me.tenant.id)
        .await?
        .into_iter()
        .map(|s| (s.item.sku, s.item.cost))
        .collect();
    let rules =
        worker::tenant_ctx::to_store_rules(&store::rules::load(&state.db, &me.tenant.id).await?);
    let new = reprice_edited(&p, &edits, freight, &costs, &rules)
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    let snapshot = serde_json::to_string(&new).map_err(|e| AppError::Internal(e.into()))?;
    let (quote_id, total) = (q.id.clone(), new.total.0);
    Change::new("quote.edit", "quote")
        .of(&q.id)
        .before(serde_json::json!({ "total_cents": q.total_cents, "lines": p.lines.len() }))
        .after(serde_json::json!({ "total_cents": new.total.0, "lines": new.lines.len() }))
        .save(&state, &me, move |c, t| {
            Box::pin(
                async move { quotes::replace_snapshot(c, &t, &quote_id, &snapshot, total).await },
            )
        })
        .await?;
    Ok(Redirect::to(&format!("/aprovacoes/{id}?ok=editado")).into_response())
}
