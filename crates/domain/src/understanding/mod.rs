//! Understanding customers' WhatsApp messages in pt-BR: which catalog items and how many,
//! where, how they pay and when — plus corrections, unknown products and the intent of a
//! reply. Rules only, no I/O; the catalog is prepared once in a [`CatalogIndex`].
//!
//! One message: [`understand`] (or [`understand_in`] with the conversation's [`Draft`], so
//! that "12 barras" or "e 10 de 3/8" attach to what was said before). A conversation:
//! [`Draft::apply`] after each message, or [`parse_conversation`] for the offline `parse`
//! command. See `docs/understanding.md`.

mod choice;
mod clause_items;
mod clause_split;
mod draft;
mod index;
mod intent;
mod lexicon;
mod matcher;
mod message;
mod output;
mod payment_and_delivery;
mod phone;
mod pickup;
mod places;
mod segment;
mod store_question;
mod text;

use serde::{Deserialize, Serialize};

use crate::money::Quantity;
use crate::slots::{Delivery, Location, PaymentMethod};

pub use choice::{choice_for, Choice, MAX_CHOICES};
pub use draft::{Draft, DraftItem, MissingSlot};
pub use index::CatalogIndex;
pub use intent::asks_for_discount;
pub use output::{parse_conversation, parse_jsonl_line, OutputItem, ParseOutput};
pub use store_question::{store_questions, StoreQuestion};

/// Does an amount said in this unit word ("galao", "metro") fit an item sold by `unit`?
/// Unknown unit words fit.
pub fn unit_fits(stated: &str, unit: crate::catalog::Unit) -> bool {
    matcher::unit_fit(stated, unit).unwrap_or(true)
}

/// Longer messages are cut to this many characters before they are read (bounded time);
/// the engine tells the customer when that happened ([`Understanding::truncated`]).
pub const MAX_MESSAGE_CHARS: usize = 2000;

/// A catalog item found in a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoundItem {
    pub sku: String,
    /// In the catalog unit of the item.
    pub quantity: Quantity,
    /// 0..=100: exact alias with a clear quantity is high; typos, loose matches and words
    /// carried over from the previous product lower it.
    pub confidence: u8,
    /// The part of the message it came from.
    pub text: String,
}

/// A change to what the conversation already holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Correction {
    /// "na verdade são 15", "vou levar só 2"
    SetQuantity { sku: String, quantity: Quantity },
    /// "acrescenta mais 50"
    AddQuantity { sku: String, quantity: Quantity },
    /// "tira a areia", "esquece as canaletas"
    Remove { sku: String },
    /// "troca a média pela fina", "muda pra cp4", "é 1,83 e não 2,44"
    ///
    /// With `quantity`, the new product comes with its own amount ("troca por 1 lata de 18"
    /// after "3 galões": 1 lata, not 3).
    ReplaceSku {
        from: String,
        to: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        quantity: Option<Quantity>,
    },
    /// "esquece a porta": an unknown product is no longer wanted (the text names it).
    ForgetUnknown { text: String },
}

/// What the customer wants from this message, for states after the quote was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// Items or quote data.
    Order,
    /// "sim", "confirmo", "fechado", "pode mandar", 👍, the `quote_accept` button.
    Accept,
    /// "não quero mais", "ficou caro", "vou ver em outro lugar".
    Decline,
    /// A change to items already asked for.
    ChangeRequest,
    Question,
    /// "bom dia", "oi?? alguém aí?"
    GreetingOnly,
    /// "quero falar com um atendente"
    HumanRequest,
    Other,
}

/// Everything read from one message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Understanding {
    pub items: Vec<FoundItem>,
    /// Requested products the catalog cannot quote (or can, but without an amount a
    /// person can infer), roughly as the customer wrote them.
    pub unknown: Vec<String>,
    pub corrections: Vec<Correction>,
    pub location: Option<Location>,
    pub payment: Option<PaymentMethod>,
    pub delivery: Option<Delivery>,
    pub intent: Intent,
    /// SKUs asked about without a quantity ("quanto tá o cimento?").
    pub price_questions: Vec<String>,
    /// 0..=100 for the whole message (the lowest item confidence, lowered by unknowns).
    pub confidence: u8,
    /// The message was longer than [`MAX_MESSAGE_CHARS`] and only its start was read.
    pub truncated: bool,
    /// The last product mentioned, for quantities in later messages ("12 barras").
    pub last_sku: Option<String>,
    /// Words naming that product, for elliptical follow-ups ("e 10 de 3/8").
    pub context: Vec<String>,
    /// Conditions the customer put on items that were quoted anyway ("se não tiver manda
    /// 10 telhas de 1,83" quotes the telhas and keeps "se não tiver…" for a person to see).
    #[serde(default)]
    pub conditions: Vec<String>,
    /// Amounts said for a product that could not be told apart yet ("4 telhas": which
    /// size?), kept so that a later "as telhas são de 1,83" gets them.
    #[serde(default)]
    pub held: Vec<HeldAmount>,
}

/// An amount waiting for its product to be named exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldAmount {
    /// The unknown product's text, as in [`Understanding::unknown`].
    pub text: String,
    pub quantity: Quantity,
    /// The unit the amount was said in ("metro", "rolo", "milheiro"), canonical; it narrows
    /// the kinds asked about and converts the amount once the product is named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

/// Folds text the way understanding compares names: lower case, no accents, words
/// separated by single spaces, abbreviations of place names expanded ("Jd. Ângela" →
/// "jardim angela"). For tools and tests that compare bairros.
pub fn fold_for_compare(text: &str) -> String {
    places::compare_key(text)
}

/// Reads one message on its own.
pub fn understand(text: &str, index: &CatalogIndex) -> Understanding {
    understand_in(text, index, &Draft::default())
}

/// Reads one message of a conversation whose state so far is `draft`: quantities without a
/// product, corrections and elliptical follow-ups are resolved against it.
pub fn understand_in(text: &str, index: &CatalogIndex, draft: &Draft) -> Understanding {
    message::understand_message(text, index, draft)
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_chat;
#[cfg(test)]
mod tests_choice;
#[cfg(test)]
mod tests_corrections;
#[cfg(test)]
mod tests_dates;
