//! The public site on `BASE`: central login (lands on the store's host through a one-time
//! hand-off token) and sign-up. The operator page on `api.BASE/admin` is in [`admin`].
//!
//! The apex has no session: forms carry a double-submit CSRF token (cookie + field, like the
//! store login form), writes are Origin-checked, rate limited, and wrong passwords count
//! toward the same per-account and per-IP lockout as the store's own login.

pub mod admin;
pub mod handoff;
pub mod login;
pub mod quote_page;
pub mod signup;

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};

use crate::dashboard::ratelimit::{Limit, RateLimiter};
use crate::dashboard::security::{cookie_value, origin_ok, set_cookie, tokens_match};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Clone)]
pub struct PublicState {
    pub app: AppState,
    pub limiter: Arc<RateLimiter>,
}

impl axum::extract::FromRef<PublicState> for AppState {
    fn from_ref(p: &PublicState) -> AppState {
        p.app.clone()
    }
}

/// The client's address: the socket peer, or the client a trusted proxy names
/// ([`crate::client_ip`]; never a forwarding header from anyone else).
pub struct ClientIp(pub String);

impl<S> FromRequestParts<S> for ClientIp
where
    S: Send + Sync,
    AppState: axum::extract::FromRef<S>,
{
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, s: &S) -> Result<ClientIp, AppError> {
        let app = <AppState as axum::extract::FromRef<S>>::from_ref(s);
        Ok(ClientIp(crate::client_ip::of_parts(
            parts,
            &app.cfg.trusted_proxies,
        )))
    }
}

/// Charges one token of each named bucket; 429 with `Retry-After` when one is empty.
pub(crate) fn take_budget(
    ps: &PublicState,
    buckets: &[(&'static str, &str, Limit)],
) -> Result<(), AppError> {
    ps.limiter.take(buckets).map_err(|secs| {
        metrics::counter!("orcazap_rate_limited_total", "class" => "Login").increment(1);
        AppError::TooMany {
            retry_after_secs: secs,
        }
    })
}

/// Origin check, then the form's token against its double-submit cookie: the refusal (403)
/// when either fails.
pub(crate) fn refuse_form(
    headers: &HeaderMap,
    https: bool,
    cookie: &str,
    sent: &str,
) -> Option<Response> {
    if !origin_ok(headers, https) {
        return Some(forbidden("Pedido de outro site recusado."));
    }
    let expected = cookie_value(headers, cookie).unwrap_or_default();
    if !tokens_match(sent, &expected) {
        return Some(forbidden(
            "Formulário expirado ou inválido. Recarregue a página e tente de novo.",
        ));
    }
    None
}

fn forbidden(msg: &str) -> Response {
    let mut r = (axum::http::StatusCode::FORBIDDEN, msg.to_string()).into_response();
    r.extensions_mut().insert(crate::error::ErrorInfo {
        message: msg.to_string(),
    });
    r
}

pub(crate) fn append_cookie(resp: &mut Response, line: &str) {
    if let Ok(v) = HeaderValue::from_str(line) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

pub(crate) fn csrf_cookie(resp: &mut Response, name: &str, path: &str, value: &str, https: bool) {
    append_cookie(resp, &set_cookie(name, value, path, 3600, https));
}

/// `http://{host}[:port]{path}`; the port is the one the visitor used (development serves
/// every host on one port).
pub(crate) fn site_url(state: &AppState, headers: &HeaderMap, host: &str, path: &str) -> String {
    let sent = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // Our hosts are domain names (never IPv6 literals), so a trailing `:digits` is the port.
    let port = match sent.rsplit_once(':') {
        Some((_, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => format!(":{p}"),
        _ => String::new(),
    };
    format!(
        "{}://{host}{port}{path}",
        if state.cfg.https { "https" } else { "http" },
    )
}

/// `http://{slug}.BASE[:port]/login/handoff?token=…`: the first leg of a hand-off.
pub(crate) fn handoff_url(
    state: &AppState,
    headers: &HeaderMap,
    slug: &str,
    token: &str,
) -> String {
    site_url(
        state,
        headers,
        &format!("{slug}.{}", state.cfg.base_domain),
        &format!("/login/handoff?token={token}"),
    )
}

/// The public quote page (no state beyond the app's: the signed token is the key).
pub fn quote_routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/q/{token}", get(quote_page::page))
        .route("/q/{token}/pdf", get(quote_page::pdf))
}

pub fn routes(state: &AppState) -> axum::Router<AppState> {
    use axum::routing::get;
    let ps = PublicState {
        app: state.clone(),
        limiter: Arc::new(RateLimiter::default()),
    };
    axum::Router::new()
        .route("/login", get(login::page).post(login::submit))
        .route("/login/confirmar", get(handoff::confirm))
        .route(
            "/login/esqueci",
            get(login::forgot_page).post(login::forgot),
        )
        .route("/signup", get(signup::page).post(signup::submit))
        .layer(axum::extract::DefaultBodyLimit::max(
            state.cfg.form_body_limit,
        ))
        .with_state(ps)
}
