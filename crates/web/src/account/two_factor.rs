//! Two-factor sign-in (TOTP, `crate::auth::totp`) for store users: optional, or required by the
//! owner for the whole team.
//!
//! - `/conta/seguranca`: enrolment (a new secret, encrypted with the token cipher, shown as a
//!   QR code and an `otpauth://` URI), confirmation with a first code (then ten recovery codes,
//!   shown once, stored hashed), new recovery codes, turning it off (password and a code), and
//!   for the owner the store-wide requirement.
//! - Sign-in: a right password for an account with two-factor opens no session. It sets a
//!   cookie `oz_mfa` (a random token, path `/login`, [`store::accounts::MFA_TTL_MS`]) and asks
//!   for a code on `/login/2fa`; the session is opened only after a code (or a recovery code)
//!   is accepted. Wrong codes count as failed logins of the account (same lockout as a wrong
//!   password), and a right password does not reset that count while the second step is
//!   pending, so a stolen password does not buy unlimited code guesses. A code is accepted
//!   once (its time step is recorded).
//! - Required by the store: a member without two-factor can only reach `/conta/seguranca` (and
//!   sign out) until it is on.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use minijinja::context;
use serde::Deserialize;
use store::accounts::{self, NewToken, Purpose};
use store::audit::{self, Entry};

use super::anon_page;
use crate::auth::throttle::{self, account_key};
use crate::auth::{password, totp};
use crate::dashboard::login::{
    lockout_message, login_form, start_session, with_retry_after, SignIn,
};
use crate::dashboard::ratelimit::RateLimiter;
use crate::dashboard::security::{
    cookie_value, random_token, set_cookie, Ctx, Me, SESSION_COOKIE, SESSION_TTL_MS,
};
use crate::dashboard::view;
use crate::error::AppError;
use crate::state::AppState;

pub const MFA_COOKIE: &str = "oz_mfa";

fn now_secs() -> i64 {
    store::now_ms() / 1000
}

// ---- sign-in, second step ----

/// The password was right for `user`, who has two-factor on: no session yet; the browser gets
/// the pending-sign-in cookie and the code form.
pub async fn challenge(
    state: &AppState,
    ctx: &Ctx,
    user: &store::users::User,
    via: &str,
) -> Result<Response, AppError> {
    let token = random_token();
    let (t2, tenant_id, user_id, via) = (
        token.clone(),
        ctx.tenant.id.clone(),
        user.id.clone(),
        via.to_string(),
    );
    state
        .db
        .tx(move |c| {
            Box::pin(async move {
                accounts::issue(
                    c,
                    &NewToken {
                        purpose: Purpose::MfaPending,
                        token: &t2,
                        tenant_id: &tenant_id,
                        user_id: Some(&user_id),
                        // How the password step was passed, for the audit entry of the sign-in.
                        email: &via,
                        name: "",
                        role: None,
                        created_by: None,
                        ttl_ms: accounts::MFA_TTL_MS,
                    },
                )
                .await
            })
        })
        .await?;
    let mut resp = Redirect::to("/login/2fa").into_response();
    if let Ok(v) = HeaderValue::from_str(&set_cookie(
        MFA_COOKIE,
        &token,
        "/login",
        accounts::MFA_TTL_MS / 1000,
        ctx.https,
    )) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

async fn pending(
    state: &AppState,
    ctx: &Ctx,
    headers: &HeaderMap,
) -> Result<Option<(String, accounts::AccountToken)>, AppError> {
    let Some(token) = cookie_value(headers, MFA_COOKIE).filter(|t| super::token_shape_ok(t)) else {
        return Ok(None);
    };
    Ok(
        accounts::peek(&state.db, Purpose::MfaPending, &ctx.tenant.id, &token)
            .await?
            .map(|t| (token, t)),
    )
}

fn code_form(ctx: &Ctx, status: StatusCode, error: Option<String>) -> Result<Response, AppError> {
    anon_page(
        ctx,
        "account/second_factor.html",
        status,
        context! { error => error },
    )
}

pub async fn login_page(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    match pending(&state, &ctx, &headers).await? {
        None => Ok(Redirect::to("/login").into_response()),
        Some(_) => code_form(&ctx, StatusCode::OK, None),
    }
}

#[derive(Deserialize, Default)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

/// What a code typed at sign-in (or to confirm a sensitive change) matched.
enum Second {
    Totp(i64),
    Recovery(String),
    No,
}

fn check_code(state: &AppState, sec: &accounts::Security, code: &str) -> Result<Second, AppError> {
    if totp::is_recovery_code(code) {
        return Ok(Second::Recovery(totp::recovery_hash(code)));
    }
    let Some(enc) = &sec.totp_secret_enc else {
        return Ok(Second::No);
    };
    let secret = state
        .cipher
        .decrypt(enc)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("two-factor secret: {e}")))?;
    let secret = totp::base32_decode(&secret)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("two-factor secret is not base32")))?;
    Ok(match totp::verify(&secret, code, now_secs()) {
        Some(step) => Second::Totp(step),
        None => Second::No,
    })
}

/// Uses what `check_code` matched, in the caller's transaction: false when the TOTP step was
/// already used or the recovery code is unknown or spent.
async fn spend(
    c: &mut sqlx::AnyConnection,
    user_id: &str,
    second: &Second,
) -> Result<bool, store::StoreError> {
    match second {
        Second::Totp(step) => accounts::accept_totp_step(c, user_id, *step).await,
        Second::Recovery(hash) => accounts::use_recovery_code(c, user_id, hash).await,
        Second::No => Ok(false),
    }
}

pub async fn login(
    State(state): State<AppState>,
    ctx: Ctx,
    limiter: Extension<Arc<RateLimiter>>,
    headers: HeaderMap,
    Form(f): Form<CodeForm>,
) -> Result<Response, AppError> {
    let Some((token, link)) = pending(&state, &ctx, &headers).await? else {
        return Ok(Redirect::to("/login").into_response());
    };
    let Some(user_id) = link.user_id.clone() else {
        return Ok(Redirect::to("/login").into_response());
    };
    let Some(user) = store::users::by_id(&state.db, &ctx.tenant.id, &user_id).await? else {
        return Ok(Redirect::to("/login").into_response());
    };
    let acct = account_key(&ctx.tenant.id, &user.email);
    if let Err(secs) = throttle::charge_attempt(&limiter, &ctx.ip, &format!("2fa:{acct}")) {
        return Err(AppError::TooMany {
            retry_after_secs: secs,
        });
    }
    if let Some(until) = store::sessions::throttle_locked_until(&state.db, &acct).await? {
        return locked(&state, &ctx, &user.email, &token, until).await;
    }
    let sec = accounts::security(&state.db, &user.id).await?;
    let second = check_code(&state, &sec, &f.code)?;
    let recovery = matches!(second, Second::Recovery(_));
    let session_token = random_token();
    let csrf = random_token();
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let old = ctx.session.as_ref().map(|s| s.id_hash.clone());
    let (tenant_id, uid, label, ip, rid, tok, pending_token, acct2) = (
        ctx.tenant.id.clone(),
        user.id.clone(),
        user.email.clone(),
        ctx.ip.clone(),
        ctx.request_id.clone(),
        session_token.clone(),
        token.clone(),
        acct.clone(),
    );
    let via = if link.email == "central" {
        "central+2fa"
    } else {
        "2fa"
    };
    let signed_in = state
        .db
        .tx(move |c| {
            Box::pin(async move {
                if !spend(c, &uid, &second).await? {
                    return Ok(false);
                }
                if accounts::consume(c, Purpose::MfaPending, &tenant_id, &pending_token)
                    .await?
                    .is_none()
                {
                    return Ok(false);
                }
                store::sessions::throttle_clear(c, &acct2).await?;
                if recovery {
                    audit::record(
                        c,
                        &Entry {
                            tenant_id: Some(&tenant_id),
                            actor_user_id: Some(&uid),
                            actor_label: &label,
                            action: "user.recovery_code_used",
                            entity: "user",
                            entity_id: Some(&uid),
                            before: None,
                            after: Some(serde_json::json!({ "ip": ip })),
                            request_id: Some(&rid),
                        },
                    )
                    .await?;
                }
                start_session(
                    c,
                    &SignIn {
                        replaces: old.as_deref(),
                        token: &tok,
                        csrf: &csrf,
                        tenant_id: &tenant_id,
                        user_id: &uid,
                        ip: &ip,
                        user_agent: &ua,
                        actor_label: &label,
                        via: Some(if recovery { "recovery_code" } else { via }),
                        request_id: &rid,
                    },
                )
                .await?;
                Ok(true)
            })
        })
        .await?;
    if !signed_in {
        let fail = throttle::record_failure(&state.db, vec![acct.clone()], &ctx.ip).await?;
        metrics::counter!("orcazap_two_factor_failures_total").increment(1);
        record_failure_audit(&state, &ctx, &user).await?;
        if let Some(until) = fail.account_locked_until {
            tracing::warn!(tenant_id = %ctx.tenant.id, "two-factor: locked out after repeated wrong codes");
            return locked(&state, &ctx, &user.email, &token, until).await;
        }
        return code_form(
            &ctx,
            StatusCode::UNAUTHORIZED,
            Some("Código incorreto ou já usado. Confira o aplicativo e tente de novo.".into()),
        );
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
        set_cookie(MFA_COOKIE, "", "/login", 0, state.cfg.https),
    ] {
        if let Ok(v) = HeaderValue::from_str(&line) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(resp)
}

async fn record_failure_audit(
    state: &AppState,
    ctx: &Ctx,
    user: &store::users::User,
) -> Result<(), AppError> {
    let (tenant_id, uid, label, ip, rid) = (
        ctx.tenant.id.clone(),
        user.id.clone(),
        user.email.clone(),
        ctx.ip.clone(),
        ctx.request_id.clone(),
    );
    state
        .db
        .tx(move |c| {
            Box::pin(async move {
                audit::record(
                    c,
                    &Entry {
                        tenant_id: Some(&tenant_id),
                        actor_user_id: Some(&uid),
                        actor_label: &label,
                        action: "user.2fa_failed",
                        entity: "user",
                        entity_id: Some(&uid),
                        before: None,
                        after: Some(serde_json::json!({ "ip": ip })),
                        request_id: Some(&rid),
                    },
                )
                .await
            })
        })
        .await?;
    Ok(())
}

/// The account is locked: the pending sign-in is burnt and the login form says until when.
async fn locked(
    state: &AppState,
    ctx: &Ctx,
    email: &str,
    token: &str,
    until: i64,
) -> Result<Response, AppError> {
    let (tenant_id, t) = (ctx.tenant.id.clone(), token.to_string());
    state
        .db
        .tx(move |c| {
            Box::pin(async move {
                accounts::consume(c, Purpose::MfaPending, &tenant_id, &t)
                    .await
                    .map(|_| ())
            })
        })
        .await?;
    let (message, mins) = lockout_message(until);
    let mut r = with_retry_after(
        login_form(ctx, StatusCode::TOO_MANY_REQUESTS, email, Some(message))?,
        mins,
    );
    if let Ok(v) = HeaderValue::from_str(&set_cookie(MFA_COOKIE, "", "/login", 0, ctx.https)) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(r)
}

// ---- the store's requirement ----

/// Paths a member without two-factor may use while the store requires it.
fn allowed_unenrolled(path: &str) -> bool {
    path == "/conta/seguranca" || path.starts_with("/conta/seguranca/") || path == "/logout"
}

/// Behind `require_login`: when the store requires two-factor, a member without it is sent to
/// `/conta/seguranca` (pages) or refused (writes) until it is on.
pub async fn enforce(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let needs = match req.extensions().get::<Ctx>() {
        Some(Ctx {
            user: Some(u),
            tenant,
            ..
        }) if u.totp_enabled_at.is_none() && !allowed_unenrolled(req.uri().path()) => {
            match accounts::requires_2fa(&state.db, &tenant.id).await {
                Ok(r) => r,
                Err(e) => return AppError::from(e).into_response(),
            }
        }
        _ => false,
    };
    if !needs {
        return next.run(req).await;
    }
    if req.method() == Method::GET && !req.headers().contains_key("hx-request") {
        return Redirect::to("/conta/seguranca").into_response();
    }
    let mut r = (
        StatusCode::FORBIDDEN,
        "A loja exige verificação em duas etapas: ative-a em Minha conta › Segurança.",
    )
        .into_response();
    if req.headers().contains_key("hx-request") {
        r.headers_mut()
            .insert("hx-redirect", HeaderValue::from_static("/conta/seguranca"));
    }
    r
}

// ---- settings ----

async fn settings(
    state: &AppState,
    me: &Me,
    codes: Option<Vec<String>>,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let sec = accounts::security(&state.db, &me.user.id).await?;
    let required = accounts::requires_2fa(&state.db, &me.tenant.id).await?;
    let enabled = sec.totp_enabled_at.is_some();
    let enrol = match (&sec.totp_secret_enc, enabled) {
        (Some(enc), false) => {
            let secret_b32 = state
                .cipher
                .decrypt(enc)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("two-factor secret: {e}")))?;
            let raw = totp::base32_decode(&secret_b32).unwrap_or_default();
            let uri = totp::otpauth_uri(&raw, &me.tenant.slug, &me.user.email);
            Some(context! { secret => secret_b32, qr => totp::qr_data_url(&uri), uri => uri })
        }
        _ => None,
    };
    let codes_left = if enabled {
        accounts::recovery_codes_left(&state.db, &me.user.id).await?
    } else {
        0
    };
    let html: Html<String> = view::page(
        me,
        "dashboard/security.html",
        "conta",
        context! {
            enabled => enabled, required => required, enrol => enrol, codes => codes,
            codes_left => codes_left, error => error,
            enabled_since => sec.totp_enabled_at.map(|t| view::clock(me).datetime_br(t)),
            notice => None::<String>,
        },
    )?;
    let mut resp = (status, html).into_response();
    resp.headers_mut().insert(
        header::REFERRER_POLICY,
        // Not `no-referrer`: under it Chromium sends `Origin: null` with the page's own form
        // post, and the Origin check refuses it ("Pedido de outro site recusado"). Same-origin
        // requests may carry the token in a Referer to us; no other site gets it.
        HeaderValue::from_static("same-origin"),
    );
    Ok(resp)
}

pub async fn page(State(state): State<AppState>, me: Me) -> Result<Response, AppError> {
    settings(&state, &me, None, None, StatusCode::OK).await
}

fn audited(action: &'static str) -> crate::dashboard::change::Change {
    crate::dashboard::change::Change::new(action, "user")
}

/// A new secret (enrolment restarts if one was pending).
pub async fn start(State(state): State<AppState>, me: Me) -> Result<Response, AppError> {
    if me.user.totp_enabled_at.is_some() {
        return Ok(Redirect::to("/conta/seguranca").into_response());
    }
    let enc = state.cipher.encrypt(&totp::base32(&totp::new_secret()));
    let uid = me.user.id.clone();
    audited("user.2fa_enrolment_started")
        .of(&me.user.id)
        .save(&state, &me, move |c, t| {
            Box::pin(async move { accounts::set_totp_pending(c, &t, &uid, &enc).await })
        })
        .await?;
    Ok(Redirect::to("/conta/seguranca").into_response())
}

pub async fn confirm(
    State(state): State<AppState>,
    me: Me,
    Form(f): Form<CodeForm>,
) -> Result<Response, AppError> {
    let sec = accounts::security(&state.db, &me.user.id).await?;
    if sec.totp_enabled_at.is_some() || sec.totp_secret_enc.is_none() {
        return Ok(Redirect::to("/conta/seguranca").into_response());
    }
    let Second::Totp(step) = check_code(&state, &sec, &f.code)? else {
        return settings(
            &state,
            &me,
            None,
            Some("Código incorreto. Confira se o relógio do celular está certo e digite o código que aparece agora.".into()),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let codes = totp::recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| totp::recovery_hash(c)).collect();
    let uid = me.user.id.clone();
    audited("user.2fa_enabled")
        .of(&me.user.id)
        .save(&state, &me, move |c, t| {
            Box::pin(async move { accounts::enable_totp(c, &t, &uid, step, &hashes).await })
        })
        .await?;
    tracing::info!(tenant_id = %me.tenant.id, "two-factor enabled");
    settings(&state, &me, Some(codes), None, StatusCode::OK).await
}

pub async fn new_codes(
    State(state): State<AppState>,
    me: Me,
    Form(f): Form<CodeForm>,
) -> Result<Response, AppError> {
    let sec = accounts::security(&state.db, &me.user.id).await?;
    let second = match check_code(&state, &sec, &f.code)? {
        s @ Second::Totp(_) => s,
        _ => Second::No,
    };
    let codes = totp::recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| totp::recovery_hash(c)).collect();
    let uid = me.user.id.clone();
    let res = audited("user.2fa_recovery_codes_renewed")
        .of(&me.user.id)
        .save_with::<AppError, _>(&state, &me, move |c, _t| {
            Box::pin(async move {
                if !spend(c, &uid, &second).await? {
                    return Err(AppError::Conflict("código".into()));
                }
                accounts::replace_recovery_codes(c, &uid, &hashes).await?;
                Ok(())
            })
        })
        .await;
    match res {
        Ok(()) => settings(&state, &me, Some(codes), None, StatusCode::OK).await,
        Err(AppError::Conflict(_)) => {
            settings(
                &state,
                &me,
                None,
                Some("Código incorreto ou já usado.".into()),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize, Default)]
pub struct DisableForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
}

pub async fn disable(
    State(state): State<AppState>,
    me: Me,
    Form(f): Form<DisableForm>,
) -> Result<Response, AppError> {
    if accounts::requires_2fa(&state.db, &me.tenant.id).await? {
        return settings(
            &state,
            &me,
            None,
            Some("A loja exige verificação em duas etapas: ela não pode ser desativada.".into()),
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let pw_ok = password::verify_async(&f.password, &me.user.password_hash).await;
    let sec = accounts::security(&state.db, &me.user.id).await?;
    let second = if pw_ok {
        check_code(&state, &sec, &f.code)?
    } else {
        Second::No
    };
    let uid = me.user.id.clone();
    let res = audited("user.2fa_disabled")
        .of(&me.user.id)
        .save_with::<AppError, _>(&state, &me, move |c, t| {
            Box::pin(async move {
                if !spend(c, &uid, &second).await? {
                    return Err(AppError::Conflict("código".into()));
                }
                accounts::disable_totp(c, &t, &uid).await?;
                Ok(())
            })
        })
        .await;
    match res {
        Ok(()) => Ok(Redirect::to("/conta/seguranca?ok=2fa-desativada").into_response()),
        Err(AppError::Conflict(_)) => {
            // A wrong password or code here is a failed sign-in of the account (like the
            // password-change form): whoever holds a forgotten session cannot guess on.
            let acct = account_key(&me.tenant.id, &me.user.email);
            throttle::record_failure(&state.db, vec![acct], &me.ip).await?;
            settings(
                &state,
                &me,
                None,
                Some("Senha ou código incorretos.".into()),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize, Default)]
pub struct RequireForm {
    #[serde(default)]
    on: String,
}

/// The owner requires (or stops requiring) two-factor of the whole team.
pub async fn require(
    State(state): State<AppState>,
    me: Me,
    Form(f): Form<RequireForm>,
) -> Result<Response, AppError> {
    if !me.is_owner() {
        return Err(AppError::Forbidden);
    }
    let on = f.on == "true";
    if on && me.user.totp_enabled_at.is_none() {
        return settings(
            &state,
            &me,
            None,
            Some("Ative a sua verificação em duas etapas antes de exigir da equipe.".into()),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    crate::dashboard::change::Change::new("team.require_2fa", "tenant")
        .of(&me.tenant.id)
        .after(serde_json::json!({ "require_2fa": on }))
        .save(&state, &me, move |c, t| {
            Box::pin(async move { accounts::set_requires_2fa(c, &t, on).await })
        })
        .await?;
    Ok(Redirect::to("/conta/seguranca").into_response())
}
