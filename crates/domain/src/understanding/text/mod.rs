//! Turning WhatsApp text into tokens: accent and case folding ([`tokenize`]), numbers
//! (digits, decimal commas, thousands dots, fractions, number words and their compositions:
//! [`numbers`]), unit synonyms, product codes and plural stripping ([`normalize`]), and the
//! fuzzy matching of misspelt words ([`fuzzy`]).
//!
//! The same normalisation runs on catalog names and aliases, so a message and the catalog
//! meet on identical token strings ("Cimento CP-II" and "cimento cp 2" both give `cimento
//! cp2`).

mod dictation;
mod fuzzy;
mod normalize;
mod numbers;
mod tokenize;

pub(crate) use fuzzy::{edit_distance, sound_fold};
pub(crate) use normalize::{canonical_unit, normalize, singular};
pub(crate) use numbers::number_word;
pub(crate) use tokenize::{fold, tokenize};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Word,
    /// A number; `value` is in thousandths.
    Num,
    /// `a/b`: a fraction (3/8) or a date (20/12); `value` is `a`, `den` is `b`.
    Frac,
    Punct,
    Newline,
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub kind: Kind,
    /// Folded text: words lower-case without accents (plural stripped, unit synonyms
    /// canonical), numbers as a canonical decimal (`2.44`), fractions `3/8`.
    pub text: String,
    pub value: i64,
    pub den: i64,
    /// Byte offsets into the original message.
    pub start: usize,
    pub end: usize,
    /// The number was written as a word ("dez", "um").
    pub from_word: bool,
    /// The word started with an upper-case letter in the original.
    pub cap: bool,
    /// The original word ended in a plural `s` that was stripped.
    pub plural: bool,
}

impl Token {
    pub fn is_word(&self, w: &str) -> bool {
        self.kind == Kind::Word && self.text == w
    }
    pub fn is_punct(&self, c: char) -> bool {
        self.kind == Kind::Punct && self.text.starts_with(c)
    }
}

/// Prepares a message for the extractors: cut to the limit, tokenised and normalised.
pub(crate) fn analyze(text: &str) -> Vec<Token> {
    normalize(tokenize(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<String> {
        analyze(s).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn numbers_in_all_spellings() {
        let cases: &[(&str, &[&str])] = &[
            ("1.500 tijolos", &["1500", "tijolo"]),
            ("2,5 m³", &["2.5", "m3"]),
            ("ferro 4.2", &["ferro", "4.2"]),
            ("dez sacos", &["10", "saco"]),
            ("vinte e cinco barras", &["25", "barra"]),
            ("dois milheiros e meio", &["2.5", "milheiro"]),
            ("meia dúzia", &["0.5", "duzia"]),
            ("umas 8 a 10 barras", &["uns", "10", "barra"]),
            ("uns 2 ou 3 metros", &["uns", "3", "m"]),
            ("3 mil", &["3000"]),
            ("quinhentos litros", &["500", "l"]),
            ("mil e quinhentos", &["1500"]),
            ("tijolo 2 mil e meio", &["tijolo", "2500"]),
            ("dois mil e meio de bloco", &["2500", "de", "bloco"]),
            ("mil e meia telhas", &["1500", "telha"]),
            ("4000 e meio", &["4500"]),
            ("14x19x39", &["14", "x", "19", "x", "39"]),
        ];
        for (input, want) in cases {
            assert_eq!(texts(input), *want, "{input}");
        }
    }

    #[test]
    fn codes_and_apostrophes() {
        assert_eq!(texts("Cimento CP-II"), vec!["cimento", "cp2"]);
        assert_eq!(texts("cp 4"), vec!["cp4"]);
        assert_eq!(texts("AC-III"), vec!["ac3"]);
        assert_eq!(texts("caixa d'água"), vec!["caixa", "dagua"]);
        assert_eq!(texts("caixa d agua"), vec!["caixa", "dagua"]);
        assert_eq!(texts("Galões"), vec!["galao"]);
    }

    #[test]
    fn fractions_and_dates() {
        let t = analyze("ferro 3/8 dia 20/12");
        assert_eq!(t[1].kind, Kind::Frac);
        assert_eq!(t[1].text, "3/8");
        assert_eq!((t[3].value, t[3].den), (20, 12));
    }
}
