//! `/conversas`: the inbox (last message, its time, unseen customer messages, who has it,
//! search by name or phone, refreshed in place every few seconds), one conversation's
//! transcript (polled by HTMX), taking over from the bot, "Assumir"/"Soltar" for the team,
//! handing back and replying by hand through the bot's outbound queue.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use domain::status::{MessageDirection, MessageStatus};
use minijinja::{context, Value};
use serde::Deserialize;
use store::inbox::{self, InboxFilter, InboxRow};
use store::{conversations, messages, quotes};
use worker::actions;

use super::action_err;
use super::change::{read_conn, Change};
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
    /// The search box: a name or a phone in any writing.
    q: Option<String>,
}

impl InboxQuery {
    /// An unknown state in the address shows every conversation, as no filter would.
    fn state(&self) -> Option<domain::conversation::State> {
        self.estado
            .as_deref()
            .and_then(|s| s.parse::<domain::conversation::State>().ok())
    }

    fn search(&self) -> Option<&str> {
        self.q.as_deref().map(str::trim).filter(|q| !q.is_empty())
    }
}

/// Longest last-message preview on an inbox line, in characters.
const PREVIEW_CHARS: usize = 80;

/// The inbox line's preview of a message: one line, at most [`PREVIEW_CHARS`] characters.
fn preview(last: &inbox::LastMessage) -> String {
    // One line, without WhatsApp's bold marks (the transcript shows them as bold).
    let text = last
        .body
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('*', "");
    if text.is_empty() {
        return match last.kind.as_str() {
            "document" => "📄 arquivo",
            "image" => "📷 imagem",
            "audio" => "🎤 áudio",
            "video" => "🎥 vídeo",
            "sticker" => "(figurinha)",
            "contacts" => "👤 contato",
            "location" => "📍 localização",
            _ => "(mensagem sem texto)",
        }
        .to_string();
    }
    match text.char_indices().nth(PREVIEW_CHARS) {
        Some((cut, _)) => format!("{}…", text[..cut].trim_end()),
        None => text,
    }
}

/// Who wrote a message, as the inbox line says it.
fn author(last: &inbox::LastMessage) -> &'static str {
    match (last.inbound, last.by_person) {
        (true, _) => "Cliente",
        (false, true) => "Atendente",
        (false, false) => "Robô",
    }
}

fn row_view(r: &InboxRow, me: &Me, now: i64, clock: &domain::clock::StoreClock) -> Value {
    let c = &r.conv;
    let at = r.last.as_ref().map(|l| l.at).unwrap_or(c.last_message_at);
    context! {
        id => c.id.clone(), contact => contact_label(c), phone => domain::ids::mask_phone(&c.contact_wa_id),
        state => c.state.label_pt(), unseen => r.unseen, taken => c.taken_over_by.is_some(),
        assignee => r.assignee.clone(), mine => r.assigned_to.as_deref() == Some(me.user.id.as_str()),
        last => r.last.as_ref().map(|l| context! { who => author(l), text => preview(l) }),
        when => view::ago(at, now, clock), when_full => clock.datetime_br(at),
        waiting => waiting_of(c, now),
    }
}

async fn inbox_rows(state: &AppState, me: &Me, q: &InboxQuery) -> Result<Vec<Value>, AppError> {
    let f = InboxFilter {
        state: q.state(),
        search: q.search(),
        id: None,
    };
    let list = inbox::list(&state.db, &me.tenant.id, &f, 200).await?;
    let clock = view::clock(me);
    let now = store::now_ms();
    Ok(list.iter().map(|r| row_view(r, me, now, &clock)).collect())
}

/// The address the inbox polls for its rows: the same filter and search as the page.
fn live_url(q: &InboxQuery) -> String {
    let enc = |v: &str| {
        v.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    let mut parts = Vec::new();
    if let Some(s) = &q.estado {
        parts.push(format!("estado={}", enc(s)));
    }
    if let Some(s) = q.search() {
        parts.push(format!("q={}", enc(s)));
    }
    format!("/conversas/lista?{}", parts.join("&"))
}

pub async fn list(
    State(state): State<AppState>,
    me: Me,
    Query(q): Query<InboxQuery>,
) -> Result<Html<String>, AppError> {
    let filter = q.state();
    let rows = inbox_rows(&state, &me, &q).await?;
    let states: Vec<Value> = domain::conversation::State::ALL
        .iter()
        .map(|s| context! { code => s.as_str(), label => s.label_pt() })
        .collect();
    let queue = filter == Some(domain::conversation::State::WaitingPerson);
    view::page(
        &me,
        "dashboard/inbox.html",
        if queue { "fila" } else { "conversas" },
        context! {
            rows => rows, states => states, filter => filter, queue => queue,
            search => q.search(), live => live_url(&q),
        },
    )
}

/// `/conversas/lista`: the inbox's rows alone, polled by `dashboard.js` every few seconds
/// (paused while the tab is hidden). The count waiting for a person travels in a header, for
/// the tab title and the menu's badge.
pub async fn list_rows(
    State(state): State<AppState>,
    me: Me,
    Query(q): Query<InboxQuery>,
) -> Result<Response, AppError> {
    let rows = inbox_rows(&state, &me, &q).await?;
    let html = view::page(
        &me,
        "dashboard/_inbox_rows.html",
        "conversas",
        context! { rows => rows, queue => q.state() == Some(domain::conversation::State::WaitingPerson), search => q.search() },
    )?;
    Ok(view::live(&me, html))
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
        // The quote's PDF: its row's body is the file name the customer sees.
        return match m.kind.as_str() {
            "document" => format!("📄 Arquivo: {}", m.body),
            // The quote page's link: the text, and the button the customer taps.
            "cta_url" => format!("{}\n🔗 Botão: {}", m.body, worker::quote_link::LINK_LABEL),
            _ => m.body.clone(),
        };
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
        // Issue 16: what the voice note said, or why nobody could write it down.
        InboundContent::Audio {
            transcript: Some(t),
            ..
        } => format!("🎤 Áudio transcrito: «{t}»"),
        InboundContent::Audio {
            unheard: Some(why), ..
        } => format!("🎤 Áudio sem transcrição ({why}): ouça e responda."),
        InboundContent::Audio { .. } => "🎤 Áudio".to_string(),
        InboundContent::Image {
            caption,
            media_error,
            ..
        } => {
            let head = match media_error {
                Some(why) => format!("📷 Imagem não baixada ({why})"),
                None => "📷 Imagem".to_string(),
            };
            match caption.trim().is_empty() {
                true => head,
                false => format!("{head}\n{caption}"),
            }
        }
        InboundContent::System { notice, .. } => format!("ℹ️ Aviso do WhatsApp: {notice}"),
        _ => m.body.clone(),
    }
}

async fn transcript_rows(state: &AppState, me: &Me, id: &str) -> Result<Vec<Value>, AppError> {
    let msgs = messages::for_conversation(&state.db, &me.tenant.id, id, 300).await?;
    let files = store::media::for_conversation(&state.db, &me.tenant.id, id).await?;
    let clock = view::clock(me);
    Ok(msgs
        .iter()
        .map(|m| {
            let (tick, tick_label) = ticks(m.status);
            // A stored voice note or photo: a player or the picture, through the
            // authenticated route below (issue 16).
            let media = files
                .iter()
                .find(|f| f.message_id == m.id)
                .map(|f| {
                    let kept = f.purged_at.is_none();
                    context! {
                        gone => !kept,
                        url => format!("/conversas/{id}/midia/{}", f.id),
                        file => f.id.clone(),
                        audio => kept && f.mime_type.starts_with("audio/"),
                        image => kept && f.mime_type.starts_with("image/"),
                    }
                });
            context! {
                media => media,
                out => m.direction == MessageDirection::Out, body => Value::from_safe_string(view::wa_markup(&shown_body(m))), at => clock.datetime_br(m.created_at),
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
    let r = inbox::row(&state.db, &me.tenant.id, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    // Opened: the customer's messages so far are seen by the team.
    inbox::mark_seen(&state.db, &me.tenant.id, &id, store::now_ms()).await?;
    let c = &r.conv;
    let msgs = transcript_rows(&state, &me, &id).await?;
    let quote = {
        let mut conn = read_conn(&state).await?;
        quotes::latest_for_conversation(&mut conn, &me.tenant.id, &id).await?
    };
    // What the customer asked for that the catalog does not have, and conditions they put,
    // stay visible to staff whether or not a quote was made (issue 12 item 6).
    let draft = domain::engine::Memo::from_json(&c.draft_json).draft;
    let replies: Vec<Value> = inbox::quick_replies(&state.db, &me.tenant.id)
        .await?
        .into_iter()
        .map(|q| context! { title => q.title, body => q.body })
        .collect();
    let conditions = actions::memo_of(c).draft.conditions;
    // The customer's opt-out of proactive messages, with its time (LGPD).
    let opted_out = {
        let mut conn = read_conn(&state).await?;
        store::opt_out::opted_out_at(&mut conn, &me.tenant.id, &c.contact_id).await?
    }
    .map(|at| view::clock(&me).datetime_br(at));
    // Outside the 24 h window only an approved WhatsApp template can be sent (issue 15 item
    // 5): the reply box offers them, each with its variables to fill.
    let window_open = c.window_expires_at.is_some_and(|w| w > store::now_ms());
    let reply_templates: Vec<Value> = if window_open {
        Vec::new()
    } else {
        store::meta_templates::approved(&state.db, &me.tenant.id)
            .await?
            .into_iter()
            .map(|t| {
                let n = whatsapp::graph::check_template_body(&t.body).unwrap_or(0);
                context! {
                    id => t.id, name => t.name, language => t.language, body => t.body,
                    vars => (1..=n).collect::<Vec<usize>>(),
                }
            })
            .collect()
    };
    let phone = view::phone_of(&c.contact_wa_id)
        .map(|(shown, digits)| context! { shown => shown, digits => digits });
    view::page(
        &me,
        "dashboard/conversation.html",
        "conversas",
        context! {
            notice => view::notice(n.ok.as_deref()),
            conv => context! {
                id => c.id.clone(), contact => contact_label(c), phone => phone,
                state => c.state.label_pt(), taken => c.taken_over_by.is_some(),
                waiting => waiting_of(c, store::now_ms()),
                taken_by_me => c.taken_over_by.as_deref() == Some(me.user.id.as_str()),
                assignee => r.assignee.clone(), mine => r.assigned_to.as_deref() == Some(me.user.id.as_str()),
                conditions => conditions, opted_out => opted_out,
            },
            messages => msgs,
            unknown => draft.unknown,
            quick_replies => replies,
            quote => quote.map(|q| context! { id => q.id, number => q.number, status => q.status.label_pt(), total => brl(q.total_cents) }),
            window => super::window::window_view(c.window_expires_at, store::now_ms(), &view::clock(&me)),
            reply_templates => reply_templates,
        },
    )
}

/// `/conversas/{id}/midia/{file}`: a customer's voice note or photo, for the store's people
/// only (the session's store, and the file must belong to this conversation), never cached by
/// a shared cache and never under a public URL.
pub async fn media_file(
    State(state): State<AppState>,
    me: Me,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let found = store::media::content(&state.db, &state.cipher, &me.tenant.id, &file).await?;
    let Some((f, conversation_id, bytes)) = found else {
        return Err(AppError::NotFound);
    };
    if conversation_id != id {
        return Err(AppError::NotFound);
    }
    let Some(bytes) = bytes else {
        // Emptied by retention (ORCAZAP_MEDIA_RETENTION_DAYS).
        return Err(AppError::NotFound);
    };
    // Only the types the worker accepted are served, as themselves.
    let taken = worker::media::AUDIO_TYPES
        .iter()
        .chain(worker::media::IMAGE_TYPES)
        .any(|t| *t == f.mime_type);
    if !taken {
        return Err(AppError::NotFound);
    }
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, f.mime_type.clone()),
            (
                axum::http::header::CACHE_CONTROL,
                "private, no-store".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "inline".to_string(),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// The transcript alone, polled by HTMX every few seconds while the conversation is open:
/// what it shows is seen by the team.
pub async fn transcript(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Html<String>, AppError> {
    conversations::get(&state.db, &me.tenant.id, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    let seen_at = store::now_ms();
    let msgs = transcript_rows(&state, &me, &id).await?;
    inbox::mark_seen(&state.db, &me.tenant.id, &id, seen_at).await?;
    view::page(
        &me,
        "dashboard/transcript.html",
        "conversas",
        context! { messages => msgs },
    )
}

/// "Assumir" (`mine`) or "Soltar": the conversation is this person's, or nobody's, for the
/// whole team to see; audited like every dashboard change.
async fn set_assigned(
    state: &AppState,
    me: &Me,
    id: String,
    mine: bool,
) -> Result<Response, AppError> {
    let r = inbox::row(&state.db, &me.tenant.id, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    let user = mine.then(|| me.user.id.clone());
    let (action, notice) = if mine {
        ("conversation.assign", "atribuida")
    } else {
        ("conversation.unassign", "solta")
    };
    Change::new(action, "conversation")
        .of(&id)
        .before(serde_json::json!({ "assigned_to": r.assigned_to, "name": r.assignee }))
        .after(
            serde_json::json!({ "assigned_to": user, "name": mine.then(|| me.user.name.clone()) }),
        )
        .save(state, me, {
            let id = id.clone();
            move |c, t| {
                Box::pin(
                    async move { inbox::assign(c, &t, &id, user.as_deref()).await.map(|_| ()) },
                )
            }
        })
        .await?;
    Ok(Redirect::to(&format!("/conversas/{id}?ok={notice}")).into_response())
}

pub async fn assign(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    set_assigned(&state, &me, id, true).await
}

pub async fn release(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    set_assigned(&state, &me, id, false).await
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

/// `POST /conversas/{id}/reativar-mensagens`: staff turn the customer's proactive messages
/// back on (on the customer's word, e.g. by phone); audited with the opt-out's time.
pub async fn opt_back_in(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let conv = conversations::get(&state.db, &me.tenant.id, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    let contact_id = conv.contact_id.clone();
    let before = {
        let mut conn = read_conn(&state).await?;
        store::opt_out::opted_out_at(&mut conn, &me.tenant.id, &contact_id).await?
    };
    if before.is_none() {
        return Ok(Redirect::to(&format!("/conversas/{id}")).into_response());
    }
    Change::new("contact.opt_in", "contact")
        .of(&contact_id)
        .before(serde_json::json!({ "opted_out_at": before }))
        .after(serde_json::json!({ "opted_out_at": null }))
        .save(&state, &me, move |c, t| {
            Box::pin(async move { store::opt_out::opt_in(c, &t, &contact_id).await.map(drop) })
        })
        .await?;
    Ok(Redirect::to(&format!("/conversas/{id}?ok=reativado")).into_response())
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

/// `POST /conversas/{id}/modelo`: an approved WhatsApp template with its variables (`p1`,
/// `p2`…), sent by hand — what WhatsApp allows outside the 24 h window.
pub async fn send_template(
    State(state): State<AppState>,
    me: Me,
    Path(id): Path<String>,
    Form(f): Form<std::collections::HashMap<String, String>>,
) -> Result<Response, AppError> {
    let template = f.get("template").cloned().unwrap_or_default();
    let params: Vec<String> = (1..=20)
        .map_while(|i| f.get(&format!("p{i}")).cloned())
        .collect();
    actions::manual_template(
        &state.db,
        &me.tenant.id,
        &id,
        &template,
        params,
        &me.actor(),
    )
    .await
    .map_err(action_err)?;
    state.wake.notify_one();
    Ok(Redirect::to(&format!("/conversas/{id}?ok=modelo")).into_response())
}
