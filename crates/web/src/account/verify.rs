//! E-mail verification at sign-up. The new owner's e-mail gets a link
//! (`/login/confirmar-email?token=…`, [`store::accounts::VERIFY_TTL_MS`]); until it is used the
//! dashboard works as usual — the sign-up → first quote journey is never blocked — with a
//! banner and a "reenviar" button, and two things wait for the confirmation: inviting people
//! (e-mails to third parties from an unconfirmed account would make the product a spam relay)
//! and requiring two-factor of the team. A password reset or an accepted invitation also
//! confirms the address (the link reached that mailbox).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use minijinja::context;
use serde::Deserialize;
use sqlx::AnyConnection;
use store::accounts::{self, NewToken, Purpose};
use store::audit::{self, Entry};
use store::crypto::TokenCipher;

use super::reset::TokenQuery;
use super::{anon_page, compose, count, dead_link, message, store_url, token_shape_ok};
use crate::dashboard::security::{random_token, Ctx, Me};
use crate::error::AppError;
use crate::state::AppState;

/// Verification e-mails per account per hour (the resend button).
const PER_HOUR: i64 = 3;

/// The verification link of `user_id` and its e-mail, ready to be written in a transaction
/// ([`Verification::write`]).
pub(crate) struct Verification {
    token: String,
    email: store::email::Email,
}

impl Verification {
    /// `base` is `http(s)://{slug}.BASE[:port]`.
    pub(crate) fn new(base: &str, to: &str, store_name: &str) -> Result<Verification, AppError> {
        let token = random_token();
        let url = format!("{base}/login/confirmar-email?token={token}");
        let email = compose(
            "verify_email",
            to,
            "Confirme seu e-mail — OrçaZap",
            context! { store_name => store_name, url => url, days => accounts::VERIFY_TTL_MS / 86_400_000 },
        )?;
        Ok(Verification { token, email })
    }

    /// The link and its e-mail job, in the caller's transaction.
    pub(crate) async fn write(
        &self,
        c: &mut AnyConnection,
        cipher: &TokenCipher,
        tenant_id: &str,
        user_id: &str,
        request_id: Option<&str>,
    ) -> Result<(), store::StoreError> {
        accounts::issue(
            c,
            &NewToken {
                purpose: Purpose::VerifyEmail,
                token: &self.token,
                tenant_id,
                user_id: Some(user_id),
                email: &self.email.to,
                name: "",
                role: None,
                created_by: None,
                ttl_ms: accounts::VERIFY_TTL_MS,
            },
        )
        .await?;
        store::email::enqueue(
            c,
            cipher,
            Some(tenant_id),
            "verify_email",
            &self.email,
            request_id,
        )
        .await?;
        Ok(())
    }
}

fn again() -> (&'static str, &'static str) {
    ("/", "Ir para o painel")
}

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<TokenQuery>,
) -> Result<Response, AppError> {
    let t = match super::live_link(&state, &ctx, Purpose::VerifyEmail, &q.token, again()).await? {
        Ok(t) => t,
        Err(dead) => return Ok(dead),
    };
    anon_page(
        &ctx,
        "account/verify.html",
        StatusCode::OK,
        context! { token => q.token.clone(), email => t.email },
    )
}

#[derive(Deserialize, Default)]
pub struct VerifyForm {
    #[serde(default)]
    token: String,
}

pub async fn confirm(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<VerifyForm>,
) -> Result<Response, AppError> {
    if !token_shape_ok(&f.token) {
        return dead_link(&ctx, again());
    }
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
                    accounts::consume(c, Purpose::VerifyEmail, &tenant_id, &token).await?
                else {
                    return Ok(false);
                };
                let Some(user_id) = t.user_id else {
                    return Ok(false);
                };
                accounts::mark_email_verified(c, &tenant_id, &user_id).await?;
                audit::record(
                    c,
                    &Entry {
                        tenant_id: Some(&tenant_id),
                        actor_user_id: Some(&user_id),
                        actor_label: &t.email,
                        action: "user.email_verified",
                        entity: "user",
                        entity_id: Some(&user_id),
                        before: None,
                        after: Some(serde_json::json!({ "email": t.email, "ip": ip })),
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
    count("verified");
    message(
        &ctx,
        StatusCode::OK,
        "E-mail confirmado",
        "Obrigado! Seu e-mail está confirmado.",
        ("/", "Ir para o painel"),
    )
}

/// `POST /conta/email/reenviar`: a new link (the old one stops working), at most [`PER_HOUR`].
pub async fn resend(
    State(state): State<AppState>,
    me: Me,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    if me.user.email_verified_at.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    let hour_ago = store::now_ms() - 60 * 60 * 1000;
    if accounts::issued_since(&state.db, Purpose::VerifyEmail, &me.user.id, hour_ago).await?
        >= PER_HOUR
    {
        return Ok(Redirect::to("/?ok=email-limite").into_response());
    }
    let v = Verification::new(
        &store_url(&state, &headers, &me.tenant.slug, ""),
        &me.user.email,
        &me.tenant.name,
    )?;
    let (cipher, tenant_id, user_id, rid) = (
        state.cipher.clone(),
        me.tenant.id.clone(),
        me.user.id.clone(),
        me.request_id.clone(),
    );
    state
        .db
        .tx(move |c| {
            Box::pin(async move { v.write(c, &cipher, &tenant_id, &user_id, Some(&rid)).await })
        })
        .await?;
    Ok(Redirect::to("/?ok=email-reenviado").into_response())
}
