//! `BASE/signup`: a new store with its owner, then straight into its dashboard through the
//! same hand-off as the central login.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use domain::ids::Slug;
use minijinja::context;
use serde::Deserialize;
use store::signup::NewStore;

use super::{csrf_cookie, handoff_url, rate_limit, refuse_form, ClientIp, PublicState};
use crate::auth::password;
use crate::dashboard::ratelimit::Class;
use crate::dashboard::security::{random_token, set_cookie};
use crate::error::AppError;
use crate::layers::RequestId;

pub const SIGNUP_CSRF_COOKIE: &str = "oz_signup_csrf";
/// Sign-ups spend the login budget under their own key: creating stores is as costly (an
/// Argon2 hash) and as abusable as guessing passwords.
const LIMIT_KEY: &str = "public:signup";
const NAME_MAX: usize = 100;

#[derive(Deserialize, Default)]
pub struct SignupForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

fn form(
    ps: &PublicState,
    status: StatusCode,
    f: &SignupForm,
    errors: Vec<String>,
) -> Result<Response, AppError> {
    let csrf = random_token();
    let html = crate::render::page(
        "public/signup.html",
        context! {
            csrf => csrf.clone(), base => ps.app.cfg.base_domain.clone(), errors => errors,
            name => f.name.trim(), slug => f.slug.trim(), email => f.email.trim(),
        },
    )?;
    let mut resp = (status, html).into_response();
    csrf_cookie(
        &mut resp,
        SIGNUP_CSRF_COOKIE,
        "/signup",
        &csrf,
        ps.app.cfg.https,
    );
    Ok(resp)
}

pub async fn page(State(ps): State<PublicState>) -> Result<Response, AppError> {
    form(&ps, StatusCode::OK, &SignupForm::default(), Vec::new())
}

/// Every problem with the form at once, in pt-BR; the validated slug when there are none.
fn validate(f: &SignupForm) -> Result<Slug, Vec<String>> {
    let mut errors = Vec::new();
    let name = f.name.trim();
    if name.is_empty() {
        errors.push("Informe o nome da loja.".to_string());
    } else if name.chars().count() > NAME_MAX {
        errors.push(format!(
            "O nome da loja pode ter no máximo {NAME_MAX} caracteres."
        ));
    }
    let slug = Slug::parse(&f.slug)
        .map_err(|e| errors.push(capitalize(&e)))
        .ok();
    let email = f.email.trim();
    let valid_email = email.len() <= 254
        && email
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.'))
        && !email.chars().any(char::is_whitespace);
    if !valid_email {
        errors.push("Informe um e-mail válido para o dono da loja.".to_string());
    }
    if let Err(e) = password::check_strength(&f.password, email) {
        errors.push(format!("Senha fraca: {e}."));
    }
    match slug {
        Some(s) if errors.is_empty() => Ok(s),
        _ => Err(errors),
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect::<String>() + ".",
        None => String::new(),
    }
}

pub async fn submit(
    State(ps): State<PublicState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    request_id: Option<axum::Extension<RequestId>>,
    Form(f): Form<SignupForm>,
) -> Result<Response, AppError> {
    rate_limit(&ps, Class::Login, &ip, LIMIT_KEY)?;
    let state = &ps.app;
    if let Some(r) = refuse_form(&headers, state.cfg.https, SIGNUP_CSRF_COOKIE, &f.csrf) {
        return Ok(r);
    }
    let slug = match validate(&f) {
        Ok(s) => s,
        Err(errors) => return form(&ps, StatusCode::UNPROCESSABLE_ENTITY, &f, errors),
    };
    let hash = password::hash(&f.password).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    let token = random_token();
    let rid = request_id.map(|r| r.0 .0.clone());
    let (slug_s, name, email, ip2, tok) = (
        slug.as_str().to_string(),
        f.name.trim().to_string(),
        f.email.trim().to_string(),
        ip.clone(),
        token.clone(),
    );
    let created = state
        .db
        .tx(move |c| {
            Box::pin(async move {
                let (t, u) = store::signup::create_store(
                    c,
                    &NewStore {
                        slug: &slug_s,
                        name: &name,
                        owner_email: &email,
                        password_hash: &hash,
                        ip: &ip2,
                        request_id: rid.as_deref(),
                    },
                )
                .await?;
                store::signup::issue_handoff(c, &tok, &t.id, &u.id, &ip2).await?;
                Ok(t)
            })
        })
        .await;
    let tenant = match created {
        Ok(t) => t,
        Err(store::StoreError::Conflict(msg)) => {
            return form(&ps, StatusCode::UNPROCESSABLE_ENTITY, &f, vec![msg]);
        }
        Err(e) => return Err(e.into()),
    };
    tracing::info!(tenant_id = %tenant.id, slug = %tenant.slug, "store signed up");
    metrics::counter!("orcazap_signups_total").increment(1);
    let mut resp =
        Redirect::to(&handoff_url(state, &headers, &tenant.slug, &token)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    super::append_cookie(
        &mut resp,
        &set_cookie(SIGNUP_CSRF_COOKIE, "", "/signup", 0, state.cfg.https),
    );
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(name: &str, slug: &str, email: &str, pw: &str) -> SignupForm {
        SignupForm {
            name: name.into(),
            slug: slug.into(),
            email: email.into(),
            password: pw.into(),
            csrf: String::new(),
        }
    }

    #[test]
    fn validation_in_pt_br() {
        assert!(validate(&f(
            "Depósito Zé",
            "deposito-ze",
            "ze@x.com.br",
            "tijolo bom 2026"
        ))
        .is_ok());
        let e = validate(&f("", "api", "semarroba", "curta")).unwrap_err();
        assert_eq!(e.len(), 4, "{e:?}");
        assert!(e[1].contains("reservado"), "{e:?}");
        assert!(e[0].starts_with("Informe o nome"));
    }
}
