//! The store host's half of the central-login hand-off (`crate::public::handoff` explains the
//! four steps): `/login/handoff?token=T` binds the browser with a cookie of this host and
//! sends it to the apex to confirm; `/login/handoff/concluir?token=F` opens the session when
//! the same browser comes back with that cookie.

use super::login::{login_form, start_session, SignIn};
use super::security::{
    cookie_value, random_token, set_cookie, tokens_match, Ctx, SESSION_COOKIE, SESSION_TTL_MS,
};
use crate::error::AppError;
use crate::public::handoff::{digest, COOKIE_MAX_AGE_SECS, STORE_COOKIE};
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use store::signup::Leg;

enum Finish {
    Refused,
    SecondFactor(String),
    SignedIn,
}

#[derive(Deserialize)]
pub struct HandoffQuery {
    #[serde(default)]
    token: String,
}

const COOKIE_PATH: &str = "/login/handoff";

fn invalid(ctx: &Ctx) -> Result<Response, AppError> {
    metrics::counter!("orcazap_login_failures_total").increment(1);
    let mut r = login_form(
        ctx,
        StatusCode::BAD_REQUEST,
        "",
        Some("Este link de acesso é inválido, já expirou ou foi aberto em outro navegador. Entre de novo.".into()),
    )?;
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// Step 2: this host's cookie N, then the apex confirms that the browser is the one that
/// signed in. Nothing is consumed here (the apex burns the token).
pub async fn handoff(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Query(q): Query<HandoffQuery>,
) -> Result<Response, AppError> {
    let token = q.token.trim();
    if token.is_empty() || token.len() > 128 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return invalid(&ctx);
    }
    let binder = random_token();
    let url = crate::public::site_url(
        &state,
        &headers,
        &state.cfg.base_domain,
        &format!("/login/confirmar?token={token}&h={}", digest(&binder)),
    );
    let mut resp = Redirect::to(&url).into_response();
    if let Ok(v) = HeaderValue::from_str(&set_cookie(
        STORE_COOKIE,
        &binder,
        COOKIE_PATH,
        COOKIE_MAX_AGE_SECS,
        state.cfg.https,
    )) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// Step 4: the second-leg token, from the browser holding this host's cookie, becomes a
/// brand-new session of this store.
pub async fn finish(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Query(q): Query<HandoffQuery>,
) -> Result<Response, AppError> {
    let token = q.token.trim().to_string();
    if token.is_empty() || token.len() > 128 {
        return invalid(&ctx);
    }
    let bound = digest(&cookie_value(&headers, STORE_COOKIE).unwrap_or_default());
    let session_token = random_token();
    let csrf = random_token();
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let old = ctx.session.as_ref().map(|s| s.id_hash.clone());
    let (tenant_id, ip, rid, tok) = (
        ctx.tenant.id.clone(),
        ctx.ip.clone(),
        ctx.request_id.clone(),
        session_token.clone(),
    );
    let signed_in = state
        .db
        .tx(move |c| {
            Box::pin(async move {
                let Some(ho) = store::signup::consume_handoff(c, Leg::Store, &token).await? else {
                    return Ok(Finish::Refused);
                };
                if ho.tenant_id != tenant_id || !tokens_match(&ho.binding, &bound) {
                    return Ok(Finish::Refused);
                }
                // Two-factor on: the hand-off proves the password, the code comes next here.
                if store::accounts::totp_enabled(c, &ho.user_id).await? {
                    return Ok(Finish::SecondFactor(ho.user_id));
                }
                start_session(
                    c,
                    &SignIn {
                        replaces: old.as_deref(),
                        token: &tok,
                        csrf: &csrf,
                        tenant_id: &tenant_id,
                        user_id: &ho.user_id,
                        ip: &ip,
                        user_agent: &ua,
                        actor_label: "login central",
                        via: Some("central"),
                        request_id: &rid,
                    },
                )
                .await?;
                Ok(Finish::SignedIn)
            })
        })
        .await?;
    match signed_in {
        Finish::Refused => return invalid(&ctx),
        Finish::SecondFactor(user_id) => {
            let Some(user) = store::users::by_id(&state.db, &ctx.tenant.id, &user_id).await? else {
                return invalid(&ctx);
            };
            return crate::account::two_factor::challenge(&state, &ctx, &user, "central").await;
        }
        Finish::SignedIn => {}
    }
    let mut resp = Redirect::to("/").into_response();
    for line in [
        set_cookie(
            SESSION_COOKIE,
            &session_token,
            "/",
            SESSION_TTL_MS / 1000,
            state.cfg.https,
        ),
        set_cookie(STORE_COOKIE, "", COOKIE_PATH, 0, state.cfg.https),
    ] {
        if let Ok(v) = HeaderValue::from_str(&line) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}
