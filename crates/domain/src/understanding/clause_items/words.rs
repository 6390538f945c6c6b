//! The words of one clause: what each is (a catalog word, a unit, a stop word, a word the
//! catalog does not know, a number), and where the product's words and a purpose phrase are.

use crate::money::QUANTITY_SCALE;
use crate::understanding::index::{CatalogIndex, TokClass};
use crate::understanding::lexicon;
use crate::understanding::matcher::Present;
use crate::understanding::text::{self, Kind, Token};

use super::{QtyOption, WordRole};

/// Classifies each clause token (catalog word, unit, stop word, unknown word, number) and
/// resolves catalog words, typos included, to token ids.
pub(super) fn classify_words(
    index: &CatalogIndex,
    ctoks: &[&Token],
) -> (Vec<WordRole>, Vec<Present>, Vec<Option<u32>>) {
    let n = ctoks.len();
    let mut present: Vec<Present> = Vec::new();
    let mut roles: Vec<WordRole> = Vec::with_capacity(n);
    for (p, t) in ctoks.iter().enumerate() {
        let role = match t.kind {
            Kind::Word
                if t.text == "forma"
                    && ctoks.get(p + 2).is_some_and(|n| {
                        matches!(n.text.as_str(), "pagamento" | "pgto" | "pagto")
                    }) =>
            {
                WordRole::Stop
            }
            // "a área dos fundo", "no fundo do terreno": the back of a place, not the
            // fundo (primer) the catalog sells, which is named "de fundo", "o fundo".
            Kind::Word
                if t.text == "fundo"
                    && p > 0
                    && matches!(
                        ctoks[p - 1].text.as_str(),
                        "do" | "dos" | "no" | "nos" | "ao" | "aos" | "la"
                    ) =>
            {
                WordRole::Stop
            }
            Kind::Word => {
                let w = t.text.as_str();
                if let Some(id) = index.id(w) {
                    if index.class(id) == TokClass::Unit {
                        present.push(Present {
                            id,
                            pos: p,
                            fuzzy: false,
                            purpose: after_pra(ctoks, p),
                        });
                        WordRole::Unit
                    } else if lexicon::is_stopword(w)
                        && (w.len() <= 2 && w != "la"
                            || !index.any_head[id as usize]
                            // "lá" the adverb ("entrega lá", "deixa lá em casa") folds to
                            // the "lã" of "rolo de lã": only after "de" or "rolo" is it wool.
                            || w == "la"
                                && !(p > 0 && matches!(ctoks[p - 1].text.as_str(), "de" | "rolo")))
                    {
                        // "obra" of "carrinho de obra" is still a chat word in "pra uma obra".
                        WordRole::Stop
                    } else {
                        present.push(Present {
                            id,
                            pos: p,
                            fuzzy: false,
                            purpose: after_pra(ctoks, p),
                        });
                        WordRole::Known
                    }
                } else if text::canonical_unit(w).is_some() {
                    WordRole::Unit
                } else if lexicon::is_stopword(w)
                    || lexicon::is_chat_word(w)
                    || lexicon::is_vague(w)
                    || lexicon::is_non_goods_unit(w)
                {
                    WordRole::Stop
                } else if lexicon::is_harmless_modifier(w) {
                    WordRole::Other
                } else if let Some(id) = index.fuzzy(w) {
                    present.push(Present {
                        id,
                        pos: p,
                        fuzzy: true,
                        purpose: after_pra(ctoks, p),
                    });
                    WordRole::Known
                } else if lexicon::is_harmless_modifier(w) || w.chars().count() < 2 {
                    WordRole::Other
                } else if plan_or_name(ctoks, p) {
                    WordRole::Stop
                } else {
                    WordRole::Foreign
                }
            }
            Kind::Num | Kind::Frac => {
                if let Some(id) = index.id(&t.text) {
                    present.push(Present {
                        id,
                        pos: p,
                        fuzzy: false,
                        purpose: after_pra(ctoks, p),
                    });
                }
                WordRole::Number
            }
            _ => WordRole::Other,
        };
        roles.push(role);
    }
    let mut ids: Vec<Option<u32>> = vec![None; n];
    for p in &present {
        ids[p.pos] = Some(p.id);
    }

    // "um"/"uma" before the product is an article, never a size ("brita um" is).
    let first_known = roles
        .iter()
        .position(|r| *r == WordRole::Known)
        .unwrap_or(n);
    // Also right before any other word ("pra fazer uma laje"): a size written as a word
    // ends the product's name ("brita um").
    let article = |p: usize| {
        let t = ctoks[p];
        t.from_word
            && t.value == QUANTITY_SCALE
            && (p < first_known
                || ctoks.get(p + 1).is_some_and(|n| {
                    n.kind == Kind::Word
                        && !matches!(n.text.as_str(), "de" | "do" | "da")
                        && roles.get(p + 1) != Some(&WordRole::Unit)
                }))
    };
    present.retain(|p| !article(p.pos));
    for (p, id) in ids.iter_mut().enumerate() {
        if article(p) {
            *id = None;
        }
    }
    (roles, present, ids)
}

/// A word the catalog does not know that is no product by where it stands: a verb after
/// "vou", "vamos", "preciso", "pra" ("vou bater uma laje", "pra rebocar o muro"), or a name
/// after "seu", "dona" ("aqui é o seu joão").
fn plan_or_name(ctoks: &[&Token], p: usize) -> bool {
    let prev = p.checked_sub(1).map(|k| ctoks[k].text.as_str());
    let title = matches!(
        prev,
        Some("seu" | "dona" | "sr" | "sra" | "senhor" | "senhora")
    );
    planned_verb(ctoks, p) || title
}

/// "vou bater", "preciso rebocar", "pra assentar": an infinitive after a word of intent.
fn planned_verb(ctoks: &[&Token], p: usize) -> bool {
    let w = ctoks[p].text.as_str();
    let prev = p.checked_sub(1).map(|k| ctoks[k].text.as_str());
    let infinitive = w.len() >= 5 && (w.ends_with("ar") || w.ends_with("er") || w.ends_with("ir"));
    infinitive
        && matches!(
            prev,
            Some(
                "vou"
                    | "vamos"
                    | "vai"
                    | "vo"
                    | "preciso"
                    | "precisa"
                    | "precisando"
                    | "quero"
                    | "pra"
                    | "para"
                    | "pro"
                    | "que"
                    | "pode"
                    | "posso"
                    | "tenho"
            )
        )
}

fn after_pra(ctoks: &[&Token], p: usize) -> bool {
    p > 0 && matches!(ctoks[p - 1].text.as_str(), "pra" | "para" | "pro" | "p")
}

/// The original text of the clause's product words, without the quantity.
pub(super) fn span_text(
    text: &str,
    ctoks: &[&Token],
    roles: &[WordRole],
    skip: &[usize],
) -> String {
    let keep = |p: usize| -> bool {
        !skip.contains(&p)
            && matches!(
                roles[p],
                WordRole::Known | WordRole::Foreign | WordRole::Number | WordRole::Unit
            )
            && !(roles[p] == WordRole::Unit && p > 0 && skip.contains(&(p - 1)))
    };
    let first = (0..ctoks.len())
        .find(|p| keep(*p) && roles[*p] != WordRole::Unit && roles[*p] != WordRole::Number);
    let last = (0..ctoks.len()).rev().find(|p| keep(*p));
    match (first, last) {
        (Some(a), Some(b)) if a <= b => {
            let s = ctoks[a].start;
            let e = ctoks[b].end;
            text.get(s..e).unwrap_or("").trim().to_string()
        }
        _ => String::new(),
    }
}

pub(super) fn first_foreign_in_product_position(
    ctoks: &[&Token],
    roles: &[WordRole],
    options: &[QtyOption],
) -> bool {
    let first_content = roles
        .iter()
        .position(|r| matches!(r, WordRole::Known | WordRole::Foreign));
    let Some(fc) = first_content else {
        return false;
    };
    if roles[fc] != WordRole::Foreign {
        return false;
    }
    // Right after a quantity (and its unit / "de"), or opening the clause with a quantity
    // somewhere in it ("Pá de bico: 2").
    let after_qty = options.iter().skip(1).any(|o| {
        let last = *o.remove.iter().max().unwrap_or(&0);
        let mut k = last + 1;
        while k < ctoks.len()
            && (ctoks[k].is_word("de")
                || ctoks[k].is_word("do")
                || ctoks[k].is_word("da")
                || roles[k] == WordRole::Unit)
        {
            k += 1;
        }
        k == fc
    });
    let opens = options.len() > 1
        && roles[..fc]
            .iter()
            .all(|r| matches!(r, WordRole::Stop | WordRole::Other));
    after_qty || opens
}

/// Where a purpose phrase starts: "pra"/"para" followed (after an article) by a word that
/// names no product ("pra uma laje de 30 m²", "para o muro").
pub(super) fn purpose_start(
    ctoks: &[&Token],
    roles: &[WordRole],
    ids: &[Option<u32>],
) -> Option<usize> {
    (0..ctoks.len()).find(|p| {
        // "vou bater uma laje": the object of a planned verb is a purpose too.
        (matches!(ctoks[*p].text.as_str(), "pra" | "para" | "pro")
            || roles[*p] == WordRole::Stop && planned_verb(ctoks, *p))
            && {
                let mut k = p + 1;
                while k < ctoks.len()
                    && (matches!(ctoks[k].text.as_str(), "o" | "a" | "os" | "as" | "uns")
                        || ctoks[k].from_word && ctoks[k].value == QUANTITY_SCALE)
                {
                    k += 1;
                }
                // With an article any chat word or word the catalog does not know opens it
                // ("pra uma laje", "pra uma viga"); without one, only a
                // word the catalog does not use ("areia pra reboco 2 metros" is a variant).
                let chat = |k: usize| {
                    roles[k] != WordRole::Foreign
                        && lexicon::is_chat_word(&ctoks[k].text)
                        && !lexicon::is_stopword(&ctoks[k].text)
                };
                k < ctoks.len()
                    && ctoks[k].kind == Kind::Word
                    && (k > p + 1 && (chat(k) || roles[k] == WordRole::Foreign)
                        || k == p + 1 && ids[k].is_none() && chat(k))
            }
    })
}
