//! The WhatsApp simulator and the fake Graph API endpoint.
//!
//! Two simulators share this code: the demo store's on `BASE/simulator` (demo mode only), and
//! a store's own test chat on `{slug}.BASE/simulador` (any signed-in owner, issue 17): the
//! latter writes to the store's test channel (`store::channels::ensure_test_channel`), so
//! the bot answers with that store's catalog and rules, and a store only ever reads its own
//! messages (the tenant comes from the session, never from the request). The worker's
//! replies to a test channel are answered inside its Graph client by the built-in fake Graph
//! API (`whatsapp::graph::is_test_channel`): they never reach Meta, in any mode.
//!
//! The page never talks to the database directly about inbound messages: it asks the
//! server to build a payload in Meta's exact format, sign it with the app secret and POST it
//! to the real `/webhooks/whatsapp` over HTTP. The bot's answers go out through the real
//! worker and Graph client, which in demo mode point at [`fake_graph`].
//!
//! The simulator answers on `BASE` only, and `/simulator/messages` shows a browser only the
//! conversation it is having: `send` gives it a signed cookie naming the number it writes
//! as and the moment it started, and `messages` shows the bot's replies to that number from
//! that moment on. Another visitor cannot read what the bot sent to a number by typing it.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use domain::status::MessageStatus;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

use crate::dashboard::security::{cookie_value, set_cookie, tokens_match};
use crate::error::AppError;
use crate::state::AppState;

pub const DEMO_SLUG: &str = "demo";

/// `phone.since_ms.mac`: the number this browser writes as and when it started.
const VIEW_COOKIE: &str = "oz_sim";

/// A conversation this browser started through the simulator.
struct View {
    phone: String,
    since_ms: i64,
}

/// Whose simulator: the store (tenant), the number it writes to and where its view cookie
/// lives.
pub struct Scope {
    pub tenant_id: String,
    pub phone_number_id: String,
    /// Only this channel's messages are shown (a store's test channel); `None` for the demo.
    pub channel_id: Option<String>,
    /// The simulator's path (`/simulator` or `/simulador`): the view cookie's path.
    pub path: &'static str,
}

fn view_mac(secret: &SecretString, scope: &Scope, phone: &str, since_ms: i64) -> String {
    // Domain-separated from webhook signatures, which use the same key, and bound to the
    // store: a view of one store's test chat means nothing on another.
    whatsapp::signature::sign(
        secret.expose_secret().as_bytes(),
        format!(
            "orcazap-simulator-view\n{}\n{phone}\n{since_ms}",
            scope.tenant_id
        )
        .as_bytes(),
    )
    .trim_start_matches("sha256=")
    .to_string()
}

fn view_of(headers: &HeaderMap, secret: &SecretString, scope: &Scope) -> Option<View> {
    let raw = cookie_value(headers, VIEW_COOKIE)?;
    let mut parts = raw.splitn(3, '.');
    let (phone, since, mac) = (parts.next()?, parts.next()?, parts.next()?);
    let since_ms: i64 = since.parse().ok()?;
    tokens_match(mac, &view_mac(secret, scope, phone, since_ms)).then(|| View {
        phone: phone.to_string(),
        since_ms,
    })
}

pub async fn page(State(state): State<AppState>) -> Result<Html<String>, AppError> {
    crate::render::page(
        "simulator.html",
        minijinja::context! {
            store_dashboard => format!("http://{}.{}", DEMO_SLUG, host_with_port(&state)),
        },
    )
}

fn host_with_port(state: &AppState) -> String {
    let port = state.cfg.self_url.rsplit(':').next().unwrap_or("8080");
    format!("{}:{}", state.cfg.base_domain, port)
}

#[derive(Deserialize)]
pub struct SendForm {
    phone: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    button_id: Option<String>,
    #[serde(default)]
    button_title: Option<String>,
    /// The tap was on a row of a list message (sent as Meta's `list_reply`), whose
    /// description comes back with it.
    #[serde(default)]
    list_reply: bool,
    #[serde(default)]
    row_description: Option<String>,
    /// A voice note (issue 16): the file, base64, and its type (`audio/ogg`). Demo simulator
    /// only: its file is served by the demo's fake Graph API ([`fake_graph_media_info`]).
    #[serde(default)]
    audio_base64: Option<String>,
    #[serde(default)]
    audio_mime: Option<String>,
}

/// Files the demo simulator "sent" (media id → type, bytes), served by the fake Graph API as
/// Meta serves customers' media. The last few only: the worker fetches them at once.
static DEMO_MEDIA: std::sync::Mutex<Vec<(String, String, Vec<u8>)>> =
    std::sync::Mutex::new(Vec::new());
const DEMO_MEDIA_KEPT: usize = 20;
/// Meta's audio limit; the simulator refuses bigger files before anything is sent.
const DEMO_AUDIO_MAX_BYTES: usize = 16 * 1024 * 1024;

fn demo_media(id: &str) -> Option<(String, Vec<u8>)> {
    let kept = DEMO_MEDIA.lock().unwrap_or_else(|p| p.into_inner());
    kept.iter()
        .find(|(i, _, _)| i == id)
        .map(|(_, m, b)| (m.clone(), b.clone()))
}

/// Same-origin JSON only: a cross-site form cannot send `application/json`, and a browser
/// always sends `Origin` on a cross-site POST.
fn same_origin(headers: &HeaderMap) -> bool {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let site_ok = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v == "same-origin" || v == "none");
    json && site_ok
}

/// The demo store's simulator.
async fn demo_scope(state: &AppState) -> Result<Scope, AppError> {
    let tenant = store::tenants::by_slug(&state.db, DEMO_SLUG)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Scope {
        tenant_id: tenant.id,
        phone_number_id: state.cfg.demo_phone_number_id.clone(),
        channel_id: None,
        path: "/simulator",
    })
}

pub async fn send(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(form): Json<SendForm>,
) -> Result<Response, AppError> {
    let scope = demo_scope(&state).await?;
    send_as(&state, &headers, form, &scope).await
}

/// Posts the customer's message to the real webhook as Meta would, for `scope`'s number.
pub async fn send_as(
    state: &AppState,
    headers: &HeaderMap,
    form: SendForm,
    scope: &Scope,
) -> Result<Response, AppError> {
    if !same_origin(headers) {
        return Err(AppError::Forbidden);
    }
    let phone = domain::ids::WaId::parse(&form.phone).map_err(AppError::BadRequest)?;
    let secret = state
        .cfg
        .whatsapp_app_secret
        .as_ref()
        .ok_or_else(|| AppError::BadRequest("app secret ausente".into()))?;
    let name = (!form.name.trim().is_empty()).then(|| form.name.trim().to_string());
    let now = store::now_ms();
    // The same number keeps its start; a new number starts a new conversation view.
    let since_ms = view_of(headers, secret, scope)
        .filter(|v| v.phone == phone.as_str())
        .map_or(now, |v| v.since_ms);
    let wamid = format!("wamid.SIM{}", uuid::Uuid::now_v7().simple());
    let pnid = &scope.phone_number_id;
    let body = match (&form.button_id, &form.button_title) {
        _ if form.audio_base64.is_some() => {
            if scope.channel_id.is_some() {
                return Err(AppError::BadRequest(
                    "áudio só no simulador da demonstração".into(),
                ));
            }
            use base64::Engine as _;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(form.audio_base64.as_deref().unwrap_or_default().trim())
                .map_err(|_| AppError::BadRequest("arquivo de áudio ilegível".into()))?;
            if bytes.is_empty() || bytes.len() > DEMO_AUDIO_MAX_BYTES {
                return Err(AppError::BadRequest(
                    "o áudio deve ter de 1 byte a 16 MB".into(),
                ));
            }
            let mime = form
                .audio_mime
                .as_deref()
                .map(str::trim)
                .filter(|m| !m.is_empty())
                .unwrap_or("audio/ogg; codecs=opus")
                .to_string();
            let id = (uuid::Uuid::now_v7().as_u128() % 1_000_000_000_000_000).to_string();
            {
                let mut kept = DEMO_MEDIA.lock().unwrap_or_else(|p| p.into_inner());
                kept.push((id.clone(), mime.clone(), bytes));
                let excess = kept.len().saturating_sub(DEMO_MEDIA_KEPT);
                kept.drain(..excess);
            }
            whatsapp::webhook::build_media_webhook(
                pnid,
                "5511933334444",
                phone.as_str(),
                name.as_deref(),
                &wamid,
                &whatsapp::webhook::MediaRef {
                    id: &id,
                    mime_type: &mime,
                    sha256: "",
                    caption: None,
                },
                now / 1000,
            )
        }
        (Some(id), Some(title)) if form.list_reply => whatsapp::webhook::build_list_reply_webhook(
            pnid,
            "5511933334444",
            phone.as_str(),
            name.as_deref(),
            &wamid,
            None,
            id,
            title,
            form.row_description.as_deref(),
            now / 1000,
        ),
        (Some(id), Some(title)) => whatsapp::webhook::build_button_reply_webhook(
            pnid,
            "5511933334444",
            phone.as_str(),
            name.as_deref(),
            &wamid,
            None,
            id,
            title,
            now / 1000,
        ),
        _ => {
            if form.text.trim().is_empty() {
                return Err(AppError::BadRequest("escreva uma mensagem".into()));
            }
            whatsapp::webhook::build_text_webhook(
                pnid,
                "5511933334444",
                phone.as_str(),
                name.as_deref(),
                &wamid,
                &form.text,
                now / 1000,
            )
        }
    };
    let signature = whatsapp::signature::sign(secret.expose_secret().as_bytes(), body.as_bytes());
    let url = format!("{}/webhooks/whatsapp", state.cfg.self_url);
    let resp = state
        .http
        .post(url)
        .header(header::HOST, format!("api.{}", state.cfg.base_domain))
        .header(header::CONTENT_TYPE, "application/json")
        .header(whatsapp::signature::SIGNATURE_HEADER, signature)
        .body(body)
        .send()
        .await
        .map_err(|e| {
            AppError::Internal(anyhow::anyhow!(
                "simulator could not reach the webhook: {e}"
            ))
        })?;
    let mut out = Json(json!({ "status": resp.status().as_u16(), "sent_at": now })).into_response();
    let cookie = set_cookie(
        VIEW_COOKIE,
        &format!(
            "{}.{since_ms}.{}",
            phone.as_str(),
            view_mac(secret, scope, phone.as_str(), since_ms)
        ),
        scope.path,
        24 * 3600,
        state.cfg.https,
    );
    if let Ok(v) = header::HeaderValue::from_str(&cookie) {
        out.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(out)
}

#[derive(Deserialize)]
pub struct MessagesQuery {
    phone: String,
    #[serde(default)]
    after: i64,
}

/// The bot's messages to this phone once they went through the (fake) Graph API — only when
/// this browser is the one writing as that phone, and only from when it started.
pub async fn messages(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<MessagesQuery>,
) -> Result<Response, AppError> {
    let scope = demo_scope(&state).await?;
    messages_as(&state, &headers, q, &scope).await
}

pub async fn messages_as(
    state: &AppState,
    headers: &HeaderMap,
    q: MessagesQuery,
    scope: &Scope,
) -> Result<Response, AppError> {
    let phone = domain::ids::WaId::parse(&q.phone).map_err(AppError::BadRequest)?;
    let view = state
        .cfg
        .whatsapp_app_secret
        .as_ref()
        .and_then(|secret| view_of(headers, secret, scope))
        .filter(|v| v.phone == phone.as_str());
    let Some(view) = view else {
        // Nothing written from this browser as this number (yet): nothing to show.
        return Ok(Json(json!({ "messages": [] })).into_response());
    };
    let after = q.after.max(view.since_ms);
    let msgs = match &scope.channel_id {
        Some(ch) => {
            store::messages::outbound_for_wa_id_on(
                &state.db,
                &scope.tenant_id,
                ch,
                phone.as_str(),
                after,
            )
            .await?
        }
        None => {
            store::messages::outbound_for_wa_id(&state.db, &scope.tenant_id, phone.as_str(), after)
                .await?
        }
    };
    let out: Vec<serde_json::Value> = msgs
        .iter()
        .filter(|m| m.status != MessageStatus::Pending)
        .map(message_json)
        .collect();
    Ok(Json(json!({ "messages": out })).into_response())
}

/// One message as the simulator's page draws it. `by_person` marks a reply a person wrote in
/// the dashboard, which the page labels "atendente", not "robô".
fn message_json(m: &store::messages::Message) -> serde_json::Value {
    let payload: serde_json::Value = serde_json::from_str(&m.payload_json).unwrap_or_default();
    json!({
        "id": m.id,
        "direction": m.direction,
        // A document shows as WhatsApp shows one: a file, by its name.
        "body": match m.kind.as_str() {
            "document" => format!("📄 {}", m.body),
            _ => m.body.clone(),
        },
        "status": m.status,
        "error": m.error_message,
        "by_person": m.sent_by.is_some(),
        "buttons": payload.get("buttons").cloned().unwrap_or(json!([])),
        // A list message: the button that opens it and its rows (id, title, description).
        "list": (m.kind == "list").then(|| json!({
            "button": payload.get("button").cloned().unwrap_or_default(),
            "rows": payload.get("rows").cloned().unwrap_or(json!([])),
        })),
        // A CTA URL button (the quote page's link) shows as WhatsApp shows it: a link button.
        "link": (m.kind == "cta_url").then(|| json!({
            "label": worker::quote_link::LINK_LABEL,
            "url": payload.get("url").cloned().unwrap_or_default(),
        })),
        "created_at": m.created_at,
    })
}

/// The whole conversation this browser is having (its view cookie's number, from when it
/// started), both ways: a reload of the page draws the chat again instead of an empty phone
/// (issue 12 item 11). Without a view, an empty chat and no number.
pub async fn conversation(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let scope = demo_scope(&state).await?;
    conversation_as(&state, &headers, &scope).await
}

pub async fn conversation_as(
    state: &AppState,
    headers: &HeaderMap,
    scope: &Scope,
) -> Result<Response, AppError> {
    let view = state
        .cfg
        .whatsapp_app_secret
        .as_ref()
        .and_then(|secret| view_of(headers, secret, scope));
    let Some(view) = view else {
        return Ok(Json(json!({ "phone": null, "since": null, "messages": [] })).into_response());
    };
    // The first message itself was written at `since_ms`; the view starts a moment before.
    let from = view.since_ms - 1;
    let msgs = match &scope.channel_id {
        Some(ch) => {
            store::messages::chat_with_wa_id_on(&state.db, &scope.tenant_id, ch, &view.phone, from)
                .await?
        }
        None => {
            store::messages::chat_with_wa_id(&state.db, &scope.tenant_id, &view.phone, from).await?
        }
    };
    let out: Vec<serde_json::Value> = msgs
        .iter()
        .filter(|m| m.status != MessageStatus::Pending)
        .map(message_json)
        .collect();
    Ok(
        Json(json!({ "phone": view.phone, "since": view.since_ms, "messages": out }))
            .into_response(),
    )
}

/// Answers like Graph's `POST /{version}/{phone_number_id}/messages`, with the same rules as
/// Meta ([`whatsapp::mock`], shared with the tests): what Meta would refuse is refused here,
/// with Meta's error, so the simulator shows the failure a real customer would never see.
pub async fn fake_graph(
    Path((_version, pnid)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    // The worker's read receipt with typing indicator (issue 15 item 7): not a message.
    if let Some(read) = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .filter(|v| v.get("status").is_some())
    {
        return match whatsapp::mock::check_read_mark(&read) {
            Ok(_) => Json(json!({ "success": true })).into_response(),
            Err(refusal) => refused(&refusal, "a read receipt"),
        };
    }
    match whatsapp::mock::check_request(&pnid, authorization, None, &body) {
        Ok(msg) => {
            // Unique across demo restarts: the demo database outlives the process.
            let wamid = format!("wamid.FAKE{}", uuid::Uuid::now_v7().simple());
            Json(whatsapp::mock::accepted_answer(&msg, &wamid)).into_response()
        }
        Err(refusal) => refused(&refusal, "a message"),
    }
}

/// Answers like Graph's `POST /{version}/{phone_number_id}/media` with Meta's checks
/// ([`whatsapp::mock::check_upload`]): the quote PDF's upload in the demo. The file is not
/// kept; the simulator shows the document by its name.
pub async fn fake_graph_media(
    Path((_version, pnid)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let header_of = |name| {
        headers
            .get(name)
            .and_then(|v: &header::HeaderValue| v.to_str().ok())
    };
    match whatsapp::mock::check_upload(
        &pnid,
        header_of(header::AUTHORIZATION),
        None,
        header_of(header::CONTENT_TYPE),
        &body,
    ) {
        Ok(_) => {
            let id = uuid::Uuid::now_v7().as_u128() % 1_000_000_000_000_000;
            Json(json!({ "id": id.to_string() })).into_response()
        }
        Err(refusal) => refused(&refusal, "an upload"),
    }
}

/// A template the demo's fake Meta took: (waba id, id, name, language, category).
type FakeTemplate = (String, String, String, String, String);

/// The templates submitted to the demo's fake Graph, for this process (the demo database
/// outlives it: after a restart, "Atualizar status" finds nothing to change).
static FAKE_TEMPLATES: std::sync::Mutex<Vec<FakeTemplate>> = std::sync::Mutex::new(Vec::new());

fn fake_templates() -> std::sync::MutexGuard<'static, Vec<FakeTemplate>> {
    FAKE_TEMPLATES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Answers like Graph's `POST /{version}/{waba_id}/message_templates` with Meta's checks
/// (`whatsapp::mock::check_template_submission`): `{"id","status":"PENDING","category"}`, so
/// `/modelos-whatsapp` works in `orcazap demo`. A name already taken in that language is
/// refused as Meta does.
pub async fn fake_graph_template_submit(
    Path((_version, waba_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let (name, language, category, _text) =
        match whatsapp::mock::check_template_submission(&waba_id, authorization, &body) {
            Ok(t) => t,
            Err(refusal) => return refused(&refusal, "a template"),
        };
    let mut all = fake_templates();
    if all
        .iter()
        .any(|t| t.0 == waba_id && t.2 == name && t.3 == language)
    {
        return refused(
            &whatsapp::mock::Refusal::invalid_parameter(
                "Content in this language already exists for this template name",
            ),
            "a template",
        );
    }
    let id = (uuid::Uuid::now_v7().as_u128() % 1_000_000_000_000_000).to_string();
    all.push((waba_id, id.clone(), name, language, category.clone()));
    Json(json!({ "id": id, "status": "PENDING", "category": category })).into_response()
}

/// Answers like Graph's `GET /{version}/{waba_id}/message_templates`: every template the
/// demo's fake Meta took, **approved** (the demo has no reviewer; "Atualizar status com a
/// Meta" shows them approved, and the window decision can use them), one page.
pub async fn fake_graph_template_list(
    Path((_version, waba_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if let Err(refusal) = whatsapp::mock::check_template_list(&waba_id, authorization) {
        return refused(&refusal, "a template list");
    }
    let data: Vec<serde_json::Value> = fake_templates()
        .iter()
        .filter(|t| t.0 == waba_id)
        .map(|t| {
            json!({ "id": t.1, "name": t.2, "language": t.3, "status": "APPROVED",
                    "category": t.4, "rejected_reason": "NONE" })
        })
        .collect();
    Json(json!({ "data": data, "paging": { "cursors": { "before": "", "after": "" } } }))
        .into_response()
}

/// Answers like Graph's `GET /{version}/{media-id}` for a file the demo simulator sent: Meta's
/// shape, the URL pointing at [`fake_graph_download`]. The token is required, as at Meta.
pub async fn fake_graph_media_info(
    State(state): State<AppState>,
    Path((_version, media_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if !has_bearer(&headers) {
        return refused(
            &whatsapp::mock::Refusal {
                http_status: 401,
                code: 190,
                title: "Invalid OAuth access token",
                details: "Cannot parse access token".into(),
            },
            "a media look-up",
        );
    }
    let Some((mime, bytes)) = demo_media(&media_id) else {
        return refused(
            &whatsapp::mock::Refusal {
                http_status: 400,
                code: 100,
                title: "Invalid parameter",
                details: format!(
                    "Unsupported get request. Object with ID '{media_id}' does not exist"
                ),
            },
            "a media look-up",
        );
    };
    use sha2::Digest;
    Json(json!({
        "messaging_product": "whatsapp",
        "url": format!("{}/_fake_graph/download/{media_id}", state.cfg.self_url),
        "mime_type": mime,
        "sha256": hex::encode(sha2::Sha256::digest(&bytes)),
        "file_size": bytes.len().to_string(),
        "id": media_id,
    }))
    .into_response()
}

/// The download URL of [`fake_graph_media_info`]: the bytes, with the token only.
pub async fn fake_graph_download(Path(media_id): Path<String>, headers: HeaderMap) -> Response {
    if !has_bearer(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    match demo_media(&media_id) {
        Some((mime, bytes)) => ([(header::CONTENT_TYPE, mime)], bytes).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn has_bearer(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| !t.trim().is_empty())
}

/// Meta's error answer for what the fake Graph refused, logged as the demo's operator sees it.
fn refused(refusal: &whatsapp::mock::Refusal, what: &str) -> Response {
    tracing::warn!(code = refusal.code, details = %refusal.details, "fake Graph refused {what} as Meta would");
    (
        StatusCode::from_u16(refusal.http_status).unwrap_or(StatusCode::BAD_REQUEST),
        Json(refusal.to_json()),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The product question (issue 13) as the page gets it: the question's text, the button
    /// that opens the list and its rows; the rows' ids are what a tap sends back as a
    /// `list_reply`.
    #[test]
    fn a_list_message_carries_its_button_and_rows() {
        let payload = json!({
            "type": "list",
            "to": "5511987654321",
            "body": "Qual *fio* você quer?",
            "button": "Ver opções",
            "section_title": "Fio",
            "rows": [
                { "id": "choice:CAB-25M", "title": "Cabo flexível 2,5mm²…", "description": "R$ 2,99/m" },
                { "id": "choice:CAB-40M", "title": "Cabo flexível 4mm²…", "description": "R$ 4,69/m" },
            ],
        });
        let m = store::messages::Message {
            id: "m1".into(),
            tenant_id: "t".into(),
            conversation_id: "c".into(),
            contact_id: "k".into(),
            direction: domain::status::MessageDirection::Out,
            provider_message_id: None,
            kind: "list".into(),
            body: "Qual *fio* você quer?".into(),
            payload_json: payload.to_string(),
            status: MessageStatus::Sent,
            error_code: None,
            error_message: None,
            sent_by: None,
            request_id: None,
            created_at: 0,
        };
        let shown = message_json(&m);
        assert_eq!(shown["body"], "Qual *fio* você quer?");
        assert_eq!(shown["list"]["button"], "Ver opções");
        assert_eq!(shown["list"]["rows"][1]["id"], "choice:CAB-40M");
        assert_eq!(shown["buttons"], json!([]));
        // Any other message has no list.
        let text = store::messages::Message {
            kind: "text".into(),
            payload_json: "{}".into(),
            ..m
        };
        assert!(message_json(&text)["list"].is_null());
    }
}
