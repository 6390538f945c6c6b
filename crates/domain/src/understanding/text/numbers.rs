//! Numbers in every spelling: digits with decimal commas and thousands dots, pt-BR number
//! words, and their compositions ("vinte e cinco", "3 mil e meio", "2 metros e meio",
//! ranges read as their upper bound).

use crate::money::QUANTITY_SCALE;
use crate::understanding::lexicon;

use super::normalize::canonical_unit;
use super::{Kind, Token};

pub(crate) fn num_token(v: i64, start: usize, end: usize, from_word: bool) -> Token {
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

/// The largest power of ten not above `v` (both in thousandths): 20 → 10, 300 → 100.
fn magnitude(v: i64) -> i64 {
    let mut m = QUANTITY_SCALE;
    while m.saturating_mul(10) <= v {
        m = m.saturating_mul(10);
    }
    m
}

/// Joins numbers written in several tokens into one (repeated until stable, bounded). Only
/// messages with two numbers, or a number next to "e", can change.
pub(super) fn compose_numbers(mut toks: Vec<Token>) -> Vec<Token> {
    let nums = toks.iter().filter(|t| t.kind == Kind::Num).count();
    let rounds = if nums == 0 { 0 } else { 4 };
    for _ in 0..rounds {
        let mut changed = false;
        let mut out: Vec<Token> = Vec::with_capacity(toks.len());
        let mut i = 0;
        while i < toks.len() {
            if toks[i].kind == Kind::Num {
                let used = thousands_and_more(&toks, i, &mut out)
                    .or_else(|| times_thousand(&toks, i, &mut out))
                    .or_else(|| number_and_number(&toks, i, &mut out))
                    .or_else(|| unit_and_a_half(&toks, i, &mut out))
                    .or_else(|| range_upper_bound(&toks, i, &mut out));
                if let Some(used) = used {
                    i += used;
                    changed = true;
                    continue;
                }
            }
            out.push(toks[i].clone());
            i += 1;
        }
        toks = out;
        if !changed {
            break;
        }
    }
    toks
}

/// "1 milheiro e duzentos" = 1200 pieces: the unit is spent on the thousands, so the amount
/// is left as a plain count (a milheiro item divides it back: 1,2).
fn thousands_and_more(toks: &[Token], i: usize, out: &mut Vec<Token>) -> Option<usize> {
    let t = &toks[i];
    let more = toks.get(i + 3)?;
    if toks[i + 1].kind == Kind::Word
        && canonical_unit(&toks[i + 1].text) == Some("milheiro")
        && toks[i + 2].is_word("e")
        && more.kind == Kind::Num
        && more.value >= QUANTITY_SCALE
        && more.value < 1000 * QUANTITY_SCALE
        && t.value > 0
        && t.value % QUANTITY_SCALE == 0
        // "1 milheiro e 20 sacos": a new amount with its own unit.
        && !toks
            .get(i + 4)
            .is_some_and(|u| u.kind == Kind::Word && canonical_unit(&u.text).is_some())
    {
        let v = t.value.checked_mul(1000)?.checked_add(more.value)?;
        let mut j = num_token(v, t.start, more.end, t.from_word);
        j.cap = t.cap;
        out.push(j);
        return Some(4);
    }
    None
}

/// N mil → N*1000 ("3 mil", "dois mil"). Pushes the number and returns the tokens it used.
fn times_thousand(toks: &[Token], i: usize, out: &mut Vec<Token>) -> Option<usize> {
    let t = &toks[i];
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
        return Some(2);
    }
    None
}

/// "vinte e cinco", "mil e quinhentos", "dois e meio", "2 e meio", "3 mil e meio".
fn number_and_number(toks: &[Token], i: usize, out: &mut Vec<Token>) -> Option<usize> {
    let t = &toks[i];
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
        // "2 e meio" is 2,5 unless the 2 is a size and the half an amount of something
        // named next ("brita 2 e meio de brita 1"); "fio dois e meio" is the 2,5 gauge.
        let after_product = out.last().is_some_and(|p: &Token| {
            p.kind == Kind::Word
                && !lexicon::is_stopword(&p.text)
                && canonical_unit(&p.text).is_none()
        }) && toks.get(i + 3).is_some_and(|d| d.is_word("de"));
        let own_unit = toks
            .get(i + 3)
            .is_some_and(|u| u.kind == Kind::Word && canonical_unit(&u.text).is_some());
        let half =
            b == QUANTITY_SCALE / 2 && a % QUANTITY_SCALE == 0 && !after_product && !own_unit;
        // "3 mil e meio", "mil e meia": half of the thousand (3500), and no
        // product size is counted in thousands, so it may follow the name.
        let thousands = 1000 * QUANTITY_SCALE;
        let half_thousand = b == QUANTITY_SCALE / 2 && a > 0 && a % thousands == 0;
        let b = if half_thousand { thousands / 2 } else { b };
        if tens_ok || half || half_thousand {
            let mut j = num_token(a + b, t.start, toks[i + 2].end, t.from_word);
            j.cap = t.cap;
            out.push(j);
            return Some(3);
        }
    }
    None
}

/// "2 milheiros e meio", "um metro e meio": N unit e meio → (N+0.5) unit.
fn unit_and_a_half(toks: &[Token], i: usize, out: &mut Vec<Token>) -> Option<usize> {
    let t = &toks[i];
    if i + 3 < toks.len()
        && toks[i + 1].kind == Kind::Word
        && canonical_unit(&toks[i + 1].text).is_some()
        && toks[i + 2].is_word("e")
        && toks[i + 3].kind == Kind::Num
        && toks[i + 3].from_word
        && toks[i + 3].value == QUANTITY_SCALE / 2
        // "25kg e meia dúzia de...", "3 sacos e meio metro de areia": a new
        // amount with its own unit, not a half of the first.
        && !toks
            .get(i + 4)
            .is_some_and(|u| u.kind == Kind::Word && canonical_unit(&u.text).is_some())
    {
        let mut j = num_token(t.value + QUANTITY_SCALE / 2, t.start, t.end, t.from_word);
        j.cap = t.cap;
        out.push(j);
        out.push(toks[i + 1].clone());
        return Some(4);
    }
    None
}

/// Ranges: "8 a 10", "2 ou 3", "8-10" → the upper bound.
fn range_upper_bound(toks: &[Token], i: usize, out: &mut Vec<Token>) -> Option<usize> {
    let t = &toks[i];
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
        && !(toks[i + 1].is_punct('-')
            && (t.end != toks[i + 1].start || toks[i + 1].end != toks[i + 2].start))
    {
        let mut j = toks[i + 2].clone();
        j.start = t.start;
        j.cap = t.cap;
        out.push(j);
        return Some(3);
    }
    None
}
