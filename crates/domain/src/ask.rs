//! "When unsure, ask — with WhatsApp's own controls" (issue 13): an amount that names a
//! product the store has in several kinds ("30 metros de fio", "8 telhas") is neither
//! guessed nor handed to a person. The bot asks one targeted question, as a WhatsApp list
//! whose rows are the kinds ("Qual fio?" → Cabo 2,5 mm² / Cabo 4 mm²), and the row the
//! customer taps comes back as a `list_reply` whose id names the item: it goes into the
//! draft with the amount already given. A typed answer ("o de 2,5") is read by the
//! understanding as before. Which kinds: [`understanding::choice_for`].

use crate::catalog::CatalogItem;
use crate::money::Quantity;
use crate::understanding::{
    choice_for, CatalogIndex, Choice, Correction, Draft, FoundItem, Intent, Understanding,
};

/// A row id of the question: this prefix and the item's SKU (`choice:CAB-25M`).
pub const CHOICE_ID_PREFIX: &str = "choice:";

/// The button that opens the list (Meta: ≤ 20 characters).
pub const CHOICE_BUTTON: &str = "Ver opções";

/// Meta's limits for a list row, which the rows are fitted to.
pub const ROW_TITLE_CHARS: usize = 24;
pub const ROW_DESCRIPTION_CHARS: usize = 72;
/// Meta's limit for a list section's title.
pub const SECTION_TITLE_CHARS: usize = 24;

/// The question, ready to be sent as a list message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChoiceQuestion {
    /// The unknown product's text in the draft that the question is about.
    pub about: String,
    pub body: String,
    pub button: String,
    pub section_title: String,
    pub rows: Vec<ChoiceRow>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChoiceRow {
    pub id: String,
    pub title: String,
    pub description: String,
}

/// The question for the first of `unknown` (products not yet asked about) that names
/// several kinds with a known amount; `None` when none does.
pub fn question(
    draft: &Draft,
    unknown: &[String],
    index: &CatalogIndex,
    catalog: &[CatalogItem],
) -> Option<ChoiceQuestion> {
    unknown.iter().find_map(|text| {
        let choice = choice_for(index, text, &draft.held)?;
        let items: Vec<&CatalogItem> = choice
            .skus
            .iter()
            .filter_map(|sku| catalog.iter().find(|i| &i.sku == sku && i.active))
            .collect();
        if items.len() < 2 {
            return None;
        }
        Some(build(&choice, &items))
    })
}

fn build(choice: &Choice, items: &[&CatalogItem]) -> ChoiceQuestion {
    let product = choice.product_words();
    let amount = match choice.unit.as_deref() {
        Some(u) => format!(
            "{} {}",
            choice.quantity.to_br(),
            unit_words(u, choice.quantity)
        ),
        None => choice.quantity.to_br(),
    };
    let body = format!(
        "Qual *{product}* você quer? Temos mais de um tipo (quantidade: {amount}). Toque em \
         *{CHOICE_BUTTON}* e escolha, ou escreva qual é."
    );
    let rows = items
        .iter()
        .map(|item| {
            let title = fit(&item.name, ROW_TITLE_CHARS);
            let price = format!("{}/{}", item.price.to_brl(), item.unit.label());
            // The whole name when the title had to be cut: rows must stay tellable apart.
            let description = if title == item.name {
                price
            } else {
                fit(&format!("{} · {price}", item.name), ROW_DESCRIPTION_CHARS)
            };
            ChoiceRow {
                id: format!("{CHOICE_ID_PREFIX}{}", item.sku),
                title,
                description,
            }
        })
        .collect();
    ChoiceQuestion {
        about: choice.text.clone(),
        body,
        button: CHOICE_BUTTON.to_string(),
        section_title: fit(&capitalised(&product), SECTION_TITLE_CHARS),
        rows,
    }
}

/// A tap on a row of the question: the item, with the amount the customer gave in its
/// catalog unit, and the unknown product it answers forgotten. `None` for any other id, or
/// for a row of a question that no longer stands (the product was removed or named since).
pub fn tapped(
    id: &str,
    draft: &Draft,
    index: &CatalogIndex,
    catalog: &[CatalogItem],
) -> Option<Understanding> {
    let sku = id.trim().strip_prefix(CHOICE_ID_PREFIX)?;
    let item = catalog.iter().find(|i| i.sku == sku && i.active)?;
    let choice = draft.unknown.iter().find_map(|text| {
        choice_for(index, text, &draft.held).filter(|c| c.skus.iter().any(|s| s == sku))
    })?;
    let quantity: Quantity = choice.quantity_for(item.unit);
    Some(Understanding {
        items: vec![FoundItem {
            sku: item.sku.clone(),
            quantity,
            confidence: 100,
            text: item.name.clone(),
        }],
        unknown: Vec::new(),
        corrections: vec![Correction::ForgetUnknown { text: choice.text }],
        location: None,
        payment: None,
        delivery: None,
        intent: Intent::Order,
        price_questions: Vec::new(),
        confidence: 100,
        truncated: false,
        last_sku: Some(item.sku.clone()),
        context: Vec::new(),
        conditions: Vec::new(),
        held: Vec::new(),
    })
}

/// The unit as it is read after an amount.
fn unit_words(unit: &str, q: Quantity) -> &'static str {
    let many = q.thousandths() > crate::money::QUANTITY_SCALE;
    match (unit, many) {
        ("saco", false) => "saco",
        ("saco", true) => "sacos",
        ("barra", false) => "barra",
        ("barra", true) => "barras",
        ("lata", false) => "lata",
        ("lata", true) => "latas",
        ("galao", false) => "galão",
        ("galao", true) => "galões",
        ("rolo", false) => "rolo",
        ("rolo", true) => "rolos",
        ("milheiro", false) => "milheiro",
        ("milheiro", true) => "milheiros",
        ("duzia", false) => "dúzia",
        ("duzia", true) => "dúzias",
        ("balde", false) => "balde",
        ("balde", true) => "baldes",
        ("m", _) => "m",
        ("m2", _) => "m²",
        ("m3", _) => "m³",
        ("kg", _) => "kg",
        ("pc", _) => "pç",
        ("cx", false) => "caixa",
        ("cx", true) => "caixas",
        _ => "un",
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// At most `max` characters, cut after a whole word with "…" (a single word longer than
/// that is cut inside).
pub fn fit(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out = String::new();
    for w in text.split_whitespace() {
        let sep = usize::from(!out.is_empty());
        if out.chars().count() + sep + w.chars().count() + 1 > max {
            break;
        }
        if sep == 1 {
            out.push(' ');
        }
        out.push_str(w);
    }
    if out.is_empty() {
        out = text.chars().take(max - 1).collect();
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{parse_catalog_csv, DEMO_CATALOG_CSV};
    use crate::understanding::understand_in;

    fn demo() -> (Vec<CatalogItem>, CatalogIndex) {
        let items = parse_catalog_csv(DEMO_CATALOG_CSV).unwrap();
        let index = CatalogIndex::build(&items, &[]);
        (items, index)
    }

    fn draft_of(index: &CatalogIndex, msg: &str) -> Draft {
        let mut d = Draft::default();
        d.apply(&understand_in(msg, index, &d));
        d
    }

    #[test]
    fn the_question_fits_metas_list_limits_and_names_the_kinds() {
        let (items, index) = demo();
        let d = draft_of(&index, "preciso de 2 rolos de fio e 3 telhas");
        let q = question(&d, &d.unknown, &index, &items).expect("a question");
        assert_eq!(q.about, "fio");
        assert!(q.body.starts_with("Qual *fio* você quer?"), "{}", q.body);
        assert!(q.body.contains("2 rolos"), "{}", q.body);
        let ids: Vec<&str> = q.rows.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["choice:CAB-15R", "choice:CAB-25R"]);
        for r in &q.rows {
            assert!(r.title.chars().count() <= ROW_TITLE_CHARS, "{r:?}");
            assert!(
                r.description.chars().count() <= ROW_DESCRIPTION_CHARS,
                "{r:?}"
            );
            assert!(r.description.contains("R$"), "{r:?}");
        }
        // The rows stay tellable apart when the names are cut.
        assert_ne!(q.rows[0].description, q.rows[1].description);
        assert!(q.button.chars().count() <= 20);
        assert_eq!(q.section_title, "Fio");
    }

    #[test]
    fn a_tap_puts_the_kind_in_the_draft_with_the_amount_given() {
        let (items, index) = demo();
        let mut d = draft_of(&index, "bom dia 8 telhas");
        assert_eq!(d.unknown, ["telhas"]);
        let u = tapped("choice:TEL-183", &d, &index, &items).expect("the tap is read");
        d.apply(&u);
        assert_eq!(d.items.len(), 1);
        assert_eq!(d.items[0].sku, "TEL-183");
        assert_eq!(d.items[0].quantity, Quantity::whole(8));
        assert!(d.unknown.is_empty() && d.held.is_empty(), "{d:?}");
        // Answered: a second tap on the old list changes nothing.
        assert_eq!(tapped("choice:TEL-244", &d, &index, &items), None);
        // A row that was never offered, or another kind of id, is not a choice.
        let d = draft_of(&index, "bom dia 8 telhas");
        assert_eq!(tapped("choice:CIM-CP2-50", &d, &index, &items), None);
        assert_eq!(tapped("quote_accept", &d, &index, &items), None);
    }

    #[test]
    fn titles_are_cut_after_a_whole_word() {
        assert_eq!(
            fit("Cabo flexível 2,5mm² rolo 100m", 24),
            "Cabo flexível 2,5mm²…"
        );
        assert_eq!(fit("Telha", 24), "Telha");
        assert_eq!(fit(&"x".repeat(30), 24).chars().count(), 24);
    }
}
