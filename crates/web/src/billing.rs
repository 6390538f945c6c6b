//! Billing with Stripe (docs/billing.md): `api.BASE/webhooks/stripe` and the calls the
//! dashboard's `/assinatura` makes (Checkout, Customer Portal, invoices).
//!
//! Webhook, in order: billing off → 404; the raw body (bounded: 413); `Stripe-Signature`
//! (`t=…,v1=…`: HMAC-SHA256 of `"{t}.{body}"` with the endpoint secret, compared in constant
//! time, `t` within the tolerance either way) → 400 without detail; the JSON → 400; then one
//! transaction records the event id (a replay or duplicate stops there, 200) and applies what
//! the event says to the tenant's subscription, unless a newer event already set it. Any
//! database fault → 503: the event is not recorded and Stripe's retry processes it.

use std::time::Duration;

use axum::body::{to_bytes, Body};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;
use sha2::Sha256;
use store::billing::{Applied, StateChange};

use crate::state::AppState;

pub const SIGNATURE_HEADER: &str = "stripe-signature";

/// Billing settings (`ORCAZAP_STRIPE_*`, `ORCAZAP_BILLING_*`); billing is off without them.
#[derive(Clone)]
pub struct BillingConfig {
    /// `https://api.stripe.com`, or a local server in tests.
    pub api_base: String,
    pub secret_key: SecretString,
    pub webhook_secret: SecretString,
    /// The price a subscription is created with (`price_…`); None: "Assinar" explains it.
    pub price_id: Option<String>,
    /// The plan as the billing page names it.
    pub plan_name: String,
    /// The plan's monthly price in centavos, shown on the page (Stripe charges the price id's).
    pub plan_price_cents: Option<i64>,
    /// How long a past_due subscription keeps automatic quotes.
    pub grace: Duration,
    /// How far a signature's timestamp may be from now, either way.
    pub tolerance: Duration,
}

impl BillingConfig {
    pub fn new(api_base: &str, secret_key: SecretString, webhook_secret: SecretString) -> Self {
        BillingConfig {
            api_base: api_base.trim_end_matches('/').to_string(),
            secret_key,
            webhook_secret,
            price_id: None,
            plan_name: "OrçaZap".into(),
            plan_price_cents: None,
            grace: Duration::from_secs(7 * 86_400),
            tolerance: Duration::from_secs(300),
        }
    }
}

/// Why a signature was refused (logged; the answer says only "invalid signature").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    Missing,
    Malformed,
    /// The timestamp is outside the tolerance (a replay, or a clock far off).
    OutsideTolerance,
    Mismatch,
}

impl SignatureError {
    pub fn label(&self) -> &'static str {
        match self {
            SignatureError::Missing => "missing",
            SignatureError::Malformed => "malformed",
            SignatureError::OutsideTolerance => "outside_tolerance",
            SignatureError::Mismatch => "mismatch",
        }
    }
}

/// `v1=` of `"{t}.{payload}"` as Stripe computes it (hex HMAC-SHA256).
pub fn sign(secret: &[u8], t: i64, payload: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    hex::encode(mac.finalize().into_bytes())
}

/// Verifies a `Stripe-Signature` header: one `t`, any number of `v1` (one must match; other
/// schemes such as `v0` are ignored), `t` within `tolerance_secs` of `now_secs`.
pub fn verify_signature(
    secret: &[u8],
    payload: &[u8],
    header: Option<&str>,
    now_secs: i64,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut t: Option<i64> = None;
    let mut sigs: Vec<Vec<u8>> = Vec::new();
    for part in header.split(',') {
        let Some((k, v)) = part.trim().split_once('=') else {
            return Err(SignatureError::Malformed);
        };
        match k {
            "t" => {
                if t.is_some() {
                    return Err(SignatureError::Malformed);
                }
                t = Some(v.parse().map_err(|_| SignatureError::Malformed)?);
            }
            "v1" => {
                if let Ok(bytes) = hex::decode(v) {
                    sigs.push(bytes);
                }
            }
            _ => {}
        }
    }
    let t = t.ok_or(SignatureError::Malformed)?;
    if sigs.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if (now_secs - t).abs() > tolerance_secs {
        return Err(SignatureError::OutsideTolerance);
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    // Every candidate is checked, each in constant time (`Mac::verify_slice` uses `subtle`).
    let ok = sigs
        .iter()
        .fold(false, |ok, s| ok | mac.clone().verify_slice(s).is_ok());
    if ok {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[derive(Debug, Deserialize)]
struct Event {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    created: i64,
    data: EventData,
}

#[derive(Debug, Deserialize)]
struct EventData {
    object: Value,
}

/// A Stripe id field: a string, or an expanded object with its `id`.
fn id_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Object(o) => o.get("id").and_then(|i| i.as_str()).map(str::to_string),
        _ => None,
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(|s| s.as_str())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// What one event did, for the stored event and the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    Linked,
    /// A newer event already set the state.
    Stale,
    /// Nothing to change (e.g. invoice.paid on an active subscription).
    Unchanged,
    UnknownTenant,
    /// An event type or a subscription state this product does not act on.
    Ignored,
    Duplicate,
}

impl Outcome {
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Linked => "linked",
            Outcome::Stale => "stale",
            Outcome::Unchanged => "unchanged",
            Outcome::UnknownTenant => "unknown_tenant",
            Outcome::Ignored => "ignored",
            Outcome::Duplicate => "duplicate",
        }
    }
}

const HANDLED: &[&str] = &[
    "checkout.session.completed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.paid",
    "invoice.payment_failed",
];

pub async fn webhook(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let Some(cfg) = state.cfg.billing.clone() else {
        return (
            StatusCode::NOT_FOUND,
            "cobrança desativada nesta instalação (billing off)",
        )
            .into_response();
    };
    let raw = match to_bytes(body, state.cfg.webhook_body_limit).await {
        Ok(b) => b,
        Err(_) => return crate::layers::too_large(),
    };
    let sig = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    let now = chrono::Utc::now().timestamp();
    if let Err(e) = verify_signature(
        cfg.webhook_secret.expose_secret().as_bytes(),
        &raw,
        sig,
        now,
        cfg.tolerance.as_secs() as i64,
    ) {
        tracing::warn!(reason = e.label(), "stripe webhook signature rejected");
        return (StatusCode::BAD_REQUEST, "invalid signature").into_response();
    }
    let event: Event = match serde_json::from_slice(&raw) {
        Ok(e) => e,
        Err(_) => {
            tracing::warn!("malformed stripe webhook");
            return (StatusCode::BAD_REQUEST, "malformed payload").into_response();
        }
    };
    if event.id.is_empty() || event.id.len() > 255 || event.created <= 0 {
        return (StatusCode::BAD_REQUEST, "malformed payload").into_response();
    }
    let grace_ms = cfg.grace.as_millis().min(i64::MAX as u128) as i64;
    let (id, kind) = (event.id.clone(), event.kind.clone());
    let (st, hd) = (state.clone(), headers.clone());
    let notices = Notices {
        cipher: state.cipher.clone(),
        billing_url: Box::new(move |slug| crate::account::store_url(&st, &hd, slug, "/assinatura")),
    };
    match state
        .db
        .tx(move |c| Box::pin(async move { process(c, event, grace_ms, &notices).await }))
        .await
    {
        Ok((outcome, tenant)) => {
            tracing::info!(event_id = %id, event_type = %kind, outcome = outcome.label(), tenant = tenant.as_deref().unwrap_or(""), "stripe event");
            (StatusCode::OK, outcome.label()).into_response()
        }
        Err(e) => {
            tracing::error!(error = %store::error::report(&e), "could not store a stripe event; Stripe will retry");
            (StatusCode::SERVICE_UNAVAILABLE, "temporarily unavailable").into_response()
        }
    }
}

/// The store an event's object belongs to: `metadata.tenant_id` (set on the Checkout Session
/// and on the subscription it creates), `client_reference_id` (Checkout), else the linked
/// Stripe customer.
async fn tenant_of(
    c: &mut sqlx::AnyConnection,
    obj: &Value,
) -> Result<Option<String>, store::StoreError> {
    let candidates = [
        obj.get("metadata").and_then(|m| text(m, "tenant_id")),
        text(obj, "client_reference_id"),
    ];
    for t in candidates.into_iter().flatten() {
        if store::billing::tenant_exists(c, &t).await? {
            return Ok(Some(t));
        }
    }
    match obj.get("customer").and_then(id_of) {
        Some(cus) => store::billing::tenant_of_customer(c, &cus).await,
        None => Ok(None),
    }
}

/// What the webhook needs to e-mail a store's owners (payment failed).
struct Notices {
    cipher: store::crypto::TokenCipher,
    /// `http(s)://{slug}.BASE[:port]/assinatura`.
    billing_url: Box<dyn Fn(&str) -> String + Send + Sync>,
}

/// `invoice.payment_failed` e-mails the store's owners, in the transaction that records the
/// event: a replay or duplicate delivery (the event id is stored once) sends nothing more, and
/// an event that arrives after a newer state (stale) sends nothing.
async fn payment_failed_notice(
    c: &mut sqlx::AnyConnection,
    tenant: &str,
    obj: &Value,
    notices: &Notices,
) -> Result<(), store::StoreError> {
    let Some((name, slug, tz)) = store::accounts::tenant_names(c, tenant).await? else {
        return Ok(());
    };
    let sub = store::billing::of_tenant_conn(c, tenant).await?;
    let clock = domain::clock::StoreClock::of(&tz);
    let amount = obj
        .get("amount_due")
        .and_then(|v| v.as_i64())
        .filter(|a| *a > 0 && text(obj, "currency").is_none_or(|c| c.eq_ignore_ascii_case("brl")))
        .map(|a| domain::money::Centavos(a).to_brl());
    let ctx = minijinja::context! {
        store_name => name, url => (notices.billing_url)(&slug), amount => amount,
        grace_until => sub.grace_until.map(|g| clock.datetime_br(g)),
    };
    for to in store::accounts::owner_emails(c, tenant).await? {
        let email = crate::account::compose(
            "payment_failed",
            &to,
            &format!("Pagamento não aprovado — assinatura do OrçaZap ({name})"),
            ctx.clone(),
        )
        .map_err(|e| store::StoreError::Corrupt(format!("payment notice e-mail: {e}")))?;
        store::email::enqueue(
            c,
            &notices.cipher,
            Some(tenant),
            "payment_failed",
            &email,
            None,
        )
        .await?;
    }
    Ok(())
}

async fn process(
    c: &mut sqlx::AnyConnection,
    ev: Event,
    grace_ms: i64,
    notices: &Notices,
) -> Result<(Outcome, Option<String>), store::StoreError> {
    let at_ms = ev.created.saturating_mul(1000);
    if !store::billing::record_event(c, &ev.id, &ev.kind, at_ms).await? {
        return Ok((Outcome::Duplicate, None));
    }
    let obj = &ev.data.object;
    let (outcome, tenant) = if !HANDLED.contains(&ev.kind.as_str()) {
        (Outcome::Ignored, None)
    } else {
        match tenant_of(c, obj).await? {
            None => (Outcome::UnknownTenant, None),
            Some(tenant) => {
                let o = apply(c, &ev.kind, obj, &tenant, at_ms, grace_ms).await?;
                if ev.kind == "invoice.payment_failed" && o != Outcome::Stale {
                    payment_failed_notice(c, &tenant, obj, notices).await?;
                }
                (o, Some(tenant))
            }
        }
    };
    store::billing::event_outcome(c, &ev.id, tenant.as_deref(), outcome.label()).await?;
    Ok((outcome, tenant))
}

async fn apply(
    c: &mut sqlx::AnyConnection,
    kind: &str,
    obj: &Value,
    tenant: &str,
    at_ms: i64,
    grace_ms: i64,
) -> Result<Outcome, store::StoreError> {
    let customer = obj.get("customer").and_then(id_of);
    match kind {
        "checkout.session.completed" => {
            let sub = obj.get("subscription").and_then(id_of);
            store::billing::link(c, tenant, customer.as_deref(), sub.as_deref()).await?;
            Ok(Outcome::Linked)
        }
        "customer.subscription.created"
        | "customer.subscription.updated"
        | "customer.subscription.deleted" => {
            let status = text(obj, "status").unwrap_or_else(|| {
                if kind.ends_with("deleted") {
                    "canceled".into()
                } else {
                    String::new()
                }
            });
            if status == "none" || !store::billing::STATES.contains(&status.as_str()) {
                return Ok(Outcome::Ignored);
            }
            let sub_id = text(obj, "id");
            let item = obj.pointer("/items/data/0");
            let price = item
                .and_then(|i| i.pointer("/price/id"))
                .and_then(|p| p.as_str());
            // `current_period_end` moved from the subscription to its items in newer API versions.
            let period_end = obj
                .get("current_period_end")
                .or_else(|| item.and_then(|i| i.get("current_period_end")))
                .and_then(|v| v.as_i64())
                .map(|s| s.saturating_mul(1000));
            store::billing::link(c, tenant, customer.as_deref(), None).await?;
            let change = StateChange {
                status: &status,
                at_ms,
                subscription_id: sub_id.as_deref(),
                price_id: price,
                period_end_ms: period_end,
            };
            Ok(applied(
                store::billing::apply_state(c, tenant, &change, grace_ms).await?,
            ))
        }
        "invoice.paid" | "invoice.payment_failed" => {
            let cur = store::billing::of_tenant_conn(c, tenant).await?;
            let next = match (kind, cur.status.as_str()) {
                ("invoice.paid", "past_due" | "unpaid" | "incomplete" | "none") => "active",
                (
                    "invoice.payment_failed",
                    "active" | "trialing" | "incomplete" | "none" | "past_due",
                ) => "past_due",
                _ => return Ok(Outcome::Unchanged),
            };
            if cur.state_at.is_some_and(|t| at_ms < t) {
                return Ok(Outcome::Stale);
            }
            let change = StateChange {
                status: next,
                at_ms,
                subscription_id: None,
                price_id: None,
                period_end_ms: None,
            };
            Ok(applied(
                store::billing::apply_state(c, tenant, &change, grace_ms).await?,
            ))
        }
        _ => Ok(Outcome::Ignored),
    }
}

fn applied(a: Applied) -> Outcome {
    match a {
        Applied::Applied => Outcome::Applied,
        Applied::Stale => Outcome::Stale,
    }
}

/// A call to Stripe that did not give what was asked (the message is for the log only).
#[derive(Debug, thiserror::Error)]
#[error("stripe: {0}")]
pub struct StripeError(String);

/// A Stripe API request with the secret key (form-encoded, as Stripe's API takes it).
async fn stripe_post(
    http: &reqwest::Client,
    cfg: &BillingConfig,
    path: &str,
    form: &[(&str, String)],
) -> Result<Value, StripeError> {
    let r = http
        .post(format!("{}{path}", cfg.api_base))
        .bearer_auth(cfg.secret_key.expose_secret())
        .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
        .form(form)
        .send()
        .await
        .map_err(|e| StripeError(format!("{path}: {}", e.without_url())))?;
    read(r, path).await
}

async fn read(r: reqwest::Response, path: &str) -> Result<Value, StripeError> {
    let status = r.status();
    let body: Value = r
        .json()
        .await
        .map_err(|_| StripeError(format!("{path}: HTTP {status}, body is not JSON")))?;
    if !status.is_success() {
        let msg = body
            .pointer("/error/message")
            .and_then(|m| m.as_str())
            .unwrap_or("");
        return Err(StripeError(format!("{path}: HTTP {status}: {msg}")));
    }
    Ok(body)
}

fn url_of(v: &Value, path: &str) -> Result<String, StripeError> {
    v.get("url")
        .and_then(|u| u.as_str())
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        .map(str::to_string)
        .ok_or_else(|| StripeError(format!("{path}: answer without url")))
}

/// A Checkout Session for the plan; returns the page the owner is sent to.
pub async fn checkout_session(
    http: &reqwest::Client,
    cfg: &BillingConfig,
    price_id: &str,
    tenant_id: &str,
    customer: Option<&str>,
    email: &str,
    store_url: &str,
) -> Result<String, StripeError> {
    let mut form = vec![
        ("mode", "subscription".to_string()),
        ("line_items[0][price]", price_id.to_string()),
        ("line_items[0][quantity]", "1".to_string()),
        ("client_reference_id", tenant_id.to_string()),
        ("metadata[tenant_id]", tenant_id.to_string()),
        (
            "subscription_data[metadata][tenant_id]",
            tenant_id.to_string(),
        ),
        (
            "success_url",
            format!("{store_url}/assinatura?ok=assinatura"),
        ),
        ("cancel_url", format!("{store_url}/assinatura")),
        ("locale", "pt-BR".to_string()),
    ];
    match customer {
        Some(c) => form.push(("customer", c.to_string())),
        None if !email.is_empty() => form.push(("customer_email", email.to_string())),
        None => {}
    }
    let v = stripe_post(http, cfg, "/v1/checkout/sessions", &form).await?;
    url_of(&v, "/v1/checkout/sessions")
}

/// A Customer Portal session (card, plan, cancelation); returns its page.
pub async fn portal_session(
    http: &reqwest::Client,
    cfg: &BillingConfig,
    customer: &str,
    store_url: &str,
) -> Result<String, StripeError> {
    let form = [
        ("customer", customer.to_string()),
        ("return_url", format!("{store_url}/assinatura")),
    ];
    let v = stripe_post(http, cfg, "/v1/billing_portal/sessions", &form).await?;
    url_of(&v, "/v1/billing_portal/sessions")
}

/// One invoice as the billing page lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Invoice {
    pub number: String,
    /// Unix seconds.
    pub created: i64,
    /// In the invoice's currency's smallest unit (centavos for BRL).
    pub total: i64,
    pub currency: String,
    pub status: String,
    /// Stripe's page for the invoice (https only).
    pub url: Option<String>,
}

/// The customer's latest invoices (`GET /v1/invoices?customer=…`).
pub async fn invoices(
    http: &reqwest::Client,
    cfg: &BillingConfig,
    customer: &str,
) -> Result<Vec<Invoice>, StripeError> {
    let path = "/v1/invoices";
    let r = http
        .get(format!("{}{path}", cfg.api_base))
        .bearer_auth(cfg.secret_key.expose_secret())
        .query(&[("customer", customer), ("limit", "12")])
        .send()
        .await
        .map_err(|e| StripeError(format!("{path}: {}", e.without_url())))?;
    let v = read(r, path).await?;
    let data = v
        .get("data")
        .and_then(|d| d.as_array())
        .ok_or_else(|| StripeError(format!("{path}: answer without data")))?;
    Ok(data
        .iter()
        .map(|i| Invoice {
            number: text(i, "number")
                .or_else(|| text(i, "id"))
                .unwrap_or_default(),
            created: i.get("created").and_then(|c| c.as_i64()).unwrap_or(0),
            total: i
                .get("total")
                .or_else(|| i.get("amount_due"))
                .and_then(|c| c.as_i64())
                .unwrap_or(0),
            currency: text(i, "currency").unwrap_or_else(|| "brl".into()),
            status: text(i, "status").unwrap_or_default(),
            url: text(i, "hosted_invoice_url").filter(|u| u.starts_with("https://")),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test";

    #[test]
    fn a_signature_made_like_stripe_verifies_and_nothing_else_does() {
        let body = br#"{"id":"evt_1"}"#;
        let t = 1_700_000_000;
        let good = sign(SECRET, t, body);
        let h = format!("t={t},v1={good}");
        assert_eq!(verify_signature(SECRET, body, Some(&h), t, 300), Ok(()));
        // Several v1 (secret rotation): one matching is enough; v0 is ignored.
        let h2 = format!("t={t},v1={},v0=abc,v1={good}", "00".repeat(32));
        assert_eq!(
            verify_signature(SECRET, body, Some(&h2), t + 299, 300),
            Ok(())
        );
        let bad = |h: &str| verify_signature(SECRET, body, Some(h), t, 300);
        assert_eq!(
            bad(&format!("t={t},v1={}", "00".repeat(32))),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(bad(&format!("v1={good}")), Err(SignatureError::Malformed));
        assert_eq!(bad(&format!("t={t}")), Err(SignatureError::Malformed));
        assert_eq!(bad("garbage"), Err(SignatureError::Malformed));
        assert_eq!(
            bad(&format!("t=x,v1={good}")),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify_signature(SECRET, body, None, t, 300),
            Err(SignatureError::Missing)
        );
        // Another body, another secret.
        assert_eq!(
            verify_signature(SECRET, b"{}", Some(&h), t, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(b"other", body, Some(&h), t, 300),
            Err(SignatureError::Mismatch)
        );
        // Old and future timestamps.
        assert_eq!(
            verify_signature(SECRET, body, Some(&h), t + 301, 300),
            Err(SignatureError::OutsideTolerance)
        );
        assert_eq!(
            verify_signature(SECRET, body, Some(&h), t - 301, 300),
            Err(SignatureError::OutsideTolerance)
        );
    }
}
