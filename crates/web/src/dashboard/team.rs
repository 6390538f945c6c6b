//! `/equipe`: the store's people, their roles and open sessions. Owner only; every change
//! audited. An invited person's password is generated and shown once.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use minijinja::{context, Value};
use serde::Deserialize;
use store::users::Role;

use super::change::{saved, Change, FormPage};
use super::security::Me;
use super::view;
use crate::auth::password;
use crate::error::AppError;
use crate::state::AppState;

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
        context! { rows => rows, sessions => sess, notice => view::notice(notice), created => created, errors => errors },
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

/// The generated password is shown once, on this response, and never stored in clear.
pub async fn invite(
    State(state): State<AppState>,
    me: Me,
    Form(f): Form<InviteForm>,
) -> Result<Response, AppError> {
    let email = store::users::normalize_email(&f.email);
    let name = f.name.trim().to_string();
    let mut errors = Vec::new();
    if !(email.contains('@') && email.len() <= 200 && !email.contains(char::is_whitespace)) {
        errors.push("E-mail inválido".to_string());
    }
    if name.is_empty() || name.chars().count() > 100 {
        errors.push("Nome: obrigatório, até 100 caracteres".into());
    }
    let role = role_of(&f.role);
    if !errors.is_empty() {
        return TeamPage::refuse(&state, &me, errors).await;
    }
    let pw = password::generate();
    let hash = password::hash(&pw).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    let after = serde_json::json!({ "email": email, "name": name, "role": role.code() });
    let (e2, n2) = (email.clone(), name.clone());
    let res = Change::new("team.invite", "user")
        .after(after)
        .save(&state, &me, move |c, t| {
            Box::pin(async move {
                store::users::create(c, &t, &e2, &n2, &hash, role)
                    .await
                    .map(|_| ())
            })
        })
        .await;
    match res {
        Ok(()) => {}
        Err(AppError::Conflict(m)) => {
            return TeamPage::render(&state, &me, None, vec![m], StatusCode::CONFLICT).await
        }
        Err(e) => return Err(e),
    }
    team_render(
        &state,
        &me,
        None,
        Some(context! { email => email, password => pw }),
        vec![],
        StatusCode::OK,
    )
    .await
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
