//! `/modelos-whatsapp`: the store's WhatsApp message templates ("modelos de mensagem do
//! WhatsApp"), the only messages Meta delivers outside the 24-hour window once it approved
//! them. Not the bot's reply texts (`/modelos`, `dashboard::templates`).
//!
//! The owner writes one (name, category, what it is for, body with `{{1}}`…), which is saved
//! and submitted to Meta by the worker (`meta_template.submit`); the list shows Meta's review
//! status and reason, kept current by the `message_template_status_update` webhook and by
//! "Atualizar status" (`meta_template.sync`). Attendants read the list. Every change audited.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use domain::proactive::Purpose;
use minijinja::{context, Value};
use serde::Deserialize;
use store::jobs::{self, NewJob};
use store::meta_templates::{self, MetaTemplate, NewMetaTemplate};
use whatsapp::graph::{
    check_template_body, is_template_name, MAX_TEMPLATE_BODY_CHARS, TEMPLATE_CATEGORIES,
};

use super::change::{Change, FormPage};
use super::security::Me;
use super::view;
use crate::error::AppError;
use crate::state::AppState;

/// The language every template is submitted in.
pub const LANGUAGE: &str = "pt_BR";

/// Meta's review status as staff read it.
pub fn status_label(status: &str) -> &'static str {
    match status {
        meta_templates::SUBMITTING => "Enviando à Meta",
        meta_templates::SUBMIT_FAILED => "Não enviado",
        "PENDING" | "IN_APPEAL" => "Em análise pela Meta",
        "APPROVED" | "REINSTATED" => "Aprovado",
        "REJECTED" => "Rejeitado",
        "PAUSED" => "Pausado pela Meta",
        "DISABLED" => "Desativado pela Meta",
        "FLAGGED" => "Sinalizado pela Meta",
        "PENDING_DELETION" | "DELETED" | "ARCHIVED" => "Excluído",
        _ => "Outro status",
    }
}

fn category_label(category: &str) -> &'static str {
    match category {
        "UTILITY" => "Utilidade",
        "MARKETING" => "Marketing",
        _ => "Outra",
    }
}

fn row(t: &MetaTemplate) -> Value {
    context! {
        id => t.id, name => t.name, language => t.language,
        category => category_label(&t.category),
        purpose => t.purpose.as_deref().and_then(Purpose::from_code).map(Purpose::label),
        body => t.body, status => t.status, status_label => status_label(&t.status),
        reason => t.status_reason,
        approved => t.status == meta_templates::APPROVED,
    }
}

pub struct MetaTemplatesPage;

impl FormPage for MetaTemplatesPage {
    async fn render(
        state: &AppState,
        me: &Me,
        notice: Option<&str>,
        errors: Vec<String>,
        status: StatusCode,
    ) -> Result<Response, AppError> {
        let rows: Vec<Value> = meta_templates::list(&state.db, &me.tenant.id)
            .await?
            .iter()
            .map(row)
            .collect();
        let purposes: Vec<Value> = Purpose::ALL
            .iter()
            .map(|p| {
                let params: Vec<String> = p
                    .parameters()
                    .iter()
                    .enumerate()
                    .map(|(i, n)| format!("{{{{{}}}}} {n}", i + 1))
                    .collect();
                context! { code => p.code(), label => p.label(), params => params.join(", ") }
            })
            .collect();
        let html = view::page(
            me,
            "dashboard/meta_templates.html",
            "modelos",
            context! {
                rows => rows, purposes => purposes, notice => view::notice(notice),
                errors => errors, body_max => MAX_TEMPLATE_BODY_CHARS,
            },
        )?;
        Ok((status, html).into_response())
    }
}

#[derive(Deserialize)]
pub struct TemplateForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    body: String,
}

/// What the form describes, checked as Meta checks it, or every pt-BR error.
fn checked(f: &TemplateForm) -> Result<(String, String, Option<Purpose>, String), Vec<String>> {
    let mut errors = Vec::new();
    let name = f.name.trim().to_string();
    if !is_template_name(&name) {
        errors.push(
            "Nome: só letras minúsculas sem acento, números e _ (ex.: lembrete_orcamento)".into(),
        );
    }
    let category = f.category.trim().to_ascii_uppercase();
    if !TEMPLATE_CATEGORIES.contains(&category.as_str()) {
        errors.push("Categoria: escolha Utilidade ou Marketing".into());
    }
    let purpose = match f.purpose.trim() {
        "" => None,
        code => match Purpose::from_code(code) {
            Some(p) => Some(p),
            None => {
                errors.push("Uso: escolha um da lista".into());
                None
            }
        },
    };
    let body = f.body.trim().replace("\r\n", "\n");
    match check_template_body(&body) {
        Err(e) => errors.push(format!("Texto: {e}")),
        // The product fills a purpose's variables itself; a template with no purpose is sent
        // by staff from a conversation, who fill its variables there.
        Ok(n) => {
            if let Some(p) = purpose {
                let available = p.parameters().len();
                if n > available {
                    errors.push(format!(
                        "Texto: «{}» preenche só {{{{1}}}} a {{{{{available}}}}} ({})",
                        p.label(),
                        p.parameters().join(", ")
                    ));
                }
            }
        }
    }
    if errors.is_empty() {
        Ok((name, category, purpose, body))
    } else {
        Err(errors)
    }
}

/// `POST /modelos-whatsapp/novo`: saved, then submitted to Meta by the worker.
pub async fn create(
    State(state): State<AppState>,
    me: Me,
    Form(f): Form<TemplateForm>,
) -> Result<Response, AppError> {
    let (name, category, purpose, body) = match checked(&f) {
        Ok(v) => v,
        Err(errors) => return MetaTemplatesPage::refuse(&state, &me, errors).await,
    };
    let after = serde_json::json!({
        "name": name, "language": LANGUAGE, "category": category,
        "purpose": purpose.map(Purpose::code), "body": body,
    });
    let user_id = me.user.id.clone();
    let response = Change::new("meta_template.create", "meta_template")
        .after(after)
        .save_then::<MetaTemplatesPage, _>(
            &state,
            &me,
            "/modelos-whatsapp?ok=modelo-enviado",
            move |c, t| {
                Box::pin(async move {
                    let id = meta_templates::create(
                        c,
                        &t,
                        &NewMetaTemplate {
                            name: &name,
                            language: LANGUAGE,
                            category: &category,
                            purpose: purpose.map(Purpose::code),
                            body: &body,
                            created_by: Some(&user_id),
                        },
                    )
                    .await?;
                    let mut job = NewJob::new(
                        worker::TEMPLATE_SUBMIT_JOB,
                        serde_json::json!({ "template_id": id }),
                    );
                    job.tenant_id = Some(t.clone());
                    jobs::enqueue(c, &job).await.map(drop)
                })
            },
        )
        .await?;
    state.wake.notify_one();
    Ok(response)
}

/// `POST /modelos-whatsapp/atualizar`: asks Meta for every template's status.
pub async fn refresh(State(state): State<AppState>, me: Me) -> Result<Response, AppError> {
    Change::new("meta_template.refresh", "meta_template")
        .save(&state, &me, move |c, t| {
            Box::pin(async move {
                let mut job = NewJob::new(worker::TEMPLATE_SYNC_JOB, serde_json::json!({}));
                job.tenant_id = Some(t);
                jobs::enqueue(c, &job).await.map(drop)
            })
        })
        .await?;
    state.wake.notify_one();
    super::change::saved("/modelos-whatsapp?ok=atualizando")
}
