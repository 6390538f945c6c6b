//! Meta's webhook wire format → [`WebhookEvent`]s.
//!
//! Strict on the envelope only (valid JSON, `object: whatsapp_business_account`, `entry[]`,
//! `changes[]`): a body that is not a WhatsApp payload at all is answered 400.
//! [`parse_delivery`] (what the webhook uses) reads every message and receipt on its own: one
//! it can't route or deduplicate (no channel metadata, no id, no sender, a timestamp that is
//! not a number) becomes [`WebhookEvent::Unreadable`] and its neighbours are kept, so one
//! odd message never makes Meta redeliver the whole batch for days. [`parse_webhook`] is the
//! all-or-nothing form (any unreadable part is an error), for tools and tests.
//! Lenient on everything else: unknown fields are ignored, and a message whose content we
//! can't read becomes [`MessageContent::Unsupported`].
//!
//! Senders: since 2026 Meta may send `from_user_id` (a business-scoped user id) without
//! `from` for users with usernames; either one identifies the sender.

mod wire;

use serde::Deserialize;
use serde_json::value::RawValue;
use wire::*;

use super::model::{
    DeliveryStatus, InboundMessage, MessageContent, SharedContact, StatusUpdate,
    TemplateStatusUpdate, Unreadable, WebhookEvent,
};

/// The only `object` a WhatsApp Business Account webhook carries.
pub const WHATSAPP_OBJECT: &str = "whatsapp_business_account";

/// The change field that carries messages and delivery receipts.
pub const MESSAGES_FIELD: &str = "messages";

/// The change field of Meta's review of a message template.
pub const TEMPLATE_STATUS_FIELD: &str = "message_template_status_update";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookParseError {
    #[error("body is not valid JSON (line {line}, column {column})")]
    InvalidJson { line: usize, column: usize },
    #[error("unexpected webhook object {object:?}")]
    WrongObject { object: String },
    #[error("malformed webhook payload: {reason}")]
    Malformed { reason: String },
}

impl WebhookParseError {
    /// Low-cardinality label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            WebhookParseError::InvalidJson { .. } => "invalid_json",
            WebhookParseError::WrongObject { .. } => "wrong_object",
            WebhookParseError::Malformed { .. } => "malformed",
        }
    }

    fn from_json(e: serde_json::Error) -> Self {
        match e.classify() {
            serde_json::error::Category::Data => WebhookParseError::Malformed {
                reason: redact_quoted(&e.to_string()),
            },
            _ => WebhookParseError::InvalidJson {
                line: e.line(),
                column: e.column(),
            },
        }
    }
}

/// serde's messages quote offending values (`invalid type: string "…"`, ``integer `…` ``),
/// which may be a customer's phone or text; errors end up in logs, so keep only the
/// structure. Field names (our own, in `missing field` / `duplicate field`) are kept.
fn redact_quoted(message: &str) -> String {
    if message.starts_with("missing field") || message.starts_with("duplicate field") {
        return message.to_string();
    }
    let mut out = String::with_capacity(message.len());
    let mut open: Option<char> = None;
    for c in message.chars() {
        match open {
            Some(q) if c == q => open = None,
            Some(_) => {}
            None if c == '"' || c == '`' => {
                out.push(c);
                out.push('…');
                out.push(c);
                open = Some(c);
            }
            None => out.push(c),
        }
    }
    out
}

fn malformed(reason: impl Into<String>) -> WebhookParseError {
    WebhookParseError::Malformed {
        reason: reason.into(),
    }
}

/// Turns a webhook body (already signature-checked) into events, in payload order, all or
/// nothing: any part [`parse_delivery`] could not read is an error here.
pub fn parse_webhook(raw: &[u8]) -> Result<Vec<WebhookEvent>, WebhookParseError> {
    let events = parse_delivery(raw)?;
    if let Some(u) = events.iter().find_map(|e| match e {
        WebhookEvent::Unreadable(u) => Some(u),
        _ => None,
    }) {
        return Err(malformed(u.reason.clone()));
    }
    Ok(events)
}

/// Turns a webhook body (already signature-checked) into events, in payload order. Only a
/// body that is not a WhatsApp payload (not JSON, another `object`, no `entry[].changes[]`)
/// is an error; a message, receipt or `messages` change that can't be read is returned as
/// [`WebhookEvent::Unreadable`] in its place, and the rest of the delivery stands.
pub fn parse_delivery(raw: &[u8]) -> Result<Vec<WebhookEvent>, WebhookParseError> {
    let payload: WirePayload = serde_json::from_slice(raw).map_err(WebhookParseError::from_json)?;
    if payload.object != WHATSAPP_OBJECT {
        let object: String = payload.object.chars().take(64).collect();
        return Err(WebhookParseError::WrongObject { object });
    }
    let mut events = Vec::new();
    for entry in payload.entry {
        for change in entry.changes {
            if change.field == MESSAGES_FIELD {
                let Some(value) = change.value else {
                    events.push(unreadable(
                        None,
                        None,
                        "change",
                        "messages change without a value",
                    ));
                    continue;
                };
                if let Err(e) = parse_messages_value(&value, &mut events) {
                    let channel = channel_of_any_value(&value);
                    events.push(unreadable(channel, None, "change", reason_of(e)));
                }
            } else if change.field == TEMPLATE_STATUS_FIELD {
                events.push(template_status(&entry.id, change.value.as_deref()));
            } else {
                events.push(WebhookEvent::Ignored {
                    phone_number_id: change.value.as_deref().and_then(channel_of_any_value),
                    field: change.field,
                });
            }
        }
    }
    Ok(events)
}

/// A template review: `{event, message_template_id, message_template_name,
/// message_template_language, reason}` under the business account's entry. One we can't read
/// (no name, language or event) is [`WebhookEvent::Unreadable`], its neighbours kept.
fn template_status(waba_id: &str, value: Option<&RawValue>) -> WebhookEvent {
    let read = value
        .ok_or_else(|| "template status change without a value".to_string())
        .and_then(|v| {
            serde_json::from_str::<WireTemplateStatus>(v.get())
                .map_err(|e| redact_quoted(&e.to_string()))
        });
    match read {
        Ok(t) if !t.message_template_name.trim().is_empty() && !t.event.trim().is_empty() => {
            WebhookEvent::TemplateStatus(TemplateStatusUpdate {
                waba_id: waba_id.to_string(),
                template_id: match t.message_template_id {
                    serde_json::Value::String(s) => s,
                    serde_json::Value::Number(n) => n.to_string(),
                    _ => String::new(),
                },
                name: t.message_template_name,
                language: t.message_template_language,
                event: t.event,
                reason: t.reason.filter(|r| !r.trim().is_empty() && r != "NONE"),
            })
        }
        Ok(_) => unreadable(
            None,
            None,
            "change",
            "template status without a name or event",
        ),
        Err(reason) => unreadable(None, None, "change", reason),
    }
}

/// Why a part is unreadable, without the "malformed payload" prefix `parse_webhook` adds.
fn reason_of(e: WebhookParseError) -> String {
    match e {
        WebhookParseError::Malformed { reason } => reason,
        other => other.to_string(),
    }
}

fn unreadable(
    phone_number_id: Option<String>,
    wamid: Option<String>,
    part: &'static str,
    reason: impl Into<String>,
) -> WebhookEvent {
    WebhookEvent::Unreadable(Unreadable {
        phone_number_id,
        wamid,
        part,
        reason: reason.into(),
    })
}

/// Meta's id of a message or receipt we could not read, if it has a usable one.
fn id_of(raw: &RawValue) -> Option<String> {
    #[derive(Deserialize)]
    struct WithId {
        id: String,
    }
    serde_json::from_str::<WithId>(raw.get())
        .ok()
        .map(|w| w.id.chars().take(256).collect::<String>())
        .filter(|id| !id.trim().is_empty())
}

fn channel_of_any_value(value: &RawValue) -> Option<String> {
    serde_json::from_str::<WireAnyValue>(value.get())
        .ok()?
        .metadata?
        .phone_number_id
}

/// One `messages` change. Errors only when the change as a whole can't be routed (no channel
/// metadata); each message and receipt is read on its own.
fn parse_messages_value(
    value: &RawValue,
    events: &mut Vec<WebhookEvent>,
) -> Result<(), WebhookParseError> {
    let value: WireMessagesValue =
        serde_json::from_str(value.get()).map_err(WebhookParseError::from_json)?;
    let channel = &value.metadata;
    if channel.phone_number_id.trim().is_empty() {
        return Err(malformed("empty metadata.phone_number_id"));
    }
    let before = events.len();
    let pnid = || Some(channel.phone_number_id.clone());
    for raw_message in &value.messages {
        events.push(match parse_message(raw_message, channel, &value.contacts) {
            Ok(message) => WebhookEvent::Message(message),
            Err(e) => unreadable(pnid(), id_of(raw_message), "message", reason_of(e)),
        });
    }
    for raw_status in &value.statuses {
        let parsed = serde_json::from_str::<WireStatus>(raw_status.get())
            .map_err(WebhookParseError::from_json)
            .and_then(|status| parse_status(&status, channel));
        events.push(match parsed {
            Ok(event) => event,
            Err(e) => unreadable(pnid(), id_of(raw_status), "status", reason_of(e)),
        });
    }
    if events.len() == before {
        // e.g. a value carrying only account-level `errors`: nothing to act on.
        events.push(WebhookEvent::Ignored {
            phone_number_id: Some(channel.phone_number_id.clone()),
            field: MESSAGES_FIELD.to_string(),
        });
    }
    Ok(())
}

fn parse_message(
    raw: &RawValue,
    channel: &WireMetadata,
    contacts: &[WireContact],
) -> Result<InboundMessage, WebhookParseError> {
    let header: WireMessageHeader =
        serde_json::from_str(raw.get()).map_err(WebhookParseError::from_json)?;
    if header.id.trim().is_empty() {
        return Err(malformed("message without an id"));
    }
    let non_blank = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
    let from = non_blank(header.from.clone()).unwrap_or_default();
    let from_user_id = non_blank(header.from_user_id.clone());
    if from.is_empty() && from_user_id.is_none() {
        return Err(malformed("message without a sender (from or from_user_id)"));
    }
    let content = match serde_json::from_str::<WireMessageBody>(raw.get()) {
        Ok(body) => content_of(&header.kind, body),
        Err(e) => {
            tracing::warn!(
                wamid = %header.id,
                kind = %header.kind,
                error = %redact_quoted(&e.to_string()),
                "unreadable message content; treating it as unsupported"
            );
            MessageContent::Unsupported {
                kind: header.kind.clone(),
                error_code: None,
            }
        }
    };
    Ok(InboundMessage {
        phone_number_id: channel.phone_number_id.clone(),
        display_phone_number: channel.display_phone_number.clone(),
        timestamp: header.timestamp.seconds()?,
        contact_name: profile_field(&from, from_user_id.as_deref(), contacts, |p| &p.name),
        username: profile_field(&from, from_user_id.as_deref(), contacts, |p| &p.username),
        context_wamid: header.context.and_then(|c| c.id),
        wamid: header.id,
        from_user_id,
        from,
        content,
    })
}

/// A profile field of the sender: from the contact with the same `wa_id` or `user_id`, or
/// the only contact in the change (Meta's `wa_id` and `from` can differ in formatting for
/// some numbers).
fn profile_field(
    from: &str,
    from_user_id: Option<&str>,
    contacts: &[WireContact],
    field: impl Fn(&WireProfile) -> &Option<String>,
) -> Option<String> {
    let contact = contacts
        .iter()
        .find(|c| {
            (!from.is_empty() && c.wa_id.as_deref() == Some(from))
                || (from_user_id.is_some() && c.user_id.as_deref() == from_user_id)
        })
        .or(match contacts {
            [only] => Some(only),
            _ => None,
        })?;
    field(contact.profile.as_ref()?)
        .clone()
        .filter(|n| !n.trim().is_empty())
}

fn content_of(kind: &str, body: WireMessageBody) -> MessageContent {
    let first_error_code = body.errors.iter().find_map(|e| e.code);
    let unsupported = |kind: String| MessageContent::Unsupported {
        kind,
        error_code: first_error_code,
    };
    match (kind, body) {
        ("text", WireMessageBody { text: Some(t), .. }) => MessageContent::Text { body: t.body },
        (
            "interactive",
            WireMessageBody {
                interactive: Some(i),
                ..
            },
        ) => match (i.kind.as_str(), i.button_reply, i.list_reply) {
            ("button_reply", Some(r), _) => MessageContent::Button {
                id: r.id,
                title: r.title,
            },
            ("list_reply", _, Some(r)) => MessageContent::ListReply {
                id: r.id,
                title: r.title,
                description: r.description,
            },
            (other, _, _) => unsupported(format!("interactive/{other}")),
        },
        (
            "button",
            WireMessageBody {
                button: Some(b), ..
            },
        ) => {
            let title = b.text.unwrap_or_default();
            // Template quick replies carry the developer-defined payload; fall back to the
            // visible text when a template was made without one.
            let id = b.payload.filter(|p| !p.is_empty()).unwrap_or(title.clone());
            MessageContent::Button { id, title }
        }
        ("image", WireMessageBody { image: Some(m), .. }) => MessageContent::Image {
            media_id: m.id,
            caption: m.caption,
            mime_type: m.mime_type.unwrap_or_default(),
        },
        ("audio", WireMessageBody { audio: Some(m), .. }) => MessageContent::Audio {
            media_id: m.id,
            voice: m.voice.unwrap_or(false),
        },
        (
            "location",
            WireMessageBody {
                location: Some(l), ..
            },
        ) => match (coordinate_text(&l.latitude), coordinate_text(&l.longitude)) {
            (Some(latitude), Some(longitude)) => MessageContent::Location {
                latitude,
                longitude,
                name: l.name,
                address: l.address,
            },
            _ => unsupported("location".to_string()),
        },
        (
            "reaction",
            WireMessageBody {
                reaction: Some(r), ..
            },
        ) => MessageContent::Reaction {
            emoji: r.emoji.unwrap_or_default(),
            message_id: r.message_id,
        },
        (
            "document",
            WireMessageBody {
                document: Some(d), ..
            },
        ) => MessageContent::Document {
            media_id: d.id,
            filename: d.filename.filter(|f| !f.trim().is_empty()),
            caption: d.caption.filter(|c| !c.trim().is_empty()),
            mime_type: d.mime_type.unwrap_or_default(),
        },
        (
            "sticker",
            WireMessageBody {
                sticker: Some(s), ..
            },
        ) => MessageContent::Sticker {
            media_id: s.id,
            animated: s.animated.unwrap_or(false),
        },
        (
            "contacts",
            WireMessageBody {
                contacts: Some(cards),
                ..
            },
        ) if !cards.is_empty() => MessageContent::Contacts {
            cards: cards.into_iter().map(shared_contact).collect(),
        },
        (
            "system",
            WireMessageBody {
                system: Some(s), ..
            },
        ) => MessageContent::System {
            kind: s.kind.unwrap_or_default(),
            body: s.body.unwrap_or_default(),
            new_wa_id: s
                .wa_id
                .or(s.new_wa_id)
                .filter(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit())),
        },
        (other, _) => unsupported(other.to_string()),
    }
}

fn shared_contact(c: WireSharedContact) -> SharedContact {
    let name = c
        .name
        .map(|n| {
            n.formatted_name
                .filter(|f| !f.trim().is_empty())
                .unwrap_or_else(|| {
                    [n.first_name, n.last_name]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" ")
                })
        })
        .unwrap_or_default();
    let phones = c
        .phones
        .into_iter()
        .filter_map(|p| p.phone.or(p.wa_id))
        .filter(|p| !p.trim().is_empty())
        .collect();
    SharedContact { name, phones }
}

/// A coordinate as decimal text: Meta sends a JSON number; a quoted number is accepted too.
fn coordinate_text(raw: &RawValue) -> Option<String> {
    let text = raw.get().trim();
    let text = match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(inner) => inner.trim(),
        None => text,
    };
    let looks_numeric = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'));
    looks_numeric.then(|| text.to_string())
}

fn parse_status(
    status: &WireStatus,
    channel: &WireMetadata,
) -> Result<WebhookEvent, WebhookParseError> {
    if status.id.trim().is_empty() {
        return Err(malformed("status without a message id"));
    }
    let Ok(delivery) = status.status.parse::<DeliveryStatus>() else {
        // Meta adds statuses over time ("deleted", "warning"…): record, don't fail.
        return Ok(WebhookEvent::Ignored {
            phone_number_id: Some(channel.phone_number_id.clone()),
            field: format!(
                "{MESSAGES_FIELD}/status:{}",
                status.status.chars().take(32).collect::<String>()
            ),
        });
    };
    Ok(WebhookEvent::Status(StatusUpdate {
        phone_number_id: channel.phone_number_id.clone(),
        wamid: status.id.clone(),
        status: delivery,
        timestamp: status.timestamp.seconds()?,
        recipient_id: status.recipient_id.clone().unwrap_or_default(),
        recipient_user_id: status
            .recipient_user_id
            .clone()
            .filter(|u| !u.trim().is_empty()),
        error: status.errors.iter().find_map(WireError::info),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_keeps_structure_only() {
        assert_eq!(
            redact_quoted("invalid type: string \"5511987654321\", expected i64 at line 1"),
            "invalid type: string \"…\", expected i64 at line 1"
        );
        assert_eq!(
            redact_quoted("invalid type: integer `5511987654321`, expected a string"),
            "invalid type: integer `…`, expected a string"
        );
        assert_eq!(redact_quoted("missing field `id`"), "missing field `id`");
    }

    #[test]
    fn coordinates_must_look_numeric() {
        let raw = |s: &str| RawValue::from_string(s.to_string()).unwrap();
        assert_eq!(
            coordinate_text(&raw("-23.561414")).as_deref(),
            Some("-23.561414")
        );
        assert_eq!(coordinate_text(&raw("\"-46.6\"")).as_deref(), Some("-46.6"));
        assert_eq!(coordinate_text(&raw("null")), None);
        assert_eq!(coordinate_text(&raw("\"\"")), None);
        assert_eq!(coordinate_text(&raw("{}")), None);
    }

    #[test]
    fn timestamps_accept_strings_and_numbers() {
        assert_eq!(
            WireTimestamp::Text("1764316800".into()).seconds(),
            Ok(1_764_316_800)
        );
        assert_eq!(WireTimestamp::Number(5).seconds(), Ok(5));
        assert!(WireTimestamp::Text("ontem".into()).seconds().is_err());
    }
}
