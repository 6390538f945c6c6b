//! `/respostas`: the store's quick replies, saved answers staff insert in a conversation's
//! reply box with one click (`dashboard.js`). The owner adds, edits and deletes them; every
//! change audited.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use minijinja::{context, Value};
use serde::Deserialize;
use store::inbox::{self, QuickReply};

use super::change::{Change, FormPage};
use super::security::Me;
use super::view;
use crate::error::AppError;
use crate::state::AppState;

const DONE: &str = "/respostas?ok=salvo";
/// The button's label.
pub const TITLE_MAX: usize = 40;
/// The text: room for an answer, well under WhatsApp's 4,096 characters so staff can add to it.
pub const BODY_MAX: usize = 1000;
/// Quick replies a store keeps (they are buttons above the reply box).
pub const MAX_REPLIES: usize = 50;

fn json(q: &QuickReply) -> serde_json::Value {
    serde_json::json!({ "title": q.title, "body": q.body })
}

pub struct QuickRepliesPage;

impl FormPage for QuickRepliesPage {
    async fn render(
        state: &AppState,
        me: &Me,
        notice: Option<&str>,
        errors: Vec<String>,
        status: StatusCode,
    ) -> Result<Response, AppError> {
        let rows: Vec<Value> = inbox::quick_replies(&state.db, &me.tenant.id)
            .await?
            .into_iter()
            .map(|q| context! { id => q.id, title => q.title, body => q.body })
            .collect();
        let html = view::page(
            me,
            "dashboard/quick_replies.html",
            // Under "Mensagens" in the menu, next to the bot's message templates.
            "modelos",
            context! {
                rows => rows, notice => view::notice(notice), errors => errors,
                title_max => TITLE_MAX, body_max => BODY_MAX, max => MAX_REPLIES,
            },
        )?;
        Ok((status, html).into_response())
    }
}

#[derive(Deserialize)]
pub struct ReplyForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
}

/// The reply a form describes (trimmed), or every pt-BR error of the form.
fn reply_from(f: &ReplyForm) -> Result<QuickReply, Vec<String>> {
    let mut errors = Vec::new();
    let title = f.title.split_whitespace().collect::<Vec<_>>().join(" ");
    let body = f.body.trim().replace("\r\n", "\n");
    if title.is_empty() || title.chars().count() > TITLE_MAX {
        errors.push(format!("Título: obrigatório, até {TITLE_MAX} caracteres"));
    }
    if body.is_empty() || body.chars().count() > BODY_MAX {
        errors.push(format!("Texto: obrigatório, até {BODY_MAX} caracteres"));
    }
    if errors.is_empty() {
        Ok(QuickReply {
            id: String::new(),
            title,
            body,
        })
    } else {
        Err(errors)
    }
}

/// One of the store's quick replies, or 404 (another store's id is not found either).
async fn reply_of(state: &AppState, me: &Me, id: &str) -> Result<QuickReply, AppError> {
    inbox::quick_replies(&state.db, &me.tenant.id)
        .await?
        .into_iter()
        .find(|q| q.id == id)
        .ok_or(AppError::NotFound)
}

pub async fn add(
    State(state): State<AppState>,
    me: Me,
    Form(f): Form<ReplyForm>,
) -> Result<Response, AppError> {
    let q = match reply_from(&f) {
        Ok(q) => q,
        Err(errors) => return QuickRepliesPage::refuse(&state, &me, errors).await,
    };
    if inbox::quick_replies(&state.db, &me.tenant.id).await?.len() >= MAX_REPLIES {
        let msg = format!(
            "A loja já tem {MAX_REPLIES} respostas rápidas: apague uma antes de criar outra"
        );
        return QuickRepliesPage::refuse(&state, &me, vec![msg]).await;
    }
    Change::new("quick_reply.add", "quick_reply")
        .after(json(&q))
        .save_then::<QuickRepliesPage, _>(&state, &me, DONE, move |c, t| {
            Box::pin(async move {
                inbox::add_quick_reply(c, &t, &q.title, &q.body)
                    .await
                    .map(|_| ())
            })
        })
        .await
}

pub async fn update(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
    Form(f): Form<ReplyForm>,
) -> Result<Response, AppError> {
    let before = reply_of(&state, &me, &id).await?;
    let q = match reply_from(&f) {
        Ok(q) => q,
        Err(errors) => return QuickRepliesPage::refuse(&state, &me, errors).await,
    };
    Change::new("quick_reply.update", "quick_reply")
        .of(&id)
        .before(json(&before))
        .after(json(&q))
        .save_then::<QuickRepliesPage, _>(&state, &me, DONE, move |c, t| {
            Box::pin(async move { inbox::update_quick_reply(c, &t, &id, &q.title, &q.body).await })
        })
        .await
}

pub async fn delete(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let before = reply_of(&state, &me, &id).await?;
    Change::new("quick_reply.delete", "quick_reply")
        .of(&id)
        .before(json(&before))
        .save_then::<QuickRepliesPage, _>(&state, &me, DONE, move |c, t| {
            Box::pin(async move { inbox::delete_quick_reply(c, &t, &id).await })
        })
        .await
}
