//! `/modelos`: the texts the bot sends, edited in the template sandbox's language with a live
//! preview and a version history. Owner only; every save audited.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use domain::templates::{self, TemplateKind};
use minijinja::{context, Value};
use serde::Deserialize;

use super::change::read_conn;
use super::change::{saved, Change};
use super::security::Me;
use super::view::{self, Notice};
use crate::error::AppError;
use crate::state::AppState;

fn kind_of(code: &str) -> Result<TemplateKind, AppError> {
    TemplateKind::from_code(code).ok_or(AppError::NotFound)
}

pub async fn list(State(state): State<AppState>, me: Me) -> Result<Html<String>, AppError> {
    let mut rows = Vec::new();
    for k in TemplateKind::ALL {
        let hist = store::templates::history(&state.db, &me.tenant.id, k.code()).await?;
        rows.push(context! { code => k.code(), label => k.label_pt(), version => hist.first().map(|h| h.version), custom => !hist.is_empty() });
    }
    view::page(
        &me,
        "dashboard/templates.html",
        "modelos",
        context! { rows => rows },
    )
}

async fn editor(
    state: &AppState,
    me: &Me,
    kind: TemplateKind,
    source: Option<String>,
    error: Option<templates::TemplateError>,
    notice: Option<&str>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let hist = store::templates::history(&state.db, &me.tenant.id, kind.code()).await?;
    let current = hist
        .first()
        .map(|h| h.source.clone())
        .unwrap_or_else(|| templates::default_source(kind).to_string());
    let source = source.unwrap_or(current);
    let preview = templates::render(kind, &source, &templates::sample_context(kind));
    let users = store::users::list(&state.db, &me.tenant.id).await?;
    let clock = view::clock(me);
    let history: Vec<Value> = hist
        .iter()
        .map(|h| {
            let who = h.created_by.as_ref().and_then(|id| users.iter().find(|u| &u.id == id)).map(|u| u.email.clone()).unwrap_or_else(|| "—".into());
            context! { version => h.version, at => clock.datetime_br(h.created_at), who => who, source => h.source.clone() }
        })
        .collect();
    let vars: Vec<Value> = templates::variables(kind)
        .iter()
        .map(|(n, d)| context! { name => n, desc => d })
        .collect();
    let lines: Vec<Value> = source.lines().enumerate().map(|(i, l)| context! { n => i + 1, text => l, bad => error.as_ref().and_then(|e| e.line) == Some(i + 1) }).collect();
    let html = view::page(
        me,
        "dashboard/template_edit.html",
        "modelos",
        context! {
            kind => context! { code => kind.code(), label => kind.label_pt() },
            source => source, vars => vars, history => history, notice => view::notice(notice),
            error => error.as_ref().map(|e| context! { line => e.line, message => e.message.clone() }),
            error_lines => if error.as_ref().and_then(|e| e.line).is_some() { lines } else { vec![] },
            length => preview.as_ref().ok().map(|p| templates::length_note(kind, p)),
            preview => preview.as_ref().ok().cloned(),
            preview_error => preview.err().map(|e| e.message),
        },
    )?;
    Ok((status, html).into_response())
}

pub async fn editor_page(
    State(state): State<AppState>,
    me: Me,
    Path(code): Path<String>,
    Query(n): Query<Notice>,
) -> Result<Response, AppError> {
    let kind = kind_of(&code)?;
    editor(
        &state,
        &me,
        kind,
        None,
        None,
        n.ok.as_deref(),
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize)]
pub struct TemplateForm {
    #[serde(default)]
    source: String,
}

pub async fn save(
    State(state): State<AppState>,
    me: Me,
    Path(code): Path<String>,
    Form(f): Form<TemplateForm>,
) -> Result<Response, AppError> {
    let kind = kind_of(&code)?;
    let source = f.source.replace("\r\n", "\n");
    if let Err(e) = templates::validate(kind, &source) {
        return editor(
            &state,
            &me,
            kind,
            Some(source),
            Some(e),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let before = {
        let mut c = read_conn(&state).await?;
        store::templates::current(&mut c, &me.tenant.id, kind.code()).await?
    };
    let user_id = me.user.id.clone();
    Change::new("template.save", "message_template")
        .of(kind.code())
        .before(before.map(|s| serde_json::json!({ "source": s })))
        .after(serde_json::json!({ "source": source }))
        .save(&state, &me, move |c, t| {
            Box::pin(async move {
                store::templates::save(c, &t, kind.code(), &source, Some(&user_id))
                    .await
                    .map(|_| ())
            })
        })
        .await?;
    saved(&format!("/modelos/{}?ok=salvo", kind.code()))
}

/// HTMX live preview: the text rendered with sample data and its length against the limit
/// of the WhatsApp message that carries it, or the error at its line.
pub async fn preview(
    me: Me,
    Path(code): Path<String>,
    Form(f): Form<TemplateForm>,
) -> Result<Html<String>, AppError> {
    let kind = kind_of(&code)?;
    let out = templates::render(
        kind,
        &f.source.replace("\r\n", "\n"),
        &templates::sample_context(kind),
    );
    view::page(
        &me,
        "dashboard/template_preview.html",
        "modelos",
        context! {
            length => out.as_ref().ok().map(|p| templates::length_note(kind, p)),
            preview => out.as_ref().ok().cloned(),
            error => out.err().map(|e| context! { line => e.line, message => e.message }),
        },
    )
}
