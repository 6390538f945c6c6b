//! Writing outbound messages: a row in `pending` plus its `whatsapp.send` job, always in the
//! transaction of the state change that caused them (the transactional outbox).

use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use store::jobs::{self, NewJob};
use store::messages::{self, NewOutbound};
use store::{Engine, StoreError};
use whatsapp::graph::{OutboundMessage, ReplyButton};

use domain::engine::{quote_button_id, QuoteAction};

/// What the send job posts, stored with the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Payload {
    Text {
        to: String,
        body: String,
    },
    Buttons {
        to: String,
        body: String,
        buttons: Vec<(String, String)>,
    },
}

impl Payload {
    pub fn to_graph(&self) -> OutboundMessage {
        match self {
            Payload::Text { to, body } => OutboundMessage::Text {
                to: to.clone(),
                body: body.clone(),
            },
            Payload::Buttons { to, body, buttons } => OutboundMessage::Buttons {
                to: to.clone(),
                body: body.clone(),
                buttons: buttons
                    .iter()
                    .map(|(id, title)| ReplyButton::new(id, title))
                    .collect(),
            },
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Payload::Text { .. } => "text",
            Payload::Buttons { .. } => "buttons",
        }
    }

    pub fn body(&self) -> &str {
        match self {
            Payload::Text { body, .. } | Payload::Buttons { body, .. } => body,
        }
    }
}

/// The reply buttons of quote `number` (titles ≤ 20 characters, Meta's limit). Each id
/// names the quote, so a tap on an old quote's "Confirmar" is never taken for the newest
/// (issue 18 item 2).
pub fn quote_buttons(number: &str) -> Vec<(String, String)> {
    [
        (QuoteAction::Accept, "Confirmar"),
        (QuoteAction::Change, "Alterar"),
        (QuoteAction::Human, "Falar com atendente"),
    ]
    .into_iter()
    .map(|(action, title)| (quote_button_id(action, number), title.to_string()))
    .collect()
}

pub struct Target<'a> {
    pub engine: Engine,
    pub tenant_id: &'a str,
    pub conversation_id: &'a str,
    pub contact_id: &'a str,
    pub request_id: Option<&'a str>,
}

/// Writes one outbound message and its send job. Returns the message id.
pub async fn queue(
    c: &mut AnyConnection,
    t: &Target<'_>,
    payload: &Payload,
    sent_by: Option<&str>,
) -> Result<String, StoreError> {
    let json = serde_json::to_string(payload).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let id = messages::insert_outbound(
        c,
        &NewOutbound {
            tenant_id: t.tenant_id,
            conversation_id: t.conversation_id,
            contact_id: t.contact_id,
            kind: payload.kind(),
            body: payload.body(),
            payload_json: &json,
            sent_by,
            request_id: t.request_id,
        },
    )
    .await?;
    let mut job = NewJob::new(crate::SEND_JOB, serde_json::json!({ "message_id": id }));
    job.tenant_id = Some(t.tenant_id.to_string());
    // Same key as the contact's other jobs: sends go out in the order they were written.
    job.serial_key = Some(t.contact_id.to_string());
    job.request_id = t.request_id.map(str::to_string);
    jobs::enqueue(c, &job).await?;
    Ok(id)
}
