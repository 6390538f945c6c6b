//! Normalising raw tokens: abbreviations, product codes, unit synonyms, plurals and number
//! words, so that a message and the catalog meet on identical token strings.

use crate::money::QUANTITY_SCALE;
use crate::understanding::lexicon;

use super::numbers::{canonical_number, compose_numbers, num_token, number_word};
use super::{Kind, Token};

/// Canonical form of a unit word, if it is one.
pub(crate) fn canonical_unit(w: &str) -> Option<&'static str> {
    Some(match w {
        // Diminutives are the same package said kindly ("10 saquinho de cimento").
        "sc" | "saco" | "saca" | "scs" | "sco" | "saquinho" => "saco",
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
    join_abbreviation_dots(&mut toks);
    expand_slash_abbreviations(&mut toks);
    let mut toks = canonical_words(&toks);
    drop_item_numbering(&mut toks);
    drop_amount_repeated_in_words(&mut toks);
    super::dictation::spoken_numbers(compose_numbers(toks))
}

/// "Jd. Ângela", "R. das Flores": the dot of an abbreviation is not a sentence end.
fn join_abbreviation_dots(toks: &mut Vec<Token>) {
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
}

/// "p/ obra", "c/ cabo", "s/ furo": abbreviations of para, com, sem, not a list "/".
fn expand_slash_abbreviations(toks: &mut Vec<Token>) {
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
}

/// Joins and word-level canonical forms: every word token becomes one canonical token
/// (which may have absorbed the tokens after it); other tokens are kept.
fn canonical_words(toks: &[Token]) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::with_capacity(toks.len());
    let mut i = 0;
    while i < toks.len() {
        if toks[i].kind == Kind::Word {
            let (word, used) = canonical_word(toks, i);
            out.push(word);
            i += used;
        } else {
            out.push(toks[i].clone());
            i += 1;
        }
    }
    out
}

/// The canonical token of the word at `i`, and how many tokens it used.
fn canonical_word(toks: &[Token], i: usize) -> (Token, usize) {
    caixa_dagua(toks, i)
        .or_else(|| d_agua(toks, i))
        .or_else(|| product_code(toks, i))
        .or_else(|| joined_roman_code(&toks[i]))
        .or_else(|| cubic_or_square_metre(toks, i))
        .or_else(|| number_word_token(&toks[i]))
        .or_else(|| one_more_piece(toks, i))
        .or_else(|| chat_muito(toks, i))
        .unwrap_or_else(|| plain_word(toks[i].clone()))
}

/// "cx d'água" is a caixa d'água, not a box of something (the "dagua" stays).
fn caixa_dagua(toks: &[Token], i: usize) -> Option<(Token, usize)> {
    let t = &toks[i];
    if t.text == "cx"
        && i + 1 < toks.len()
        && (toks[i + 1].is_word("dagua") || toks[i + 1].is_word("d"))
    {
        let mut j = t.clone();
        j.text = "caixa".into();
        return Some((j, 1));
    }
    None
}

/// d agua / d'agua → dagua
fn d_agua(toks: &[Token], i: usize) -> Option<(Token, usize)> {
    let t = &toks[i];
    if t.text == "d" && i + 1 < toks.len() && toks[i + 1].is_word("agua") {
        let mut j = toks[i + 1].clone();
        j.text = "dagua".into();
        j.start = t.start;
        j.cap = t.cap;
        return Some((j, 2));
    }
    None
}

/// Product codes written apart: "cp ii", "CP-II", "ac-iii", "ca 50" → cp2, ac3, ca50.
fn product_code(toks: &[Token], i: usize) -> Option<(Token, usize)> {
    let t = &toks[i];
    if !CODE_PREFIXES.contains(&t.text.as_str()) {
        return None;
    }
    let mut k = i + 1;
    if k < toks.len() && toks[k].is_punct('-') {
        k += 1;
    }
    let nx = toks.get(k)?;
    let code = if nx.kind == Kind::Word {
        // "AC dois", "cp quatro": dictated codes.
        roman(&nx.text).or_else(|| {
            number_word(&nx.text)
                .filter(|v| t.text != "ca" && (1..=5).any(|k| *v == k * QUANTITY_SCALE))
                .map(|v| v / QUANTITY_SCALE)
        })
    } else if nx.kind == Kind::Num
        && nx.value % QUANTITY_SCALE == 0
        && nx.value <= 99 * QUANTITY_SCALE
        && !nx.from_word
    {
        Some(nx.value / QUANTITY_SCALE)
    } else {
        None
    };
    let c = code?;
    let mut j = t.clone();
    j.text = format!("{}{}", t.text, c);
    j.end = toks[k].end;
    Some((j, k + 1 - i))
}

/// Codes written together with a roman numeral: cpii, cpiv, aciii.
fn joined_roman_code(t: &Token) -> Option<(Token, usize)> {
    let p = CODE_PREFIXES.iter().find(|p| t.text.starts_with(**p))?;
    let r = roman(&t.text[p.len()..])?;
    let mut j = t.clone();
    j.text = format!("{p}{r}");
    Some((j, 1))
}

/// "metro cubico" / "metros quadrados" → m3 / m2.
fn cubic_or_square_metre(toks: &[Token], i: usize) -> Option<(Token, usize)> {
    let t = &toks[i];
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
            return Some((j, 2));
        }
    }
    None
}

/// "dez", "meia": a number written as a word.
fn number_word_token(t: &Token) -> Option<(Token, usize)> {
    let v = number_word(&t.text)?;
    let mut j = num_token(v, t.start, t.end, true);
    j.cap = t.cap;
    j.text = canonical_number(v);
    // keep the word for "um"/"uma" articles in `plural` false; from_word marks it.
    Some((j, 1))
}

/// "mt" is a metre after an amount ("2 mt de areia") and "muito" anywhere else ("tem mt
/// pedra no caminho", "mt obrigado").
fn chat_muito(toks: &[Token], i: usize) -> Option<(Token, usize)> {
    let t = &toks[i];
    let after_amount = i > 0
        && (toks[i - 1].kind == Kind::Num
            || toks[i - 1].kind == Kind::Frac
            || number_word(&toks[i - 1].text).is_some());
    if t.text != "mt" || after_amount {
        return None;
    }
    let mut j = t.clone();
    j.text = "muito".into();
    Some((j, 1))
}

/// "e outra de 6 metros", "outro de 50": one more piece.
fn one_more_piece(toks: &[Token], i: usize) -> Option<(Token, usize)> {
    let t = &toks[i];
    if (t.text == "outra" || t.text == "outro") && toks.get(i + 1).is_some_and(|n| n.is_word("de"))
    {
        let mut j = num_token(QUANTITY_SCALE, t.start, t.end, true);
        j.cap = t.cap;
        return Some((j, 1));
    }
    None
}

/// Any other word: "umas" as "uns", the unit synonym's canonical form, the plural stripped
/// (plural number words such as "duzentos", "quinhentas" become numbers).
fn plain_word(t: Token) -> (Token, usize) {
    if t.text == "uns" || t.text == "umas" {
        let mut j = t;
        j.text = "uns".into();
        return (j, 1);
    }
    let (sing, plural) = if lexicon::is_stopword(&t.text) {
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
        return (nt, 1);
    }
    j.plural = plural;
    (j, 1)
}

/// "item 1: cimento": a numbering, not an amount.
fn drop_item_numbering(toks: &mut Vec<Token>) {
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
}

/// "10 (dez)": the amount written twice.
fn drop_amount_repeated_in_words(toks: &mut Vec<Token>) {
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
}
