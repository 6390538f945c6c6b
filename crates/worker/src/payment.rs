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
