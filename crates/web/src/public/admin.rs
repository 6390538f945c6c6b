//! `api.BASE/admin`: the operator's page (tenants, queues, dead jobs, webhook failures,
//! audit log). It exists only when `ORCAZAP_ADMIN_TOKEN` is set; the token is sent as
//! `Authorization: Bearer …` or as the password of HTTP Basic auth (so a browser can open it).
//!
//! Basic credentials are sent by the browser on every request, so the requeue button needs
//! more than them: the Origin check plus a CSRF token derived from the admin token (only
//! someone who has the token can compute it; it changes when the token does).

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use base64::Engine as _;
use minijinja::context;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use std::sync::Arc;
use std::time::Instant;

use store::jobs::JobStatus;

use crate::dashboard::ratelimit::{Limit, RateLimiter};
use crate::dashboard::security::{origin_ok, tokens_match};
use crate::error::AppError;
use crate::public::ClientIp;
use crate::state::AppState;

const LIST_LIMIT: i64 = 50;

/// Wrong operator credentials per address: 10, then one a minute. When the budget is spent
/// the address is refused (429) *before* its credential is compared, so guessing cannot go on
/// at a faster pace (the security test made 2,000 guesses in 1.4 s). Failures only: the
/// operator's own requests never spend it. A 32-character random token (required in
/// production, `orcazap` config) is what makes guessing hopeless; this caps the pace.
/// Wrong second-factor codes spend the same budget.
const FAILURE_LIMIT: Limit = Limit::new(10, 1);

/// The operator's second factor (`ORCAZAP_ADMIN_TOTP_SECRET`, required in production): after
/// the token, a TOTP code once per [`OPERATOR_2FA_TTL_MS`], remembered by a cookie signed with
/// the server's key and bound to the token (a new token ends it). Path `/admin`, host-only,
/// `SameSite=Strict`.
pub const OPERATOR_COOKIE: &str = "oz_admin_2fa";
pub const OPERATOR_2FA_TTL_MS: i64 = 8 * 60 * 60 * 1000;

#[derive(Clone)]
pub struct AdminState {
    pub app: AppState,
    pub limiter: Arc<RateLimiter>,
    /// The last TOTP step accepted (a code is accepted once by this process).
    pub last_step: Arc<std::sync::Mutex<i64>>,
}

impl axum::extract::FromRef<AdminState> for AppState {
    fn from_ref(a: &AdminState) -> AppState {
        a.app.clone()
    }
}

/// `/admin` and its actions, with their own failure budget.
pub fn routes(state: &AppState) -> axum::Router<AppState> {
    use axum::routing::{get, post};
    let st = AdminState {
        app: state.clone(),
        limiter: Arc::new(RateLimiter::default()),
        last_step: Arc::new(std::sync::Mutex::new(0)),
    };
    axum::Router::new()
        .route("/admin", get(page))
        .route("/admin/2fa", post(second_factor))
        .route("/admin/jobs/{id}/requeue", post(requeue))
        .with_state(st)
}

fn csrf_for(admin_token: &str) -> String {
    hex::encode(Sha256::digest(
        format!("orcazap-admin-csrf:{admin_token}").as_bytes(),
    ))
}

/// What the request presented as the admin credential.
fn presented(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    if let Some(t) = v.strip_prefix("Bearer ") {
        return Some(t.trim().to_string());
    }
    let b = v.strip_prefix("Basic ")?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b.trim())
        .ok()?;
    let s = String::from_utf8(raw).ok()?;
    Some(s.split_once(':')?.1.to_string())
}

/// Why the operator page is not served.
enum Denied {
    /// `ORCAZAP_ADMIN_TOKEN` is unset: the page does not exist.
    Off,
    /// Missing or wrong credential: ask for Basic auth.
    BadCredential,
    /// Too many wrong credentials from this address: wait.
    Throttled(u64),
}

impl IntoResponse for Denied {
    fn into_response(self) -> Response {
        match self {
            Denied::Off => AppError::NotFound.into_response(),
            Denied::Throttled(secs) => {
                metrics::counter!("orcazap_rate_limited_total", "class" => "Admin").increment(1);
                AppError::TooMany {
                    retry_after_secs: secs,
                }
                .into_response()
            }
            Denied::BadCredential => {
                metrics::counter!("orcazap_admin_auth_failures_total").increment(1);
                let mut r = AppError::Unauthorized.into_response();
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"OrcaZap operador\", charset=\"UTF-8\""),
                );
                r
            }
        }
    }
}

/// The configured token when the request presents it. An address that spent its failure
/// budget is refused before anything is compared; a failure spends one token of it.
fn authorize(st: &AdminState, ip: &str, headers: &HeaderMap) -> Result<String, Denied> {
    authorize_at(st, ip, headers, Instant::now())
}

fn authorize_at(
    st: &AdminState,
    ip: &str,
    headers: &HeaderMap,
    now: Instant,
) -> Result<String, Denied> {
    let expected = st
        .app
        .cfg
        .admin_token
        .as_ref()
        .map(|t| t.expose_secret().to_string())
        .filter(|t| !t.is_empty())
        .ok_or(Denied::Off)?;
    let budget = [("admin:failures", ip, FAILURE_LIMIT)];
    st.limiter
        .peek_at(&budget, now)
        .map_err(Denied::Throttled)?;
    match presented(headers) {
        Some(p) if tokens_match(&p, &expected) => Ok(expected),
        _ => {
            if let Err(secs) = st.limiter.take_at(&budget, now) {
                return Err(Denied::Throttled(secs));
            }
            tracing::warn!(ip = %ip, "operator page: wrong or missing credential");
            Err(Denied::BadCredential)
        }
    }
}

#[derive(Serialize)]
struct TenantView {
    slug: String,
    name: String,
    status: String,
    subscription: String,
    created: String,
}

#[derive(Serialize)]
struct JobView {
    id: String,
    kind: String,
    tenant_id: String,
    attempts: i64,
    last_error: String,
    created: String,
}

#[derive(Serialize)]
struct QueueView {
    kind: String,
    ready: i64,
    running: i64,
    dead: i64,
    oldest_ready_secs: i64,
}

#[derive(Serialize)]
struct FailureView {
    when: String,
    provider: String,
    outcome: String,
    phone_number_id: String,
    request_id: String,
}

#[derive(Serialize)]
struct AuditView {
    when: String,
    actor: String,
    action: String,
    entity: String,
}

fn operator_secret(state: &AppState) -> Option<Vec<u8>> {
    state
        .cfg
        .admin_totp_secret
        .as_ref()
        .and_then(|s| crate::auth::totp::base32_decode(s.expose_secret()))
        .filter(|s| !s.is_empty())
}

fn binding(token: &str) -> String {
    hex::encode(Sha256::digest(
        format!("orcazap-admin-2fa:{token}").as_bytes(),
    ))
}

/// `{expires_ms}.{hex signature}` of the second factor for this token.
fn operator_cookie(state: &AppState, token: &str, expires_ms: i64) -> String {
    let msg = format!("{expires_ms}|{}", binding(token));
    format!(
        "{expires_ms}.{}",
        hex::encode(state.cipher.sign("admin-2fa", msg.as_bytes()))
    )
}

/// The second factor is done for this token (or not configured).
fn second_factor_done(state: &AppState, headers: &HeaderMap, token: &str) -> bool {
    if operator_secret(state).is_none() {
        return true;
    }
    let Some(v) = crate::dashboard::security::cookie_value(headers, OPERATOR_COOKIE) else {
        return false;
    };
    let Some((exp, sig)) = v.split_once('.') else {
        return false;
    };
    let (Ok(exp), Ok(sig)) = (exp.parse::<i64>(), hex::decode(sig)) else {
        return false;
    };
    exp > store::now_ms()
        && state.cipher.verify(
            "admin-2fa",
            format!("{exp}|{}", binding(token)).as_bytes(),
            &sig,
        )
}

fn code_page(token: &str, status: StatusCode, error: Option<&str>) -> Response {
    match crate::render::page(
        "public/admin_2fa.html",
        context! { csrf => csrf_for(token), error => error },
    ) {
        Ok(html) => {
            let mut r = (status, html).into_response();
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

async fn operator_audit(state: &AppState, action: &'static str, ip: &str) {
    let ip = ip.to_string();
    let res = state
        .db
        .tx(move |c| {
            Box::pin(async move {
                store::audit::record(
                    c,
                    &store::audit::Entry {
                        tenant_id: None,
                        actor_user_id: None,
                        actor_label: "operador",
                        action,
                        entity: "operator",
                        entity_id: None,
                        before: None,
                        after: Some(serde_json::json!({ "ip": ip })),
                        request_id: None,
                    },
                )
                .await
            })
        })
        .await;
    if let Err(e) = res {
        tracing::error!(error = %store::error::report(&e), "operator audit entry not written");
    }
}

/// `POST /admin/2fa`: the operator's TOTP code, after the token.
pub async fn second_factor(
    State(st): State<AdminState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<CodeForm>,
) -> Response {
    let state = st.app.clone();
    let token = match authorize(&st, &ip, &headers) {
        Ok(t) => t,
        Err(d) => return d.into_response(),
    };
    if !origin_ok(&headers, state.cfg.https) || !tokens_match(&f.csrf, &csrf_for(&token)) {
        return (
            StatusCode::FORBIDDEN,
            "Formulário expirado ou inválido. Recarregue a página e tente de novo.",
        )
            .into_response();
    }
    let Some(secret) = operator_secret(&state) else {
        return Redirect::to("/admin").into_response();
    };
    let now = store::now_ms() / 1000;
    let accepted = crate::auth::totp::verify(&secret, &f.code, now).is_some_and(|step| {
        let mut last = st.last_step.lock().unwrap_or_else(|p| p.into_inner());
        if step > *last {
            *last = step;
            true
        } else {
            false
        }
    });
    if !accepted {
        metrics::counter!("orcazap_two_factor_failures_total").increment(1);
        operator_audit(&state, "operator.2fa_failed", &ip).await;
        if let Err(secs) = st.limiter.take(&[("admin:failures", &ip, FAILURE_LIMIT)]) {
            return Denied::Throttled(secs).into_response();
        }
        tracing::warn!(ip = %ip, "operator page: wrong second-factor code");
        return code_page(
            &token,
            StatusCode::UNAUTHORIZED,
            Some("Código incorreto ou já usado."),
        );
    }
    operator_audit(&state, "operator.2fa_login", &ip).await;
    let expires = store::now_ms() + OPERATOR_2FA_TTL_MS;
    let mut r = Redirect::to("/admin").into_response();
    let line = format!(
        "{OPERATOR_COOKIE}={}; Path=/admin; Max-Age={}; HttpOnly; SameSite=Strict{}",
        operator_cookie(&state, &token, expires),
        OPERATOR_2FA_TTL_MS / 1000,
        if state.cfg.https { "; Secure" } else { "" }
    );
    if let Ok(v) = HeaderValue::from_str(&line) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

pub async fn page(
    State(st): State<AdminState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
) -> Response {
    let state = st.app.clone();
    match authorize(&st, &ip, &headers) {
        Ok(token) if !second_factor_done(&state, &headers, &token) => {
            code_page(&token, StatusCode::OK, None)
        }
        Ok(token) => match render(&state, &token).await {
            Ok(html) => {
                let mut r = html.into_response();
                r.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                r
            }
            Err(e) => e.into_response(),
        },
        Err(d) => d.into_response(),
    }
}

async fn render(state: &AppState, token: &str) -> Result<Html<String>, AppError> {
    let db = &state.db;
    // The operator watches every store at once: one zone for all of them, the platform's.
    let clock = domain::clock::StoreClock::default();
    let tenants: Vec<TenantView> = store::tenants::list(db)
        .await?
        .into_iter()
        .map(|t| TenantView {
            slug: t.slug,
            name: t.name,
            status: t.status,
            subscription: t.subscription_status,
            created: clock.datetime_br(t.created_at),
        })
        .collect();
    let queues: Vec<QueueView> = store::jobs::stats(db)
        .await?
        .into_iter()
        .map(|q| QueueView {
            kind: q.kind,
            ready: q.ready,
            running: q.running,
            dead: q.dead,
            oldest_ready_secs: q.oldest_ready_age_ms / 1000,
        })
        .collect();
    let dead: Vec<JobView> = store::jobs::list(db, Some(JobStatus::Dead), LIST_LIMIT)
        .await?
        .into_iter()
        .map(|j| JobView {
            id: j.id,
            kind: j.kind,
            tenant_id: j.tenant_id.unwrap_or_default(),
            attempts: j.attempts,
            last_error: j.last_error.unwrap_or_default().chars().take(300).collect(),
            created: clock.datetime_br(j.created_at),
        })
        .collect();
    let day_ago = store::now_ms() - 24 * 3600 * 1000;
    let outcomes = store::operator::webhook_outcomes(db, day_ago).await?;
    let failures: Vec<FailureView> = store::operator::recent_webhook_failures(db, LIST_LIMIT)
        .await?
        .into_iter()
        .map(|f| FailureView {
            when: clock.datetime_br(f.received_at),
            provider: f.provider,
            outcome: f.outcome,
            phone_number_id: f.phone_number_id.unwrap_or_default(),
            request_id: f.request_id.unwrap_or_default(),
        })
        .collect();
    let audit: Vec<AuditView> = store::audit::list(db, None, LIST_LIMIT)
        .await?
        .into_iter()
        .map(|a| AuditView {
            when: clock.datetime_br(a.created_at),
            actor: a.actor_label,
            action: a.action,
            entity: format!("{} {}", a.entity, a.entity_id.unwrap_or_default()),
        })
        .collect();
    crate::render::page(
        "public/admin.html",
        context! {
            csrf => csrf_for(token), tenants => tenants, queues => queues, dead => dead,
            outcomes => outcomes, failures => failures, audit => audit,
        },
    )
}

#[derive(Deserialize)]
pub struct RequeueForm {
    #[serde(default)]
    csrf: String,
}

pub async fn requeue(
    State(st): State<AdminState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<RequeueForm>,
) -> Response {
    let state = st.app.clone();
    let token = match authorize(&st, &ip, &headers) {
        Ok(t) => t,
        Err(d) => return d.into_response(),
    };
    if !origin_ok(&headers, state.cfg.https) || !tokens_match(&f.csrf, &csrf_for(&token)) {
        return (
            StatusCode::FORBIDDEN,
            "Formulário expirado ou inválido. Recarregue a página e tente de novo.",
        )
            .into_response();
    }
    if !second_factor_done(&state, &headers, &token) {
        return code_page(&token, StatusCode::FORBIDDEN, None);
    }
    let job_id = id.clone();
    let res = state
        .db
        .tx(move |c| {
            Box::pin(async move {
                store::jobs::requeue(c, &job_id).await?;
                store::audit::record(
                    c,
                    &store::audit::Entry {
                        tenant_id: None,
                        actor_user_id: None,
                        actor_label: "operador",
                        action: "job.requeue",
                        entity: "job",
                        entity_id: Some(&job_id),
                        before: None,
                        after: None,
                        request_id: None,
                    },
                )
                .await
            })
        })
        .await;
    match res {
        Ok(()) => {
            state.wake.notify_one();
            tracing::info!(job_id = %id, "operator requeued a dead job");
            Redirect::to("/admin").into_response()
        }
        Err(e) => AppError::from(e).into_response(),
    }
}
