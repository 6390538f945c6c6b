//! The customer's "parar" / "voltar" (issue 15 item 6): an opt-out of every message the store
//! starts, recorded with its time for LGPD (`store::opt_out`), confirmed once in pt-BR; and its
//! reversal by "voltar". Replies to what the customer writes are not proactive: after an
//! opt-out the bot still answers a new question. Asking for a quote again does *not* turn
//! proactive messages back on by itself — withdrawn consent comes back only by the customer's
//! explicit "voltar" or by staff, on the customer's word, from the conversation page.

use domain::inbound::InboundContent;
use domain::proactive::{opt_in_words, opt_out_words};
use sqlx::AnyConnection;
use store::conversations::Conversation;
use store::StoreError;

use crate::outbound::{self, Payload, Target};

/// What the bot says once the opt-out is recorded. "a loja X", never an article guessed for
/// the store's name ("a Depósito…").
pub fn opted_out_reply(store_name: &str) -> String {
    format!(
        "Combinado: a loja *{store_name}* não vai mais te enviar lembretes nem avisos por \
         aqui. Se quiser voltar a receber, é só escrever *voltar*. E pode nos chamar quando \
         precisar."
    )
}

/// What the bot says when the customer takes it back.
pub const OPTED_IN_REPLY: &str =
    "Pronto! Você voltou a receber nossos lembretes e avisos por aqui. 😊";

/// Handles the customer's opt-out or opt-in words. Returns true when the message was one
/// (it is then not given to the conversation engine).
pub async fn handle_words(
    c: &mut AnyConnection,
    t: &Target<'_>,
    store_name: &str,
    conv: &Conversation,
    content: &InboundContent,
) -> Result<bool, StoreError> {
    let InboundContent::Text { body } = content else {
        return Ok(false);
    };
    // During a takeover the person speaks for the store: the choice is recorded, the bot
    // stays silent, and the person sees it on the conversation page.
    let bot_speaks = conv.taken_over_by.is_none();
    let reply = if opt_out_words(body) {
        let recorded = store::opt_out::opt_out(c, t.tenant_id, &conv.contact_id).await?;
        if recorded {
            audited(c, t, conv, "contact.opt_out").await?;
        }
        tracing::info!(recorded, "customer opted out of proactive messages");
        metrics::counter!("orcazap_opt_outs_total", "change" => "out")
            .increment(usize::from(recorded) as u64);
        // Confirmed once: a second "parar" finds it recorded and gets no new confirmation.
        recorded.then(|| opted_out_reply(store_name))
    } else if opt_in_words(body) {
        if !store::opt_out::opt_in(c, t.tenant_id, &conv.contact_id).await? {
            // Not opted out: "voltar" is an ordinary message for the engine.
            return Ok(false);
        }
        audited(c, t, conv, "contact.opt_in").await?;
        tracing::info!("customer opted back in to proactive messages");
        metrics::counter!("orcazap_opt_outs_total", "change" => "in").increment(1);
        Some(OPTED_IN_REPLY.to_string())
    } else {
        return Ok(false);
    };
    if let (Some(body), true) = (reply, bot_speaks) {
        let to = conv.contact_wa_id.clone();
        outbound::queue(c, t, &Payload::Text { to, body }, None).await?;
    }
    Ok(true)
}

/// The customer's own change, in the audit log beside staff's `contact.opt_in`: the history
/// the LGPD export shows (`store::privacy::export_contact`). No personal data in it (the
/// contact's id and the time).
async fn audited(
    c: &mut AnyConnection,
    t: &Target<'_>,
    conv: &Conversation,
    action: &str,
) -> Result<(), StoreError> {
    store::audit::record(
        c,
        &store::audit::Entry {
            tenant_id: Some(t.tenant_id),
            actor_user_id: None,
            actor_label: "cliente (WhatsApp)",
            action,
            entity: "contact",
            entity_id: Some(&conv.contact_id),
            before: None,
            after: Some(serde_json::json!({ "opted_out": action == "contact.opt_out" })),
            request_id: t.request_id,
        },
    )
    .await
}
