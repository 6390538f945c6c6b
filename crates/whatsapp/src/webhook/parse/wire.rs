//! Meta's webhook JSON as serde reads it: every field we use, nothing we don't (unknown fields
//! are ignored). [`super`] turns these into [`WebhookEvent`](crate::webhook::WebhookEvent)s.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{malformed, WebhookParseError};
use crate::webhook::model::GraphErrorInfo;

#[derive(Deserialize)]
pub(super) struct WirePayload {
    pub(super) object: String,
    pub(super) entry: Vec<WireEntry>,
}

#[derive(Deserialize)]
pub(super) struct WireEntry {
    /// The WhatsApp Business Account (what template reviews are routed by).
    #[serde(default)]
    pub(super) id: String,
    pub(super) changes: Vec<WireChange>,
}

/// `message_template_status_update`'s value.
#[derive(Deserialize)]
pub(super) struct WireTemplateStatus {
    pub(super) event: String,
    #[serde(default)]
    pub(super) message_template_id: serde_json::Value,
    pub(super) message_template_name: String,
    pub(super) message_template_language: String,
    #[serde(default)]
    pub(super) reason: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct WireChange {
    pub(super) field: String,
    #[serde(default)]
    pub(super) value: Option<Box<RawValue>>,
}

#[derive(Deserialize)]
pub(super) struct WireMessagesValue {
    pub(super) metadata: WireMetadata,
    #[serde(default)]
    pub(super) contacts: Vec<WireContact>,
    // Kept raw so one message with odd content doesn't fail its siblings.
    #[serde(default)]
    pub(super) messages: Vec<Box<RawValue>>,
    // Raw too: one receipt without an id must not lose the others.
    #[serde(default)]
    pub(super) statuses: Vec<Box<RawValue>>,
}

#[derive(Deserialize)]
pub(super) struct WireMetadata {
    #[serde(default)]
    pub(super) display_phone_number: String,
    pub(super) phone_number_id: String,
}

/// For non-`messages` fields: their value has any shape; take the channel if it's there.
#[derive(Deserialize)]
pub(super) struct WireAnyValue {
    #[serde(default)]
    pub(super) metadata: Option<WireAnyMetadata>,
}

#[derive(Deserialize)]
pub(super) struct WireAnyMetadata {
    #[serde(default)]
    pub(super) phone_number_id: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct WireContact {
    #[serde(default)]
    pub(super) wa_id: Option<String>,
    #[serde(default)]
    pub(super) user_id: Option<String>,
    #[serde(default)]
    pub(super) profile: Option<WireProfile>,
}

#[derive(Deserialize)]
pub(super) struct WireProfile {
    #[serde(default)]
    pub(super) name: Option<String>,
    #[serde(default)]
    pub(super) username: Option<String>,
}

/// The parts of a message we need to route and deduplicate it: strict. The sender is
/// `from` (phone), `from_user_id` (business-scoped user id), or both.
#[derive(Deserialize)]
pub(super) struct WireMessageHeader {
    #[serde(default)]
    pub(super) from: Option<String>,
    #[serde(default)]
    pub(super) from_user_id: Option<String>,
    pub(super) id: String,
    pub(super) timestamp: WireTimestamp,
    #[serde(rename = "type")]
    pub(super) kind: String,
    #[serde(default)]
    pub(super) context: Option<WireContext>,
}

#[derive(Deserialize)]
pub(super) struct WireContext {
    #[serde(default)]
    pub(super) id: Option<String>,
}

/// Meta sends timestamps as decimal strings; accept a bare number too.
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum WireTimestamp {
    Text(String),
    Number(i64),
}

impl WireTimestamp {
    pub(super) fn seconds(&self) -> Result<i64, WebhookParseError> {
        match self {
            WireTimestamp::Number(n) => Ok(*n),
            WireTimestamp::Text(s) => s
                .trim()
                .parse::<i64>()
                .map_err(|_| malformed("timestamp is not a whole number of seconds")),
        }
    }
}

/// The content of a message: lenient, every part optional.
#[derive(Deserialize)]
pub(super) struct WireMessageBody {
    #[serde(default)]
    pub(super) text: Option<WireText>,
    #[serde(default)]
    pub(super) interactive: Option<WireInteractive>,
    #[serde(default)]
    pub(super) button: Option<WireLegacyButton>,
    #[serde(default)]
    pub(super) image: Option<WireMedia>,
    #[serde(default)]
    pub(super) audio: Option<WireMedia>,
    #[serde(default)]
    pub(super) location: Option<WireLocation>,
    #[serde(default)]
    pub(super) reaction: Option<WireReaction>,
    #[serde(default)]
    pub(super) document: Option<WireDocument>,
    #[serde(default)]
    pub(super) sticker: Option<WireSticker>,
    #[serde(default)]
    pub(super) contacts: Option<Vec<WireSharedContact>>,
    #[serde(default)]
    pub(super) system: Option<WireSystem>,
    #[serde(default)]
    pub(super) errors: Vec<WireError>,
}

#[derive(Deserialize)]
pub(super) struct WireDocument {
    pub(super) id: String,
    #[serde(default)]
    pub(super) filename: Option<String>,
    #[serde(default)]
    pub(super) caption: Option<String>,
    #[serde(default)]
    pub(super) mime_type: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct WireSticker {
    pub(super) id: String,
    #[serde(default)]
    pub(super) animated: Option<bool>,
}

#[derive(Deserialize)]
pub(super) struct WireSharedContact {
    #[serde(default)]
    pub(super) name: Option<WireSharedName>,
    #[serde(default)]
    pub(super) phones: Vec<WireSharedPhone>,
}

#[derive(Deserialize)]
pub(super) struct WireSharedName {
    #[serde(default)]
    pub(super) formatted_name: Option<String>,
    #[serde(default)]
    pub(super) first_name: Option<String>,
    #[serde(default)]
    pub(super) last_name: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct WireSharedPhone {
    #[serde(default)]
    pub(super) phone: Option<String>,
    #[serde(default)]
    pub(super) wa_id: Option<String>,
}

/// `system` messages: Meta's current form has `wa_id`; older payloads said `new_wa_id`.
#[derive(Deserialize)]
pub(super) struct WireSystem {
    #[serde(default)]
    pub(super) body: Option<String>,
    #[serde(rename = "type", default)]
    pub(super) kind: Option<String>,
    #[serde(default)]
    pub(super) wa_id: Option<String>,
    #[serde(default)]
    pub(super) new_wa_id: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct WireText {
    pub(super) body: String,
}

#[derive(Deserialize)]
pub(super) struct WireInteractive {
    #[serde(rename = "type")]
    pub(super) kind: String,
    #[serde(default)]
    pub(super) button_reply: Option<WireReply>,
    #[serde(default)]
    pub(super) list_reply: Option<WireReply>,
}

#[derive(Deserialize)]
pub(super) struct WireReply {
    pub(super) id: String,
    pub(super) title: String,
    #[serde(default)]
    pub(super) description: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct WireLegacyButton {
    #[serde(default)]
    pub(super) payload: Option<String>,
    #[serde(default)]
    pub(super) text: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct WireMedia {
    pub(super) id: String,
    #[serde(default)]
    pub(super) caption: Option<String>,
    #[serde(default)]
    pub(super) mime_type: Option<String>,
    #[serde(default)]
    pub(super) voice: Option<bool>,
}

#[derive(Deserialize)]
pub(super) struct WireLocation {
    pub(super) latitude: Box<RawValue>,
    pub(super) longitude: Box<RawValue>,
    #[serde(default)]
    pub(super) name: Option<String>,
    #[serde(default)]
    pub(super) address: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct WireReaction {
    pub(super) message_id: String,
    #[serde(default)]
    pub(super) emoji: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct WireStatus {
    pub(super) id: String,
    pub(super) status: String,
    pub(super) timestamp: WireTimestamp,
    #[serde(default)]
    pub(super) recipient_id: Option<String>,
    #[serde(default)]
    pub(super) recipient_user_id: Option<String>,
    #[serde(default)]
    pub(super) errors: Vec<WireError>,
}

#[derive(Deserialize)]
pub(super) struct WireError {
    #[serde(default)]
    pub(super) code: Option<i64>,
    #[serde(default)]
    pub(super) title: Option<String>,
    #[serde(default)]
    pub(super) message: Option<String>,
    #[serde(default)]
    pub(super) error_data: Option<WireErrorData>,
}

#[derive(Deserialize)]
pub(super) struct WireErrorData {
    #[serde(default)]
    pub(super) details: Option<String>,
}

impl WireError {
    pub(super) fn info(&self) -> Option<GraphErrorInfo> {
        Some(GraphErrorInfo {
            code: self.code?,
            title: self
                .title
                .clone()
                .or_else(|| self.message.clone())
                .unwrap_or_default(),
            details: self.error_data.as_ref().and_then(|d| d.details.clone()),
        })
    }
}
