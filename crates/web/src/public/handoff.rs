//! Carrying a sign-in from `BASE` to `{slug}.BASE`, bound to the browser that asked for it.
//!
//! Cookies are host-only (a `Domain` cookie would reach every store's host, and browsers
//! ignore `Domain=localhost` in development), so a one-time token in a URL carries the
//! sign-in across hosts. A bare token would let anyone who signed in to *their own* store
//! send the link to someone else and sign the victim's browser into the attacker's store
//! (login CSRF). So each leg is bound to a cookie that only the right browser holds:
//!
//! 1. `POST BASE/login` (or sign-up) checks the password, sets the apex cookie
//!    [`CENTRAL_COOKIE`] = B and answers a page that navigates to
//!    `{slug}.BASE/login/handoff?token=T`; T is stored with SHA-256(B).
//! 2. The store host sets its own cookie `oz_handoff` = N and sends the browser to
//!    `BASE/login/confirmar?token=T&h=SHA-256(N)`.
//! 3. The apex consumes T only if this browser presents B, and sends it to
//!    `{slug}.BASE/login/handoff/concluir?token=F`; F is stored with h.
//! 4. The store host consumes F only if this browser presents N, and opens the session.
//!
//! A link with T followed by another browser fails at 3 (no B); a link with F fails at 4
//! (no N). Every token is single-use, lives [`store::signup::HANDOFF_TTL_MS`], and is burnt
//! by the first attempt, right or wrong.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use store::signup::Leg;

use super::{append_cookie, site_url, PublicState};
use crate::dashboard::security::{cookie_value, random_token, set_cookie, tokens_match};
use crate::error::AppError;

/// The apex's half of the binding (path-scoped to the hand-off's confirm step).
pub const CENTRAL_COOKIE: &str = "oz_central";
/// The store host's half.
pub const STORE_COOKIE: &str = "oz_handoff";
/// Long enough to pick a store on the choice page.
pub const COOKIE_MAX_AGE_SECS: i64 = 10 * 60;

pub fn digest(v: &str) -> String {
    hex::encode(Sha256::digest(v.as_bytes()))
}

/// One store the user may enter.
pub struct Pick {
    pub tenant_id: String,
    pub user_id: String,
    pub slug: String,
}

/// Step 1: issues a first-leg token per store, all bound to a fresh apex cookie (returned as
/// a `Set-Cookie` line); the urls are in the order of `picks`.
pub async fn begin(
    ps: &PublicState,
    headers: &HeaderMap,
    ip: &str,
    picks: &[Pick],
) -> Result<(String, Vec<String>), AppError> {
    let state = &ps.app;
    let binder = random_token();
    let binding = digest(&binder);
    let issued: Vec<(String, String, String)> = picks
        .iter()
        .map(|p| (p.tenant_id.clone(), p.user_id.clone(), random_token()))
        .collect();
    let (rows, ip2) = (issued.clone(), ip.to_string());
    state
        .db
        .tx(move |c| {
            Box::pin(async move {
                for (tenant_id, user_id, token) in &rows {
                    store::signup::issue_handoff(
                        c,
                        Leg::Central,
                        token,
                        tenant_id,
                        user_id,
                        &ip2,
                        &binding,
                    )
                    .await?;
                }
                Ok(())
            })
        })
        .await?;
    let urls = picks
        .iter()
        .zip(&issued)
        .map(|(p, (_, _, t))| super::handoff_url(state, headers, &p.slug, t))
        .collect();
    let cookie = set_cookie(
        CENTRAL_COOKIE,
        &binder,
        "/login/confirmar",
        COOKIE_MAX_AGE_SECS,
        state.cfg.https,
    );
    Ok((cookie, urls))
}

#[derive(Deserialize)]
pub struct ConfirmQuery {
    #[serde(default)]
    token: String,
    #[serde(default)]
    h: String,
}

fn refused(ps: &PublicState) -> Result<Response, AppError> {
    let mut r = super::login::form(
        ps,
        StatusCode::BAD_REQUEST,
        "",
        Some("Este link de acesso é inválido, já expirou ou foi aberto em outro navegador. Entre de novo.".into()),
    )?;
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// Step 3 (`BASE/login/confirmar`).
pub async fn confirm(
    State(ps): State<PublicState>,
    super::ClientIp(ip): super::ClientIp,
    headers: HeaderMap,
    Query(q): Query<ConfirmQuery>,
) -> Result<Response, AppError> {
    let state = &ps.app;
    let token = q.token.trim().to_string();
    let h = q.h.trim().to_string();
    let binder = cookie_value(&headers, CENTRAL_COOKIE).unwrap_or_default();
    if token.is_empty() || token.len() > 128 || h.len() != 64 {
        metrics::counter!("orcazap_login_failures_total").increment(1);
        return refused(&ps);
    }
    let next = random_token();
    let (t2, n2, ip2, bound) = (token.clone(), next.clone(), ip.clone(), digest(&binder));
    let slug = state
        .db
        .tx(move |c| {
            Box::pin(async move {
                let Some(ho) = store::signup::consume_handoff(c, Leg::Central, &t2).await? else {
                    return Ok(None);
                };
                if !tokens_match(&ho.binding, &bound) {
                    return Ok(None);
                }
                store::signup::issue_handoff(
                    c,
                    Leg::Store,
                    &n2,
                    &ho.tenant_id,
                    &ho.user_id,
                    &ip2,
                    &h,
                )
                .await?;
                Ok(Some(ho.tenant_id))
            })
        })
        .await?;
    let slug = match slug {
        Some(tid) => store::tenants::by_id(&state.db, &tid)
            .await?
            .map(|t| t.slug),
        None => None,
    };
    let Some(slug) = slug else {
        metrics::counter!("orcazap_login_failures_total").increment(1);
        tracing::warn!("hand-off refused: unknown, expired or opened in another browser");
        return refused(&ps);
    };
    let url = site_url(
        state,
        &headers,
        &format!("{slug}.{}", state.cfg.base_domain),
        &format!("/login/handoff/concluir?token={next}"),
    );
    let mut resp = Redirect::to(&url).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// The page that takes the browser to the store (step 1's answer): a navigation, not a
/// redirect, because Chrome holds a form POST's redirect to the page's `form-action`.
pub fn continue_page(
    heading: &str,
    store_name: &str,
    url: &str,
    cookie: &str,
) -> Result<Response, AppError> {
    let html = crate::render::page(
        "public/continue.html",
        minijinja::context! { heading => heading, store_name => store_name, url => url },
    )?;
    let mut resp = html.into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    append_cookie(&mut resp, cookie);
    Ok(resp)
}
