//! What we send: validated against Meta's limits before it leaves, so a bad message is our
//! error with a clear reason rather than a 400 from Meta after a network round trip.

use serde_json::{json, Value};

/// Meta's limit for a text message body.
pub const MAX_TEXT_BODY_CHARS: usize = 4096;
/// Meta's limit for the body of an interactive message.
pub const MAX_INTERACTIVE_BODY_CHARS: usize = 1024;
/// Reply buttons per message.
pub const MAX_BUTTONS: usize = 3;
/// Characters in a reply button's title.
pub const MAX_BUTTON_TITLE_CHARS: usize = 20;
/// Characters in a reply button's id.
pub const MAX_BUTTON_ID_CHARS: usize = 256;
/// Rows of a list message (all sections together).
pub const MAX_LIST_ROWS: usize = 10;
/// Characters in a list row's title.
pub const MAX_ROW_TITLE_CHARS: usize = 24;
/// Characters in a list row's description.
pub const MAX_ROW_DESCRIPTION_CHARS: usize = 72;
/// Characters in a list row's id.
pub const MAX_ROW_ID_CHARS: usize = 200;
/// Characters in the button that opens a list.
pub const MAX_LIST_BUTTON_CHARS: usize = 20;
/// Characters in a list section's title.
pub const MAX_SECTION_TITLE_CHARS: usize = 24;
/// Characters in the label of a call-to-action URL button.
pub const MAX_CTA_DISPLAY_TEXT_CHARS: usize = 20;
/// Characters we allow in the URL of a call-to-action button (Meta sets no documented limit).
pub const MAX_CTA_URL_CHARS: usize = 2000;
/// Meta's limit for a media message's caption.
pub const MAX_CAPTION_CHARS: usize = 1024;
/// Characters we allow in a document's file name (Meta shows it; it sets no documented limit,
/// so ours keeps names readable on a phone).
pub const MAX_FILENAME_CHARS: usize = 240;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboundMessage {
    Text {
        to: String,
        body: String,
    },
    /// An interactive message with reply buttons (`interactive.type: button`).
    Buttons {
        to: String,
        body: String,
        buttons: Vec<ReplyButton>,
    },
    /// An interactive list (`interactive.type: list`): a button that opens one section of
    /// rows; the customer's tap comes back as a `list_reply` with the row's id. Build it with
    /// [`OutboundMessage::list`], which checks Meta's limits.
    List {
        to: String,
        body: String,
        /// The button that opens the list ("Ver opções").
        button: String,
        /// Shown above the rows; optional with one section.
        section_title: Option<String>,
        rows: Vec<ListRow>,
    },
    /// A document uploaded first through `POST /{phone_number_id}/media` (its `media_id`),
    /// shown to the customer as `filename` with an optional caption.
    Document {
        to: String,
        media_id: String,
        filename: String,
        caption: Option<String>,
    },
    /// An interactive message whose one button opens a URL (`interactive.type: cta_url`).
    CtaUrl {
        to: String,
        body: String,
        /// The button's label, at most 20 characters.
        display_text: String,
        url: String,
    },
    /// One of the store's approved WhatsApp message templates (`type: template`): the only
    /// message Meta delivers outside the 24-hour window. `parameters` fill the body's
    /// `{{1}}`, `{{2}}`… in order (`crate::graph::templates`).
    Template {
        to: String,
        name: String,
        /// Meta's language code, e.g. `pt_BR`.
        language: String,
        parameters: Vec<String>,
    },
    /// Meta's payments in Brazil: the order with its dynamic Pix code
    /// (`interactive.type: order_details`, `crate::graph::orders`).
    OrderDetails(Box<super::orders::OrderDetails>),
    /// An order's new status (`interactive.type: order_status`).
    OrderStatus(super::orders::OrderStatusUpdate),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyButton {
    /// Comes back in the customer's `button_reply.id` (e.g. `quote_accept`).
    pub id: String,
    pub title: String,
}

impl ReplyButton {
    pub fn new(id: impl Into<String>, title: impl Into<String>) -> ReplyButton {
        ReplyButton {
            id: id.into(),
            title: title.into(),
        }
    }
}

/// One row of a list message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRow {
    /// Comes back in the customer's `list_reply.id` (e.g. `choice:CIM-CP2-50`).
    pub id: String,
    pub title: String,
    pub description: Option<String>,
}

impl ListRow {
    pub fn new(
        id: impl Into<String>,
        title: impl Into<String>,
        description: Option<String>,
    ) -> ListRow {
        ListRow {
            id: id.into(),
            title: title.into(),
            description,
        }
    }
}

/// Why a message can't be sent as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid outbound message: {0}")]
pub struct InvalidMessage(pub String);

pub(super) fn invalid(reason: impl Into<String>) -> Result<(), InvalidMessage> {
    Err(InvalidMessage(reason.into()))
}

impl OutboundMessage {
    /// The customer's address, exactly as it will be sent: their `wa_id` (phone), or their
    /// business-scoped user id when Meta never gave us the phone (see [`Recipient`]).
    pub fn to(&self) -> &str {
        match self {
            OutboundMessage::Text { to, .. }
            | OutboundMessage::Buttons { to, .. }
            | OutboundMessage::List { to, .. }
            | OutboundMessage::Document { to, .. }
            | OutboundMessage::CtaUrl { to, .. }
            | OutboundMessage::Template { to, .. } => to,
            OutboundMessage::OrderDetails(o) => &o.to,
            OutboundMessage::OrderStatus(o) => &o.to,
        }
    }

    /// Stable name for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            OutboundMessage::Text { .. } => "text",
            OutboundMessage::Buttons { .. } => "buttons",
            OutboundMessage::List { .. } => "list",
            OutboundMessage::Document { .. } => "document",
            OutboundMessage::CtaUrl { .. } => "cta_url",
            OutboundMessage::Template { .. } => "template",
            OutboundMessage::OrderDetails(_) => "order_details",
            OutboundMessage::OrderStatus(_) => "order_status",
        }
    }

    /// Checks Meta's limits (lengths counted in characters, as Meta does).
    pub fn validate(&self) -> Result<(), InvalidMessage> {
        validate_recipient(self.to())?;
        match self {
            OutboundMessage::Text { body, .. } => validate_body(body, MAX_TEXT_BODY_CHARS),
            OutboundMessage::Buttons { body, buttons, .. } => {
                validate_body(body, MAX_INTERACTIVE_BODY_CHARS)?;
                validate_buttons(buttons)
            }
            OutboundMessage::List {
                body,
                button,
                section_title,
                rows,
                ..
            } => {
                validate_body(body, MAX_INTERACTIVE_BODY_CHARS)?;
                validate_list(button, section_title.as_deref(), rows)
            }
            OutboundMessage::Document {
                media_id,
                filename,
                caption,
                ..
            } => validate_document(media_id, filename, caption.as_deref()),
            OutboundMessage::CtaUrl {
                body,
                display_text,
                url,
                ..
            } => {
                validate_body(body, MAX_INTERACTIVE_BODY_CHARS)?;
                validate_cta(display_text, url)
            }
            OutboundMessage::Template {
                name,
                language,
                parameters,
                ..
            } => super::templates::validate_template_message(name, language, parameters),
            OutboundMessage::OrderDetails(o) => {
                validate_body(&o.body, MAX_INTERACTIVE_BODY_CHARS)?;
                o.validate()
            }
            OutboundMessage::OrderStatus(o) => {
                validate_body(&o.body, MAX_INTERACTIVE_BODY_CHARS)?;
                o.validate()
            }
        }
    }

    /// A list message, checked against Meta's limits as it is built (≤ 10 rows, row title ≤
    /// 24 characters, description ≤ 72, button ≤ 20, section title ≤ 24, ids unique): a
    /// list that breaks them is a clear error here, never a 400 from Meta.
    pub fn list(
        to: impl Into<String>,
        body: impl Into<String>,
        button: impl Into<String>,
        section_title: Option<String>,
        rows: Vec<ListRow>,
    ) -> Result<OutboundMessage, InvalidMessage> {
        let msg = OutboundMessage::List {
            to: to.into(),
            body: body.into(),
            button: button.into(),
            section_title,
            rows,
        };
        msg.validate()?;
        Ok(msg)
    }

    /// The JSON body of `POST /{phone_number_id}/messages`, in Meta's format: the address
    /// goes in `to` (a phone) or `recipient` (a business-scoped user id).
    pub fn to_graph_json(&self) -> Value {
        let mut body = self.graph_body();
        if let (Recipient::UserId(user_id), Some(obj)) =
            (Recipient::of(self.to()), body.as_object_mut())
        {
            obj.remove("to");
            obj.insert("recipient".into(), Value::String(user_id.to_string()));
        }
        body
    }

    fn graph_body(&self) -> Value {
        match self {
            OutboundMessage::Text { to, body } => json!({
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": to,
                "type": "text",
                "text": { "preview_url": false, "body": body },
            }),
            OutboundMessage::Buttons { to, body, buttons } => json!({
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": to,
                "type": "interactive",
                "interactive": {
                    "type": "button",
                    "body": { "text": body },
                    "action": {
                        "buttons": buttons
                            .iter()
                            .map(|b| json!({
                                "type": "reply",
                                "reply": { "id": b.id, "title": b.title },
                            }))
                            .collect::<Vec<_>>(),
                    },
                },
            }),
            OutboundMessage::List {
                to,
                body,
                button,
                section_title,
                rows,
            } => {
                let mut section = json!({
                    "rows": rows
                        .iter()
                        .map(|r| {
                            let mut row = json!({ "id": r.id, "title": r.title });
                            if let Some(d) = &r.description {
                                row["description"] = Value::String(d.clone());
                            }
                            row
                        })
                        .collect::<Vec<_>>(),
                });
                if let Some(t) = section_title {
                    section["title"] = Value::String(t.clone());
                }
                json!({
                    "messaging_product": "whatsapp",
                    "recipient_type": "individual",
                    "to": to,
                    "type": "interactive",
                    "interactive": {
                        "type": "list",
                        "body": { "text": body },
                        "action": { "button": button, "sections": [section] },
                    },
                })
            }
            OutboundMessage::Document {
                to,
                media_id,
                filename,
                caption,
            } => {
                let mut document = json!({ "id": media_id, "filename": filename });
                if let Some(c) = caption {
                    document["caption"] = Value::String(c.clone());
                }
                json!({
                    "messaging_product": "whatsapp",
                    "recipient_type": "individual",
                    "to": to,
                    "type": "document",
                    "document": document,
                })
            }
            OutboundMessage::CtaUrl {
                to,
                body,
                display_text,
                url,
            } => json!({
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": to,
                "type": "interactive",
                "interactive": {
                    "type": "cta_url",
                    "body": { "text": body },
                    "action": {
                        "name": "cta_url",
                        "parameters": { "display_text": display_text, "url": url },
                    },
                },
            }),
            OutboundMessage::Template {
                to,
                name,
                language,
                parameters,
            } => json!({
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": to,
                "type": "template",
                "template": super::templates::template_object(name, language, parameters),
            }),
            OutboundMessage::OrderDetails(o) => json!({
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": o.to,
                "type": "interactive",
                "interactive": o.interactive(),
            }),
            OutboundMessage::OrderStatus(o) => json!({
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": o.to,
                "type": "interactive",
                "interactive": o.interactive(),
            }),
        }
    }
}

/// How Meta addresses a customer in a send. Since 2026 a user with a WhatsApp username may
/// reach us with a business-scoped user id (BSUID) and no phone; Graph then takes the id in
/// `recipient` instead of `to` (with both, `to` wins). Format, per Meta: a two-letter ISO
/// country code, a period, up to 128 alphanumerics (`BR.1502576394655843`); a parent
/// BSUID has `ENT.` after the country (`US.ENT.11815799212886844830`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient<'a> {
    /// A `wa_id`: digits, sent in `to`.
    Phone(&'a str),
    /// A business-scoped user id, sent in `recipient`.
    UserId(&'a str),
}

/// Longest alphanumeric part of a business-scoped user id Meta documents.
pub const MAX_USER_ID_CHARS: usize = 128;

impl<'a> Recipient<'a> {
    /// A stored address read as what it is: a user id when it has the BSUID shape, a phone
    /// otherwise (phones are digits, so the two never overlap).
    pub fn of(address: &'a str) -> Recipient<'a> {
        if is_user_id(address) {
            Recipient::UserId(address)
        } else {
            Recipient::Phone(address)
        }
    }
}

/// Meta's BSUID shape: `CC.` or `CC.ENT.` then 1 to 128 ASCII letters or digits.
pub fn is_user_id(s: &str) -> bool {
    let Some((country, rest)) = s.split_once('.') else {
        return false;
    };
    let rest = rest.strip_prefix("ENT.").unwrap_or(rest);
    country.len() == 2
        && country.bytes().all(|b| b.is_ascii_uppercase())
        && (1..=MAX_USER_ID_CHARS).contains(&rest.len())
        && rest.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Digits only (an optional leading `+` is tolerated), as Meta gave them: the Brazilian
/// 8-digit form is valid and must not be "fixed". Or a business-scoped user id.
fn validate_recipient(to: &str) -> Result<(), InvalidMessage> {
    if is_user_id(to) {
        return Ok(());
    }
    let digits = to.strip_prefix('+').unwrap_or(to);
    if !(8..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return invalid(
            "recipient must be a WhatsApp id of 8 to 15 digits or a business-scoped user id",
        );
    }
    Ok(())
}

fn validate_body(body: &str, max_chars: usize) -> Result<(), InvalidMessage> {
    if body.trim().is_empty() {
        return invalid("body is empty");
    }
    let n = body.chars().count();
    if n > max_chars {
        return invalid(format!("body has {n} characters; the limit is {max_chars}"));
    }
    Ok(())
}

fn validate_document(
    media_id: &str,
    filename: &str,
    caption: Option<&str>,
) -> Result<(), InvalidMessage> {
    if media_id.trim().is_empty() {
        return invalid("document without a media id");
    }
    let n = filename.chars().count();
    if filename.trim().is_empty() || n > MAX_FILENAME_CHARS {
        return invalid(format!(
            "document file name must have 1 to {MAX_FILENAME_CHARS} characters"
        ));
    }
    if let Some(c) = caption {
        validate_body(c, MAX_CAPTION_CHARS)?;
    }
    Ok(())
}

fn validate_cta(display_text: &str, url: &str) -> Result<(), InvalidMessage> {
    let n = display_text.chars().count();
    if display_text.trim().is_empty() || n > MAX_CTA_DISPLAY_TEXT_CHARS {
        return invalid(format!(
            "the button label must have 1 to {MAX_CTA_DISPLAY_TEXT_CHARS} characters (has {n})"
        ));
    }
    let web = url.starts_with("https://") || url.starts_with("http://");
    if !web || url.chars().count() > MAX_CTA_URL_CHARS || url.chars().any(char::is_whitespace) {
        return invalid(format!(
            "the button URL must be an http(s) URL of at most {MAX_CTA_URL_CHARS} characters without spaces"
        ));
    }
    Ok(())
}

fn validate_buttons(buttons: &[ReplyButton]) -> Result<(), InvalidMessage> {
    if buttons.is_empty() {
        return invalid("a button message needs at least one button");
    }
    if buttons.len() > MAX_BUTTONS {
        return invalid(format!(
            "{} buttons; WhatsApp allows at most {MAX_BUTTONS}",
            buttons.len()
        ));
    }
    for (i, b) in buttons.iter().enumerate() {
        let title_chars = b.title.chars().count();
        if b.title.trim().is_empty() || title_chars > MAX_BUTTON_TITLE_CHARS {
            return invalid(format!(
                "button {} title must have 1 to {MAX_BUTTON_TITLE_CHARS} characters (has {title_chars})",
                i + 1
            ));
        }
        let id_chars = b.id.chars().count();
        if b.id.trim().is_empty() || id_chars > MAX_BUTTON_ID_CHARS {
            return invalid(format!(
                "button {} id must have 1 to {MAX_BUTTON_ID_CHARS} characters",
                i + 1
            ));
        }
        // Meta rejects repeated ids or titles in one message.
        if buttons[..i].iter().any(|o| o.id == b.id) {
            return invalid(format!("button id {:?} is repeated", b.id));
        }
        if buttons[..i].iter().any(|o| o.title == b.title) {
            return invalid(format!("button title {:?} is repeated", b.title));
        }
    }
    Ok(())
}

/// A text of 1 to `max` characters (Meta counts characters, not bytes).
fn validate_sized(what: &str, text: &str, max: usize) -> Result<(), InvalidMessage> {
    let n = text.chars().count();
    if text.trim().is_empty() || n > max {
        return invalid(format!("{what} must have 1 to {max} characters (has {n})"));
    }
    Ok(())
}

fn validate_list(
    button: &str,
    section_title: Option<&str>,
    rows: &[ListRow],
) -> Result<(), InvalidMessage> {
    validate_sized("list button", button, MAX_LIST_BUTTON_CHARS)?;
    if let Some(t) = section_title {
        validate_sized("list section title", t, MAX_SECTION_TITLE_CHARS)?;
    }
    if rows.is_empty() {
        return invalid("a list message needs at least one row");
    }
    if rows.len() > MAX_LIST_ROWS {
        return invalid(format!(
            "{} rows; WhatsApp allows at most {MAX_LIST_ROWS}",
            rows.len()
        ));
    }
    for (i, r) in rows.iter().enumerate() {
        let n = i + 1;
        validate_sized(&format!("row {n} title"), &r.title, MAX_ROW_TITLE_CHARS)?;
        validate_sized(&format!("row {n} id"), &r.id, MAX_ROW_ID_CHARS)?;
        if let Some(d) = &r.description {
            validate_sized(
                &format!("row {n} description"),
                d,
                MAX_ROW_DESCRIPTION_CHARS,
            )?;
        }
        // Meta refuses repeated row ids in one message.
        if rows[..i].iter().any(|o| o.id == r.id) {
            return invalid(format!("row id {:?} is repeated", r.id));
        }
    }
    Ok(())
}

/// Splits a long body into pieces of at most `max_chars` characters for consecutive text
/// messages. Pieces end at line boundaries, so a quote's line is never cut in two; only a
/// single line longer than a whole message is cut, at a space, and never between "R$" and
/// its amount. Whitespace-only pieces are dropped (Meta refuses an empty body).
pub fn split_text(body: &str, max_chars: usize) -> Vec<String> {
    let max_chars = max_chars.max(1);
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut current_chars = 0;
    for line in body.split_inclusive('\n') {
        let line_chars = line.trim_end_matches('\n').chars().count();
        if current_chars + line_chars > max_chars {
            push_piece(&mut pieces, &mut current);
            current_chars = 0;
        }
        if line_chars > max_chars {
            let mut words = split_long_line(line.trim_end_matches('\n'), max_chars);
            let last = words.pop().unwrap_or_default();
            for w in words {
                pieces.push(w);
            }
            current_chars = last.chars().count() + 1;
            current.push_str(&last);
            current.push('\n');
            continue;
        }
        current.push_str(line);
        current_chars += line.chars().count();
    }
    push_piece(&mut pieces, &mut current);
    pieces
}

fn push_piece(pieces: &mut Vec<String>, current: &mut String) {
    let piece = current.trim_end().to_string();
    if !piece.trim().is_empty() {
        pieces.push(piece);
    }
    current.clear();
}

/// One line longer than a message: cut at spaces, with "R$" glued to the word after it.
fn split_long_line(line: &str, max_chars: usize) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for w in line.split(' ') {
        match words.last_mut() {
            Some(prev) if prev.ends_with("R$") => {
                prev.push(' ');
                prev.push_str(w);
            }
            _ => words.push(w.to_string()),
        }
    }
    let mut out = Vec::new();
    let mut current = String::new();
    for w in words {
        let sep = usize::from(!current.is_empty());
        if current.chars().count() + sep + w.chars().count() > max_chars && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(&w);
        // A single word longer than a message (no space to cut at): cut by characters.
        while current.chars().count() > max_chars {
            let head: String = current.chars().take(max_chars).collect();
            current = current.chars().skip(max_chars).collect();
            out.push(head);
        }
    }
    out.push(current);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cta_url_button_needs_a_short_label_and_a_web_url() {
        let cta = |label: &str, url: &str| OutboundMessage::CtaUrl {
            to: "5511987654321".into(),
            body: "Seu orçamento".into(),
            display_text: label.into(),
            url: url.into(),
        };
        assert!(cta("Ver orçamento", "https://orcazap.com.br/q/x")
            .validate()
            .is_ok());
        assert!(cta(&"ç".repeat(20), "http://localhost:8080/q/x")
            .validate()
            .is_ok());
        assert!(cta(&"ç".repeat(21), "https://a/q").validate().is_err());
        assert!(cta(" ", "https://a/q").validate().is_err());
        assert!(cta("Ver", "ftp://a/q").validate().is_err());
        assert!(cta("Ver", "https://a/q x").validate().is_err());
        let json = cta("Ver", "https://a/q").to_graph_json();
        assert_eq!(json["interactive"]["type"], "cta_url");
        assert_eq!(json["interactive"]["action"]["name"], "cta_url");
        assert_eq!(
            json["interactive"]["action"]["parameters"]["url"],
            "https://a/q"
        );
    }

    fn buttons(titles: &[&str]) -> OutboundMessage {
        OutboundMessage::Buttons {
            to: "5511987654321".into(),
            body: "Orçamento #12: R$ 1.234,56. Confirma?".into(),
            buttons: titles
                .iter()
                .enumerate()
                .map(|(i, t)| ReplyButton::new(format!("b{i}"), *t))
                .collect(),
        }
    }

    #[test]
    fn text_json_is_metas_format() {
        let msg = OutboundMessage::Text {
            to: "551187654321".into(),
            body: "Olá!".into(),
        };
        assert_eq!(
            msg.to_graph_json(),
            json!({
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": "551187654321",
                "type": "text",
                "text": { "preview_url": false, "body": "Olá!" },
            })
        );
        assert!(msg.validate().is_ok());
    }

    #[test]
    fn button_limits() {
        assert!(buttons(&["Confirmar", "Recusar", "Falar com loja"])
            .validate()
            .is_ok());
        assert!(buttons(&[]).validate().is_err());
        assert!(buttons(&["a", "b", "c", "d"]).validate().is_err());
        // 20 characters, with accents, is fine; 21 is not.
        assert!(buttons(&["Confirmação do pedid"]).validate().is_ok());
        assert!(buttons(&["Confirmação do pedido"]).validate().is_err());
        assert!(buttons(&["  "]).validate().is_err());
        assert!(buttons(&["Sim", "Sim"]).validate().is_err());
        let mut repeated_id = buttons(&["Sim", "Não"]);
        if let OutboundMessage::Buttons { buttons, .. } = &mut repeated_id {
            buttons[1].id = buttons[0].id.clone();
        }
        assert!(repeated_id.validate().is_err());
    }

    fn rows(n: usize) -> Vec<ListRow> {
        (0..n)
            .map(|i| ListRow::new(format!("choice:SKU-{i}"), format!("Cimento {i}"), None))
            .collect()
    }

    fn list(rows: Vec<ListRow>) -> Result<OutboundMessage, InvalidMessage> {
        OutboundMessage::list(
            "5511987654321",
            "Qual cimento?",
            "Ver opções",
            Some("Cimentos".into()),
            rows,
        )
    }

    #[test]
    fn list_json_is_metas_format() {
        let msg = list(vec![
            ListRow::new(
                "choice:CIM-CP2-50",
                "Cimento CP-II 50kg",
                Some("R$ 36,90/sc".into()),
            ),
            ListRow::new("choice:CIM-BRC-1", "Cimento branco 1kg", None),
        ])
        .unwrap();
        assert_eq!(msg.kind(), "list");
        assert_eq!(
            msg.to_graph_json(),
            json!({
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": "5511987654321",
                "type": "interactive",
                "interactive": {
                    "type": "list",
                    "body": { "text": "Qual cimento?" },
                    "action": {
                        "button": "Ver opções",
                        "sections": [{
                            "title": "Cimentos",
                            "rows": [
                                { "id": "choice:CIM-CP2-50", "title": "Cimento CP-II 50kg",
                                  "description": "R$ 36,90/sc" },
                                { "id": "choice:CIM-BRC-1", "title": "Cimento branco 1kg" },
                            ],
                        }],
                    },
                },
            })
        );
        // What we build, the mock Graph API (Meta's rules) takes.
        assert_eq!(crate::mock::check_message(&msg.to_graph_json()), Ok(()));
    }

    #[test]
    fn list_limits_are_checked_when_it_is_built() {
        assert!(list(rows(10)).is_ok());
        let err = list(rows(11)).unwrap_err();
        assert!(err.0.contains("at most 10"), "{err}");
        assert!(list(vec![]).is_err());
        // 24 characters (accents count once) is fine; 25 is not.
        let title = |t: &str| list(vec![ListRow::new("a", t, None)]);
        assert!(title("Cimento CP-II-E-32 50kgç").is_ok());
        let err = title("Cimento CP-II-E-32 50kg çç").unwrap_err();
        assert!(err.0.contains("row 1 title"), "{err}");
        assert!(title(" ").is_err());
        let described = |d: &str| list(vec![ListRow::new("a", "Fio", Some(d.into()))]);
        assert!(described(&"ç".repeat(72)).is_ok());
        assert!(described(&"ç".repeat(73))
            .unwrap_err()
            .0
            .contains("description"));
        let mut twice = rows(2);
        twice[1].id = twice[0].id.clone();
        assert!(list(twice).unwrap_err().0.contains("repeated"));
        let button = |b: &str| OutboundMessage::list("5511987654321", "Qual?", b, None, rows(2));
        assert!(button("Escolher um produtoo").is_ok());
        assert!(button("Escolher um produto a")
            .unwrap_err()
            .0
            .contains("button"));
        let section = |t: &str| {
            OutboundMessage::list("5511987654321", "Qual?", "Ver", Some(t.into()), rows(2))
        };
        assert!(section(&"s".repeat(24)).is_ok());
        assert!(section(&"s".repeat(25)).is_err());
        let long_body = OutboundMessage::list(
            "5511987654321",
            "a".repeat(MAX_INTERACTIVE_BODY_CHARS + 1),
            "Ver",
            None,
            rows(2),
        );
        assert!(long_body.is_err());
    }

    #[test]
    fn body_limits_count_characters_not_bytes() {
        let ok_text = OutboundMessage::Text {
            to: "5511987654321".into(),
            body: "ç".repeat(MAX_TEXT_BODY_CHARS),
        };
        assert!(ok_text.validate().is_ok());
        let long_text = OutboundMessage::Text {
            to: "5511987654321".into(),
            body: "a".repeat(MAX_TEXT_BODY_CHARS + 1),
        };
        assert!(long_text.validate().is_err());
        let long_interactive = OutboundMessage::Buttons {
            to: "5511987654321".into(),
            body: "a".repeat(MAX_INTERACTIVE_BODY_CHARS + 1),
            buttons: vec![ReplyButton::new("ok", "OK")],
        };
        assert!(long_interactive.validate().is_err());
        let empty = OutboundMessage::Text {
            to: "5511987654321".into(),
            body: " \n".into(),
        };
        assert!(empty.validate().is_err());
    }

    #[test]
    fn user_ids_go_in_recipient_phones_in_to() {
        let to_user = OutboundMessage::Text {
            to: "BR.1502576394655843".into(),
            body: "oi".into(),
        };
        assert_eq!(to_user.validate(), Ok(()));
        let json = to_user.to_graph_json();
        assert_eq!(json["recipient"], "BR.1502576394655843");
        assert!(json.get("to").is_none(), "{json}");
        let to_phone = buttons(&["Confirmar"]).to_graph_json();
        assert_eq!(to_phone["to"], "5511987654321");
        assert!(to_phone.get("recipient").is_none());
        assert!(is_user_id("US.ENT.11815799212886844830"));
        for not in [
            "BR.",
            "br.123",
            "BRA.123",
            "BR.12-3",
            "5511987654321",
            ".123",
        ] {
            assert!(!is_user_id(not), "{not}");
        }
        assert!(!is_user_id(&format!("BR.{}", "1".repeat(129))));
    }

    #[test]
    fn recipient_must_be_digits() {
        for to in ["", "abc", "5511-98765-4321", "1234567", "1234567890123456"] {
            let msg = OutboundMessage::Text {
                to: to.into(),
                body: "oi".into(),
            };
            assert!(msg.validate().is_err(), "{to}");
        }
        let plus = OutboundMessage::Text {
            to: "+5511987654321".into(),
            body: "oi".into(),
        };
        assert!(plus.validate().is_ok());
    }

    #[test]
    fn split_text_cuts_at_line_boundaries() {
        let line = |i: usize| format!("• 1 sc — Produto {i}\n   R$ 10,00/sc = *R$ 10,00*\n");
        let body: String = (0..200).map(line).collect();
        let pieces = split_text(&body, 1024);
        assert!(pieces.len() > 1);
        let whole_lines: Vec<&str> = body.lines().collect();
        for p in &pieces {
            assert!(p.chars().count() <= 1024, "{}", p.chars().count());
            // Every line of every piece is a whole line of the body: no line was cut.
            for line in p.lines() {
                assert!(whole_lines.contains(&line), "cut line {line:?}");
            }
        }
        assert_eq!(pieces.join("\n") + "\n", body);
        assert_eq!(split_text("curto", 4096), vec!["curto".to_string()]);
        assert!(split_text(" \n \n", 4096).is_empty());
    }

    #[test]
    fn a_line_longer_than_a_message_keeps_r_dollar_with_its_amount() {
        let line = "total R$ 1.234,56 ".repeat(40);
        let pieces = split_text(&line, 50);
        for p in &pieces {
            assert!(p.chars().count() <= 50, "{p}");
            assert!(!p.trim_end().ends_with("R$"), "{p:?}");
            assert!(!p.starts_with("1.234"), "{p:?}");
        }
        let joined: String = pieces.join(" ");
        assert_eq!(
            joined.split_whitespace().count(),
            line.split_whitespace().count()
        );
        // No space at all: cut by characters, nothing lost.
        let word = "x".repeat(120);
        let pieces = split_text(&word, 50);
        assert_eq!(pieces.concat(), word);
        assert!(pieces.iter().all(|p| p.chars().count() <= 50));
    }
}
