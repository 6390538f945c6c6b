//! Team invitations by e-mail: the owner invites an e-mail with a role (`/equipe/convidar`,
//! `dashboard::team`), the person opens `/login/convite?token=…`, chooses a name and a password
//! and is signed in. The link is single-use, lives [`store::accounts::INVITE_TTL_MS`] (7 days),
//! is replaced by a new invitation of the same e-mail, and the owner can revoke it while it is
//! pending. No account exists until the invitation is accepted.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use minijinja::context;
use serde::Deserialize;
use store::accounts::{self, Purpose};
use store::audit::{self, Entry};

use super::reset::{TokenQuery, ADDRESS_LIMIT};
use super::{anon_page, count, dead_link, message, token_shape_ok};
use crate::auth::password;
use crate::dashboard::login::{start_session, SignIn};
use crate::dashboard::ratelimit::RateLimiter;
use crate::dashboard::security::{random_token, set_cookie, Ctx, SESSION_COOKIE, SESSION_TTL_MS};
use crate::error::AppError;
use crate::state::AppState;

fn again() -> (&'static str, &'static str) {
    ("/login", "Ir para o login")
}

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<TokenQuery>,
) -> Result<Response, AppError> {
    let t = match super::live_link(&state, &ctx, Purpose::Invite, &q.token, again()).await? {
        Ok(t) => t,
        Err(dead) => return Ok(dead),
    };
    anon_page(
        &ctx,
        "account/invite.html",
        StatusCode::OK,
        context! { token => q.token.clone(), email => t.email, name => t.name,
        role => t.role.unwrap_or(store::users::Role::Attendant).label_pt(), error => None::<String> },
    )
}

#[derive(Deserialize, Default)]
pub struct AcceptForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

enum Accepted {
    Dead,
    In,
}

pub async fn accept(
    State(state): State<AppState>,
    ctx: Ctx,
    limiter: Extension<Arc<RateLimiter>>,
    headers: HeaderMap,
    Form(f): Form<AcceptForm>,
) -> Result<Response, AppError> {
    limiter
        .take(&[("reset:ip", &ctx.ip, ADDRESS_LIMIT)])
        .map_err(|secs| AppError::TooMany {
            retry_after_secs: secs,
        })?;
    if !token_shape_ok(&f.token) {
        return dead_link(&ctx, again());
    }
    let Some(link) = accounts::peek(&state.db, Purpose::Invite, &ctx.tenant.id, &f.token).await?
    else {
        return dead_link(&ctx, again());
    };
    let role = link.role.unwrap_or(store::users::Role::Attendant);
    let name = f.name.trim().to_string();
    let error = if name.is_empty() || name.chars().count() > 100 {
        Some("Informe seu nome (até 100 caracteres).".to_string())
    } else if f.new != f.confirm {
        Some("A confirmação não confere com a senha.".to_string())
    } else {
        password::check_strength(&f.new, &[&link.email, &ctx.tenant.name, &ctx.tenant.slug])
            .err()
            .map(|e| format!("Senha fraca: {e}."))
    };
    if let Some(error) = error {
        return anon_page(
            &ctx,
            "account/invite.html",
            StatusCode::UNPROCESSABLE_ENTITY,
            context! { token => f.token, email => link.email, name => name, role => role.label_pt(), error => error },
        );
    }
    let hash = password::hash(&f.new).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    let session_token = random_token();
    let csrf = random_token();
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let old = ctx.session.as_ref().map(|s| s.id_hash.clone());
    let (tenant_id, token, ip, rid, tok) = (
        ctx.tenant.id.clone(),
        f.token.clone(),
        ctx.ip.clone(),
        ctx.request_id.clone(),
        session_token.clone(),
    );
    let outcome = state
        .db
        .tx(move |c| {
            Box::pin(async move {
                let Some(t) = accounts::consume(c, Purpose::Invite, &tenant_id, &token).await?
                else {
                    return Ok(Accepted::Dead);
                };
                let role = t.role.unwrap_or(store::users::Role::Attendant);
                // A conflict (the e-mail already has an account here) rolls the whole
                // transaction back: the link stays unused.
                let user =
                    store::users::create(c, &tenant_id, &t.email, &name, &hash, role).await?;
                audit::record(
                    c,
                    &Entry {
                        tenant_id: Some(&tenant_id),
                        actor_user_id: Some(&user.id),
                        actor_label: &user.email,
                        action: "team.invite_accepted",
                        entity: "user",
                        entity_id: Some(&user.id),
                        before: None,
                        after: Some(serde_json::json!({ "role": role.code(), "invited_by": t.created_by, "ip": ip })),
                        request_id: Some(&rid),
                    },
                )
                .await?;
                start_session(
                    c,
                    &SignIn {
                        replaces: old.as_deref(),
                        token: &tok,
                        csrf: &csrf,
                        tenant_id: &tenant_id,
                        user_id: &user.id,
                        ip: &ip,
                        user_agent: &ua,
                        actor_label: &user.email,
                        via: Some("convite"),
                        request_id: &rid,
                    },
                )
                .await?;
                Ok(Accepted::In)
            })
        })
        .await;
    match outcome {
        Err(store::StoreError::Conflict(_)) => message(
            &ctx,
            StatusCode::CONFLICT,
            "Acesso já existe",
            "Já existe um acesso com esse e-mail nesta loja. Entre com ele (ou use \"Esqueci minha senha\").",
            ("/login", "Entrar"),
        ),
        Ok(Accepted::Dead) => dead_link(&ctx, again()),
        Ok(Accepted::In) => {
            count("invite_used");
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
            Ok(resp)
        }
        Err(e) => Err(e.into()),
    }
}
