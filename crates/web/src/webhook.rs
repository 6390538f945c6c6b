//! `api.BASE/webhooks/whatsapp`: Meta's deliveries.
//!
//! Order of work on POST: read the raw body (bounded: 413), verify `X-Hub-Signature-256`
//! over those exact bytes in constant time (401), parse (400 only for a body that is not a
//! WhatsApp payload at all; a message or receipt we can't read is recorded — log, metric,
//! the raw body kept with the event — and its neighbours are stored), then one
//! transaction (shared with the deliveries arriving at the same moment: `store::recorder`)
//! stores the raw event, each new message and its job, and applies status receipts — and
//! only then 200. A duplicate delivery changes nothing.

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use domain::inbound::{ContactCard, InboundContent};
use domain::status::MessageStatus;
use secrecy::ExposeSecret;
use serde::Deserialize;
use store::inbound::{DeliveredMessage, DeliveredStatus, Delivery, DeliveryEvent, EventOutcome};
use subtle::ConstantTimeEq;
use whatsapp::signature::{verify_signature, SIGNATURE_HEADER};
use whatsapp::webhook::{
    parse_delivery, DeliveryStatus, MessageContent, TemplateStatusUpdate, WebhookEvent,
};

use crate::layers::RequestId;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct VerifyParams {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

/// Meta's subscription check: echo the challenge when the token matches.
pub async fn verify(State(state): State<AppState>, Query(p): Query<VerifyParams>) -> Response {
    let Some(expected) = &state.cfg.whatsapp_verify_token else {
        return (StatusCode::FORBIDDEN, "verify token not configured").into_response();
    };
    let given = p.token.unwrap_or_default();
    let token_ok: bool = given
        .as_bytes()
        .ct_eq(expected.expose_secret().as_bytes())
        .into();
    match (p.mode.as_deref(), token_ok, p.challenge) {
        (Some("subscribe"), true, Some(challenge)) if challenge.len() <= 256 => {
            (StatusCode::OK, challenge).into_response()
        }
        _ => (StatusCode::FORBIDDEN, "forbidden").into_response(),
    }
}

fn outcome(label: &'static str) {
    metrics::counter!("orcazap_webhook_events_total", "outcome" => label).increment(1);
}

/// What one payload led to, for the stored event and the response.
#[derive(Debug, Default)]
struct Summary {
    accepted: usize,
    duplicate: usize,
    unknown_channel: usize,
    statuses: usize,
    ignored: usize,
    unreadable: usize,
}

pub async fn receive(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let raw = match to_bytes(body, state.cfg.webhook_body_limit).await {
        Ok(b) => b,
        Err(_) => {
            outcome("too_large");
            return crate::layers::too_large();
        }
    };
    let Some(secret) = &state.cfg.whatsapp_app_secret else {
        tracing::error!("webhook received but ORCAZAP_WHATSAPP_APP_SECRET is not configured");
        outcome("bad_signature");
        return (StatusCode::UNAUTHORIZED, "signature cannot be verified").into_response();
    };
    let sig = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    if let Err(e) = verify_signature(secret.expose_secret().as_bytes(), &raw, sig) {
        outcome("bad_signature");
        tracing::warn!(reason = e.metric_label(), "webhook signature rejected");
        return (StatusCode::UNAUTHORIZED, "invalid signature").into_response();
    }
    let events = match parse_delivery(&raw) {
        Ok(ev) => ev,
        Err(e) => {
            outcome("malformed");
            tracing::warn!(error = %e, "malformed webhook");
            return (StatusCode::BAD_REQUEST, "malformed payload").into_response();
        }
    };
    let failed_receipts: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            WebhookEvent::Status(st) if st.status == DeliveryStatus::Failed => {
                Some(st.wamid.clone())
            }
            _ => None,
        })
        .collect();
    let reviews: Vec<TemplateStatusUpdate> = events
        .iter()
        .filter_map(|e| match e {
            WebhookEvent::TemplateStatus(t) => Some(t.clone()),
            _ => None,
        })
        .collect();
    match store_events(&state, raw, events, rid.0).await {
        Ok(s) => {
            if let Err(e) = template_reviews(&state, &reviews).await {
                // Not answered 2xx: Meta delivers the review again.
                tracing::error!(error = %store::error::report(&e), "could not record a template review; Meta will retry");
                return (StatusCode::SERVICE_UNAVAILABLE, "temporarily unavailable")
                    .into_response();
            }
            if !failed_receipts.is_empty() {
                act_on_failed_deliveries(&state, &failed_receipts).await;
            }
            for _ in 0..s.accepted.min(8) {
                state.wake.notify_one();
            }
            (0..s.accepted).for_each(|_| outcome("accepted"));
            (0..s.duplicate).for_each(|_| outcome("duplicate"));
            (0..s.unknown_channel).for_each(|_| outcome("unknown_channel"));
            (0..s.statuses).for_each(|_| outcome("status"));
            (0..s.ignored).for_each(|_| outcome("ignored"));
            (0..s.unreadable).for_each(|_| outcome("unreadable"));
            StatusCode::OK.into_response()
        }
        Err(e) => {
            // Meta retries non-2xx deliveries, so nothing is lost while the database is away.
            tracing::error!(error = %store::error::report(&e), "could not store webhook; Meta will retry");
            (StatusCode::SERVICE_UNAVAILABLE, "temporarily unavailable").into_response()
        }
    }
}

/// Meta's reviews of WhatsApp message templates (`message_template_status_update`), routed by
/// business account: each store with a number on that account gets the new status on its
/// template of that name and language. A review of a template no store has (made in Meta's
/// own tools) is logged and dropped; a refresh lists it only if a store created it here.
async fn template_reviews(
    state: &AppState,
    reviews: &[TemplateStatusUpdate],
) -> Result<(), store::StoreError> {
    for r in reviews {
        let channels = store::channels::by_waba_id(&state.db, &r.waba_id).await?;
        let mut tenants: Vec<String> = channels.into_iter().map(|c| c.tenant_id).collect();
        tenants.sort();
        tenants.dedup();
        let mut applied = false;
        for tenant in tenants {
            let r = r.clone();
            applied |= state
                .db
                .tx(move |c| {
                    Box::pin(async move {
                        store::meta_templates::apply_review(
                            c,
                            &tenant,
                            &r.name,
                            &r.language,
                            Some(&r.template_id),
                            &r.event,
                            r.reason.as_deref(),
                        )
                        .await
                    })
                })
                .await?;
        }
        metrics::counter!("orcazap_template_reviews_total", "outcome" => if applied { "applied" } else { "unknown_template" })
            .increment(1);
        tracing::info!(event = %r.event, applied, "WhatsApp template review received");
    }
    Ok(())
}

/// Outbound messages this delivery's `failed` receipts marked failed go to the one place
/// that acts on failures (`worker::delivery`). Best effort after the commit: the receipts
/// are stored either way, and Meta has its 200 coming.
async fn act_on_failed_deliveries(state: &AppState, wamids: &[String]) {
    let failures = async {
        let mut c = state.db.read().acquire().await?;
        store::messages::failed_deliveries(&mut c, wamids).await
    }
    .await;
    match failures {
        Ok(failures) => {
            for f in &failures {
                if let Err(e) = worker::delivery::delivery_failed(&state.db, f).await {
                    tracing::warn!(error = %store::error::report(&e), "could not act on a failed delivery");
                }
            }
        }
        Err(e) => {
            tracing::warn!(error = %store::error::report(&e), "could not read failed deliveries")
        }
    }
}

/// What the customer sent, in the type the worker reads back ([`InboundContent`]).
/// `context_wamid` is the message the customer answered (Meta's `context.id`); a button tap
/// keeps it, so the worker knows which quote's button was tapped (issue 18 item 2).
fn content_of(content: &MessageContent, context_wamid: Option<&str>) -> InboundContent {
    match content.clone() {
        MessageContent::Text { body } => InboundContent::Text { body },
        MessageContent::Button { id, title } => InboundContent::Button {
            id,
            title,
            context_id: context_wamid.unwrap_or_default().to_string(),
        },
        MessageContent::ListReply { id, title, .. } => InboundContent::ListReply { id, title },
        MessageContent::Image {
            media_id,
            caption,
            mime_type,
        } => InboundContent::Image {
            caption: caption.unwrap_or_default(),
            media_id,
            mime_type,
            media_error: None,
        },
        MessageContent::Audio { media_id, voice } => InboundContent::Audio {
            media_id,
            voice,
            transcript: None,
            unheard: None,
        },
        MessageContent::Location {
            latitude,
            longitude,
            name,
            address,
        } => InboundContent::Location {
            place: [name, address]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" - "),
            latitude,
            longitude,
        },
        MessageContent::Reaction { emoji, message_id } => {
            InboundContent::Reaction { emoji, message_id }
        }
        MessageContent::Document {
            media_id,
            filename,
            caption,
            mime_type,
        } => InboundContent::Document {
            caption: caption.unwrap_or_default(),
            filename: filename.unwrap_or_default(),
            media_id,
            mime_type,
        },
        MessageContent::Contacts { cards } => {
            let cards: Vec<ContactCard> = cards
                .into_iter()
                .map(|c| ContactCard {
                    name: c.name,
                    phones: c.phones,
                })
                .collect();
            InboundContent::Contacts {
                summary: domain::inbound::contacts_summary(&cards),
                cards,
            }
        }
        MessageContent::Sticker { media_id, animated } => {
            InboundContent::Sticker { media_id, animated }
        }
        MessageContent::System {
            kind,
            body,
            new_wa_id,
        } => InboundContent::System {
            notice: body,
            system_type: kind,
            new_wa_id,
        },
        MessageContent::Unsupported { kind, error_code } => InboundContent::Unsupported {
            meta_type: kind,
            error_code,
        },
    }
}

/// A receipt's status, in the words of outbound messages.
fn message_status(s: DeliveryStatus) -> MessageStatus {
    match s {
        DeliveryStatus::Sent => MessageStatus::Sent,
        DeliveryStatus::Delivered => MessageStatus::Delivered,
        DeliveryStatus::Read => MessageStatus::Read,
        DeliveryStatus::Failed => MessageStatus::Failed,
    }
}

/// How one event is counted: a message of some kind, or an unreadable part (kept only in
/// the raw body of the stored event, counted apart so the operator sees it).
#[derive(Clone, Copy)]
enum Counted {
    Message(&'static str),
    Unreadable,
    Other,
}

/// The store's view of the parsed events (kind, text and extras of each message), each with
/// how it is counted in the metrics.
fn delivery_events(events: &[WebhookEvent]) -> Vec<(DeliveryEvent, Counted)> {
    events
        .iter()
        .map(|ev| match ev {
            WebhookEvent::Message(m) => {
                let content = content_of(&m.content, m.context_wamid.as_deref());
                let stored = content.to_stored();
                let event = DeliveryEvent::Message(DeliveredMessage {
                    phone_number_id: m.phone_number_id.clone(),
                    wa_id: m.from.clone(),
                    user_id: m.from_user_id.clone(),
                    username: m.username.clone(),
                    name: m.contact_name.clone().unwrap_or_default(),
                    wamid: m.wamid.clone(),
                    kind: stored.kind,
                    body: stored.body,
                    payload_json: stored.payload_json,
                    timestamp: m.timestamp,
                });
                (event, Counted::Message(content.kind()))
            }
            WebhookEvent::Status(st) => {
                let err = st.error.as_ref();
                let event = DeliveryEvent::Status(DeliveredStatus {
                    phone_number_id: st.phone_number_id.clone(),
                    wamid: st.wamid.clone(),
                    status: message_status(st.status),
                    error_code: err.map(|e| e.code),
                    error_message: err
                        .map(|e| e.details.clone().unwrap_or_else(|| e.title.clone())),
                });
                (event, Counted::Other)
            }
            WebhookEvent::Ignored {
                phone_number_id, ..
            } => (
                DeliveryEvent::Ignored {
                    phone_number_id: phone_number_id.clone(),
                },
                Counted::Other,
            ),
            // Applied to the store's templates after the delivery is stored (`template_reviews`).
            WebhookEvent::TemplateStatus(_) => (
                DeliveryEvent::Ignored {
                    phone_number_id: None,
                },
                Counted::Other,
            ),
            WebhookEvent::Unreadable(u) => {
                tracing::warn!(
                    part = u.part,
                    wamid = u.wamid.as_deref().unwrap_or("-"),
                    reason = %u.reason,
                    "unreadable part of a webhook delivery; kept in the stored event, the rest processed"
                );
                (
                    DeliveryEvent::Ignored {
                        phone_number_id: u.phone_number_id.clone(),
                    },
                    Counted::Unreadable,
                )
            }
        })
        .collect()
}

async fn store_events(
    state: &AppState,
    raw: Bytes,
    events: Vec<WebhookEvent>,
    request_id: String,
) -> Result<Summary, store::StoreError> {
    let (events, kinds): (Vec<DeliveryEvent>, Vec<Counted>) =
        delivery_events(&events).into_iter().unzip();
    let delivery = Delivery {
        events,
        payload: String::from_utf8_lossy(&raw).into_owned(),
        request_id: Some(request_id),
    };
    let outcomes = state.recorder.record(delivery).await?;
    let mut s = Summary::default();
    for (kind, outcome) in kinds.into_iter().zip(&outcomes) {
        match outcome {
            EventOutcome::Accepted => {
                s.accepted += 1;
                if let Counted::Message(kind) = kind {
                    metrics::counter!("orcazap_inbound_messages_total", "kind" => kind)
                        .increment(1);
                }
            }
            EventOutcome::Duplicate => s.duplicate += 1,
            EventOutcome::UnknownChannel => {
                s.unknown_channel += 1;
                tracing::warn!("message for an unknown phone_number_id; recorded, not processed");
            }
            EventOutcome::Status => s.statuses += 1,
            EventOutcome::Ignored if matches!(kind, Counted::Unreadable) => s.unreadable += 1,
            EventOutcome::Ignored => s.ignored += 1,
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind of message is stored in the columns (kind, body, extras) exactly as the
    /// webhook wrote them before the shared type existed, so old and new rows read alike.
    #[test]
    fn messages_are_stored_as_before() {
        let s = |v: &str| v.to_string();
        let cases = [
            (
                MessageContent::Text { body: s("oi") },
                ("text", "oi", serde_json::json!({})),
            ),
            (
                MessageContent::Button {
                    id: s("quote_accept"),
                    title: s("Confirmar"),
                },
                (
                    "button",
                    "Confirmar",
                    serde_json::json!({ "id": "quote_accept" }),
                ),
            ),
            (
                MessageContent::ListReply {
                    id: s("r2"),
                    title: s("Tarde"),
                    description: Some(s("14h às 18h")),
                },
                ("list_reply", "Tarde", serde_json::json!({ "id": "r2" })),
            ),
            (
                MessageContent::Image {
                    media_id: s("m1"),
                    caption: Some(s("assim")),
                    mime_type: s("image/jpeg"),
                },
                (
                    "image",
                    "assim",
                    serde_json::json!({ "media_id": "m1", "mime_type": "image/jpeg" }),
                ),
            ),
            (
                MessageContent::Image {
                    media_id: s("m2"),
                    caption: None,
                    mime_type: s("image/png"),
                },
                (
                    "image",
                    "",
                    serde_json::json!({ "media_id": "m2", "mime_type": "image/png" }),
                ),
            ),
            (
                MessageContent::Audio {
                    media_id: s("a1"),
                    voice: true,
                },
                (
                    "audio",
                    "",
                    serde_json::json!({ "media_id": "a1", "voice": true }),
                ),
            ),
            (
                MessageContent::Location {
                    latitude: s("-23.5"),
                    longitude: s("-46.6"),
                    name: Some(s("Obra")),
                    address: Some(s("Rua A, 10")),
                },
                (
                    "location",
                    "Obra - Rua A, 10",
                    serde_json::json!({ "latitude": "-23.5", "longitude": "-46.6" }),
                ),
            ),
            (
                MessageContent::Location {
                    latitude: s("1"),
                    longitude: s("2"),
                    name: None,
                    address: Some(s("Rua B")),
                },
                (
                    "location",
                    "Rua B",
                    serde_json::json!({ "latitude": "1", "longitude": "2" }),
                ),
            ),
            (
                MessageContent::Reaction {
                    emoji: s("👍"),
                    message_id: s("wamid.X"),
                },
                (
                    "reaction",
                    "👍",
                    serde_json::json!({ "message_id": "wamid.X" }),
                ),
            ),
            (
                MessageContent::Unsupported {
                    kind: s("sticker"),
                    error_code: Some(131051),
                },
                (
                    "unsupported",
                    "",
                    serde_json::json!({ "type": "sticker", "error_code": 131051 }),
                ),
            ),
            (
                MessageContent::Unsupported {
                    kind: s("video"),
                    error_code: None,
                },
                (
                    "unsupported",
                    "",
                    serde_json::json!({ "type": "video", "error_code": null }),
                ),
            ),
        ];
        for (content, (kind, body, extras)) in cases {
            let stored = content_of(&content, None).to_stored();
            assert_eq!(stored.kind, kind, "{content:?}");
            assert_eq!(stored.body, body, "{content:?}");
            let got: serde_json::Value = serde_json::from_str(&stored.payload_json).unwrap();
            assert_eq!(got, extras, "{content:?}");
            // The metric's label is the stored kind, as it was.
            assert_eq!(
                content_of(&content, None).kind(),
                content.kind(),
                "{content:?}"
            );
        }
    }
}
