//! The quote page's link as a WhatsApp CTA button (issue 15 item 3): right after the quote
//! message, when the store turned the public link on. The send job signs the link
//! (`store::quote_link`) from the quote's row as it is then — the snapshot the customer was
//! sent — and keeps the URL on the message, so a retried send posts the same link.

use store::{quote_link, quotes, StoreError};

use crate::job::JobCtx;
use crate::outbound::Payload;

/// What the customer reads above the button, and the button's label (≤ 20 characters).
/// The PIX code is promised only to a customer paying by PIX (a cash or card order has
/// none to copy).
pub fn link_body(number: &str, pix: bool) -> String {
    if pix {
        format!(
            "Veja o orçamento *{number}* numa página: itens, total, validade, o PDF e o código PIX para copiar."
        )
    } else {
        format!("Veja o orçamento *{number}* numa página: itens, total, validade e o PDF.")
    }
}
pub const LINK_LABEL: &str = "Ver orçamento";

/// `{public_url}/q/{token}` for the quote as it is stored now.
pub fn url_for(jc: &JobCtx<'_>, quote: &quotes::Quote) -> String {
    let token = quote_link::issue(jc.cipher, &quote_link::claims_for(quote));
    format!("{}/q/{token}", jc.public_url.trim_end_matches('/'))
}

/// Gives a link payload its URL (once) and keeps it on the message; any other payload is
/// returned as it is.
pub async fn ready(
    jc: &JobCtx<'_>,
    tenant_id: &str,
    message_id: &str,
    payload: Payload,
) -> Result<Payload, StoreError> {
    let Payload::QuoteLink {
        to,
        number,
        body,
        url: None,
    } = payload
    else {
        return Ok(payload);
    };
    let mut c = jc.db.read().acquire().await?;
    let quote = quotes::by_number(&mut c, tenant_id, &number)
        .await?
        .ok_or(StoreError::NotFound)?;
    drop(c);
    let ready = Payload::QuoteLink {
        to,
        number,
        body,
        url: Some(url_for(jc, &quote)),
    };
    let json = serde_json::to_string(&ready).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let (tenant, id) = (tenant_id.to_string(), message_id.to_string());
    // Best effort: without it a retry signs the link again (same quote, same page).
    if let Err(e) = jc
        .db
        .tx(move |c| {
            Box::pin(async move { store::messages::set_payload(c, &tenant, &id, &json).await })
        })
        .await
    {
        tracing::warn!(error = %e, "could not keep the quote link on its message");
    }
    Ok(ready)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_pix_code_is_promised_only_for_pix() {
        assert!(super::link_body("ORC-1", true).contains("código PIX"));
        assert!(!super::link_body("ORC-1", false).contains("PIX"));
    }
}
