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
    if engine == Engine::Postgres {
        return record_postgres(c, m).await;
    }
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

/// PostgreSQL does the same work in two statements, with data-modifying CTEs (which SQLite
/// lacks): contact upsert + conversation touch, then message insert + job insert + NOTIFY.
/// The behaviour is the one of the portable path above; the conformance and pipeline
/// suites run both.
async fn record_postgres(
    c: &mut AnyConnection,
    m: &InboundRecord<'_>,
) -> Result<Option<Recorded>, StoreError> {
    use sqlx::Row;
    let at = m.received_at_ms;
    let row = sqlx::query(
        "WITH k AS (
           INSERT INTO contacts (id, tenant_id, wa_id, name, last_inbound_at, created_at) VALUES ($1, $2, $3, $4, $5, $5)
           ON CONFLICT (tenant_id, wa_id) DO UPDATE SET
             name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE contacts.name END,
             last_inbound_at = excluded.last_inbound_at
           RETURNING id),
         u AS (
           UPDATE conversations c SET unread = c.unread + 1, last_message_at = $5, window_expires_at = $6, updated_at = $5
           FROM k WHERE c.tenant_id = $2 AND c.contact_id = k.id AND c.state NOT IN ('WON', 'LOST')
           RETURNING c.id)
         SELECT k.id, (SELECT u.id FROM u LIMIT 1) FROM k",
    )
    .bind(crate::db::new_id())
    .bind(m.tenant_id)
    .bind(m.wa_id)
    .bind(m.contact_name)
    .bind(at)
    .bind(at + conversations::SERVICE_WINDOW_MS)
    .fetch_one(&mut *c)
    .await?;
    let contact_id: String = row.try_get(0)?;
    let (conversation_id, created) = match row.try_get::<Option<String>, _>(1)? {
        Some(id) => (id, false),
        None => open_and_touch(c, m, &contact_id).await?,
    };
    let now = crate::db::now_ms();
    let payload = serde_json::json!({ "conversation_id": conversation_id }).to_string();
    let row = sqlx::query(
        "WITH msg AS (
           INSERT INTO messages (id, tenant_id, conversation_id, contact_id, direction, provider_message_id, kind, body, payload_json,
             status, request_id, provider_timestamp, created_at, updated_at)
           VALUES ($1, $2, $3, $4, 'in', $5, $6, $7, $8, 'received', $9, $10, $11, $11)
           ON CONFLICT DO NOTHING RETURNING id),
         j AS (
           INSERT INTO jobs (id, kind, tenant_id, serial_key, payload_json, status, attempts, max_attempts, run_at, request_id, created_at, updated_at)
           SELECT $12, $13, $2, $4, $14, 'ready', 0, $15, $11, $9, $11, $11 FROM msg
           RETURNING kind)
         SELECT msg.id, (SELECT COUNT(*) FROM (SELECT pg_notify('orcazap_jobs', j.kind) FROM j) n) FROM msg",
    )
    .bind(crate::db::new_id())
    .bind(m.tenant_id)
    .bind(&conversation_id)
    .bind(&contact_id)
    .bind(m.provider_message_id)
    .bind(m.kind)
    .bind(m.body)
    .bind(m.payload_json)
    .bind(m.request_id)
    .bind(m.provider_timestamp)
    .bind(now)
    .bind(crate::db::new_id())
    .bind(ADVANCE_JOB)
    .bind(payload)
    .bind(NewJob::new(ADVANCE_JOB, serde_json::Value::Null).max_attempts)
    .fetch_optional(&mut *c)
    .await?;
    let Some(row) = row else {
        // Meta delivered this message before: it changes nothing.
        conversations::undo_inbound(c, m.tenant_id, &conversation_id, created).await?;
        return Ok(None);
    };
    Ok(Some(Recorded {
        message_id: row.try_get(0)?,
        conversation_id,
        contact_id,
    }))
}
