//! Normalized webhook events: what the rest of the product works with, independent of
//! Meta's nesting (`entry[].changes[].value`).

use std::fmt;
use std::str::FromStr;

/// One thing a webhook delivery told us, in payload order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookEvent {
    Message(InboundMessage),
    Status(StatusUpdate),
    /// Changes we don't act on (quality updates, template reviews, account events,
    /// unknown delivery statuses…). Kept so the web layer can record them.
    Ignored {
        phone_number_id: Option<String>,
        field: String,
    },
    /// A message, receipt or change inside a WhatsApp payload that we could not read (no
    /// sender, no id, a timestamp that is not a number, a `messages` change without its
    /// channel…). Its neighbours are still delivered; this one is recorded for the operator
    /// (log, metric, the raw body kept with the event) instead of failing the whole delivery,
    /// which Meta would redeliver for days.
    Unreadable(Unreadable),
    /// Meta's review of a WhatsApp message template changed (`message_template_status_update`):
    /// approved, rejected, paused, disabled… Routed by the business account (`waba_id`), not a
    /// phone number.
    TemplateStatus(TemplateStatusUpdate),
}

/// One `message_template_status_update` change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateStatusUpdate {
    /// `entry[].id`: the WhatsApp Business Account.
    pub waba_id: String,
    /// `message_template_id` (Meta sends a number; kept as its decimal text).
    pub template_id: String,
    pub name: String,
    pub language: String,
    /// `APPROVED`, `REJECTED`, `PAUSED`, `DISABLED`, `PENDING_DELETION`…
    pub event: String,
    /// Meta's reason (`NONE` when there is none), e.g. `INCORRECT_CATEGORY`.
    pub reason: Option<String>,
}

/// What could not be read, with what little we know about it. `reason` never quotes the
/// payload (customer data stays out of logs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub phone_number_id: Option<String>,
    /// Meta's id of the message or receipt, when it had a readable one.
    pub wamid: Option<String>,
    /// `message`, `status` or `change`.
    pub part: &'static str,
    pub reason: String,
}

impl WebhookEvent {
    /// The channel the event belongs to, when the payload says.
    pub fn phone_number_id(&self) -> Option<&str> {
        match self {
            WebhookEvent::Message(m) => Some(&m.phone_number_id),
            WebhookEvent::Status(s) => Some(&s.phone_number_id),
            WebhookEvent::Ignored {
                phone_number_id, ..
            } => phone_number_id.as_deref(),
            WebhookEvent::Unreadable(u) => u.phone_number_id.as_deref(),
            WebhookEvent::TemplateStatus(_) => None,
        }
    }
}

impl InboundMessage {
    /// Where a reply goes: the phone (`wa_id`) when Meta gave it, which Meta recommends, or
    /// else the business-scoped user id (sent as Graph's `recipient`).
    pub fn reply_address(&self) -> &str {
        match &self.from_user_id {
            Some(user_id) if self.from.is_empty() => user_id,
            _ => &self.from,
        }
    }
}

/// A customer's message to a store's number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMessage {
    /// The store's channel (`metadata.phone_number_id`): how we find the tenant.
    pub phone_number_id: String,
    pub display_phone_number: String,
    /// Meta's message id: the idempotency key for duplicate deliveries.
    pub wamid: String,
    /// The customer's `wa_id` exactly as Meta sent it. Brazilian numbers sometimes come
    /// without the mobile 9th digit; replies must go to this exact value. Empty when Meta
    /// withheld the phone number (a user with a WhatsApp username): then `from_user_id` is
    /// the only way to reach them.
    pub from: String,
    /// The business-scoped user id (BSUID, e.g. `BR.1502576394655843`) Meta sends since
    /// 2026 as `from_user_id` (and `contacts[].user_id`): stable for this business, sent
    /// whether or not the user has a username.
    pub from_user_id: Option<String>,
    /// The WhatsApp profile name, when Meta included the contact.
    pub contact_name: Option<String>,
    /// The user's WhatsApp username (`contacts[].profile.username`), when they have one.
    /// Users may change it: for display only, never an identity.
    pub username: Option<String>,
    /// Unix seconds, as Meta stamped the message.
    pub timestamp: i64,
    pub content: MessageContent,
    /// The message this one replies to (button taps carry the quote they answer).
    pub context_wamid: Option<String>,
}

/// What a customer sent, reduced to what the product can use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageContent {
    Text {
        body: String,
    },
    /// A tap on a reply button we sent (`interactive.button_reply`), or the legacy
    /// template quick-reply `type: "button"` (`payload` → `id`, `text` → `title`).
    Button {
        id: String,
        title: String,
    },
    ListReply {
        id: String,
        title: String,
        description: Option<String>,
    },
    Image {
        media_id: String,
        caption: Option<String>,
        mime_type: String,
    },
    Audio {
        media_id: String,
        voice: bool,
    },
    /// Coordinates kept as the decimal text Meta sent: nothing here needs arithmetic on
    /// them, and text avoids float round-trips.
    Location {
        latitude: String,
        longitude: String,
        name: Option<String>,
        address: Option<String>,
    },
    /// An emoji reaction to one of our messages; an empty `emoji` means it was removed.
    Reaction {
        emoji: String,
        message_id: String,
    },
    /// A file (a PDF list of materials, a photo of a list sent as a file…).
    Document {
        media_id: String,
        filename: Option<String>,
        caption: Option<String>,
        mime_type: String,
    },
    /// Contact cards the customer shared: each with its formatted name and phones.
    Contacts {
        cards: Vec<SharedContact>,
    },
    Sticker {
        media_id: String,
        animated: bool,
    },
    /// A system notice about the sender: `user_changed_number` carries the new `wa_id`.
    System {
        kind: String,
        body: String,
        new_wa_id: Option<String>,
    },
    /// Anything else: videos, orders, `unsupported`…
    /// `kind` is Meta's `type` (for interactive replies we don't know,
    /// `interactive/<subtype>`); `error_code` is Meta's first error code, if any.
    Unsupported {
        kind: String,
        error_code: Option<i64>,
    },
}

impl MessageContent {
    /// The text the understanding step should read, if the message carries any.
    ///
    /// Button and list replies give their title (what the customer saw and tapped); the
    /// caller should look at their `id` first, which is the reliable intent. Images give
    /// their caption, locations their address (or name). Audio, reactions and unsupported
    /// messages carry no text.
    pub fn text_for_understanding(&self) -> Option<String> {
        let text = match self {
            MessageContent::Text { body } => Some(body.as_str()),
            MessageContent::Button { title, .. } => Some(title.as_str()),
            MessageContent::ListReply { title, .. } => Some(title.as_str()),
            MessageContent::Image { caption, .. } => caption.as_deref(),
            // A document's caption is for the person who opens the file, not the bot.
            MessageContent::Document { .. }
            | MessageContent::Contacts { .. }
            | MessageContent::Sticker { .. }
            | MessageContent::System { .. } => None,
            MessageContent::Location { name, address, .. } => {
                non_blank(address.as_deref()).or(non_blank(name.as_deref()))
            }
            MessageContent::Audio { .. }
            | MessageContent::Reaction { .. }
            | MessageContent::Unsupported { .. } => None,
        };
        non_blank(text).map(str::to_string)
    }

    /// Stable, low-cardinality name of the content kind (for storage, logs and metrics).
    pub fn kind(&self) -> &'static str {
        match self {
            MessageContent::Text { .. } => "text",
            MessageContent::Button { .. } => "button",
            MessageContent::ListReply { .. } => "list_reply",
            MessageContent::Image { .. } => "image",
            MessageContent::Audio { .. } => "audio",
            MessageContent::Location { .. } => "location",
            MessageContent::Reaction { .. } => "reaction",
            MessageContent::Document { .. } => "document",
            MessageContent::Contacts { .. } => "contacts",
            MessageContent::Sticker { .. } => "sticker",
            MessageContent::System { .. } => "system",
            MessageContent::Unsupported { .. } => "unsupported",
        }
    }
}

/// One shared contact card: `name.formatted_name` and its phones (`phone`, as typed in the
/// customer's address book).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedContact {
    pub name: String,
    pub phones: Vec<String>,
}

fn non_blank(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.trim().is_empty())
}

/// A delivery receipt for a message we sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusUpdate {
    pub phone_number_id: String,
    /// The id Meta gave our outbound message when we sent it.
    pub wamid: String,
    pub status: DeliveryStatus,
    /// Unix seconds.
    pub timestamp: i64,
    /// The customer's `wa_id` (empty if Meta left it out: a message sent to a user id).
    pub recipient_id: String,
    /// The customer's business-scoped user id (`recipient_user_id`), when Meta sent it.
    pub recipient_user_id: Option<String>,
    /// Why a `failed` message failed (Meta's first error).
    pub error: Option<GraphErrorInfo>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeliveryStatus {
    Sent,
    Delivered,
    Read,
    Failed,
}

impl DeliveryStatus {
    /// Meta's spelling, also what we store.
    pub fn as_str(&self) -> &'static str {
        match self {
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Read => "read",
            DeliveryStatus::Failed => "failed",
        }
    }
}

impl fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DeliveryStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sent" => Ok(DeliveryStatus::Sent),
            "delivered" => Ok(DeliveryStatus::Delivered),
            "read" => Ok(DeliveryStatus::Read),
            "failed" => Ok(DeliveryStatus::Failed),
            other => Err(format!("unknown delivery status {other:?}")),
        }
    }
}

/// An error Meta attached to a status receipt (or an unsupported message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphErrorInfo {
    pub code: i64,
    pub title: String,
    /// `error_data.details`: the human explanation, when present.
    pub details: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_for_understanding_per_kind() {
        let text = MessageContent::Text {
            body: "10 sc cimento".into(),
        };
        assert_eq!(
            text.text_for_understanding().as_deref(),
            Some("10 sc cimento")
        );
        let blank = MessageContent::Text { body: "  ".into() };
        assert_eq!(blank.text_for_understanding(), None);
        let image = MessageContent::Image {
            media_id: "1".into(),
            caption: None,
            mime_type: "image/jpeg".into(),
        };
        assert_eq!(image.text_for_understanding(), None);
        let loc = MessageContent::Location {
            latitude: "-23.5".into(),
            longitude: "-46.6".into(),
            name: Some("Obra".into()),
            address: None,
        };
        assert_eq!(loc.text_for_understanding().as_deref(), Some("Obra"));
        let audio = MessageContent::Audio {
            media_id: "1".into(),
            voice: true,
        };
        assert_eq!(audio.text_for_understanding(), None);
        assert_eq!(audio.kind(), "audio");
    }

    #[test]
    fn delivery_status_round_trips() {
        for s in [
            DeliveryStatus::Sent,
            DeliveryStatus::Delivered,
            DeliveryStatus::Read,
            DeliveryStatus::Failed,
        ] {
            assert_eq!(s.as_str().parse::<DeliveryStatus>(), Ok(s));
        }
        assert!("deleted".parse::<DeliveryStatus>().is_err());
    }
}
