//! Central sign-in on `BASE/login`: finds the user's store(s) by email, checks the password
//! with the store login's lockout rules, and hands off to `{slug}.BASE` with a one-time token.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use minijinja::context;
use serde::{Deserialize, Serialize};
use store::sessions;

use super::{csrf_cookie, handoff_url, rate_limit, refuse_form, ClientIp, PublicState};
use crate::auth::password;
use crate::dashboard::login::{
    account_key, dummy_hash, ip_key, lockout_message, with_retry_after, ACCOUNT_MAX_FAILURES,
    IP_MAX_FAILURES, LOCKOUT_MS, THROTTLE_WINDOW_MS,
};
use crate::dashboard::ratelimit::Class;
use crate::dashboard::security::{random_token, LOGIN_CSRF_COOKIE};
use crate::error::AppError;

/// Central login's share of the login budget (all visitors of the apex together).
const LIMIT_KEY: &str = "public:login";

fn form(
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

pub async fn submit(
    State(ps): State<PublicState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Result<Response, AppError> {
    rate_limit(&ps, Class::Login, &ip, LIMIT_KEY)?;
    let state = &ps.app;
    if let Some(r) = refuse_form(&headers, state.cfg.https, LOGIN_CSRF_COOKIE, &f.csrf) {
        return Ok(r);
    }
    let email = f.email.trim().to_string();
    let ipk = ip_key(&ip);
    if let Some(until) = sessions::throttle_locked_until(&state.db, &ipk).await? {
        return locked(&ps, &email, until);
    }
    let candidates = if email.is_empty() || email.len() > 254 {
        Vec::new()
    } else {
        store::users::stores_for_email(&state.db, &email).await?
    };
    // Each store's account has its own lockout, shared with that store's login form.
    let mut open_keys = Vec::new();
    let mut latest_lock = None;
    let mut matched = Vec::new();
    for (user, slug) in candidates.iter() {
        let acct = account_key(&user.tenant_id, &email);
        if let Some(until) = sessions::throttle_locked_until(&state.db, &acct).await? {
            latest_lock = latest_lock.max(Some(until));
            continue;
        }
        if password::verify(&f.password, &user.password_hash) {
            matched.push((user.clone(), slug.clone(), acct.clone()));
        }
        open_keys.push(acct);
    }
    if candidates.is_empty() {
        password::verify(&f.password, dummy_hash());
    }
    if matched.is_empty() {
        if open_keys.is_empty() {
            if let Some(until) = latest_lock {
                return locked(&ps, &email, until);
            }
        }
        let keys = open_keys.clone();
        let ipk2 = ipk.clone();
        let now_locked = state
            .db
            .tx(move |c| {
                Box::pin(async move {
                    let mut l = None;
                    for k in &keys {
                        let r = sessions::throttle_failure(
                            c,
                            k,
                            ACCOUNT_MAX_FAILURES,
                            THROTTLE_WINDOW_MS,
                            LOCKOUT_MS,
                        )
                        .await?;
                        l = l.max(r);
                    }
                    let r = sessions::throttle_failure(
                        c,
                        &ipk2,
                        IP_MAX_FAILURES,
                        THROTTLE_WINDOW_MS,
                        LOCKOUT_MS,
                    )
                    .await?;
                    Ok(l.max(r))
                })
            })
            .await?;
        metrics::counter!("orcazap_login_failures_total").increment(1);
        if let Some(until) = now_locked {
            tracing::warn!("central login locked out after repeated failures");
            return locked(&ps, &email, until);
        }
        return form(
            &ps,
            StatusCode::UNAUTHORIZED,
            &email,
            Some("E-mail ou senha incorretos.".into()),
        );
    }
    let issued: Vec<(String, String, String, String)> = matched
        .iter()
        .map(|(u, slug, _)| {
            (
                u.tenant_id.clone(),
                u.id.clone(),
                slug.clone(),
                random_token(),
            )
        })
        .collect();
    let (to_issue, clear, ip2) = (
        issued.clone(),
        matched.iter().map(|m| m.2.clone()).collect::<Vec<_>>(),
        ip.clone(),
    );
    state
        .db
        .tx(move |c| {
            Box::pin(async move {
                for k in &clear {
                    sessions::throttle_clear(c, k).await?;
                }
                for (tenant_id, user_id, _, token) in &to_issue {
                    store::signup::issue_handoff(c, token, tenant_id, user_id, &ip2).await?;
                }
                Ok(())
            })
        })
        .await?;
    let mut resp = if let [(_, _, slug, token)] = issued.as_slice() {
        Redirect::to(&handoff_url(state, &headers, slug, token)).into_response()
    } else {
        let mut choices = Vec::new();
        for (tenant_id, _, slug, token) in &issued {
            let name = store::tenants::by_id(&state.db, tenant_id)
                .await?
                .map(|t| t.name)
                .unwrap_or_else(|| slug.clone());
            choices.push(Choice {
                name,
                slug: slug.clone(),
                url: handoff_url(state, &headers, slug, token),
            });
        }
        crate::render::page("public/choose.html", context! { stores => choices })?.into_response()
    };
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    super::append_cookie(
        &mut resp,
        &crate::dashboard::security::set_cookie(
            LOGIN_CSRF_COOKIE,
            "",
            "/login",
            0,
            state.cfg.https,
        ),
    );
    Ok(resp)
}
