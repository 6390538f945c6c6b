//! Builders of the data each template kind receives, so callers never assemble JSON by hand.
//! Money goes in pre-formatted (`R$ 1.234,56`) and, where useful, also in raw centavos.

use chrono::NaiveDate;
use serde_json::{json, Map, Value};

use crate::catalog::CatalogItem;
use crate::clock::day_br;
use crate::money::Centavos;
use crate::pricing::{PricedQuote, StoreRules};

/// What every message may mention.
#[derive(Debug, Clone, Copy)]
pub struct Common<'a> {
    pub store_name: &'a str,
    /// The customer's WhatsApp profile name, when known.
    pub customer_name: Option<&'a str>,
}

/// What the bot still needs before it can quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MissingSlot {
    Items,
    Location,
    Payment,
    Delivery,
    /// The day, when the customer picks the goods up ("o dia da retirada").
    PickupDay,
}

impl MissingSlot {
    /// How the slot reads inside "só falta …".
    pub fn label_pt(self) -> &'static str {
        match self {
            MissingSlot::Items => "os produtos e as quantidades",
            MissingSlot::Location => "o CEP ou o bairro da entrega (ou se vai retirar na loja)",
            MissingSlot::Payment => "a forma de pagamento (PIX, cartão, boleto ou dinheiro)",
            MissingSlot::Delivery => "o dia da entrega",
            MissingSlot::PickupDay => "o dia da retirada",
        }
    }
}

/// A WhatsApp profile name is free text: keep it short and on one line.
fn customer(name: Option<&str>) -> String {
    let clean: String = name
        .unwrap_or("")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    clean.chars().take(60).collect()
}

/// "a, b e c"
pub(crate) fn join_pt(parts: &[&str]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} e {last}", init.join(", ")),
    }
}

fn with(c: &Common, extra: Value) -> Value {
    let mut map = Map::new();
    map.insert("loja".into(), json!(c.store_name));
    map.insert("cliente".into(), json!(customer(c.customer_name)));
    if let Value::Object(extra) = extra {
        map.extend(extra);
    }
    Value::Object(map)
}

/// For kinds with only the common variables: data_capture, human_handoff.
pub fn common_context(c: &Common) -> Value {
    with(c, json!({}))
}

/// For kinds that only name the quote: approval_pending, declined.
pub fn quote_ref_context(c: &Common, number: &str) -> Value {
    with(c, json!({ "numero": number }))
}

pub fn missing_info_context(c: &Common, missing: &[MissingSlot], unknown: &[String]) -> Value {
    missing_info_context_suggesting(c, missing, unknown, &[], |_| None)
}

/// A product the customer just asked for, said back before the question ("Anotei: 20 sc —
/// Cimento CP-II…"), so they see what was understood before answering what is missing.
pub struct Noted<'a> {
    pub quantity: crate::money::Quantity,
    pub item: &'a CatalogItem,
}

/// As [`missing_info_context`], with the products just noted and the nearest catalog item's
/// name for each unknown product when `suggest` finds one ("você quis dizer Selador acrílico
/// 18L?").
pub fn missing_info_context_suggesting(
    c: &Common,
    missing: &[MissingSlot],
    unknown: &[String],
    noted: &[Noted],
    suggest: impl Fn(&str) -> Option<String>,
) -> Value {
    let anotados: Vec<Value> = noted
        .iter()
        .map(|n| {
            json!({
                "descricao": n.item.name,
                "quantidade": n.quantity.to_br(),
                "unidade_qtd": n.item.unit.label_for(n.quantity),
            })
        })
        .collect();
    let labels: Vec<&str> = missing.iter().map(|m| m.label_pt()).collect();
    let found: Vec<Value> = unknown
        .iter()
        .map(|u| json!({ "produto": u, "sugestao": suggest(u).unwrap_or_default() }))
        .collect();
    with(
        c,
        json!({
            "faltando": labels,
            "faltando_texto": join_pt(&labels),
            "desconhecidos": unknown,
            "nao_encontrados": found,
            "anotados": anotados,
        }),
    )
}

/// `delivery` is already in words, e.g. "amanhã (29/11/2026)".
pub fn quote_context(
    c: &Common,
    q: &PricedQuote,
    number: &str,
    valid_until: NaiveDate,
    delivery: Option<&str>,
) -> Value {
    let itens: Vec<Value> = q
        .lines
        .iter()
        .map(|l| {
            json!({
                "sku": l.sku,
                "descricao": l.name,
                "quantidade": l.quantity.to_br(),
                // `unidade` reads after a price ("R$ 25,00/lata"); `unidade_qtd` agrees with
                // the quantity ("3 latas").
                "unidade": l.unit.label(),
                "unidade_qtd": l.unit.label_for(l.quantity),
                "preco_tabela": l.list_price.to_brl(),
                "preco_unitario": l.unit_price.to_brl(),
                "desconto_volume": if l.volume_discount_bp.0 > 0 {
                    l.volume_discount_bp.to_percent_br()
                } else {
                    String::new()
                },
                "total": l.line_total.to_brl(),
                "total_centavos": l.line_total.0,
            })
        })
        .collect();
    with(
        c,
        json!({
            "numero": number,
            "itens": itens,
            "subtotal": q.subtotal.to_brl(),
            "forma_pagamento": q.payment_method.label_pt(),
            "desconto_pagamento": q.payment_discount.to_brl(),
            "desconto_pagamento_pct": q.payment_discount_bp.to_percent_br(),
            "desconto_pagamento_centavos": q.payment_discount.0,
            "frete": q.freight.map(|f| f.to_brl()).unwrap_or_default(),
            "frete_gratis": q.freight.is_some_and(|f| f.0 == 0) && !q.pickup,
            "retirada": q.pickup,
            "total": q.total.to_brl(),
            "total_centavos": q.total.0,
            "validade": day_br(valid_until),
            "entrega": delivery.unwrap_or(""),
            "desconhecidos": q.unknown,
            "nao_incluidos": q.unknown.iter().map(|u| json!({
                "produto": u,
                "sugestao": q.suggestion_for(u).unwrap_or(""),
            })).collect::<Vec<_>>(),
        }),
    )
}

/// `pix_receiver`: who receives the PIX payment, when the PIX copia-e-cola follows this
/// message as its own message (the store has a key and the customer pays by PIX).
pub fn confirmation_context(
    c: &Common,
    q: &PricedQuote,
    number: &str,
    delivery: &str,
    pix_receiver: Option<&str>,
) -> Value {
    with(
        c,
        json!({
            "numero": number,
            "total": q.total.to_brl(),
            "forma_pagamento": q.payment_method.label_pt(),
            "entrega": delivery,
            "pix": pix_receiver.unwrap_or_default(),
            "retirada": q.pickup,
        }),
    )
}

pub fn expired_context(c: &Common, number: &str, valid_until: NaiveDate) -> Value {
    with(
        c,
        json!({ "numero": number, "validade": day_br(valid_until) }),
    )
}

/// `tapped`: the quote whose button was tapped. `current`: the conversation's open quote, if
/// any, with its total once the customer has seen it (None while the store checks it).
pub fn quote_replaced_context(
    c: &Common,
    tapped: &str,
    current: Option<(&str, Option<Centavos>)>,
) -> Value {
    let (numero, total, waiting) = match current {
        Some((n, Some(t))) => (n, t.to_brl(), false),
        Some((n, None)) => (n, String::new(), true),
        None => ("", String::new(), false),
    };
    with(
        c,
        json!({
            "numero_tocado": tapped,
            "numero": numero,
            "total": total,
            "aguardando_aprovacao": waiting,
        }),
    )
}

/// `suggestions`: names of catalog items that look close, best first (may be empty).
pub fn unknown_item_context(c: &Common, product: &str, suggestions: &[&str]) -> Value {
    with(c, json!({ "produto": product, "sugestoes": suggestions }))
}

/// `media`: what arrived, with the article: "um áudio", "uma imagem", "um vídeo".
pub fn unsupported_media_context(c: &Common, media: &str) -> Value {
    with(c, json!({ "tipo": media }))
}

/// Answer to "quanto tá o cimento?": catalog prices (no volume or payment discount applied)
/// and the payment discounts the store gives.
pub fn price_answer_context(c: &Common, items: &[&CatalogItem], rules: &StoreRules) -> Value {
    let itens: Vec<Value> = items
        .iter()
        .map(|i| {
            json!({
                "sku": i.sku,
                "descricao": i.name,
                "unidade": i.unit.label(),
                "preco": i.price.to_brl(),
                "preco_centavos": i.price.0,
            })
        })
        .collect();
    let descontos: Vec<String> = rules
        .payment_discounts
        .iter()
        .filter(|(_, bp)| bp.0 > 0)
        .map(|(m, bp)| format!("{} {}", m.label_pt(), bp.to_percent_br()))
        .collect();
    with(c, json!({ "itens": itens, "descontos": descontos }))
}

/// `limit_chars`: the longest message the bot reads.
pub fn message_too_long_context(c: &Common, limit_chars: usize) -> Value {
    let limite = crate::money::Quantity::whole(limit_chars as i64).to_br();
    with(c, json!({ "limite": limite }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_in_portuguese() {
        assert_eq!(join_pt(&[]), "");
        assert_eq!(join_pt(&["a"]), "a");
        assert_eq!(join_pt(&["a", "b"]), "a e b");
        assert_eq!(join_pt(&["a", "b", "c"]), "a, b e c");
    }

    #[test]
    fn customer_name_is_one_short_line() {
        assert_eq!(customer(Some("  Zé \n da  Silva ")), "Zé da Silva");
        assert_eq!(customer(Some(&"a".repeat(100))).chars().count(), 60);
        assert_eq!(customer(None), "");
    }
}
