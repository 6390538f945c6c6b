//! Accounts (issue 17 items 4 and 5): e-mails the product sends (password reset, team
//! invitations, e-mail verification, payment-failed notices) and the pages their single-use
//! links open; two-factor sign-in (TOTP) and its recovery codes. docs/email.md and
//! docs/security.md describe the rules; `store::accounts` keeps the links (hashed).
//!
//! Every page a link opens is on the store's host under `/login/…`: the login form's
//! double-submit CSRF cookie (path `/login`) covers their forms, and the dashboard's guard
//! checks it before any handler runs. A GET only shows a form; the POST uses the link, so a
//! mail scanner that follows links uses nothing.

pub mod invite;
pub mod reset;
pub mod two_factor;
pub mod verify;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use minijinja::{context, Value};
use store::email::Email;

use crate::dashboard::security::{random_token, set_cookie, Ctx, LOGIN_CSRF_COOKIE};
use crate::error::AppError;
use crate::state::AppState;

/// A page of the store host for someone not signed in, with a fresh login-form CSRF token.
/// Links carry tokens in their URL: the page sends no Referer anywhere.
pub(crate) fn anon_page(
    ctx: &Ctx,
    name: &str,
    status: StatusCode,
    extra: Value,
) -> Result<Response, AppError> {
    let csrf = random_token();
    let html = crate::render::page(
        name,
        context! { store_name => ctx.tenant.name.clone(), csrf => csrf.clone(), ..extra },
    )?;
    let mut resp = (status, html).into_response();
    if let Ok(v) = HeaderValue::from_str(&set_cookie(
        LOGIN_CSRF_COOKIE,
        &csrf,
        "/login",
        3600,
        ctx.https,
    )) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp.headers_mut().insert(
        header::REFERRER_POLICY,
        // Not `no-referrer`: under it Chromium sends `Origin: null` with the page's own form
        // post, and the Origin check refuses it ("Pedido de outro site recusado"). Same-origin
        // requests may carry the token in a Referer to us; no other site gets it.
        HeaderValue::from_static("same-origin"),
    );
    Ok(resp)
}

/// A page with one message and one link (done, or the link was not valid).
pub(crate) fn message(
    ctx: &Ctx,
    status: StatusCode,
    title: &str,
    message: &str,
    link: (&str, &str),
) -> Result<Response, AppError> {
    anon_page(
        ctx,
        "account/message.html",
        status,
        context! { title => title, message => message, failed => !status.is_success(),
        link_url => link.0, link_text => link.1 },
    )
}

/// The link is unknown, used, revoked or expired: one answer for all (nothing says which).
pub(crate) fn dead_link(ctx: &Ctx, again: (&str, &str)) -> Result<Response, AppError> {
    metrics::counter!("orcazap_account_links_total", "outcome" => "invalid").increment(1);
    message(
        ctx,
        StatusCode::BAD_REQUEST,
        "Link inválido",
        "Este link é inválido, já foi usado ou expirou.",
        again,
    )
}

/// The page a link opens: the link's token when it is well formed, live and for this store,
/// or the one "link inválido" answer (with `again` as the way on) — shared by the reset,
/// invitation and e-mail confirmation pages.
pub(crate) async fn live_link(
    state: &AppState,
    ctx: &Ctx,
    purpose: store::accounts::Purpose,
    token: &str,
    again: (&str, &str),
) -> Result<Result<store::accounts::AccountToken, Response>, AppError> {
    if !token_shape_ok(token) {
        return dead_link(ctx, again).map(Err);
    }
    match store::accounts::peek(&state.db, purpose, &ctx.tenant.id, token).await? {
        Some(t) => Ok(Ok(t)),
        None => dead_link(ctx, again).map(Err),
    }
}

/// A link token as it may appear in a URL: 64 hex digits (`random_token`).
pub(crate) fn token_shape_ok(t: &str) -> bool {
    t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `http(s)://{slug}.BASE[:port]{path}` for links in e-mails (the port the request used, as
/// development serves every host on one port).
pub(crate) fn store_url(state: &AppState, headers: &HeaderMap, slug: &str, path: &str) -> String {
    crate::public::site_url(
        state,
        headers,
        &format!("{slug}.{}", state.cfg.base_domain),
        path,
    )
}

/// An e-mail of `kind` (templates `email/{kind}.txt` and `.html`) to `to`.
pub(crate) fn compose(kind: &str, to: &str, subject: &str, ctx: Value) -> Result<Email, AppError> {
    let text = crate::render::text(&format!("email/{kind}.txt"), ctx.clone())?;
    let html = crate::render::text(&format!("email/{kind}.html"), ctx)?;
    Ok(Email {
        to: to.to_string(),
        subject: subject.to_string(),
        text,
        html: Some(html),
    })
}

/// Counts a link issued or used (`orcazap_account_links_total{outcome}`).
pub(crate) fn count(outcome: &'static str) {
    metrics::counter!("orcazap_account_links_total", "outcome" => outcome).increment(1);
}

/// Every label of `orcazap_account_links_total`, zeroed at start-up.
pub const LINK_OUTCOMES: [&str; 6] = [
    "reset_sent",
    "reset_used",
    "invite_sent",
    "invite_used",
    "verified",
    "invalid",
];
