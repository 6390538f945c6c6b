//! Central sign-in on `BASE/login`: finds the user's store(s) by e-mail, checks the password
//! with the store login's throttling rules, and hands off to `{slug}.BASE`, bound to this
//! browser ([`super::handoff`]).

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use minijinja::context;
use serde::{Deserialize, Serialize};
use store::sessions;

use super::handoff::{self, Pick};
use super::{csrf_cookie, refuse_form, ClientIp, PublicState};
use crate::auth::password;
use crate::auth::throttle::{self, account_key};
use crate::dashboard::login::{dummy_hash, lockout_message, minutes_until, with_retry_after};
use crate::dashboard::security::{random_token, LOGIN_CSRF_COOKIE};
use crate::error::AppError;

pub(crate) fn form(
    ps: &PublicState,
    status: StatusCode,
    email: &str,
    error: Option<String>,
) -> Result<Response, AppError> {
    let csrf = random_token();
    let html = crate::render::page(
        "public/login.html",
        context! { csrf => csrf.clone(), email => email, error => error },
    )?;
    let mut resp = (status, html).into_response();
    csrf_cookie(
        &mut resp,
        LOGIN_CSRF_COOKIE,
        "/login",
        &csrf,
        ps.app.cfg.https,
    );
    Ok(resp)
}

pub async fn page(State(ps): State<PublicState>) -> Result<Response, AppError> {
    form(&ps, StatusCode::OK, "", None)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

fn locked(ps: &PublicState, email: &str, until: i64) -> Result<Response, AppError> {
    let (message, mins) = lockout_message(until);
    let r = form(ps, StatusCode::TOO_MANY_REQUESTS, email, Some(message))?;
    Ok(with_retry_after(r, mins))
}

#[derive(Serialize)]
struct Choice {
    name: String,
    slug: String,
    url: String,
}

/// The central sign-in. Order matters: the form's Origin and CSRF token first (free), then
/// one attempt charged to this (address, e-mail) pair — never a bucket shared by every
/// visitor, which anyone could empty — then exactly one password verification.
///
/// One verification, whatever the number of stores the e-mail belongs to: the password is
/// checked against the first of its stores (by slug) that is not locked, or against a dummy
/// hash when there is none, so a wrong password takes as long for an unknown e-mail as for
/// one with five stores (the old loop took one Argon2 run per store: enumeration by timing).
/// Only when that check succeeds are the other stores checked, to list every store this
/// password opens; a user whose passwords differ per store signs in to the others on their
/// own address.
pub async fn submit(
    State(ps): State<PublicState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Result<Response, AppError> {
    let state = &ps.app;
    if let Some(r) = refuse_form(&headers, state.cfg.https, LOGIN_CSRF_COOKIE, &f.csrf) {
        return Ok(r);
    }
    let email = f.email.trim().to_string();
    if let Err(secs) = throttle::charge_attempt(&ps.limiter, &ip, &format!("central:{email}")) {
        metrics::counter!("orcazap_rate_limited_total", "class" => "Login").increment(1);
        return Err(AppError::TooMany {
            retry_after_secs: secs,
        });
    }
    let candidates = if email.is_empty() || email.len() > 254 {
        Vec::new()
    } else {
        store::users::stores_for_email(&state.db, &email).await?
    };
    // Each store's account has its own lockout, shared with that store's login form.
    let mut open = Vec::new();
    let mut latest_lock = None;
    for (user, slug) in candidates {
        let acct = account_key(&user.tenant_id, &email);
        match sessions::throttle_locked_until(&state.db, &acct).await? {
            Some(until) => latest_lock = latest_lock.max(Some(until)),
            None => open.push((user, slug, acct)),
        }
    }
    let first_ok = match open.first() {
        Some((u, _, _)) => password::verify_async(&f.password, &u.password_hash).await,
        None => {
            password::verify_async(&f.password, dummy_hash()).await;
            false
        }
    };
    if !first_ok {
        if open.is_empty() {
            if let Some(until) = latest_lock {
                return locked(&ps, &email, until);
            }
        }
        let accounts = open.first().map(|o| o.2.clone()).into_iter().collect();
        let fail = throttle::record_failure(&state.db, accounts, &ip).await?;
        if let Some(until) = fail.account_locked_until {
            tracing::warn!("central login locked out after repeated failures");
            return locked(&ps, &email, until);
        }
        if let Some(until) = fail.address_suspect_until {
            let r = form(
                &ps,
                StatusCode::TOO_MANY_REQUESTS,
                &email,
                Some(throttle::suspect_message()),
            )?;
            return Ok(with_retry_after(r, minutes_until(until).max(1)));
        }
        return form(
            &ps,
            StatusCode::UNAUTHORIZED,
            &email,
            Some("E-mail ou senha incorretos.".into()),
        );
    }
    let mut matched = vec![open[0].clone()];
    for o in open.iter().skip(1) {
        if password::verify_async(&f.password, &o.0.password_hash).await {
            matched.push(o.clone());
        }
    }
    // An account with two-factor keeps its failure count until its code is right (on the
    // store's host): a known password must not reset the budget of code guesses.
    let clear: Vec<String> = matched
        .iter()
        .filter(|m| m.0.totp_enabled_at.is_none())
        .map(|m| m.2.clone())
        .collect();
    state
        .db
        .tx(move |c| {
            Box::pin(async move {
                for k in &clear {
                    sessions::throttle_clear(c, k).await?;
                }
                Ok(())
            })
        })
        .await?;
    let picks: Vec<Pick> = matched
        .iter()
        .map(|(u, slug, _)| Pick {
            tenant_id: u.tenant_id.clone(),
            user_id: u.id.clone(),
            slug: slug.clone(),
        })
        .collect();
    let (cookie, urls) = handoff::begin(&ps, &headers, &ip, &picks).await?;
    let mut choices = Vec::new();
    for (p, url) in picks.iter().zip(urls) {
        let name = store::tenants::by_id(&state.db, &p.tenant_id)
            .await?
            .map(|t| t.name)
            .unwrap_or_else(|| p.slug.clone());
        choices.push(Choice {
            name,
            slug: p.slug.clone(),
            url,
        });
    }
    // The login CSRF cookie is kept: a second click on "Entrar" (the page was slow) is a
    // new valid attempt, not a "form expired" refusal.
    if let [only] = choices.as_slice() {
        return handoff::continue_page("Entrando…", &only.name, &only.url, &cookie);
    }
    let mut resp =
        crate::render::page("public/choose.html", context! { stores => choices })?.into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    super::append_cookie(&mut resp, &cookie);
    Ok(resp)
}

fn forgot_form(
    ps: &PublicState,
    status: StatusCode,
    email: &str,
    sent: bool,
    error: Option<&str>,
) -> Result<Response, AppError> {
    let csrf = random_token();
    let html = crate::render::page(
        "public/forgot.html",
        context! { csrf => csrf.clone(), email => email, sent => sent, error => error },
    )?;
    let mut resp = (status, html).into_response();
    csrf_cookie(
        &mut resp,
        LOGIN_CSRF_COOKIE,
        "/login",
        &csrf,
        ps.app.cfg.https,
    );
    Ok(resp)
}

/// `BASE/login/esqueci`: one reset link per store the e-mail has an account in, each for that
/// store's host (`crate::account::reset`). The answer is the same for any e-mail, and the
/// links are written after it.
pub async fn forgot_page(State(ps): State<PublicState>) -> Result<Response, AppError> {
    forgot_form(&ps, StatusCode::OK, "", false, None)
}

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    csrf: String,
}

pub async fn forgot(
    State(ps): State<PublicState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    request_id: Option<axum::Extension<crate::layers::RequestId>>,
    Form(f): Form<ForgotForm>,
) -> Result<Response, AppError> {
    let state = &ps.app;
    if let Some(r) = refuse_form(&headers, state.cfg.https, LOGIN_CSRF_COOKIE, &f.csrf) {
        return Ok(r);
    }
    let email = f.email.trim().to_string();
    if email.is_empty() || email.len() > 254 || !email.contains('@') {
        return forgot_form(
            &ps,
            StatusCode::UNPROCESSABLE_ENTITY,
            &email,
            false,
            Some("Informe um e-mail válido."),
        );
    }
    crate::account::reset::charge(&ps.limiter, &ip, &format!("central:{email}"))?;
    let mut users = Vec::new();
    for (u, slug) in store::users::stores_for_email(&state.db, &email).await? {
        let name = store::tenants::by_id(&state.db, &u.tenant_id)
            .await?
            .map(|t| t.name)
            .unwrap_or_else(|| slug.clone());
        users.push((u, slug, name));
    }
    let (st, hd) = (state.clone(), headers.clone());
    crate::account::reset::send_in_background(
        state,
        users,
        crate::account::reset::Request {
            ip,
            request_id: request_id.map(|r| r.0 .0.clone()),
            base_of: Box::new(move |slug| crate::account::store_url(&st, &hd, slug, "")),
        },
    );
    forgot_form(&ps, StatusCode::OK, &email, true, None)
}
