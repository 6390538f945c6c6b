//! Turning WhatsApp text into tokens: accent and case folding, numbers (digits, decimal
//! commas, thousands dots, fractions, number words), unit synonyms and plural stripping.
//!
//! The same normalisation runs on catalog names and aliases, so a message and the catalog
//! meet on identical token strings ("Cimento CP-II" and "cimento cp 2" both give `cimento
//! cp2`).

use crate::money::QUANTITY_SCALE;

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

fn num_token(v: i64, start: usize, end: usize, from_word: bool) -> Token {
    Token {
        kind: Kind::Num,
        text: canonical_number(v),
        value: v,
        den: 0,
        start,
        end,
        from_word,
        cap: false,
        plural: false,
    }
}

/// `2500` thousandths → `2.5`.
pub(crate) fn canonical_number(v: i64) -> String {
    crate::money::Quantity::from_thousandths(v).to_decimal_string()
}

/// Parses `10`, `2,5`, `1.500` (thousands), `4.2` (decimal), `1.234,5`. Value in
/// thousandths; `None` when too large.
pub(crate) fn parse_number(raw: &str) -> Option<i64> {
    let (int_part, frac_part) = if let Some(idx) = raw.rfind(',') {
        (raw[..idx].replace('.', ""), raw[idx + 1..].to_string())
    } else if raw.contains('.') {
        let groups: Vec<&str> = raw.split('.').collect();
        if groups.len() > 1
            && groups[1..].iter().all(|g| g.len() == 3)
            && !groups[0].is_empty()
            && groups[0].len() <= 3
        {
            (groups.concat(), String::new())
        } else {
            match raw.rfind('.') {
                Some(idx) => (raw[..idx].replace('.', ""), raw[idx + 1..].to_string()),
                None => (raw.to_string(), String::new()),
            }
        }
    } else {
        (raw.to_string(), String::new())
    };
    let int_part = int_part.replace(',', "");
    if int_part.len() > 12 || !int_part.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let int_v: i64 = if int_part.is_empty() {
        0
    } else {
        int_part.parse().ok()?
    };
    let mut frac_v: i64 = 0;
    let frac_digits: Vec<u8> = frac_part
        .bytes()
        .filter(|b| b.is_ascii_digit())
        .take(3)
        .collect();
    for (k, d) in frac_digits.iter().enumerate() {
        frac_v += ((d - b'0') as i64) * 10_i64.pow(2 - k as u32);
    }
    int_v.checked_mul(QUANTITY_SCALE)?.checked_add(frac_v)
}

/// Number words of pt-BR, in thousandths.
pub(crate) fn number_word(w: &str) -> Option<i64> {
    let v = match w {
        "zero" => 0,
        "um" | "uma" => 1,
        "dois" | "duas" => 2,
        "tres" => 3,
        "quatro" => 4,
        "cinco" => 5,
        "seis" => 6,
        "sete" => 7,
        "oito" => 8,
        "nove" => 9,
        "dez" => 10,
        "onze" => 11,
        "doze" => 12,
        "treze" => 13,
        "quatorze" | "catorze" => 14,
        "quinze" => 15,
        "dezesseis" | "dezeseis" => 16,
        "dezessete" | "dezesete" => 17,
        "dezoito" => 18,
        "dezenove" => 19,
        "vinte" => 20,
        "trinta" => 30,
        "quarenta" => 40,
        "cinquenta" => 50,
        "sessenta" => 60,
        "setenta" => 70,
        "oitenta" => 80,
        "noventa" => 90,
        "cem" | "cento" => 100,
        "duzento" | "duzenta" => 200,
        "trezento" | "trezenta" => 300,
        "quatrocento" | "quatrocenta" => 400,
        "quinhento" | "quinhenta" => 500,
        "seiscento" | "seiscenta" => 600,
        "setecento" | "setecenta" => 700,
        "oitocento" | "oitocenta" => 800,
        "novecento" | "novecenta" => 900,
        "mil" => 1000,
        "meio" | "meia" => return Some(QUANTITY_SCALE / 2),
        _ => return None,
    };
    Some(v * QUANTITY_SCALE)
}

/// Canonical form of a unit word, if it is one.
pub(crate) fn canonical_unit(w: &str) -> Option<&'static str> {
    Some(match w {
        "sc" | "saco" | "saca" | "scs" | "sco" => "saco",
        "m3" | "mt3" | "metro3" => "m3",
        "m2" | "mt2" | "metro2" => "m2",
        "m" | "mt" | "mtr" | "metro" | "mtrs" => "m",
        "un" | "und" | "unid" | "unidade" | "unds" | "uni" => "un",
        "pc" | "pca" | "peca" => "pc",
        "br" | "barra" | "brs" | "vara" => "barra",
        "kg" | "kilo" | "quilo" | "kgs" | "k" => "kg",
        "l" | "lt" | "litro" | "ltr" | "lts" => "l",
        "lata" | "lta" => "lata",
        "galao" | "gl" | "gal" => "galao",
        "rolo" | "rl" => "rolo",
        "milheiro" | "milhero" | "milheir" => "milheiro",
        "duzia" => "duzia",
        "balde" => "balde",
        "cx" => "cx",
        "mm" => "mm",
        "cm" => "cm",
        _ => return None,
    })
}

/// Strips a plural ending so "sacos", "tijolos", "galões" meet their singular.
pub(crate) fn singular(w: &str) -> (String, bool) {
    let len = w.chars().count();
    if len <= 3 || !w.is_ascii() {
        return (w.to_string(), false);
    }
    if let Some(stem) = w.strip_suffix("oes") {
        return (format!("{stem}ao"), true);
    }
    if let Some(stem) = w.strip_suffix("aes") {
        return (format!("{stem}ao"), true);
    }
    if len >= 6 {
        if let Some(stem) = w.strip_suffix("ais") {
            return (format!("{stem}al"), true);
        }
        if let Some(stem) = w.strip_suffix("eis") {
            return (format!("{stem}el"), true);
        }
    }
    if let Some(stem) = w.strip_suffix("ns") {
        return (format!("{stem}m"), true);
    }
    if w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is") {
        return (w[..w.len() - 1].to_string(), true);
    }
    (w.to_string(), false)
}

/// Canonical roman/arabic codes: cp ii → cp2, ac-iii → ac3, ca 50 → ca50.
fn roman(w: &str) -> Option<i64> {
    Some(match w {
        "i" => 1,
        "ii" => 2,
        "iii" => 3,
        "iv" => 4,
        "v" => 5,
        _ => return None,
    })
}

const CODE_PREFIXES: &[&str] = &["cp", "ac", "ch", "ca"];

/// Normalises raw tokens: joins `d agua`, product codes, number words and their
/// compositions, "e meio", ranges (upper bound), unit synonyms and plurals.
pub(crate) fn normalize(mut toks: Vec<Token>) -> Vec<Token> {
    // 0. "Jd. Ângela", "R. das Flores": the dot of an abbreviation is not a sentence end.
    let mut k = 0;
    while k + 2 < toks.len() {
        if toks[k].kind == Kind::Word
            && matches!(
                toks[k].text.as_str(),
                "jd" | "jdm"
                    | "vl"
                    | "pq"
                    | "av"
                    | "r"
                    | "sta"
                    | "sto"
                    | "cid"
                    | "res"
                    | "cj"
                    | "conj"
                    | "dr"
                    | "prof"
                    | "pres"
                    | "chac"
                    // unit abbreviations: "10 un. bloco 14", "2 sc. cimento"
                    | "un"
                    | "und"
                    | "unid"
                    | "sc"
                    | "pc"
                    | "pcs"
                    | "cx"
                    | "br"
                    | "kg"
                    | "mt"
                    | "mts"
                    | "qtd"
                    | "qtde"
                    | "aprox"
            )
            && toks[k + 1].is_punct('.')
            && toks[k + 2].kind == Kind::Word
        {
            toks.remove(k + 1);
        }
        k += 1;
    }
    // "p/ obra", "c/ cabo", "s/ furo": abbreviations of para, com, sem, not a list "/".
    let mut k = 0;
    while k + 1 < toks.len() {
        let full = match toks[k].text.as_str() {
            "p" | "pra" => Some("para"),
            "c" => Some("com"),
            "s" => Some("sem"),
            _ => None,
        };
        if let Some(f) = full.filter(|_| {
            toks[k].kind == Kind::Word
                && toks[k + 1].is_punct('/')
                && toks[k + 1].start == toks[k].end
                && toks.get(k + 2).is_none_or(|n| n.kind != Kind::Num)
        }) {
            toks[k].text = f.to_string();
            toks[k].end = toks[k + 1].end;
            toks.remove(k + 1);
        }
        k += 1;
    }
    // 1. Joins and word-level canonical forms.
    let mut out: Vec<Token> = Vec::with_capacity(toks.len());
    let mut i = 0;
    while i < toks.len() {
        let t = toks[i].clone();
        if t.kind == Kind::Word {
            // "cx d'água" is a caixa d'água, not a box of something.
            if t.text == "cx"
                && i + 1 < toks.len()
                && (toks[i + 1].is_word("dagua") || toks[i + 1].is_word("d"))
            {
                let mut j = t.clone();
                j.text = "caixa".into();
                out.push(j);
                i += 1;
                continue;
            }
            // d agua / d'agua → dagua
            if t.text == "d" && i + 1 < toks.len() && toks[i + 1].is_word("agua") {
                let mut j = toks[i + 1].clone();
                j.text = "dagua".into();
                j.start = t.start;
                j.cap = t.cap;
                out.push(j);
                i += 2;
                continue;
            }
            if CODE_PREFIXES.contains(&t.text.as_str()) {
                let mut k = i + 1;
                if k < toks.len() && toks[k].is_punct('-') {
                    k += 1;
                }
                if k < toks.len() {
                    let nx = &toks[k];
                    let code = if nx.kind == Kind::Word {
                        roman(&nx.text)
                    } else if nx.kind == Kind::Num
                        && nx.value % QUANTITY_SCALE == 0
                        && nx.value <= 99 * QUANTITY_SCALE
                        && !nx.from_word
                    {
                        Some(nx.value / QUANTITY_SCALE)
                    } else {
                        None
                    };
                    if let Some(c) = code {
                        let mut j = t.clone();
                        j.text = format!("{}{}", t.text, c);
                        j.end = toks[k].end;
                        out.push(j);
                        i = k + 1;
                        continue;
                    }
                }
            }
            // Codes written together with a roman numeral: cpii, cpiv, aciii.
            if let Some(p) = CODE_PREFIXES.iter().find(|p| t.text.starts_with(**p)) {
                if let Some(r) = roman(&t.text[p.len()..]) {
                    let mut j = t.clone();
                    j.text = format!("{p}{r}");
                    out.push(j);
                    i += 1;
                    continue;
                }
            }
            // "metro cubico" / "metros quadrados"
            if (t.text == "metro"
                || t.text == "metros"
                || t.text == "m"
                || t.text == "mt"
                || t.text == "mts")
                && i + 1 < toks.len()
                && toks[i + 1].kind == Kind::Word
            {
                let nx = toks[i + 1].text.as_str();
                let unit = if nx.starts_with("cubic") {
                    Some("m3")
                } else if nx.starts_with("quadrad") {
                    Some("m2")
                } else {
                    None
                };
                if let Some(u) = unit {
                    let mut j = t.clone();
                    j.text = u.into();
                    j.end = toks[i + 1].end;
                    out.push(j);
                    i += 2;
                    continue;
                }
            }
            if let Some(v) = number_word(&t.text) {
                let mut j = num_token(v, t.start, t.end, true);
                j.cap = t.cap;
                j.text = canonical_number(v);
                // keep the word for "um"/"uma" articles in `plural` false; from_word marks it.
                out.push(j);
                i += 1;
                continue;
            }
            // "e outra de 6 metros", "outro de 50": one more piece.
            if (t.text == "outra" || t.text == "outro")
                && toks.get(i + 1).is_some_and(|n| n.is_word("de"))
            {
                let mut j = num_token(QUANTITY_SCALE, t.start, t.end, true);
                j.cap = t.cap;
                out.push(j);
                i += 1;
                continue;
            }
            if t.text == "uns" || t.text == "umas" {
                let mut j = t;
                j.text = "uns".into();
                out.push(j);
                i += 1;
                continue;
            }
            let (sing, plural) = if super::lexicon::is_stopword(&t.text) {
                (t.text.clone(), false)
            } else {
                singular(&t.text)
            };
            let mut j = t;
            let canon = canonical_unit(&sing)
                .or_else(|| canonical_unit(&j.text))
                .map(str::to_string);
            j.text = canon.unwrap_or(sing);
            // Plural forms of number words ("duzentos", "quinhentas").
            if let Some(v) = number_word(&j.text) {
                let mut nt = num_token(v, j.start, j.end, true);
                nt.cap = j.cap;
                out.push(nt);
                i += 1;
                continue;
            }
            j.plural = plural;
            out.push(j);
            i += 1;
            continue;
        }
        out.push(t);
        i += 1;
    }
    toks = out;

    // "item 1: cimento": a numbering, not an amount.
    let mut k = 0;
    while k + 1 < toks.len() {
        if toks[k].kind == Kind::Word
            && matches!(
                toks[k].text.as_str(),
                "item" | "iten" | "n" | "no" | "numero"
            )
            && toks[k + 1].kind == Kind::Num
            && toks
                .get(k + 2)
                .is_some_and(|t| t.is_punct(':') || t.is_punct(')') || t.is_punct('-'))
        {
            toks.remove(k + 1);
        }
        k += 1;
    }
    // "10 (dez)": the amount written twice.
    let mut k = 0;
    while k + 3 < toks.len() {
        if toks[k].kind == Kind::Num
            && toks[k + 1].is_punct('(')
            && toks[k + 2].kind == Kind::Num
            && toks[k + 2].from_word
            && toks[k + 2].value == toks[k].value
            && toks[k + 3].is_punct(')')
        {
            toks.drain(k + 1..k + 4);
        }
        k += 1;
    }
    // 2. Number compositions (repeat until stable, bounded). Only messages with two numbers,
    // or a number next to "e", can change.
    let nums = toks.iter().filter(|t| t.kind == Kind::Num).count();
    let rounds = if nums == 0 { 0 } else { 4 };
    for _ in 0..rounds {
        let mut changed = false;
        let mut out: Vec<Token> = Vec::with_capacity(toks.len());
        let mut i = 0;
        while i < toks.len() {
            let t = &toks[i];
            if t.kind == Kind::Num {
                // N mil → N*1000 ("3 mil", "dois mil")
                if i + 1 < toks.len()
                    && toks[i + 1].kind == Kind::Num
                    && toks[i + 1].from_word
                    && toks[i + 1].value == 1000 * QUANTITY_SCALE
                    && t.value < 1000 * QUANTITY_SCALE
                    && t.value > 0
                {
                    let v = t.value.saturating_mul(1000);
                    let mut j = num_token(v, t.start, toks[i + 1].end, t.from_word);
                    j.cap = t.cap;
                    out.push(j);
                    i += 2;
                    changed = true;
                    continue;
                }
                // "vinte e cinco", "mil e quinhentos", "dois e meio", "2 e meio"
                if i + 2 < toks.len()
                    && toks[i + 1].is_word("e")
                    && toks[i + 2].kind == Kind::Num
                    && toks[i + 2].from_word
                {
                    let a = t.value;
                    let b = toks[i + 2].value;
                    let tens_ok = t.from_word
                        && a >= 20 * QUANTITY_SCALE
                        && a % (10 * QUANTITY_SCALE) == 0
                        && b >= QUANTITY_SCALE
                        && b < magnitude(a);
                    // "2 e meio" is 2,5 unless the 2 is a size ("brita 2 e meio de brita 1").
                    let after_product = out.last().is_some_and(|p: &Token| {
                        p.kind == Kind::Word
                            && !super::lexicon::is_stopword(&p.text)
                            && canonical_unit(&p.text).is_none()
                    });
                    let own_unit = toks
                        .get(i + 3)
                        .is_some_and(|u| u.kind == Kind::Word && canonical_unit(&u.text).is_some());
                    let half = b == QUANTITY_SCALE / 2
                        && a % QUANTITY_SCALE == 0
                        && !after_product
                        && !own_unit;
                    // "3 mil e meio", "mil e meia": half of the thousand (3500), and no
                    // product size is counted in thousands, so it may follow the name.
                    let thousands = 1000 * QUANTITY_SCALE;
                    let half_thousand = b == QUANTITY_SCALE / 2 && a > 0 && a % thousands == 0;
                    let b = if half_thousand { thousands / 2 } else { b };
                    if tens_ok || half || half_thousand {
                        let mut j = num_token(a + b, t.start, toks[i + 2].end, t.from_word);
                        j.cap = t.cap;
                        out.push(j);
                        i += 3;
                        changed = true;
                        continue;
                    }
                }
                // "2 milheiros e meio", "um metro e meio": N unit e meio → (N+0.5) unit
                if i + 3 < toks.len()
                    && toks[i + 1].kind == Kind::Word
                    && canonical_unit(&toks[i + 1].text).is_some()
                    && toks[i + 2].is_word("e")
                    && toks[i + 3].kind == Kind::Num
                    && toks[i + 3].from_word
                    && toks[i + 3].value == QUANTITY_SCALE / 2
                    // "25kg e meia dúzia de...", "3 sacos e meio metro de areia": a new
                    // amount with its own unit, not a half of the first.
                    && !toks.get(i + 4).is_some_and(|u| {
                        u.kind == Kind::Word && canonical_unit(&u.text).is_some()
                    })
                {
                    let mut j =
                        num_token(t.value + QUANTITY_SCALE / 2, t.start, t.end, t.from_word);
                    j.cap = t.cap;
                    out.push(j);
                    out.push(toks[i + 1].clone());
                    i += 4;
                    changed = true;
                    continue;
                }
                // ranges: "8 a 10", "2 ou 3", "8-10" → upper bound
                if i + 2 < toks.len()
                    && (toks[i + 1].is_word("a")
                        || toks[i + 1].is_word("ou")
                        || toks[i + 1].is_word("ate")
                        || toks[i + 1].is_punct('-')
                        || toks[i + 1].is_punct('/'))
                    && toks[i + 2].kind == Kind::Num
                    && toks[i + 2].value > t.value
                    && !(toks[i + 1].is_punct('-') && t.from_word)
                    // "8-10" is a range; "brita 0 - 2 m³" is a size then an amount.
                    && !(toks[i + 1].is_punct('-') && (t.end != toks[i + 1].start || toks[i + 1].end != toks[i + 2].start))
                {
                    let mut j = toks[i + 2].clone();
                    j.start = t.start;
                    j.cap = t.cap;
                    out.push(j);
                    i += 3;
                    changed = true;
                    continue;
                }
            }
            out.push(t.clone());
            i += 1;
        }
        toks = out;
        if !changed {
            break;
        }
    }
    toks
}

/// The largest power of ten not above `v` (both in thousandths): 20 → 10, 300 → 100.
fn magnitude(v: i64) -> i64 {
    let mut m = QUANTITY_SCALE;
    while m.saturating_mul(10) <= v {
        m = m.saturating_mul(10);
    }
    m
}

/// Bounded Damerau–Levenshtein distance (optimal string alignment); returns `max + 1` when
/// the distance exceeds `max`.
/// A word's spelling with the letters that sound alike folded together: `ss`, `ç` (already
/// `c` here), `c` before a vowel, `z` between vowels all become `s`. Used only to match typos.
pub(crate) fn sound_fold(w: &str) -> String {
    let b = w.as_bytes();
    let vowel = |c: Option<&u8>| c.is_some_and(|c| b"aeiou".contains(c));
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1);
        if c == b's' && next == Some(&b's') {
            out.push('s');
            i += 2;
            continue;
        }
        let sibilant = match c {
            // "ce"/"ci" are soft; "ç" lost its cedilla in normalisation, so a "c" between
            // vowels ("maciço" → "macico") is read as the soft sound too.
            b'c' => {
                matches!(next, Some(b'e') | Some(b'i'))
                    || (i > 0 && vowel(b.get(i - 1)) && vowel(next))
            }
            b'z' => i > 0 && vowel(b.get(i - 1)) && vowel(next),
            _ => false,
        };
        out.push(if sibilant { 's' } else { c as char });
        i += 1;
    }
    out
}

pub(crate) fn edit_distance(a: &[u8], b: &[u8], max: usize) -> usize {
    let (n, m) = (a.len(), b.len());
    if n.abs_diff(m) > max {
        return max + 1;
    }
    if n > 40 || m > 40 {
        return max + 1;
    }
    let mut prev2 = [0usize; 41];
    let mut prev = [0usize; 41];
    let mut cur = [0usize; 41];
    for (j, p) in prev.iter_mut().enumerate().take(m + 1) {
        *p = j;
    }
    for i in 1..=n {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(prev2[j - 2] + 1);
            }
            cur[j] = v;
            row_min = row_min.min(v);
        }
        if row_min > max {
            return max + 1;
        }
        prev2 = prev;
        prev = cur;
    }
    prev[m]
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

    #[test]
    fn distance() {
        assert_eq!(edit_distance(b"cimeto", b"cimento", 2), 1);
        assert_eq!(edit_distance(b"simento", b"cimento", 2), 1);
        assert_eq!(edit_distance(b"argamsasa", b"argamassa", 2), 1);
        assert_eq!(edit_distance(b"abc", b"xyz", 1), 2);
    }

    #[test]
    fn same_sound_spellings() {
        let same: &[(&str, &str)] = &[
            ("macisso", "macico"),
            ("masico", "macico"),
            ("cimento", "simento"),
            ("grosa", "grossa"),
            ("cozinha", "cosinha"),
            ("pesso", "peco"),
        ];
        for (a, b) in same {
            assert_eq!(sound_fold(a), sound_fold(b), "{a} ~ {b}");
        }
        let other: &[(&str, &str)] = &[("caixa", "saixa"), ("cola", "sola"), ("prego", "preto")];
        for (a, b) in other {
            assert_ne!(sound_fold(a), sound_fold(b), "{a} !~ {b}");
        }
    }
}
