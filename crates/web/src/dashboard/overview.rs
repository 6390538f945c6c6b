//! `/`: the day at a glance (today's conversations and quotes, what waits for someone) and
//! the last 30 days (a bar a day, the funnel conversations → quotes → won).

use axum::extract::{Query, State};
use axum::response::Html;
use minijinja::{context, Value};

use super::security::Me;
use super::view::{self, brl, date_br, Notice};
use crate::error::AppError;
use crate::state::AppState;

const DAY_MS: i64 = 24 * 3600 * 1000;

pub async fn page(
    State(state): State<AppState>,
    me: Me,
    Query(n): Query<Notice>,
) -> Result<Html<String>, AppError> {
    let now = store::now_ms();
    let today = view::start_of_today_ms(now);
    let since = today - 29 * DAY_MS;
    let a = store::overview::activity_since(&state.db, &me.tenant.id, since).await?;
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
