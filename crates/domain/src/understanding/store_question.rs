//! Questions about the store rather than an order: what the freight costs ("qto fica o
//! frete pra parelheiros?", "tem frete grátis?"), when it opens ("qual o horário de vcs",
//! "vcs abrem sábado?") and where it is ("qual o endereço da loja", "onde fica a loja").
//! The freight is answered from the store's rules; opening hours and the address are not
//! in the rules, so a person answers them (`engine`). Read from the whole message, like
//! [`super::asks_for_discount`].

use super::text::{analyze, Kind, Token};

/// What the customer asked about the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreQuestion {
    /// How much the delivery costs (to a place, or in general).
    Freight,
    /// When the store opens, closes or works (a day, a time).
    Hours,
    /// Where the store is.
    Address,
}

/// Words asking for an amount or a condition of the freight.
fn asks_amount(w: &str) -> bool {
    matches!(
        w,
        "quanto"
            | "qto"
            | "qnto"
            | "quanta"
            | "qt"
            | "valor"
            | "preco"
            | "custa"
            | "cobra"
            | "cobram"
            | "cobrar"
            | "taxa"
            | "gratis"
            | "gratuito"
            | "gratuita"
    )
}

/// The store opening, closing or working (not the goods being delivered).
fn opens_or_closes(w: &str) -> bool {
    matches!(
        w,
        "abre"
            | "abrem"
            | "aberto"
            | "aberta"
            | "fecha"
            | "fecham"
            | "fechado"
            | "fechada"
            | "funciona"
            | "funcionam"
            | "funcionamento"
            | "expediente"
    )
}

/// The customers' own place, not the store's ("meu endereço é…").
fn customers_own(w: &str) -> bool {
    matches!(w, "meu" | "minha" | "nosso" | "nossa")
}

/// The questions in one message, each at most once, in a fixed order.
pub fn store_questions(raw: &str) -> Vec<StoreQuestion> {
    let toks = analyze(raw);
    let mut out = Vec::new();
    let question = raw.contains('?');
    // Clauses end at sentence punctuation and line breaks: "quanto fica?" in one clause does
    // not make "entrega amanhã" in the next a question about the freight.
    let mut start = 0;
    for end in 0..=toks.len() {
        let boundary = end == toks.len()
            || toks[end].kind == Kind::Newline
            || toks[end].is_punct('?')
            || toks[end].is_punct('.')
            || toks[end].is_punct('!');
        if !boundary {
            continue;
        }
        let clause = &toks[start..end];
        let asked = question || (end < toks.len() && toks[end].is_punct('?'));
        for q in clause_questions(clause, asked) {
            if !out.contains(&q) {
                out.push(q);
            }
        }
        start = end + 1;
    }
    out.sort_by_key(|q| *q as u8);
    out
}

fn clause_questions(clause: &[Token], asked: bool) -> Vec<StoreQuestion> {
    let words: Vec<&str> = clause
        .iter()
        .filter(|t| t.kind == Kind::Word)
        .map(|t| t.text.as_str())
        .collect();
    let has = |w: &str| words.contains(&w);
    // "o quanto antes" is "as soon as possible", not a price.
    let as_soon_as = |k: usize| words.get(k + 1) == Some(&"antes");
    let near = |a: usize, pred: &dyn Fn(&str) -> bool| {
        let from = a.saturating_sub(3);
        let to = (a + 4).min(words.len());
        (from..to).any(|k| k != a && pred(words[k]) && !as_soon_as(k))
    };
    let mut out = Vec::new();

    // The freight: "frete" asked about ("qto fica o frete?", "frete pro grajaú?", "tem frete
    // grátis") or the delivery's price ("quanto é a entrega", "cobra pra entregar?", "taxa de
    // entrega"). "10 sacos com frete pro grajaú" orders, it does not ask.
    let freight = words.iter().enumerate().any(|(k, w)| match *w {
        "frete" => asked || near(k, &asks_amount),
        "entrega" | "entregar" => near(k, &asks_amount),
        _ => false,
    });
    if freight {
        out.push(StoreQuestion::Freight);
    }

    // Opening hours: "horário" of the store (not of a delivery), "que horas vcs abrem",
    // "vcs abrem sábado?", "tá aberto?", "funciona domingo?".
    let about_delivery = has("entrega") || has("entregar") || has("chega") || has("chegar");
    // "desculpa o horário" apologises for writing late; it asks nothing.
    let apology = has("desculpa") || has("desculpe") || has("perdao");
    let hours = (has("horario")
        && !about_delivery
        && !apology
        && (asked || has("qual") || has("funcionamento") || has("atendimento")))
        || words.iter().any(|w| opens_or_closes(w)) && (asked || has("hora") || has("que"));
    if hours {
        out.push(StoreQuestion::Hours);
    }

    // The address: "endereço" of the store ("qual o endereço de vcs/da loja", "me passa o
    // endereço?") — not the customer's ("meu endereço é…") — "onde fica(m)", "localização".
    let own = words.iter().any(|w| customers_own(w));
    let store_named = has("loja") || has("vcs") || has("voce") || has("voces") || has("vc");
    let address = !own
        && ((has("endereco") && (asked || store_named)) && !has("entrega")
            || has("onde")
                && (has("fica") || has("ficam") || has("localizado") || has("localizada"))
            || has("localizacao") && (asked || store_named));
    if address {
        out.push(StoreQuestion::Address);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::StoreQuestion::*;
    use super::*;

    #[test]
    fn questions_about_the_store_are_found() {
        let cases: &[(&str, &[StoreQuestion])] = &[
            ("bom dia qto fica o frete pra parelheiros?", &[Freight]),
            ("quanto é a entrega no grajau", &[Freight]),
            ("tem frete gratis?", &[Freight]),
            ("o frete é quanto", &[Freight]),
            ("vcs cobram pra entregar no jardim angela", &[Freight]),
            ("qual a taxa de entrega", &[Freight]),
            ("frete?", &[Freight]),
            ("qual o horario de vcs", &[Hours]),
            ("vcs abrem sabado?", &[Hours]),
            ("que horas vcs fecham", &[Hours]),
            ("ta aberto?", &[Hours]),
            ("qual o endereço da loja", &[Address]),
            ("onde fica a loja", &[Address]),
            ("me passa o endereço de vcs", &[Address]),
            ("qual o horario e o endereço de vcs?", &[Hours, Address]),
        ];
        for (text, want) in cases {
            assert_eq!(&store_questions(text), want, "{text}");
        }
    }

    #[test]
    fn orders_and_the_customers_own_data_are_not_questions() {
        for text in [
            "10 sacos de cimento com frete pro grajau",
            "bom dia, preciso de 10 sacos de cimento e 2 metros de areia, entrega amanhã no Grajaú, pago no pix",
            "qto fica 10 sacos de cimento entrega amanha no grajau",
            "meu endereço é rua das flores 120",
            "o endereço de entrega é rua x 10",
            "entrega amanha de manha",
            "pode entregar sabado",
            "qual horario da entrega?",
            "oi boa noite desculpa o horario",
            "entrega o quanto antes pfv, é urgente",
            "Pagamento pix, entrega o quanto antes",
        ] {
            assert!(store_questions(text).is_empty(), "{text}: {:?}", store_questions(text));
        }
    }
}
