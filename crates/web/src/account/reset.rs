//! Password reset by e-mail: `/login/esqueci` asks for the e-mail, `/login/redefinir?token=…`
//! sets the new password. The link is single-use, lives [`store::accounts::RESET_TTL_MS`] (1 h),
//! and a later request or a password change ends it. The answer to "esqueci" is the same
//! whether the e-mail exists or not, and takes as long: the look-up and the e-mail happen after
//! the answer (a spawned task writing the link and its e-mail job in one transaction).

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::{Extension, Form};
use minijinja::context;
use serde::Deserialize;
use store::accounts::{self, NewToken, Purpose};
use store::audit::{self, Entry};

use super::{anon_page, compose, count, dead_link, message, store_url, token_shape_ok};
use crate::auth::password;
use crate::auth::throttle::{self, account_key};
use crate::dashboard::ratelimit::{Limit, RateLimiter};
use crate::dashboard::security::{random_token, Ctx};
use crate::error::AppError;
use crate::state::AppState;

/// Reset requests and reset submissions per address: 10, then 2 a minute.
pub const ADDRESS_LIMIT: Limit = Limit::new(10, 2);
/// Reset e-mails per account per hour (more are silently not sent: no mailbox flooding).
pub const PER_ACCOUNT_PER_HOUR: i64 = 3;

#[derive(Deserialize, Default)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
}

pub async fn forgot_page(ctx: Ctx) -> Result<Response, AppError> {
    anon_page(
        &ctx,
        "account/forgot.html",
        StatusCode::OK,
        context! { email => "", sent => false, error => None::<String> },
    )
}

pub(crate) fn charge(limiter: &RateLimiter, ip: &str, account: &str) -> Result<(), AppError> {
    limiter
        .take(&[("reset:ip", ip, ADDRESS_LIMIT)])
        .and_then(|_| throttle::charge_attempt(limiter, ip, &format!("reset:{account}")))
        .map_err(|secs| {
            metrics::counter!("orcazap_rate_limited_total", "class" => "Login").increment(1);
            AppError::TooMany {
                retry_after_secs: secs,
            }
        })
}

/// Who asked and from where, for the background task.
pub(crate) struct Request {
    pub ip: String,
    pub request_id: Option<String>,
    /// `http(s)://{slug}.BASE[:port]` of each store, from the request's scheme and port.
    pub base_of: Box<dyn Fn(&str) -> String + Send + Sync>,
}

/// Issues a reset link for each (store, user) and queues its e-mail, after the answer was
/// sent. At most [`PER_ACCOUNT_PER_HOUR`] per account.
pub(crate) fn send_in_background(
    state: &AppState,
    users: Vec<(store::users::User, String, String)>,
    req: Request,
) {
    let state = state.clone();
    tokio::spawn(async move {
        for (user, slug, store_name) in users {
            if let Err(e) = send_one(&state, &user, &slug, &store_name, &req).await {
                tracing::error!(error = %e, tenant_id = %user.tenant_id, "password reset e-mail not queued");
            }
        }
    });
}

async fn send_one(
    state: &AppState,
    user: &store::users::User,
    slug: &str,
    store_name: &str,
    req: &Request,
) -> Result<(), AppError> {
    let token = random_token();
    let url = format!("{}/login/redefinir?token={token}", (req.base_of)(slug));
    let email = compose(
        "password_reset",
        &user.email,
        "Redefinição de senha — OrçaZap",
        context! { links => vec![context! { store_name => store_name, url => url }], minutes => accounts::RESET_TTL_MS / 60_000 },
    )?;
    let (cipher, u, ip, rid) = (
        state.cipher.clone(),
        user.clone(),
        req.ip.clone(),
        req.request_id.clone(),
    );
    let sent = state
        .db
        .tx(move |c| {
            Box::pin(async move {
                // Requests race (each runs in its own task): the user's row is locked first,
                // so the hourly count is exact on both engines.
                let hour_ago = store::now_ms() - 60 * 60 * 1000;
                if accounts::lock_and_count_since(c, Purpose::PasswordReset, &u.id, hour_ago)
                    .await?
                    >= PER_ACCOUNT_PER_HOUR
                {
                    return Ok(false);
                }
                accounts::issue(
                    c,
                    &NewToken {
                        purpose: Purpose::PasswordReset,
                        token: &token,
                        tenant_id: &u.tenant_id,
                        user_id: Some(&u.id),
                        email: &u.email,
                        name: "",
                        role: None,
                        created_by: None,
                        ttl_ms: accounts::RESET_TTL_MS,
                    },
                )
                .await?;
                audit::record(
                    c,
                    &Entry {
                        tenant_id: Some(&u.tenant_id),
                        actor_user_id: None,
                        actor_label: "redefinição de senha",
                        action: "user.password_reset_requested",
                        entity: "user",
                        entity_id: Some(&u.id),
                        before: None,
                        after: Some(serde_json::json!({ "ip": ip })),
                        request_id: rid.as_deref(),
                    },
                )
                .await?;
                store::email::enqueue(
                    c,
                    &cipher,
                    Some(&u.tenant_id),
                    "password_reset",
                    &email,
                    rid.as_deref(),
                )
                .await?;
                Ok(true)
            })
        })
        .await?;
    if sent {
        count("reset_sent");
    } else {
        tracing::warn!(tenant_id = %user.tenant_id, "password reset: hourly cap reached, not sent");
    }
    Ok(())
}

pub async fn forgot(
    State(state): State<AppState>,
    ctx: Ctx,
    limiter: Extension<Arc<RateLimiter>>,
    headers: HeaderMap,
    Form(f): Form<ForgotForm>,
) -> Result<Response, AppError> {
    let email = f.email.trim().to_string();
    if email.is_empty() || email.len() > 254 || !email.contains('@') {
        return anon_page(
            &ctx,
            "account/forgot.html",
            StatusCode::UNPROCESSABLE_ENTITY,
            context! { email => email, sent => false, error => Some("Informe um e-mail válido.") },
        );
    }
    charge(&limiter, &ctx.ip, &account_key(&ctx.tenant.id, &email))?;
    let user = store::users::by_email(&state.db, &ctx.tenant.id, &email).await;
    // The look-up is one indexed read either way; what follows (link, audit, e-mail) runs
    // after the answer, so the answer's timing does not say whether the e-mail exists.
    let users = match user {
        Ok(Some(u)) => vec![(u, ctx.tenant.slug.clone(), ctx.tenant.name.clone())],
        Ok(None) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let (st, hd) = (state.clone(), headers.clone());
    send_in_background(
        &state,
        users,
        Request {
            ip: ctx.ip.clone(),
            request_id: Some(ctx.request_id.clone()),
            base_of: Box::new(move |slug| store_url(&st, &hd, slug, "")),
        },
    );
    anon_page(
        &ctx,
        "account/forgot.html",
        StatusCode::OK,
        context! { email => email, sent => true, error => None::<String> },
    )
}

#[derive(Deserialize, Default)]
pub struct TokenQuery {
    #[serde(default)]
    pub token: String,
}

fn again() -> (&'static str, &'static str) {
    ("/login/esqueci", "Pedir um novo link")
}

pub async fn reset_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<TokenQuery>,
) -> Result<Response, AppError> {
    let t = match super::live_link(&state, &ctx, Purpose::PasswordReset, &q.token, again()).await? {
        Ok(t) => t,
        Err(dead) => return Ok(dead),
    };
    anon_page(
        &ctx,
        "account/reset.html",
        StatusCode::OK,
        context! { token => q.token, email => t.email, error => None::<String> },
    )
}

#[derive(Deserialize, Default)]
pub struct ResetForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

pub async fn reset(
    State(state): State<AppState>,
    ctx: Ctx,
    limiter: Extension<Arc<RateLimiter>>,
    Form(f): Form<ResetForm>,
) -> Result<Response, AppError> {
    limiter
        .take(&[("reset:ip", &ctx.ip, ADDRESS_LIMIT)])
        .map_err(|secs| AppError::TooMany {
            retry_after_secs: secs,
        })?;
    if !token_shape_ok(&f.token) {
        return dead_link(&ctx, again());
    }
    let Some(link) =
        accounts::peek(&state.db, Purpose::PasswordReset, &ctx.tenant.id, &f.token).await?
    else {
        return dead_link(&ctx, again());
    };
    let error = if f.new != f.confirm {
        Some("A confirmação não confere com a nova senha.".to_string())
    } else {
        password::check_strength(&f.new, &[&link.email, &ctx.tenant.name, &ctx.tenant.slug])
            .err()
            .map(|e| format!("Senha fraca: {e}."))
    };
    if let Some(error) = error {
        return anon_page(
            &ctx,
            "account/reset.html",
            StatusCode::UNPROCESSABLE_ENTITY,
            context! { token => f.token, email => link.email, error => error },
        );
    }
    let hash = password::hash(&f.new).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    let (tenant_id, token, ip, rid) = (
        ctx.tenant.id.clone(),
        f.token.clone(),
        ctx.ip.clone(),
        ctx.request_id.clone(),
    );
    let done = state
        .db
        .tx(move |c| {
            Box::pin(async move {
                let Some(t) =
                    accounts::consume(c, Purpose::PasswordReset, &tenant_id, &token).await?
                else {
                    return Ok(false);
                };
                let Some(user_id) = t.user_id else {
                    return Ok(false);
                };
                store::users::set_password(c, &tenant_id, &user_id, &hash).await?;
                store::sessions::delete_for_user(c, &user_id).await?;
                accounts::revoke_for_user(c, Purpose::PasswordReset, &user_id).await?;
                // The link reached the mailbox: the address is the user's.
                accounts::mark_email_verified(c, &tenant_id, &user_id).await?;
                store::sessions::throttle_clear(c, &account_key(&tenant_id, &t.email)).await?;
                audit::record(
                    c,
                    &Entry {
                        tenant_id: Some(&tenant_id),
                        actor_user_id: Some(&user_id),
                        actor_label: &t.email,
                        action: "user.password_reset",
                        entity: "user",
                        entity_id: Some(&user_id),
                        before: None,
                        after: Some(serde_json::json!({ "ip": ip })),
                        request_id: Some(&rid),
                    },
                )
                .await?;
                Ok(true)
            })
        })
        .await?;
    if !done {
        return dead_link(&ctx, again());
    }
    count("reset_used");
    tracing::info!(tenant_id = %ctx.tenant.id, "password reset by e-mail link; sessions ended");
    message(
        &ctx,
        StatusCode::OK,
        "Senha redefinida",
        "Sua nova senha foi salva e você saiu de todos os aparelhos. Entre com a nova senha.",
        ("/login", "Entrar"),
    )
}
