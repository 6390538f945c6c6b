//! `conversation.advance`: the contact's unread messages, in arrival order, through the
//! conversation engine; everything it decides committed in one transaction.

use std::sync::Arc;

use domain::conversation::State;
use domain::engine::{self, Context, Memo, QuoteOutcome, Reply, Step};
use domain::status::{ApprovalStatus, QuoteStatus};
use domain::templates::Common;
use sqlx::AnyConnection;
use store::conversations::{self, Conversation};
use store::jobs::{self, NewJob};
use store::{messages, quotes, Engine, StoreError};

use crate::job::{JobCtx, Outcome};
use crate::outbound::{self, Payload, Target};
use crate::tenant_ctx::TenantContext;

pub async fn handle(jc: &JobCtx<'_>, conversation_id: &str) -> Outcome {
    let Some(tenant_id) = jc.job.tenant_id.clone() else {
        return Outcome::Dead("conversation.advance without tenant".into());
    };
    tracing::Span::current().record("conversation_id", conversation_id);
    // Three independent reads before the step, run at once so the job waits for one round
    // trip instead of three (with several jobs at a time the worker is bound by waiting, not by
    // CPU): the store's row (and its cached settings), the unread messages, and the channel
    // of the conversation for the read receipt. The unread messages are read once for the
    // receipt and the media below; the step reads them again under the conversation's lock,
    // this copy only decides what to show and what to download.
    let unread = async {
        let mut c = jc.db.read().acquire().await.map_err(StoreError::from)?;
        messages::unprocessed_inbound(&mut c, &tenant_id, conversation_id).await
    };
    let (ctx, unread, receipt_channel) = tokio::join!(
        jc.contexts.load(jc.db, &tenant_id),
        unread,
        store::channels::of_bot_conversation(jc.db, &tenant_id, conversation_id),
    );
    let (ctx, unread) = match (ctx, unread) {
        (Ok(ctx), Ok(unread)) => (ctx, unread),
        (Err(e), _) | (_, Err(e)) => return Outcome::from_store(e),
    };
    // Blue ticks and "digitando…" while the reply is worked out (best effort, beside it).
    crate::read_receipt::start(jc, receipt_channel, &unread);
    // Voice notes and photos: downloaded, stored and written down before the step reads
    // them, outside its transaction (issue 16, `worker::media`).
    if let Err(outcome) = crate::media::prepare(jc, &tenant_id, conversation_id, unread).await {
        return outcome;
    }
    let engine_kind = jc.db.engine();
    let conversation_id = conversation_id.to_string();
    let request_id = jc.job.request_id.clone();
    // The replies are due when this step was: see `Target::due_at`.
    let due_at = jc.job.run_at.min(store::now_ms());
    let completion = jc.completion();
    // The optional language model, outside the transaction (`worker::assistant`).
    let assist = crate::assistant::prepare(jc.llm, jc.db, &ctx, &tenant_id, &conversation_id).await;
    let res = jc
        .db
        .tx(move |c| {
            Box::pin(async move {
                let n = advance_in_tx(
                    c,
                    engine_kind,
                    &ctx,
                    &tenant_id,
                    &conversation_id,
                    request_id.as_deref(),
                    due_at,
                    &assist,
                )
                .await?;
                // The job is done in the step's commit (one commit per step).
                completion.complete(c).await?;
                Ok(n)
            })
        })
        .await;
    match res {
        Ok(n) => {
            jc.completed_in_step();
            tracing::debug!(messages = n, "conversation advanced");
            Outcome::Done
        }
        Err(e) => Outcome::from_store(e),
    }
}

/// Returns how many inbound messages were handled.
#[allow(clippy::too_many_arguments)]
async fn advance_in_tx(
    c: &mut AnyConnection,
    engine_kind: Engine,
    ctx: &Arc<TenantContext>,
    tenant_id: &str,
    conversation_id: &str,
    request_id: Option<&str>,
    due_at: i64,
    assist: &crate::assistant::Prepared,
) -> Result<usize, StoreError> {
    // Row lock on PostgreSQL: a second advance job for this conversation waits here and then
    // finds nothing left to do.
    let conv = match conversations::lock(c, engine_kind, tenant_id, conversation_id).await {
        // Emptied into an order's conversation by an earlier step (below): nothing to do.
        Err(StoreError::NotFound) => return Ok(0),
        r => r?,
    };
    let pending = messages::unprocessed_inbound(c, tenant_id, conversation_id).await?;
    let mut state: State = conv.state;
    if pending.is_empty() || state.is_closed() {
        let ids: Vec<String> = pending.iter().map(|m| m.id.clone()).collect();
        messages::mark_processed(c, tenant_id, &ids).await?;
        return Ok(0);
    }
    let mut memo = Memo::from_json(&conv.draft_json);
    let customer_name = (!conv.contact_name.is_empty()).then_some(conv.contact_name.as_str());
    let today = ctx.today();
    let target = Target {
        engine: engine_kind,
        tenant_id,
        conversation_id,
        contact_id: &conv.contact_id,
        request_id,
        due_at: Some(due_at),
    };
    let mut closed_reason = None;
    let mut to_person = None;
    // Messages moved to their order's conversation (the address after a confirmation).
    let mut moved = 0usize;
    for msg in &pending {
        let content = msg.inbound_content();
        if state.is_closed() {
            // Confirmed in this batch: a message right behind the "Confirmar" may already
            // be the delivery address (`worker::order_address`); anything else is left, as
            // before, to the next conversation.
            if state == State::Won && conv.taken_over_by.is_none() {
                if let Some(home) =
                    crate::order_address::take(c, &target, ctx, &conv, &content).await?
                {
                    if home != conversation_id {
                        conversations::move_inbound(c, tenant_id, &msg.id, conversation_id, &home)
                            .await?;
                        moved += 1;
                    }
                }
            }
            continue;
        }
        if let domain::inbound::InboundContent::System {
            system_type,
            new_wa_id: Some(new_wa_id),
            ..
        } = &content
        {
            if system_type == "user_changed_number" {
                // Meta's notice, not the customer's words: the contact follows the new
                // number and nothing is answered.
                let changed =
                    conversations::change_wa_id(c, tenant_id, &conv.contact_id, new_wa_id).await?;
                tracing::info!(changed, "customer changed WhatsApp number");
                continue;
            }
        }
        // "parar", "sair"… / "voltar": the opt-out of proactive messages (`worker::opt_out`).
        if crate::opt_out::handle_words(c, &target, &ctx.tenant.name, &conv, &content).await? {
            continue;
        }
        if conv.taken_over_by.is_none() {
            // "Confirmar" on a quote that is not the current one: say so, confirm nothing.
            if let Some(tapped) =
                crate::tapped::replaced_quote_tapped(c, tenant_id, conversation_id, &content)
                    .await?
            {
                crate::tapped::answer_replaced(c, &target, ctx, &conv, &tapped).await?;
                continue;
            }
        }
        // A new conversation right after a confirmed order: the address the bot asked for,
        // answered in the order's conversation and moved there.
        if state == State::Inbound && conv.taken_over_by.is_none() {
            if let Some(home) = crate::order_address::take(c, &target, ctx, &conv, &content).await?
            {
                if home != conversation_id {
                    conversations::move_inbound(c, tenant_id, &msg.id, conversation_id, &home)
                        .await?;
                    moved += 1;
                }
                continue;
            }
        }
        // A voice note nobody could write down: the customer is told, then the engine hands
        // the conversation to a person (issue 16).
        let unheard = match &content {
            domain::inbound::InboundContent::Audio {
                unheard: Some(why), ..
            } => Some(why.clone()),
            _ => None,
        };
        let mut told_unheard = false;
        if let Some(why) = &unheard {
            if conv.taken_over_by.is_none() && state != State::WaitingPerson {
                told_unheard = true;
                outbound::queue(
                    c,
                    &target,
                    &Payload::Text {
                        to: conv.contact_wa_id.clone(),
                        body: crate::media::unheard_notice(why),
                    },
                    None,
                )
                .await?;
            }
        }
        // The first message of a new conversation that is about the contact's open order
        // ("já paguei", "quero cancelar"): a person answers it (`worker::order_followup`).
        let mut about_order = None;
        if let domain::inbound::InboundContent::Text { body } = &content {
            // Before anything is ordered here ("oi" then "já paguei" is about the order too).
            let fresh = matches!(state, State::Inbound | State::CaptureMin)
                && memo.draft.items.is_empty()
                && memo.draft.unknown.is_empty();
            if fresh
                && conv.taken_over_by.is_none()
                && crate::order_followup::is_about_the_order(&content, ctx)
            {
                if let Some((_, number)) =
                    store::orders::open_for_contact(c, tenant_id, &conv.contact_id).await?
                {
                    outbound::queue(
                        c,
                        &target,
                        &Payload::Text {
                            to: conv.contact_wa_id.clone(),
                            body: crate::order_followup::acknowledgement(&number),
                        },
                        None,
                    )
                    .await?;
                    about_order = Some(crate::order_followup::reason(&number, body));
                }
            }
        }
        let inbound = match &about_order {
            Some(_) => engine::Inbound::ForAPerson {
                described: "mensagem sobre um pedido".into(),
            },
            None => content.to_engine(),
        };
        let ectx = Context {
            index: &ctx.index,
            catalog: &ctx.catalog,
            rules: &ctx.rules,
            templates: &ctx.templates,
            store_name: &ctx.tenant.name,
            customer_name,
            today,
            taken_over: conv.taken_over_by.is_some(),
            auto_quotes_enabled: ctx.auto_quotes_enabled(),
            assistant: assist.as_assistant(),
        };
        let mut step = match engine::advance(state, memo.clone(), &inbound, &ectx) {
            Ok(s) => s,
            Err(illegal) => {
                // Never silently applied: the message stays recorded and a person is told.
                tracing::error!(error = %illegal, "illegal conversation transition");
                continue;
            }
        };
        if told_unheard || about_order.is_some() {
            // The notice already says a person will listen: the hand-off's own "Já chamei
            // alguém da equipe" would be a second message saying the same.
            step.replies.clear();
        }
        apply_step(c, &target, ctx, &conv, &step, today).await?;
        for e in &step.events {
            tracing::info!(event = ?e, to = %step.state, "conversation transition");
        }
        state = step.state;
        memo = step.memo;
        if step.closed_reason.is_some() {
            closed_reason = step.closed_reason;
        }
        if step.to_person.is_some() {
            // What staff read in the queue: the voice note or photo, not "asked for a person".
            to_person = match (&unheard, &content) {
                _ if about_order.is_some() => about_order.take(),
                (Some(why), _) => Some(format!("áudio não entendido: {why}")),
                (_, domain::inbound::InboundContent::Image { .. }) => {
                    Some("o cliente mandou uma imagem sem legenda".to_string())
                }
                _ => step.to_person,
            };
        }
    }
    let ids: Vec<String> = pending.iter().map(|m| m.id.clone()).collect();
    messages::mark_processed(c, tenant_id, &ids).await?;
    // Everything it had was about an order: it was never a conversation of its own.
    if moved > 0 && conversations::delete_if_empty(c, tenant_id, conversation_id).await? {
        tracing::info!(moved, "messages moved to their order's conversation");
        return Ok(pending.len());
    }
    conversations::save_state(
        c,
        tenant_id,
        conversation_id,
        state,
        &memo.to_json(),
        closed_reason.as_deref(),
    )
    .await?;
    if let Some(why) = to_person {
        tracing::info!(reason = %why, "conversation waits for a person");
        conversations::set_waiting_reason(c, tenant_id, conversation_id, &why).await?;
    }
    if !state.is_closed() {
        // The silent-conversation follow-up: runs when the 24 h window closes; a no-op if
        // the customer wrote again in the meantime (the window moved).
        if let Some(at) = conv.window_expires_at {
            let mut job = NewJob::new(
                crate::WINDOW_EXPIRE_JOB,
                serde_json::json!({ "conversation_id": conversation_id, "window_expires_at": at }),
            );
            job.tenant_id = Some(tenant_id.to_string());
            job.run_at = Some(at + 1000);
            jobs::enqueue(c, &job).await?;
        }
    }
    Ok(pending.len())
}

/// Persists one engine step: replies, quote (numbered, snapshotted, approval or send), the
/// fate of the previous quote.
async fn apply_step(
    c: &mut AnyConnection,
    t: &Target<'_>,
    ctx: &TenantContext,
    conv: &Conversation,
    step: &Step,
    today: chrono::NaiveDate,
) -> Result<(), StoreError> {
    let common = Common {
        store_name: &ctx.tenant.name,
        customer_name: (!conv.contact_name.is_empty()).then_some(conv.contact_name.as_str()),
    };
    let to = conv.contact_wa_id.clone();
    if let Some(outcome) = step.quote_outcome {
        if let Some(q) = quotes::latest_for_conversation(c, t.tenant_id, t.conversation_id).await? {
            let (status, lost) = match outcome {
                QuoteOutcome::Accepted => (QuoteStatus::Accepted, None),
                QuoteOutcome::Declined => (QuoteStatus::Declined, Some("recusado pelo cliente")),
                QuoteOutcome::Superseded => (QuoteStatus::Superseded, None),
            };
            if q.status.is_open() {
                quotes::set_status(c, t.tenant_id, &q.id, status, lost).await?;
                if q.status == QuoteStatus::PendingApproval {
                    if let Some(a) = quotes::approval_for_quote(c, t.tenant_id, &q.id).await? {
                        quotes::decide_approval(
                            c,
                            t.tenant_id,
                            &a.id,
                            ApprovalStatus::Superseded,
                            None,
                            Some("o cliente alterou o pedido"),
                        )
                        .await?;
                    }
                }
                if outcome == QuoteOutcome::Accepted {
                    let priced: domain::pricing::PricedQuote =
                        serde_json::from_str(&q.snapshot_json)
                            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    let delivery = q
                        .delivery
                        .as_deref()
                        .and_then(|d| serde_json::from_str(d).ok());
                    let pix = crate::payment::pix_offer(c, t.tenant_id, &priced, &q.number).await?;
                    let body = engine::confirmation_message(
                        &ctx.templates,
                        &common,
                        &priced,
                        &q.number,
                        delivery,
                        today,
                        pix.as_ref().map(|p| p.receiver.as_str()),
                    );
                    outbound::queue(
                        c,
                        t,
                        &Payload::Text {
                            to: to.clone(),
                            body,
                        },
                        None,
                    )
                    .await?;
                    // With Meta's payments in Brazil on, the order itself with the PIX code
                    // (`order_details`); else the copia-e-cola as its own text.
                    let order = match &pix {
                        Some(_) => {
                            crate::payment::order_details(
                                c,
                                t.tenant_id,
                                &priced,
                                &q.number,
                                &to,
                                q.valid_until,
                                &ctx.clock(),
                            )
                            .await?
                        }
                        None => None,
                    };
                    let reference = order.as_ref().map(|o| o.reference_id.clone());
                    match (order, pix) {
                        (Some(order), _) => {
                            outbound::queue(c, t, &Payload::OrderDetails(Box::new(order)), None)
                                .await?;
                        }
                        (None, Some(pix)) => {
                            outbound::queue(
                                c,
                                t,
                                &Payload::Text {
                                    to: to.clone(),
                                    body: pix.code,
                                },
                                None,
                            )
                            .await?;
                        }
                        (None, None) => {}
                    }
                    crate::order_address::order_accepted(
                        c,
                        t,
                        conv,
                        &q.id,
                        priced.pickup,
                        step.memo.draft.location.as_ref(),
                    )
                    .await?;
                    if let Some(reference) = reference {
                        store::orders::set_meta_reference(c, t.tenant_id, &q.id, &reference)
                            .await?;
                    }
                    metrics::counter!("orcazap_quotes_total", "outcome" => "won").increment(1);
                }
                if outcome == QuoteOutcome::Declined {
                    let body = engine::render_with(
                        &ctx.templates,
                        domain::templates::TemplateKind::Declined,
                        &domain::templates::quote_ref_context(&common, &q.number),
                    );
                    outbound::queue(
                        c,
                        t,
                        &Payload::Text {
                            to: to.clone(),
                            body,
                        },
                        None,
                    )
                    .await?;
                    metrics::counter!("orcazap_quotes_total", "outcome" => "lost").increment(1);
                }
            }
        }
    }
    for reply in &step.replies {
        let payload = match reply {
            Reply::Text(body) => Payload::Text {
                to: to.clone(),
                body: body.clone(),
            },
            Reply::QuoteButtons(body) => {
                let number = quotes::latest_for_conversation(c, t.tenant_id, t.conversation_id)
                    .await?
                    .map(|q| q.number)
                    .unwrap_or_default();
                Payload::Buttons {
                    to: to.clone(),
                    body: body.clone(),
                    buttons: outbound::quote_buttons(&number),
                }
            }
            Reply::DayButtons(body) => {
                let payload = Payload::Buttons {
                    to: to.clone(),
                    body: body.clone(),
                    buttons: engine::day_buttons(),
                };
                outbound::queue_with_prompt(c, t, &payload, None, engine::DAY_BUTTONS_PROMPT)
                    .await?;
                continue;
            }
            Reply::Choice(q) => Payload::choice(&to, q),
            // Needs the number of the quote waiting for approval: after it is stored, below.
            Reply::ApprovalPending => continue,
        };
        outbound::queue(c, t, &payload, None).await?;
    }
    let new_quote = match &step.quote {
        Some(plan) => Some(crate::quoting::create_quote(c, t, ctx, conv, plan, today).await?),
        None => None,
    };
    if step.replies.contains(&Reply::ApprovalPending) {
        // The quote just stored, or the one already waiting for the store's decision.
        let waiting = match &new_quote {
            Some(id) => Some(quotes::get_conn(c, t.tenant_id, id).await?),
            None => quotes::latest_for_conversation(c, t.tenant_id, t.conversation_id).await?,
        };
        let number = waiting.map(|q| q.number).unwrap_or_default();
        let body = engine::render_with(
            &ctx.templates,
            domain::templates::TemplateKind::ApprovalPending,
            &domain::templates::quote_ref_context(&common, &number),
        );
        outbound::queue(c, t, &Payload::Text { to, body }, None).await?;
    }
    Ok(())
}
