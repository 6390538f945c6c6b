//! Payloads in Meta's exact webhook format, for the demo simulator and load tests: they
//! go through the same signature check and parser as Meta's own deliveries.

use serde_json::{json, Value};

use super::model::{DeliveryStatus, GraphErrorInfo};
use super::parse::{MESSAGES_FIELD, WHATSAPP_OBJECT};

/// `entry[].id` is the WhatsApp Business Account id; the product routes by
/// `phone_number_id`, so simulated payloads use a fixed placeholder.
pub const SIMULATED_WABA_ID: &str = "0";

fn envelope(phone_number_id: &str, display_phone_number: &str, mut value: Value) -> String {
    if let Value::Object(map) = &mut value {
        map.insert("messaging_product".into(), json!("whatsapp"));
        map.insert(
            "metadata".into(),
            json!({
                "display_phone_number": display_phone_number,
                "phone_number_id": phone_number_id,
            }),
        );
    }
    json!({
        "object": WHATSAPP_OBJECT,
        "entry": [{
            "id": SIMULATED_WABA_ID,
            "changes": [{ "value": value, "field": MESSAGES_FIELD }],
        }],
    })
    .to_string()
}

fn contacts(from_wa_id: &str, contact_name: Option<&str>) -> Value {
    let mut contact = json!({ "wa_id": from_wa_id });
    if let (Some(name), Value::Object(map)) = (contact_name, &mut contact) {
        map.insert("profile".into(), json!({ "name": name }));
    }
    json!([contact])
}

/// A customer's text message, as Meta delivers it.
pub fn build_text_webhook(
    phone_number_id: &str,
    display_phone_number: &str,
    from_wa_id: &str,
    contact_name: Option<&str>,
    wamid: &str,
    text: &str,
    timestamp: i64,
) -> String {
    let value = json!({
        "contacts": contacts(from_wa_id, contact_name),
        "messages": [{
            "from": from_wa_id,
            "id": wamid,
            "timestamp": timestamp.to_string(),
            "type": "text",
            "text": { "body": text },
        }],
    });
    envelope(phone_number_id, display_phone_number, value)
}

/// A customer's voice note (`type: audio`, `voice: true`) or photo (`type: image`, with an
/// optional caption), as Meta delivers it: the media id to fetch, its type and hash
/// (issue 16; the demo simulator and tests).
#[allow(clippy::too_many_arguments)] // mirrors the payload's fields one to one
pub fn build_media_webhook(
    phone_number_id: &str,
    display_phone_number: &str,
    from_wa_id: &str,
    contact_name: Option<&str>,
    wamid: &str,
    media: &MediaRef<'_>,
    timestamp: i64,
) -> String {
    let (kind, body) = if media.mime_type.starts_with("audio/") {
        (
            "audio",
            json!({ "mime_type": media.mime_type, "sha256": media.sha256, "id": media.id, "voice": true }),
        )
    } else {
        let mut image =
            json!({ "mime_type": media.mime_type, "sha256": media.sha256, "id": media.id });
        if let (Some(c), Value::Object(map)) = (media.caption, &mut image) {
            map.insert("caption".into(), json!(c));
        }
        ("image", image)
    };
    let mut message = json!({
        "from": from_wa_id,
        "id": wamid,
        "timestamp": timestamp.to_string(),
        "type": kind,
    });
    if let Value::Object(map) = &mut message {
        map.insert(kind.into(), body);
    }
    let value = json!({
        "contacts": contacts(from_wa_id, contact_name),
        "messages": [message],
    });
    envelope(phone_number_id, display_phone_number, value)
}

/// The media a [`build_media_webhook`] message names.
#[derive(Debug, Clone, Copy)]
pub struct MediaRef<'a> {
    pub id: &'a str,
    /// `audio/ogg; codecs=opus` for a voice note, `image/jpeg` for a photo.
    pub mime_type: &'a str,
    pub sha256: &'a str,
    /// A photo's caption.
    pub caption: Option<&'a str>,
}

/// A tap on one of our reply buttons (`interactive.button_reply`). `context_wamid` is the
/// message that carried the buttons.
#[allow(clippy::too_many_arguments)] // mirrors the payload's fields one to one
pub fn build_button_reply_webhook(
    phone_number_id: &str,
    display_phone_number: &str,
    from_wa_id: &str,
    contact_name: Option<&str>,
    wamid: &str,
    context_wamid: Option<&str>,
    button_id: &str,
    button_title: &str,
    timestamp: i64,
) -> String {
    let reply = Tap {
        from_wa_id,
        contact_name,
        wamid,
        context_wamid,
        timestamp,
    };
    reply.webhook(
        phone_number_id,
        display_phone_number,
        "button_reply",
        json!({ "id": button_id, "title": button_title }),
    )
}

/// A row picked from one of our list messages (`interactive.list_reply`, Meta sends the
/// row's id, title and description). `context_wamid` is the list message.
#[allow(clippy::too_many_arguments)] // mirrors the payload's fields one to one
pub fn build_list_reply_webhook(
    phone_number_id: &str,
    display_phone_number: &str,
    from_wa_id: &str,
    contact_name: Option<&str>,
    wamid: &str,
    context_wamid: Option<&str>,
    row_id: &str,
    row_title: &str,
    row_description: Option<&str>,
    timestamp: i64,
) -> String {
    let mut row = json!({ "id": row_id, "title": row_title });
    if let Some(d) = row_description {
        row["description"] = Value::String(d.to_string());
    }
    let reply = Tap {
        from_wa_id,
        contact_name,
        wamid,
        context_wamid,
        timestamp,
    };
    reply.webhook(phone_number_id, display_phone_number, "list_reply", row)
}

/// The customer's side of a tap on one of our interactive messages.
struct Tap<'a> {
    from_wa_id: &'a str,
    contact_name: Option<&'a str>,
    wamid: &'a str,
    context_wamid: Option<&'a str>,
    timestamp: i64,
}

impl Tap<'_> {
    fn webhook(
        &self,
        phone_number_id: &str,
        display_phone_number: &str,
        kind: &str,
        reply: Value,
    ) -> String {
        let mut message = json!({
            "from": self.from_wa_id,
            "id": self.wamid,
            "timestamp": self.timestamp.to_string(),
            "type": "interactive",
            "interactive": { "type": kind, kind: reply },
        });
        if let (Some(ctx), Value::Object(map)) = (self.context_wamid, &mut message) {
            map.insert(
                "context".into(),
                json!({ "from": display_phone_number, "id": ctx }),
            );
        }
        let value = json!({
            "contacts": contacts(self.from_wa_id, self.contact_name),
            "messages": [message],
        });
        envelope(phone_number_id, display_phone_number, value)
    }
}

/// A delivery receipt for one of our messages; `error` goes with `Failed`.
pub fn build_status_webhook(
    phone_number_id: &str,
    display_phone_number: &str,
    wamid: &str,
    recipient_id: &str,
    status: DeliveryStatus,
    timestamp: i64,
    error: Option<&GraphErrorInfo>,
) -> String {
    let mut receipt = json!({
        "id": wamid,
        "status": status.as_str(),
        "timestamp": timestamp.to_string(),
        "recipient_id": recipient_id,
    });
    if let (Some(err), Value::Object(map)) = (error, &mut receipt) {
        let mut entry = json!({
            "code": err.code,
            "title": err.title,
            "message": err.title,
        });
        if let (Some(details), Value::Object(e)) = (&err.details, &mut entry) {
            e.insert("error_data".into(), json!({ "details": details }));
        }
        map.insert("errors".into(), json!([entry]));
    }
    let value = json!({ "statuses": [receipt] });
    envelope(phone_number_id, display_phone_number, value)
}

/// Meta's review of a message template (`message_template_status_update`), as Meta posts it:
/// under the business account's entry, the template id a number, `reason` `NONE` when there
/// is none.
pub fn build_template_status_webhook(
    waba_id: &str,
    template_id: &str,
    name: &str,
    language: &str,
    event: &str,
    reason: Option<&str>,
    timestamp: i64,
) -> String {
    let id: Value = template_id
        .parse::<u64>()
        .map(Value::from)
        .unwrap_or_else(|_| json!(template_id));
    json!({
        "object": WHATSAPP_OBJECT,
        "entry": [{
            "id": waba_id,
            "time": timestamp,
            "changes": [{
                "value": {
                    "event": event,
                    "message_template_id": id,
                    "message_template_name": name,
                    "message_template_language": language,
                    "reason": reason.unwrap_or("NONE"),
                },
                "field": super::parse::TEMPLATE_STATUS_FIELD,
            }],
        }],
    })
    .to_string()
}
