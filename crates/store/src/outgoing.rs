//! What a `whatsapp.send` job needs about one outbound message, in one statement: the
//! message, its conversation's 24 h window and the store's number it goes out from.
//!
//! It was three reads (message, conversation, channel), three round trips per reply; a
//! drain is bound by round trips, not rows (issue 14), so the send path reads them joined.

use domain::status::MessageStatus;
use sqlx::Row;

use crate::db::{Db, StoreError};
use crate::text_column;

/// One outbound message with what sending it needs.
#[derive(Clone)]
pub struct Outgoing {
    pub id: String,
    pub conversation_id: String,
    /// The conversation's customer (opt-out is per contact: `worker::proactive`).
    pub contact_id: String,
    pub status: MessageStatus,
    pub payload_json: String,
    /// The conversation's customer-service window (unix ms), as on `conversations`.
    pub window_expires_at: Option<i64>,
    pub channel_id: String,
    pub phone_number_id: String,
    /// AEAD ciphertext (`crate::crypto`); never the plain token.
    pub access_token_enc: Option<String>,
    /// Meta's last account-level refusal of the number, if any (`channels.last_error_code`).
    pub last_error_code: Option<i64>,
}

impl std::fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outgoing")
            .field("id", &self.id)
            .field("status", &self.status)
            .field("channel_id", &self.channel_id)
            .field(
                "access_token_enc",
                &self.access_token_enc.as_ref().map(|_| "[encrypted]"),
            )
            .finish_non_exhaustive()
    }
}

/// The message `message_id` of the store with its conversation and channel. `NotFound` when
/// the message, its conversation or its channel is missing (each would fail every attempt
/// the same way).
pub async fn load(db: &Db, tenant_id: &str, message_id: &str) -> Result<Outgoing, StoreError> {
    let row = sqlx::query(
        "SELECT m.id, m.conversation_id, m.status, m.payload_json, c.window_expires_at,
                ch.id, ch.phone_number_id, ch.access_token_enc, ch.last_error_code, c.contact_id
         FROM messages m
         JOIN conversations c ON c.tenant_id = m.tenant_id AND c.id = m.conversation_id
         JOIN channels ch ON ch.tenant_id = c.tenant_id AND ch.id = c.channel_id
         WHERE m.tenant_id = $1 AND m.id = $2",
    )
    .bind(tenant_id)
    .bind(message_id)
    .fetch_optional(db.read())
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok(Outgoing {
        id: row.try_get(0)?,
        conversation_id: row.try_get(1)?,
        status: text_column::parse(&row, 2)?,
        payload_json: row.try_get(3)?,
        window_expires_at: row.try_get(4)?,
        channel_id: row.try_get(5)?,
        phone_number_id: row.try_get(6)?,
        access_token_enc: row.try_get(7)?,
        last_error_code: row.try_get(8)?,
        contact_id: row.try_get(9)?,
    })
}
