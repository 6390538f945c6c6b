//! `api.BASE/webhooks/whatsapp`: Meta's deliveries.
//!
//! Order of work on POST: read the raw body (bounded: 413), verify `X-Hub-Signature-256`
//! over those exact bytes in constant time (401), parse (400, nothing stored), then one
//! transaction (shared with the deliveries arriving at the same moment: `store::recorder`)
//! stores the raw event, each new message and its job, and applies status receipts — and
//! only then 200. A duplicate delivery changes nothing.

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use secrecy::ExposeSecret;
use serde::Deserialize;
use store::inbound::{DeliveredMessage, DeliveredStatus, Delivery, DeliveryEvent, EventOutcome};
use subtle::ConstantTimeEq;
use whatsapp::signature::{verify_signature, SIGNATURE_HEADER};
use whatsapp::webhook::{parse_webhook, MessageContent, WebhookEvent};

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
    let events = match parse_webhook(&raw) {
        Ok(ev) => ev,
        Err(e) => {
            outcome("malformed");
            tracing::warn!(error = %e, "malformed webhook");
            return (StatusCode::BAD_REQUEST, "malformed payload").into_response();
        }
    };
    match store_events(&state, raw, events, rid.0).await {
        Ok(s) => {
            for _ in 0..s.accepted.min(8) {
                state.wake.notify_one();
            }
            (0..s.accepted).for_each(|_| outcome("accepted"));
            (0..s.duplicate).for_each(|_| outcome("duplicate"));
            (0..s.unknown_channel).for_each(|_| outcome("unknown_channel"));
            (0..s.statuses).for_each(|_| outcome("status"));
            (0..s.ignored).for_each(|_| outcome("ignored"));
            StatusCode::OK.into_response()
        }
        Err(e) => {
            // Meta retries non-2xx deliveries, so nothing is lost while the database is away.
            tracing::error!(error = %store::error::report(&e), "could not store webhook; Meta will retry");
            (StatusCode::SERVICE_UNAVAILABLE, "temporarily unavailable").into_response()
        }
    }
}

/// (kind, text, extra JSON) of a message as stored.
fn describe(content: &MessageContent) -> (&'static str, String, serde_json::Value) {
    use serde_json::json;
    match content {
        MessageContent::Text { body } => ("text", body.clone(), json!({})),
        MessageContent::Button { id, title } => ("button", title.clone(), json!({ "id": id })),
        MessageContent::ListReply { id, title, .. } => {
            ("list_reply", title.clone(), json!({ "id": id }))
        }
        MessageContent::Image {
            media_id,
            caption,
            mime_type,
        } => (
            "image",
            caption.clone().unwrap_or_default(),
            json!({ "media_id": media_id, "mime_type": mime_type }),
        ),
        MessageContent::Audio { media_id, voice } => (
            "audio",
            String::new(),
            json!({ "media_id": media_id, "voice": voice }),
        ),
        MessageContent::Location {
            latitude,
            longitude,
            name,
            address,
        } => {
            let text = [name.clone(), address.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" - ");
            (
                "location",
                text,
                json!({ "latitude": latitude, "longitude": longitude }),
            )
        }
        MessageContent::Reaction { emoji, message_id } => (
            "reaction",
            emoji.clone(),
            json!({ "message_id": message_id }),
        ),
        MessageContent::Unsupported { kind, error_code } => (
            "unsupported",
            String::new(),
            json!({ "type": kind, "error_code": error_code }),
        ),
    }
}

/// The store's view of the parsed events (kind, text and extras of each message), each with
/// its message kind for the metrics (None for receipts and ignored changes).
fn delivery_events(events: &[WebhookEvent]) -> Vec<(DeliveryEvent, Option<&'static str>)> {
    events
        .iter()
        .map(|ev| match ev {
            WebhookEvent::Message(m) => {
                let (kind, body, extra) = describe(&m.content);
                let event = DeliveryEvent::Message(DeliveredMessage {
                    phone_number_id: m.phone_number_id.clone(),
                    wa_id: m.from.clone(),
                    name: m.contact_name.clone().unwrap_or_default(),
                    wamid: m.wamid.clone(),
                    kind: kind.to_string(),
                    body,
                    payload_json: extra.to_string(),
                    timestamp: m.timestamp,
                });
                (event, Some(kind))
            }
            WebhookEvent::Status(st) => {
                let err = st.error.as_ref();
                let event = DeliveryEvent::Status(DeliveredStatus {
                    phone_number_id: st.phone_number_id.clone(),
                    wamid: st.wamid.clone(),
                    status: st.status.as_str().to_string(),
                    error_code: err.map(|e| e.code),
                    error_message: err
                        .map(|e| e.details.clone().unwrap_or_else(|| e.title.clone())),
                });
                (event, None)
            }
            WebhookEvent::Ignored {
                phone_number_id, ..
            } => (
                DeliveryEvent::Ignored {
                    phone_number_id: phone_number_id.clone(),
                },
                None,
            ),
        })
        .collect()
}

async fn store_events(
    state: &AppState,
    raw: Bytes,
    events: Vec<WebhookEvent>,
    request_id: String,
) -> Result<Summary, store::StoreError> {
    let (events, kinds): (Vec<DeliveryEvent>, Vec<Option<&'static str>>) =
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
                if let Some(kind) = kind {
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
            EventOutcome::Ignored => s.ignored += 1,
        }
    }
    Ok(s)
}
