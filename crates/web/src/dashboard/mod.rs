//! The store dashboard on `{slug}.BASE`: sign-in, the day's work (approvals, conversations,
//! quotes) and the owner's settings (catalog, rules, freight, templates, team, WhatsApp).
//!
//! Every route sits behind [`security::guard`] (store from host, rate limits, session,
//! Origin + CSRF on writes); pages behind [`security::require_login`]; settings that change
//! prices or who can do what behind [`security::require_owner`].

pub mod approvals;
pub mod billing;
pub mod catalog;
mod catalog_file;
mod catalog_sheet;
pub mod change;
pub mod conversations;
pub mod freight;
pub mod hand_quote;
pub mod handoff;
pub mod login;
pub mod meta_templates;
pub mod onboarding;
pub mod orders;
pub mod overview;
pub mod quick_replies;
pub mod quotes;
pub mod ratelimit;
pub mod rules;
pub mod security;
pub mod team;
pub mod templates;
pub mod test_chat;
mod user_agent;
pub mod view;
pub mod whatsapp;
pub mod whatsapp_signup;
mod window;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post};
use axum::Router;

use crate::account;
use crate::error::AppError;
use crate::state::AppState;
use security::DashState;
use worker::actions::ActionError;

pub fn routes(state: &AppState) -> Router<AppState> {
    let ds = DashState {
        app: state.clone(),
        limiter: Arc::new(ratelimit::RateLimiter::default()),
    };
    let owner = Router::new()
        .route("/catalogo/itens", post(catalog::save_item))
        .route("/catalogo/{id}/ativo", post(catalog::toggle_active))
        .route("/catalogo/importar", post(catalog::import_csv))
        .route("/catalogo/lista-tipica", post(onboarding::typical::start))
        .route(
            "/loja",
            get(onboarding::store_page).post(onboarding::save_store),
        )
        .route("/frete/previa", get(freight::preview))
        .route("/simulador", get(test_chat::page))
        .route("/simulador/send", post(test_chat::send))
        .route("/simulador/messages", get(test_chat::messages))
        .route("/simulador/conversa", get(test_chat::conversation))
        .route(
            "/regras",
            get(change::page::<rules::RulesPage>).post(rules::save),
        )
        .route("/regras/volume", post(rules::add_volume))
        .route(
            "/regras/limite-atendente",
            post(rules::save_attendant_limit),
        )
        .route("/regras/pdf-orcamento", post(rules::save_quote_pdf))
        .route("/regras/link-orcamento", post(rules::save_quote_link))
        .route("/regras/dados-nota", post(rules::save_invoice_data))
        .route("/regras/pagamentos-meta", post(rules::save_meta_payments))
        .route("/regras/lembretes", post(rules::save_follow_ups))
        .route("/regras/volume/{id}/excluir", post(rules::delete_volume))
        .route(
            "/frete",
            get(change::page::<freight::FreightPage>).post(freight::add),
        )
        .route("/frete/{id}", get(freight::edit_page).post(freight::update))
        .route("/frete/{id}/excluir", post(freight::delete))
        .route("/frete/{id}/posicao", post(freight::reorder))
        .route("/modelos", get(templates::list))
        .route(
            "/modelos/{kind}",
            get(templates::editor_page).post(templates::save),
        )
        .route("/modelos/{kind}/previa", post(templates::preview))
        .route("/equipe", get(change::page::<team::TeamPage>))
        .route("/equipe/convidar", post(team::invite))
        .route("/equipe/{id}/papel", post(team::set_role))
        .route("/equipe/sessoes/{id}/encerrar", post(team::revoke_session))
        .route("/equipe/convites/{id}/revogar", post(team::revoke_invite))
        .route(
            "/whatsapp",
            get(change::page::<whatsapp::WhatsappPage>).post(whatsapp::save),
        )
        .route("/whatsapp/teste", post(whatsapp::test_send))
        .route("/whatsapp/conectar", post(whatsapp_signup::connect))
        .route(
            "/respostas",
            get(change::page::<quick_replies::QuickRepliesPage>).post(quick_replies::add),
        )
        .route("/respostas/{id}", post(quick_replies::update))
        .route("/respostas/{id}/excluir", post(quick_replies::delete))
        .route("/modelos-whatsapp/novo", post(meta_templates::create))
        .route("/modelos-whatsapp/atualizar", post(meta_templates::refresh))
        .route("/assinatura", get(billing::page))
        .route("/assinatura/assinar", post(billing::subscribe))
        .route("/assinatura/portal", post(billing::portal))
        .route_layer(middleware::from_fn(security::require_owner));
    let member = Router::new()
        .route("/", get(overview::page))
        .route("/resumo", get(overview::tiles))
        .route("/aprovacoes", get(approvals::list))
        .route("/aprovacoes/{id}", get(approvals::detail))
        .route("/aprovacoes/{id}/aprovar", post(approvals::approve))
        .route("/aprovacoes/{id}/rejeitar", post(approvals::reject))
        .route("/aprovacoes/{id}/editar", post(approvals::edit_lines))
        .route("/conversas", get(conversations::list))
        .route("/conversas/lista", get(conversations::list_rows))
        .route("/conversas/{id}", get(conversations::conversation))
        .route("/conversas/{id}/mensagens", get(conversations::transcript))
        .route(
            "/conversas/{id}/midia/{file}",
            get(conversations::media_file),
        )
        .route("/conversas/{id}/assumir", post(conversations::take_over))
        .route("/conversas/{id}/devolver", post(conversations::hand_back))
        .route("/conversas/{id}/atribuir", post(conversations::assign))
        .route("/conversas/{id}/soltar", post(conversations::release))
        .route("/conversas/{id}/responder", post(conversations::reply))
        .route("/conversas/{id}/modelo", post(conversations::send_template))
        .route(
            "/conversas/{id}/reativar-mensagens",
            post(conversations::opt_back_in),
        )
        .route(
            "/conversas/{id}/orcamento",
            get(hand_quote::page).post(hand_quote::build),
        )
        .route(
            "/modelos-whatsapp",
            get(change::page::<meta_templates::MetaTemplatesPage>),
        )
        .route("/pedidos", get(orders::list))
        .route("/pedidos/{id}/pago", post(orders::mark_paid))
        .route("/pedidos/{id}/entregue", post(orders::mark_delivered))
        .route("/orcamentos", get(quotes::list))
        .route("/orcamentos/{id}", get(quotes::detail))
        .route("/catalogo", get(catalog::page))
        .route("/catalogo/exportar.csv", get(catalog::export_csv))
        .route("/catalogo/modelo.csv", get(catalog::model_csv))
        .route(
            "/conta/senha",
            get(login::password_page).post(login::change_password),
        )
        .route("/conta/email/reenviar", post(account::verify::resend))
        .route("/conta/seguranca", get(account::two_factor::page))
        .route("/conta/seguranca/ativar", post(account::two_factor::start))
        .route(
            "/conta/seguranca/confirmar",
            post(account::two_factor::confirm),
        )
        .route(
            "/conta/seguranca/codigos",
            post(account::two_factor::new_codes),
        )
        .route(
            "/conta/seguranca/desativar",
            post(account::two_factor::disable),
        )
        .route(
            "/conta/seguranca/exigir",
            post(account::two_factor::require),
        )
        .merge(owner)
        // Inside require_login: a store that requires two-factor keeps members without it on
        // /conta/seguranca until they turn it on.
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            account::two_factor::enforce,
        ))
        .route_layer(middleware::from_fn(security::require_login));
    let public = Router::new()
        .route("/login", get(login::login_page).post(login::login))
        .route("/login/handoff", get(handoff::handoff))
        .route("/login/handoff/concluir", get(handoff::finish))
        .route("/logout", get(login::logout_page).post(login::logout))
        // Single-use links from e-mails and the second sign-in step (crate::account).
        .route(
            "/login/esqueci",
            get(account::reset::forgot_page).post(account::reset::forgot),
        )
        .route(
            "/login/redefinir",
            get(account::reset::reset_page).post(account::reset::reset),
        )
        .route(
            "/login/convite",
            get(account::invite::page).post(account::invite::accept),
        )
        .route(
            "/login/confirmar-email",
            get(account::verify::page).post(account::verify::confirm),
        )
        .route(
            "/login/2fa",
            get(account::two_factor::login_page).post(account::two_factor::login),
        );
    member
        .merge(public)
        .layer(DefaultBodyLimit::max(state.cfg.form_body_limit))
        .layer(middleware::from_fn_with_state(ds, security::guard))
}

/// The worker's refusals as pages: a decided approval or a closed conversation is a conflict.
fn action_err(e: ActionError) -> AppError {
    AppError::from(e)
}
