//! `{slug}.BASE/login/handoff?token=…`: where the central login (and sign-up) on `BASE`
//! lands. The one-time token becomes a brand-new session of this store.

use super::login::{login_form, start_session, SignIn};
use super::security::{random_token, set_cookie, Ctx, SESSION_COOKIE, SESSION_TTL_MS};
use crate::error::AppError;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct HandoffQuery {
    #[serde(default)]
    token: String,
}

pub async fn handoff(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Query(q): Query<HandoffQuery>,
) -> Result<Response, AppError> {
    let token = q.token.trim().to_string();
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
    let signed_in = if token.is_empty() || token.len() > 128 {
        false
    } else {
        state
            .db
            .tx(move |c| {
                Box::pin(async move {
                    let Some(user_id) =
                        store::signup::consume_handoff(c, &token, &tenant_id).await?
                    else {
                        return Ok(false);
                    };
                    start_session(
                        c,
                        &SignIn {
                            replaces: old.as_deref(),
                            token: &tok,
                            csrf: &csrf,
                            tenant_id: &tenant_id,
                            user_id: &user_id,
                            ip: &ip,
                            user_agent: &ua,
                            actor_label: "login central",
                            via: Some("central"),
                            request_id: &rid,
                        },
                    )
                    .await?;
                    Ok(true)
                })
            })
            .await?
    };
    if !signed_in {
        metrics::counter!("orcazap_login_failures_total").increment(1);
        return login_form(
            &ctx,
            StatusCode::BAD_REQUEST,
            "",
            Some("Este link de acesso é inválido ou já expirou. Entre de novo.".into()),
        );
    }
    let mut resp = Redirect::to("/").into_response();
    if let Ok(v) = HeaderValue::from_str(&set_cookie(
        SESSION_COOKIE,
        &session_token,
        "/",
        SESSION_TTL_MS / 1000,
        state.cfg.https,
    )) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}
