//! `whatsapp.send`: one outbound message to Meta.
//!
//! The Graph call happens outside any transaction; its outcome is recorded afterwards. A
//! message that is no longer `pending` is never sent again, so a retry of a job whose first
//! run already got Meta's answer changes nothing. (A crash between Meta's 200 and our commit
//! can still send twice: the Cloud API has no idempotency key. See docs/whatsapp.md.)

use domain::status::MessageStatus;
use secrecy::SecretString;
use store::{channels, messages};
use whatsapp::graph::SendError;

use crate::job::{JobCtx, Outcome};
use crate::outbound::Payload;

pub async fn handle(jc: &JobCtx<'_>, message_id: &str) -> Outcome {
    let w = jc;
    let Some(tenant_id) = jc.job.tenant_id.as_deref() else {
        return Outcome::Dead("send without tenant".into());
    };
    // Message, conversation and channel in one statement (store::outgoing).
    let msg = match store::outgoing::load(w.db, tenant_id, message_id).await {
        Ok(m) if m.status != MessageStatus::Pending => return Outcome::Done,
        Ok(m) => m,
        Err(e) => return Outcome::from_store(e),
    };
    // Meta said the number itself is unusable: every send would fail the same way, so the
    // message waits (pending, its job not burned) until the owner fixes it and saves the
    // number on /whatsapp, which wakes these jobs.
    if let Some(code) = msg
        .last_error_code
        .filter(|c| whatsapp::graph::is_account_level(*c))
    {
        return Outcome::Wait {
            after_ms: CHANNEL_BLOCKED_RECHECK_MS,
            reason: format!(
                "o número de WhatsApp da loja está bloqueado pela Meta (código {code})"
            ),
        };
    }
    let payload: Payload = match serde_json::from_str(&msg.payload_json) {
        Ok(p) => p,
        Err(e) => {
            return record_permanent(
                jc,
                tenant_id,
                &msg.id,
                None,
                &format!("mensagem inválida: {e}"),
            )
            .await
        }
    };
    // A message the store starts gets the window decision (free-form, an approved template,
    // or nothing and a note): `worker::proactive`.
    let payload = match crate::proactive::decide(jc, tenant_id, &msg, payload).await {
        crate::proactive::Decision::Send(p) => p,
        crate::proactive::Decision::Held(outcome) => return outcome,
    };
    // Every other message is free-form, which WhatsApp only allows within 24 h of the
    // customer's last message (measured from Meta's timestamp). A message that became due
    // after that (Meta redelivered a day-old message after an outage, a job that waited) would
    // only earn a 131047: it is not attempted, and a person sees why.
    let is_template = matches!(payload, Payload::Template { .. });
    if !is_template && msg.window_expires_at.is_some_and(|w| w <= store::now_ms()) {
        return record_refusal(
            jc,
            tenant_id,
            &msg.id,
            None,
            "não enviada: a janela de 24 h do WhatsApp fechou (o cliente escreveu há mais de 24 h)",
            "a janela de 24 h do WhatsApp fechou antes da resposta do robô: o cliente não a recebeu",
        )
        .await;
    }
    let Some(enc) = msg.access_token_enc.as_deref() else {
        return record_permanent(
            jc,
            tenant_id,
            &msg.id,
            None,
            "o número de WhatsApp da loja não tem token de acesso configurado",
        )
        .await;
    };
    let token = match w.cipher.decrypt(enc) {
        Ok(t) => SecretString::from(t),
        Err(e) => {
            return record_permanent(
                jc,
                tenant_id,
                &msg.id,
                None,
                &format!("token de acesso ilegível: {e}"),
            )
            .await
        }
    };
    let started = std::time::Instant::now();
    // A quote link is signed first (once: the URL is kept on the message).
    let payload = match crate::quote_link::ready(jc, tenant_id, &msg.id, payload).await {
        Ok(p) => p,
        Err(e) => return Outcome::from_store(e),
    };
    // A document is uploaded first; a failed upload is handled as a failed send.
    let ready = crate::document::ready(
        jc,
        tenant_id,
        &msg.id,
        &msg.phone_number_id,
        &token,
        payload,
    )
    .await;
    let result = match ready {
        Ok(payload) => {
            w.graph
                .send(
                    &msg.phone_number_id,
                    &token,
                    &payload.to_graph(),
                    jc.job.request_id.as_deref(),
                )
                .await
        }
        Err(crate::document::Failure::Graph(err)) => Err(err),
        Err(crate::document::Failure::Store(e)) => return Outcome::from_store(e),
    };
    metrics::histogram!("orcazap_graph_request_duration_seconds")
        .record(started.elapsed().as_secs_f64());
    match result {
        Ok(sent) => {
            metrics::counter!("orcazap_graph_requests_total", "outcome" => "ok", "code" => "none")
                .increment(1);
            let (tenant, id, wamid) = (tenant_id.to_string(), msg.id.clone(), sent.wamid);
            let completion = jc.completion();
            match w
                .db
                .tx(move |c| {
                    Box::pin(async move {
                        let failure = messages::mark_sent(c, &tenant, &id, &wamid).await?;
                        // Done in the same commit; a lost lease changes nothing here (fenced),
                        // and "sent" is kept either way: Meta has the message.
                        completion.complete(c).await?;
                        Ok(failure)
                    })
                })
                .await
            {
                Ok(None) => {
                    jc.completed_in_step();
                    Outcome::Done
                }
                // A `failed` receipt got here before this commit and is applied now.
                Ok(Some(failure)) => {
                    jc.completed_in_step();
                    if let Err(e) = crate::delivery::delivery_failed(w.db, &failure).await {
                        tracing::warn!(error = %e, "could not act on a failed delivery");
                    }
                    Outcome::Done
                }
                // Meta has it; retrying would send it twice. Keep the job for the operator.
                Err(e) => Outcome::Dead(format!("sent but could not record Meta's id: {e}")),
            }
        }
        Err(err) => {
            metrics::counter!("orcazap_graph_requests_total", "outcome" => if err.is_transient() { "transient" } else { "permanent" },
                "code" => code_label(&err))
            .increment(1);
            if err.is_account_level() {
                return flag_channel(jc, tenant_id, &msg.id, &msg.channel_id, &err).await;
            }
            if err.is_transient() && jc.job.attempts < jc.job.max_attempts {
                let (tenant, id, code, text) = (
                    tenant_id.to_string(),
                    msg.id.clone(),
                    err.code(),
                    err.message().to_string(),
                );
                let _ =
                    w.db.tx(move |c| {
                        Box::pin(
                            async move { messages::note_error(c, &tenant, &id, code, &text).await },
                        )
                    })
                    .await;
                let delay = whatsapp::graph::backoff_delay(
                    &w.graph.retry_policy(),
                    jc.job.attempts as u32,
                    &err,
                );
                Outcome::Retry {
                    after_ms: delay.as_millis() as i64,
                    error: err.message().to_string(),
                }
            } else {
                record_permanent(jc, tenant_id, &msg.id, err.code(), err.message()).await
            }
        }
    }
}

/// How long a send waits before looking at a blocked number again, when nobody saved it.
const CHANNEL_BLOCKED_RECHECK_MS: i64 = 15 * 60 * 1000;

/// An account-level refusal (token, permissions, block, payment, spam limit, registration):
/// the number is flagged with Meta's code (shown on /whatsapp with what to do), an error is
/// logged and counted, and sending from it stops. The message that met the refusal waits
/// with the others — except an expired token (190), which fails as it always has, because
/// the customer's next message after the owner reconnects starts a fresh answer.
async fn flag_channel(
    jc: &JobCtx<'_>,
    tenant_id: &str,
    message_id: &str,
    channel_id: &str,
    err: &SendError,
) -> Outcome {
    let code = err.code().unwrap_or_default();
    tracing::error!(
        code,
        channel_id,
        error = err.message(),
        "WhatsApp refused the store's number: sending from it stops until the owner fixes it"
    );
    metrics::counter!("orcazap_whatsapp_channel_blocked_total", "code" => code.to_string())
        .increment(1);
    let (ch, tenant, id, text) = (
        channel_id.to_string(),
        tenant_id.to_string(),
        message_id.to_string(),
        err.message().to_string(),
    );
    let flagged = jc
        .db
        .tx(move |c| {
            Box::pin(async move {
                channels::record_error(c, &ch, Some(code)).await?;
                messages::note_error(c, &tenant, &id, Some(code), &text).await
            })
        })
        .await;
    if let Err(e) = flagged {
        return Outcome::from_store(e);
    }
    if code == whatsapp::graph::codes::INVALID_TOKEN {
        return record_permanent(jc, tenant_id, message_id, Some(code), err.message()).await;
    }
    Outcome::Wait {
        after_ms: CHANNEL_BLOCKED_RECHECK_MS,
        reason: format!("o número de WhatsApp da loja foi bloqueado pela Meta (código {code})"),
    }
}

fn code_label(err: &SendError) -> String {
    match err.code() {
        Some(c) => c.to_string(),
        None => err.metric_label().to_string(),
    }
}

async fn record_permanent(
    jc: &JobCtx<'_>,
    tenant_id: &str,
    message_id: &str,
    code: Option<i64>,
    text: &str,
) -> Outcome {
    // Meta's own text is English and stays on the message row; staff read pt-BR.
    let reason = match code {
        Some(code) => {
            format!("o WhatsApp recusou uma mensagem (código {code}): o cliente não a recebeu")
        }
        None => "uma mensagem não pôde ser enviada: o cliente não a recebeu".into(),
    };
    record_refusal(jc, tenant_id, message_id, code, text, &reason).await
}

/// The message is failed with `text` on its row and the conversation waits for a person with
/// `reason` (what staff read in the queue).
async fn record_refusal(
    jc: &JobCtx<'_>,
    tenant_id: &str,
    message_id: &str,
    code: Option<i64>,
    text: &str,
    reason: &str,
) -> Outcome {
    tracing::warn!(code = ?code, error = text, "outbound message failed permanently");
    let (tenant, id, msg, reason) = (
        tenant_id.to_string(),
        message_id.to_string(),
        text.to_string(),
        reason.to_string(),
    );
    let engine = jc.db.engine();
    match jc
        .db
        .tx(move |c| {
            Box::pin(async move {
                messages::mark_failed(c, &tenant, &id, code, &msg).await?;
                // The customer did not get it and the bot cannot tell: a person must look
                // (issue 18 items 1 and 6), with WhatsApp's reason in front of them.
                let failed = messages::by_id(c, &tenant, &id).await?;
                crate::handoff::queue_for_person(
                    c,
                    engine,
                    &tenant,
                    &failed.conversation_id,
                    &reason,
                )
                .await?;
                Ok(())
            })
        })
        .await
    {
        // The failure is on the message and the conversation waits for a person, visible to
        // the store; the job itself is finished.
        Ok(()) => Outcome::Done,
        Err(e) => Outcome::from_store(e),
    }
}
