//! `/whatsapp`: the store's WhatsApp number (Meta ids and the encrypted access token) and a
//! test send through the bot's own outbound path. Owner only; every change audited.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use minijinja::context;
use serde::Deserialize;

use super::change::{Change, FormPage};
use super::security::Me;
use super::view;
use crate::error::AppError;
use crate::state::AppState;

pub struct WhatsappPage;

impl FormPage for WhatsappPage {
    async fn render(
        state: &AppState,
        me: &Me,
        notice: Option<&str>,
        errors: Vec<String>,
        status: StatusCode,
    ) -> Result<Response, AppError> {
        let ch = store::channels::for_tenant(&state.db, &me.tenant.id)
            .await?
            .into_iter()
            .next();
        let health = match &ch {
            Some(c) => Some(super::whatsapp_signup::health(state, me, c).await?),
            None => None,
        };
        let signup = super::whatsapp_signup::button(state);
        let html = view::page(
            me,
            "dashboard/whatsapp.html",
            "whatsapp",
            context! {
                notice => view::notice(notice), errors => errors,
                health => health, signup => signup,
                ch => ch.map(|c| context! { phone_number_id => c.phone_number_id, waba_id => c.waba_id, display => c.display_number,
                    has_token => c.access_token_enc.is_some(), last_error => c.last_error_code,
                    problem => c.last_error_code.and_then(account_problem).map(|(what, todo)| context! { what => what, todo => todo }),
                }),
            },
        )?;
        Ok(super::whatsapp_signup::with_headers(
            state,
            (status, html).into_response(),
        ))
    }
}

/// What an account-level Graph error means for the store, and what the owner does about it,
/// in their words (codes in `whatsapp::graph::ACCOUNT_LEVEL_CODES`; Meta's error-code page
/// is cited in docs/whatsapp.md).
pub fn account_problem(code: i64) -> Option<(&'static str, &'static str)> {
    use whatsapp::graph::codes;
    const PERMISSIONS: &str = "No Meta Business (Configurações do negócio → Usuários do sistema), \
        confira se o app tem as permissões whatsapp_business_messaging e \
        whatsapp_business_management, gere um token novo e cole abaixo.";
    Some(match code {
        codes::INVALID_TOKEN => (
            "O token de acesso expirou ou foi revogado.",
            "Gere um token novo no Meta Business (usuário do sistema) e cole abaixo.",
        ),
        codes::PERMISSION_DENIED => (
            "O app perdeu a permissão de enviar mensagens por este número.",
            PERMISSIONS,
        ),
        codes::API_PERMISSION => (
            "A Meta recusou o envio por falta de permissão.",
            PERMISSIONS,
        ),
        codes::TEMPORARILY_BLOCKED => (
            "A Meta bloqueou a conta temporariamente por violação das políticas.",
            "Veja o motivo em Qualidade da conta, no Gerenciador do WhatsApp, e peça revisão \
             se for um engano; o bloqueio costuma ter prazo.",
        ),
        codes::ACCOUNT_LOCKED => (
            "A conta do WhatsApp Business está bloqueada.",
            "Abra o Gerenciador do WhatsApp para ver o motivo e pedir a revisão da conta.",
        ),
        codes::PAYMENT_ISSUE => (
            "A conta do WhatsApp Business tem um problema de pagamento.",
            "Cadastre ou regularize a forma de pagamento em Configurações de pagamento, no \
             Meta Business.",
        ),
        codes::SPAM_RATE_LIMIT => (
            "Mensagens deste número foram bloqueadas ou denunciadas demais e a Meta limitou o \
             envio.",
            "Veja a qualidade do número no Gerenciador do WhatsApp e aguarde a liberação.",
        ),
        codes::NOT_REGISTERED => (
            "O número não está registrado na Cloud API do WhatsApp.",
            "Registre o número na Cloud API (Gerenciador do WhatsApp) e salve de novo aqui.",
        ),
        _ => return None,
    })
}

#[derive(Deserialize)]
pub struct WhatsappForm {
    #[serde(default)]
    phone_number_id: String,
    #[serde(default)]
    waba_id: String,
    #[serde(default)]
    display: String,
    #[serde(default)]
    token: String,
}

/// The token is encrypted before it touches the database and never sent back to a browser;
/// an empty field keeps the stored one.
pub async fn save(
    State(state): State<AppState>,
    me: Me,
    Form(f): Form<WhatsappForm>,
) -> Result<Response, AppError> {
    let digits = |s: &str| s.trim().to_string();
    let (pnid, waba, display) = (
        digits(&f.phone_number_id),
        digits(&f.waba_id),
        f.display.trim().to_string(),
    );
    let mut errors = Vec::new();
    if pnid.is_empty() || pnid.len() > 32 || !pnid.bytes().all(|b| b.is_ascii_digit()) {
        errors.push("Phone number ID: só números, como aparece no painel da Meta".to_string());
    } else if store::channels::is_test_pnid(&pnid) {
        // Meta's ids never start with 0; those are the stores' test channels (docs/onboarding.md).
        errors
            .push("Phone number ID: o da Meta não começa com 0; confira no painel da Meta".into());
    }
    if !waba.is_empty() && (waba.len() > 32 || !waba.bytes().all(|b| b.is_ascii_digit())) {
        errors.push("WABA ID: só números".into());
    }
    if display.chars().count() > 30 {
        errors.push("Número exibido: até 30 caracteres".into());
    }
    let token = f.token.trim().to_string();
    if token.len() > 1024 || token.contains(char::is_whitespace) {
        errors.push("Token de acesso inválido".into());
    }
    if !errors.is_empty() {
        return WhatsappPage::refuse(&state, &me, errors).await;
    }
    let enc = (!token.is_empty()).then(|| state.cipher.encrypt(&token));
    let write = ChannelWrite {
        action: "whatsapp.update",
        phone_number_id: pnid,
        waba_id: waba,
        display,
        token_enc: enc,
        extra: serde_json::Value::Null,
    };
    write_channel(&state, &me, write, "/whatsapp?ok=salvo").await
}

/// What a connection writes: the manual form and Embedded Signup store a channel the same way.
pub(super) struct ChannelWrite {
    pub action: &'static str,
    pub phone_number_id: String,
    pub waba_id: String,
    pub display: String,
    /// The new token, already encrypted; None keeps the stored one.
    pub token_enc: Option<String>,
    /// Added to the audit entry's `after` (e.g. Meta's verified name).
    pub extra: serde_json::Value,
}

/// Creates the store's channel or updates the one it has, in one audited transaction; the
/// audit log records that the token changed, never the token. Saving is also the owner's
/// "fixed it": a number flagged by an account-level error sends again, and the messages that
/// waited go out now (a new refusal flags it again).
pub(super) async fn write_channel(
    state: &AppState,
    me: &Me,
    w: ChannelWrite,
    done: &str,
) -> Result<Response, AppError> {
    let existing = store::channels::for_tenant(&state.db, &me.tenant.id)
        .await?
        .into_iter()
        .next();
    let version = state.cipher.current_key_id().as_i64();
    let before = existing.as_ref().map(|c| serde_json::json!({ "phone_number_id": c.phone_number_id, "waba_id": c.waba_id, "display": c.display_number }));
    let mut after = serde_json::json!({ "phone_number_id": w.phone_number_id, "waba_id": w.waba_id, "display": w.display, "token_changed": w.token_enc.is_some() });
    if let serde_json::Value::Object(extra) = &w.extra {
        for (k, v) in extra {
            after[k] = v.clone();
        }
    }
    let mut change = Change::new(w.action, "channel").before(before).after(after);
    if let Some(c) = &existing {
        change = change.of(&c.id);
    }
    let ChannelWrite {
        phone_number_id: pnid,
        waba_id: waba,
        display,
        token_enc: enc,
        ..
    } = w;
    change
        .save_then::<WhatsappPage, _>(state, me, done, move |c, t| {
            Box::pin(async move {
                match existing {
                    Some(ch) => {
                        store::channels::update_ids(c, &t, &ch.id, &pnid, &waba, &display).await?;
                        if let Some(enc) = enc {
                            store::channels::set_token(c, &t, &ch.id, &enc, version).await?;
                        }
                        if ch.last_error_code.is_some() {
                            store::channels::clear_error(c, &t, &ch.id).await?;
                            store::jobs::wake(c, &t, worker::SEND_JOB).await?;
                        }
                    }
                    None => {
                        store::channels::create(
                            c,
                            &t,
                            &pnid,
                            &waba,
                            &display,
                            enc.as_deref(),
                            version,
                        )
                        .await?;
                    }
                }
                Ok(())
            })
        })
        .await
}

#[derive(Deserialize)]
pub struct TestSendForm {
    #[serde(default)]
    phone: String,
}

pub const TEST_MESSAGE: &str =
    "Teste do OrçaZap: este número está conectado e pronto para responder orçamentos. ✅";

/// Sends a test text through the same outbound queue and worker as the bot; it shows up in
/// the inbox with its delivery ticks (or Meta's error), which is the proof the connection
/// works. Meta only delivers free text inside the 24 h window, so the page asks the owner
/// to message the store's number first.
pub async fn test_send(
    State(state): State<AppState>,
    me: Me,
    Form(f): Form<TestSendForm>,
) -> Result<Response, AppError> {
    let digits: String = f.phone.chars().filter(|c| c.is_ascii_digit()).collect();
    let wa = match domain::ids::WaId::parse(&digits) {
        Ok(w) => w,
        Err(e) => return WhatsappPage::refuse(&state, &me, vec![format!("Número: {e}")]).await,
    };
    let Some(ch) = store::channels::for_tenant(&state.db, &me.tenant.id)
        .await?
        .into_iter()
        .next()
    else {
        let errors = vec!["Conecte um número antes de testar.".into()];
        return WhatsappPage::refuse(&state, &me, errors).await;
    };
    let engine = state.db.engine();
    let (to, user_id, rid) = (
        wa.as_str().to_string(),
        me.user.id.clone(),
        me.request_id.clone(),
    );
    let after = serde_json::json!({ "to": wa.masked() });
    let conv_id = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let conv_out = conv_id.clone();
    Change::new("whatsapp.test_send", "channel")
        .of(&ch.id)
        .after(after)
        .save(&state, &me, move |c, t| {
            Box::pin(async move {
                let contact = store::conversations::contact_for_number(c, &t, &to).await?;
                let conv = store::conversations::open_for_contact(c, &t, &contact, &ch.id).await?;
                let target = worker::outbound::Target {
                    engine,
                    tenant_id: &t,
                    conversation_id: &conv,
                    contact_id: &contact,
                    request_id: Some(&rid),
                    due_at: None,
                };
                let payload = worker::outbound::Payload::Text {
                    to: to.clone(),
                    body: TEST_MESSAGE.to_string(),
                };
                worker::outbound::queue(c, &target, &payload, Some(&user_id)).await?;
                if let Ok(mut g) = conv_out.lock() {
                    *g = conv;
                }
                Ok(())
            })
        })
        .await?;
    state.wake.notify_one();
    let conv = conv_id.lock().map(|g| g.clone()).unwrap_or_default();
    Ok(Redirect::to(&format!("/conversas/{conv}?ok=enviada")).into_response())
}
