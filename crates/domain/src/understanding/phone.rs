//! Phone numbers in a message ("meu zap 11 98765-4321", "(21) 3344-5566"): found before
//! anything else reads the text and masked, so their digits never become quantities.

/// Words that announce a phone number.
const CUES: &[&str] = &[
    "zap", "whats", "whatsapp", "wpp", "zapzap", "cel", "celular", "fone", "telefone", "tel",
    "contato", "liga", "ligar", "ligue", "numero", "número", "nº",
];

/// Byte ranges of the phone numbers in `text` (area code and "+55" included).
pub(crate) fn find_phones(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut ranges = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let starts_number = b[i].is_ascii_digit() && (i == 0 || !is_numberish(b[i - 1]));
        if !starts_number && b[i] != b'(' && b[i] != b'+' {
            i += 1;
            continue;
        }
        match phone_at(text, i) {
            Some(end) => {
                ranges.push((i, end));
                i = end;
            }
            None => i += 1,
        }
    }
    ranges
}

fn is_numberish(c: u8) -> bool {
    c.is_ascii_digit() || c == b',' || c == b'/'
}

/// Reads the digit run starting at `i`; returns its end.
fn digits(b: &[u8], i: usize) -> usize {
    let mut j = i;
    while j < b.len() && b[j].is_ascii_digit() {
        j += 1;
    }
    j
}

/// A phone number starting at byte `i`: `[+55] [(DD) | DD] NNNN[N][-. ]NNNN`, or 10–11
/// digits in a row. Returns the end byte.
fn phone_at(text: &str, i: usize) -> Option<usize> {
    let b = text.as_bytes();
    let mut k = i;
    let mut area = false;
    // "+55 " country code.
    if b[k] == b'+' {
        let e = digits(b, k + 1);
        if e != k + 3 {
            return None;
        }
        k = skip_spaces(b, e);
    }
    // "(11) " or "11 " area code.
    if k < b.len() && b[k] == b'(' {
        let e = digits(b, k + 1);
        if e != k + 3 || b.get(e) != Some(&b')') {
            return None;
        }
        area = true;
        k = skip_spaces(b, e + 1);
    } else if k < b.len() && b[k].is_ascii_digit() {
        let e = digits(b, k);
        if e - k == 2 && b.get(e) == Some(&b' ') && b.get(e + 1).is_some_and(u8::is_ascii_digit) {
            area = true;
            k = e + 1;
        }
    }
    if k >= b.len() || !b[k].is_ascii_digit() {
        return None;
    }
    let first_end = digits(b, k);
    let first = first_end - k;
    // The number ends there: no more digits, nor a decimal part ("5432, entrega" ends).
    let ends_clean = |e: usize| match b.get(e) {
        None => true,
        Some(c) if c.is_ascii_digit() => false,
        Some(b',' | b'.' | b'/') => !b.get(e + 1).is_some_and(u8::is_ascii_digit),
        Some(_) => true,
    };
    // 10–11 digits in a row: area code and number together.
    if !area && (10..=11).contains(&first) && ends_clean(first_end) {
        return Some(first_end);
    }
    if !(first == 4 || first == 5) {
        return None;
    }
    let sep = *b.get(first_end)?;
    let second_start = if matches!(sep, b'-' | b' ' | b'.') {
        first_end + 1
    } else {
        return None;
    };
    let second_end = digits(b, second_start);
    if second_end - second_start != 4 || !ends_clean(second_end) {
        return None;
    }
    let mobile = first == 5 && b[k] == b'9';
    // "3000-5000" could be a range of amounts: without a mobile prefix or an area code, a
    // cue word must say it is a phone.
    if mobile && sep == b'-' || area || cue_before(text, i) {
        Some(second_end)
    } else {
        None
    }
}

fn skip_spaces(b: &[u8], mut k: usize) -> usize {
    while k < b.len() && b[k] == b' ' {
        k += 1;
    }
    k
}

/// A cue word among the few words before byte `i`.
fn cue_before(text: &str, i: usize) -> bool {
    let mut from = i.saturating_sub(24);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    let before = text[from..i].to_lowercase();
    before
        .split(|c: char| !c.is_alphanumeric() && c != 'º')
        .filter(|w| !w.is_empty())
        .rev()
        .take(3)
        .any(|w| CUES.contains(&w))
}

#[cfg(test)]
mod tests {
    use super::find_phones;

    #[test]
    fn phones_are_found_with_their_area_code() {
        let cases: &[(&str, &[&str])] = &[
            ("meu whats 21 98877-6655 ok", &["21 98877-6655"]),
            ("liga (11) 3344-5566", &["(11) 3344-5566"]),
            ("cel 97766 5544", &["97766 5544"]),
            ("+55 11 91234-5678", &["+55 11 91234-5678"]),
            ("contato 11987654321", &["11987654321"]),
            ("fone 4455-6677", &["4455-6677"]),
            // Amounts, sizes and ranges stay.
            ("3000-5000 tijolos", &[]),
            ("10 sacos de cimento 50kg", &[]),
            ("tijolo 9x14x19 1500 un", &[]),
            ("cep 04567-000", &[]),
            ("12 barras de 3/8", &[]),
            ("2 kg, 1,5 kg e 2500 un", &[]),
            ("zap 11 99876-5432, entrega amanhã", &["11 99876-5432"]),
            ("fone 4455-6677.", &["4455-6677"]),
        ];
        for (text, want) in cases {
            let got: Vec<&str> = find_phones(text)
                .into_iter()
                .map(|(s, e)| &text[s..e])
                .collect();
            assert_eq!(&got, want, "{text}");
        }
    }
}
