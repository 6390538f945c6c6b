//! Sign-in, sign-out and password change on the store's own host.

use std::sync::{Arc, OnceLock};

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use minijinja::context;
use serde::Deserialize;
use store::audit::{self, Entry};
use store::sessions::{self, NewSession};

use super::security::{
    random_token, set_cookie, Ctx, Me, LOGIN_CSRF_COOKIE, SESSION_COOKIE, SESSION_TTL_MS,
};
use crate::auth::password;
use crate::error::AppError;
use crate::state::AppState;

use crate::auth::throttle;
pub(crate) use crate::auth::throttle::account_key;
use crate::dashboard::ratelimit::RateLimiter;

/// Verifying against this when the email is unknown makes both answers take as long.
pub(crate) fn dummy_hash() -> &'static str {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| password::hash("senha que ninguém usa 8f3k").unwrap_or_default())
}

pub(crate) fn login_form(
    ctx: &Ctx,
    status: StatusCode,
    email: &str,
    error: Option<String>,
) -> Result<Response, AppError> {
    let csrf = random_token();
    let html = crate::render::page(
        "dashboard/login.html",
        context! { store_name => ctx.tenant.name.clone(), csrf => csrf.clone(), email => email, error => error },
    )?;
    let mut resp = (status, html).into_response();
    // Double-submit token for the login form (there is no session yet to hold one).
    if let Ok(v) = HeaderValue::from_str(&set_cookie(
        LOGIN_CSRF_COOKIE,
        &csrf,
        "/login",
        3600,
        ctx.https,
    )) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

pub async fn login_page(ctx: Ctx) -> Result<Response, AppError> {
    if ctx.user.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    login_form(&ctx, StatusCode::OK, "", None)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

pub(crate) fn minutes_until(ms: i64) -> i64 {
    ((ms - store::now_ms()).max(0) + 59_999) / 60_000
}

fn locked_response(ctx: &Ctx, email: &str, until: i64) -> Result<Response, AppError> {
    let (message, mins) = lockout_message(until);
    let r = login_form(ctx, StatusCode::TOO_MANY_REQUESTS, email, Some(message))?;
    Ok(with_retry_after(r, mins))
}

/// The pt-BR message of a locked-out login and the whole minutes left (at least 1). Shared by
/// the store's login and the central login on `BASE`.
pub(crate) fn lockout_message(until: i64) -> (String, i64) {
    let mins = minutes_until(until).max(1);
    let message = format!(
        "Muitas tentativas de login erradas. Por segurança, o acesso está bloqueado; tente de novo em {mins} minuto{}.",
        if mins == 1 { "" } else { "s" }
    );
    (message, mins)
}

/// Adds `Retry-After` (seconds) to a lockout answer.
pub(crate) fn with_retry_after(mut r: Response, mins: i64) -> Response {
    if let Ok(v) = HeaderValue::from_str(&(mins * 60).to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

/// The store's sign-in. The guard has already checked Origin and the form's CSRF token;
/// only then is an attempt charged, to this address *and* this account
/// ([`crate::auth::throttle`] explains the three controls).
pub async fn login(
    State(state): State<AppState>,
    ctx: Ctx,
    limiter: axum::Extension<Arc<RateLimiter>>,
    headers: axum::http::HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    let email = form.email.trim().to_string();
    let acct = account_key(&ctx.tenant.id, &email);
    if let Err(secs) = throttle::charge_attempt(&limiter, &ctx.ip, &acct) {
        metrics::counter!("orcazap_rate_limited_total", "class" => "Login").increment(1);
        return Err(AppError::TooMany {
            retry_after_secs: secs,
        });
    }
    if let Some(until) = sessions::throttle_locked_until(&state.db, &acct).await? {
        return locked_response(&ctx, &email, until);
    }
    let user = if email.is_empty() || email.len() > 254 {
        None
    } else {
        store::users::by_email(&state.db, &ctx.tenant.id, &email).await?
    };
    let ok = match &user {
        Some(u) => password::verify_async(&form.password, &u.password_hash).await,
        None => {
            password::verify_async(&form.password, dummy_hash()).await;
            false
        }
    };
    let Some(user) = user.filter(|_| ok) else {
        let f = throttle::record_failure(&state.db, vec![acct.clone()], &ctx.ip).await?;
        if let Some(until) = f.account_locked_until {
            tracing::warn!(tenant_id = %ctx.tenant.id, "login locked out after repeated failures");
            return locked_response(&ctx, &email, until);
        }
        if let Some(until) = f.address_suspect_until {
            let r = login_form(
                &ctx,
                StatusCode::TOO_MANY_REQUESTS,
                &email,
                Some(throttle::suspect_message()),
            )?;
            return Ok(with_retry_after(r, minutes_until(until).max(1)));
        }
        return login_form(
            &ctx,
            StatusCode::UNAUTHORIZED,
            &email,
            Some("E-mail ou senha incorretos.".into()),
        );
    };
    // Two-factor on: the password was right, the code comes next (no session yet, and the
    // account's failure count is kept until the code is right: crate::account::two_factor).
    if user.totp_enabled_at.is_some() {
        return crate::account::two_factor::challenge(&state, &ctx, &user, "form").await;
    }
    // A brand-new token every time: a session id planted before login is never promoted.
    let token = random_token();
    let csrf = random_token();
    let old = ctx.session.as_ref().map(|s| s.id_hash.clone());
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let (tenant_id, user_id, label, ip, rid, tok) = (
        ctx.tenant.id.clone(),
        user.id.clone(),
        user.email.clone(),
        ctx.ip.clone(),
        ctx.request_id.clone(),
        token.clone(),
    );
    state
        .db
        .tx(move |c| {
            Box::pin(async move {
                sessions::throttle_clear(c, &acct).await?;
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
                        actor_label: &label,
                        via: None,
                        request_id: &rid,
                    },
                )
                .await
            })
        })
        .await?;
    let mut resp = Redirect::to("/").into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&set_cookie(
        SESSION_COOKIE,
        &token,
        "/",
        SESSION_TTL_MS / 1000,
        state.cfg.https,
    )) {
        h.append(header::SET_COOKIE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&set_cookie(
        LOGIN_CSRF_COOKIE,
        "",
        "/login",
        0,
        state.cfg.https,
    )) {
        h.append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

/// GET /logout asks for confirmation (a link must not sign anyone out); the button POSTs.
pub async fn logout_page(ctx: Ctx) -> Result<Response, AppError> {
    match ctx.session {
        None => Ok(Redirect::to("/login").into_response()),
        Some(s) => Ok(crate::render::page(
            "dashboard/logout.html",
            context! { store_name => ctx.tenant.name.clone(), csrf => s.csrf_token },
        )?
        .into_response()),
    }
}

pub async fn logout(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    if let (Some(s), Some(u)) = (ctx.session.clone(), ctx.user.clone()) {
        let tenant_id = ctx.tenant.id.clone();
        let rid = ctx.request_id.clone();
        state
            .db
            .tx(move |c| {
                Box::pin(async move {
                    sessions::delete(c, &s.id_hash).await?;
                    audit::record(
                        c,
                        &Entry {
                            tenant_id: Some(&tenant_id),
                            actor_user_id: Some(&u.id),
                            actor_label: &u.email,
                            action: "user.logout",
                            entity: "user",
                            entity_id: Some(&u.id),
                            before: None,
                            after: None,
                            request_id: Some(&rid),
                        },
                    )
                    .await
                })
            })
            .await?;
    }
    let mut resp = Redirect::to("/login").into_response();
    if let Ok(v) = HeaderValue::from_str(&set_cookie(SESSION_COOKIE, "", "/", 0, state.cfg.https)) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

pub async fn password_page(me: Me) -> Result<Html<String>, AppError> {
    super::view::page(
        &me,
        "dashboard/password.html",
        "conta",
        context! { error => None::<String> },
    )
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

/// Changing the password ends every session of this user and opens a fresh one here.
///
/// A wrong current password counts as a failed login of this account (same lockout as the
/// login form): whoever holds a stolen session cannot use this form to guess the password.
/// At the limit every session of the user ends and the account is locked for
/// [`crate::auth::throttle::LOCKOUT_MS`]; the owner signs in again afterwards (or an operator resets the password).
pub async fn change_password(
    State(state): State<AppState>,
    me: Me,
    ctx: Ctx,
    Form(form): Form<PasswordForm>,
) -> Result<Response, AppError> {
    let current_ok = password::verify_async(&form.current, &me.user.password_hash).await;
    if !current_ok {
        let acct = account_key(&me.tenant.id, &me.user.email);
        let f = throttle::record_failure(&state.db, vec![acct], &me.ip).await?;
        if let Some(until) = f.account_locked_until {
            let uid = me.user.id.clone();
            state
                .db
                .tx(move |c| Box::pin(async move { sessions::delete_for_user(c, &uid).await }))
                .await?;
            tracing::warn!(tenant_id = %me.tenant.id, "password change: too many wrong current passwords, sessions ended");
            let signed_out = Ctx {
                user: None,
                session: None,
                waiting_for_person: 0,
                ..ctx
            };
            let (message, mins) = lockout_message(until);
            let mut r = with_retry_after(
                login_form(
                    &signed_out,
                    StatusCode::TOO_MANY_REQUESTS,
                    &me.user.email,
                    Some(format!(
                        "A senha atual foi digitada errado muitas vezes e a sessão foi encerrada. {message}"
                    )),
                )?,
                mins,
            );
            if let Ok(v) =
                HeaderValue::from_str(&set_cookie(SESSION_COOKIE, "", "/", 0, state.cfg.https))
            {
                r.headers_mut().append(header::SET_COOKIE, v);
            }
            return Ok(r);
        }
    }
    let error = if !current_ok {
        Some("A senha atual está incorreta.".to_string())
    } else if form.new != form.confirm {
        Some("A confirmação não confere com a nova senha.".to_string())
    } else {
        password::check_strength(
            &form.new,
            &[&me.user.email, &me.tenant.name, &me.tenant.slug],
        )
        .err()
        .map(|e| format!("Senha fraca: {e}."))
    };
    if let Some(error) = error {
        let html = super::view::page(
            &me,
            "dashboard/password.html",
            "conta",
            context! { error => error },
        )?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
    }
    let hash = password::hash(&form.new).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    let token = random_token();
    let csrf = random_token();
    let (tenant_id, user_id, label, ip, rid, tok) = (
        me.tenant.id.clone(),
        me.user.id.clone(),
        me.user.email.clone(),
        me.ip.clone(),
        me.request_id.clone(),
        token.clone(),
    );
    state
        .db
        .tx(move |c| {
            Box::pin(async move {
                store::users::set_password(c, &tenant_id, &user_id, &hash).await?;
                sessions::delete_for_user(c, &user_id).await?;
                sessions::create(
                    c,
                    &NewSession {
                        token: &tok,
                        tenant_id: Some(&tenant_id),
                        user_id: &user_id,
                        csrf_token: &csrf,
                        ip: &ip,
                        user_agent: "",
                        ttl_ms: SESSION_TTL_MS,
                    },
                )
                .await?;
                audit::record(
                    c,
                    &Entry {
                        tenant_id: Some(&tenant_id),
                        actor_user_id: Some(&user_id),
                        actor_label: &label,
                        action: "user.password_change",
                        entity: "user",
                        entity_id: Some(&user_id),
                        before: None,
                        after: None,
                        request_id: Some(&rid),
                    },
                )
                .await
            })
        })
        .await?;
    let mut resp = Redirect::to("/conta/senha?ok=senha").into_response();
    if let Ok(v) = HeaderValue::from_str(&set_cookie(
        SESSION_COOKIE,
        &token,
        "/",
        SESSION_TTL_MS / 1000,
        state.cfg.https,
    )) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

/// One sign-in to a store: the session the browser had (if any) is replaced, never promoted.
pub(crate) struct SignIn<'a> {
    pub replaces: Option<&'a str>,
    pub token: &'a str,
    pub csrf: &'a str,
    pub tenant_id: &'a str,
    pub user_id: &'a str,
    pub ip: &'a str,
    pub user_agent: &'a str,
    pub actor_label: &'a str,
    /// How the user got here when it was not this store's login form (e.g. "central").
    pub via: Option<&'a str>,
    pub request_id: &'a str,
}

/// Creates the session of a sign-in and records it in the audit log, inside the caller's
/// transaction. The store's login form and the central-login hand-off both end here.
pub(crate) async fn start_session(
    c: &mut sqlx::AnyConnection,
    s: &SignIn<'_>,
) -> Result<(), store::StoreError> {
    if let Some(old) = s.replaces {
        sessions::delete(c, old).await?;
    }
    sessions::create(
        c,
        &NewSession {
            token: s.token,
            tenant_id: Some(s.tenant_id),
            user_id: s.user_id,
            csrf_token: s.csrf,
            ip: s.ip,
            user_agent: s.user_agent,
            ttl_ms: SESSION_TTL_MS,
        },
    )
    .await?;
    let mut after = serde_json::json!({ "ip": s.ip });
    if let Some(via) = s.via {
        after["via"] = serde_json::json!(via);
    }
    audit::record(
        c,
        &Entry {
            tenant_id: Some(s.tenant_id),
            actor_user_id: Some(s.user_id),
            actor_label: s.actor_label,
            action: "user.login",
            entity: "user",
            entity_id: Some(s.user_id),
            before: None,
            after: Some(after),
            request_id: Some(s.request_id),
        },
    )
    .await?;
    Ok(())
}
