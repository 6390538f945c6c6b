//! Splitting text into raw tokens, and folding case and accents.

use super::numbers::{num_token, parse_number};
use super::{Kind, Token};

/// Folds one character: lower case, accents removed. `None` for characters that are not
/// letters or digits.
pub(crate) fn fold_char(c: char) -> Option<char> {
    let f = match c {
        'á' | 'à' | 'â' | 'ã' | 'ä' | 'Á' | 'À' | 'Â' | 'Ã' | 'Ä' | 'ª' => 'a',
        'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => 'e',
        'í' | 'ì' | 'î' | 'ï' | 'Í' | 'Ì' | 'Î' | 'Ï' => 'i',
        'ó' | 'ò' | 'ô' | 'õ' | 'ö' | 'Ó' | 'Ò' | 'Ô' | 'Õ' | 'Ö' | 'º' => 'o',
        'ú' | 'ù' | 'û' | 'ü' | 'Ú' | 'Ù' | 'Û' | 'Ü' => 'u',
        'ç' | 'Ç' => 'c',
        'ñ' | 'Ñ' => 'n',
        '²' => '2',
        '³' => '3',
        c if c.is_ascii_alphanumeric() => c.to_ascii_lowercase(),
        c if c.is_alphabetic() => {
            // Other scripts: keep one lower-case char (it will simply match nothing).
            c.to_lowercase().next().unwrap_or(c)
        }
        _ => return None,
    };
    Some(f)
}

/// Folds a whole string to lower-case ASCII-ish words separated by single spaces.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c == '\'' || c == '’' {
            continue;
        }
        match fold_char(c) {
            Some(f) => {
                if space && !out.is_empty() {
                    out.push(' ');
                }
                space = false;
                out.push(f);
            }
            None => space = true,
        }
    }
    out
}

const PUNCT: &[char] = &[
    ',', '.', ';', ':', '?', '!', '+', '(', ')', '-', '/', '$', '*', '=', '|', '…', '–', '—',
];

/// Splits text into raw tokens. `masked` byte ranges (CEPs, addresses already read) are
/// skipped.
pub(crate) fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let n = chars.len();
    let end_of = |i: usize| -> usize {
        if i < n {
            chars[i].0
        } else {
            text.len()
        }
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < n {
        let (pos, c) = chars[i];
        if c.is_ascii_digit() {
            let start = i;
            let mut j = i;
            while j < n && chars[j].1.is_ascii_digit() {
                j += 1;
            }
            // Decimal comma / thousands dot groups.
            while j + 1 < n
                && (chars[j].1 == ',' || chars[j].1 == '.')
                && chars[j + 1].1.is_ascii_digit()
            {
                j += 1;
                while j < n && chars[j].1.is_ascii_digit() {
                    j += 1;
                }
            }
            let raw: String = chars[start..j].iter().map(|(_, c)| *c).collect();
            // Fraction or date: digits '/' digits.
            if j + 1 < n
                && chars[j].1 == '/'
                && chars[j + 1].1.is_ascii_digit()
                && !raw.contains([',', '.'])
            {
                let mut k = j + 1;
                while k < n && chars[k].1.is_ascii_digit() {
                    k += 1;
                }
                let den_raw: String = chars[j + 1..k].iter().map(|(_, c)| *c).collect();
                let a = raw.parse::<i64>().unwrap_or(-1);
                let b = den_raw.parse::<i64>().unwrap_or(-1);
                if a >= 0 && b > 0 && raw.len() <= 4 && den_raw.len() <= 4 {
                    out.push(Token {
                        kind: Kind::Frac,
                        text: format!("{a}/{b}"),
                        value: a,
                        den: b,
                        start: pos,
                        end: end_of(k),
                        from_word: false,
                        cap: false,
                        plural: false,
                    });
                    i = k;
                    continue;
                }
            }
            match parse_number(&raw) {
                Some(v) => out.push(num_token(v, pos, end_of(j), false)),
                None => out.push(Token {
                    kind: Kind::Punct,
                    text: "#".into(),
                    value: 0,
                    den: 0,
                    start: pos,
                    end: end_of(j),
                    from_word: false,
                    cap: false,
                    plural: false,
                }),
            }
            i = j;
            continue;
        }
        if fold_char(c).is_some() {
            let start = i;
            let mut word = String::new();
            let mut j = i;
            while j < n {
                let cj = chars[j].1;
                if (cj == '\'' || cj == '’' || cj == '`' || cj == '´')
                    && j + 1 < n
                    && fold_char(chars[j + 1].1).is_some_and(|f| f.is_alphabetic())
                    && !word.is_empty()
                {
                    j += 1;
                    continue;
                }
                // "2,44x1,10", "14x19x39": the x is a separator between numbers.
                if word == "x" && cj.is_ascii_digit() {
                    break;
                }
                match fold_char(cj) {
                    Some(f) => {
                        // Letters then digits stay one word (m3, cp2, h8); digits never
                        // start a word here.
                        word.push(f);
                        j += 1;
                    }
                    None => break,
                }
                if word.len() > 64 {
                    break;
                }
            }
            // A word like "2x" never happens here (digits handled above); split a trailing
            // letters-after-digits part such as "m3x"? Not needed: keep as is.
            let cap = c.is_uppercase();
            out.push(Token {
                kind: Kind::Word,
                text: word,
                value: 0,
                den: 0,
                start: chars[start].0,
                end: end_of(j),
                from_word: false,
                cap,
                plural: false,
            });
            i = j;
            continue;
        }
        if c == '\n' || c == '\r' {
            out.push(Token {
                kind: Kind::Newline,
                text: "\n".into(),
                value: 0,
                den: 0,
                start: pos,
                end: end_of(i + 1),
                from_word: false,
                cap: false,
                plural: false,
            });
        } else if PUNCT.contains(&c) {
            let t = match c {
                '…' => '.',
                '–' | '—' => '-',
                other => other,
            };
            out.push(Token {
                kind: Kind::Punct,
                text: t.to_string(),
                value: 0,
                den: 0,
                start: pos,
                end: end_of(i + 1),
                from_word: false,
                cap: false,
                plural: false,
            });
        }
        i += 1;
    }
    out
}
