//! Recording one inbound WhatsApp message: the webhook's whole database work for it.
//!
//! Contact, open conversation, the message (once per Meta id) and the
//! `conversation.advance` job are written by the caller's single transaction, so a message
//! is never stored without the job that answers it.

use sqlx::AnyConnection;

use crate::db::{Engine, StoreError};
use crate::jobs::{self, NewJob};
use crate::{conversations, messages};

pub const ADVANCE_JOB: &str = "conversation.advance";

pub struct InboundRecord<'a> {
    pub tenant_id: &'a str,
    pub channel_id: &'a str,
    pub wa_id: &'a str,
    pub contact_name: &'a str,
    pub provider_message_id: &'a str,
    pub kind: &'a str,
    pub body: &'a str,
    pub payload_json: &'a str,
    /// Meta's timestamp, unix seconds.
    pub provider_timestamp: i64,
    pub received_at_ms: i64,
    pub request_id: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub message_id: String,
    pub conversation_id: String,
    pub contact_id: String,
}

/// Returns None for a duplicate delivery (nothing changed).
///
/// Round trips matter more than anything else on this path, so the common case is four
/// statements: contact upsert, conversation touch, message insert, job insert. A duplicate
/// is found by the message insert (Meta's id is unique) and the touch is undone.
pub async fn record(
    c: &mut AnyConnection,
    engine: Engine,
    m: &InboundRecord<'_>,
) -> Result<Option<Recorded>, StoreError> {
    let contact_id =
        conversations::upsert_contact(c, m.tenant_id, m.wa_id, m.contact_name, m.received_at_ms)
            .await?;
    let (conversation_id, created) = open_and_touch(c, m, &contact_id).await?;
    let inserted = messages::insert_inbound(
        c,
        &messages::NewInbound {
            tenant_id: m.tenant_id,
            conversation_id: &conversation_id,
            contact_id: &contact_id,
            provider_message_id: m.provider_message_id,
            kind: m.kind,
            body: m.body,
            payload_json: m.payload_json,
            provider_timestamp: m.provider_timestamp,
            request_id: m.request_id,
        },
    )
    .await?;
    let Some(message_id) = inserted else {
        // Meta delivered this message before: it changes nothing.
        conversations::undo_inbound(c, m.tenant_id, &conversation_id, created).await?;
        return Ok(None);
    };
    let mut job = NewJob::new(
        ADVANCE_JOB,
        serde_json::json!({ "conversation_id": conversation_id }),
    );
    job.tenant_id = Some(m.tenant_id.to_string());
    job.serial_key = Some(contact_id.clone());
    job.request_id = m.request_id.map(str::to_string);
    jobs::enqueue(c, engine, &job).await?;
    Ok(Some(Recorded {
        message_id,
        conversation_id,
        contact_id,
    }))
}

/// The contact's open conversation, touched for this message, or a new one. Returns
/// (id, created here).
async fn open_and_touch(
    c: &mut AnyConnection,
    m: &InboundRecord<'_>,
    contact_id: &str,
) -> Result<(String, bool), StoreError> {
    for _ in 0..3 {
        if let Some(id) =
            conversations::touch_open(c, m.tenant_id, contact_id, m.received_at_ms).await?
        {
            return Ok((id, false));
        }
        if let Some(id) =
            conversations::create_open(c, m.tenant_id, contact_id, m.channel_id, m.received_at_ms)
                .await?
        {
            return Ok((id, true));
        }
        // A concurrent delivery opened it between the two statements: touch that one.
    }
    Err(StoreError::Conflict(
        "could not open a conversation for the contact".into(),
    ))
}
