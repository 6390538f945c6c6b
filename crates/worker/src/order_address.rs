//! The delivery address of a won order (issue 15 item 4). After "Pedido confirmado" the bot
//! asks, once, for what the truck needs and the conversation did not say (rua, número,
//! complemento, ponto de referência); the customer answers in words or shares a location.
//!
//! The confirmed conversation is closed (WON), so the answer arrives in a new one (the store
//! opens a conversation for any message after a closed one). Before the engine reads a
//! message of a new conversation, [`take`] checks whether the contact has an order waiting
//! for its address (asked within `store::orders::ADDRESS_ANSWER_WINDOW_MS`) and whether the
//! message is an address (or the number the bot asked for); if so it is stored on the order
//! and answered here, and the engine never sees it. The exchange belongs to the order: the
//! answer is queued in the order's conversation and `worker::advance` moves the customer's
//! message there, deleting the new conversation when nothing else is in it — so the inbox
//! never shows a spurious *Nova* conversation for an address. Anything else (a new order, a
//! question) goes to the engine as before. An unanswered question blocks nothing: the order stays
//! confirmed and /pedidos shows "endereço pendente".

use domain::address::{self, Address};
use domain::inbound::InboundContent;
use domain::slots::Location;
use domain::understanding::{understand_in, Draft};
use sqlx::AnyConnection;
use store::conversations::Conversation;
use store::jobs::{self, NewJob};
use store::{orders, quotes, StoreError};

use crate::outbound::{self, Payload, Target};
use crate::tenant_ctx::TenantContext;

/// Look the order's CEP up (`{"order_id","cep"}`): `worker::cep`.
pub const CEP_LOOKUP_JOB: &str = "order.cep_lookup";

/// The question sent after the confirmation of an order with delivery. `known`: the place
/// the conversation already gave (its bairro or CEP), said back so it is not asked again.
pub fn question(known: Option<&Location>) -> String {
    let noted = match known {
        Some(Location::Bairro(b)) => format!(" (o bairro *{b}* já está anotado)"),
        Some(Location::Cep(c)) => format!(" (o CEP *{}* já está anotado)", c.formatted()),
        // A pickup has no address to ask for; a person who turned it into a delivery set no
        // place either.
        Some(Location::Retirada) | None => String::new(),
    };
    format!(
        "Para a entrega, me manda o endereço numa mensagem só{noted}: *rua*, *número*, \
         *complemento* (se tiver) e um *ponto de referência*. Se preferir, é só compartilhar a \
         localização 📍 pelo WhatsApp."
    )
}

/// What the conversation knew about the place, as the order's first address.
pub fn known_address(known: Option<&Location>) -> Address {
    match known {
        Some(Location::Bairro(b)) => Address {
            bairro: Some(b.clone()),
            ..Address::default()
        },
        Some(Location::Cep(c)) => Address {
            cep: Some(*c),
            ..Address::default()
        },
        Some(Location::Retirada) | None => Address::default(),
    }
}

/// Asked after the address (or after the confirmation of a pickup) when the store wants
/// invoice data.
pub const TAX_ID_QUESTION: &str =
    "Para a nota fiscal, me manda o *CPF* ou o *CNPJ* de quem vai pagar, por favor.";

/// Queues the CPF/CNPJ question for the order and notes it was asked.
async fn ask_tax_id(
    c: &mut AnyConnection,
    t: &Target<'_>,
    conv: &Conversation,
    order_id: &str,
) -> Result<(), StoreError> {
    orders::ask_tax_id(c, t.tenant_id, order_id).await?;
    outbound::queue(
        c,
        t,
        &Payload::Text {
            to: conv.contact_wa_id.clone(),
            body: TAX_ID_QUESTION.to_string(),
        },
        None,
    )
    .await?;
    Ok(())
}

/// Creates the order of a quote just accepted and, for a delivery, queues the address
/// question (after the confirmation and the PIX code, already queued by the caller); for a
/// pickup of a store that wants invoice data, the CPF/CNPJ question.
pub async fn order_accepted(
    c: &mut AnyConnection,
    t: &Target<'_>,
    conv: &Conversation,
    quote_id: &str,
    pickup: bool,
    known: Option<&Location>,
) -> Result<(), StoreError> {
    let order_id = orders::create(
        c,
        t.tenant_id,
        quote_id,
        &conv.contact_id,
        !pickup,
        &known_address(known),
    )
    .await?;
    if pickup && store::store_profile::invoice_data_enabled(c, t.tenant_id).await? {
        ask_tax_id(c, t, conv, &order_id).await?;
    }
    if !pickup {
        outbound::queue(
            c,
            t,
            &Payload::Text {
                to: conv.contact_wa_id.clone(),
                body: question(known),
            },
            None,
        )
        .await?;
    }
    Ok(())
}

/// Reads `content` as the address (or the CPF/CNPJ) of the contact's order waiting for one.
/// `Some(conversation id)` when it was — stored and answered in the order's own conversation,
/// whose id is returned so the caller moves the customer's message there too (the exchange
/// belongs to the order: no new conversation is left behind as *Nova* in the inbox); `None`
/// leaves the message to the conversation engine.
pub async fn take(
    c: &mut AnyConnection,
    t: &Target<'_>,
    ctx: &TenantContext,
    conv: &Conversation,
    content: &InboundContent,
) -> Result<Option<String>, StoreError> {
    if let Some(home) = take_tax_id(c, t, conv, content).await? {
        return Ok(Some(home));
    }
    let Some(order) = orders::awaiting_address(c, t.tenant_id, &conv.contact_id).await? else {
        return Ok(None);
    };
    if take_address(c, t, ctx, conv, content, &order).await? {
        let home = quotes::get_conn(c, t.tenant_id, &order.quote_id)
            .await?
            .conversation_id;
        Ok(Some(home))
    } else {
        Ok(None)
    }
}

/// The order's own conversation as the target of the replies about it.
fn home_target<'a>(t: &Target<'a>, home: &'a str) -> Target<'a> {
    Target {
        engine: t.engine,
        tenant_id: t.tenant_id,
        conversation_id: home,
        contact_id: t.contact_id,
        request_id: t.request_id,
        due_at: t.due_at,
    }
}

async fn take_address(
    c: &mut AnyConnection,
    t: &Target<'_>,
    ctx: &TenantContext,
    conv: &Conversation,
    content: &InboundContent,
    order: &orders::Order,
) -> Result<bool, StoreError> {
    let (parsed, lat_lng) = match content {
        InboundContent::Location {
            place,
            latitude,
            longitude,
        } if !latitude.is_empty() && !longitude.is_empty() => (
            address::parse(place),
            Some((latitude.clone(), longitude.clone())),
        ),
        InboundContent::Text { body } => {
            let parsed = address::parse(body);
            // A new order ("10 sacos de cimento na rua…") is the engine's.
            if !understand_in(body, &ctx.index, &Draft::default())
                .items
                .is_empty()
            {
                return Ok(false);
            }
            let answers_number = order.address.street.is_some()
                && order.address.number.is_none()
                && parsed.number.is_some();
            let street_only = parsed.street.is_some() && address::starts_with_street(body);
            if !(parsed.looks_like_address() || answers_number || street_only) {
                return Ok(false);
            }
            (parsed, None)
        }
        _ => return Ok(false),
    };
    // The message's words first; what it lacks comes from what the order had.
    let mut addr = parsed.clone();
    if lat_lng.is_none() || parsed.street.is_none() {
        addr.fill_from(&order.address);
    }
    orders::set_address(
        c,
        t.tenant_id,
        &order.id,
        &addr,
        lat_lng.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
    )
    .await?;
    let given = addr.is_enough() || lat_lng.is_some();
    if let Some(cep) = addr.cep {
        if given && (parsed.cep.is_some() || order.address.cep.is_some()) {
            let mut job = NewJob::new(
                CEP_LOOKUP_JOB,
                serde_json::json!({ "order_id": order.id, "cep": cep.digits() }),
            );
            job.tenant_id = Some(t.tenant_id.to_string());
            jobs::enqueue(c, &job).await?;
        }
    }
    let quote = quotes::get_conn(c, t.tenant_id, &order.quote_id).await?;
    let number = quote.number;
    let home = quote.conversation_id;
    let t = &home_target(t, &home);
    let body = match (&lat_lng, given) {
        (Some(_), _) => {
            let line = addr.one_line();
            if line.is_empty() {
                format!("Recebi a localização 📍 para a entrega do pedido *{number}*. Obrigado!")
            } else {
                format!(
                    "Recebi a localização 📍 para a entrega do pedido *{number}*: {line}. Obrigado!"
                )
            }
        }
        (None, true) => format!(
            "Endereço anotado para a entrega do pedido *{number}*: {}. Obrigado!",
            addr.one_line()
        ),
        (None, false) => match &addr.street {
            Some(street) => {
                format!("Anotei *{street}*. Qual é o número? Se não tiver, responda *s/n*.")
            }
            None => {
                "Qual é a rua? Pode mandar rua, número e complemento numa mensagem só.".to_string()
            }
        },
    };
    tracing::info!(order_id = %order.id, complete = given, "delivery address received");
    outbound::queue(
        c,
        t,
        &Payload::Text {
            to: conv.contact_wa_id.clone(),
            body,
        },
        None,
    )
    .await?;
    if given
        && order.tax_id_asked_at.is_none()
        && store::store_profile::invoice_data_enabled(c, t.tenant_id).await?
    {
        ask_tax_id(c, t, conv, &order.id).await?;
    }
    Ok(true)
}

/// Reads `content` as the CPF/CNPJ of the contact's order waiting for one: stored when its
/// check digits match, refused with the reason (and asked again) when they do not; answered in
/// the order's conversation, whose id it returns. None for a message with no CPF- or
/// CNPJ-shaped word.
async fn take_tax_id(
    c: &mut AnyConnection,
    t: &Target<'_>,
    conv: &Conversation,
    content: &InboundContent,
) -> Result<Option<String>, StoreError> {
    let InboundContent::Text { body } = content else {
        return Ok(None);
    };
    let read = domain::tax_id::read(body);
    if read == domain::tax_id::TaxIdRead::NotADocument {
        return Ok(None);
    }
    let Some(order) = orders::awaiting_tax_id(c, t.tenant_id, &conv.contact_id).await? else {
        return Ok(None);
    };
    let quote = quotes::get_conn(c, t.tenant_id, &order.quote_id).await?;
    let number = quote.number;
    let home = quote.conversation_id;
    let t = &home_target(t, &home);
    let reply = match read {
        domain::tax_id::TaxIdRead::Valid(id) => {
            orders::set_tax_id(c, t.tenant_id, &order.id, id.stored()).await?;
            format!(
                "Anotei o {} *{}* para a nota do pedido *{number}*. Obrigado!",
                id.kind_pt(),
                id.formatted()
            )
        }
        domain::tax_id::TaxIdRead::Invalid(why) => format!(
            "{why}. Pode conferir e mandar de novo? (CPF tem 11 dígitos; CNPJ, 14 caracteres)"
        ),
        domain::tax_id::TaxIdRead::NotADocument => return Ok(None),
    };
    outbound::queue(
        c,
        t,
        &Payload::Text {
            to: conv.contact_wa_id.clone(),
            body: reply,
        },
        None,
    )
    .await?;
    Ok(Some(home))
}
