//! "Retiro na loja", "passo aí pra buscar", "eu mesmo busco": the customer picks the goods
//! up, so there is nowhere to deliver and the bot must not ask for a CEP or a bairro.
//!
//! Only the customer's own plan counts: "não consigo retirar" and "vocês entregam ou tenho
//! que retirar?" say nothing about where the goods go, and "retira a areia" is a correction
//! (removing an item), not a pickup.

use super::text::{Kind, Token};

/// Does the message say the customer will pick the goods up?
pub(crate) fn wants_pickup(toks: &[Token]) -> bool {
    (0..toks.len()).any(|i| pickup_at(toks, i) && !negated(toks, i) && !weighed_against(toks, i))
}

fn word(toks: &[Token], i: usize) -> &str {
    match toks.get(i) {
        Some(t) if t.kind == Kind::Word => t.text.as_str(),
        _ => "",
    }
}

/// Words after a pick-up verb that place it at the store or in time ("pego aí", "busco na
/// loja", "retiro amanhã").
fn at_the_store(w: &str) -> bool {
    matches!(
        w,
        "ai" | "aqui"
            | "la"
            | "loja"
            | "deposito"
            | "balcao"
            | "pessoalmente"
            | "hoje"
            | "hj"
            | "amanha"
            | "cedo"
            | "mesmo"
            | "mesma"
    )
}

/// A pick-up verb at `i` in the customer's voice.
fn pickup_at(toks: &[Token], i: usize) -> bool {
    let w = word(toks, i);
    // The next few words, skipping articles and "na"/"no" ("pego na loja", "busco aí mesmo").
    let near_store = || (i + 1..(i + 4).min(toks.len())).any(|k| at_the_store(word(toks, k)));
    match w {
        // Unambiguous: "retiro na loja", "vou retirar", "é pra retirada", "retiramos".
        "retiro" | "retirar" | "retirada" | "retirarei" | "retiramo" | "retiramos"
        | "retirarem" => true,
        // "retira" is also "take it off the order" ("retira a areia"): only with the store or
        // a day after it ("retira na loja", "retira aí amanhã").
        "retira" | "retirando" => near_store(),
        // "eu busco", "passo aí pra buscar", "vou buscar amanhã". "buscando" is "looking for".
        "busco" | "buscar" | "buscarei" | "busca" => w != "busca" || near_store(),
        // "pegar" is also "to buy" ("quero pegar 10 sacos"): only with the store after it.
        "pego" | "pega" | "pegar" | "pegamo" | "pegamos" => near_store(),
        _ => false,
    }
}

/// "não", "nao", "n" in the three words before (same clause): "não consigo retirar".
fn negated(toks: &[Token], i: usize) -> bool {
    let mut k = i;
    let mut steps = 0;
    while k > 0 && steps < 3 {
        k -= 1;
        let t = &toks[k];
        if t.kind == Kind::Newline || t.kind == Kind::Punct {
            return false;
        }
        if matches!(t.text.as_str(), "nao" | "n" | "nem" | "sem") {
            return true;
        }
        steps += 1;
    }
    false
}

/// Pick-up set against delivery in one sentence ("vocês entregam ou eu retiro?", "entrega
/// ou retirada?"): a question to the store, not a choice.
fn weighed_against(toks: &[Token], i: usize) -> bool {
    let start = (0..i)
        .rev()
        .find(|&k| matches!(toks[k].kind, Kind::Newline) || toks[k].is_punct('.'))
        .map_or(0, |k| k + 1);
    let end = (i + 1..toks.len())
        .find(|&k| matches!(toks[k].kind, Kind::Newline) || toks[k].is_punct('.'))
        .unwrap_or(toks.len());
    let sentence = &toks[start..end];
    let has = |f: fn(&str) -> bool| sentence.iter().any(|t| t.kind == Kind::Word && f(&t.text));
    has(|w| w == "ou")
        && has(|w| {
            matches!(
                w,
                "entrega" | "entregam" | "entregar" | "entregao" | "entregue" | "frete"
            )
        })
}

#[cfg(test)]
mod tests {
    use super::super::text::analyze;
    use super::wants_pickup;

    #[test]
    fn the_customers_own_pickup() {
        for m in [
            "5 sc cimento retiro na loja amanha",
            "é pra retirar hj",
            "amanha cedo passo ai pra buscar 10 saco de cimento",
            "pode deixar que eu busco",
            "vou retirar",
            "retirada na loja",
            "eu pego ai amanha",
            "a gente pega na loja",
            "RETIRO",
            "retira aí amanhã",
        ] {
            assert!(wants_pickup(&analyze(m)), "{m}");
        }
    }

    #[test]
    fn what_is_not_a_pickup() {
        for m in [
            "retira a areia",
            "não consigo retirar, entrega no grajau",
            "nao vou buscar",
            "vcs entregam ou eu retiro?",
            "entrega ou retirada?",
            "quero pegar 10 sacos de cimento",
            "to buscando cimento cp2",
            "entrega amanha no grajau",
            "10 sc cimento",
        ] {
            assert!(!wants_pickup(&analyze(m)), "{m}");
        }
    }
}
