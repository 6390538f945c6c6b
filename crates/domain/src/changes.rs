//! What a correction did to the order, said back to the customer before the new quote
//! ("Certo, tirei *Areia média lavada (m³)*."), so a change is confirmed instead of the quote
//! silently coming back different (issue 13 group 4). Computed from the draft before and
//! after the message, so every rule that changes the draft is described the same way.

use crate::catalog::CatalogItem;
use crate::money::Quantity;
use crate::understanding::{Correction, Draft, Understanding};

/// The sentence confirming what changed between `before` and `after`, or `None` when the
/// items and the delivery data are the same.
pub fn change_note(
    before: &Draft,
    after: &Draft,
    u: &Understanding,
    catalog: &[CatalogItem],
) -> Option<String> {
    let name = |sku: &str| -> String {
        catalog
            .iter()
            .find(|c| c.sku == sku)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| sku.to_string())
    };
    let amount = |sku: &str, q: Quantity| -> String {
        match catalog.iter().find(|c| c.sku == sku) {
            Some(c) => format!("{}\u{a0}{}", q.to_br(), c.unit.label_for(q)),
            None => q.to_br(),
        }
    };
    let qty_of = |d: &Draft, sku: &str| d.items.iter().find(|i| i.sku == sku).map(|i| i.quantity);
    let mut parts: Vec<String> = Vec::new();
    let mut described: Vec<&str> = Vec::new();
    // Everything taken out is said once, where the first removal stands: "tirei *Cimento* e
    // *Areia*", not "tirei *Cimento*, tirei *Areia*".
    let mut removed: Vec<String> = Vec::new();
    let mut removed_at: Option<usize> = None;
    let mut remove = |parts: &mut Vec<String>, what: String| {
        if removed_at.is_none() {
            removed_at = Some(parts.len());
            parts.push(String::new());
        }
        removed.push(format!("*{what}*"));
    };

    // Replacements first: "troquei X por 1 lata de Y".
    for c in &u.corrections {
        if let Correction::ReplaceSku { from, to, .. } = c {
            if qty_of(before, from).is_some() && qty_of(after, from).is_none() {
                if let Some(q) = qty_of(after, to) {
                    parts.push(format!(
                        "troquei *{}* por {} de *{}*",
                        name(from),
                        amount(to, q),
                        name(to)
                    ));
                    described.push(from);
                    described.push(to);
                }
            }
        }
    }
    for it in &before.items {
        if described.contains(&it.sku.as_str()) {
            continue;
        }
        match qty_of(after, &it.sku) {
            None => remove(&mut parts, name(&it.sku)),
            Some(q) if q != it.quantity => parts.push(format!(
                "*{}* agora é {}",
                name(&it.sku),
                amount(&it.sku, q)
            )),
            Some(_) => {}
        }
    }
    for it in &after.items {
        if described.contains(&it.sku.as_str()) || qty_of(before, &it.sku).is_some() {
            continue;
        }
        parts.push(format!(
            "incluí {} de *{}*",
            amount(&it.sku, it.quantity),
            name(&it.sku)
        ));
    }
    // An unknown that had its amount and left as an item came in is answered ("8 telhas",
    // then "a de 1,83" or a tap on the list): the item added says it; it was not removed.
    let added = after.items.iter().any(|i| qty_of(before, &i.sku).is_none());
    let answered = |x: &String| added && before.held.iter().any(|h| &h.text == x);
    for gone in before
        .unknown
        .iter()
        .filter(|x| !after.unknown.contains(x) && !answered(x))
    {
        remove(&mut parts, gone.clone());
    }
    // An unknown held with its amount is about to be asked about ("Qual fio?", a list): the
    // question says it, not "anotei … para a loja verificar" next to it.
    let held = |x: &String| after.held.iter().any(|h| &h.text == x);
    for new in after
        .unknown
        .iter()
        .filter(|x| !before.unknown.contains(x) && !held(x))
    {
        parts.push(format!("anotei *{new}* para a loja verificar"));
    }
    if after.location != before.location {
        if let Some(l) = &after.location {
            parts.push(format!("a entrega agora é em {}", l.label_pt()));
        }
    }
    if after.payment != before.payment {
        if let Some(p) = after.payment {
            parts.push(format!("o pagamento agora é {}", p.label_pt()));
        }
    }
    if after.delivery != before.delivery {
        if let Some(d) = after.delivery {
            parts.push(format!("a entrega agora é {}", d.label_pt()));
        }
    }
    if let Some(at) = removed_at {
        parts[at] = format!("tirei {}", join_pt(&removed));
    }
    if parts.is_empty() {
        return None;
    }
    Some(format!("Certo, {}.", join_pt(&parts)))
}

/// "a, b e c"
fn join_pt(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} e {last}", init.join(", ")),
    }
}
