//! A local Stripe: the API calls the product makes (Checkout Sessions, Customer Portal
//! sessions, invoices) in Stripe's wire format — form-encoded requests with the secret key as
//! a bearer token, JSON answers, Stripe's error object for a missing parameter or a wrong key
//! — and webhook events signed as Stripe signs them (`Stripe-Signature: t=…,v1=…`, HMAC-SHA256
//! of `"{t}.{body}"` with the endpoint secret), computed here independently of the product.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

pub const STRIPE_SECRET_KEY: &str = "sk_test_orcazap_0123456789";
pub const STRIPE_WEBHOOK_SECRET: &str = "whsec_test_orcazap_0123456789";
pub const STRIPE_PRICE_ID: &str = "price_test_mensal";

/// One API request the local Stripe received.
#[derive(Debug, Clone)]
pub struct StripeCall {
    pub method: String,
    pub path: String,
    pub authorization: String,
    /// Form fields (POST) or query parameters (GET), decoded.
    pub params: HashMap<String, String>,
}

#[derive(Default)]
struct Inner {
    calls: Vec<StripeCall>,
    /// Invoices by customer id, as Stripe lists them (newest first).
    invoices: HashMap<String, Vec<Value>>,
    /// Answer every API call with a 500 (Stripe having a bad day).
    failing: bool,
}

#[derive(Clone)]
pub struct StripeMock {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

impl StripeMock {
    pub async fn start() -> StripeMock {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new()
            .route("/v1/checkout/sessions", post(checkout))
            .route("/v1/billing_portal/sessions", post(portal))
            .route("/v1/invoices", get(invoices))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        StripeMock {
            url: format!("http://{addr}"),
            inner,
        }
    }

    pub fn calls(&self) -> Vec<StripeCall> {
        self.inner.lock().unwrap().calls.clone()
    }

    pub fn set_failing(&self, failing: bool) {
        self.inner.lock().unwrap().failing = failing;
    }

    /// An invoice of `customer` (amounts in centavos), listed by `GET /v1/invoices`.
    pub fn add_invoice(
        &self,
        customer: &str,
        number: &str,
        total: i64,
        status: &str,
        created: i64,
    ) {
        let paid = if status == "paid" { total } else { 0 };
        let inv = json!({
            "id": format!("in_{}", number.replace('-', "")),
            "object": "invoice",
            "number": number,
            "customer": customer,
            "currency": "brl",
            "total": total,
            "amount_due": total,
            "amount_paid": paid,
            "status": status,
            "created": created,
            "hosted_invoice_url": format!("https://invoice.stripe.com/i/acct_test/{number}"),
        });
        self.inner
            .lock()
            .unwrap()
            .invoices
            .entry(customer.into())
            .or_default()
            .insert(0, inv);
    }
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let h = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(h, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn form(body: &[u8]) -> HashMap<String, String> {
    std::str::from_utf8(body)
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn stripe_error(status: StatusCode, kind: &str, message: &str, param: Option<&str>) -> Response {
    (
        status,
        Json(json!({"error": {"type": kind, "message": message, "param": param}})),
    )
        .into_response()
}

/// Records the call; Stripe's answer to a wrong key or a failing day, if any.
fn admit(
    inner: &Mutex<Inner>,
    method: &str,
    path: &str,
    headers: &HeaderMap,
    params: HashMap<String, String>,
) -> Option<Response> {
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let mut g = inner.lock().unwrap();
    g.calls.push(StripeCall {
        method: method.into(),
        path: path.into(),
        authorization: authorization.clone(),
        params,
    });
    if authorization != format!("Bearer {STRIPE_SECRET_KEY}") {
        return Some(stripe_error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "Invalid API Key provided.",
            None,
        ));
    }
    if g.failing {
        return Some(stripe_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "api_error",
            "An unknown error occurred.",
            None,
        ));
    }
    None
}

fn missing(p: &HashMap<String, String>, names: &[&str]) -> Option<Response> {
    names
        .iter()
        .find(|n| p.get(**n).is_none_or(|v| v.is_empty()))
        .map(|n| {
            stripe_error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                &format!("Missing required param: {n}."),
                Some(n),
            )
        })
}

async fn checkout(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = form(&body);
    if let Some(r) = admit(&inner, "POST", "/v1/checkout/sessions", &headers, p.clone()) {
        return r;
    }
    if let Some(r) = missing(&p, &["mode", "success_url", "line_items[0][price]"]) {
        return r;
    }
    if p["mode"] != "subscription" && p["mode"] != "payment" && p["mode"] != "setup" {
        return stripe_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "Invalid mode.",
            Some("mode"),
        );
    }
    let id = format!("cs_test_{}", uuid::Uuid::new_v4().simple());
    Json(json!({
        "id": id,
        "object": "checkout.session",
        "mode": p["mode"],
        "client_reference_id": p.get("client_reference_id"),
        "customer": p.get("customer"),
        "status": "open",
        "url": format!("https://checkout.stripe.com/c/pay/{id}"),
    }))
    .into_response()
}

async fn portal(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = form(&body);
    if let Some(r) = admit(
        &inner,
        "POST",
        "/v1/billing_portal/sessions",
        &headers,
        p.clone(),
    ) {
        return r;
    }
    if let Some(r) = missing(&p, &["customer"]) {
        return r;
    }
    let id = format!("bps_{}", uuid::Uuid::new_v4().simple());
    Json(json!({
        "id": id,
        "object": "billing_portal.session",
        "customer": p["customer"],
        "return_url": p.get("return_url"),
        "url": format!("https://billing.stripe.com/p/session/{id}"),
    }))
    .into_response()
}

async fn invoices(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Some(r) = admit(&inner, "GET", "/v1/invoices", &headers, q.clone()) {
        return r;
    }
    let data = q
        .get("customer")
        .and_then(|c| inner.lock().unwrap().invoices.get(c).cloned())
        .unwrap_or_default();
    Json(json!({"object": "list", "url": "/v1/invoices", "has_more": false, "data": data}))
        .into_response()
}

/// A Stripe event as Stripe delivers it (`created` in unix seconds).
pub fn stripe_event(id: &str, kind: &str, created: i64, object: Value) -> String {
    json!({
        "id": id,
        "object": "event",
        "api_version": "2024-06-20",
        "created": created,
        "livemode": false,
        "pending_webhooks": 1,
        "request": {"id": null, "idempotency_key": null},
        "type": kind,
        "data": {"object": object},
    })
    .to_string()
}

/// A subscription object in state `status`, for `tenant_id` (its metadata, as Checkout sets it).
pub fn subscription(id: &str, customer: &str, status: &str, tenant_id: Option<&str>) -> Value {
    json!({
        "id": id,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "current_period_end": 1_800_000_000,
        "metadata": tenant_id.map(|t| json!({"tenant_id": t})).unwrap_or(json!({})),
        "items": {"object": "list", "data": [{"id": "si_1", "price": {"id": STRIPE_PRICE_ID, "unit_amount": 14_900, "currency": "brl"}}]},
    })
}

/// Billing on, against `stripe` (7 days of grace, the test price).
pub fn billing_config(stripe: &StripeMock) -> web::billing::BillingConfig {
    let mut b = web::billing::BillingConfig::new(
        &stripe.url,
        secrecy::SecretString::from(STRIPE_SECRET_KEY),
        secrecy::SecretString::from(STRIPE_WEBHOOK_SECRET),
    );
    b.price_id = Some(STRIPE_PRICE_ID.into());
    b.plan_name = "OrçaZap Mensal".into();
    b.plan_price_cents = Some(14_900);
    b
}

impl crate::TestApp {
    /// A Stripe webhook delivery on the API host, signed at unix time `t` with `secret`.
    pub fn stripe_webhook_signed(
        &self,
        body: &str,
        secret: &str,
        t: i64,
    ) -> reqwest::RequestBuilder {
        self.post_on(
            &format!("api.localhost:{}", self.addr.port()),
            "/webhooks/stripe",
        )
        .header("content-type", "application/json")
        .header("stripe-signature", stripe_signature(secret, t, body))
        .body(body.to_string())
    }

    /// A Stripe webhook delivery signed now with the endpoint secret, as Stripe sends it.
    pub fn stripe_webhook(&self, body: &str) -> reqwest::RequestBuilder {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        self.stripe_webhook_signed(body, STRIPE_WEBHOOK_SECRET, now)
    }
}

/// The `Stripe-Signature` header for `body` at unix time `t`, as Stripe computes it.
pub fn stripe_signature(secret: &str, t: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}
