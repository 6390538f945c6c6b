//! Cross-cutting middleware: request ids, tracing spans, HTTP metrics, security headers and
//! friendly error pages.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use crate::error::ErrorInfo;
use crate::state::AppState;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request id of this request (set by [`request_context`]).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Gives every request an id (ours; a client-sent one is only kept when it looks like an id),
/// and a tracing span. HTTP metrics are recorded after routing, by route template.
pub async fn request_context(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 64 && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let span = tracing::info_span!("http", request_id = %id, method = %method, path = %path, status = tracing::field::Empty);
    let mut resp = next.run(req).instrument(span.clone()).await;
    span.record("status", resp.status().as_u16());
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(REQUEST_ID, v);
    }
    resp
}

/// Renders [`ErrorInfo`] responses as the pt-BR error page (HTML clients) with the request id.
pub async fn error_pages(req: Request, next: Next) -> Response {
    let id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let wants_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    let resp = next.run(req).await;
    let Some(info) = resp.extensions().get::<ErrorInfo>().cloned() else {
        return resp;
    };
    if !wants_html {
        return resp;
    }
    let status = resp.status();
    let headers = resp.headers().clone();
    match crate::render::page(
        "error.html",
        minijinja::context! { status => status.as_u16(), message => info.message, request_id => id },
    ) {
        Ok(html) => {
            let mut out = (status, html).into_response();
            if let Some(v) = headers.get(header::RETRY_AFTER) {
                out.headers_mut().insert(header::RETRY_AFTER, v.clone());
            }
            out
        }
        Err(_) => resp,
    }
}

/// Security headers on every response. The CSP allows no inline script: all JavaScript is
/// served from `/static`.
pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k: HeaderName, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    // A page that posts to another site keeps the policy it set (only `/assinatura`: its forms
    // are answered by a redirect to Stripe, which `form-action` governs in Chromium).
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
    );
    }
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    // Pages opened by a single-use link (crate::account) send no Referer to other sites:
    // they keep the `same-origin` they set.
    if !h.contains_key(header::REFERRER_POLICY) {
        set(
            h,
            header::REFERRER_POLICY,
            "strict-origin-when-cross-origin",
        );
    }
    set(
        h,
        HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=()",
    );
    // Only `/whatsapp` with Embedded Signup sets its own (`same-origin-allow-popups`: Meta's
    // popup answers the page through `postMessage`).
    let coop = HeaderName::from_static("cross-origin-opener-policy");
    if !h.contains_key(&coop) {
        set(h, coop, "same-origin");
    }
    if state.cfg.https {
        set(
            h,
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=63072000; includeSubDomains",
        );
    }
    resp
}

/// `Cache-Control: no-store` on every response that does not say otherwise (only `/static`
/// does). Dashboard pages, the CSV export, the operator page and the login forms carry a
/// user's data or a CSRF token: no browser history, shared computer or intermediate cache
/// may keep a copy.
pub async fn no_store_by_default(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    if !resp.headers().contains_key(header::CACHE_CONTROL) {
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// 413 for bodies over the limit, with a clear message and the webhook metric.
pub fn too_large() -> Response {
    let mut r = (
        StatusCode::PAYLOAD_TOO_LARGE,
        "corpo da requisição grande demais",
    )
        .into_response();
    r.extensions_mut().insert(ErrorInfo {
        message: "O conteúdo enviado é grande demais.".into(),
    });
    r
}

pub fn empty(status: StatusCode) -> Response {
    Response::builder()
        .status(status)
        .body(Body::empty())
        .unwrap_or_default()
}
