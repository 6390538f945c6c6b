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
/// A second factor (TOTP) for the operator is planned with the business issue.
const FAILURE_LIMIT: Limit = Limit::new(10, 1);

#[derive(Clone)]
pub struct AdminState {
    pub app: AppState,
    pub limiter: Arc<RateLimiter>,
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
    };
    axum::Router::new()
        .route("/admin", get(page))
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

pub async fn page(
    State(st): State<AdminState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
) -> Response {
    let state = st.app.clone();
    match authorize(&st, &ip, &headers) {
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
