//! Meta's documented rules for `POST /{version}/{phone_number_id}/messages`, as the mock
//! Graph API enforces them. Every limit cites its page in `docs/whatsapp.md` ("The mock Graph
//! API"); a payload the product builds is refused here exactly when Meta would refuse it, so a
//! test fails the way production would.

use serde_json::{Map, Value};

use super::Refusal;

/// Text message body (`text.body`).
pub const TEXT_BODY_MAX: usize = 4096;
/// Body of an interactive reply-buttons message.
pub const BUTTON_BODY_MAX: usize = 1024;
/// Body of an interactive list message.
pub const LIST_BODY_MAX: usize = 4096;
/// Text header and footer of an interactive message.
pub const HEADER_TEXT_MAX: usize = 60;
pub const FOOTER_TEXT_MAX: usize = 60;
/// Reply buttons per message, and their title and id.
pub const BUTTONS_MAX: usize = 3;
pub const BUTTON_TITLE_MAX: usize = 20;
pub const BUTTON_ID_MAX: usize = 256;
/// List message: the button that opens the list, sections, rows (all sections together).
pub const LIST_BUTTON_MAX: usize = 20;
pub const LIST_SECTIONS_MAX: usize = 10;
pub const LIST_ROWS_MAX: usize = 10;
pub const SECTION_TITLE_MAX: usize = 24;
pub const ROW_TITLE_MAX: usize = 24;
pub const ROW_DESCRIPTION_MAX: usize = 72;
pub const ROW_ID_MAX: usize = 200;
/// Call-to-action URL button (`interactive.type: cta_url`): its body, the button's label
/// and the link it opens (Meta: "Interactive CTA URL button messages").
pub const CTA_BODY_MAX: usize = 1024;
pub const CTA_DISPLAY_TEXT_MAX: usize = 20;
/// Meta documents no length for the URL; browsers and WhatsApp's link preview stop around
/// 2,000 characters, so the mock refuses longer ones.
pub const CTA_URL_MAX: usize = 2000;
/// Caption of a media message.
pub const CAPTION_MAX: usize = 1024;
/// Largest document Meta takes ("Supported media types": documents up to 100 MB).
pub const DOCUMENT_BYTES_MAX: usize = 100 * 1024 * 1024;
/// Document MIME types Meta lists.
pub const DOCUMENT_TYPES: &[&str] = &[
    "text/plain",
    "application/pdf",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
];
/// E.164 allows at most 15 digits.
pub const TO_DIGITS_MAX: usize = 15;
/// The alphanumeric part of a business-scoped user id (`recipient`).
pub const USER_ID_CHARS_MAX: usize = 128;

/// Top-level fields of a message request. The content object is the one named by `type`.
const TOP_LEVEL: &[&str] = &[
    "messaging_product",
    "recipient_type",
    "to",
    "recipient",
    "type",
    "context",
    "biz_opaque_callback_data",
];

/// Message types Meta has; only `text`, `interactive` and `document` are modelled (what
/// OrçaZap sends).
/// Another type is refused with a reason that says the mock must learn its limits first, so
/// nobody ships a new kind of message that was never checked against Meta's rules.
const OTHER_META_TYPES: &[&str] = &[
    "audio", "contacts", "image", "location", "reaction", "sticker", "video",
];

/// Checks one message request body against Meta's documented limits.
pub fn check_message(body: &Value) -> Result<(), Refusal> {
    let obj = body
        .as_object()
        .ok_or_else(|| Refusal::invalid_parameter("the request body must be a JSON object"))?;
    match obj.get("messaging_product") {
        Some(Value::String(p)) if p == "whatsapp" => {}
        Some(_) => {
            return Err(Refusal::param_value(
                "messaging_product must be \"whatsapp\"",
            ))
        }
        None => return Err(Refusal::missing("messaging_product")),
    }
    if let Some(rt) = obj.get("recipient_type") {
        if rt != "individual" {
            return Err(Refusal::param_value(
                "recipient_type must be \"individual\"",
            ));
        }
    }
    check_addressee(obj.get("to"), obj.get("recipient"))?;
    let kind = match obj.get("type") {
        // Meta's default type is text.
        None => "text",
        Some(Value::String(t)) => t.as_str(),
        Some(_) => return Err(Refusal::invalid_parameter("type must be a string")),
    };
    for key in obj.keys() {
        if !TOP_LEVEL.contains(&key.as_str()) && key != kind {
            return Err(Refusal::unknown_field(key));
        }
    }
    if let Some(ctx) = obj.get("context") {
        let c = object(ctx, "context")?;
        only_fields(c, "context", &["message_id"])?;
        nonempty_string(c.get("message_id"), "context.message_id")?;
    }
    let content = obj.get(kind).ok_or_else(|| Refusal::missing(kind))?;
    match kind {
        "text" => check_text(content),
        "interactive" => check_interactive(content),
        "document" => check_document(content),
        "template" => check_template(content),
        k if OTHER_META_TYPES.contains(&k) => Err(Refusal::invalid_parameter(&format!(
            "type {k} is not modelled by the mock Graph API: add Meta's documented limits for it to whatsapp::mock before sending it"
        ))),
        k => Err(Refusal::param_value(&format!("unknown message type {k}"))),
    }
}

/// `to` (a phone), `recipient` (a business-scoped user id), or both (then `to` wins, and
/// both must still be valid); one of them is required.
fn check_addressee(to: Option<&Value>, recipient: Option<&Value>) -> Result<(), Refusal> {
    if let Some(recipient) = recipient {
        check_recipient(recipient)?;
        if to.is_none() {
            return Ok(());
        }
    }
    check_to(to)
}

/// A business-scoped user id: two-letter country code, a period, optionally `ENT.` (parent
/// BSUID), then 1 to 128 alphanumerics. A phone number here is refused: phones go in `to`.
fn check_recipient(recipient: &Value) -> Result<(), Refusal> {
    let Value::String(id) = recipient else {
        return Err(Refusal::invalid_parameter("recipient must be a string"));
    };
    let shaped = id.split_once('.').is_some_and(|(country, rest)| {
        let rest = rest.strip_prefix("ENT.").unwrap_or(rest);
        country.len() == 2
            && country.bytes().all(|b| b.is_ascii_uppercase())
            && (1..=USER_ID_CHARS_MAX).contains(&rest.len())
            && rest.bytes().all(|b| b.is_ascii_alphanumeric())
    });
    if !shaped {
        return Err(Refusal::param_value(
            "recipient must be a business-scoped user id (e.g. BR.1502576394655843)",
        ));
    }
    Ok(())
}

fn check_to(to: Option<&Value>) -> Result<(), Refusal> {
    let to = match to {
        Some(Value::String(s)) => s,
        Some(_) => return Err(Refusal::invalid_parameter("to must be a string")),
        None => return Err(Refusal::missing("to")),
    };
    if to.is_empty() || to.len() > TO_DIGITS_MAX || !to.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Refusal::param_value(
            "to must be the recipient's WhatsApp id: digits only, at most 15",
        ));
    }
    Ok(())
}

fn check_text(v: &Value) -> Result<(), Refusal> {
    let t = object(v, "text")?;
    only_fields(t, "text", &["body", "preview_url"])?;
    if let Some(p) = t.get("preview_url") {
        if !p.is_boolean() {
            return Err(Refusal::invalid_parameter(
                "text.preview_url must be a boolean",
            ));
        }
    }
    sized_text(t.get("body"), "text.body", TEXT_BODY_MAX).map(drop)
}

/// A template message: `name`, `language.code`, and optional `components` of which the mock
/// models `body` with text parameters (what the product sends). Whether the template exists,
/// is approved and takes that many parameters is the server's check: it knows the
/// submissions (`mock::templates`).
fn check_template(v: &Value) -> Result<(), Refusal> {
    let t = object(v, "template")?;
    only_fields(t, "template", &["name", "language", "components"])?;
    nonempty_string(t.get("name"), "template.name")?;
    let language = object(
        t.get("language")
            .ok_or_else(|| Refusal::missing("template.language"))?,
        "template.language",
    )?;
    only_fields(language, "template.language", &["code", "policy"])?;
    nonempty_string(language.get("code"), "template.language.code")?;
    let Some(components) = t.get("components") else {
        return Ok(());
    };
    let components = components
        .as_array()
        .ok_or_else(|| Refusal::invalid_parameter("template.components must be an array"))?;
    for c in components {
        let c = object(c, "template.components[]")?;
        only_fields(c, "template.components[]", &["type", "parameters"])?;
        if c.get("type").and_then(Value::as_str) != Some("body") {
            return Err(Refusal::invalid_parameter(
                "only body components are modelled by the mock Graph API",
            ));
        }
        let params = c
            .get("parameters")
            .and_then(Value::as_array)
            .ok_or_else(|| Refusal::missing("template.components[].parameters"))?;
        for p in params {
            let p = object(p, "parameter")?;
            only_fields(p, "parameter", &["type", "text"])?;
            if p.get("type").and_then(Value::as_str) != Some("text") {
                return Err(Refusal::invalid_parameter(
                    "only text parameters are modelled by the mock Graph API",
                ));
            }
            let text = nonempty_string(p.get("text"), "parameter.text")?;
            // Meta's 132018: no line break, tab or more than four spaces in a row.
            if text.contains(['\n', '\t']) || text.contains("     ") {
                return Err(Refusal::new(
                    132018,
                    "There was an issue with the parameters in your template",
                    "a parameter has a line break, a tab or more than 4 consecutive spaces",
                ));
            }
        }
    }
    Ok(())
}

/// A document by uploaded media `id` or by `link`, with an optional caption and file name.
/// (Whether the id was uploaded to this number is the server's check: it knows the uploads.)
fn check_document(v: &Value) -> Result<(), Refusal> {
    let d = object(v, "document")?;
    only_fields(d, "document", &["id", "link", "caption", "filename"])?;
    match (d.get("id"), d.get("link")) {
        (Some(id), None) => nonempty_string(Some(id), "document.id").map(drop)?,
        (None, Some(link)) => nonempty_string(Some(link), "document.link").map(drop)?,
        (Some(_), Some(_)) => {
            return Err(Refusal::invalid_parameter(
                "document takes an id or a link, not both",
            ))
        }
        (None, None) => return Err(Refusal::missing("document.id or document.link")),
    }
    if d.get("caption").is_some() {
        sized_text(d.get("caption"), "document.caption", CAPTION_MAX)?;
    }
    if d.get("filename").is_some() {
        nonempty_string(d.get("filename"), "document.filename")?;
    }
    Ok(())
}

fn check_interactive(v: &Value) -> Result<(), Refusal> {
    let i = object(v, "interactive")?;
    only_fields(
        i,
        "interactive",
        &["type", "header", "body", "footer", "action"],
    )?;
    let kind = nonempty_string(i.get("type"), "interactive.type")?;
    let (body_max, text_header_only) = match kind {
        "button" => (BUTTON_BODY_MAX, false),
        "list" => (LIST_BODY_MAX, true),
        "cta_url" => (CTA_BODY_MAX, false),
        "order_details" | "order_status" => (ORDER_BODY_MAX, false),
        other => {
            return Err(Refusal::invalid_parameter(&format!(
                "interactive type {other} is not modelled by the mock Graph API"
            )))
        }
    };
    let body = object(
        i.get("body")
            .ok_or_else(|| Refusal::missing("interactive.body"))?,
        "interactive.body",
    )?;
    only_fields(body, "interactive.body", &["text"])?;
    sized_text(body.get("text"), "interactive.body.text", body_max)?;
    if let Some(h) = i.get("header") {
        check_header(h, text_header_only)?;
    }
    if let Some(f) = i.get("footer") {
        let f = object(f, "interactive.footer")?;
        only_fields(f, "interactive.footer", &["text"])?;
        sized_text(f.get("text"), "interactive.footer.text", FOOTER_TEXT_MAX)?;
    }
    let action = object(
        i.get("action")
            .ok_or_else(|| Refusal::missing("interactive.action"))?,
        "interactive.action",
    )?;
    match kind {
        "button" => check_buttons(action),
        "cta_url" => check_cta_url(action),
        "order_details" => check_order_details(action),
        "order_status" => check_order_status(action),
        _ => check_list(action),
    }
}

/// Meta's limit for the body of an `order_details` / `order_status` message.
pub const ORDER_BODY_MAX: usize = 1024;

/// `{ "value": int, "offset": 100 }`, returned as the value (BRL takes only offset 100).
fn order_amount(v: Option<&Value>, what: &str) -> Result<i64, Refusal> {
    let a = object(v.ok_or_else(|| Refusal::missing(what))?, what)?;
    only_fields(
        a,
        what,
        &["value", "offset", "description", "discount_program_name"],
    )?;
    if a.get("offset").and_then(Value::as_i64) != Some(100) {
        return Err(Refusal::param_value(&format!(
            "{what}.offset must be 100 for BRL"
        )));
    }
    match a.get("value").and_then(Value::as_i64) {
        Some(n) if n >= 0 => Ok(n),
        _ => Err(Refusal::param_value(&format!(
            "{what}.value must be a whole number ≥ 0 (centavos)"
        ))),
    }
}

fn reference_id(p: &Map<String, Value>) -> Result<(), Refusal> {
    let r = nonempty_string(p.get("reference_id"), "parameters.reference_id")?;
    if r.chars().count() > 35
        || !r
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(Refusal::param_value(
            "reference_id must be at most 35 letters, digits, underscores, dashes or dots",
        ));
    }
    Ok(())
}

/// `action: { name: "review_and_pay", parameters: {...} }` of Meta's payments in Brazil with a
/// `pix_dynamic_code` payment setting: the fields Meta documents and nothing else, and sums
/// that add up (`total_amount` = `subtotal` + `tax` + `shipping` − `discount`, `subtotal` =
/// Σ item `amount` × `quantity`).
fn check_order_details(action: &Map<String, Value>) -> Result<(), Refusal> {
    only_fields(action, "interactive.action", &["name", "parameters"])?;
    if nonempty_string(action.get("name"), "interactive.action.name")? != "review_and_pay" {
        return Err(Refusal::param_value(
            "interactive.action.name must be \"review_and_pay\" for an order_details message",
        ));
    }
    let p = object(
        action
            .get("parameters")
            .ok_or_else(|| Refusal::missing("interactive.action.parameters"))?,
        "interactive.action.parameters",
    )?;
    only_fields(
        p,
        "parameters",
        &[
            "reference_id",
            "type",
            "payment_type",
            "payment_settings",
            "currency",
            "total_amount",
            "order",
        ],
    )?;
    reference_id(p)?;
    if !matches!(
        nonempty_string(p.get("type"), "parameters.type")?,
        "physical-goods" | "digital-goods"
    ) {
        return Err(Refusal::param_value(
            "parameters.type must be physical-goods or digital-goods",
        ));
    }
    if nonempty_string(p.get("payment_type"), "parameters.payment_type")? != "br" {
        return Err(Refusal::param_value("parameters.payment_type must be br"));
    }
    if nonempty_string(p.get("currency"), "parameters.currency")? != "BRL" {
        return Err(Refusal::param_value("parameters.currency must be BRL"));
    }
    let settings = p
        .get("payment_settings")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| Refusal::missing("parameters.payment_settings"))?;
    for s in settings {
        let s = object(s, "payment_settings[]")?;
        only_fields(s, "payment_settings[]", &["type", "pix_dynamic_code"])?;
        if nonempty_string(s.get("type"), "payment_settings[].type")? != "pix_dynamic_code" {
            return Err(Refusal::param_value(
                "payment_settings[].type: the mock models pix_dynamic_code",
            ));
        }
        let pix = object(
            s.get("pix_dynamic_code")
                .ok_or_else(|| Refusal::missing("pix_dynamic_code"))?,
            "pix_dynamic_code",
        )?;
        only_fields(
            pix,
            "pix_dynamic_code",
            &["code", "merchant_name", "key", "key_type", "flow_type"],
        )?;
        let code = nonempty_string(pix.get("code"), "pix_dynamic_code.code")?;
        if !code.starts_with("000201") {
            return Err(Refusal::param_value(
                "pix_dynamic_code.code must be a BR Code (EMV, starting 000201)",
            ));
        }
        nonempty_string(pix.get("merchant_name"), "pix_dynamic_code.merchant_name")?;
        nonempty_string(pix.get("key"), "pix_dynamic_code.key")?;
        let kt = nonempty_string(pix.get("key_type"), "pix_dynamic_code.key_type")?;
        if !["CPF", "CNPJ", "EMAIL", "PHONE", "EVP"].contains(&kt) {
            return Err(Refusal::param_value(
                "pix_dynamic_code.key_type must be CPF, CNPJ, EMAIL, PHONE or EVP",
            ));
        }
    }
    let total = order_amount(p.get("total_amount"), "parameters.total_amount")?;
    let Some(order) = p.get("order") else {
        // The simplified message: the total and the payment settings only.
        return Ok(());
    };
    let order = object(order, "parameters.order")?;
    only_fields(
        order,
        "order",
        &[
            "status",
            "catalog_id",
            "expiration",
            "items",
            "subtotal",
            "tax",
            "shipping",
            "discount",
        ],
    )?;
    if nonempty_string(order.get("status"), "order.status")? != "pending" {
        return Err(Refusal::param_value(
            "order.status must be pending in an order_details message",
        ));
    }
    let items = order
        .get("items")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| Refusal::missing("order.items"))?;
    let mut sum = 0i64;
    for i in items {
        let i = object(i, "order.items[]")?;
        only_fields(
            i,
            "order.items[]",
            &[
                "retailer_id",
                "name",
                "amount",
                "sale_amount",
                "quantity",
                "country_of_origin",
                "importer_name",
                "importer_address",
            ],
        )?;
        nonempty_string(i.get("retailer_id"), "order.items[].retailer_id")?;
        sized_text(i.get("name"), "order.items[].name", 60)?;
        let amount = order_amount(i.get("amount"), "order.items[].amount")?;
        let quantity = match i.get("quantity").and_then(Value::as_i64) {
            Some(q) if q >= 1 => q,
            _ => {
                return Err(Refusal::param_value(
                    "order.items[].quantity must be a whole number ≥ 1",
                ))
            }
        };
        let unit = match i.get("sale_amount") {
            Some(s) => order_amount(Some(s), "order.items[].sale_amount")?,
            None => amount,
        };
        sum += unit * quantity;
    }
    let subtotal = order_amount(order.get("subtotal"), "order.subtotal")?;
    if subtotal != sum {
        return Err(Refusal::param_value(
            "order.subtotal must be the sum of the items' amount × quantity",
        ));
    }
    let tax = order_amount(order.get("tax"), "order.tax")?;
    let shipping = match order.get("shipping") {
        Some(v) => order_amount(Some(v), "order.shipping")?,
        None => 0,
    };
    let discount = match order.get("discount") {
        Some(v) => order_amount(Some(v), "order.discount")?,
        None => 0,
    };
    if total != subtotal + tax + shipping - discount {
        return Err(Refusal::param_value(
            "total_amount must be subtotal + tax + shipping − discount",
        ));
    }
    if let Some(e) = order.get("expiration") {
        let e = object(e, "order.expiration")?;
        only_fields(e, "order.expiration", &["timestamp", "description"])?;
        let ts = nonempty_string(e.get("timestamp"), "order.expiration.timestamp")?;
        if ts.parse::<i64>().is_err() {
            return Err(Refusal::param_value(
                "order.expiration.timestamp must be a UTC timestamp in seconds, as a string",
            ));
        }
        nonempty_string(e.get("description"), "order.expiration.description")?;
    }
    Ok(())
}

/// `action: { name: "review_order", parameters: { reference_id, order: { status, description? } } }`.
fn check_order_status(action: &Map<String, Value>) -> Result<(), Refusal> {
    only_fields(action, "interactive.action", &["name", "parameters"])?;
    if nonempty_string(action.get("name"), "interactive.action.name")? != "review_order" {
        return Err(Refusal::param_value(
            "interactive.action.name must be \"review_order\" for an order_status message",
        ));
    }
    let p = object(
        action
            .get("parameters")
            .ok_or_else(|| Refusal::missing("interactive.action.parameters"))?,
        "interactive.action.parameters",
    )?;
    only_fields(p, "parameters", &["reference_id", "order"])?;
    reference_id(p)?;
    let order = object(
        p.get("order")
            .ok_or_else(|| Refusal::missing("parameters.order"))?,
        "parameters.order",
    )?;
    only_fields(order, "order", &["status", "description"])?;
    let status = nonempty_string(order.get("status"), "order.status")?;
    if ![
        "pending",
        "processing",
        "partially-shipped",
        "shipped",
        "completed",
        "canceled",
    ]
    .contains(&status)
    {
        return Err(Refusal::param_value(
            "order.status must be pending, processing, partially-shipped, shipped, completed or canceled",
        ));
    }
    Ok(())
}

/// `action: { name: "cta_url", parameters: { display_text, url } }`: the label on the button
/// (at most 20 characters) and an http(s) URL it opens.
fn check_cta_url(action: &Map<String, Value>) -> Result<(), Refusal> {
    only_fields(action, "interactive.action", &["name", "parameters"])?;
    if nonempty_string(action.get("name"), "interactive.action.name")? != "cta_url" {
        return Err(Refusal::param_value(
            "interactive.action.name must be \"cta_url\" for a cta_url message",
        ));
    }
    let p = object(
        action
            .get("parameters")
            .ok_or_else(|| Refusal::missing("interactive.action.parameters"))?,
        "interactive.action.parameters",
    )?;
    only_fields(p, "interactive.action.parameters", &["display_text", "url"])?;
    sized_text(
        p.get("display_text"),
        "interactive.action.parameters.display_text",
        CTA_DISPLAY_TEXT_MAX,
    )?;
    let url = sized_text(
        p.get("url"),
        "interactive.action.parameters.url",
        CTA_URL_MAX,
    )?;
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| {
            Refusal::param_value("interactive.action.parameters.url must be an http(s) URL")
        })?;
    if rest.is_empty() || rest.starts_with('/') || url.chars().any(char::is_whitespace) {
        return Err(Refusal::param_value(
            "interactive.action.parameters.url must name a host and contain no spaces",
        ));
    }
    Ok(())
}

fn check_header(h: &Value, text_only: bool) -> Result<(), Refusal> {
    let h = object(h, "interactive.header")?;
    let kind = nonempty_string(h.get("type"), "interactive.header.type")?;
    match kind {
        "text" => {
            only_fields(h, "interactive.header", &["type", "text"])?;
            sized_text(h.get("text"), "interactive.header.text", HEADER_TEXT_MAX).map(drop)
        }
        "image" | "video" | "document" if !text_only => {
            only_fields(h, "interactive.header", &["type", kind])?;
            let media = object(
                h.get(kind)
                    .ok_or_else(|| Refusal::missing(&format!("interactive.header.{kind}")))?,
                "interactive.header media",
            )?;
            only_fields(
                media,
                "interactive.header media",
                &["id", "link", "filename"],
            )?;
            if media.get("id").is_none() && media.get("link").is_none() {
                return Err(Refusal::missing("interactive.header media id or link"));
            }
            Ok(())
        }
        _ => Err(Refusal::param_value(&format!(
            "header type {kind} is not allowed here"
        ))),
    }
}

fn check_buttons(action: &Map<String, Value>) -> Result<(), Refusal> {
    only_fields(action, "interactive.action", &["buttons"])?;
    let buttons = action
        .get("buttons")
        .ok_or_else(|| Refusal::missing("interactive.action.buttons"))?
        .as_array()
        .ok_or_else(|| Refusal::invalid_parameter("interactive.action.buttons must be an array"))?;
    if buttons.is_empty() || buttons.len() > BUTTONS_MAX {
        return Err(Refusal::param_value(&format!(
            "a reply-buttons message has 1 to {BUTTONS_MAX} buttons (got {})",
            buttons.len()
        )));
    }
    let mut ids = Vec::new();
    let mut titles = Vec::new();
    for b in buttons {
        let b = object(b, "button")?;
        only_fields(b, "button", &["type", "reply"])?;
        if b.get("type").and_then(Value::as_str) != Some("reply") {
            return Err(Refusal::param_value("button type must be \"reply\""));
        }
        let reply = object(
            b.get("reply")
                .ok_or_else(|| Refusal::missing("button.reply"))?,
            "button.reply",
        )?;
        only_fields(reply, "button.reply", &["id", "title"])?;
        let id = sized_text(reply.get("id"), "button.reply.id", BUTTON_ID_MAX)?;
        if id.trim() != id {
            return Err(Refusal::param_value(
                "button.reply.id cannot have leading or trailing spaces",
            ));
        }
        let title = sized_text(reply.get("title"), "button.reply.title", BUTTON_TITLE_MAX)?;
        if ids.contains(&id) {
            return Err(Refusal::param_value("button ids must be unique"));
        }
        if titles.contains(&title) {
            return Err(Refusal::param_value("button titles must be unique"));
        }
        ids.push(id);
        titles.push(title);
    }
    Ok(())
}

fn check_list(action: &Map<String, Value>) -> Result<(), Refusal> {
    only_fields(action, "interactive.action", &["button", "sections"])?;
    sized_text(
        action.get("button"),
        "interactive.action.button",
        LIST_BUTTON_MAX,
    )?;
    let sections = action
        .get("sections")
        .ok_or_else(|| Refusal::missing("interactive.action.sections"))?
        .as_array()
        .ok_or_else(|| {
            Refusal::invalid_parameter("interactive.action.sections must be an array")
        })?;
    if sections.is_empty() || sections.len() > LIST_SECTIONS_MAX {
        return Err(Refusal::param_value(&format!(
            "a list message has 1 to {LIST_SECTIONS_MAX} sections (got {})",
            sections.len()
        )));
    }
    let mut ids = Vec::new();
    for s in sections {
        let s = object(s, "section")?;
        only_fields(s, "section", &["title", "rows"])?;
        match s.get("title") {
            Some(t) => {
                sized_text(Some(t), "section.title", SECTION_TITLE_MAX)?;
            }
            None if sections.len() > 1 => {
                return Err(Refusal::missing(
                    "section.title (required when there is more than one section)",
                ))
            }
            None => {}
        }
        let rows = s
            .get("rows")
            .ok_or_else(|| Refusal::missing("section.rows"))?
            .as_array()
            .ok_or_else(|| Refusal::invalid_parameter("section.rows must be an array"))?;
        if rows.is_empty() {
            return Err(Refusal::param_value("every section needs at least one row"));
        }
        for r in rows {
            let r = object(r, "row")?;
            only_fields(r, "row", &["id", "title", "description"])?;
            let id = sized_text(r.get("id"), "row.id", ROW_ID_MAX)?;
            sized_text(r.get("title"), "row.title", ROW_TITLE_MAX)?;
            if let Some(d) = r.get("description") {
                sized_text(Some(d), "row.description", ROW_DESCRIPTION_MAX)?;
            }
            if ids.contains(&id) {
                return Err(Refusal::param_value("row ids must be unique"));
            }
            ids.push(id);
        }
    }
    if ids.len() > LIST_ROWS_MAX {
        return Err(Refusal::param_value(&format!(
            "a list message has at most {LIST_ROWS_MAX} rows across all sections (got {})",
            ids.len()
        )));
    }
    Ok(())
}

fn object<'a>(v: &'a Value, what: &str) -> Result<&'a Map<String, Value>, Refusal> {
    v.as_object()
        .ok_or_else(|| Refusal::invalid_parameter(&format!("{what} must be an object")))
}

/// Meta refuses parameters it does not know (they are usually a typo or a wrong nesting).
fn only_fields(o: &Map<String, Value>, what: &str, allowed: &[&str]) -> Result<(), Refusal> {
    match o.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(Refusal::unknown_field(&format!("{what}.{k}"))),
        None => Ok(()),
    }
}

fn nonempty_string<'a>(v: Option<&'a Value>, what: &str) -> Result<&'a str, Refusal> {
    match v {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        Some(Value::String(_)) => Err(Refusal::param_value(&format!("{what} cannot be empty"))),
        Some(_) => Err(Refusal::invalid_parameter(&format!(
            "{what} must be a string"
        ))),
        None => Err(Refusal::missing(what)),
    }
}

/// A required, non-blank string of at most `max` characters (Meta counts characters, not
/// bytes: "ç" is one).
fn sized_text<'a>(v: Option<&'a Value>, what: &str, max: usize) -> Result<&'a str, Refusal> {
    let s = nonempty_string(v, what)?;
    let n = s.chars().count();
    if n > max {
        return Err(Refusal::param_value(&format!(
            "{what} has {n} characters; the limit is {max}"
        )));
    }
    Ok(s)
}
