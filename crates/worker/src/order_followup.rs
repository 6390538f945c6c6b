//! A customer's message after a confirmed order that is not a new order: "já paguei", "qual
//! a chave pix?", "quero cancelar", "ah esqueci, coloca mais 5 sacos de cal", "a que horas
//! posso buscar?". The order's conversation is closed, so the message opens a new one; read
//! as a fresh start, it got the welcome text or "só falta os produtos…" and nobody at the
//! store heard of it. Instead a person takes it, with the order's number as the reason, and
//! the customer is told so once.

use domain::inbound::InboundContent;
use domain::understanding::{understand_in, Draft, Intent};

use crate::tenant_ctx::TenantContext;

/// Words saying a message adds to what was already ordered ("esqueci", "coloca mais").
fn adds_to_the_order(body: &str) -> bool {
    let folded = domain::understanding::fold_for_compare(body);
    folded.split_whitespace().any(|w| {
        matches!(
            w,
            "esqueci" | "mais" | "tb" | "tambem" | "acrescenta" | "coloca" | "poe" | "inclui"
        )
    })
}

/// Is this message, the first of a new conversation, about the contact's open order rather
/// than a new one? A greeting alone is not (the bot's welcome answers it); a complete new
/// order is not either (items without a word of adding to the old one).
pub fn is_about_the_order(content: &InboundContent, ctx: &TenantContext) -> bool {
    let InboundContent::Text { body } = content else {
        return false;
    };
    let u = understand_in(body, &ctx.index, &Draft::default());
    if u.intent == Intent::GreetingOnly {
        return false;
    }
    if !u.items.is_empty() || !u.corrections.is_empty() {
        return adds_to_the_order(body);
    }
    true
}

/// What staff read in the person queue.
pub fn reason(quote_number: &str, body: &str) -> String {
    let excerpt: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    let excerpt: String = excerpt.chars().take(120).collect();
    format!("mensagem sobre o pedido {quote_number}: \u{201c}{excerpt}\u{201d}")
}

/// What the customer is told (once: the conversation then waits for the person).
pub fn acknowledgement(quote_number: &str) -> String {
    format!(
        "Recebi sua mensagem sobre o pedido *{quote_number}*. Uma pessoa da equipe vai te \
         responder por aqui. 🙂"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reason_names_the_order_and_quotes_the_customer() {
        assert_eq!(
            reason("ORC-2026-000012", "ja   paguei\nsegue o comprovante"),
            "mensagem sobre o pedido ORC-2026-000012: \u{201c}ja paguei segue o comprovante\u{201d}"
        );
        assert!(acknowledgement("ORC-2026-000012").contains("*ORC-2026-000012*"));
    }

    #[test]
    fn adding_words() {
        assert!(adds_to_the_order("ah esqueci, coloca mais 5 sacos de cal"));
        assert!(adds_to_the_order("põe 2 de areia tb"));
        assert!(!adds_to_the_order(
            "10 sacos de cimento pro grajau no pix amanha"
        ));
    }
}
