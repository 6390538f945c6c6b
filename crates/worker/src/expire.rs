//! Scheduled follow-ups: a quote past its validity (its message to the customer is proactive:
//! `worker::proactive` decides how, or whether, it goes), a conversation whose 24 h window closed
//! with nothing pending. Two clocks (issue 18 item 3): the quote's validity ends the sale's
//! offer; the window only limits what the store may start.

use domain::conversation::{transition, Event};
use domain::proactive::Purpose;
use domain::status::QuoteStatus;
use domain::templates::{self, Common, TemplateKind};
use store::conversations;
use store::{quotes, StoreError};

use crate::job::{JobCtx, Outcome};
use crate::outbound::{self, Payload, Target};

/// Quote expired → LOST; the customer is told while the window still allows free text.
/// During a takeover the quote still expires (its price no longer holds) but the bot says
/// nothing and the conversation stays as the person left it — they decide, as with the
/// window job.
pub async fn quote(jc: &JobCtx<'_>, quote_id: &str) -> Outcome {
    let Some(tenant_id) = jc.job.tenant_id.clone() else {
        return Outcome::Dead("quote.expire without tenant".into());
    };
    let ctx = match jc.contexts.load(jc.db, &tenant_id).await {
        Ok(c) => c,
        Err(e) => return Outcome::from_store(e),
    };
    let engine_kind = jc.db.engine();
    let quote_id = quote_id.to_string();
    let request_id = jc.job.request_id.clone();
    let res = jc
        .db
        .tx(move |c| {
            Box::pin(async move {
                let q = quotes::get_conn(c, &tenant_id, &quote_id).await?;
                if q.status != QuoteStatus::Sent || q.valid_until > store::now_ms() {
                    return Ok(false);
                }
                let conv =
                    conversations::lock(c, engine_kind, &tenant_id, &q.conversation_id).await?;
                quotes::set_status(
                    c,
                    &tenant_id,
                    &q.id,
                    QuoteStatus::Expired,
                    Some("validade vencida"),
                )
                .await?;
                if conv.taken_over_by.is_some() {
                    return Ok(false);
                }
                let Ok(next) = transition(conv.state, Event::WindowExpired) else {
                    return Ok(true);
                };
                // A message the store starts: inside the window the text, outside it the
                // store's approved template for an expired quote, or nothing and a note
                // (decided when it is sent: `worker::proactive`).
                let common = Common {
                    store_name: &ctx.tenant.name,
                    customer_name: (!conv.contact_name.is_empty())
                        .then_some(conv.contact_name.as_str()),
                };
                let body = domain::engine::render_with(
                    &ctx.templates,
                    TemplateKind::Expired,
                    &templates::expired_context(&common, &q.number, ctx.date_of(q.valid_until)),
                );
                let t = Target {
                    engine: engine_kind,
                    tenant_id: &tenant_id,
                    conversation_id: &conv.id,
                    contact_id: &conv.contact_id,
                    request_id: request_id.as_deref(),
                    due_at: None,
                };
                outbound::queue(
                    c,
                    &t,
                    &Payload::Proactive {
                        to: conv.contact_wa_id.clone(),
                        body,
                        purpose: Purpose::QuoteExpired.code().into(),
                        params: crate::followup::quote_params(&conv.contact_name, &q.number, None),
                    },
                    None,
                )
                .await?;
                conversations::save_state(
                    c,
                    &tenant_id,
                    &conv.id,
                    next,
                    &conv.draft_json,
                    Some("orçamento vencido"),
                )
                .await?;
                Ok(true)
            })
        })
        .await;
    // true: the conversation was closed as lost.
    match res {
        Ok(true) => {
            metrics::counter!("orcazap_quotes_total", "outcome" => "lost").increment(1);
            Outcome::Done
        }
        Ok(false) => Outcome::Done,
        Err(e) => Outcome::from_store(e),
    }
}

/// The customer went silent for the whole 24 h window. The window only limits what the
/// store may start (free text needs the customer to have written in the last 24 h); it is
/// not the end of the sale (issue 18 item 3). A conversation whose quote is still with the
/// customer (valid until `valid_until`, its own clock and its own `quote.expire` job) or
/// with the store (waiting for approval) stays open: the customer may still tap
/// "Confirmar", and their message reopens the window. A conversation with nothing pending
/// is LOST, as SPEC's "silent conversations move to LOST" says; nothing is sent (outside the
/// window only approved templates could be).
pub async fn window(jc: &JobCtx<'_>, conversation_id: &str) -> Outcome {
    let Some(tenant_id) = jc.job.tenant_id.clone() else {
        return Outcome::Dead("window expiry without tenant".into());
    };
    let engine_kind = jc.db.engine();
    let conversation_id = conversation_id.to_string();
    let res = jc
        .db
        .tx(move |c| {
            Box::pin(async move {
                let conv =
                    match conversations::lock(c, engine_kind, &tenant_id, &conversation_id).await {
                        Ok(conv) => conv,
                        Err(StoreError::NotFound) => return Ok(()),
                        Err(e) => return Err(e),
                    };
                let now = store::now_ms();
                let still_closed = conv.window_expires_at.is_some_and(|w| w <= now);
                if !still_closed || conv.taken_over_by.is_some() {
                    return Ok(());
                }
                let latest = quotes::latest_for_conversation(c, &tenant_id, &conv.id).await?;
                let quote_pending = latest.is_some_and(|q| {
                    q.status == QuoteStatus::PendingApproval
                        || (q.status == QuoteStatus::Sent && q.valid_until > now)
                });
                if quote_pending {
                    return Ok(());
                }
                if let Ok(next) = transition(conv.state, Event::WindowExpired) {
                    conversations::save_state(
                        c,
                        &tenant_id,
                        &conv.id,
                        next,
                        &conv.draft_json,
                        Some("cliente sem resposta em 24 h"),
                    )
                    .await?;
                    metrics::counter!("orcazap_quotes_total", "outcome" => "lost").increment(1);
                }
                Ok(())
            })
        })
        .await;
    match res {
        Ok(()) => Outcome::Done,
        Err(e) => Outcome::from_store(e),
    }
}
