//! Meta's payments in Brazil (issue 15 item 2): the interactive `order_details` message
//! (`action.name: review_and_pay`) with a `pix_dynamic_code` payment setting — the buyer sees
//! the order and copies the BR Code from WhatsApp's own screen — and the `order_status`
//! message (`action.name: review_order`) that moves the order on (paid, shipped, completed).
//! Field names as in Meta's "Payments API – Brazil / Orders" and "Offsite Pix payments"
//! pages: amounts are `{ "value": centavos, "offset": 100 }`; `total_amount` = `subtotal` +
//! `tax` + `shipping` − `discount`; `subtotal` = Σ item `amount` × `quantity`; `reference_id`
//! ≤ 35 of `A-Za-z0-9_-.`, unique per order; both messages are subject to the 24-hour window.

use serde_json::{json, Value};

use super::message::{invalid, InvalidMessage};

/// Meta's limit for `reference_id`.
pub const MAX_REFERENCE_ID_CHARS: usize = 35;
/// Meta's limit for an item's `name`.
pub const MAX_ORDER_ITEM_NAME_CHARS: usize = 60;
/// The statuses an `order_status` message may set (Meta's list; `pending` is where an order
/// starts).
pub const ORDER_STATUSES: &[&str] = &[
    "pending",
    "processing",
    "partially-shipped",
    "shipped",
    "completed",
    "canceled",
];
/// Pix key types `pix_dynamic_code.key_type` takes.
pub const PIX_KEY_TYPES: &[&str] = &["CPF", "CNPJ", "EMAIL", "PHONE", "EVP"];

/// One line of the order: `amount` is the unit price in centavos, `quantity` a whole number
/// (a fractional quantity goes as one item of its line total, its amount in the name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderItem {
    pub retailer_id: String,
    pub name: String,
    pub amount_cents: i64,
    pub quantity: i64,
}

/// An `order_details` message with a dynamic Pix code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderDetails {
    pub to: String,
    pub body: String,
    pub reference_id: String,
    /// `physical-goods` (construction material) or `digital-goods`.
    pub goods_type: String,
    /// The BR Code (copia e cola).
    pub pix_code: String,
    pub merchant_name: String,
    pub pix_key: String,
    /// `CPF`, `CNPJ`, `EMAIL`, `PHONE` or `EVP`.
    pub pix_key_type: String,
    pub items: Vec<OrderItem>,
    pub subtotal_cents: i64,
    pub discount_cents: i64,
    pub discount_description: Option<String>,
    pub shipping_cents: i64,
    pub shipping_description: Option<String>,
    pub total_cents: i64,
    /// When the order stops taking payment (unix seconds) and what the buyer reads about it.
    pub expiration: Option<(i64, String)>,
}

/// An `order_status` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderStatusUpdate {
    pub to: String,
    pub body: String,
    pub reference_id: String,
    /// One of [`ORDER_STATUSES`].
    pub status: String,
    pub description: Option<String>,
}

fn amount(cents: i64) -> Value {
    json!({ "value": cents, "offset": 100 })
}

fn described(cents: i64, description: &Option<String>) -> Value {
    let mut v = amount(cents);
    if let Some(d) = description {
        v["description"] = Value::String(d.clone());
    }
    v
}

pub(super) fn validate_reference_id(reference_id: &str) -> Result<(), InvalidMessage> {
    if reference_id.is_empty()
        || reference_id.chars().count() > MAX_REFERENCE_ID_CHARS
        || !reference_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return invalid("order reference_id must be 1 to 35 letters, digits, _, - or .");
    }
    Ok(())
}

impl OrderDetails {
    /// Whether `reference_id` is one Meta takes (≤ 35 of `A-Za-z0-9_-.`).
    pub fn reference_ok(reference_id: &str) -> Result<(), InvalidMessage> {
        validate_reference_id(reference_id)
    }

    /// `interactive` of the message.
    pub(super) fn interactive(&self) -> Value {
        let mut order = json!({
            "status": "pending",
            "items": self.items.iter().map(|i| json!({
                "retailer_id": i.retailer_id,
                "name": i.name,
                "amount": amount(i.amount_cents),
                "quantity": i.quantity,
            })).collect::<Vec<_>>(),
            "subtotal": amount(self.subtotal_cents),
            "tax": amount(0),
        });
        if self.shipping_cents > 0 {
            order["shipping"] = described(self.shipping_cents, &self.shipping_description);
        }
        if self.discount_cents > 0 {
            order["discount"] = described(self.discount_cents, &self.discount_description);
        }
        if let Some((at, description)) = &self.expiration {
            order["expiration"] =
                json!({ "timestamp": at.to_string(), "description": description });
        }
        json!({
            "type": "order_details",
            "body": { "text": self.body },
            "action": {
                "name": "review_and_pay",
                "parameters": {
                    "reference_id": self.reference_id,
                    "type": self.goods_type,
                    "payment_type": "br",
                    "payment_settings": [{
                        "type": "pix_dynamic_code",
                        "pix_dynamic_code": {
                            "code": self.pix_code,
                            "merchant_name": self.merchant_name,
                            "key": self.pix_key,
                            "key_type": self.pix_key_type,
                        },
                    }],
                    "currency": "BRL",
                    "total_amount": amount(self.total_cents),
                    "order": order,
                },
            },
        })
    }

    /// Meta's rules, before the request: the sums add up, every amount is ≥ 0, names and ids
    /// fit.
    pub(super) fn validate(&self) -> Result<(), InvalidMessage> {
        validate_reference_id(&self.reference_id)?;
        if !matches!(self.goods_type.as_str(), "physical-goods" | "digital-goods") {
            return invalid("order type must be physical-goods or digital-goods");
        }
        if self.pix_code.trim().is_empty() || self.merchant_name.trim().is_empty() {
            return invalid("pix_dynamic_code needs a code and a merchant name");
        }
        if self.pix_key.trim().is_empty() || !PIX_KEY_TYPES.contains(&self.pix_key_type.as_str()) {
            return invalid(
                "pix_dynamic_code needs a key and a key_type CPF, CNPJ, EMAIL, PHONE or EVP",
            );
        }
        if self.items.is_empty() {
            return invalid("an order needs at least one item");
        }
        let mut sum = 0i64;
        for i in &self.items {
            if i.retailer_id.trim().is_empty()
                || i.name.trim().is_empty()
                || i.name.chars().count() > MAX_ORDER_ITEM_NAME_CHARS
            {
                return invalid("order item needs a retailer_id and a name of 1 to 60 characters");
            }
            if i.amount_cents < 0 || i.quantity < 1 {
                return invalid("order item amount must be ≥ 0 and quantity a whole number ≥ 1");
            }
            sum += i.amount_cents * i.quantity;
        }
        if sum != self.subtotal_cents {
            return invalid("order subtotal must be the sum of item amount × quantity");
        }
        if self.discount_cents < 0 || self.shipping_cents < 0 {
            return invalid("order discount and shipping must be ≥ 0");
        }
        if self.subtotal_cents + self.shipping_cents - self.discount_cents != self.total_cents {
            return invalid("total_amount must be subtotal + tax + shipping − discount");
        }
        if self.total_cents <= 0 {
            return invalid("total_amount must be positive");
        }
        Ok(())
    }
}

impl OrderStatusUpdate {
    pub(super) fn interactive(&self) -> Value {
        let mut order = json!({ "status": self.status });
        if let Some(d) = &self.description {
            order["description"] = Value::String(d.clone());
        }
        json!({
            "type": "order_status",
            "body": { "text": self.body },
            "action": {
                "name": "review_order",
                "parameters": { "reference_id": self.reference_id, "order": order },
            },
        })
    }

    pub(super) fn validate(&self) -> Result<(), InvalidMessage> {
        validate_reference_id(&self.reference_id)?;
        if !ORDER_STATUSES.contains(&self.status.as_str()) {
            return invalid("order_status status must be one of Meta's statuses");
        }
        Ok(())
    }
}
