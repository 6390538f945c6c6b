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
        "orcamento" => "Orçamento montado e enviado ao cliente.",
        "montado" => "Orçamento montado. Ele precisa de aprovação antes de ir ao cliente: veja os motivos abaixo.",
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

/// How long someone has waited, as a person says it: "há 12 min", "há 2 h 05 min",
/// "há 3 dias".
pub fn waited(since_ms: i64, now_ms: i64) -> String {
    let mins = (now_ms - since_ms).max(0) / 60_000;
    match mins {
        0 => "há menos de 1 min".into(),
        1..=59 => format!("há {mins} min"),
        60..=1439 if mins % 60 == 0 => format!("há {} h", mins / 60),
        60..=1439 => format!("há {} h {:02} min", mins / 60, mins % 60),
        1440..=2879 => "há 1 dia".into(),
        _ => format!("há {} dias", mins / 1440),
    }
}

pub fn page(me: &Me, name: &str, nav: &str, ctx: Value) -> Result<Html<String>, AppError> {
    crate::render::page(
        name,
        context! {
            me => context! { name => me.user.name.clone(), email => me.user.email.clone(), role => me.user.role.label_pt(), is_owner => me.is_owner() },
            store => context! { name => me.tenant.name.clone(), slug => me.tenant.slug.clone() },
            csrf => me.session.csrf_token.clone(),
            waiting_for_person => me.waiting_for_person,
            nav => nav,
            ..ctx
        },
    )
}

#[cfg(test)]
mod tests {
    use super::waited;

    #[test]
    fn waiting_time_reads_like_a_person_says_it() {
        let m = 60_000;
        assert_eq!(waited(0, 30_000), "há menos de 1 min");
        assert_eq!(waited(0, 12 * m), "há 12 min");
        assert_eq!(waited(0, 60 * m), "há 1 h");
        assert_eq!(waited(0, 125 * m), "há 2 h 05 min");
        assert_eq!(waited(0, 25 * 60 * m), "há 1 dia");
        assert_eq!(waited(0, 73 * 60 * m), "há 3 dias");
        assert_eq!(
            waited(10 * m, 0),
            "há menos de 1 min",
            "clock skew is not negative"
        );
    }
}
