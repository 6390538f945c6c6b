//! `/equipe`: the store's people, their roles, pending invitations and open sessions. Owner
//! only; every change audited. People are invited by e-mail (`crate::account::invite`).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use minijinja::{context, Value};
use serde::Deserialize;
use store::users::Role;

use super::change::{saved, Change, FormPage};
use super::security::{random_token, Me};
use super::view;
use crate::error::AppError;
use crate::state::AppState;
use store::accounts;

/// The role a form asks for; anything but "owner" is the lesser one.
fn role_of(code: &str) -> Role {
    if code == "owner" {
        Role::Owner
    } else {
        Role::Attendant
    }
}

async fn team_render(
    state: &AppState,
    me: &Me,
    notice: Option<&str>,
    created: Option<Value>,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let users = store::users::list(&state.db, &me.tenant.id).await?;
    let sessions = store::sessions::list_for_tenant(&state.db, &me.tenant.id).await?;
    let rows: Vec<Value> = users
        .iter()
        .map(|u| context! { id => u.id.clone(), name => u.name.clone(), email => u.email.clone(), role => u.role.label_pt(), role_code => u.role.code(), me => u.id == me.user.id })
        .collect();
    let clock = view::clock(me);
    let invites: Vec<Value> = accounts::pending_invites(&state.db, &me.tenant.id)
        .await?
        .iter()
        .map(|i| context! { id => i.id_hash.clone(), email => i.email.clone(), name => i.name.clone(),
            role => i.role.map(|r| r.label_pt()).unwrap_or(""), expires => clock.datetime_br(i.expires_at) })
        .collect();
    let sess: Vec<Value> = sessions
        .iter()
        .map(|s| {
            let who = users.iter().find(|u| u.id == s.user_id).map(|u| u.email.clone()).unwrap_or_default();
            context! { id => s.id_hash.clone(), who => who, ip => s.ip.clone(), agent => super::user_agent::summary(&s.user_agent), agent_raw => s.user_agent.chars().take(300).collect::<String>(),
                last => clock.datetime_br(s.last_seen_at), current => s.id_hash == me.session.id_hash }
        })
        .collect();
    let html = view::page(
        me,
        "dashboard/team.html",
        "equipe",
        context! { rows => rows, sessions => sess, invites => invites, notice => view::notice(notice), created => created, errors => errors },
    )?;
    Ok((status, html).into_response())
}

pub struct TeamPage;

impl FormPage for TeamPage {
    async fn render(
        state: &AppState,
        me: &Me,
        notice: Option<&str>,
        errors: Vec<String>,
        status: StatusCode,
    ) -> Result<Response, AppError> {
        team_render(state, me, notice, None, errors, status).await
    }
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

/// Invites a person by e-mail (`crate::account::invite`): a single-use link valid for 7 days;
/// no account exists until the person accepts it and chooses a password. With e-mail off the
/// link is shown here, once, for the owner to pass on.
pub async fn invite(
    State(state): State<AppState>,
    me: Me,
    headers: HeaderMap,
    Form(f): Form<InviteForm>,
) -> Result<Response, AppError> {
    let email = store::users::normalize_email(&f.email);
    let name = f.name.trim().to_string();
    let mut errors = Vec::new();
    if !(email.contains('@') && email.len() <= 200 && !email.contains(char::is_whitespace)) {
        errors.push("E-mail inválido".to_string());
    }
    if name.chars().count() > 100 {
        errors.push("Nome: até 100 caracteres".into());
    }
    if me.user.email_verified_at.is_none() {
        errors.push(
            "Confirme o seu e-mail antes de convidar pessoas (use o link que enviamos; veja o aviso no topo da página)."
                .into(),
        );
    }
    let role = role_of(&f.role);
    if !errors.is_empty() {
        return TeamPage::refuse(&state, &me, errors).await;
    }
    if store::users::by_email(&state.db, &me.tenant.id, &email)
        .await?
        .is_some()
    {
        return TeamPage::render(
            &state,
            &me,
            None,
            vec!["já existe um usuário com esse e-mail nesta loja".into()],
            StatusCode::CONFLICT,
        )
        .await;
    }
    let token = random_token();
    let url = crate::account::store_url(
        &state,
        &headers,
        &me.tenant.slug,
        &format!("/login/convite?token={token}"),
    );
    let inviter = if me.user.name.is_empty() {
        me.user.email.clone()
    } else {
        me.user.name.clone()
    };
    let mail = crate::account::compose(
        "invite",
        &email,
        &format!("Convite para a equipe de {} — OrçaZap", me.tenant.name),
        context! { name => name, inviter => inviter, store_name => me.tenant.name.clone(),
        role => role.label_pt().to_lowercase(), url => url, days => accounts::INVITE_TTL_MS / 86_400_000 },
    )?;
    let after = serde_json::json!({ "email": email, "name": name, "role": role.code() });
    let (e2, n2, uid, cipher, rid) = (
        email.clone(),
        name.clone(),
        me.user.id.clone(),
        state.cipher.clone(),
        me.request_id.clone(),
    );
    Change::new("team.invite", "invite")
        .of(store::sessions::hash_token(&token))
        .after(after)
        .save(&state, &me, move |c, t| {
            Box::pin(async move {
                accounts::issue(
                    c,
                    &accounts::NewToken {
                        purpose: accounts::Purpose::Invite,
                        token: &token,
                        tenant_id: &t,
                        user_id: None,
                        email: &e2,
                        name: &n2,
                        role: Some(role),
                        created_by: Some(&uid),
                        ttl_ms: accounts::INVITE_TTL_MS,
                    },
                )
                .await?;
                store::email::enqueue(c, &cipher, Some(&t), "invite", &mail, Some(&rid)).await?;
                Ok(())
            })
        })
        .await?;
    crate::account::count("invite_sent");
    let created = context! { email => email, link => (!state.cfg.email_on).then_some(url) };
    team_render(&state, &me, None, Some(created), vec![], StatusCode::OK).await
}

pub async fn revoke_invite(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    Change::new("team.invite_revoke", "invite")
        .of(&id)
        .save(&state, &me, move |c, t| {
            Box::pin(async move {
                match accounts::revoke_invite(c, &t, &id).await? {
                    Some(_) => Ok(()),
                    None => Err(store::StoreError::NotFound),
                }
            })
        })
        .await?;
    saved("/equipe?ok=convite-revogado")
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

pub async fn set_role(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
    Form(f): Form<RoleForm>,
) -> Result<Response, AppError> {
    let user = store::users::by_id(&state.db, &me.tenant.id, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    let role = role_of(&f.role);
    Change::new("team.set_role", "user")
        .of(&id)
        .before(serde_json::json!({ "role": user.role.code() }))
        .after(serde_json::json!({ "role": role.code() }))
        .save_with(&state, &me, move |c, t| {
            Box::pin(async move {
                store::users::set_role(c, &t, &id, role).await?;
                // A store never loses its last owner: a business refusal, not a unique
                // violation, so it is the web's own 409 and the role change rolls back.
                if store::users::count_owners(c, &t).await? == 0 {
                    return Err(AppError::Conflict(
                        "a loja precisa de pelo menos um dono".into(),
                    ));
                }
                Ok(())
            })
        })
        .await?;
    saved("/equipe?ok=salvo")
}

pub async fn revoke_session(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    Change::new("team.revoke_session", "session")
        .save(&state, &me, move |c, t| {
            Box::pin(async move {
                if store::sessions::revoke(c, &t, &id).await? {
                    Ok(())
                } else {
                    Err(store::StoreError::NotFound)
                }
            })
        })
        .await?;
    saved("/equipe?ok=encerrada")
}
