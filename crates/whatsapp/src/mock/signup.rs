//! Embedded Signup's Graph endpoints as the mock plays them, in Meta's wire format:
//!
//! - `GET /{version}/oauth/access_token?client_id&client_secret&code`: a code a test granted
//!   ([`MockGraph::signup_grant`]) becomes a business token for its WABA, once (a second
//!   exchange: code 100, subcode 36009; an unknown code: 100 "Invalid verification code
//!   format."; a wrong app id or secret: code 1 "Error validating client secret.");
//! - `POST /{version}/{waba_id}/subscribed_apps` → `{"success": true}`;
//! - `POST /{version}/{phone_number_id}/register` with `messaging_product` and a 6-digit
//!   `pin` → `{"success": true}` (a number with a PIN refuses another one: 133005);
//! - `GET /{version}/{phone_number_id}?fields=…` → the fields asked for, and `id`.
//!
//! A business token is valid for its WABA's objects and, like the builder's token, for
//! sending from its numbers. [`MockGraph::fail_next`] makes the next call of one step answer
//! what a test scripts (Meta's error bodies), and [`MockGraph::account_calls`] records every
//! call, refused or not, apart from the messages.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

use super::{header, lock, Inner, MockGraph};

/// The four account calls of Embedded Signup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccountStep {
    ExchangeCode,
    SubscribeApp,
    Register,
    PhoneNumber,
}

/// A number Meta knows, as a test describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockNumber {
    pub id: String,
    pub waba_id: String,
    pub display_phone_number: String,
    pub verified_name: String,
    /// `GREEN`, `YELLOW`, `RED`, `UNKNOWN`.
    pub quality_rating: String,
    /// The two-step verification PIN it already has (None: the first registration sets it).
    pub pin: Option<String>,
}

/// One account call the mock received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountCall {
    pub step: AccountStep,
    /// The WABA or number id in the path (empty for the code exchange).
    pub object_id: String,
    pub authorization: Option<String>,
    pub status: u16,
}

/// A registration Meta accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub phone_number_id: String,
    pub pin: String,
}

struct Grant {
    code: String,
    waba_id: String,
    used: bool,
}

#[derive(Default)]
pub(super) struct Accounts {
    app: Mutex<Option<(String, String)>>,
    grants: Mutex<Vec<Grant>>,
    numbers: Mutex<Vec<MockNumber>>,
    /// Business token → its WABA.
    tokens: Mutex<HashMap<String, String>>,
    subscriptions: Mutex<Vec<String>>,
    registrations: Mutex<Vec<Registration>>,
    failures: Mutex<HashMap<AccountStep, (u16, String)>>,
    calls: Mutex<Vec<AccountCall>>,
}

impl Inner {
    /// The token a call must carry: the builder's (None: any), or the business token the
    /// caller presents when Embedded Signup issued it.
    pub(super) fn expected_token<'a>(&'a self, authorization: Option<&'a str>) -> Option<&'a str> {
        let presented = authorization.and_then(|h| h.strip_prefix("Bearer "));
        match presented {
            Some(t) if lock(&self.accounts.tokens).contains_key(t) => Some(t),
            _ => self.token.as_deref(),
        }
    }
}

impl MockGraph {
    /// The app whose credentials the code exchange accepts (`client_id`, `client_secret`).
    pub fn signup_app(&self, app_id: &str, app_secret: &str) {
        *lock(&self.inner.accounts.app) = Some((app_id.into(), app_secret.into()));
    }

    /// A code Meta's popup hands the browser after the store chose this WABA.
    pub fn signup_grant(&self, code: &str, waba_id: &str) {
        lock(&self.inner.accounts.grants).push(Grant {
            code: code.into(),
            waba_id: waba_id.into(),
            used: false,
        });
    }

    /// A number Meta knows (its WABA, display form, name, rating and PIN).
    pub fn phone_number(&self, number: MockNumber) {
        let mut numbers = lock(&self.inner.accounts.numbers);
        numbers.retain(|n| n.id != number.id);
        numbers.push(number);
    }

    /// Changes a known number's quality rating (Meta re-rates numbers over time).
    pub fn set_quality(&self, phone_number_id: &str, rating: &str) {
        for n in lock(&self.inner.accounts.numbers).iter_mut() {
            if n.id == phone_number_id {
                n.quality_rating = rating.into();
            }
        }
    }

    /// The next call of `step` is answered with this status and body (Meta's error envelope).
    pub fn fail_next(&self, step: AccountStep, status: u16, body: Value) {
        lock(&self.inner.accounts.failures).insert(step, (status, body.to_string()));
    }

    /// Revokes every business token issued so far (a store removed our app).
    pub fn revoke_business_tokens(&self) {
        lock(&self.inner.accounts.tokens).clear();
    }

    /// Business tokens issued by code exchanges, with their WABA.
    pub fn issued_tokens(&self) -> Vec<(String, String)> {
        lock(&self.inner.accounts.tokens)
            .iter()
            .map(|(t, w)| (t.clone(), w.clone()))
            .collect()
    }

    /// WABAs our app was subscribed to, in order.
    pub fn subscriptions(&self) -> Vec<String> {
        lock(&self.inner.accounts.subscriptions).clone()
    }

    /// Registrations Meta accepted, in order.
    pub fn registrations(&self) -> Vec<Registration> {
        lock(&self.inner.accounts.registrations).clone()
    }

    /// Every account call so far, refused or not.
    pub fn account_calls(&self) -> Vec<AccountCall> {
        lock(&self.inner.accounts.calls).clone()
    }
}

pub(super) fn routes() -> Router<Arc<Inner>> {
    Router::new()
        .route("/{version}/oauth/access_token", get(exchange))
        .route("/{version}/{waba_id}/subscribed_apps", post(subscribe))
        .route("/{version}/{phone_number_id}/register", post(register))
}

fn answer(status: u16, body: String) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        [("content-type", "application/json")],
        body,
    )
        .into_response()
}

/// Meta's OAuth/Graph error envelope.
fn graph_error(code: i64, subcode: Option<i64>, message: &str) -> Value {
    let mut error = json!({
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AMockSignupTrace",
    });
    if let Some(s) = subcode {
        error["error_subcode"] = json!(s);
    }
    json!({ "error": error })
}

fn unknown_object(id: &str, method: &str) -> (u16, Value) {
    (
        400,
        graph_error(
            100,
            Some(33),
            &format!("Unsupported {method} request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation."),
        ),
    )
}

fn invalid_token() -> (u16, Value) {
    (
        401,
        graph_error(
            190,
            None,
            "Invalid OAuth access token - Cannot parse access token",
        ),
    )
}

/// Records the call and answers: the scripted failure for the step when there is one,
/// otherwise what `handle` decided.
fn finish(
    inner: &Inner,
    step: AccountStep,
    object_id: &str,
    authorization: Option<String>,
    handle: impl FnOnce() -> (u16, Value),
) -> Response {
    let scripted = lock(&inner.accounts.failures).remove(&step);
    let (status, body) = match scripted {
        Some((status, body)) => (status, body),
        None => {
            let (status, body) = handle();
            (status, body.to_string())
        }
    };
    lock(&inner.accounts.calls).push(AccountCall {
        step,
        object_id: object_id.into(),
        authorization,
        status,
    });
    answer(status, body)
}

/// Whether `authorization` may act on objects of `waba_id`: its business token, or the
/// builder's token (the platform's own system user, as the seeded channels use).
fn may_act_on(inner: &Inner, authorization: Option<&str>, waba_id: &str) -> bool {
    let Some(token) = authorization.and_then(|h| h.strip_prefix("Bearer ")) else {
        return false;
    };
    if let Some(w) = lock(&inner.accounts.tokens).get(token) {
        return w == waba_id;
    }
    match &inner.token {
        Some(t) => t == token,
        None => !token.trim().is_empty(),
    }
}

async fn exchange(
    State(inner): State<Arc<Inner>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let inner = &*inner;
    finish(inner, AccountStep::ExchangeCode, "", None, || {
        let (Some(id), Some(secret), Some(code)) =
            (q.get("client_id"), q.get("client_secret"), q.get("code"))
        else {
            return (
                400,
                graph_error(
                    100,
                    None,
                    "Missing client_id, client_secret or code parameter.",
                ),
            );
        };
        let app_ok = lock(&inner.accounts.app)
            .as_ref()
            .is_some_and(|(a, s)| a == id && s == secret);
        if !app_ok {
            return (400, graph_error(1, None, "Error validating client secret."));
        }
        let mut grants = lock(&inner.accounts.grants);
        let Some(grant) = grants.iter_mut().find(|g| &g.code == code) else {
            return (
                400,
                graph_error(100, None, "Invalid verification code format."),
            );
        };
        if grant.used {
            return (
                400,
                graph_error(100, Some(36009), "This authorization code has been used."),
            );
        }
        grant.used = true;
        let n = inner.counter.fetch_add(1, Ordering::Relaxed) + 1;
        let token = format!("EAAMockBusiness{n:06}x{}", grant.waba_id);
        lock(&inner.accounts.tokens).insert(token.clone(), grant.waba_id.clone());
        (200, json!({ "access_token": token }))
    })
}

async fn subscribe(
    State(inner): State<Arc<Inner>>,
    Path((_version, waba_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let authorization = header(&headers, "authorization");
    let inner = &*inner;
    let auth = authorization.clone();
    finish(
        inner,
        AccountStep::SubscribeApp,
        &waba_id,
        authorization,
        || {
            if auth.is_none() {
                return invalid_token();
            }
            let known = lock(&inner.accounts.numbers)
                .iter()
                .any(|n| n.waba_id == waba_id);
            if !known || !may_act_on(inner, auth.as_deref(), &waba_id) {
                return unknown_object(&waba_id, "post");
            }
            let mut subs = lock(&inner.accounts.subscriptions);
            if !subs.contains(&waba_id) {
                subs.push(waba_id.clone());
            }
            (200, json!({ "success": true }))
        },
    )
}

async fn register(
    State(inner): State<Arc<Inner>>,
    Path((_version, phone_number_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let authorization = header(&headers, "authorization");
    let inner = &*inner;
    let auth = authorization.clone();
    finish(
        inner,
        AccountStep::Register,
        &phone_number_id,
        authorization,
        || {
            if auth.is_none() {
                return invalid_token();
            }
            let mut numbers = lock(&inner.accounts.numbers);
            let Some(number) = numbers.iter_mut().find(|n| n.id == phone_number_id) else {
                return unknown_object(&phone_number_id, "post");
            };
            if !may_act_on(inner, auth.as_deref(), &number.waba_id) {
                return unknown_object(&phone_number_id, "post");
            }
            let Ok(v) = serde_json::from_slice::<Value>(&body) else {
                return (400, graph_error(100, None, "(#100) Invalid parameter"));
            };
            if v["messaging_product"] != "whatsapp" {
                return (
                    400,
                    graph_error(
                        100,
                        None,
                        "(#100) The parameter messaging_product is required.",
                    ),
                );
            }
            let pin = v["pin"].as_str().unwrap_or_default();
            if pin.len() != 6 || !pin.bytes().all(|b| b.is_ascii_digit()) {
                return (
                    400,
                    graph_error(100, None, "(#100) Param pin must be a 6 digit number."),
                );
            }
            if number.pin.as_deref().is_some_and(|p| p != pin) {
                return (
                    400,
                    graph_error(133005, None, "Two step verification PIN Mismatch"),
                );
            }
            number.pin = Some(pin.to_string());
            lock(&inner.accounts.registrations).push(Registration {
                phone_number_id: phone_number_id.clone(),
                pin: pin.to_string(),
            });
            (200, json!({ "success": true }))
        },
    )
}

pub(super) async fn phone_number(
    State(inner): State<Arc<Inner>>,
    Path((_version, phone_number_id)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let authorization = header(&headers, "authorization");
    let inner = &*inner;
    let auth = authorization.clone();
    finish(
        inner,
        AccountStep::PhoneNumber,
        &phone_number_id,
        authorization,
        || {
            let token_known = auth
                .as_deref()
                .and_then(|h| h.strip_prefix("Bearer "))
                .is_some_and(|t| {
                    lock(&inner.accounts.tokens).contains_key(t)
                        || inner.token.as_deref().is_none_or(|e| e == t)
                });
            if !token_known {
                return invalid_token();
            }
            let numbers = lock(&inner.accounts.numbers);
            let Some(number) = numbers.iter().find(|n| n.id == phone_number_id) else {
                return unknown_object(&phone_number_id, "get");
            };
            if !may_act_on(inner, auth.as_deref(), &number.waba_id) {
                return unknown_object(&phone_number_id, "get");
            }
            let mut out = json!({ "id": number.id });
            for field in q.get("fields").map(String::as_str).unwrap_or("").split(',') {
                match field.trim() {
                    "display_phone_number" => {
                        out["display_phone_number"] = json!(number.display_phone_number)
                    }
                    "verified_name" => out["verified_name"] = json!(number.verified_name),
                    "quality_rating" => out["quality_rating"] = json!(number.quality_rating),
                    "" => {}
                    other => {
                        return (
                            400,
                            graph_error(
                                100,
                                None,
                                &format!("(#100) Tried accessing nonexisting field ({other})"),
                            ),
                        )
                    }
                }
            }
            (200, out)
        },
    )
}
