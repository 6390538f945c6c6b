//! The numbers of one clause read as quantities: every reading, with a prior from where the
//! number stands, and pieces of a given length ("1 lona de 10 metros").

use crate::money::QUANTITY_SCALE;
use crate::understanding::lexicon;
use crate::understanding::text::{self, Kind, Token};

use super::{is_count_unit, stated_unit, QtyOption, WordRole};

/// Every reading of a number of the clause as the quantity, with a prior from where it
/// stands; the first option is "no number".
pub(super) fn quantity_options(
    text: &str,
    ctoks: &[&Token],
    roles: &[WordRole],
    ctx_unit: Option<&'static str>,
) -> Vec<QtyOption> {
    let mut options: Vec<QtyOption> = vec![QtyOption {
        remove: Vec::new(),
        value: 0,
        unit: None,
        prior: 0.0,
        article: false,
    }];
    // "queria um orçamento de …": an article before a filler word is no amount at all.
    let filler_article = |p: usize| {
        let t = ctoks[p];
        t.from_word
            && t.value == QUANTITY_SCALE
            && roles.get(p + 1) == Some(&WordRole::Stop)
            && ctoks.get(p + 1).is_some_and(|nx| {
                nx.kind == Kind::Word && !matches!(nx.text.as_str(), "de" | "do" | "da" | "so")
            })
    };
    let first_content = roles.iter().enumerate().position(|(p, r)| {
        matches!(r, WordRole::Known | WordRole::Foreign)
            || *r == WordRole::Number && !filler_article(p)
    });
    for (p, t) in ctoks.iter().enumerate() {
        let next = ctoks.get(p + 1);
        // "1/2 metro de areia": a fraction with a unit is an amount.
        if t.kind == Kind::Frac {
            let unit = next
                .filter(|nx| nx.kind == Kind::Word)
                .and_then(|nx| stated_unit(&nx.text));
            if let Some(u) = unit.filter(|_| t.den > 0 && t.value < t.den && t.den <= 4) {
                options.push(QtyOption {
                    remove: vec![p],
                    value: t.value * QUANTITY_SCALE / t.den,
                    unit: Some(u),
                    prior: 4.5,
                    article: false,
                });
            }
            continue;
        }
        if t.kind != Kind::Num || filler_article(p) {
            continue;
        }
        // "15 de janeiro" is a date.
        if next.is_some_and(|nx| nx.is_word("de"))
            && ctoks
                .get(p + 2)
                .is_some_and(|m| m.text.len() > 3 && lexicon::month(&m.text).is_some())
        {
            continue;
        }
        // "36,90": money, not an amount of goods.
        let raw = text.get(t.start..t.end).unwrap_or("");
        let cents_like = raw.rsplit_once(',').is_some_and(|(_, d)| d.len() == 2)
            && t.value >= 5 * QUANTITY_SCALE;
        if cents_like && !next_is_unit_word(next) {
            continue;
        }
        // Phone numbers and the like: five digits or more with no unit.
        let next_is_unit = next
            .is_some_and(|nx| nx.kind == Kind::Word && text::canonical_unit(&nx.text).is_some());
        if t.value >= 10_000 * QUANTITY_SCALE && !next_is_unit && !t.from_word {
            continue;
        }
        // "11 99999-8888": an area code before a phone number.
        if next.is_some_and(|nx| nx.kind == Kind::Num && nx.value >= 10_000 * QUANTITY_SCALE) {
            continue;
        }
        let prev = if p > 0 { Some(ctoks[p - 1]) } else { None };
        // "2x cimento" is an amount; "3x no cartão" is not.
        let times_product = next.is_some_and(|nx| nx.is_word("x"))
            && roles.get(p + 2).is_some_and(|r| *r == WordRole::Known);
        if !times_product
            && next.is_some_and(|nx| nx.kind == Kind::Word && lexicon::is_non_goods_unit(&nx.text))
            || prev.is_some_and(|pv| pv.is_punct('$') || pv.is_word("r"))
        {
            continue;
        }
        // "4 mm", "30 cm", "tijolo 4 furos": sizes, never amounts.
        if next.is_some_and(|nx| {
            nx.kind == Kind::Word
                && (matches!(text::canonical_unit(&nx.text), Some("mm" | "cm"))
                    || nx.is_word("furo"))
        }) {
            continue;
        }
        let next_unit = next.and_then(|nx| {
            if nx.kind == Kind::Word {
                text::canonical_unit(&nx.text)
            } else {
                None
            }
        });
        let mut prior = 0.5f32;
        let mut unit = None;
        match next_unit {
            Some(u) if is_count_unit(u) => {
                prior += 2.5;
                unit = Some(u);
            }
            Some("m") | Some("kg") => {
                prior += 2.0;
                unit = stated_unit(&next.map(|t| t.text.clone()).unwrap_or_default());
            }
            Some(_) => prior -= 3.0,
            None => {}
        }
        if times_product {
            prior += 2.5;
        } else if next
            .is_some_and(|nx| matches!(nx.text.as_str(), "furo" | "x" | "polegada" | "pol"))
        {
            prior -= 3.0;
        }
        // "45x45" is a size; "cimento x 15" is an amount.
        if prev.is_some_and(|pv| pv.is_word("x")) {
            // "bloco 14 x 100", "ferro 8 x 30": with spaces around the x, the count.
            let spaced =
                p >= 2 && ctoks[p - 2].end < ctoks[p - 1].start && ctoks[p - 1].end < t.start;
            if p >= 2 && matches!(ctoks[p - 2].kind, Kind::Num | Kind::Frac) && !spaced {
                prior -= 4.0;
            } else {
                prior += 1.5;
            }
        }
        if first_content == Some(p) {
            prior += 2.0;
        }
        if prev.is_some_and(|pv| pv.is_punct(':') || pv.is_punct('-')) {
            prior += 1.5;
        }
        if prev.is_some_and(|pv| pv.is_word("de")) && first_content != Some(p) {
            prior -= 1.5;
        }
        let article = t.from_word && t.value == QUANTITY_SCALE;
        // "um muro", "uma obra": an article before a word that is no product.
        if article
            && !next.is_some_and(|nx| {
                roles.get(p + 1).is_some_and(|r| {
                    matches!(r, WordRole::Known | WordRole::Unit | WordRole::Foreign)
                }) || nx.is_word("de")
            })
        {
            prior -= 2.0;
        }
        // Only the number is consumed: the unit word still helps to tell items apart
        // ("2 rolos de fio 2,5" is the rolo SKU; "um rolo" is the paint roller).
        let remove = vec![p];
        options.push(QtyOption {
            remove,
            value: t.value,
            unit,
            prior,
            article,
        });
    }
    // "1 lona de 10 metros": pieces of a given length.
    let mut extra = Vec::new();
    for a in options.iter().skip(1) {
        if a.unit.is_some() {
            continue;
        }
        for b in options.iter().skip(1) {
            // "e outra de 3" right after metres: the unit carries over.
            let metres = b.unit == Some("m")
                || b.unit.is_none() && ctx_unit == Some("m") && b.remove[0] + 1 == ctoks.len();
            if metres
                && b.remove[0] > a.remove[0]
                && b.remove[0] > 0
                && ctoks[b.remove[0] - 1].is_word("de")
            {
                let mut remove = a.remove.clone();
                remove.extend(b.remove.iter().copied());
                let v = (a.value as i128 * b.value as i128 / QUANTITY_SCALE as i128)
                    .min(i64::MAX as i128) as i64;
                extra.push(QtyOption {
                    remove,
                    value: v,
                    unit: Some("length"),
                    prior: a.prior + 0.5,
                    article: false,
                });
            }
        }
    }
    options.extend(extra);
    options
}

fn next_is_unit_word(next: Option<&&Token>) -> bool {
    next.is_some_and(|nx| nx.kind == Kind::Word && text::canonical_unit(&nx.text).is_some())
}

/// Does the number at `p` read as a size rather than an amount?
pub(super) fn size_like(ctoks: &[&Token], p: usize) -> bool {
    let t = ctoks[p];
    let prev_de = p > 0 && matches!(ctoks[p - 1].text.as_str(), "de" | "da" | "do");
    let next_size = ctoks.get(p + 1).is_some_and(|n| {
        n.kind == Kind::Word
            && matches!(
                text::canonical_unit(&n.text),
                Some("mm" | "cm" | "l" | "kg")
            )
            // "8 furos", "3 polegadas": a count of holes or inches is a size.
            || n.is_word("furo")
            || n.is_word("polegada")
    });
    t.kind == Kind::Frac || t.value % QUANTITY_SCALE != 0 || prev_de || next_size
}
