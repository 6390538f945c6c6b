//! Rendering dashboard pages: the layout's common data, dates and money for people.

use axum::response::Html;
use minijinja::{context, Value};
use serde::Deserialize;

use super::security::Me;
use crate::error::AppError;

/// Brazil has had no daylight saving time since 2019: São Paulo is UTC−3 all year.
const BRT_OFFSET_MS: i64 = 3 * 3600 * 1000;

fn local(ms: i64, fmt: &str) -> String {
    chrono::DateTime::from_timestamp_millis(ms - BRT_OFFSET_MS)
        .map(|d| d.format(fmt).to_string())
        .unwrap_or_default()
}

pub fn datetime_br(ms: i64) -> String {
    local(ms, "%d/%m/%Y %H:%M")
}

pub fn date_br(ms: i64) -> String {
    local(ms, "%d/%m/%Y")
}

/// Midnight today in São Paulo, as epoch ms.
pub fn start_of_today_ms(now_ms: i64) -> i64 {
    let day = 24 * 3600 * 1000;
    (now_ms - BRT_OFFSET_MS).div_euclid(day) * day + BRT_OFFSET_MS
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_sao_paulo() {
        // 2026-01-01T02:30Z is still 31/12/2025 in São Paulo.
        let ms = 1_767_234_600_000;
        assert_eq!(datetime_br(ms), "31/12/2025 23:30");
        let start = start_of_today_ms(ms);
        assert_eq!(datetime_br(start), "31/12/2025 00:00");
    }
}
