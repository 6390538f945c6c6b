//! One local stand-in for Meta's Graph API, used by every test crate, the load generator and
//! the demo's fake Graph endpoint (feature `mock`).
//!
//! It speaks Meta's wire format — `POST /{version}/{phone_number_id}/messages` with
//! `Authorization: Bearer …`, the success body with `contacts` and `messages[0].id`, and Meta's
//! error envelope on refusal — and it refuses what Meta documents as invalid ([`rules`]): a
//! payload the product builds passes here only if Meta would take it. Every request is
//! recorded, refused or not, so a test can say exactly what reached "Meta".

pub mod rules;
pub mod signup;
pub mod templates;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

pub use rules::check_message;
pub use signup::{AccountCall, AccountStep, MockNumber, Registration};
pub use templates::{check_read_mark, ListPage, MockTemplate, ReadMark};

/// Why Meta would refuse a request: an HTTP status and a Graph error code with its title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub http_status: u16,
    pub code: i64,
    pub title: &'static str,
    /// Meta's `error_data.details`: which parameter, and why.
    pub details: String,
}

/// Graph error codes the mock answers with (Meta's error-code reference).
pub mod codes {
    /// "Invalid parameter": an unknown field, a wrong JSON type, an unsupported type.
    pub const INVALID_PARAMETER: i64 = 100;
    /// "Invalid OAuth access token".
    pub const INVALID_TOKEN: i64 = 190;
    /// "Required parameter is missing".
    pub const REQUIRED_PARAMETER_MISSING: i64 = 131008;
    /// "Parameter value is not valid": a length, count, format or uniqueness limit.
    pub const PARAMETER_VALUE_NOT_VALID: i64 = 131009;
}

impl Refusal {
    fn new(code: i64, title: &'static str, details: impl Into<String>) -> Refusal {
        Refusal {
            http_status: 400,
            code,
            title,
            details: details.into(),
        }
    }

    pub fn invalid_parameter(details: &str) -> Refusal {
        Refusal::new(codes::INVALID_PARAMETER, "Invalid parameter", details)
    }

    pub(crate) fn unknown_field(name: &str) -> Refusal {
        Refusal::invalid_parameter(&format!("Unexpected key \"{name}\" on this message"))
    }

    pub(crate) fn missing(what: &str) -> Refusal {
        Refusal::new(
            codes::REQUIRED_PARAMETER_MISSING,
            "Required parameter is missing",
            format!("{what} is required"),
        )
    }

    pub(crate) fn param_value(details: &str) -> Refusal {
        Refusal::new(
            codes::PARAMETER_VALUE_NOT_VALID,
            "Parameter value is not valid",
            details,
        )
    }

    fn invalid_token(details: &str) -> Refusal {
        Refusal {
            http_status: 401,
            ..Refusal::new(codes::INVALID_TOKEN, "Invalid OAuth access token", details)
        }
    }

    /// Meta's error envelope.
    pub fn to_json(&self) -> Value {
        let mut error = json!({
            "message": format!("(#{}) {}", self.code, self.title),
            "type": "OAuthException",
            "code": self.code,
            "fbtrace_id": "AMockGraphTrace",
        });
        if self.code == codes::INVALID_TOKEN {
            error["message"] = json!(format!("{} - {}", self.title, self.details));
        } else {
            error["error_data"] =
                json!({ "messaging_product": "whatsapp", "details": self.details });
        }
        json!({ "error": error })
    }
}

/// The whole check of one request, as Meta does it: the path's ids, the Bearer token
/// (`expected_token`: only that token is valid; None: any non-empty token), then the body.
/// Returns the parsed message on success.
pub fn check_request(
    phone_number_id: &str,
    authorization: Option<&str>,
    expected_token: Option<&str>,
    body: &[u8],
) -> Result<Value, Refusal> {
    check_caller(phone_number_id, authorization, expected_token)?;
    let msg: Value = serde_json::from_slice(body)
        .map_err(|_| Refusal::invalid_parameter("the request body is not valid JSON"))?;
    check_message(&msg)?;
    Ok(msg)
}

/// What every Graph call is checked for first, messages and uploads alike: the bearer token
/// (only `expected_token` when set) and a phone number id of digits in the path.
fn check_caller(
    phone_number_id: &str,
    authorization: Option<&str>,
    expected_token: Option<&str>,
) -> Result<(), Refusal> {
    let token = authorization
        .and_then(|h| h.strip_prefix("Bearer "))
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| Refusal::invalid_token("Cannot parse access token"))?;
    if expected_token.is_some_and(|e| e != token) {
        return Err(Refusal::invalid_token(
            "The access token could not be decrypted",
        ));
    }
    if phone_number_id.is_empty() || !phone_number_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Refusal::invalid_parameter(
            "the phone number id in the path must be digits",
        ));
    }
    Ok(())
}

/// A template submission (`POST /{waba_id}/message_templates`) checked as Meta checks it —
/// caller, then body — for a fake Graph that keeps its own list (the demo's). Returns the
/// name, language, category and body text.
pub fn check_template_submission(
    waba_id: &str,
    authorization: Option<&str>,
    body: &[u8],
) -> Result<(String, String, String, String), Refusal> {
    check_caller(waba_id, authorization, None)?;
    let v: Value = serde_json::from_slice(body)
        .map_err(|_| Refusal::invalid_parameter("the request body is not valid JSON"))?;
    let (name, language, category, text, _) = templates::check_submission(&v)?;
    Ok((name, language, category, text))
}

/// The caller of a template list (`GET /{waba_id}/message_templates`), checked as Meta does.
pub fn check_template_list(waba_id: &str, authorization: Option<&str>) -> Result<(), Refusal> {
    check_caller(waba_id, authorization, None)
}

/// Meta's success body for an accepted message sent to a phone (`to`).
pub fn accepted_body(to: &str, wamid: &str) -> Value {
    json!({
        "messaging_product": "whatsapp",
        "contacts": [{ "input": to, "wa_id": to }],
        "messages": [{ "id": wamid }],
    })
}

/// Meta's success body for a message sent to a business-scoped user id (`recipient`):
/// `contacts[].user_id` instead of `wa_id`.
pub fn accepted_body_for_user_id(user_id: &str, wamid: &str) -> Value {
    json!({
        "messaging_product": "whatsapp",
        "contacts": [{ "input": user_id, "user_id": user_id }],
        "messages": [{ "id": wamid }],
    })
}

/// Meta's success body for an accepted request, by how it was addressed: `to` wins over
/// `recipient` when both are present, as at Meta.
pub fn accepted_answer(msg: &Value, wamid: &str) -> Value {
    match (msg["to"].as_str(), msg["recipient"].as_str()) {
        (None, Some(user_id)) => accepted_body_for_user_id(user_id, wamid),
        (to, _) => accepted_body(to.unwrap_or_default(), wamid),
    }
}

/// What became of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Accepted {
        wamid: String,
    },
    /// Refused by Meta's rules (400, or 401 for the token).
    Refused(Refusal),
    /// A valid request answered with a scripted status (e.g. a rate limit).
    Scripted {
        status: u16,
    },
}

/// One request the mock received.
#[derive(Debug, Clone)]
pub struct Call {
    pub version: String,
    pub phone_number_id: String,
    pub authorization: Option<String>,
    pub request_id: Option<String>,
    pub content_type: Option<String>,
    /// The JSON body (Null if it was not JSON).
    pub body: Value,
    pub at: Instant,
    pub outcome: Outcome,
}

impl Call {
    /// The phone the message went to (`to`); empty when it was sent by user id.
    pub fn to(&self) -> &str {
        self.body["to"].as_str().unwrap_or_default()
    }

    /// The business-scoped user id the message went to (`recipient`), when sent that way.
    pub fn recipient(&self) -> Option<&str> {
        self.body["recipient"].as_str()
    }

    /// The text of a text message, or the body of an interactive one.
    pub fn text(&self) -> &str {
        self.body["text"]["body"]
            .as_str()
            .or_else(|| self.body["interactive"]["body"]["text"].as_str())
            .unwrap_or_default()
    }

    pub fn is_interactive(&self) -> bool {
        self.body["type"] == "interactive"
    }

    /// The (label, URL) of a call-to-action URL button message.
    pub fn cta_url(&self) -> Option<(&str, &str)> {
        let i = &self.body["interactive"];
        if i["type"] != "cta_url" {
            return None;
        }
        let p = &i["action"]["parameters"];
        Some((p["display_text"].as_str()?, p["url"].as_str()?))
    }

    pub fn is_accepted(&self) -> bool {
        matches!(self.outcome, Outcome::Accepted { .. })
    }

    pub fn wamid(&self) -> Option<&str> {
        match &self.outcome {
            Outcome::Accepted { wamid } => Some(wamid),
            _ => None,
        }
    }

    pub fn refusal(&self) -> Option<&Refusal> {
        match &self.outcome {
            Outcome::Refused(r) => Some(r),
            _ => None,
        }
    }
}

struct ScriptedAnswer {
    status: u16,
    body: String,
    delay: Duration,
}

/// A file uploaded through `POST /{version}/{phone_number_id}/media`.
#[derive(Debug, Clone)]
pub struct Upload {
    pub id: String,
    pub phone_number_id: String,
    pub mime_type: String,
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// A file a customer "sent": what `GET /{version}/{media-id}` describes and the download URL
/// serves (issue 16). Added by tests and the demo's simulator with [`MockGraph::add_media`].
#[derive(Debug, Clone)]
pub struct InboundMedia {
    pub id: String,
    pub mime_type: String,
    pub bytes: Vec<u8>,
}

/// Where the mock serves downloads, like Meta's `lookaside.fbsbx.com/whatsapp_business/attachments/`.
pub const DOWNLOAD_PATH: &str = "/lookaside/whatsapp_business/attachments/";

struct Inner {
    calls: Mutex<Vec<Call>>,
    uploads: Mutex<Vec<Upload>>,
    inbound_media: Mutex<Vec<InboundMedia>>,
    /// Media-id look-ups and downloads, in order: (path kind, media id, accepted).
    media_fetches: Mutex<Vec<(String, String, bool)>>,
    base_url: Mutex<String>,
    templates: Mutex<Vec<MockTemplate>>,
    read_marks: Mutex<Vec<ReadMark>>,
    /// Template list pages served (`GET message_templates`), and the largest page the mock
    /// serves whatever `limit` asks (Meta caps pages too).
    template_pages: Mutex<Vec<templates::ListPage>>,
    template_page_max: AtomicU64,
    accounts: signup::Accounts,
    script: Mutex<VecDeque<ScriptedAnswer>>,
    counter: AtomicU64,
    token: Option<String>,
    delay: Duration,
    wamid_prefix: String,
}

/// A running mock Graph API. Cloning shares the same server and records.
#[derive(Clone)]
pub struct MockGraph {
    /// `http://127.0.0.1:PORT`: the Graph base URL to configure.
    pub url: String,
    pub addr: SocketAddr,
    inner: Arc<Inner>,
}

/// How to start a [`MockGraph`].
#[derive(Default)]
pub struct MockGraphBuilder {
    token: Option<String>,
    delay: Duration,
    wamid_prefix: Option<String>,
}

impl MockGraphBuilder {
    /// Only this access token is valid (others get 401, code 190).
    pub fn token(mut self, token: &str) -> Self {
        self.token = Some(token.to_string());
        self
    }

    /// Every accepted message is answered after this delay (latency of the real API).
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Accepted messages are named `{prefix}{n}` (default `wamid.MOCK-`). Meta's ids are
    /// unique forever; a mock restarted against the same database (a soak of many runs) needs
    /// a prefix of its own, or its ids repeat and the database's unique key refuses them.
    pub fn wamid_prefix(mut self, prefix: &str) -> Self {
        self.wamid_prefix = Some(prefix.to_string());
        self
    }

    pub async fn listen(self, addr: &str) -> std::io::Result<MockGraph> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let inner = Arc::new(Inner {
            calls: Mutex::default(),
            uploads: Mutex::default(),
            inbound_media: Mutex::default(),
            media_fetches: Mutex::default(),
            base_url: Mutex::new(format!("http://{addr}")),
            templates: Mutex::default(),
            read_marks: Mutex::default(),
            template_pages: Mutex::default(),
            template_page_max: AtomicU64::new(templates::DEFAULT_PAGE_MAX),
            accounts: signup::Accounts::default(),
            script: Mutex::default(),
            counter: AtomicU64::new(0),
            token: self.token,
            delay: self.delay,
            wamid_prefix: self.wamid_prefix.unwrap_or_else(|| "wamid.MOCK-".into()),
        });
        let app = Router::new()
            .route("/{version}/{phone_number_id}/messages", post(messages))
            .route(
                "/{version}/{phone_number_id}/media",
                post(media).layer(axum::extract::DefaultBodyLimit::max(
                    rules::DOCUMENT_BYTES_MAX + 64 * 1024,
                )),
            )
            .route("/{version}/{object_id}", get(graph_object))
            .route(DOWNLOAD_PATH, get(media_download))
            .route(
                "/{version}/{waba_id}/message_templates",
                get(templates::list).post(templates::submit),
            )
            .merge(signup::routes())
            .with_state(inner.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "mock Graph API stopped");
            }
        });
        Ok(MockGraph {
            url: format!("http://{addr}"),
            addr,
            inner,
        })
    }

    /// On 127.0.0.1, a free port.
    pub async fn start(self) -> MockGraph {
        self.listen("127.0.0.1:0")
            .await
            .expect("mock Graph API binds a local port")
    }
}

impl MockGraph {
    pub fn builder() -> MockGraphBuilder {
        MockGraphBuilder::default()
    }

    /// On 127.0.0.1, a free port, any non-empty token.
    pub async fn start() -> MockGraph {
        MockGraph::builder().start().await
    }

    /// The next valid requests get these answers, in order, instead of success (e.g. Meta's
    /// rate-limit body). Refusals by Meta's rules come first and do not use the script.
    pub fn script(&self, status: u16, body: impl Into<String>) {
        self.script_delayed(status, body, Duration::ZERO);
    }

    pub fn script_delayed(&self, status: u16, body: impl Into<String>, delay: Duration) {
        lock(&self.inner.script).push_back(ScriptedAnswer {
            status,
            body: body.into(),
            delay,
        });
    }

    /// Every request so far, in arrival order.
    pub fn calls(&self) -> Vec<Call> {
        lock(&self.inner.calls).clone()
    }

    /// Requests that Meta would have delivered.
    pub fn accepted(&self) -> Vec<Call> {
        self.with_calls(|c| c.iter().filter(|c| c.is_accepted()).cloned().collect())
    }

    /// Requests refused by Meta's rules.
    pub fn refused(&self) -> Vec<Call> {
        self.with_calls(|c| {
            c.iter()
                .filter(|c| c.refusal().is_some())
                .cloned()
                .collect()
        })
    }

    /// Every file uploaded so far, in arrival order.
    pub fn uploads(&self) -> Vec<Upload> {
        lock(&self.inner.uploads).clone()
    }

    /// Makes a file available as customer media (`GET /{version}/{id}` describes it, the
    /// download URL serves it with the token) and returns its media id.
    pub fn add_media(&self, mime_type: &str, bytes: Vec<u8>) -> String {
        let n = self.inner.counter.fetch_add(1, Ordering::Relaxed) + 1;
        let id = format!("{}", 700_000_000_000_000u64 + n);
        lock(&self.inner.inbound_media).push(InboundMedia {
            id: id.clone(),
            mime_type: mime_type.to_string(),
            bytes,
        });
        id
    }

    /// Media look-ups (`"info"`) and downloads (`"download"`) so far: (kind, media id, accepted).
    pub fn media_fetches(&self) -> Vec<(String, String, bool)> {
        lock(&self.inner.media_fetches).clone()
    }

    /// Reads the records without copying them (the load generator polls thousands).
    pub fn with_calls<T>(&self, f: impl FnOnce(&[Call]) -> T) -> T {
        f(&lock(&self.inner.calls))
    }
}

/// A panic in a handler only interrupts a push; the records stay usable.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

async fn messages(
    State(inner): State<Arc<Inner>>,
    Path((version, phone_number_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let at = Instant::now();
    let authorization = header(&headers, "authorization");
    if let Some(answer) = read_mark(&inner, &phone_number_id, authorization.as_deref(), &body) {
        return answer;
    }
    let checked = check_request(
        &phone_number_id,
        authorization.as_deref(),
        inner.expected_token(authorization.as_deref()),
        &body,
    );
    // A document must name media uploaded to this number (Meta answers 400 otherwise).
    let checked = checked.and_then(|msg| match msg["document"]["id"].as_str() {
        Some(id)
            if !lock(&inner.uploads)
                .iter()
                .any(|u| u.id == id && u.phone_number_id == phone_number_id) =>
        {
            Err(Refusal::param_value(
                "document.id is not media uploaded to this phone number",
            ))
        }
        _ => Ok(msg),
    });
    // A template must have been submitted, approved, and get one parameter per variable.
    let checked = checked.and_then(|msg| match msg["type"].as_str() {
        Some("template") => templates::check_template_send(&inner, &msg).map(|()| msg),
        _ => Ok(msg),
    });
    let (outcome, status, answer, delay) = match checked {
        Err(r) => (
            Outcome::Refused(r.clone()),
            r.http_status,
            r.to_json().to_string(),
            Duration::ZERO,
        ),
        Ok(msg) => match lock(&inner.script).pop_front() {
            Some(s) => (
                Outcome::Scripted { status: s.status },
                s.status,
                s.body,
                s.delay,
            ),
            None => {
                let n = inner.counter.fetch_add(1, Ordering::Relaxed) + 1;
                let wamid = format!("{}{n}", inner.wamid_prefix);
                let answer = accepted_answer(&msg, &wamid).to_string();
                (Outcome::Accepted { wamid }, 200, answer, inner.delay)
            }
        },
    };
    lock(&inner.calls).push(Call {
        version,
        phone_number_id,
        authorization,
        request_id: header(&headers, "x-request-id"),
        content_type: header(&headers, "content-type"),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        at,
        outcome,
    });
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [("content-type", "application/json")],
        answer,
    )
        .into_response()
}

/// A read receipt (`status: read`, with or without typing indicator) sent to `/messages`:
/// recorded apart from messages (it is not one) and answered `{"success": true}`. None when
/// the body is not a read receipt.
fn read_mark(
    inner: &Inner,
    phone_number_id: &str,
    authorization: Option<&str>,
    body: &[u8],
) -> Option<Response> {
    let msg: Value = serde_json::from_slice(body).ok()?;
    msg.get("status")?;
    let checked = check_caller(
        phone_number_id,
        authorization,
        inner.expected_token(authorization),
    )
    .and_then(|()| templates::check_read_mark(&msg));
    let (status, answer) = match &checked {
        Ok(_) => (200, json!({ "success": true })),
        Err(r) => (r.http_status, r.to_json()),
    };
    lock(&inner.read_marks).push(ReadMark {
        phone_number_id: phone_number_id.to_string(),
        message_id: msg["message_id"].as_str().unwrap_or_default().to_string(),
        typing: checked.as_ref().is_ok_and(|(_, t)| *t),
        accepted: checked.is_ok(),
    });
    Some(
        (
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            [("content-type", "application/json")],
            answer.to_string(),
        )
            .into_response(),
    )
}

fn json_answer(status: u16, body: Value) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// The Bearer token as Meta checks it: present, and the expected one when set.
fn check_token(authorization: Option<&str>, expected: Option<&str>) -> Result<(), Refusal> {
    let token = authorization
        .and_then(|h| h.strip_prefix("Bearer "))
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| Refusal::invalid_token("Cannot parse access token"))?;
    if expected.is_some_and(|e| e != token) {
        return Err(Refusal::invalid_token(
            "The access token could not be decrypted",
        ));
    }
    Ok(())
}

/// `GET /{version}/{media-id}` ("Retrieve media URL"): `{messaging_product, url, mime_type,
/// sha256, file_size, id}`, the URL pointing at this server's download path.
/// `GET /{version}/{id}`: Graph reads any object by its id. A media id the mock holds is a
/// media look-up; a read with `fields` (Embedded Signup, the connection health) is a phone
/// number's; anything else is answered as an unknown media id, as Meta would.
async fn graph_object(
    state: State<Arc<Inner>>,
    path: Path<(String, String)>,
    query: axum::extract::Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let media = lock(&state.inbound_media).iter().any(|m| m.id == path.1);
    if !media && query.contains_key("fields") {
        return signup::phone_number(state, path, query, headers).await;
    }
    media_info(state, path, headers).await
}

async fn media_info(
    State(inner): State<Arc<Inner>>,
    Path((_version, media_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let authorization = header(&headers, "authorization");
    let found = lock(&inner.inbound_media)
        .iter()
        .find(|m| m.id == media_id)
        .cloned();
    let answer = check_token(authorization.as_deref(), inner.token.as_deref()).and_then(|()| {
        found.ok_or_else(|| {
            Refusal::invalid_parameter(&format!(
                "Unsupported get request. Object with ID '{media_id}' does not exist"
            ))
        })
    });
    lock(&inner.media_fetches).push(("info".into(), media_id.clone(), answer.is_ok()));
    match answer {
        Err(r) => json_answer(r.http_status, r.to_json()),
        Ok(m) => {
            use sha2::Digest;
            let base = lock(&inner.base_url).clone();
            json_answer(
                200,
                json!({
                    "messaging_product": "whatsapp",
                    "url": format!("{base}{DOWNLOAD_PATH}?mid={}&ext=1&hash=ATmock", m.id),
                    "mime_type": m.mime_type,
                    "sha256": hex::encode(sha2::Sha256::digest(&m.bytes)),
                    "file_size": m.bytes.len().to_string(),
                    "id": m.id,
                }),
            )
        }
    }
}

#[derive(serde::Deserialize)]
struct DownloadQuery {
    #[serde(default)]
    mid: String,
}

/// The download URL: the bytes, only with the Bearer token (Meta answers 401 without it).
async fn media_download(
    State(inner): State<Arc<Inner>>,
    axum::extract::Query(q): axum::extract::Query<DownloadQuery>,
    headers: HeaderMap,
) -> Response {
    let authorization = header(&headers, "authorization");
    let found = lock(&inner.inbound_media)
        .iter()
        .find(|m| m.id == q.mid)
        .cloned();
    let ok = check_token(authorization.as_deref(), inner.token.as_deref()).is_ok();
    lock(&inner.media_fetches).push(("download".into(), q.mid.clone(), ok && found.is_some()));
    match (ok, found) {
        (false, _) => (StatusCode::UNAUTHORIZED, "").into_response(),
        (true, None) => (StatusCode::NOT_FOUND, "").into_response(),
        (true, Some(m)) => (
            StatusCode::OK,
            [("content-type", m.mime_type.clone())],
            m.bytes,
        )
            .into_response(),
    }
}

/// `POST /{version}/{phone_number_id}/media`: Meta's upload, `multipart/form-data` with
/// `messaging_product=whatsapp`, `type` (the MIME type) and `file`. Answers `{"id": …}`.
async fn media(
    State(inner): State<Arc<Inner>>,
    Path((_version, phone_number_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let authorization = header(&headers, "authorization");
    let checked = check_upload(
        &phone_number_id,
        authorization.as_deref(),
        inner.expected_token(authorization.as_deref()),
        header(&headers, "content-type").as_deref(),
        &body,
    );
    match checked {
        Err(r) => (
            StatusCode::from_u16(r.http_status).unwrap_or(StatusCode::BAD_REQUEST),
            [("content-type", "application/json")],
            r.to_json().to_string(),
        )
            .into_response(),
        Ok((mime_type, filename, bytes)) => {
            let n = inner.counter.fetch_add(1, Ordering::Relaxed) + 1;
            let id = format!("{}", 900_000_000_000_000u64 + n);
            lock(&inner.uploads).push(Upload {
                id: id.clone(),
                phone_number_id,
                mime_type,
                filename,
                bytes,
            });
            (
                StatusCode::OK,
                [("content-type", "application/json")],
                json!({ "id": id }).to_string(),
            )
                .into_response()
        }
    }
}

/// The upload's token, path and form, as Meta checks them: (MIME type, file name, bytes).
pub fn check_upload(
    phone_number_id: &str,
    authorization: Option<&str>,
    expected_token: Option<&str>,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<(String, String, Vec<u8>), Refusal> {
    check_caller(phone_number_id, authorization, expected_token)?;
    let boundary = content_type
        .filter(|c| c.starts_with("multipart/form-data"))
        .and_then(|c| c.split("boundary=").nth(1))
        .map(|b| b.trim_matches('"').to_string())
        .ok_or_else(|| Refusal::invalid_parameter("the upload must be multipart/form-data"))?;
    let parts = multipart_parts(body, &boundary)
        .ok_or_else(|| Refusal::invalid_parameter("the multipart body does not parse"))?;
    let field = |name: &str| parts.iter().find(|p| p.name == name);
    let text = |name: &str| field(name).map(|p| String::from_utf8_lossy(&p.bytes).to_string());
    if text("messaging_product").as_deref() != Some("whatsapp") {
        return Err(Refusal::missing("messaging_product"));
    }
    let mime_type = text("type").ok_or_else(|| Refusal::missing("type"))?;
    if !rules::DOCUMENT_TYPES.contains(&mime_type.as_str()) {
        return Err(Refusal::param_value(&format!(
            "media type {mime_type} is not a document type the mock models"
        )));
    }
    let file = field("file").ok_or_else(|| Refusal::missing("file"))?;
    if file.bytes.is_empty() || file.bytes.len() > rules::DOCUMENT_BYTES_MAX {
        return Err(Refusal::param_value("file must have 1 byte to 100 MB"));
    }
    if mime_type == "application/pdf" && !file.bytes.starts_with(b"%PDF-") {
        return Err(Refusal::param_value("file is not a PDF"));
    }
    Ok((mime_type, file.filename.clone(), file.bytes.clone()))
}

struct Part {
    name: String,
    filename: String,
    bytes: Vec<u8>,
}

/// Splits a `multipart/form-data` body into its named parts.
fn multipart_parts(body: &[u8], boundary: &str) -> Option<Vec<Part>> {
    let delimiter = format!("--{boundary}");
    let d = delimiter.as_bytes();
    let mut starts = Vec::new();
    let mut i = 0;
    while i + d.len() <= body.len() {
        if &body[i..i + d.len()] == d {
            starts.push(i);
            i += d.len();
        } else {
            i += 1;
        }
    }
    let mut parts = Vec::new();
    for w in starts.windows(2) {
        let chunk = &body[w[0] + d.len()..w[1]];
        let chunk = chunk.strip_prefix(b"\r\n")?;
        let chunk = chunk.strip_suffix(b"\r\n")?;
        let split = chunk.windows(4).position(|x| x == b"\r\n\r\n")?;
        let head = std::str::from_utf8(&chunk[..split]).ok()?;
        let disposition = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition"))?;
        let param = |key: &str| {
            disposition
                .split(';')
                .map(str::trim)
                .find_map(|p| p.strip_prefix(&format!("{key}=")))
                .map(|v| v.trim_matches('"').to_string())
        };
        parts.push(Part {
            name: param("name")?,
            filename: param("filename").unwrap_or_default(),
            bytes: chunk[split + 4..].to_vec(),
        });
    }
    Some(parts)
}
