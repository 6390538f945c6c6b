//! "10 metros de fio" when the store sells several fios: which one? Rather than guess or
//! hand the conversation to a person, the bot asks one targeted question with the kinds the
//! catalog has ("Qual fio?" and a list to tap), and the answer takes the amount already
//! given. A store that set a default for the generic word (an alias on the default item,
//! `cimento` on CP-II 50 kg) is never asked: the word then names that item and no product is
//! left unknown.

use crate::catalog::Unit;
use crate::money::Quantity;

use super::index::{CatalogIndex, TokClass};
use super::matcher::unit_fit;
use super::message::convert;
use super::{lexicon, text, HeldAmount};

/// Most kinds one question offers: Meta's limit for a list message's rows. A word that
/// names more kinds than this is not a targeted question; a person answers it.
pub const MAX_CHOICES: usize = 10;

/// One question to ask: the product as the customer named it, the amount they gave, and
/// the catalog items it may be (at least two, catalog order).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Choice {
    /// The unknown product's text, as in the draft's `unknown` ("fio", "telhas").
    pub text: String,
    /// The amount as it was said, in `unit` (not yet in any item's catalog unit).
    pub quantity: Quantity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    pub skus: Vec<String>,
}

impl Choice {
    /// The amount in the catalog unit of the item picked ("1 milheiro" of a tijolo sold by
    /// the unit is 1,000).
    pub fn quantity_for(&self, unit: Unit) -> Quantity {
        convert(self.quantity.thousandths(), self.unit.as_deref(), unit)
    }

    /// What to call the product in the question: the customer's words, singular ("telhas"
    /// → "telha").
    pub fn product_words(&self) -> String {
        self.text
            .split_whitespace()
            .take_while(|w| !is_purpose(&text::fold(w)))
            .map(|w| {
                let (one, plural) = text::singular(&text::fold(w));
                if plural && w.is_ascii() {
                    one
                } else {
                    w.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The question for an unknown product, when it is a generic name of several catalog
/// items and its amount is known: every meaningful word of `text` is a word of each
/// candidate (one of them the candidate's family word: "fio", "telha"), and the unit the
/// amount was said in fits the candidate ("metros de fio" leaves out the rolos). `None` for a
/// product the store does not sell, a look-alike ("telha colonial": no item knows
/// "colonial"), one candidate only, more than [`MAX_CHOICES`], or no amount (then the
/// conversation goes on as before: the product is confirmed or a person reads it).
pub fn choice_for(index: &CatalogIndex, text: &str, held: &[HeldAmount]) -> Option<Choice> {
    let amount = held.iter().rev().find(|h| h.text == text)?;
    let words = meaningful_words(index, text)?;
    let mut skus = Vec::new();
    for entry in &index.entries {
        let named = words.iter().all(|id| index.knows(entry, *id))
            && words.iter().any(|id| index.is_head(entry, *id));
        let fits = amount
            .unit
            .as_deref()
            .and_then(|u| unit_fit(u, entry.unit))
            .unwrap_or(true);
        if named && fits {
            skus.push(entry.sku.clone());
        }
    }
    if skus.len() < 2 || skus.len() > MAX_CHOICES {
        return None;
    }
    Some(Choice {
        text: text.to_string(),
        quantity: amount.quantity,
        unit: amount.unit.clone(),
        skus,
    })
}

/// Is every meaningful word of the text a catalog word (the text names catalog products,
/// maybe several)?
pub(crate) fn all_catalog_words(index: &CatalogIndex, text: &str) -> bool {
    meaningful_words(index, text).is_some()
}

/// The catalog words of a product's text (typos allowed), or `None` when one of its words
/// is not the catalog's: that word names something the store does not have.
fn meaningful_words(index: &CatalogIndex, text: &str) -> Option<Vec<u32>> {
    let mut ids = Vec::new();
    for w in text::fold(text).split(' ') {
        // "telhas pra cobertura dos fundos": a purpose, not a kind of product.
        if is_purpose(w) {
            break;
        }
        if w.is_empty() || lexicon::is_stopword(w) || text::canonical_unit(w).is_some() {
            continue;
        }
        let (one, _) = text::singular(w);
        let id = index
            .id(&one)
            .or_else(|| index.id(w))
            .or_else(|| (one.len() > 3).then(|| index.fuzzy(&one)).flatten())?;
        if index.class(id) == TokClass::Unit {
            continue;
        }
        ids.push(id);
    }
    (!ids.is_empty()).then_some(ids)
}

/// The word that opens a purpose ("pra cobertura"): what follows is not the product.
fn is_purpose(folded: &str) -> bool {
    matches!(folded, "pra" | "para" | "pro" | "p/")
}
