//! `BASE/signup`: a new store with its owner, then straight into its dashboard through the
//! same hand-off as the central login.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use domain::ids::Slug;
use minijinja::context;
use serde::Deserialize;
use store::signup::NewStore;

use super::handoff::{self, Pick};
use super::{csrf_cookie, refuse_form, take_budget, ClientIp, PublicState};
use crate::auth::password;
use crate::auth::throttle::{self, account_key};
use crate::dashboard::login::{lockout_message, with_retry_after};
use crate::dashboard::ratelimit::Limit;
use crate::dashboard::security::random_token;
use crate::error::AppError;
use crate::layers::RequestId;

pub const SIGNUP_CSRF_COOKIE: &str = "oz_signup_csrf";
/// Sign-ups per address (an Argon2 hash each, and a store row): charged after the form's
/// CSRF token and fields are valid, so invalid posts cost nothing and spend nobody's budget.
/// There is no budget shared by every visitor: one address could empty it for everyone.
const ADDRESS_LIMIT: Limit = Limit::new(10, 10);
/// A retry of a sign-up (second click, reload) within this time after the store was created,
/// with the same e-mail and password, continues into the store instead of "address taken".
const RETRY_WINDOW_MS: i64 = 30 * 60 * 1000;
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
    if let Err(e) = password::check_strength(&f.password, &[email, name, f.slug.trim()]) {
        errors.push(format!("Senha fraca: {e}."));
    }
    match slug {
        Some(s) if errors.is_empty() => Ok(s),
        _ => Err(errors),
    }
}

/// What a slug looks like to a person: hyphens dropped, and letters and digits that pass for
/// each other folded together (`0`/`o`, `1`/`l`/`i`, `3`/`e`, `5`/`s`, `rn`/`m`, `vv`/`w`).
pub fn slug_skeleton(slug: &str) -> String {
    let s: String = slug
        .to_lowercase()
        .chars()
        .filter(|c| *c != '-')
        .map(|c| match c {
            '0' => 'o',
            '1' | 'i' => 'l',
            '3' => 'e',
            '5' => 's',
            other => other,
        })
        .collect();
    s.replace("rn", "m").replace("vv", "w")
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
    let state = &ps.app;
    if let Some(r) = refuse_form(&headers, state.cfg.https, SIGNUP_CSRF_COOKIE, &f.csrf) {
        return Ok(r);
    }
    let slug = match validate(&f) {
        Ok(s) => s,
        Err(errors) => return form(&ps, StatusCode::UNPROCESSABLE_ENTITY, &f, errors),
    };
    take_budget(&ps, &[("signup:ip", &ip, ADDRESS_LIMIT)])?;
    // A slug that reads like another store's (`dern0` next to `demo`) is refused: a customer
    // or a team member could be sent to the wrong store's login.
    let skeleton = slug_skeleton(slug.as_str());
    if let Some(t) = store::tenants::list(&state.db)
        .await?
        .into_iter()
        .find(|t| t.slug != slug.as_str() && slug_skeleton(&t.slug) == skeleton)
    {
        tracing::warn!(slug = %slug.as_str(), like = %t.slug, "sign-up refused: look-alike slug");
        return form(
            &ps,
            StatusCode::UNPROCESSABLE_ENTITY,
            &f,
            vec![format!(
                "O endereço \"{}\" se parece demais com o de outra loja; escolha outro.",
                slug.as_str()
            )],
        );
    }
    let hash = password::hash(&f.password).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    let rid = request_id.map(|r| r.0 .0.clone());
    // The owner's e-mail is confirmed by a link (crate::account::verify), queued with the store.
    let verification = crate::account::verify::Verification::new(
        &crate::account::store_url(state, &headers, slug.as_str(), ""),
        f.email.trim(),
        f.name.trim(),
    )?;
    let cipher = state.cipher.clone();
    let (slug_s, name, email, ip2) = (
        slug.as_str().to_string(),
        f.name.trim().to_string(),
        f.email.trim().to_string(),
        ip.clone(),
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
                verification
                    .write(c, &cipher, &t.id, &u.id, rid.as_deref())
                    .await?;
                Ok((t, u))
            })
        })
        .await;
    let (tenant, owner) = match created {
        Ok(x) => {
            tracing::info!(tenant_id = %x.0.id, slug = %x.0.slug, "store signed up");
            metrics::counter!("orcazap_signups_total").increment(1);
            x
        }
        Err(store::StoreError::Conflict(msg)) => {
            match retry_of_own_signup(&ps, &ip, &f, &slug).await? {
                Retry::Continue(found) => *found,
                Retry::Answer(r) => return Ok(r),
                Retry::No => return form(&ps, StatusCode::UNPROCESSABLE_ENTITY, &f, vec![msg]),
            }
        }
        Err(e) => return Err(e.into()),
    };
    let pick = Pick {
        tenant_id: tenant.id.clone(),
        user_id: owner.id.clone(),
        slug: tenant.slug.clone(),
    };
    let (cookie, urls) = handoff::begin(&ps, &headers, &ip, &[pick]).await?;
    // The sign-up CSRF cookie is kept, so that a second click reaches the retry path above
    // instead of "form expired".
    handoff::continue_page(
        "Loja criada!",
        &tenant.name,
        urls.first().map(String::as_str).unwrap_or("/"),
        &cookie,
    )
}

enum Retry {
    /// The same person again: continue into the store.
    Continue(Box<(store::tenants::Tenant, store::users::User)>),
    /// The owner's account is locked or the password was wrong too often.
    Answer(Response),
    /// Someone else's store: "address taken".
    No,
}

/// A sign-up that finds its slug taken is a retry of the same sign-up (the first answer was
/// slow or lost and the button was clicked again) when the store is minutes old and its
/// owner has this e-mail and this password. The password check is a login attempt in every
/// respect (charged per address and account, failures counted, lockout honoured), so this
/// path is no better for guessing than the login form.
async fn retry_of_own_signup(
    ps: &PublicState,
    ip: &str,
    f: &SignupForm,
    slug: &Slug,
) -> Result<Retry, AppError> {
    let db = &ps.app.db;
    let Some(tenant) = store::tenants::by_slug(db, slug.as_str()).await? else {
        return Ok(Retry::No);
    };
    if store::now_ms() - tenant.created_at > RETRY_WINDOW_MS {
        return Ok(Retry::No);
    }
    let email = f.email.trim();
    let Some(owner) = store::users::by_email(db, &tenant.id, email)
        .await?
        .filter(|u| u.role == store::users::Role::Owner)
    else {
        return Ok(Retry::No);
    };
    let acct = account_key(&tenant.id, email);
    if let Err(secs) = throttle::charge_attempt(&ps.limiter, ip, &acct) {
        return Err(AppError::TooMany {
            retry_after_secs: secs,
        });
    }
    if let Some(until) = store::sessions::throttle_locked_until(db, &acct).await? {
        let (message, mins) = lockout_message(until);
        let r = form(ps, StatusCode::TOO_MANY_REQUESTS, f, vec![message])?;
        return Ok(Retry::Answer(with_retry_after(r, mins)));
    }
    if password::verify_async(&f.password, &owner.password_hash).await {
        tracing::info!(tenant_id = %tenant.id, "sign-up retried by its owner: continuing");
        return Ok(Retry::Continue(Box::new((tenant, owner))));
    }
    let fail = throttle::record_failure(db, vec![acct], ip).await?;
    if let Some(until) = fail.account_locked_until {
        let (message, mins) = lockout_message(until);
        let r = form(ps, StatusCode::TOO_MANY_REQUESTS, f, vec![message])?;
        return Ok(Retry::Answer(with_retry_after(r, mins)));
    }
    Ok(Retry::No)
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
    fn look_alike_slugs_share_a_skeleton() {
        for (a, b) in [
            ("demo", "dern0"),
            ("deposito-ze", "dep0sito-ze"),
            ("casa-do-ze", "casadoze"),
            ("loja1", "lojal"),
            ("vila", "v1la"),
            ("wave", "vvave"),
        ] {
            assert_eq!(slug_skeleton(a), slug_skeleton(b), "{a} ~ {b}");
        }
        for (a, b) in [
            ("demo", "dema"),
            ("casa-nova", "casa-velha"),
            ("loja1", "loja2"),
        ] {
            assert_ne!(slug_skeleton(a), slug_skeleton(b), "{a} vs {b}");
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
        // Weak passwords of the security test, and the store's own name.
        for weak in [
            "orcazap2024",
            "Senha@2024",
            "12341234123412",
            "Deposito Ze 2024",
        ] {
            let e = validate(&f("Depósito Zé", "deposito-ze", "ze@x.com.br", weak)).unwrap_err();
            assert!(
                e.iter().any(|m| m.starts_with("Senha fraca")),
                "{weak}: {e:?}"
            );
        }
        let e = validate(&f("", "api", "semarroba", "curta")).unwrap_err();
        assert_eq!(e.len(), 4, "{e:?}");
        assert!(e[1].contains("reservado"), "{e:?}");
        assert!(e[0].starts_with("Informe o nome"));
    }
}
