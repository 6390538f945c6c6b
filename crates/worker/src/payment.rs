//! The PIX copia-e-cola sent after "Confirmar" (issue 15 item 2): its own text message, so the
//! customer copies it with one long-press, right after the confirmation that says it follows.

use domain::pix::{self, Txid};
use domain::pricing::PricedQuote;
use domain::slots::PaymentMethod;
use sqlx::AnyConnection;
use store::{store_profile, StoreError};

/// A PIX code for a confirmed quote and who receives the payment.
pub struct PixOffer {
    pub receiver: String,
    pub code: String,
}

/// The code for paying `q` (number `number`), when there is one to offer: the customer chose
/// PIX, the store registered a key, and the total is final (a freight still "a confirmar"
/// would make the amount wrong, so no code is offered then).
pub async fn pix_offer(
    c: &mut AnyConnection,
    tenant_id: &str,
    q: &PricedQuote,
    number: &str,
) -> Result<Option<PixOffer>, StoreError> {
    if q.payment_method != PaymentMethod::Pix {
        return Ok(None);
    }
    pix_for(c, tenant_id, q, number).await
}

/// The code for paying `q`, whatever payment the customer named (the quote PDF prints it for
/// whoever pays): when the store has a key and the total is final.
pub async fn pix_for(
    c: &mut AnyConnection,
    tenant_id: &str,
    q: &PricedQuote,
    number: &str,
) -> Result<Option<PixOffer>, StoreError> {
    if q.freight.is_none() {
        return Ok(None);
    }
    let Some(store_pix) = store_profile::get_conn(c, tenant_id).await?.pix else {
        return Ok(None);
    };
    let txid = Txid::from_quote_number(number);
    match pix::copia_e_cola(&store_pix.key, &store_pix.merchant, q.total, &txid) {
        Ok(code) => Ok(Some(PixOffer {
            receiver: store_pix.merchant.name().to_string(),
            code,
        })),
        Err(e) => {
            // An amount the BR Code cannot carry: the order stands, payment is arranged by a
            // person (the confirmation then says nothing about PIX).
            tracing::warn!(error = %e, "no PIX code for this quote");
            Ok(None)
        }
    }
}

/// Meta's `key_type` for a PIX key kind.
fn meta_key_type(kind: domain::pix::PixKeyKind) -> &'static str {
    match kind {
        domain::pix::PixKeyKind::Cpf => "CPF",
        domain::pix::PixKeyKind::Cnpj => "CNPJ",
        domain::pix::PixKeyKind::Email => "EMAIL",
        domain::pix::PixKeyKind::Phone => "PHONE",
        domain::pix::PixKeyKind::Random => "EVP",
    }
}

/// At most `max` characters (Meta's 60 for an item name).
fn clipped(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}

/// The confirmed quote as Meta's `order_details` message (payments in Brazil, issue 15 item
/// 2), when the store turned it on and there is a PIX code to offer (`pix_offer`'s rules):
/// items from the priced lines (a whole quantity as `quantity` × unit price; a fractional one
/// — 2,5 m³ — as one item of its line total, the amount in its name), the PIX discount as
/// `discount`, the freight as `shipping`, the quote's validity as `expiration` (when at least
/// 5 minutes away: Meta's minimum), the BR Code as `pix_dynamic_code`, the quote number as
/// `reference_id`. None when any of that does not hold — the plain PIX text goes then.
pub async fn order_details(
    c: &mut AnyConnection,
    tenant_id: &str,
    q: &PricedQuote,
    number: &str,
    to: &str,
    valid_until_ms: i64,
    clock: &domain::clock::StoreClock,
) -> Result<Option<crate::outbound::OrderPayload>, StoreError> {
    if !store_profile::meta_payments_enabled(c, tenant_id).await? {
        return Ok(None);
    }
    let Some(offer) = pix_offer(c, tenant_id, q, number).await? else {
        return Ok(None);
    };
    let Some(store_pix) = store_profile::get_conn(c, tenant_id).await?.pix else {
        return Ok(None);
    };
    if whatsapp::graph::OrderDetails::reference_ok(number).is_err() {
        return Ok(None);
    }
    let items: Vec<(String, String, i64, i64)> = q
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let id = if l.sku.trim().is_empty() {
                format!("item-{}", i + 1)
            } else {
                l.sku.clone()
            };
            let t = l.quantity.thousandths();
            if t > 0 && t % 1000 == 0 && l.unit_price.0 * (t / 1000) == l.line_total.0 {
                (id, clipped(&l.name, 60), l.unit_price.0, t / 1000)
            } else {
                let name = format!("{} ({} {})", l.name, l.quantity.to_br(), l.unit.label());
                (id, clipped(&name, 60), l.line_total.0, 1)
            }
        })
        .collect();
    let subtotal: i64 = items.iter().map(|(_, _, a, n)| a * n).sum();
    let shipping = q.freight.map_or(0, |f| f.0);
    let discount = q.payment_discount.0;
    if items.is_empty() || subtotal + shipping - discount != q.total.0 {
        tracing::warn!(
            subtotal,
            shipping,
            discount,
            total = q.total.0,
            "order_details amounts do not add up to the quote's total; plain PIX text instead"
        );
        return Ok(None);
    }
    let expiration = (valid_until_ms - store::now_ms() >= 5 * 60 * 1000).then(|| {
        (
            valid_until_ms / 1000,
            format!("Orçamento válido até {}", clock.datetime_br(valid_until_ms)),
        )
    });
    Ok(Some(crate::outbound::OrderPayload {
        to: to.to_string(),
        body: format!(
            "Pedido *{number}*: toque em *Revisar e pagar* para ver os itens e copiar o código Pix \
             (recebedor: {}).",
            offer.receiver
        ),
        reference_id: number.to_string(),
        pix_code: offer.code,
        merchant_name: store_pix.merchant.name().to_string(),
        pix_key: store_pix.key.as_str().to_string(),
        pix_key_type: meta_key_type(store_pix.key.kind()).to_string(),
        items,
        subtotal_cents: subtotal,
        discount_cents: discount,
        discount_description: (discount > 0).then(|| "Desconto no Pix".to_string()),
        shipping_cents: shipping,
        shipping_description: (shipping > 0).then(|| match &q.freight_rule {
            Some(r) => format!("Frete ({r})"),
            None => "Frete".to_string(),
        }),
        total_cents: q.total.0,
        expiration,
    }))
}

/// Meta's `order_status` for a payment state staff set on /pedidos: paid → `processing`
/// (Meta: payment received, the merchant is fulfilling), delivered → `completed` (nothing
/// more to expect). `aguardando` is where an order starts (`pending`): never sent.
pub fn meta_status(state: store::orders::PaymentState) -> Option<(&'static str, &'static str)> {
    match state {
        store::orders::PaymentState::Aguardando => None,
        store::orders::PaymentState::Pago => Some(("processing", "Pagamento recebido")),
        store::orders::PaymentState::Entregue => Some(("completed", "Pedido entregue")),
    }
}

/// Staff moved the order to `state`: when it went out as Meta's `order_details`
/// (`orders.meta_reference`), the customer's WhatsApp order follows with an `order_status`
/// message, queued in the caller's transaction (the send job applies the 24-hour window like
/// any reply: outside it the message is kept as not delivered with the reason). Returns
/// whether one was queued.
pub async fn order_status_changed(
    c: &mut AnyConnection,
    engine: store::Engine,
    tenant_id: &str,
    order_id: &str,
    state: store::orders::PaymentState,
    request_id: Option<&str>,
) -> Result<bool, StoreError> {
    let Some(order) = store::orders::get_conn(c, tenant_id, order_id).await? else {
        return Ok(false);
    };
    let (Some(reference), Some((status, description))) = (order.meta_reference, meta_status(state))
    else {
        return Ok(false);
    };
    let Some((conversation_id, wa_id)) = store::orders::recipient(c, tenant_id, order_id).await?
    else {
        return Ok(false);
    };
    let body = match state {
        store::orders::PaymentState::Pago => format!(
            "Recebemos o pagamento do pedido *{reference}*. Obrigado! Já estamos separando o material."
        ),
        _ => format!("Pedido *{reference}* entregue. Obrigado pela compra!"),
    };
    let target = crate::outbound::Target {
        engine,
        tenant_id,
        conversation_id: &conversation_id,
        contact_id: &order.contact_id,
        request_id,
        due_at: None,
    };
    crate::outbound::queue(
        c,
        &target,
        &crate::outbound::Payload::OrderStatus {
            to: wa_id,
            body,
            reference_id: reference,
            status: status.to_string(),
            description: Some(description.to_string()),
        },
        None,
    )
    .await?;
    Ok(true)
}
