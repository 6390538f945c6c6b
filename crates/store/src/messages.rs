//! Inbound and outbound WhatsApp messages.
//!
//! Inbound: `received` until the worker has handled it, then `processed`.
//! Outbound: `pending` (written with the state change that caused it), `sent` once Meta
//! accepted it (with Meta's id), then `delivered` / `read` from receipts, or `failed` with
//! Meta's error code. The words are [`MessageStatus`]'s; inside SQL they are written out.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use domain::inbound::InboundContent;
use domain::status::{MessageDirection, MessageStatus};

use crate::db::{new_id, now_ms, Db, StoreError};
use crate::text_column;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: String,
    pub tenant_id: String,
    pub conversation_id: String,
    pub contact_id: String,
    pub direction: MessageDirection,
    pub provider_message_id: Option<String>,
    pub kind: String,
    pub body: String,
    pub payload_json: String,
    pub status: MessageStatus,
    pub error_code: Option<i64>,
    pub error_message: Option<String>,
    pub sent_by: Option<String>,
    pub request_id: Option<String>,
    pub created_at: i64,
}

const COLS: &str = "id, tenant_id, conversation_id, contact_id, direction, provider_message_id, kind, body, payload_json, status,
    error_code, error_message, sent_by, request_id, created_at";

fn from_row(r: &AnyRow) -> Result<Message, sqlx::Error> {
    Ok(Message {
        id: r.try_get(0)?,
        tenant_id: r.try_get(1)?,
        conversation_id: r.try_get(2)?,
        contact_id: r.try_get(3)?,
        direction: text_column::parse(r, 4)?,
        provider_message_id: r.try_get(5)?,
        kind: r.try_get(6)?,
        body: r.try_get(7)?,
        payload_json: r.try_get(8)?,
        status: text_column::parse(r, 9)?,
        error_code: r.try_get(10)?,
        error_message: r.try_get(11)?,
        sent_by: r.try_get(12)?,
        request_id: r.try_get(13)?,
        created_at: r.try_get(14)?,
    })
}

impl Message {
    /// An inbound message's content, read back from the columns the webhook stored it in.
    pub fn inbound_content(&self) -> InboundContent {
        InboundContent::from_stored(&self.kind, &self.body, &self.payload_json)
    }
}

pub struct NewInbound<'a> {
    pub tenant_id: &'a str,
    pub conversation_id: &'a str,
    pub contact_id: &'a str,
    pub provider_message_id: &'a str,
    pub kind: &'a str,
    pub body: &'a str,
    pub payload_json: &'a str,
    pub provider_timestamp: i64,
    pub request_id: Option<&'a str>,
}

/// Stores an inbound message once: returns `None` when Meta's id was already stored (a
/// duplicate delivery), which must change nothing.
pub async fn insert_inbound(
    c: &mut AnyConnection,
    m: &NewInbound<'_>,
) -> Result<Option<String>, StoreError> {
    let now = now_ms();
    let row = sqlx::query(
        "INSERT INTO messages (id, tenant_id, conversation_id, contact_id, direction, provider_message_id, kind, body, payload_json,
           status, request_id, provider_timestamp, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 'in', $5, $6, $7, $8, 'received', $9, $10, $11, $11)
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(new_id())
    .bind(m.tenant_id)
    .bind(m.conversation_id)
    .bind(m.contact_id)
    .bind(m.provider_message_id)
    .bind(m.kind)
    .bind(m.body)
    .bind(m.payload_json)
    .bind(m.request_id)
    .bind(m.provider_timestamp)
    .bind(now)
    .fetch_optional(&mut *c)
    .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

/// The conversation's inbound messages the worker has not handled yet, in arrival order.
pub async fn unprocessed_inbound(
    c: &mut AnyConnection,
    tenant_id: &str,
    conversation_id: &str,
) -> Result<Vec<Message>, StoreError> {
    let sql = format!(
        "SELECT {COLS} FROM messages WHERE tenant_id = $1 AND conversation_id = $2 AND direction = 'in' AND status = 'received'
         ORDER BY created_at, id"
    );
    let rows = sqlx::query(&sql)
        .bind(tenant_id)
        .bind(conversation_id)
        .fetch_all(&mut *c)
        .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

pub async fn mark_processed(
    c: &mut AnyConnection,
    tenant_id: &str,
    ids: &[String],
) -> Result<(), StoreError> {
    let now = now_ms();
    for id in ids {
        sqlx::query("UPDATE messages SET status = 'processed', updated_at = $3 WHERE tenant_id = $1 AND id = $2")
            .bind(tenant_id)
            .bind(id)
            .bind(now)
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

pub struct NewOutbound<'a> {
    pub tenant_id: &'a str,
    pub conversation_id: &'a str,
    pub contact_id: &'a str,
    /// `text` or `buttons`.
    pub kind: &'a str,
    pub body: &'a str,
    /// The full outbound message (recipient, buttons) as the sender will post it.
    pub payload_json: &'a str,
    /// The person who wrote it by hand; None for the bot.
    pub sent_by: Option<&'a str>,
    pub request_id: Option<&'a str>,
}

/// Writes an outbound message as `pending`; the caller enqueues the send job in the same
/// transaction.
pub async fn insert_outbound(
    c: &mut AnyConnection,
    m: &NewOutbound<'_>,
) -> Result<String, StoreError> {
    let id = new_id();
    let now = now_ms();
    sqlx::query(
        "INSERT INTO messages (id, tenant_id, conversation_id, contact_id, direction, kind, body, payload_json, status, sent_by,
           request_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 'out', $5, $6, $7, 'pending', $8, $9, $10, $10)",
    )
    .bind(&id)
    .bind(m.tenant_id)
    .bind(m.conversation_id)
    .bind(m.contact_id)
    .bind(m.kind)
    .bind(m.body)
    .bind(m.payload_json)
    .bind(m.sent_by)
    .bind(m.request_id)
    .bind(now)
    .execute(&mut *c)
    .await?;
    Ok(id)
}

pub async fn by_id(
    c: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
) -> Result<Message, StoreError> {
    let sql = format!("SELECT {COLS} FROM messages WHERE tenant_id = $1 AND id = $2");
    let row = sqlx::query(&sql)
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(&mut *c)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(from_row(&row)?)
}

/// Meta accepted the message: remember its id so a retry of the job never sends it again.
/// A receipt that arrived for that id before this commit (kept in `early_receipts`) is
/// applied now; when it was a `failed`, the failure is returned for whoever moves the
/// conversation to a person.
pub async fn mark_sent(
    c: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    provider_message_id: &str,
) -> Result<Option<DeliveryFailure>, StoreError> {
    sqlx::query(
        "UPDATE messages SET status = 'sent', provider_message_id = $3, error_code = NULL, error_message = NULL, updated_at = $4
         WHERE tenant_id = $1 AND id = $2 AND status = 'pending'",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(provider_message_id)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    apply_early_receipts(c, provider_message_id).await
}

/// A permanent send failure (or the last retry failed): kept on the message for the store.
pub async fn mark_failed(
    c: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    code: Option<i64>,
    message: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE messages SET status = 'failed', error_code = $3, error_message = $4, updated_at = $5
         WHERE tenant_id = $1 AND id = $2 AND status = 'pending'",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(code)
    .bind(message)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// What a pending message will be sent as, when the send decides it (a proactive message
/// becomes a WhatsApp message template outside the 24-hour window): kind, the text the
/// transcript shows, and the payload.
pub async fn replace_pending_payload(
    c: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    kind: &str,
    body: &str,
    payload_json: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE messages SET kind = $3, body = $4, payload_json = $5, updated_at = $6
         WHERE tenant_id = $1 AND id = $2 AND status = 'pending'",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(kind)
    .bind(body)
    .bind(payload_json)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// A transient failure: keep it pending but remember the last error for the dashboard.
pub async fn note_error(
    c: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    code: Option<i64>,
    message: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE messages SET error_code = $3, error_message = $4, updated_at = $5 WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .bind(code)
        .bind(message)
        .bind(now_ms())
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Replaces a pending message's payload: a document keeps the media id of its upload, so a
/// retried send does not upload the file again.
pub async fn set_payload(
    c: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    payload_json: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE messages SET payload_json = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(payload_json)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Has a message with this Meta id been stored (a redelivery)?
pub async fn provider_id_known(
    c: &mut AnyConnection,
    provider_message_id: &str,
) -> Result<bool, StoreError> {
    Ok(
        sqlx::query("SELECT 1 FROM messages WHERE provider_message_id = $1")
            .bind(provider_message_id)
            .fetch_optional(&mut *c)
            .await?
            .is_some(),
    )
}

/// Applies a delivery receipt. Receipts can arrive out of order, so a status only climbs
/// [`MessageStatus::receipt_rank`]'s ladder (read stays read when a late "delivered"
/// arrives; `failed` always wins). Returns the tenant id of the message, or None when the id
/// is unknown: then the receipt is kept in `early_receipts` (the send that got this id from
/// Meta may not have committed it yet) and [`mark_sent`] applies it.
pub async fn apply_receipt(
    c: &mut AnyConnection,
    provider_message_id: &str,
    status: MessageStatus,
    error_code: Option<i64>,
    error_message: Option<&str>,
) -> Result<Option<String>, StoreError> {
    let mut row = outbound_status(c, provider_message_id).await?;
    if row.is_none() && lock_receipts_of(c, provider_message_id).await? {
        // Serialized with the send now: look again, it may have just committed.
        row = outbound_status(c, provider_message_id).await?;
    }
    let Some((tenant_id, current)) = row else {
        keep_early(c, provider_message_id, status, error_code, error_message).await?;
        return Ok(None);
    };
    let rank = |s: MessageStatus| s.receipt_rank().unwrap_or(-1);
    if rank(status) > rank(current) {
        // The rank is compared again in the UPDATE: a receipt committed by a concurrent
        // transaction after the SELECT above must not be overwritten by a lower one.
        let sql = format!(
            "UPDATE messages SET status = $2, error_code = COALESCE($3, error_code), error_message = COALESCE($4, error_message), updated_at = $5
             WHERE provider_message_id = $1 AND direction = 'out' AND {} < $6",
            receipt_rank_sql()
        );
        sqlx::query(&sql)
            .bind(provider_message_id)
            .bind(status.as_str())
            .bind(error_code)
            .bind(error_message)
            .bind(now_ms())
            .bind(rank(status))
            .execute(&mut *c)
            .await?;
    }
    Ok(Some(tenant_id))
}

async fn outbound_status(
    c: &mut AnyConnection,
    provider_message_id: &str,
) -> Result<Option<(String, MessageStatus)>, StoreError> {
    let row = sqlx::query(
        "SELECT tenant_id, status FROM messages WHERE provider_message_id = $1 AND direction = 'out'",
    )
    .bind(provider_message_id)
    .fetch_optional(&mut *c)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let tenant_id: String = r.try_get(0)?;
    let status: MessageStatus = text_column::parse(&r, 1)?;
    Ok(Some((tenant_id, status)))
}

/// On PostgreSQL, a transaction lock on one Meta id, taken by the receipt that finds no
/// message and by the send that records the id (the same key as
/// `orcazap_record_deliveries`, migration 0006): whichever commits first, the other sees
/// it, so an early receipt is never left behind. Returns whether a lock was taken. SQLite
/// has one writer: its transactions never interleave.
async fn lock_receipts_of(
    c: &mut AnyConnection,
    provider_message_id: &str,
) -> Result<bool, StoreError> {
    if c.backend_name() != "PostgreSQL" {
        return Ok(false);
    }
    sqlx::query("SELECT pg_advisory_xact_lock(18006, hashtext($1))")
        .bind(provider_message_id)
        .execute(&mut *c)
        .await?;
    Ok(true)
}

/// Keeps a receipt for an id no message has yet: one row per id, holding the furthest
/// status on the ladder.
async fn keep_early(
    c: &mut AnyConnection,
    provider_message_id: &str,
    status: MessageStatus,
    error_code: Option<i64>,
    error_message: Option<&str>,
) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO early_receipts (provider_message_id, status, error_code, error_message, received_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (provider_message_id) DO UPDATE SET
           status = excluded.status,
           error_code = COALESCE(excluded.error_code, early_receipts.error_code),
           error_message = COALESCE(excluded.error_message, early_receipts.error_message),
           received_at = excluded.received_at
         WHERE {} < {}",
        receipt_rank_sql_of("early_receipts.status"),
        receipt_rank_sql_of("excluded.status"),
    );
    sqlx::query(&sql)
        .bind(provider_message_id)
        .bind(status.as_str())
        .bind(error_code)
        .bind(error_message)
        .bind(now_ms())
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Applies (once) the receipts kept for an id that a send has just recorded. Returns the
/// failure when the message ends up `failed` because of them.
async fn apply_early_receipts(
    c: &mut AnyConnection,
    provider_message_id: &str,
) -> Result<Option<DeliveryFailure>, StoreError> {
    lock_receipts_of(c, provider_message_id).await?;
    let kept = sqlx::query(
        "DELETE FROM early_receipts WHERE provider_message_id = $1
         RETURNING status, error_code, error_message",
    )
    .bind(provider_message_id)
    .fetch_optional(&mut *c)
    .await?;
    let Some(kept) = kept else { return Ok(None) };
    let status: MessageStatus = text_column::parse(&kept, 0)?;
    let error_code: Option<i64> = kept.try_get(1)?;
    let error_message: Option<String> = kept.try_get(2)?;
    apply_receipt(
        c,
        provider_message_id,
        status,
        error_code,
        error_message.as_deref(),
    )
    .await?;
    Ok(failed_deliveries(c, &[provider_message_id.to_string()])
        .await?
        .pop())
}

/// An outbound message Meta reported as `failed`: what the step that hands the conversation
/// to a person needs (issue 18 item 6). `kind` is the message's stored kind (`text`,
/// `buttons`…); whether it carried a quote or a confirmation is read from its conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryFailure {
    pub tenant_id: String,
    pub message_id: String,
    pub conversation_id: String,
    pub kind: String,
    pub error_code: Option<i64>,
    pub error_message: Option<String>,
}

/// Of these Meta ids, the outbound messages that are now `failed` (after their receipts were
/// applied). The webhook asks this after storing a delivery with `failed` receipts; a
/// redelivered receipt names the same message again, so whoever acts on it must be
/// idempotent.
pub async fn failed_deliveries(
    c: &mut AnyConnection,
    provider_message_ids: &[String],
) -> Result<Vec<DeliveryFailure>, StoreError> {
    let mut out = Vec::new();
    for wamid in provider_message_ids {
        let row = sqlx::query(
            "SELECT tenant_id, id, conversation_id, kind, error_code, error_message FROM messages
             WHERE provider_message_id = $1 AND direction = 'out' AND status = 'failed'",
        )
        .bind(wamid)
        .fetch_optional(&mut *c)
        .await?;
        if let Some(r) = row {
            out.push(DeliveryFailure {
                tenant_id: r.try_get(0)?,
                message_id: r.try_get(1)?,
                conversation_id: r.try_get(2)?,
                kind: r.try_get(3)?,
                error_code: r.try_get(4)?,
                error_message: r.try_get(5)?,
            });
        }
    }
    Ok(out)
}

/// Drops early receipts older than `older_than_ms` whose message never appeared (sent by
/// another app on the same number, or a send that never recorded its id). Returns how many.
pub async fn purge_early_receipts(db: &Db, older_than_ms: i64) -> Result<u64, StoreError> {
    Ok(
        sqlx::query("DELETE FROM early_receipts WHERE received_at < $1")
            .bind(now_ms() - older_than_ms)
            .execute(db.write())
            .await?
            .rows_affected(),
    )
}

/// [`MessageStatus::receipt_rank`] of the `status` column, as SQL.
fn receipt_rank_sql() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| receipt_rank_sql_of("status"))
}

/// [`MessageStatus::receipt_rank`] of a status column (`column` is ours, never input).
fn receipt_rank_sql_of(column: &str) -> String {
    let whens: String = MessageStatus::ALL
        .iter()
        .filter_map(|s| Some(format!(" WHEN '{}' THEN {}", s.as_str(), s.receipt_rank()?)))
        .collect();
    format!("(CASE {column}{whens} ELSE -1 END)")
}

/// The transcript of a conversation, oldest first.
pub async fn for_conversation(
    db: &Db,
    tenant_id: &str,
    conversation_id: &str,
    limit: i64,
) -> Result<Vec<Message>, StoreError> {
    let sql = format!(
        "SELECT {COLS} FROM (SELECT * FROM messages WHERE tenant_id = $1 AND conversation_id = $2 ORDER BY created_at DESC, id DESC LIMIT $3) m
         ORDER BY created_at, id"
    );
    let rows = sqlx::query(&sql)
        .bind(tenant_id)
        .bind(conversation_id)
        .bind(limit)
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// Outbound messages to one WhatsApp number after a time (the demo simulator's chat).
pub async fn outbound_for_wa_id(
    db: &Db,
    tenant_id: &str,
    wa_id: &str,
    after_ms: i64,
) -> Result<Vec<Message>, StoreError> {
    for_wa_id(db, tenant_id, None, wa_id, after_ms, true).await
}

/// [`outbound_for_wa_id`] and [`chat_with_wa_id`] on one channel only: a store's test chat
/// (issue 17) never shows what the bot told a real customer with the same number.
pub async fn outbound_for_wa_id_on(
    db: &Db,
    tenant_id: &str,
    channel_id: &str,
    wa_id: &str,
    after_ms: i64,
) -> Result<Vec<Message>, StoreError> {
    for_wa_id(db, tenant_id, Some(channel_id), wa_id, after_ms, true).await
}

pub async fn chat_with_wa_id_on(
    db: &Db,
    tenant_id: &str,
    channel_id: &str,
    wa_id: &str,
    after_ms: i64,
) -> Result<Vec<Message>, StoreError> {
    for_wa_id(db, tenant_id, Some(channel_id), wa_id, after_ms, false).await
}

/// Every message with one WhatsApp number after a time, both ways, oldest first: the
/// simulator's whole chat after a page reload (issue 12 item 11).
pub async fn chat_with_wa_id(
    db: &Db,
    tenant_id: &str,
    wa_id: &str,
    after_ms: i64,
) -> Result<Vec<Message>, StoreError> {
    for_wa_id(db, tenant_id, None, wa_id, after_ms, false).await
}

async fn for_wa_id(
    db: &Db,
    tenant_id: &str,
    channel_id: Option<&str>,
    wa_id: &str,
    after_ms: i64,
    outbound_only: bool,
) -> Result<Vec<Message>, StoreError> {
    let direction = if outbound_only {
        "AND direction = 'out'"
    } else {
        ""
    };
    let channel = if channel_id.is_some() {
        "AND conversation_id IN (SELECT id FROM conversations WHERE tenant_id = $1 AND channel_id = $4)"
    } else {
        ""
    };
    let sql = format!(
        "SELECT {COLS} FROM messages WHERE tenant_id = $1 {direction} {channel} AND created_at > $3
         AND contact_id = (SELECT id FROM contacts WHERE tenant_id = $1 AND wa_id = $2) ORDER BY created_at, id"
    );
    let mut q = sqlx::query(&sql).bind(tenant_id).bind(wa_id).bind(after_ms);
    if let Some(ch) = channel_id {
        q = q.bind(ch);
    }
    let rows = q.fetch_all(db.read()).await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// One of our messages by Meta's id (what a reply's `context.id` names), within the store.
pub async fn outbound_by_provider_id(
    c: &mut AnyConnection,
    tenant_id: &str,
    provider_message_id: &str,
) -> Result<Option<Message>, StoreError> {
    let sql = format!(
        "SELECT {COLS} FROM messages WHERE provider_message_id = $1 AND tenant_id = $2 AND direction = 'out'"
    );
    let row = sqlx::query(&sql)
        .bind(provider_message_id)
        .bind(tenant_id)
        .fetch_optional(&mut *c)
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}
