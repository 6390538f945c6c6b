//! Incoming webhooks: normalized event types, the parser, and builders of Meta-format
//! payloads for the simulator and load tests.

mod build;
mod model;
mod parse;

pub use build::{
    build_button_reply_webhook, build_list_reply_webhook, build_media_webhook,
    build_status_webhook, build_template_status_webhook, build_text_webhook, MediaRef,
    SIMULATED_WABA_ID,
};
pub use model::{
    DeliveryStatus, GraphErrorInfo, InboundMessage, MessageContent, SharedContact, StatusUpdate,
    TemplateStatusUpdate, Unreadable, WebhookEvent,
};
pub use parse::{
    parse_delivery, parse_webhook, WebhookParseError, MESSAGES_FIELD, TEMPLATE_STATUS_FIELD,
    WHATSAPP_OBJECT,
};
