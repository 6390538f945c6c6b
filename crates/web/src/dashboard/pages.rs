//! The day's work: overview, approvals, conversations and quotes. Actions call the worker's
//! `actions` module, the same code path the bot uses.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use std::collections::HashMap;

use domain::money::{limits, Centavos, Quantity};
use domain::pricing::{reprice_edited, ApprovalReason, LineEdit, PricedQuote};
use minijinja::{context, Value};
use serde::Deserialize;
use store::{conversations, messages, quotes};
use worker::actions::{self, ActionError};

use super::security::Me;
use super::view::{self, brl, date_br, datetime_br};
use crate::error::AppError;
use crate::state::AppState;

const DAY_MS: i64 = 24 * 3600 * 1000;

fn action_err(e: ActionError) -> AppError {
    AppError::from(e)
}

#[derive(Deserialize, Default)]
pub struct Notice {
    ok: Option<String>,
}

// ---------- overview ----------

pub async fn overview(
    State(state): State<AppState>,
    me: Me,
    Query(n): Query<Notice>,
) -> Result<Html<String>, AppError> {
    let now = store::now_ms();
    let today = view::start_of_today_ms(now);
    let since = today - 29 * DAY_MS;
    let a = store::dashboard_queries::activity_since(&state.db, &me.tenant.id, since).await?;
    let conv_today = a.conversations.iter().filter(|t| **t >= today).count();
    let quotes_today = a.quotes.iter().filter(|q| q.0 >= today).count();
    let won: Vec<_> = a.quotes.iter().filter(|q| q.1 == "accepted").collect();
    // Saturating: a sum for display must not abort the page (totals are bounded at input).
    let won_value: i64 = won.iter().fold(0i64, |acc, q| acc.saturating_add(q.2));
    let quoted_convs: std::collections::HashSet<&str> =
        a.quotes.iter().map(|q| q.3.as_str()).collect();
    let won_convs: std::collections::HashSet<&str> = won.iter().map(|q| q.3.as_str()).collect();
    // 30 bars, one per local day, heights relative to the busiest day.
    let mut per_day = [0i64; 30];
    for q in &a.quotes {
        let idx = ((q.0 - since) / DAY_MS) as usize;
        if let Some(slot) = per_day.get_mut(idx) {
            *slot += 1;
        }
    }
    let max = per_day.iter().copied().max().unwrap_or(0).max(1);
    let bars: Vec<Value> = per_day
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let h = n * 100 / max;
            context! { x => i * 10 + 1, y => 110 - h, h => h, n => n, day => date_br(since + i as i64 * DAY_MS) }
        })
        .collect();
    let funnel_base = a.conversations.len().max(quoted_convs.len()).max(1);
    view::page(
        &me,
        "dashboard/overview.html",
        "inicio",
        context! {
            notice => view::notice(n.ok.as_deref()),
            conv_today => conv_today,
            quotes_today => quotes_today,
            pending => a.pending_approvals,
            unread => a.unread_conversations,
            won_value => brl(won_value),
            bars => bars,
            first_day => date_br(since),
            funnel => vec![
                context! { label => "Conversas", n => a.conversations.len(), max => funnel_base },
                context! { label => "Orçamentos", n => quoted_convs.len(), max => funnel_base },
                context! { label => "Fechados", n => won_convs.len(), max => funnel_base },
            ],
        },
    )
}

// ---------- approvals ----------

fn reasons_pt(json: &str) -> Vec<&'static str> {
    serde_json::from_str::<Vec<String>>(json)
        .unwrap_or_default()
        .iter()
        .filter_map(|c| ApprovalReason::from_code(c))
        .map(|r| r.label_pt())
        .collect()
}

fn priced_of(q: &quotes::Quote) -> Result<PricedQuote, AppError> {
    serde_json::from_str(&q.snapshot_json)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("quote snapshot: {e}")))
}

fn quote_view(q: &quotes::Quote, p: &PricedQuote) -> Value {
    let lines: Vec<Value> = p
        .lines
        .iter()
        .map(|l| {
            context! {
                sku => l.sku.clone(), name => l.name.clone(), unit => l.unit.label(),
                quantity => l.quantity.to_br(), unit_price => brl(l.unit_price.0),
                unit_price_input => Centavos(l.unit_price.0).to_brl().trim_start_matches("R$ ").to_string(),
                line_total => brl(l.line_total.0),
                discount => (l.volume_discount_bp.0 > 0).then(|| l.volume_discount_bp.to_percent_br()),
            }
        })
        .collect();
    context! {
        id => q.id.clone(), number => q.number.clone(), status => status_pt(&q.status), status_code => q.status.clone(),
        created => datetime_br(q.created_at), valid_until => date_br(q.valid_until),
        lines => lines, unknown => p.unknown.clone(),
        subtotal => brl(p.subtotal.0),
        payment => p.payment_method.label_pt(),
        payment_discount => brl(p.payment_discount.0),
        payment_discount_pct => p.payment_discount_bp.to_percent_br(),
        freight => p.freight.map(|f| brl(f.0)),
        freight_input => p.freight.map(|f| f.to_brl().trim_start_matches("R$ ").to_string()).unwrap_or_default(),
        freight_rule => p.freight_rule.clone(),
        total => brl(p.total.0),
        margin => p.margin_bp.map(|m| m.to_percent_br()),
        conversation_id => q.conversation_id.clone(),
    }
}

pub fn status_pt(s: &str) -> &'static str {
    match s {
        "pending_approval" => "Aguardando aprovação",
        "sent" => "Enviado",
        "accepted" => "Aceito",
        "declined" => "Recusado pelo cliente",
        "expired" => "Vencido",
        "rejected" => "Rejeitado pela loja",
        "superseded" => "Substituído",
        _ => "—",
    }
}

pub async fn approvals(
    State(state): State<AppState>,
    me: Me,
    Query(n): Query<Notice>,
) -> Result<Html<String>, AppError> {
    let list = quotes::approvals(&state.db, &me.tenant.id, "pending", 100).await?;
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
            reasons => reasons, created => datetime_br(a.created_at),
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
    let mut c = state
        .db
        .read()
        .acquire()
        .await
        .map_err(store::StoreError::from)?;
    let a = quotes::approval_by_id(&mut c, &me.tenant.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let q = quotes::get_conn(&mut c, &me.tenant.id, &a.quote_id).await?;
    Ok((a, q))
}

pub async fn approval_detail(
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
            approval => context! { id => a.id, status => a.status, reasons => p.approval_reasons.iter().map(|r| r.label_pt()).collect::<Vec<_>>(), note => a.decision_note },
            quote => quote_view(&q, &p),
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
    if a.status != "pending" || q.status != "pending_approval" {
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
    let (tenant_id, quote_id, actor) = (me.tenant.id.clone(), q.id.clone(), me.actor());
    let before = serde_json::json!({ "total_cents": q.total_cents, "lines": p.lines.len() });
    let after = serde_json::json!({ "total_cents": new.total.0, "lines": new.lines.len() });
    let total = new.total.0;
    state
        .db
        .tx(move |c| {
            Box::pin(async move {
                quotes::replace_snapshot(c, &tenant_id, &quote_id, &snapshot, total).await?;
                store::audit::record(
                    c,
                    &store::audit::Entry {
                        tenant_id: Some(&tenant_id),
                        actor_user_id: Some(&actor.user_id),
                        actor_label: &actor.label,
                        action: "quote.edit",
                        entity: "quote",
                        entity_id: Some(&quote_id),
                        before: Some(before),
                        after: Some(after),
                        request_id: actor.request_id.as_deref(),
                    },
                )
                .await
            })
        })
        .await?;
    Ok(Redirect::to(&format!("/aprovacoes/{id}?ok=editado")).into_response())
}

// ---------- conversations ----------

fn state_pt(code: &str) -> &'static str {
    code.parse::<domain::conversation::State>()
        .map(|s| s.label_pt())
        .unwrap_or("—")
}

fn contact_label(c: &conversations::Conversation) -> String {
    if c.contact_name.trim().is_empty() {
        domain::ids::mask_phone(&c.contact_wa_id)
    } else {
        c.contact_name.clone()
    }
}

#[derive(Deserialize, Default)]
pub struct InboxQuery {
    estado: Option<String>,
}

pub async fn inbox(
    State(state): State<AppState>,
    me: Me,
    Query(q): Query<InboxQuery>,
) -> Result<Html<String>, AppError> {
    let filter = q
        .estado
        .filter(|s| s.parse::<domain::conversation::State>().is_ok());
    let list = conversations::list(&state.db, &me.tenant.id, filter.as_deref(), 200).await?;
    let rows: Vec<Value> = list
        .iter()
        .map(|c| {
            context! {
                id => c.id.clone(), contact => contact_label(c), phone => domain::ids::mask_phone(&c.contact_wa_id),
                state => state_pt(&c.state), unread => c.unread, taken => c.taken_over_by.is_some(),
                last => datetime_br(c.last_message_at),
            }
        })
        .collect();
    let states: Vec<Value> = domain::conversation::State::ALL
        .iter()
        .map(|s| context! { code => s.code(), label => s.label_pt() })
        .collect();
    view::page(
        &me,
        "dashboard/inbox.html",
        "conversas",
        context! { rows => rows, states => states, filter => filter },
    )
}

fn ticks(status: &str) -> (&'static str, &'static str) {
    match status {
        "pending" => ("🕓", "na fila"),
        "sent" => ("✓", "enviada"),
        "delivered" => ("✓✓", "entregue"),
        "read" => ("✓✓", "lida"),
        "failed" => ("⚠", "falhou"),
        _ => ("", ""),
    }
}

async fn transcript_rows(state: &AppState, me: &Me, id: &str) -> Result<Vec<Value>, AppError> {
    let msgs = messages::for_conversation(&state.db, &me.tenant.id, id, 300).await?;
    Ok(msgs
        .iter()
        .map(|m| {
            let (tick, tick_label) = ticks(&m.status);
            context! {
                out => m.direction == "out", body => m.body.clone(), at => datetime_br(m.created_at),
                tick => tick, tick_label => tick_label, read => m.status == "read",
                by_person => m.sent_by.is_some(), error => m.error_message.clone(),
            }
        })
        .collect())
}

pub async fn conversation(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
    Query(n): Query<Notice>,
) -> Result<Html<String>, AppError> {
    let c = conversations::get(&state.db, &me.tenant.id, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    let msgs = transcript_rows(&state, &me, &id).await?;
    let quote = {
        let mut conn = state
            .db
            .read()
            .acquire()
            .await
            .map_err(store::StoreError::from)?;
        quotes::latest_for_conversation(&mut conn, &me.tenant.id, &id).await?
    };
    view::page(
        &me,
        "dashboard/conversation.html",
        "conversas",
        context! {
            notice => view::notice(n.ok.as_deref()),
            conv => context! {
                id => c.id.clone(), contact => contact_label(&c), phone => domain::ids::mask_phone(&c.contact_wa_id),
                state => state_pt(&c.state), taken => c.taken_over_by.is_some(),
                taken_by_me => c.taken_over_by.as_deref() == Some(me.user.id.as_str()),
            },
            messages => msgs,
            quote => quote.map(|q| context! { id => q.id, number => q.number, status => status_pt(&q.status), total => brl(q.total_cents) }),
        },
    )
}

/// The transcript alone, polled by HTMX every few seconds.
pub async fn transcript(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Html<String>, AppError> {
    conversations::get(&state.db, &me.tenant.id, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    let msgs = transcript_rows(&state, &me, &id).await?;
    view::page(
        &me,
        "dashboard/transcript.html",
        "conversas",
        context! { messages => msgs },
    )
}

pub async fn take_over(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    actions::set_taken_over(&state.db, &me.tenant.id, &id, true, &me.actor())
        .await
        .map_err(action_err)?;
    Ok(Redirect::to(&format!("/conversas/{id}?ok=assumida")).into_response())
}

pub async fn hand_back(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    actions::set_taken_over(&state.db, &me.tenant.id, &id, false, &me.actor())
        .await
        .map_err(action_err)?;
    Ok(Redirect::to(&format!("/conversas/{id}?ok=devolvida")).into_response())
}

#[derive(Deserialize)]
pub struct ReplyForm {
    #[serde(default)]
    text: String,
}

pub async fn reply(
    State(state): State<AppState>,
    me: Me,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<ReplyForm>,
) -> Result<Response, AppError> {
    actions::manual_reply(&state.db, &me.tenant.id, &id, &f.text, &me.actor())
        .await
        .map_err(action_err)?;
    state.wake.notify_one();
    if headers.contains_key("hx-request") {
        let msgs = transcript_rows(&state, &me, &id).await?;
        return Ok(view::page(
            &me,
            "dashboard/transcript.html",
            "conversas",
            context! { messages => msgs },
        )?
        .into_response());
    }
    Ok(Redirect::to(&format!("/conversas/{id}?ok=enviada")).into_response())
}

// ---------- quotes ----------

#[derive(Deserialize, Default)]
pub struct QuoteFilter {
    status: Option<String>,
    numero: Option<String>,
    de: Option<String>,
    ate: Option<String>,
}

/// `aaaa-mm-dd` (the date input's format) → local midnight in ms.
fn parse_day(s: &str) -> Option<i64> {
    let d = chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()?;
    let utc = d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis();
    Some(utc + 3 * 3600 * 1000)
}

pub async fn quotes(
    State(state): State<AppState>,
    me: Me,
    Query(f): Query<QuoteFilter>,
) -> Result<Html<String>, AppError> {
    let status = f
        .status
        .as_deref()
        .filter(|s| status_pt(s) != "—")
        .map(str::to_string);
    let number = f
        .numero
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.len() <= 32)
        .map(str::to_string);
    let from = f.de.as_deref().and_then(parse_day);
    let to = f.ate.as_deref().and_then(parse_day).map(|t| t + DAY_MS - 1);
    let list = quotes::list(
        &state.db,
        &me.tenant.id,
        status.as_deref(),
        number.as_deref(),
        from,
        to,
        200,
    )
    .await?;
    let rows: Vec<Value> = list
        .iter()
        .map(|q| {
            context! { id => q.id.clone(), number => q.number.clone(), status => status_pt(&q.status), status_code => q.status.clone(),
                total => brl(q.total_cents), created => datetime_br(q.created_at) }
        })
        .collect();
    let statuses: Vec<Value> = [
        "pending_approval",
        "sent",
        "accepted",
        "declined",
        "expired",
        "rejected",
    ]
    .iter()
    .map(|s| context! { code => s, label => status_pt(s) })
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

pub async fn quote_detail(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Html<String>, AppError> {
    let q = quotes::get(&state.db, &me.tenant.id, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    let p = priced_of(&q)?;
    let approval = {
        let mut c = state
            .db
            .read()
            .acquire()
            .await
            .map_err(store::StoreError::from)?;
        quotes::approval_for_quote(&mut c, &me.tenant.id, &q.id).await?
    };
    view::page(
        &me,
        "dashboard/quote.html",
        "orcamentos",
        context! {
            quote => quote_view(&q, &p),
            lost_reason => q.lost_reason.clone(),
            approval => approval.map(|a| context! { id => a.id, status => a.status, reasons => reasons_pt(&a.reasons_json) }),
        },
    )
}
