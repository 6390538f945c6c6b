//! A tap on a quote's "Confirmar", checked against the quote the customer saw (issue 18
//! item 2). Meta sends back the button's id and the id of the message that carried it
//! (`context.id`); the quote is the one that id names, never simply the newest. A tap on a
//! quote that was replaced, refused or ran out confirms nothing: the customer is told, and
//! offered the current quote with its own buttons.

use domain::engine::{self, parse_quote_button, QuoteAction};
use domain::inbound::InboundContent;
use domain::money::Centavos;
use domain::status::QuoteStatus;
use domain::templates::{quote_replaced_context, Common, TemplateKind};
use sqlx::AnyConnection;
use store::conversations::Conversation;
use store::quotes::{self, Quote};
use store::{messages, StoreError};

use crate::outbound::{self, Payload, Target};
use crate::tenant_ctx::TenantContext;

/// The quote whose "Confirmar" was tapped, when accepting it now would confirm something
/// else than what the customer saw: it is not the conversation's current quote, or it is no
/// longer with the customer. None for every other message, for a tap on the current quote,
/// and for an old button whose quote cannot be told (no number, no `context.id`: the
/// behaviour before issue 18).
pub(crate) async fn replaced_quote_tapped(
    c: &mut AnyConnection,
    tenant_id: &str,
    conversation_id: &str,
    content: &InboundContent,
) -> Result<Option<Quote>, StoreError> {
    let InboundContent::Button { id, context_id, .. } = content else {
        return Ok(None);
    };
    let Some((QuoteAction::Accept, number)) = parse_quote_button(id) else {
        return Ok(None);
    };
    // The id names the quote exactly; buttons sent before it did are found through the
    // message that carried them.
    let tapped = match number {
        Some(n) => quotes::by_number(c, tenant_id, n).await?,
        None if !context_id.is_empty() => {
            match messages::outbound_by_provider_id(c, tenant_id, context_id).await? {
                Some(m) => {
                    quotes::shown_by_message(c, tenant_id, &m.conversation_id, m.created_at).await?
                }
                None => None,
            }
        }
        None => None,
    };
    let Some(tapped) = tapped else {
        return Ok(None);
    };
    let current = quotes::latest_for_conversation(c, tenant_id, conversation_id).await?;
    let is_current = current.as_ref().is_some_and(|q| q.id == tapped.id);
    if is_current && tapped.status == QuoteStatus::Sent {
        return Ok(None);
    }
    Ok(Some(tapped))
}

/// Tells the customer the tapped quote no longer holds and offers the current one: its
/// number and total with its own buttons when it is with them, a word that the store is
/// checking it, or an invitation to ask again when there is none.
pub(crate) async fn answer_replaced(
    c: &mut AnyConnection,
    t: &Target<'_>,
    ctx: &TenantContext,
    conv: &Conversation,
    tapped: &Quote,
) -> Result<(), StoreError> {
    let current = quotes::latest_for_conversation(c, t.tenant_id, t.conversation_id)
        .await?
        .filter(|q| q.id != tapped.id && q.status.is_open());
    let common = Common {
        store_name: &ctx.tenant.name,
        customer_name: (!conv.contact_name.is_empty()).then_some(conv.contact_name.as_str()),
    };
    let offered = current.as_ref().map(|q| {
        let seen = q.status == QuoteStatus::Sent;
        (q.number.as_str(), seen.then_some(Centavos(q.total_cents)))
    });
    let body = engine::render_with(
        &ctx.templates,
        TemplateKind::QuoteReplaced,
        &quote_replaced_context(&common, &tapped.number, offered),
    );
    let to = conv.contact_wa_id.clone();
    let payload = match &current {
        Some(q) if q.status == QuoteStatus::Sent => Payload::Buttons {
            to,
            body,
            buttons: outbound::quote_buttons(&q.number),
        },
        _ => Payload::Text { to, body },
    };
    outbound::queue(c, t, &payload, None).await?;
    Ok(())
}
