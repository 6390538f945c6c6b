//! The conversation's draft order: what the customer asked for so far, updated message by
//! message. Persisted as JSON, so fields only ever get added (with `#[serde(default)]`).

use serde::{Deserialize, Serialize};

use crate::money::Quantity;
use crate::slots::{Delivery, Location, PaymentMethod};

use super::{Correction, HeldAmount, Understanding};

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct DraftItem {
    pub sku: String,
    pub quantity: Quantity,
}

#[derive(Serialize, Deserialize, Default, Clone, Debug, PartialEq)]
pub struct Draft {
    #[serde(default)]
    pub items: Vec<DraftItem>,
    #[serde(default)]
    pub unknown: Vec<String>,
    #[serde(default)]
    pub location: Option<Location>,
    #[serde(default)]
    pub payment: Option<PaymentMethod>,
    #[serde(default)]
    pub delivery: Option<Delivery>,
    /// The last product mentioned (also by a price question), so that "12 barras" in a
    /// later message attaches to it.
    #[serde(default)]
    pub last_sku: Option<String>,
    /// Words naming that product, for follow-ups such as "e 10 de 3/8".
    #[serde(default)]
    pub context: Vec<String>,
    /// Conditions on items ("se não tiver manda 10 telhas de 1,83"), for a person to see
    /// next to the quote.
    #[serde(default)]
    pub conditions: Vec<String>,
    /// Amounts of products not yet told apart ("4 telhas"), see [`Understanding::held`].
    #[serde(default)]
    pub held: Vec<HeldAmount>,
}

/// What the bot still has to ask for before it can quote.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum MissingSlot {
    Items,
    Location,
    Payment,
    Delivery,
}

impl Draft {
    /// Applies one message: corrections first (they refer to what was there), then new
    /// items (a product already in the draft takes the new quantity), unknowns, and the
    /// slots (a later payment, place or day overrides an earlier one).
    pub fn apply(&mut self, u: &Understanding) {
        for c in &u.corrections {
            match c {
                Correction::SetQuantity { sku, quantity } => {
                    if quantity.is_zero() {
                        self.items.retain(|i| &i.sku != sku);
                    } else if let Some(it) = self.items.iter_mut().find(|i| &i.sku == sku) {
                        it.quantity = *quantity;
                    } else if !quantity.is_zero() {
                        self.items.push(DraftItem {
                            sku: sku.clone(),
                            quantity: *quantity,
                        });
                    }
                }
                Correction::AddQuantity { sku, quantity } => {
                    if let Some(it) = self.items.iter_mut().find(|i| &i.sku == sku) {
                        it.quantity = it.quantity.checked_add(*quantity).unwrap_or(it.quantity);
                    } else {
                        self.items.push(DraftItem {
                            sku: sku.clone(),
                            quantity: *quantity,
                        });
                    }
                }
                Correction::Remove { sku } => self.items.retain(|i| &i.sku != sku),
                Correction::ForgetUnknown { text } => {
                    let key = unknown_key(text);
                    self.unknown
                        .retain(|u| !unknown_key(u).iter().any(|w| key.contains(w)));
                    self.held
                        .retain(|h| !unknown_key(&h.text).iter().any(|w| key.contains(w)));
                }
                Correction::ReplaceSku { from, to, quantity } => {
                    let existing_to = self.items.iter().position(|i| &i.sku == to);
                    if let Some(pos) = self.items.iter().position(|i| &i.sku == from) {
                        match existing_to {
                            Some(t) if t != pos => {
                                let q = quantity.unwrap_or(self.items[pos].quantity);
                                self.items[t].quantity = match quantity {
                                    Some(_) => q,
                                    None => self.items[t].quantity.checked_add(q).unwrap_or(q),
                                };
                                self.items.remove(pos);
                            }
                            _ => {
                                self.items[pos].sku = to.clone();
                                if let Some(q) = quantity.filter(|q| !q.is_zero()) {
                                    self.items[pos].quantity = q;
                                }
                            }
                        }
                    }
                }
            }
        }
        for it in &u.items {
            match self.items.iter_mut().find(|i| i.sku == it.sku) {
                Some(existing) => existing.quantity = it.quantity,
                None => self.items.push(DraftItem {
                    sku: it.sku.clone(),
                    quantity: it.quantity,
                }),
            }
        }
        let earlier = self.unknown.len();
        for text in &u.unknown {
            // "tem porta?" then "2 portas": one product, not two (within one message the
            // texts are already distinct products).
            let key = unknown_key(text);
            if !self.unknown[..earlier].iter().any(|t| {
                let k = unknown_key(t);
                k == key || k.iter().any(|w| key.contains(w))
            }) {
                self.unknown.push(text.clone());
            }
        }
        if u.location.is_some() {
            // A CEP already known is not replaced by a bairro mentioned later.
            let keep_cep = matches!(self.location, Some(Location::Cep(_)))
                && matches!(u.location, Some(Location::Bairro(_)));
            if !keep_cep {
                self.location = u.location.clone();
            }
        }
        if u.payment.is_some() {
            self.payment = u.payment;
        }
        if u.delivery.is_some() {
            self.delivery = u.delivery;
        }
        if u.last_sku.is_some() {
            self.last_sku = u.last_sku.clone();
        }
        if !u.context.is_empty() {
            self.context = u.context.clone();
        }
        for h in &u.held {
            self.held.retain(|x| x.text != h.text);
            self.held.push(h.clone());
        }
        for c in &u.conditions {
            if !self.conditions.contains(c) {
                self.conditions.push(c.clone());
            }
        }
    }

    /// The slots still missing, in the order the bot asks for them.
    pub fn missing(&self) -> Vec<MissingSlot> {
        let mut out = Vec::new();
        if self.items.is_empty() {
            out.push(MissingSlot::Items);
        }
        if self.location.is_none() {
            out.push(MissingSlot::Location);
        }
        if self.payment.is_none() {
            out.push(MissingSlot::Payment);
        }
        if self.delivery.is_none() {
            out.push(MissingSlot::Delivery);
        }
        out
    }
}

/// The meaningful words of an unknown product text, folded and singular.
fn unknown_key(text: &str) -> Vec<String> {
    super::text::fold(text)
        .split(' ')
        .filter(|w| w.len() > 2 && !w.bytes().all(|b| b.is_ascii_digit()))
        .map(|w| super::text::singular(w).0)
        .filter(|w| !super::lexicon::is_stopword(w) && super::text::canonical_unit(w).is_none())
        .collect()
}
