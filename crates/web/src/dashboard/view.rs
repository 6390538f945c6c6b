//! Rendering dashboard pages: the layout's common data, dates and money for people.

use axum::http::{header, HeaderName, HeaderValue};
use axum::response::{Html, IntoResponse, Response};
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
        "conectado" => "WhatsApp conectado pelo Facebook: o número está registrado e as mensagens dos clientes já chegam ao OrçaZap.",
        "importado" => "Catálogo importado.",
        "lista-tipica" => "Lista típica adicionada. Os preços são exemplos: revise cada um antes de atender clientes.",
        "senha" => "Senha alterada. As outras sessões foram encerradas.",
        "assumida" => "Você assumiu a conversa: o robô não responde mais até você devolver.",
        "devolvida" => "Conversa devolvida ao robô.",
        "atribuida" => "A conversa está com você: a equipe vê que você está atendendo.",
        "solta" => "Você soltou a conversa: ela fica sem responsável.",
        "enviada" => "Mensagem enviada.",
        "modelo" => "Modelo do WhatsApp enviado ao cliente.",
        "encerrada" => "Sessão encerrada.",
        "modelo-enviado" => "Modelo salvo e enviado à Meta para análise. O status muda quando a Meta responder.",
        "atualizando" => "Consultando a Meta: os status aparecem em instantes (recarregue a página).",
        "reativado" => "O cliente volta a receber lembretes e avisos da loja.",
        "pedido-pago" => "Pedido marcado como pago.",
        "pedido-entregue" => "Pedido marcado como entregue.",
        "email-reenviado" => "Enviamos um novo link de confirmação para o seu e-mail.",
        "email-limite" => "Já enviamos vários links na última hora. Confira a caixa de spam ou tente mais tarde.",
        "convite-revogado" => "Convite revogado: o link não vale mais.",
        "2fa-desativada" => "Verificação em duas etapas desativada.",
        "assinatura" => "Pagamento enviado à Stripe. A assinatura aparece como ativa assim que a Stripe confirmar (em instantes).",
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

/// When a message came, as the inbox says it: "agora", "há 5 min", "14:32" (today),
/// "ontem 14:32", "28/11 09:05", and the year too when it is not this one.
pub fn ago(at_ms: i64, now_ms: i64, clock: &StoreClock) -> String {
    let mins = (now_ms - at_ms).max(0) / 60_000;
    if mins < 1 {
        return "agora".into();
    }
    if mins < 60 {
        return format!("há {mins} min");
    }
    let (day, today) = (clock.date_of(at_ms), clock.date_of(now_ms));
    let time = clock.time_br(at_ms);
    if day == today {
        time
    } else if today.pred_opt() == Some(day) {
        format!("ontem {time}")
    } else if day.format("%Y").to_string() == today.format("%Y").to_string() {
        format!("{} {time}", day.format("%d/%m"))
    } else {
        format!("{} {time}", day.format("%d/%m/%Y"))
    }
}

/// The customer's number as staff read and dial it: "+55 11 95555-4444", and its digits for
/// the `wa.me` and `tel:` links. None when the contact has no phone (Meta sent only a
/// username's user id).
pub fn phone_of(wa_id: &str) -> Option<(String, String)> {
    if wa_id.len() < 8 || wa_id.len() > 15 || !wa_id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let shown = match (wa_id.strip_prefix("55"), wa_id.len()) {
        (Some(rest), 12 | 13) => {
            let (ddd, num) = rest.split_at(2);
            let (a, b) = num.split_at(num.len() - 4);
            format!("+55 {ddd} {a}-{b}")
        }
        _ => format!("+{wa_id}"),
    };
    Some((shown, wa_id.to_string()))
}

/// A WhatsApp message as staff read it: HTML-escaped, then `*bold*`, `_italic_`,
/// `~strike~` and ```` ```mono``` ```` as WhatsApp shows them. A marker counts only at a word's
/// edge and around non-blank text on one line ("2*3*4" stays as written).
pub fn wa_markup(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 16);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let tag = match c {
            '*' => Some("strong"),
            '_' => Some("em"),
            '~' => Some("s"),
            _ => None,
        };
        let at_edge = i == 0 || !chars[i - 1].is_alphanumeric();
        if let (Some(tag), true) = (tag, at_edge) {
            if let Some(end) = closing(&chars, i, c) {
                out.push_str(&format!("<{tag}>"));
                out.push_str(&wa_markup(&chars[i + 1..end].iter().collect::<String>()));
                out.push_str(&format!("</{tag}>"));
                i = end + 1;
                continue;
            }
        }
        escape_into(&mut out, c);
        i += 1;
    }
    out
}

/// Where the marker opened at `open` closes on the same line, if it does.
fn closing(chars: &[char], open: usize, marker: char) -> Option<usize> {
    let first = *chars.get(open + 1)?;
    if first.is_whitespace() || first == marker {
        return None;
    }
    let mut j = open + 2;
    while j < chars.len() {
        match chars[j] {
            '\n' => return None,
            m if m == marker => {
                let before_ok = !chars[j - 1].is_whitespace();
                let after_ok = chars.get(j + 1).is_none_or(|a| !a.is_alphanumeric());
                if before_ok && after_ok {
                    return Some(j);
                }
            }
            _ => {}
        }
        j += 1;
    }
    None
}

fn escape_into(out: &mut String, c: char) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '"' => out.push_str("&quot;"),
        '\'' => out.push_str("&#x27;"),
        '/' => out.push_str("&#x2f;"),
        c => out.push(c),
    }
}

/// A piece of a page polled by `dashboard.js` (the inbox rows, the overview tiles): never
/// cached, and the count waiting for a person in `X-Aguardando-Atendente`, which the script
/// puts in the tab title and the menu's badge.
pub fn live(me: &Me, html: Html<String>) -> Response {
    (
        [
            (
                HeaderName::from_static("x-aguardando-atendente"),
                HeaderValue::from(me.waiting_for_person),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        html,
    )
        .into_response()
}

pub fn page(me: &Me, name: &str, nav: &str, ctx: Value) -> Result<Html<String>, AppError> {
    crate::render::page(
        name,
        context! {
            me => context! { name => me.user.name.clone(), email => me.user.email.clone(), role => me.user.role.label_pt(), is_owner => me.is_owner(),
                unverified => me.user.email_verified_at.is_none() },
            store => context! { name => me.tenant.name.clone(), slug => me.tenant.slug.clone() },
            csrf => me.session.csrf_token.clone(),
            waiting_for_person => me.waiting_for_person,
            billing_on => me.billing_on,
            billing_banner => super::billing::banner(me),
            nav => nav,
            ..ctx
        },
    )
}

#[cfg(test)]
mod tests {
    use super::{ago, phone_of, wa_markup, waited};
    use domain::clock::StoreClock;

    #[test]
    fn whatsapp_marks_become_bold_and_italic_and_nothing_else_is_html() {
        assert_eq!(wa_markup("*Total:* R$ 10"), "<strong>Total:</strong> R$ 10");
        assert_eq!(wa_markup("_obrigado_!"), "<em>obrigado</em>!");
        assert_eq!(wa_markup("~caro~ barato"), "<s>caro</s> barato");
        assert_eq!(
            wa_markup("*_os dois_*"),
            "<strong><em>os dois</em></strong>"
        );
        assert_eq!(
            wa_markup("2*3*4 e a * b"),
            "2*3*4 e a * b",
            "not at a word's edge"
        );
        assert_eq!(
            wa_markup("* lista\n* item"),
            "* lista\n* item",
            "no pair on one line"
        );
        assert_eq!(
            wa_markup("*<script>alert(1)</script>*"),
            "<strong>&lt;script&gt;alert(1)&lt;&#x2f;script&gt;</strong>"
        );
        assert_eq!(wa_markup("a & \"b\""), "a &amp; &quot;b&quot;");
        assert_eq!(wa_markup("arquivo_de_teste.pdf"), "arquivo_de_teste.pdf");
    }

    #[test]
    fn message_times_read_like_the_inbox_of_a_phone() {
        let clock = StoreClock::of("America/Sao_Paulo");
        let m = 60_000;
        // 2026-12-03 15:00 in São Paulo (UTC-3) = 18:00 UTC.
        let now = 1_796_320_800_000;
        assert_eq!(clock.time_br(now), "15:00");
        assert_eq!(ago(now - 20_000, now, &clock), "agora");
        assert_eq!(ago(now - 5 * m, now, &clock), "há 5 min");
        assert_eq!(ago(now - 120 * m, now, &clock), "13:00");
        assert_eq!(ago(now - 24 * 60 * m - 28 * m, now, &clock), "ontem 14:32");
        assert_eq!(ago(now - 5 * 24 * 60 * m, now, &clock), "28/11 15:00");
        assert_eq!(
            ago(now - 400 * 24 * 60 * m, now, &clock),
            "29/10/2025 15:00"
        );
    }

    #[test]
    fn staff_read_the_whole_number() {
        assert_eq!(
            phone_of("5511955554444"),
            Some(("+55 11 95555-4444".into(), "5511955554444".into()))
        );
        assert_eq!(
            phone_of("551133334444"),
            Some(("+55 11 3333-4444".into(), "551133334444".into()))
        );
        assert_eq!(phone_of("14155550123").unwrap().0, "+14155550123");
        assert_eq!(phone_of("BR.user.123"), None, "a username has no number");
    }

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
