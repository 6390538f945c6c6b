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
    (found, ranges)
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
