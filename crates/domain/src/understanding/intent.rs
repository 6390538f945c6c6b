//! What a reply means for a quote already sent: accept, decline, a change, a question, a
//! greeting, a request for a person.

use super::clause_split::Clause;
use super::lexicon;
use super::text::{Kind, Token};
use super::{Correction, FoundItem, Intent};

pub(crate) fn intent(
    toks: &[Token],
    raw: &str,
    items: &[FoundItem],
    corrections: &[Correction],
    unknown: &[String],
    has_slots: bool,
    clauses: &[Clause],
) -> Intent {
    let trimmed = raw.trim();
    if trimmed == "quote_accept" {
        return Intent::Accept;
    }
    if trimmed == "quote_decline" {
        return Intent::Decline;
    }
    let words: Vec<&str> = toks
        .iter()
        .filter(|t| t.kind == Kind::Word)
        .map(|t| t.text.as_str())
        .collect();
    let has = |w: &str| words.contains(&w);
    let pair = |a: &str, b: &str| words.windows(2).any(|p| p[0] == a && p[1] == b);
    if asks_for_a_person(&words) {
        return Intent::HumanRequest;
    }
    if !corrections.is_empty() {
        return Intent::ChangeRequest;
    }
    if !items.is_empty() || !unknown.is_empty() {
        return Intent::Order;
    }
    let decline = pair("nao", "quero")
        || pair("nao", "obrigado")
        || has("desisto")
        || pair("muito", "caro")
        || pair("ta", "caro")
        || pair("achei", "caro")
        || pair("ficou", "caro")
        || pair("outro", "lugar")
        || pair("deixa", "pra") && has("la")
        || pair("nao", "precisa") && words.len() <= 4
        // A bare "não" to a quote.
        || words.iter().all(|w| matches!(*w, "nao" | "n" | "obrigado" | "obrigada" | "obg" | "valeu"))
            && words.contains(&"nao");
    if decline {
        return Intent::Decline;
    }
    // "quero alterar o pedido", "dá pra mudar?": a change, what to change still to come.
    if words.iter().any(|w| {
        matches!(
            *w,
            "alterar" | "altera" | "alteracao" | "mudar" | "muda" | "mudanca" | "modificar"
        )
    }) {
        return Intent::ChangeRequest;
    }
    let accept = raw.contains('👍')
        || raw.contains('✅') && words.is_empty()
        || has("sim")
        || has("confirmo")
        || has("confirmado")
        || has("fechado")
        || has("fechou")
        || has("aceito")
        || pair("pode", "mandar")
        || pair("pode", "fechar")
        || pair("pode", "enviar")
        || pair("pode", "ser")
        || has("bora")
        || has("combinado");
    if accept {
        return Intent::Accept;
    }
    let greeting_word = words.iter().any(|w| {
        matches!(
            *w,
            "oi" | "ola" | "bom" | "boa" | "alguem" | "opa" | "eai" | "salve" | "oie"
        )
    });
    let question_word = words.iter().any(|w| {
        matches!(
            *w,
            "quanto"
                | "quantos"
                | "quantas"
                | "qual"
                | "como"
                | "onde"
                | "quando"
                | "qto"
                | "preco"
                | "valor"
        )
    });
    let only_chat = words.iter().all(|w| {
        lexicon::is_stopword(w)
            || lexicon::is_chat_word(w)
            || matches!(*w, "alguem" | "oie" | "eai" | "salve" | "fala")
    });
    if greeting_word && only_chat && !question_word {
        return Intent::GreetingOnly;
    }
    if clauses.iter().any(|c| c.question) || question_word {
        return Intent::Question;
    }
    if has_slots {
        return Intent::Order;
    }
    if only_chat && greeting_word {
        return Intent::GreetingOnly;
    }
    Intent::Other
}

/// "quero falar com atendente", "me passa pra alguem de vdd", "chama o vendedor", "não quero
/// falar com robô": a role that only a person has, or a way of reaching someone (falar,
/// passar, chamar…) aimed at a person — not any "alguém" ("alguém aí?" is impatience,
/// [`crate::handoff::frustration`]).
fn asks_for_a_person(words: &[&str]) -> bool {
    let has = |w: &str| words.contains(&w);
    let role = words.iter().any(|w| {
        matches!(
            *w,
            "atendente"
                | "atendentes"
                | "humano"
                | "humana"
                | "vendedor"
                | "vendedora"
                | "gerente"
                | "funcionario"
                | "funcionaria"
                | "responsavel"
                | "dono"
                | "dona"
        )
    });
    let someone = words
        .iter()
        .any(|w| matches!(*w, "alguem" | "pessoa" | "moca" | "rapaz"));
    let reach = words.iter().any(|w| {
        matches!(
            *w,
            "falar"
                | "fala"
                | "conversar"
                | "passa"
                | "passar"
                | "transfere"
                | "transferir"
                | "chama"
                | "chamar"
                | "atender"
                | "atende"
                | "atendimento"
        )
    });
    // "alguém de verdade", "pessoa real", "sem robô".
    let real = words
        .windows(2)
        .any(|p| p[0] == "de" && matches!(p[1], "verdade" | "vdd" | "vdade"))
        || has("real")
        || has("robo");
    role || someone && (reach || real) || reach && has("robo")
}

/// "tem desconto?", "faz 35 o saco", "deixa por 600", "melhora o preço": the customer
/// bargains over a quote. Only a person can answer it (the bot never changes a price), and
/// the numbers in it are prices, not amounts: "faz 35 o saco" once became 35 sacks.
pub fn asks_for_discount(raw: &str) -> bool {
    let toks = super::text::analyze(raw);
    let word = |k: usize| match toks.get(k) {
        Some(t) if t.kind == Kind::Word => t.text.as_str(),
        _ => "",
    };
    let num = |k: usize| toks.get(k).is_some_and(|t| t.kind == Kind::Num);
    (0..toks.len()).any(|k| match word(k) {
        "desconto" | "descontinho" | "abatimento" | "chorinho" => true,
        "melhora" | "melhorar" | "abaixa" | "abaixar" => {
            (k + 1..k + 4).any(|j| matches!(word(j), "preco" | "valor" | "pra" | "um"))
        }
        // "faz 35 o saco", "faz por 600", "deixa por 30 cada", "fecha em 650".
        "faz" | "faze" | "fazer" | "faco" | "deixa" | "deixar" | "fecha" | "fechar" | "sai" => {
            num(k + 1) || matches!(word(k + 1), "por" | "em" | "a") && num(k + 2)
        }
        _ => false,
    })
}

#[cfg(test)]
mod discount_tests {
    use super::asks_for_discount;

    #[test]
    fn bargaining_is_told_apart() {
        for m in [
            "tem desconto? faz 35 o saco",
            "faz por 600 que eu fecho",
            "deixa por 30 cada",
            "melhora o preço ai",
            "fecha em 650?",
            "da um descontinho",
        ] {
            assert!(asks_for_discount(m), "{m}");
        }
        for m in [
            "pode fechar",
            "fechado",
            "10 sacos de cimento",
            "quanto sai o cimento",
            "sim confirmo",
            "troca pra 15 sacos",
        ] {
            assert!(!asks_for_discount(m), "{m}");
        }
    }
}
