//! The offline `parse` contract (SPEC §10): one JSON line in, one JSON line out.

use serde::Serialize;

use crate::slots::{Location, PaymentMethod};

use super::{understand_in, CatalogIndex, Draft};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutputItem {
    pub sku: String,
    /// A JSON number in the catalog unit (`Quantity::to_json_number`).
    pub quantity: serde_json::Value,
}

/// `{"id","items":[{"sku","quantity"}],"location","payment","delivery","unknown"}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParseOutput {
    pub id: String,
    pub items: Vec<OutputItem>,
    pub location: Option<Location>,
    pub payment: Option<PaymentMethod>,
    pub delivery: Option<String>,
    pub unknown: Vec<String>,
}

/// Runs a whole conversation through the same draft logic the bot uses.
pub fn parse_conversation(turns: &[&str], index: &CatalogIndex) -> ParseOutput {
    let mut draft = Draft::default();
    for t in turns {
        let u = understand_in(t, index, &draft);
        draft.apply(&u);
    }
    ParseOutput {
        id: String::new(),
        items: draft
            .items
            .iter()
            .map(|i| OutputItem {
                sku: i.sku.clone(),
                quantity: i.quantity.to_json_number(),
            })
            .collect(),
        // The contract's location is where to deliver; a pickup has none (the evaluation
        // labels "retiro na loja" with a null location).
        location: draft.location.filter(Location::is_delivery),
        payment: draft.payment,
        delivery: draft.delivery.and_then(|d| d.contract_code()),
        unknown: draft.unknown,
    }
}

/// One input line `{"id": "...", "turns": ["...", ...]}` → one output JSON line. `Err` is a
/// message for a malformed line (the caller reports it with the line number).
pub fn parse_jsonl_line(line: &str, index: &CatalogIndex) -> Result<String, String> {
    let v: serde_json::Value =
        serde_json::from_str(line).map_err(|e| format!("JSON inválido: {e}"))?;
    let obj = v
        .as_object()
        .ok_or_else(|| "esperado um objeto JSON {\"id\", \"turns\"}".to_string())?;
    let id = match obj.get("id") {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => return Err("campo \"id\" ausente ou inválido (texto)".into()),
    };
    let turns = obj
        .get("turns")
        .and_then(|t| t.as_array())
        .ok_or_else(|| format!("caso {id}: campo \"turns\" ausente (lista de mensagens)"))?;
    let mut texts: Vec<&str> = Vec::with_capacity(turns.len());
    for t in turns {
        match t.as_str() {
            Some(s) => texts.push(s),
            None => return Err(format!("caso {id}: cada item de \"turns\" deve ser texto")),
        }
    }
    let mut out = parse_conversation(&texts, index);
    out.id = id;
    serde_json::to_string(&out).map_err(|e| format!("falha ao gerar JSON: {e}"))
}
