//! The window decision for every message the store starts (issue 15 item 5), taken by the
//! send job just before it calls Graph, when the window is what it is *now*:
//!
//! - the contact opted out ("parar"…): nothing is sent, the message stays in the conversation
//!   as not delivered with the reason (staff see it);
//! - inside the 24-hour window (measured from Meta's timestamp of the customer's last
//!   message): the free-form text;
//! - outside it: the approved WhatsApp message template the store set for the message's
//!   purpose, with its parameters (the message row then holds the template's text, so the
//!   transcript shows what the customer got);
//! - outside it with no such template: nothing, and the same visible note.
//!
//! Never a free-form send outside the window. Replies to what the customer just wrote are
//! not proactive and keep the send job's own window check.

use domain::proactive::Purpose;
use store::messages;
use store::outgoing::Outgoing;
use store::{meta_templates, opt_out, StoreError};
use whatsapp::graph::{check_template_body, fill_template};

use crate::job::{JobCtx, Outcome};
use crate::outbound::Payload;

/// What the send does with a message.
pub enum Decision {
    /// Send this (the payload as it was, or the template chosen for it).
    Send(Payload),
    /// Not sent; the job ends with this outcome (the reason is on the message).
    Held(Outcome),
}

pub async fn decide(
    jc: &JobCtx<'_>,
    tenant_id: &str,
    msg: &Outgoing,
    payload: Payload,
) -> Decision {
    let Payload::Proactive {
        to,
        body,
        purpose,
        params,
    } = payload
    else {
        return Decision::Send(payload);
    };
    match choose(jc, tenant_id, msg, to, body, &purpose, params).await {
        Ok(Choice::FreeForm(p)) => {
            counted("free_form");
            Decision::Send(p)
        }
        Ok(Choice::Template(p)) => {
            counted("template");
            Decision::Send(p)
        }
        Ok(Choice::Hold { outcome, reason }) => {
            counted(outcome);
            Decision::Held(hold(jc, tenant_id, &msg.id, &reason).await)
        }
        Err(e) => Decision::Held(Outcome::from_store(e)),
    }
}

enum Choice {
    FreeForm(Payload),
    Template(Payload),
    Hold {
        outcome: &'static str,
        reason: String,
    },
}

async fn choose(
    jc: &JobCtx<'_>,
    tenant_id: &str,
    msg: &Outgoing,
    to: String,
    body: String,
    purpose: &str,
    params: Vec<String>,
) -> Result<Choice, StoreError> {
    let mut c = jc.db.read().acquire().await?;
    if opt_out::opted_out_at(&mut c, tenant_id, &msg.contact_id)
        .await?
        .is_some()
    {
        return Ok(Choice::Hold {
            outcome: "held_opt_out",
            reason: "não enviada: o cliente pediu para não receber mensagens da loja".into(),
        });
    }
    if msg.window_expires_at.is_some_and(|w| w > store::now_ms()) {
        return Ok(Choice::FreeForm(Payload::Text { to, body }));
    }
    let label = Purpose::from_code(purpose).map_or(purpose, |p| p.label());
    let Some(t) = meta_templates::approved_for(&mut c, tenant_id, purpose).await? else {
        return Ok(Choice::Hold {
            outcome: "held_window",
            reason: format!(
                "não enviada: a janela de 24 h do WhatsApp está fechada e a loja não tem modelo de mensagem do WhatsApp aprovado para «{label}»"
            ),
        });
    };
    drop(c);
    // The dashboard only saves bodies whose variables fit the purpose; one that no longer
    // does (edited at Meta) is held rather than sent with a missing parameter.
    let wanted = check_template_body(&t.body).unwrap_or(usize::MAX);
    if wanted > params.len() {
        return Ok(Choice::Hold {
            outcome: "held_window",
            reason: format!(
                "não enviada: o modelo «{}» pede mais parâmetros do que «{label}» tem",
                t.name
            ),
        });
    }
    let params: Vec<String> = params.into_iter().take(wanted).collect();
    let shown = fill_template(&t.body, &params);
    let template = Payload::Template {
        to,
        name: t.name,
        language: t.language,
        params,
        body: shown,
    };
    let json = serde_json::to_string(&template).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let (tenant, id, body) = (
        tenant_id.to_string(),
        msg.id.clone(),
        template.body().to_string(),
    );
    jc.db
        .tx(move |c| {
            Box::pin(async move {
                messages::replace_pending_payload(c, &tenant, &id, "template", &body, &json).await
            })
        })
        .await?;
    Ok(Choice::Template(template))
}

/// The message is kept, not delivered, with why on its row (the transcript shows it under
/// "Não foi entregue ao cliente"). Nobody is paged: a reminder that could not go out is not a
/// customer waiting.
async fn hold(jc: &JobCtx<'_>, tenant_id: &str, message_id: &str, reason: &str) -> Outcome {
    tracing::info!(reason, "proactive message not sent");
    let (tenant, id, reason) = (
        tenant_id.to_string(),
        message_id.to_string(),
        reason.to_string(),
    );
    match jc
        .db
        .tx(move |c| {
            Box::pin(async move { messages::mark_failed(c, &tenant, &id, None, &reason).await })
        })
        .await
    {
        Ok(()) => Outcome::Done,
        Err(e) => Outcome::from_store(e),
    }
}

fn counted(outcome: &'static str) {
    metrics::counter!("orcazap_proactive_messages_total", "outcome" => outcome).increment(1);
}
