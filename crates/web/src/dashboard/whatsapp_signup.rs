//! `/whatsapp` without copying ids (issue 17 item 2): Meta's Embedded Signup and the
//! connection's health.
//!
//! The page's "Conectar com o Facebook" button (shown only when the instance has
//! [`EmbeddedSignup`] settings) runs Meta's popup through the Facebook JS SDK
//! (`static/whatsapp_signup.js`: `FB.login` with the configuration id, `response_type: code`,
//! and the `WA_EMBEDDED_SIGNUP` message that names the WABA and the number). The browser then
//! posts the code, both ids and the PIN the owner typed to [`connect`] (a normal dashboard
//! form: session, owner, CSRF token), which does the four Graph calls server to server
//! (`whatsapp::graph::GraphClient::exchange_code`, `subscribe_app`, `register_number`,
//! `phone_number_info`) and only then stores the channel exactly as the manual form does
//! (token encrypted, audited). A failed step stores nothing and says, in pt-BR, what happened
//! and what to do; the code works once, so trying again means opening the popup again (Meta's
//! side is idempotent: subscribing twice or registering with the same PIN is fine).
//!
//! [`health`]: token valid (`GET /{phone_number_id}`, the cheapest call that needs the
//! token), webhook receiving (the last `webhook_events` row of the channel), quality rating.

use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;
use axum::Form;
use minijinja::{context, Value};
use secrecy::SecretString;
use serde::Deserialize;
use whatsapp::graph::{codes, signup_codes, AccountError};

use super::change::FormPage;
use super::security::Me;
use super::view;
use super::whatsapp::{write_channel, ChannelWrite, WhatsappPage};
use crate::error::AppError;
use crate::state::AppState;

/// The Meta app's Embedded Signup settings (the app secret is `ORCAZAP_WHATSAPP_APP_SECRET`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedSignup {
    /// `ORCAZAP_META_APP_ID`: the app id at the top of the App Dashboard.
    pub app_id: String,
    /// `ORCAZAP_META_CONFIG_ID`: the Facebook Login for Business configuration made from the
    /// "WhatsApp Embedded Signup" template.
    pub config_id: String,
    /// The JS SDK's Graph version (`ORCAZAP_WHATSAPP_API_VERSION`).
    pub sdk_version: String,
}

/// How long the page waits for Meta's answer before showing "não verificado".
const HEALTH_TIMEOUT: Duration = Duration::from_secs(4);

/// The page's policy when the button is shown: the Facebook JS SDK's script, its frames and
/// calls. The popup talks back to the page with `postMessage`, which needs the opener kept:
/// `Cross-Origin-Opener-Policy: same-origin-allow-popups` instead of the usual `same-origin`.
const SIGNUP_CSP: &str = "default-src 'self'; script-src 'self' https://connect.facebook.net; style-src 'self'; img-src 'self' data: https://*.facebook.com; connect-src 'self' https://*.facebook.com; frame-src https://*.facebook.com; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// What the template needs for the button, or None when the instance is not configured for it
/// (and then the page has no Facebook script at all).
pub fn button(state: &AppState) -> Option<Value> {
    let es = enabled(state)?;
    Some(context! { app_id => es.app_id, config_id => es.config_id, version => es.sdk_version })
}

fn enabled(state: &AppState) -> Option<&EmbeddedSignup> {
    let es = state.cfg.embedded_signup.as_ref()?;
    (state.cfg.graph.is_some() && state.cfg.whatsapp_app_secret.is_some()).then_some(es)
}

/// The page's headers when it loads the Facebook SDK.
pub fn with_headers(state: &AppState, mut resp: Response) -> Response {
    if enabled(state).is_some() {
        let h = resp.headers_mut();
        h.insert(
            axum::http::header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(SIGNUP_CSP),
        );
        h.insert(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin-allow-popups"),
        );
    }
    resp
}

#[derive(Deserialize)]
pub struct ConnectForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    waba_id: String,
    #[serde(default)]
    phone_number_id: String,
    #[serde(default)]
    pin: String,
}

fn is_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 32 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Which Graph call failed.
#[derive(Debug, Clone, Copy)]
enum Step {
    Exchange,
    Subscribe,
    Register,
    Read,
}

impl Step {
    fn label(self) -> &'static str {
        match self {
            Step::Exchange => "exchange_code",
            Step::Subscribe => "subscribed_apps",
            Step::Register => "register",
            Step::Read => "phone_number",
        }
    }
}

const AGAIN: &str =
    "Nada foi salvo. Clique de novo em “Conectar com o Facebook” para tentar outra vez.";

/// What the owner reads when a step fails: what happened, in their words, and what to do.
fn failure_message(step: Step, e: &AccountError) -> String {
    if e.transient {
        return format!(
            "A Meta não respondeu agora (falha temporária). {AGAIN} Se continuar, espere alguns minutos."
        );
    }
    let meta = |what: &str| match e.code {
        Some(c) => format!("{what} (código {c} da Meta). {AGAIN}"),
        None => format!("{what}. {AGAIN}"),
    };
    match (step, e.code, e.subcode) {
        (Step::Exchange, Some(signup_codes::INVALID_PARAMETER), Some(signup_codes::CODE_USED)) => {
            format!("O código de autorização do Facebook já foi usado. {AGAIN}")
        }
        (Step::Exchange, Some(signup_codes::INVALID_PARAMETER), Some(signup_codes::CODE_EXPIRED)) => {
            format!("O código de autorização do Facebook expirou (ele vale poucos minutos). {AGAIN}")
        }
        (Step::Exchange, Some(signup_codes::INVALID_PARAMETER), _) => format!(
            "O Facebook não aceitou o código de autorização (inválido ou expirado). {AGAIN}"
        ),
        (Step::Exchange, Some(signup_codes::CLIENT_SECRET), _) => {
            "A Meta recusou as credenciais do aplicativo do OrçaZap. Nada foi salvo. Avise o suporte \
             do OrçaZap; enquanto isso, conecte pelo formulário manual abaixo."
                .into()
        }
        (Step::Exchange, _, _) => meta("A Meta não trocou o código de autorização por um token"),
        (Step::Subscribe, _, _) => meta(
            "A Meta não deixou o OrçaZap receber as mensagens da sua conta do WhatsApp Business \
             (inscrição do app na conta)",
        ),
        (Step::Register, Some(signup_codes::PIN_MISMATCH), _) => format!(
            "Este número já tem verificação em duas etapas com outro PIN. Digite o PIN atual do \
             número (ou redefina-o no Gerenciador do WhatsApp, em Configurações do número). {AGAIN}"
        ),
        (Step::Register, Some(signup_codes::REGISTER_LIMIT), _) => {
            "A Meta bloqueou novos registros deste número por 72 horas (limite de 10 tentativas). \
             Nada foi salvo. Tente de novo depois desse prazo."
                .into()
        }
        (Step::Register, _, _) => meta("A Meta não registrou o número na API do WhatsApp"),
        (Step::Read, _, _) => meta("A Meta não informou os dados do número"),
    }
}

/// `POST /whatsapp/conectar` (owner, CSRF): the popup's result becomes the store's channel.
pub async fn connect(
    State(state): State<AppState>,
    me: Me,
    Form(f): Form<ConnectForm>,
) -> Result<Response, AppError> {
    let (Some(es), Some(graph), Some(secret)) = (
        enabled(&state).cloned(),
        state.cfg.graph.clone(),
        state.cfg.whatsapp_app_secret.clone(),
    ) else {
        let errors = vec![
            "A conexão pelo Facebook não está ativada nesta instalação. Use o formulário abaixo."
                .into(),
        ];
        return WhatsappPage::refuse(&state, &me, errors).await;
    };
    let (code, waba, pnid, pin) = (
        f.code.trim().to_string(),
        f.waba_id.trim().to_string(),
        f.phone_number_id.trim().to_string(),
        f.pin.trim().to_string(),
    );
    let mut errors = Vec::new();
    if code.is_empty() || code.len() > 2048 || code.contains(char::is_whitespace) {
        errors.push(
            "O Facebook não devolveu o código de autorização: conclua a janela do Facebook até o fim."
                .to_string(),
        );
    }
    if !is_id(&waba) || !is_id(&pnid) {
        errors.push(
            "O Facebook não informou a conta e o número escolhidos: conclua a janela do Facebook \
             escolhendo um número."
                .into(),
        );
    } else if store::channels::is_test_pnid(&pnid) {
        errors.push("Número inválido: o ID da Meta não começa com 0.".into());
    }
    if pin.len() != 6 || !pin.bytes().all(|b| b.is_ascii_digit()) {
        errors.push("PIN: digite os 6 números do PIN de verificação em duas etapas.".into());
    }
    if !errors.is_empty() {
        return WhatsappPage::refuse(&state, &me, errors).await;
    }
    let fail = |step: Step, e: AccountError| {
        tracing::warn!(
            step = step.label(),
            status = e.status,
            code = e.code,
            subcode = e.subcode,
            error = %e.message,
            waba_id = %waba,
            phone_number_id = %pnid,
            "Embedded Signup step failed; nothing stored"
        );
        vec![failure_message(step, &e)]
    };
    let token: SecretString = match graph.exchange_code(&es.app_id, &secret, &code).await {
        Ok(t) => t,
        Err(e) => return WhatsappPage::refuse(&state, &me, fail(Step::Exchange, e)).await,
    };
    if let Err(e) = graph.subscribe_app(&waba, &token).await {
        return WhatsappPage::refuse(&state, &me, fail(Step::Subscribe, e)).await;
    }
    if let Err(e) = graph.register_number(&pnid, &token, &pin).await {
        return WhatsappPage::refuse(&state, &me, fail(Step::Register, e)).await;
    }
    let info = match graph.phone_number_info(&pnid, &token).await {
        Ok(i) => i,
        Err(e) => return WhatsappPage::refuse(&state, &me, fail(Step::Read, e)).await,
    };
    let display: String = info.display_phone_number.chars().take(30).collect();
    let verified_name: String = info.verified_name.chars().take(200).collect();
    let write = ChannelWrite {
        action: "whatsapp.embedded_signup",
        phone_number_id: pnid,
        waba_id: waba,
        display,
        token_enc: Some(
            state
                .cipher
                .encrypt(secrecy::ExposeSecret::expose_secret(&token)),
        ),
        extra: serde_json::json!({ "verified_name": verified_name, "via": "embedded_signup" }),
    };
    write_channel(&state, &me, write, "/whatsapp?ok=conectado").await
}

/// The connection's health as the page shows it (pt-BR): each line a label, a state
/// (`ok`, `warn`, `bad`) and what to do.
pub async fn health(
    state: &AppState,
    me: &Me,
    ch: &store::channels::Channel,
) -> Result<Value, AppError> {
    let now = store::db::now_ms();
    let clock = view::clock(me);
    let last = store::webhook_events::last_for_channel(&state.db, &me.tenant.id, &ch.id).await?;
    let webhook = match last {
        Some(at) => context! {
            state => if now - at > 7 * 86_400_000 { "warn" } else { "ok" },
            text => format!("Último recebido: {} ({})", view::ago(at, now, &clock), clock.datetime_br(at)),
            todo => "",
        },
        None => context! {
            state => "warn",
            text => "Nenhum webhook recebido deste número ainda.",
            todo => "Mande um “oi” do seu celular para o número da loja. Se nada chegar em um minuto, \
                     confira no app da Meta a URL de callback e a assinatura do campo “messages”.",
        },
    };
    let (token, quality) = token_and_quality(state, ch).await;
    Ok(context! { token => token, webhook => webhook, quality => quality })
}

fn line(state: &str, text: &str, todo: &str) -> Value {
    context! { state => state, text => text, todo => todo }
}

/// Meta's quality rating in the store's words.
pub fn quality_line(rating: &str) -> Value {
    match rating.to_ascii_uppercase().as_str() {
        "GREEN" => line("ok", "Alta (verde)", ""),
        "YELLOW" => line(
            "warn",
            "Média (amarela)",
            "Clientes bloquearam ou denunciaram mensagens recentes: evite mensagens que não foram pedidas.",
        ),
        "RED" => line(
            "bad",
            "Baixa (vermelha)",
            "A Meta pode limitar ou suspender o número: veja os detalhes no Gerenciador do WhatsApp.",
        ),
        _ => line("warn", "Ainda sem avaliação da Meta", ""),
    }
}

async fn token_and_quality(state: &AppState, ch: &store::channels::Channel) -> (Value, Value) {
    let unknown_quality = || line("warn", "Não verificada", "");
    let Some(enc) = &ch.access_token_enc else {
        return (
            line(
                "bad",
                "Não configurado",
                "Conecte pelo Facebook ou cole um token abaixo.",
            ),
            unknown_quality(),
        );
    };
    let Some(graph) = &state.cfg.graph else {
        return (
            line("warn", "Não verificado nesta instalação", ""),
            unknown_quality(),
        );
    };
    let token = match state.cipher.decrypt(enc) {
        Ok(t) => SecretString::from(t),
        Err(_) => {
            return (
                line(
                    "bad",
                    "O token guardado não pode ser lido",
                    "Conecte de novo pelo Facebook ou cole o token outra vez.",
                ),
                unknown_quality(),
            )
        }
    };
    let answer = tokio::time::timeout(
        HEALTH_TIMEOUT,
        graph.phone_number_info(&ch.phone_number_id, &token),
    )
    .await;
    match answer {
        Ok(Ok(info)) => (line("ok", "Válido", ""), quality_line(&info.quality_rating)),
        Ok(Err(e)) if e.is_invalid_token() => (
            line(
                "bad",
                "Inválido ou expirado",
                "Conecte de novo pelo Facebook ou gere um token novo no Meta Business e cole abaixo.",
            ),
            unknown_quality(),
        ),
        Ok(Err(e)) if matches!(e.code, Some(codes::PERMISSION_DENIED | codes::API_PERMISSION)) => (
            line(
                "bad",
                "Sem permissão para este número",
                "Confira as permissões do app no Meta Business ou conecte de novo pelo Facebook.",
            ),
            unknown_quality(),
        ),
        Ok(Err(e)) if e.subcode == Some(signup_codes::UNKNOWN_OBJECT) => (
            line(
                "bad",
                "A Meta não encontrou este número com este token",
                "Confira o Phone number ID abaixo ou conecte de novo pelo Facebook.",
            ),
            unknown_quality(),
        ),
        Ok(Err(e)) => {
            tracing::info!(code = e.code, status = e.status, error = %e.message, "WhatsApp health check failed");
            (
                line(
                    "warn",
                    "Não verificado agora: a Meta não respondeu como esperado",
                    "Recarregue a página em alguns minutos.",
                ),
                unknown_quality(),
            )
        }
        Err(_) => (
            line(
                "warn",
                "Não verificado agora: a Meta demorou a responder",
                "Recarregue a página em alguns minutos.",
            ),
            unknown_quality(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: Option<i64>, subcode: Option<i64>, transient: bool) -> AccountError {
        AccountError {
            status: 400,
            code,
            subcode,
            transient,
            message: "x".into(),
        }
    }

    #[test]
    fn each_failure_says_what_happened_and_that_nothing_was_saved() {
        let used = failure_message(Step::Exchange, &err(Some(100), Some(36009), false));
        assert!(
            used.contains("já foi usado") && used.contains("Nada foi salvo"),
            "{used}"
        );
        let bad = failure_message(Step::Exchange, &err(Some(100), None, false));
        assert!(bad.contains("não aceitou o código"), "{bad}");
        let app = failure_message(Step::Exchange, &err(Some(1), None, false));
        assert!(app.contains("credenciais do aplicativo"), "{app}");
        let sub = failure_message(Step::Subscribe, &err(Some(100), Some(33), false));
        assert!(
            sub.contains("inscrição") && sub.contains("código 100"),
            "{sub}"
        );
        let pin = failure_message(Step::Register, &err(Some(133005), None, false));
        assert!(pin.contains("PIN atual"), "{pin}");
        let limit = failure_message(Step::Register, &err(Some(133016), None, false));
        assert!(limit.contains("72 horas"), "{limit}");
        let temp = failure_message(Step::Register, &err(Some(2), None, true));
        assert!(
            temp.contains("temporária") && temp.contains("Nada foi salvo"),
            "{temp}"
        );
    }

    #[test]
    fn quality_ratings_in_the_stores_words() {
        for (rating, text) in [
            ("GREEN", "Alta (verde)"),
            ("YELLOW", "Média (amarela)"),
            ("RED", "Baixa (vermelha)"),
            ("UNKNOWN", "Ainda sem avaliação da Meta"),
            ("NA", "Ainda sem avaliação da Meta"),
        ] {
            let v = quality_line(rating);
            assert_eq!(v.get_attr("text").unwrap().as_str(), Some(text), "{rating}");
        }
    }
}
