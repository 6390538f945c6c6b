//! Messages dictated to a voice keyboard: punctuation and decimals spoken as words.
//!
//! "fio dois vírgula cinco" is 2,5 mm; "dez sacos de cimento vírgula dois metros de areia"
//! is a list; "ponto" is a full stop before a new amount; "três oitavos" and "cinco
//! dezesseis" are the rebar gauges 3/8 and 5/16.

use crate::money::QUANTITY_SCALE;

use super::numbers::num_token;
use super::{Kind, Token};

/// Runs after numbers are composed, so "dois vírgula quarenta e quatro" sees 2 and 44.
pub(super) fn spoken_numbers(toks: Vec<Token>) -> Vec<Token> {
    if !toks.iter().any(|t| {
        t.kind == Kind::Word && matches!(t.text.as_str(), "virgula" | "ponto" | "oitavo")
            || t.kind == Kind::Num && t.from_word && t.value == 16 * QUANTITY_SCALE
    }) {
        return toks;
    }
    let mut out: Vec<Token> = Vec::with_capacity(toks.len());
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        let next = toks.get(i + 1);
        if t.kind == Kind::Word && matches!(t.text.as_str(), "virgula" | "ponto") {
            if let (Some(prev), Some(nx)) = (out.last(), next) {
                if let Some(v) = spoken_decimal(prev, nx) {
                    let mut j = num_token(v, prev.start, nx.end, true);
                    j.cap = prev.cap;
                    out.pop();
                    out.push(j);
                    i += 2;
                    continue;
                }
            }
            // "três metros vírgula cinco de areia": the decimal of an amount said before its
            // unit (3,5 m), when the number after the comma has no unit of its own and "de"
            // follows — "dez sacos vírgula dois metros de areia" stays a list.
            if t.text == "virgula" {
                if let Some(v) = decimal_after_unit(&out, next, toks.get(i + 2)) {
                    let at = out.len() - 2;
                    let amount = &out[at];
                    let mut j = num_token(v, amount.start, amount.end, true);
                    j.cap = amount.cap;
                    out[at] = j;
                    i += 2;
                    continue;
                }
            }
            // "vírgula" is always a comma; "ponto" a full stop only where a new amount, a
            // capital (voice keyboards capitalise the next sentence: "um ponto Entrega no
            // Jabaquara") or the end follows ("ponto de luz" stays a word).
            // Between two words it is a full stop too ("um metro de pedra ponto entrega
            // sexta"), unless it is the noun: after an article or preposition ("no ponto",
            // "um ponto de luz") or before "de" ("ponto de referência").
            let noun_before = out.last().is_none_or(|p| {
                p.kind != Kind::Word
                    || matches!(
                        p.text.as_str(),
                        "o" | "um"
                            | "no"
                            | "do"
                            | "de"
                            | "ao"
                            | "esse"
                            | "este"
                            | "nesse"
                            | "neste"
                    )
            });
            let between_words = !noun_before
                && next.is_some_and(|nx| {
                    nx.kind == Kind::Word
                        && !matches!(nx.text.as_str(), "de" | "do" | "da" | "dos" | "das")
                });
            // "dois metros de pedra um ponto entrega lá": after a number said in words
            // (a size or an amount) and before a word, a full stop too.
            let after_number_word = out
                .last()
                .is_some_and(|p| p.kind == Kind::Num && p.from_word)
                && next.is_some_and(|nx| {
                    nx.kind == Kind::Word
                        && !matches!(nx.text.as_str(), "de" | "do" | "da" | "dos" | "das")
                });
            let stop = t.text == "virgula"
                || between_words
                || after_number_word
                || next.is_none_or(|nx| {
                    nx.kind == Kind::Num || nx.kind == Kind::Newline || nx.is_word("e") || nx.cap
                });
            if stop {
                let mut p = t.clone();
                p.kind = Kind::Punct;
                p.text = if t.text == "virgula" { "," } else { "." }.into();
                out.push(p);
                i += 1;
                continue;
            }
        }
        // "três oitavos" → 3/8, "cinco dezesseis" → 5/16.
        if t.kind == Kind::Num && t.value % QUANTITY_SCALE == 0 {
            let n = t.value / QUANTITY_SCALE;
            let den = match next {
                Some(nx) if nx.is_word("oitavo") && n < 8 => Some(8),
                Some(nx)
                    if t.from_word
                        && nx.kind == Kind::Num
                        && nx.from_word
                        && nx.value == 16 * QUANTITY_SCALE
                        && n % 2 == 1
                        && n < 16 =>
                {
                    Some(16)
                }
                _ => None,
            };
            if let (Some(den), Some(nx)) = (den, next) {
                out.push(Token {
                    kind: Kind::Frac,
                    text: format!("{n}/{den}"),
                    value: n,
                    den,
                    start: t.start,
                    end: nx.end,
                    from_word: true,
                    cap: t.cap,
                    plural: false,
                });
                i += 2;
                continue;
            }
        }
        out.push(t.clone());
        i += 1;
    }
    out
}

/// `out` ends with an amount and its unit ("três metros"), `next` is a number said in words
/// with one or two digits and `after` is "de": the amount with those decimals.
fn decimal_after_unit(out: &[Token], next: Option<&Token>, after: Option<&Token>) -> Option<i64> {
    let [.., amount, unit] = out else {
        return None;
    };
    let next = next?;
    let unit_word = unit.kind == Kind::Word && super::canonical_unit(&unit.text).is_some();
    let of = after.is_some_and(|a| matches!(a.text.as_str(), "de" | "do" | "da"));
    if !(unit_word && of && next.from_word) {
        return None;
    }
    spoken_decimal(amount, next).filter(|_| amount.from_word)
}

/// "dois vírgula cinco" = 2,5; "um vírgula oitenta e três" = 1,83: a whole number, the
/// spoken comma, and the decimal digits (at least one side said in words).
fn spoken_decimal(prev: &Token, next: &Token) -> Option<i64> {
    if prev.kind != Kind::Num || next.kind != Kind::Num || !(prev.from_word || next.from_word) {
        return None;
    }
    if prev.value % QUANTITY_SCALE != 0 || next.value % QUANTITY_SCALE != 0 {
        return None;
    }
    let d = next.value / QUANTITY_SCALE;
    let frac = match d {
        0..=9 => d * 100,
        10..=99 => d * 10,
        _ => return None,
    };
    prev.value.checked_add(frac)
}

#[cfg(test)]
mod tests {
    use crate::understanding::text::analyze;

    fn texts(s: &str) -> Vec<String> {
        analyze(s).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn spoken_comma_between_numbers_is_a_decimal() {
        assert_eq!(texts("fio dois vírgula cinco"), ["fio", "2.5"]);
        assert_eq!(texts("telha um vírgula oitenta e três"), ["telha", "1.83"]);
        assert_eq!(
            texts("duas telhas dois vírgula quarenta e quatro"),
            ["2", "telha", "2.44"]
        );
    }

    #[test]
    fn spoken_comma_and_full_stop_between_items_split_them() {
        assert_eq!(
            texts("dez sacos de cimento vírgula dois metros"),
            ["10", "saco", "de", "cimento", ",", "2", "m"]
        );
        assert_eq!(
            texts("oito furos ponto vinte sacos"),
            ["8", "furo", ".", "20", "saco"]
        );
        // Before a capital, a dictated full stop: the keyboard starts a new sentence.
        assert_eq!(
            texts("três sacos de cal ponto Pode entregar"),
            ["3", "saco", "de", "cal", ".", "pode", "entregar"]
        );
        // Not before an amount: a word ("ponto de luz").
        assert_eq!(texts("ponto de luz"), ["ponto", "de", "luz"]);
        // Between two words, a full stop; after an article, the noun.
        assert_eq!(
            texts("dois sacos de cal ponto entrega amanhã"),
            ["2", "saco", "de", "cal", ".", "entrega", "amanha"]
        );
        assert_eq!(texts("no ponto final"), ["no", "ponto", "final"]);
    }

    #[test]
    fn spoken_comma_after_the_unit_is_the_amounts_decimal() {
        assert_eq!(
            texts("três metros vírgula cinco de areia grossa"),
            ["3.5", "m", "de", "areia", "grossa"]
        );
        // A number with its own unit after the comma is the next item.
        assert_eq!(
            texts("três metros vírgula cinco sacos de cimento"),
            ["3", "m", ",", "5", "saco", "de", "cimento"]
        );
        // Figures are typed, not dictated: "3 metros, 5 de areia" is not read as 3,5.
        assert_eq!(texts("3 metros vírgula 5 de areia")[0], "3");
    }

    #[test]
    fn spoken_rebar_gauges() {
        assert_eq!(texts("ferro três oitavos"), ["ferro", "3/8"]);
        assert_eq!(texts("barras de cinco dezesseis"), ["barra", "de", "5/16"]);
    }
}
