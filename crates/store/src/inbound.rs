//! Recording one inbound WhatsApp message: the webhook's whole database work for it.
//!
//! Contact, open conversation, the message (once per Meta id) and the
//! `conversation.advance` job are written by the caller's single transaction, so a message
//! is never stored without the job that answers it.

use std::sync::Arc;

use serde::Serialize;
use sqlx::AnyConnection;

use domain::sanitize::make_storable;
use domain::status::MessageStatus;

use crate::db::{new_id, now_ms, Db, Engine, StoreError};
use crate::jobs::{self, NewJob};
use crate::{channels, conversations, messages, webhook_events};

pub const ADVANCE_JOB: &str = "conversation.advance";

pub struct InboundRecord<'a> {
    pub tenant_id: &'a str,
    pub channel_id: &'a str,
    /// The phone, empty when Meta sent only the user id.
    pub wa_id: &'a str,
    /// The business-scoped user id (`from_user_id`), when Meta sent it.
    pub user_id: Option<&'a str>,
    pub username: Option<&'a str>,
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
/// Five statements in the common case: duplicate check, contact upsert, conversation touch,
/// message insert, job insert. A duplicate changes nothing; one that races past the check is
/// caught by the message insert (Meta's id is unique) and the touch is undone. This is the
/// portable step of [`record_deliveries`] (which the webhook reaches through
/// [`crate::recorder::Recorder`]), also used on its own by tests and tools.
pub async fn record(
    c: &mut AnyConnection,
    m: &InboundRecord<'_>,
) -> Result<Option<Recorded>, StoreError> {
    if messages::provider_id_known(c, m.provider_message_id).await? {
        // Meta delivered this message before: it changes nothing.
        return Ok(None);
    }
    let sender = conversations::Sender {
        wa_id: m.wa_id,
        user_id: m.user_id,
        username: m.username,
    };
    let contact_id = conversations::upsert_contact_identified(
        c,
        m.tenant_id,
        sender,
        m.contact_name,
        m.received_at_ms,
    )
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
        // A concurrent delivery of the same message won the race: undo the touch.
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
    jobs::enqueue(c, &job).await?;
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
    let window_from = conversations::window_start(m.provider_timestamp, m.received_at_ms);
    for _ in 0..3 {
        if let Some(id) =
            conversations::touch_open(c, m.tenant_id, contact_id, m.received_at_ms, window_from)
                .await?
        {
            return Ok((id, false));
        }
        if let Some(id) = conversations::create_open(
            c,
            m.tenant_id,
            contact_id,
            m.channel_id,
            m.received_at_ms,
            window_from,
        )
        .await?
        {
            return Ok((id, true));
        }
        // A concurrent delivery opened it between the two statements: touch that one.
    }
    Err(StoreError::bug(
        "could not open a conversation for the contact after three tries",
    ))
}

/// One event of a webhook delivery, as the store needs it.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DeliveryEvent {
    Message(DeliveredMessage),
    Status(DeliveredStatus),
    Ignored { phone_number_id: Option<String> },
}

impl DeliveryEvent {
    fn phone_number_id(&self) -> Option<&str> {
        match self {
            DeliveryEvent::Message(m) => Some(&m.phone_number_id),
            DeliveryEvent::Status(s) => Some(&s.phone_number_id),
            DeliveryEvent::Ignored { phone_number_id } => phone_number_id.as_deref(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DeliveredMessage {
    pub phone_number_id: String,
    /// The phone; empty when Meta sent only the user id.
    pub wa_id: String,
    /// The business-scoped user id (`from_user_id`), when Meta sent it.
    pub user_id: Option<String>,
    /// The WhatsApp username, when the user has one (display only).
    pub username: Option<String>,
    /// WhatsApp profile name; empty when Meta sent none (an empty name never overwrites).
    pub name: String,
    pub wamid: String,
    pub kind: String,
    pub body: String,
    /// Kind-specific extras (media id, coordinates…) as JSON text.
    pub payload_json: String,
    /// Meta's timestamp, unix seconds.
    pub timestamp: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeliveredStatus {
    pub phone_number_id: String,
    pub wamid: String,
    pub status: MessageStatus,
    pub error_code: Option<i64>,
    pub error_message: Option<String>,
}

/// A whole webhook POST: its events and the raw body, stored together or not at all.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub events: Vec<DeliveryEvent>,
    pub payload: String,
    pub request_id: Option<String>,
}

/// What became of one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventOutcome {
    Accepted,
    Duplicate,
    UnknownChannel,
    Status,
    Ignored,
}

impl EventOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            EventOutcome::Accepted => "accepted",
            EventOutcome::Duplicate => "duplicate",
            EventOutcome::UnknownChannel => "unknown_channel",
            EventOutcome::Status => "status",
            EventOutcome::Ignored => "ignored",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        Ok(match s {
            "accepted" => EventOutcome::Accepted,
            "duplicate" => EventOutcome::Duplicate,
            "unknown_channel" => EventOutcome::UnknownChannel,
            "status" => EventOutcome::Status,
            "ignored" => EventOutcome::Ignored,
            other => {
                return Err(StoreError::Corrupt(format!(
                    "unexpected webhook outcome from the database: {other}"
                )))
            }
        })
    }
}

/// The outcome recorded for the whole delivery: the most consequential of its events.
pub fn delivery_outcome(outcomes: &[EventOutcome]) -> EventOutcome {
    use EventOutcome::*;
    [Accepted, UnknownChannel, Duplicate, Status]
        .into_iter()
        .find(|o| outcomes.contains(o))
        .unwrap_or(Ignored)
}

/// Stores one webhook delivery atomically: each new message with its contact, open
/// conversation and `conversation.advance` job; each receipt applied to its outbound message;
/// the raw event with its outcome. Returns one outcome per event, in order. Workers on other
/// processes are told afterwards ([`Db::jobs_ready`]).
///
/// The webhook goes through [`crate::recorder::Recorder`], which stores concurrent deliveries
/// in shared transactions with [`record_deliveries`]; this is the one-delivery form.
pub async fn record_delivery(db: &Db, delivery: Delivery) -> Result<Vec<EventOutcome>, StoreError> {
    let mut all = record_deliveries(db, vec![delivery]).await?;
    all.pop().ok_or_else(no_outcome)
}

/// A store call for one delivery answered nothing for it: a bug, never a user's mistake.
pub(crate) fn no_outcome() -> StoreError {
    StoreError::bug("no outcome for the delivery")
}

/// Stores several deliveries in one transaction (all or none), each exactly as
/// [`record_delivery`] would. Returns the outcomes of each delivery, in order.
///
/// PostgreSQL runs them as one statement (`orcazap_record_deliveries`, migration 0003): one
/// round trip and one commit. SQLite runs the same steps here, in one transaction.
pub async fn record_deliveries(
    db: &Db,
    deliveries: Vec<Delivery>,
) -> Result<Vec<Vec<EventOutcome>>, StoreError> {
    record_shared(db, Arc::new(deliveries)).await
}

/// [`record_deliveries`] on a shared list, so a caller can retry them without copying first.
pub(crate) async fn record_shared(
    db: &Db,
    deliveries: Arc<Vec<Delivery>>,
) -> Result<Vec<Vec<EventOutcome>>, StoreError> {
    if deliveries.is_empty() {
        return Ok(Vec::new());
    }
    let deliveries = storable_deliveries(deliveries);
    let outcomes = match db.engine() {
        Engine::Postgres => record_deliveries_postgres(db, &deliveries).await?,
        Engine::Sqlite => {
            db.tx(move |c| {
                Box::pin(async move {
                    let mut all = Vec::with_capacity(deliveries.len());
                    for d in deliveries.iter() {
                        all.push(record_delivery_portable(c, d).await?);
                    }
                    Ok(all)
                })
            })
            .await?
        }
    };
    if outcomes
        .iter()
        .flatten()
        .any(|o| *o == EventOutcome::Accepted)
    {
        db.jobs_ready();
    }
    Ok(outcomes)
}

/// The deliveries with every text made storable (`domain::sanitize`: NUL → U+FFFD), the
/// same on both engines. PostgreSQL refuses `\u0000` in the `jsonb` argument and in `text`
/// columns: one NUL used to fail the whole statement, so every message of the delivery
/// (and of the deliveries sharing its transaction) was lost on each of Meta's retries.
/// Copies only when some text has a NUL (the common case shares the list as it is).
fn storable_deliveries(deliveries: Arc<Vec<Delivery>>) -> Arc<Vec<Delivery>> {
    let has_nul = |d: &Delivery| {
        d.payload.contains('\0')
            || d.events.iter().any(|e| match e {
                DeliveryEvent::Message(m) => {
                    [
                        &m.phone_number_id,
                        &m.wa_id,
                        &m.name,
                        &m.wamid,
                        &m.kind,
                        &m.body,
                        &m.payload_json,
                    ]
                    .iter()
                    .any(|t| t.contains('\0'))
                        || [&m.user_id, &m.username]
                            .iter()
                            .any(|t| t.as_ref().is_some_and(|t| t.contains('\0')))
                }
                DeliveryEvent::Status(st) => {
                    [&st.phone_number_id, &st.wamid]
                        .iter()
                        .any(|t| t.contains('\0'))
                        || st.error_message.as_ref().is_some_and(|t| t.contains('\0'))
                }
                DeliveryEvent::Ignored { phone_number_id } => {
                    phone_number_id.as_ref().is_some_and(|t| t.contains('\0'))
                }
            })
    };
    if !deliveries.iter().any(has_nul) {
        return deliveries;
    }
    let mut clean: Vec<Delivery> = deliveries.as_ref().clone();
    for d in &mut clean {
        make_storable(&mut d.payload);
        for e in &mut d.events {
            match e {
                DeliveryEvent::Message(m) => {
                    for t in [
                        &mut m.phone_number_id,
                        &mut m.wa_id,
                        &mut m.name,
                        &mut m.wamid,
                        &mut m.kind,
                        &mut m.body,
                        &mut m.payload_json,
                    ] {
                        make_storable(t);
                    }
                    for t in [&mut m.user_id, &mut m.username].into_iter().flatten() {
                        make_storable(t);
                    }
                }
                DeliveryEvent::Status(st) => {
                    for t in [&mut st.phone_number_id, &mut st.wamid] {
                        make_storable(t);
                    }
                    if let Some(t) = st.error_message.as_mut() {
                        make_storable(t);
                    }
                }
                DeliveryEvent::Ignored { phone_number_id } => {
                    if let Some(t) = phone_number_id.as_mut() {
                        make_storable(t);
                    }
                }
            }
        }
    }
    Arc::new(clean)
}

async fn record_deliveries_postgres(
    db: &Db,
    deliveries: &[Delivery],
) -> Result<Vec<Vec<EventOutcome>>, StoreError> {
    use sqlx::Row;
    #[derive(Serialize)]
    struct Event<'a> {
        #[serde(flatten)]
        event: &'a DeliveryEvent,
        contact_id: String,
        conversation_id: String,
        message_id: String,
        job_id: String,
    }
    #[derive(Serialize)]
    struct Item<'a> {
        events: Vec<Event<'a>>,
        payload: &'a str,
        request_id: Option<&'a str>,
        event_id: String,
    }
    let items: Vec<Item> = deliveries
        .iter()
        .map(|d| Item {
            events: d
                .events
                .iter()
                .map(|event| {
                    let fresh = matches!(event, DeliveryEvent::Message(_));
                    let id = || if fresh { new_id() } else { String::new() };
                    Event {
                        event,
                        contact_id: id(),
                        conversation_id: id(),
                        message_id: id(),
                        job_id: id(),
                    }
                })
                .collect(),
            payload: &d.payload,
            request_id: d.request_id.as_deref(),
            event_id: new_id(),
        })
        .collect();
    #[derive(Serialize)]
    struct Arg<'a> {
        deliveries: Vec<Item<'a>>,
        now_ms: i64,
        window_ms: i64,
        job_kind: &'a str,
        job_max_attempts: i64,
    }
    let arg = serde_json::to_string(&Arg {
        deliveries: items,
        now_ms: now_ms(),
        window_ms: conversations::SERVICE_WINDOW_MS,
        job_kind: ADVANCE_JOB,
        job_max_attempts: NewJob::new(ADVANCE_JOB, serde_json::Value::Null).max_attempts,
    })
    .map_err(|e| StoreError::internal("encoding the webhook batch", e))?;
    // Autocommit: the function runs inside this one statement's transaction.
    let row = sqlx::query("SELECT orcazap_record_deliveries($1::jsonb)")
        .bind(arg)
        .fetch_one(db.write())
        .await?;
    let joined: String = row.try_get(0)?;
    let per_delivery: Vec<&str> = joined.split(';').collect();
    let mismatch = || {
        StoreError::bug(format!(
            "the database returned outcomes that do not match the {} webhook deliveries sent",
            deliveries.len()
        ))
    };
    if per_delivery.len() != deliveries.len() {
        return Err(mismatch());
    }
    per_delivery
        .iter()
        .zip(deliveries)
        .map(|(text, d)| {
            let outcomes = text
                .split(',')
                .filter(|s| !s.is_empty())
                .map(EventOutcome::parse)
                .collect::<Result<Vec<_>, _>>()?;
            if outcomes.len() == d.events.len() {
                Ok(outcomes)
            } else {
                Err(mismatch())
            }
        })
        .collect()
}

/// The same steps as `orcazap_record_deliveries`, one statement at a time.
async fn record_delivery_portable(
    c: &mut AnyConnection,
    delivery: &Delivery,
) -> Result<Vec<EventOutcome>, StoreError> {
    let mut outcomes = Vec::with_capacity(delivery.events.len());
    let mut event_channel: Option<channels::Channel> = None;
    for ev in &delivery.events {
        let outcome = match ev {
            DeliveryEvent::Message(m) => {
                let Some(channel) = channels::by_phone_number_id(c, &m.phone_number_id).await?
                else {
                    outcomes.push(EventOutcome::UnknownChannel);
                    continue;
                };
                let rec = InboundRecord {
                    tenant_id: &channel.tenant_id,
                    channel_id: &channel.id,
                    wa_id: &m.wa_id,
                    user_id: m.user_id.as_deref(),
                    username: m.username.as_deref(),
                    contact_name: &m.name,
                    provider_message_id: &m.wamid,
                    kind: &m.kind,
                    body: &m.body,
                    payload_json: &m.payload_json,
                    provider_timestamp: m.timestamp,
                    received_at_ms: now_ms(),
                    request_id: delivery.request_id.as_deref(),
                };
                let recorded = record(c, &rec).await?;
                event_channel = Some(channel);
                match recorded {
                    Some(_) => EventOutcome::Accepted,
                    None => EventOutcome::Duplicate,
                }
            }
            DeliveryEvent::Status(st) => {
                messages::apply_receipt(
                    c,
                    &st.wamid,
                    st.status,
                    st.error_code,
                    st.error_message.as_deref(),
                )
                .await?;
                EventOutcome::Status
            }
            DeliveryEvent::Ignored { .. } => EventOutcome::Ignored,
        };
        outcomes.push(outcome);
    }
    let first_pnid = delivery.events.iter().find_map(|e| e.phone_number_id());
    webhook_events::record(
        c,
        &webhook_events::NewEvent {
            tenant_id: event_channel.as_ref().map(|ch| ch.tenant_id.as_str()),
            channel_id: event_channel.as_ref().map(|ch| ch.id.as_str()),
            provider: "whatsapp",
            phone_number_id: first_pnid,
            outcome: delivery_outcome(&outcomes).as_str(),
            payload: &delivery.payload,
            request_id: delivery.request_id.as_deref(),
        },
    )
    .await?;
    Ok(outcomes)
}
