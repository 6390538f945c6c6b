//! `/conversas`: the inbox, one conversation's transcript (polled by HTMX), taking over from
//! the bot, handing back and replying by hand through the bot's outbound queue.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use domain::status::{MessageDirection, MessageStatus};
use minijinja::{context, Value};
use serde::Deserialize;
use store::{conversations, messages, quotes};
use worker::actions;

use super::action_err;
use super::change::read_conn;
use super::security::Me;
use super::view::{self, brl, Notice};
use crate::error::AppError;
use crate::state::AppState;

fn contact_label(c: &conversations::Conversation) -> String {
    if c.contact_name.trim().is_empty() {
        domain::ids::mask_phone(&c.contact_wa_id)
    } else {
        c.contact_name.clone()
    }
}

#[derive(Deserialize, Default)]
pub struct InboxQuery {
    estado: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    me: Me,
    Query(q): Query<InboxQuery>,
) -> Result<Html<String>, AppError> {
    // An unknown state in the address shows every conversation, as no filter would.
    let filter = q
        .estado
        .as_deref()
        .and_then(|s| s.parse::<domain::conversation::State>().ok());
    let list = conversations::list(&state.db, &me.tenant.id, filter, 200).await?;
    let clock = view::clock(&me);
    let now = store::now_ms();
    let rows: Vec<Value> = list
        .iter()
        .map(|c| {
            context! {
                id => c.id.clone(), contact => contact_label(c), phone => domain::ids::mask_phone(&c.contact_wa_id),
                state => c.state.label_pt(), unread => c.unread, taken => c.taken_over_by.is_some(),
                last => clock.datetime_br(c.last_message_at),
                waiting => waiting_of(c, now),
            }
        })
        .collect();
    let states: Vec<Value> = domain::conversation::State::ALL
        .iter()
        .map(|s| context! { code => s.as_str(), label => s.label_pt() })
        .collect();
    view::page(
        &me,
        "dashboard/inbox.html",
        "conversas",
        context! {
            rows => rows, states => states, filter => filter,
            queue => filter == Some(domain::conversation::State::WaitingPerson),
        },
    )
}

/// In the waiting-for-a-person queue: for how long ("há 12 min") and why.
fn waiting_of(c: &conversations::Conversation, now: i64) -> Option<Value> {
    if c.state != domain::conversation::State::WaitingPerson {
        return None;
    }
    Some(context! {
        since => c.waiting_since.map(|t| view::waited(t, now)),
        reason => c.waiting_reason.clone(),
    })
}

fn ticks(status: MessageStatus) -> (&'static str, &'static str) {
    match status {
        MessageStatus::Pending => ("🕓", "na fila"),
        MessageStatus::Sent => ("✓", "enviada"),
        MessageStatus::Delivered => ("✓✓", "entregue"),
        MessageStatus::Read => ("✓✓", "lida"),
        MessageStatus::Failed => ("⚠", "falhou"),
        // Inbound messages carry no ticks.
        MessageStatus::Received | MessageStatus::Processed => ("", ""),
    }
}

/// What a person reads for one message: its text, and for a file, shared contacts, a
/// sticker or Meta's notice, what it was (the customer's words stay as they were sent).
fn shown_body(m: &messages::Message) -> String {
    use domain::inbound::InboundContent;
    if m.direction == MessageDirection::Out {
        return m.body.clone();
    }
    match m.inbound_content() {
        InboundContent::Document {
            caption, filename, ..
        } => {
            let name = if filename.is_empty() {
                "sem nome"
            } else {
                &filename
            };
            match caption.trim().is_empty() {
                true => format!("📄 Arquivo: {name}"),
                false => format!("📄 Arquivo: {name}\n{caption}"),
            }
        }
        InboundContent::Contacts { summary, .. } => format!("👤 Contato compartilhado:\n{summary}"),
        InboundContent::Sticker { .. } => "(figurinha)".to_string(),
        InboundContent::System { notice, .. } => format!("ℹ️ Aviso do WhatsApp: {notice}"),
        _ => m.body.clone(),
    }
}

async fn transcript_rows(state: &AppState, me: &Me, id: &str) -> Result<Vec<Value>, AppError> {
    let msgs = messages::for_conversation(&state.db, &me.tenant.id, id, 300).await?;
    let clock = view::clock(me);
    Ok(msgs
        .iter()
        .map(|m| {
            let (tick, tick_label) = ticks(m.status);
            context! {
                out => m.direction == MessageDirection::Out, body => shown_body(m), at => clock.datetime_br(m.created_at),
                tick => tick, tick_label => tick_label, read => m.status == MessageStatus::Read,
                by_person => m.sent_by.is_some(), error => m.error_message.clone(),
                failed => m.status == MessageStatus::Failed, error_code => m.error_code,
            }
        })
        .collect())
}

pub async fn conversation(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
    Query(n): Query<Notice>,
) -> Result<Html<String>, AppError> {
    let c = conversations::get(&state.db, &me.tenant.id, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    let msgs = transcript_rows(&state, &me, &id).await?;
    let quote = {
        let mut conn = read_conn(&state).await?;
        quotes::latest_for_conversation(&mut conn, &me.tenant.id, &id).await?
    };
    // What the customer asked for that the catalog does not have, and conditions they put,
    // stay visible to staff whether or not a quote was made (issue 12 item 6).
    let draft = domain::engine::Memo::from_json(&c.draft_json).draft;
    view::page(
        &me,
        "dashboard/conversation.html",
        "conversas",
        context! {
            notice => view::notice(n.ok.as_deref()),
            conv => context! {
                id => c.id.clone(), contact => contact_label(&c), phone => domain::ids::mask_phone(&c.contact_wa_id),
                state => c.state.label_pt(), taken => c.taken_over_by.is_some(),
                waiting => waiting_of(&c, store::now_ms()),
                taken_by_me => c.taken_over_by.as_deref() == Some(me.user.id.as_str()),
            },
            messages => msgs,
            unknown => draft.unknown,
            conditions => draft.conditions,
            quote => quote.map(|q| context! { id => q.id, number => q.number, status => q.status.label_pt(), total => brl(q.total_cents) }),
            window => super::window::window_view(c.window_expires_at, store::now_ms(), &view::clock(&me)),
        },
    )
}

/// The transcript alone, polled by HTMX every few seconds.
pub async fn transcript(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Html<String>, AppError> {
    conversations::get(&state.db, &me.tenant.id, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    let msgs = transcript_rows(&state, &me, &id).await?;
    view::page(
        &me,
        "dashboard/transcript.html",
        "conversas",
        context! { messages => msgs },
    )
}

/// Takes a conversation from the bot (`taken`) or gives it back, then shows it with `notice`.
async fn set_taken(
    state: &AppState,
    me: &Me,
    id: &str,
    taken: bool,
    notice: &str,
) -> Result<Response, AppError> {
    actions::set_taken_over(&state.db, &me.tenant.id, id, taken, &me.actor())
        .await
        .map_err(action_err)?;
    Ok(Redirect::to(&format!("/conversas/{id}?ok={notice}")).into_response())
}

pub async fn take_over(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    set_taken(&state, &me, &id, true, "assumida").await
}

pub async fn hand_back(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    set_taken(&state, &me, &id, false, "devolvida").await
}

#[derive(Deserialize)]
pub struct ReplyForm {
    #[serde(default)]
    text: String,
}

pub async fn reply(
    State(state): State<AppState>,
    me: Me,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<ReplyForm>,
) -> Result<Response, AppError> {
    actions::manual_reply(&state.db, &me.tenant.id, &id, &f.text, &me.actor())
        .await
        .map_err(action_err)?;
    state.wake.notify_one();
    if headers.contains_key("hx-request") {
        let msgs = transcript_rows(&state, &me, &id).await?;
        return Ok(view::page(
            &me,
            "dashboard/transcript.html",
            "conversas",
            context! { messages => msgs },
        )?
        .into_response());
    }
    Ok(Redirect::to(&format!("/conversas/{id}?ok=enviada")).into_response())
}
