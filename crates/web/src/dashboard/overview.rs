//! `/`: the day at a glance (today's conversations and quotes, what waits for someone) and
//! the last 30 days (a bar a day, the funnel conversations → quotes → won).

use axum::extract::{Query, State};
use axum::response::{Html, Response};
use chrono::Days;
use domain::clock::day_br;
use minijinja::{context, Value};

use super::security::Me;
use super::view::{self, brl, Notice};
use crate::error::AppError;
use crate::state::AppState;

/// Days on the chart, today included.
const DAYS: usize = 30;

pub async fn page(
    State(state): State<AppState>,
    me: Me,
    Query(n): Query<Notice>,
) -> Result<Html<String>, AppError> {
    let ctx = numbers(&state, &me).await?;
    let onboarding = super::onboarding::checklist(&state, &me).await?;
    let assistant = assistant_month(&state, &me).await?;
    view::page(
        &me,
        "dashboard/overview.html",
        "inicio",
        context! { notice => view::notice(n.ok.as_deref()), onboarding => onboarding, assistant => assistant, ..ctx },
    )
}

/// `/resumo`: the overview's tiles alone, polled by `dashboard.js` every few seconds.
pub async fn tiles(State(state): State<AppState>, me: Me) -> Result<Response, AppError> {
    let ctx = numbers(&state, &me).await?;
    let html = view::page(&me, "dashboard/_tiles.html", "inicio", ctx)?;
    Ok(view::live(&me, html))
}

/// The language model's month (docs/assistants.md): what it cost, and the note that its budget
/// ran out. None when the model is off and was not used this month.
async fn assistant_month(state: &AppState, me: &Me) -> Result<Option<Value>, AppError> {
    let clock = view::clock(me);
    let month = clock.date_of(store::now_ms()).format("%Y-%m").to_string();
    let usage = store::assistant_budget::usage(&state.db, &me.tenant.id, &month).await?;
    let used = usage.calls > 0 || usage.refused_budget > 0 || usage.refused_rate > 0;
    if state.cfg.llm_budget_cents.is_none() && !used {
        return Ok(None);
    }
    let budget = store::assistant_budget::store_budget_cents(&state.db, &me.tenant.id)
        .await?
        .or(state.cfg.llm_budget_cents);
    Ok(Some(context! {
        spent => brl(usage.spent_cents()),
        budget => budget.map(brl),
        calls => usage.calls,
        exhausted => usage.exhausted(),
        exhausted_at => usage.last_refused_at.map(|at| format!("{} às {}", clock.date_of(at).format("%d/%m"), clock.time_br(at))),
    }))
}

/// Everything the overview shows, as of now.
async fn numbers(state: &AppState, me: &Me) -> Result<Value, AppError> {
    // Days are the store's: "today" starts at its midnight, a bar is one of its days.
    let clock = view::clock(me);
    let today_date = clock.date_of(store::now_ms());
    let first_day = today_date
        .checked_sub_days(Days::new(DAYS as u64 - 1))
        .unwrap_or(today_date);
    let today = clock.start_of(today_date);
    let since = clock.start_of(first_day);
    let a = store::overview::activity_since(&state.db, &me.tenant.id, since).await?;
    let conv_today = a.conversations.iter().filter(|t| **t >= today).count();
    let quotes_today = a.quotes.iter().filter(|q| q.0 >= today).count();
    let won: Vec<_> = a
        .quotes
        .iter()
        .filter(|q| q.1 == domain::status::QuoteStatus::Accepted)
        .collect();
    // Saturating: a sum for display must not abort the page (totals are bounded at input).
    let won_value: i64 = won.iter().fold(0i64, |acc, q| acc.saturating_add(q.2));
    let quoted_convs: std::collections::HashSet<&str> =
        a.quotes.iter().map(|q| q.3.as_str()).collect();
    let won_convs: std::collections::HashSet<&str> = won.iter().map(|q| q.3.as_str()).collect();
    // 30 bars, one per local day, heights relative to the busiest day.
    let mut per_day = [0i64; DAYS];
    for q in &a.quotes {
        let idx = (clock.date_of(q.0) - first_day).num_days();
        if let Some(slot) = usize::try_from(idx).ok().and_then(|i| per_day.get_mut(i)) {
            *slot += 1;
        }
    }
    let max = per_day.iter().copied().max().unwrap_or(0).max(1);
    let bars: Vec<Value> = per_day
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let h = n * 100 / max;
            context! { x => i * 10 + 1, y => 110 - h, h => h, n => n, day => first_day.checked_add_days(Days::new(i as u64)).map(day_br) }
        })
        .collect();
    let funnel_base = a.conversations.len().max(quoted_convs.len()).max(1);
    Ok(context! {
            conv_today => conv_today,
            quotes_today => quotes_today,
            pending => a.pending_approvals,
            waiting_for_person => me.waiting_for_person,
            unread => a.unread_conversations,
            won_value => brl(won_value),
            bars => bars,
            first_day => day_br(first_day),
            funnel => vec![
                context! { label => "Conversas", n => a.conversations.len(), max => funnel_base },
                context! { label => "Orçamentos", n => quoted_convs.len(), max => funnel_base },
                context! { label => "Fechados", n => won_convs.len(), max => funnel_base },
            ],
    })
}
