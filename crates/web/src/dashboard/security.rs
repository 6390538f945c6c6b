//! Everything that runs before a dashboard handler: the store from the host, rate limits,
//! the session from its cookie, CSRF and Origin checks, and role checks.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use store::sessions::Session;
use store::tenants::Tenant;
use store::users::{Role, User};
use subtle::ConstantTimeEq;

use super::ratelimit::{Class, RateLimiter};
use crate::error::AppError;
use crate::host::{classify, Site};
use crate::layers::RequestId;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "oz_session";
pub const LOGIN_CSRF_COOKIE: &str = "oz_login_csrf";
pub const CSRF_FIELD: &str = "csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// A working day plus margin; after that, sign in again.
pub const SESSION_TTL_MS: i64 = 12 * 60 * 60 * 1000;
/// A forgotten tab on the counter's PC stops being signed in.
pub const IDLE_TIMEOUT_MS: i64 = 2 * 60 * 60 * 1000;
/// `last_seen_at` is written at most this often per session.
const TOUCH_EVERY_MS: i64 = 60 * 1000;

#[derive(Clone)]
pub struct DashState {
    pub app: AppState,
    pub limiter: Arc<RateLimiter>,
}

/// The request as the dashboard sees it: the store comes from the host, the user from the
/// session, and nothing from form fields.
#[derive(Clone)]
pub struct Ctx {
    pub tenant: Tenant,
    pub user: Option<User>,
    pub session: Option<Session>,
    pub ip: String,
    pub request_id: String,
    /// Cookies get `Secure` under HTTPS.
    pub https: bool,
    /// Conversations waiting for a person: the badge every signed-in page shows (0 when
    /// signed out).
    pub waiting_for_person: i64,
    /// Billing with Stripe is on (the owner's menu shows Assinatura).
    pub billing_on: bool,
}

/// A signed-in user of this store (handlers behind [`require_login`]).
#[derive(Clone)]
pub struct Me {
    pub tenant: Tenant,
    pub user: User,
    pub session: Session,
    pub ip: String,
    pub request_id: String,
    pub waiting_for_person: i64,
    pub billing_on: bool,
}

impl Me {
    pub fn is_owner(&self) -> bool {
        self.user.role == Role::Owner
    }

    pub fn actor(&self) -> worker::actions::Actor {
        worker::actions::Actor {
            user_id: self.user.id.clone(),
            label: self.user.email.clone(),
            request_id: Some(self.request_id.clone()),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Ctx, AppError> {
        parts
            .extensions
            .get::<Ctx>()
            .cloned()
            .ok_or(AppError::NotFound)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Me {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Me, AppError> {
        let ctx = parts
            .extensions
            .get::<Ctx>()
            .cloned()
            .ok_or(AppError::NotFound)?;
        match (ctx.user, ctx.session) {
            (Some(user), Some(session)) => Ok(Me {
                tenant: ctx.tenant,
                user,
                session,
                ip: ctx.ip,
                request_id: ctx.request_id,
                waiting_for_person: ctx.waiting_for_person,
                billing_on: ctx.billing_on,
            }),
            _ => Err(AppError::Unauthorized),
        }
    }
}

pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// The session cookie's name: under HTTPS with the `__Host-` prefix, which the browser
/// accepts only from this very host, `Secure`, with `Path=/` and no `Domain` — so a cookie
/// planted for `.BASE` by some other subdomain (cookie tossing) can never pose as a session.
/// Plain HTTP (development, tests) cannot carry the prefix, so the name stays bare there.
pub fn session_cookie_name(https: bool) -> &'static str {
    if https {
        "__Host-oz_session"
    } else {
        SESSION_COOKIE
    }
}

/// The session token the browser sent, read only under the name this mode sets: under
/// HTTPS a bare `oz_session` (which any subdomain could have set) is ignored.
pub fn session_token(headers: &HeaderMap, https: bool) -> Option<String> {
    cookie_value(headers, session_cookie_name(https))
}

/// Host-only (no `Domain`): the browser sends it back to this store's host only, so a
/// session of store A never even reaches store B. The session cookie is written under
/// [`session_cookie_name`].
pub fn set_cookie(name: &str, value: &str, path: &str, max_age_secs: i64, https: bool) -> String {
    let name = if name == SESSION_COOKIE {
        debug_assert_eq!(path, "/", "__Host- cookies need Path=/");
        session_cookie_name(https)
    } else {
        name
    };
    format!(
        "{name}={value}; Path={path}; Max-Age={max_age_secs}; HttpOnly; SameSite=Lax{}",
        if https { "; Secure" } else { "" }
    )
}

pub fn random_token() -> String {
    use rand::RngCore;
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

pub fn tokens_match(a: &str, b: &str) -> bool {
    !a.is_empty() && a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

fn class_of(method: &Method, path: &str) -> Class {
    if *method == Method::GET || *method == Method::HEAD {
        Class::Read
    } else if path == "/login" {
        Class::Login
    } else {
        Class::Write
    }
}

fn is_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn too_many(class: Class, secs: u64) -> Response {
    metrics::counter!("orcazap_rate_limited_total", "class" => format!("{class:?}")).increment(1);
    AppError::TooMany {
        retry_after_secs: secs,
    }
    .into_response()
}

fn forbidden(msg: &str) -> Response {
    let mut r = (StatusCode::FORBIDDEN, msg.to_string()).into_response();
    r.extensions_mut().insert(crate::error::ErrorInfo {
        message: msg.to_string(),
    });
    r
}

/// Browsers say where a request comes from; a cross-site write is refused before any token
/// is looked at. Clients that send neither header (scripts, tests) still need the token.
pub(crate) fn origin_ok(headers: &HeaderMap, https: bool) -> bool {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if let Some(origin) = headers.get(header::ORIGIN) {
        let expected = format!("{}://{}", if https { "https" } else { "http" }, host);
        if origin.to_str().ok() != Some(expected.as_str()) {
            return false;
        }
    }
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        None => true,
        Some(v) => v == "same-origin" || v == "none",
    }
}

/// The dashboard's front door, in order: store from host (unknown → 404), rate limit
/// (→ 429 + Retry-After), session, Origin and CSRF on writes (→ 403).
pub async fn guard(State(ds): State<DashState>, req: Request, next: Next) -> Response {
    let state = &ds.app;
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let Site::Store(slug) = classify(&host, &state.cfg.base_domain) else {
        return AppError::NotFound.into_response();
    };
    let tenant = match store::tenants::by_slug(&state.db, &slug).await {
        Ok(Some(t)) => t,
        Ok(None) => return AppError::NotFound.into_response(),
        Err(e) => return AppError::from(e).into_response(),
    };
    // The socket peer, or the client a trusted proxy names (crate::client_ip): a header
    // anyone can write never picks whose budget a request spends.
    let ip = match req.extensions().get::<ConnectInfo<SocketAddr>>() {
        Some(c) => crate::client_ip::resolve(c.0.ip(), req.headers(), &state.cfg.trusted_proxies)
            .to_string(),
        None => "unknown".into(),
    };
    let class = class_of(req.method(), req.uri().path());
    // Sign-in attempts are charged by the login handler, after the CSRF check below and per
    // address *and* account: charging them here, per address and per store, let anyone
    // spend a store's whole login budget with empty POSTs (issue 10 item 3). Other requests
    // spend their address's budget here, and the store's budget only once they are known to
    // come from the store's own users (below).
    if class != Class::Login {
        if let Err(secs) = ds.limiter.check_address(class, &ip) {
            return too_many(class, secs);
        }
    }
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let mut session = None;
    let mut user = None;
    if let Some(token) = session_token(req.headers(), state.cfg.https) {
        match store::sessions::find(&state.db, &token, IDLE_TIMEOUT_MS).await {
            Ok(Some(s)) if s.tenant_id.as_deref() == Some(tenant.id.as_str()) => {
                match store::users::by_id(&state.db, &tenant.id, &s.user_id).await {
                    Ok(Some(u)) => {
                        if store::now_ms() - s.last_seen_at > TOUCH_EVERY_MS {
                            if let Err(e) = store::sessions::touch(&state.db, &s.id_hash).await {
                                tracing::warn!(error = %e, "session touch failed");
                            }
                        }
                        user = Some(u);
                        session = Some(s);
                    }
                    Ok(None) => {}
                    Err(e) => return AppError::from(e).into_response(),
                }
            }
            Ok(_) => {}
            Err(e) => return AppError::from(e).into_response(),
        }
    }
    let req = if is_write(req.method()) {
        if !origin_ok(req.headers(), state.cfg.https) {
            return forbidden("Pedido de outro site recusado.");
        }
        // The login form carries its own double-submit token (it may be posted from a tab
        // whose session has since changed); so do the forms of e-mailed links and the second
        // sign-in step under /login/ (crate::account), which the same cookie's path covers.
        let path = req.uri().path();
        let expected = if path == "/login" || path.starts_with("/login/") {
            cookie_value(req.headers(), LOGIN_CSRF_COOKIE)
        } else {
            session.as_ref().map(|s| s.csrf_token.clone())
        };
        let Some(expected) = expected else {
            return forbidden("Sua sessão expirou. Recarregue a página e entre de novo.");
        };
        let (req, sent) = match csrf_sent(req, state.cfg.form_body_limit).await {
            Ok(x) => x,
            Err(r) => return r,
        };
        if !tokens_match(&sent.unwrap_or_default(), &expected) {
            return forbidden(
                "Formulário expirado ou inválido. Recarregue a página e tente de novo.",
            );
        }
        req
    } else {
        req
    };
    // The store's budget, for its signed-in users' requests (writes: with a valid token)
    // only. Charged earlier, anonymous requests from a dozen addresses emptied it and the
    // store's team got 429 on every page while the flood lasted (re-run of issue 10).
    if user.is_some() && class != Class::Login {
        if let Err(secs) = ds.limiter.check_store(class, &tenant.id) {
            return too_many(class, secs);
        }
    }
    // One indexed count per signed-in request: the queue is visible on every page. A
    // failure here costs the badge, never the page.
    let waiting_for_person = if user.is_some() {
        store::conversations::waiting_for_person(&state.db, &tenant.id)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %store::error::report(&e), "counting the person queue");
                0
            })
    } else {
        0
    };
    let mut req = req;
    req.extensions_mut().insert(ds.limiter.clone());
    req.extensions_mut().insert(Ctx {
        tenant,
        user,
        session,
        ip,
        request_id,
        https: state.cfg.https,
        waiting_for_person,
        billing_on: state.cfg.billing.is_some(),
    });
    next.run(req).await
}

/// The token from the `X-CSRF-Token` header (HTMX) or the `csrf` form field. The body is
/// read (up to the form limit) and put back for the handler.
async fn csrf_sent(req: Request, limit: usize) -> Result<(Request, Option<String>), Response> {
    if let Some(v) = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        let v = v.to_string();
        return Ok((req, Some(v)));
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    // The catalog import sends a file, so its form is multipart (issue 12 item 9).
    let boundary = crate::multipart::boundary(&content_type);
    if !content_type.starts_with("application/x-www-form-urlencoded") && boundary.is_none() {
        return Ok((req, None));
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| crate::layers::too_large())?;
    let sent = match boundary {
        Some(b) => crate::multipart::field(&bytes, &b, CSRF_FIELD),
        None => form_field(&bytes, CSRF_FIELD),
    };
    Ok((Request::from_parts(parts, Body::from(bytes)), sent))
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    body.split(|b| *b == b'&').find_map(|pair| {
        let mut kv = pair.splitn(2, |b| *b == b'=');
        let k = url_decode(kv.next()?);
        (k == name).then(|| url_decode(kv.next().unwrap_or(&[])))
    })
}

/// `application/x-www-form-urlencoded` decoding (`+` and `%XX`); bad escapes stay as they are.
fn url_decode(s: &[u8]) -> String {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < s.len() => {
                match std::str::from_utf8(&s[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Pages need a signed-in user: browsers go to the login page, HTMX gets `HX-Redirect`.
pub async fn require_login(req: Request, next: Next) -> Response {
    let signed_in = req
        .extensions()
        .get::<Ctx>()
        .is_some_and(|c| c.user.is_some());
    if signed_in {
        return next.run(req).await;
    }
    if req.headers().contains_key("hx-request") {
        let mut r = StatusCode::UNAUTHORIZED.into_response();
        r.headers_mut()
            .insert("hx-redirect", HeaderValue::from_static("/login"));
        return r;
    }
    if req.method() == Method::GET {
        return Redirect::to("/login").into_response();
    }
    AppError::Unauthorized.into_response()
}

/// Prices, rules, templates, team and WhatsApp settings are the owner's.
pub async fn require_owner(req: Request, next: Next) -> Response {
    let owner = req
        .extensions()
        .get::<Ctx>()
        .and_then(|c| c.user.as_ref())
        .is_some_and(|u| u.role == Role::Owner);
    if !owner {
        return forbidden("Só o dono da loja pode fazer isso.");
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_field_decoding() {
        assert_eq!(
            form_field(b"a=1&csrf=ab%2Bc+d&x=", "csrf").as_deref(),
            Some("ab+c d")
        );
        assert_eq!(form_field(b"a=1", "csrf"), None);
        assert_eq!(url_decode(b"100%"), "100%");
    }

    #[test]
    fn the_session_cookie_is_host_prefixed_under_https() {
        let line = set_cookie(SESSION_COOKIE, "t", "/", 60, true);
        assert!(line.starts_with("__Host-oz_session=t; Path=/;"), "{line}");
        assert!(line.ends_with("; Secure"), "{line}");
        assert!(set_cookie(SESSION_COOKIE, "t", "/", 60, false).starts_with("oz_session=t;"));
        // Other cookies keep their names and paths.
        assert!(
            set_cookie(LOGIN_CSRF_COOKIE, "c", "/login", 60, true).starts_with("oz_login_csrf=c;")
        );
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "oz_session=planted".parse().unwrap());
        assert_eq!(session_token(&h, true), None);
        assert_eq!(session_token(&h, false).as_deref(), Some("planted"));
    }

    #[test]
    fn token_comparison() {
        assert!(tokens_match("abc", "abc"));
        assert!(!tokens_match("abd", "abc"));
        assert!(!tokens_match("", ""));
    }
}
