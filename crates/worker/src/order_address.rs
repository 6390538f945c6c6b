//! The delivery address of a won order (issue 15 item 4). After "Pedido confirmado" the bot
//! asks, once, for what the truck needs and the conversation did not say (rua, número,
//! complemento, ponto de referência); the customer answers in words or shares a location.
//!
//! The confirmed conversation is closed (WON), so the answer arrives in a new one (the store
//! opens a conversation for any message after a closed one). Before the engine reads a
//! message of a new conversation, [`take`] checks whether the contact has an order waiting
//! for its address (asked within `store::orders::ADDRESS_ANSWER_WINDOW_MS`) and whether the
//! message is an address (or the number the bot asked for); if so it is stored on the order
//! and answered here, and the engine never sees it. Anything else (a new order, a question)
//! goes to the engine as before. An unanswered question blocks nothing: the order stays
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
        None => String::new(),
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
        None => Address::default(),
    }
}

/// Creates the order of a quote just accepted and, for a delivery, queues the address
/// question (after the confirmation and the PIX code, already queued by the caller).
pub async fn order_accepted(
    c: &mut AnyConnection,
    t: &Target<'_>,
    conv: &Conversation,
    quote_id: &str,
    pickup: bool,
    known: Option<&Location>,
) -> Result<(), StoreError> {
    orders::create(
        c,
        t.tenant_id,
        quote_id,
        &conv.contact_id,
        !pickup,
        &known_address(known),
    )
    .await?;
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

/// Reads `content` as the address of the contact's order waiting for one. True when it was
/// (stored and answered); false leaves the message to the conversation engine.
pub async fn take(
    c: &mut AnyConnection,
    t: &Target<'_>,
    ctx: &TenantContext,
    conv: &Conversation,
    content: &InboundContent,
) -> Result<bool, StoreError> {
    let Some(order) = orders::awaiting_address(c, t.tenant_id, &conv.contact_id).await? else {
        return Ok(false);
    };
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
    let number = quotes::get_conn(c, t.tenant_id, &order.quote_id)
        .await?
        .number;
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
    Ok(true)
}
