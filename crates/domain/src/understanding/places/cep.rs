//! CEPs in any spelling: "04321-050", "04.321-050", "cep 04321 050", and "05512 030" alone
//! on a line that announces a location.

use crate::ids::Cep;

/// Finds a CEP in any common spelling. Returns the last one and the byte ranges to mask.
pub(crate) fn find_cep(text: &str) -> (Option<Cep>, Vec<(usize, usize)>) {
    let b = text.as_bytes();
    let mut found = None;
    let mut ranges = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() || (i > 0 && b[i - 1].is_ascii_digit()) {
            i += 1;
            continue;
        }
        // Collect digit groups separated by one '.', '-' or ' '.
        let start = i;
        let mut groups: Vec<usize> = Vec::new();
        let mut j = i;
        loop {
            let gs = j;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            groups.push(j - gs);
            if j + 1 < b.len()
                && matches!(b[j], b'.' | b'-' | b' ')
                && b[j + 1].is_ascii_digit()
                && groups.len() < 3
            {
                let total: usize = groups.iter().sum();
                if total >= 8 {
                    break;
                }
                j += 1;
                continue;
            }
            break;
        }
        // Trim trailing groups until the shape is a CEP shape.
        let mut end = j;
        let mut ok_shape = None;
        let mut gs = groups.clone();
        while !gs.is_empty() {
            if matches!(gs.as_slice(), [8] | [5, 3] | [2, 3, 3]) {
                ok_shape = Some(gs.len());
                break;
            }
            gs.pop();
        }
        if let Some(n_groups) = ok_shape {
            // Recompute the end of the accepted groups.
            let mut k = start;
            let mut g = 0;
            while g < n_groups {
                while k < b.len() && b[k].is_ascii_digit() {
                    k += 1;
                }
                g += 1;
                if g < n_groups {
                    k += 1;
                }
            }
            end = k;
            // "12.345.678/0001-90" is a CNPJ, not a CEP.
            let followed_by_digit = end < b.len() && (b[end].is_ascii_digit() || b[end] == b'/');
            let raw = &text[start..end];
            if !followed_by_digit {
                if let Ok(cep) = Cep::parse(raw) {
                    // A space-separated pair is only a CEP when the word "cep" is near.
                    let spaced = raw.contains(' ');
                    // Only the few bytes before the number matter: "cep", or a place the
                    // delivery goes to ("entrega no 04843 120") — amounts do not follow
                    // those words.
                    let mut from = start.saturating_sub(16);
                    while !text.is_char_boundary(from) {
                        from += 1;
                    }
                    let before = text[from..start].to_lowercase();
                    let before = before.trim_end();
                    let cue = ["cep", "cep:", "entrega no", "entrega em", "entregar no"]
                        .iter()
                        .chain(&["entregar em", "endereço", "endereco"])
                        .any(|c| before.ends_with(c));
                    if !spaced || cue || alone_on_location_line(text, start, end) {
                        found = Some(cep);
                        ranges.push((start, end));
                    }
                }
            }
        }
        i = end.max(i + 1);
    }
    if let Some((cep, range)) = spoken_cep(text) {
        found = found.or(Some(cep));
        ranges.push(range);
    }
    (found, ranges)
}

/// One spoken digit as voice typing writes it ("zero", "quatro", "três", "meia" for six).
fn spoken_digit(word: &str) -> Option<u8> {
    let folded = crate::understanding::text::fold(word);
    Some(match folded.as_str() {
        "zero" => 0,
        "um" | "uma" => 1,
        "dois" | "duas" => 2,
        "tres" => 3,
        "quatro" => 4,
        "cinco" => 5,
        "seis" | "meia" => 6,
        "sete" => 7,
        "oito" => 8,
        "nove" => 9,
        _ => return None,
    })
}

/// A number from 10 to 999 said in words ("cento e dez", "quarenta e cinco", "trezentos"),
/// as its digits, and how many words it took. Only numbers of two or three digits: single
/// digits are read one by one.
fn spoken_group(words: &[String]) -> Option<(String, usize)> {
    let fold = |k: usize| words.get(k).map(|w| crate::understanding::text::fold(w));
    let hundreds = |w: &str| -> Option<u32> {
        Some(match w {
            "cem" | "cento" => 100,
            "duzentos" | "duzentas" => 200,
            "trezentos" | "trezentas" => 300,
            "quatrocentos" | "quatrocentas" => 400,
            "quinhentos" | "quinhentas" => 500,
            "seiscentos" | "seiscentas" => 600,
            "setecentos" | "setecentas" => 700,
            "oitocentos" | "oitocentas" => 800,
            "novecentos" | "novecentas" => 900,
            _ => return None,
        })
    };
    let tens = |w: &str| -> Option<u32> {
        Some(match w {
            "dez" => 10,
            "onze" => 11,
            "doze" => 12,
            "treze" => 13,
            "catorze" | "quatorze" => 14,
            "quinze" => 15,
            "dezesseis" => 16,
            "dezessete" => 17,
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
            _ => return None,
        })
    };
    let mut k = 0;
    let mut value = 0;
    if let Some(h) = fold(0).as_deref().and_then(hundreds) {
        value = h;
        k = 1;
        if fold(1).as_deref() == Some("e") {
            if let Some(t) = fold(2)
                .as_deref()
                .and_then(|w| tens(w).or(spoken_digit(w).map(u32::from)))
            {
                value += t;
                k = 3;
            }
        }
    }
    if k != 1 && k != 3 || value == 0 {
        // No hundreds: a number of tens.
        value = fold(0).as_deref().and_then(tens)?;
        k = 1;
    }
    // "… e cinco": the units after the tens.
    if value % 10 == 0 && value % 100 >= 20 && fold(k).as_deref() == Some("e") {
        if let Some(u) = fold(k + 1).as_deref().and_then(spoken_digit) {
            value += u32::from(u);
            k += 2;
        }
    }
    // "cem" is 100 alone; "cento" always comes with more.
    if fold(0).as_deref() == Some("cento") && k == 1 {
        return None;
    }
    Some((value.to_string(), k))
}

/// A CEP dictated digit by digit after the word "cep" ("meu cep é zero quatro oito quatro
/// três zero um zero", "cep 0 4 7 6 5 traço 0 0 0"): exactly eight digits, words or figures,
/// with only "é", ":", "-", "traço" or "hífen" between "cep" and them. Returns the CEP and
/// the byte range from the first digit to the last, to mask.
fn spoken_cep(text: &str) -> Option<(Cep, (usize, usize))> {
    let mut words: Vec<(usize, usize)> = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        let part = c.is_alphanumeric();
        match (part, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                words.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        words.push((s, text.len()));
    }
    // Each word lowercased on its own: offsets stay those of `text`.
    let lower: Vec<String> = words
        .iter()
        .map(|(a, b)| text[*a..*b].to_lowercase())
        .collect();
    let word = |k: usize| lower[k].as_str();
    let mut found = None;
    for k in 0..words.len() {
        if word(k) != "cep" {
            continue;
        }
        let mut j = k + 1;
        while j < words.len() && matches!(word(j), "é" | "e" | "eh" | "do" | "da" | "meu") {
            j += 1;
        }
        let mut digits = String::new();
        let (mut first, mut last) = (None, None);
        while j < words.len() && digits.len() < 8 {
            let w = word(j);
            if matches!(w, "traço" | "traco" | "hífen" | "hifen") && !digits.is_empty() {
                j += 1;
                continue;
            }
            // "cep 04801 traço 110": a group written in figures.
            if w.len() > 1 && w.len() <= 8 - digits.len() && w.bytes().all(|b| b.is_ascii_digit()) {
                digits.push_str(w);
                first.get_or_insert(words[j].0);
                last = Some(words[j].1);
                j += 1;
                continue;
            }
            // "… zero um traço cento e dez": the last digits said as one number.
            if let Some((group, used)) = spoken_group(&lower[j..]) {
                if group.len() <= 8 - digits.len() {
                    digits.push_str(&group);
                    first.get_or_insert(words[j].0);
                    last = Some(words[j + used - 1].1);
                    j += used;
                    continue;
                }
            }
            let d = if w.len() == 1 && w.as_bytes()[0].is_ascii_digit() {
                Some(w.as_bytes()[0] - b'0')
            } else {
                spoken_digit(w)
            };
            let Some(d) = d else { break };
            digits.push(char::from(b'0' + d));
            first.get_or_insert(words[j].0);
            last = Some(words[j].1);
            j += 1;
        }
        // A ninth digit word right after means this was not a CEP read out digit by digit.
        let more = j < words.len() && spoken_digit(word(j)).is_some();
        if digits.len() == 8 && !more {
            if let (Some(a), Some(b), Ok(cep)) = (first, last, Cep::parse(&digits)) {
                found = Some((cep, (a, b)));
            }
        }
    }
    found
}

/// "📍 04836 120", "Local: 04836 120", "Endereço - 04836 120": a 5+3 pair with nothing
/// else on a line that announces a location is a CEP even without the word "cep"; elsewhere
/// a spaced pair may be two amounts ("10000 500").
fn alone_on_location_line(text: &str, start: usize, end: usize) -> bool {
    let raw = &text[start..end];
    let five_three = raw.len() == 9 && raw.as_bytes()[5] == b' ';
    let line_start = text[..start].rfind('\n').map_or(0, |p| p + 1);
    let line_end = text[end..].find('\n').map_or(text.len(), |p| end + p);
    if !five_three || !text[end..line_end].trim().trim_end_matches('.').is_empty() {
        return false;
    }
    let label = text[line_start..start].to_lowercase();
    let mut label = label.trim();
    let mut marked = false;
    for cue in ["📍", "local", "endereço", "endereco", "end.", ":", "-"] {
        if let Some(rest) = label.strip_prefix(cue) {
            label = rest.trim_start();
            marked |= cue.len() > 1;
        }
    }
    marked && label.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceps_in_any_spelling() {
        let cases = [
            ("meu cep é 04321-050", Some("04321050")),
            ("CEP 04321050", Some("04321050")),
            ("cep: 04.321-050 obrigado", Some("04321050")),
            ("cep 04321 050", Some("04321050")),
            ("liga no 11 98765-4321", None),
            ("quero 10 sacos", None),
            ("CNPJ 12.345.678/0001-90", None),
            ("📍 05512 030\n💳 pix", Some("05512030")),
            ("Local: 05512 030", Some("05512030")),
            ("endereço 05512 030", Some("05512030")),
            ("📍 05512 030 perto do mercado", None),
            ("quero 10000 500 tijolos", None),
            ("05512 030", None),
            // Where the delivery goes: a spaced 5+3 pair there is a CEP (issue 13 group 6).
            ("pode entregar no 03911 250 amanha", Some("03911250")),
            ("entrega em 05512 030 pago no pix", Some("05512030")),
            ("manda 10000 500 tijolos", None),
            // Voice typing reads a CEP out digit by digit.
            (
                "cep zero quatro sete seis cinco zero zero zero dez saco de cimento",
                Some("04765000"),
            ),
            (
                "meu cep é zero quatro oito quatro três zero um zero e quero cinco metros",
                Some("04843010"),
            ),
            ("cep 0 4 7 6 5 traço 0 0 0", Some("04765000")),
            ("o cep eu mando depois dez sacos", None),
            ("cep zero quatro sete seis cinco", None),
            // The last digits said as one number, or groups in figures.
            (
                "meu cep é zero três nove um um traço duzentos e quarenta",
                Some("03911240"),
            ),
            (
                "cep zero cinco cinco um dois trinta e cinco zero",
                Some("05512350"),
            ),
            ("cep 05512 traço 030", Some("05512030")),
            ("cep zero cinco cinco um dois cento", None),
        ];
        for (msg, want) in cases {
            assert_eq!(
                find_cep(msg).0.map(|c| c.digits()).as_deref(),
                want,
                "{msg}"
            );
        }
    }
}
