//! The store dashboard on `{slug}.BASE`: sign-in, the day's work (approvals, conversations,
//! quotes) and the owner's settings (catalog, rules, freight, templates, team, WhatsApp).
//!
//! Every route sits behind [`security::guard`] (store from host, rate limits, session,
//! Origin + CSRF on writes); pages behind [`security::require_login`]; settings that change
//! prices or who can do what behind [`security::require_owner`].

pub mod catalog;
pub mod handoff;
pub mod login;
pub mod pages;
pub mod ratelimit;
pub mod security;
pub mod settings;
pub mod view;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;
use security::DashState;

pub fn routes(state: &AppState) -> Router<AppState> {
    let ds = DashState {
        app: state.clone(),
        limiter: Arc::new(ratelimit::RateLimiter::default()),
    };
    let owner = Router::new()
        .route("/catalogo/itens", post(catalog::save_item))
        .route("/catalogo/{id}/ativo", post(catalog::toggle_active))
        .route("/catalogo/importar", post(catalog::import_csv))
        .route(
            "/regras",
            get(settings::rules_page).post(settings::save_rules),
        )
        .route("/regras/volume", post(settings::add_volume))
        .route("/regras/volume/{id}/excluir", post(settings::delete_volume))
        .route(
            "/frete",
            get(settings::freight_page).post(settings::add_freight),
        )
        .route("/frete/{id}/excluir", post(settings::delete_freight))
        .route("/frete/{id}/posicao", post(settings::move_freight))
        .route("/modelos", get(settings::templates_page))
        .route(
            "/modelos/{kind}",
            get(settings::template_editor).post(settings::save_template),
        )
        .route("/modelos/{kind}/previa", post(settings::preview_template))
        .route("/equipe", get(settings::team_page))
        .route("/equipe/convidar", post(settings::invite))
        .route("/equipe/{id}/papel", post(settings::set_role))
        .route(
            "/equipe/sessoes/{id}/encerrar",
            post(settings::revoke_session),
        )
        .route(
            "/whatsapp",
            get(settings::whatsapp_page).post(settings::save_whatsapp),
        )
        .route("/whatsapp/teste", post(settings::test_send))
        .route_layer(middleware::from_fn(security::require_owner));
    let member = Router::new()
        .route("/", get(pages::overview))
        .route("/aprovacoes", get(pages::approvals))
        .route("/aprovacoes/{id}", get(pages::approval_detail))
        .route("/aprovacoes/{id}/aprovar", post(pages::approve))
        .route("/aprovacoes/{id}/rejeitar", post(pages::reject))
        .route("/aprovacoes/{id}/editar", post(pages::edit_lines))
        .route("/conversas", get(pages::inbox))
        .route("/conversas/{id}", get(pages::conversation))
        .route("/conversas/{id}/mensagens", get(pages::transcript))
        .route("/conversas/{id}/assumir", post(pages::take_over))
        .route("/conversas/{id}/devolver", post(pages::hand_back))
        .route("/conversas/{id}/responder", post(pages::reply))
        .route("/orcamentos", get(pages::quotes))
        .route("/orcamentos/{id}", get(pages::quote_detail))
        .route("/catalogo", get(catalog::page))
        .route("/catalogo/exportar.csv", get(catalog::export_csv))
        .route(
            "/conta/senha",
            get(login::password_page).post(login::change_password),
        )
        .merge(owner)
        .route_layer(middleware::from_fn(security::require_login));
    let public = Router::new()
        .route("/login", get(login::login_page).post(login::login))
        .route("/login/handoff", get(handoff::handoff))
        .route("/login/handoff/concluir", get(handoff::finish))
        .route("/logout", get(login::logout_page).post(login::logout));
    member
        .merge(public)
        .layer(DefaultBodyLimit::max(state.cfg.form_body_limit))
        .layer(middleware::from_fn_with_state(ds, security::guard))
}
