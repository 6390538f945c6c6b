//! Rendering dashboard pages: the layout's common data, dates and money for people.

use axum::response::Html;
use domain::clock::StoreClock;
use minijinja::{context, Value};
use serde::Deserialize;

use super::security::Me;
use crate::error::AppError;

/// The store's clock: every date and time a dashboard page shows is in the store's configured
/// time zone, the one the bot writes validity dates in (`worker::tenant_ctx`).
pub fn clock(me: &Me) -> StoreClock {
    StoreClock::of(&me.tenant.timezone)
}

pub fn brl(cents: i64) -> String {
    domain::money::Centavos(cents).to_brl()
}

/// `?ok=…`, the code of the notice a redirect asks the next page to show.
#[derive(Deserialize, Default)]
pub struct Notice {
    pub ok: Option<String>,
}

/// Fixed notices for `?ok=…` after a redirect: the code picks a sentence, so nothing a
/// link carries is ever shown.
pub fn notice(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "aprovado" => "Orçamento aprovado e enviado ao cliente.",
        "rejeitado" => "Orçamento rejeitado.",
        "editado" => "Itens atualizados e valores recalculados.",
        "salvo" => "Alterações salvas.",
        "importado" => "Catálogo importado.",
        "senha" => "Senha alterada. As outras sessões foram encerradas.",
        "assumida" => "Você assumiu a conversa: o robô não responde mais até você devolver.",
        "devolvida" => "Conversa devolvida ao robô.",
        "enviada" => "Mensagem enviada.",
        "encerrada" => "Sessão encerrada.",
        _ => return None,
    })
}

pub fn page(me: &Me, name: &str, nav: &str, ctx: Value) -> Result<Html<String>, AppError> {
    crate::render::page(
        name,
        context! {
            me => context! { name => me.user.name.clone(), email => me.user.email.clone(), role => me.user.role.label_pt(), is_owner => me.is_owner() },
            store => context! { name => me.tenant.name.clone(), slug => me.tenant.slug.clone() },
            csrf => me.session.csrf_token.clone(),
            nav => nav,
            ..ctx
        },
    )
}
