//! Text for the standard Helvetica fonts: WinAnsi bytes (so pt-BR accents render without
//! embedding a font) and Helvetica's advance widths (to right-align money and cut long names).

/// Encodes to WinAnsiEncoding (Windows-1252). Latin-1 letters map to themselves; the few
/// typographic marks people paste map to their 0x80–0x9F slots; anything else becomes `?`.
pub fn encode(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{ff}' => c as u8,
            '€' => 0x80,
            '‚' => 0x82,
            '„' => 0x84,
            '…' => 0x85,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            '\t' | '\n' | '\r' => b' ',
            _ => b'?',
        })
        .collect()
}

/// Helvetica advance widths (1/1000 em) for ASCII 32..=126, from the font's AFM.
const ASCII: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // ' '../
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, // 0-9
    278, 278, 584, 584, 584, 556, 1015, // :;<=>?@
    667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, // A-M
    722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, // N-Z
    278, 278, 278, 469, 556, 333, // [\]^_`
    556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, // a-m
    556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, // n-z
    334, 260, 334, 584, // {|}~
];

/// Width in points of `bytes` (already WinAnsi) at `size`. Accented letters count as their
/// base letter (Helvetica draws them at the same width); other high bytes as 556.
pub fn width(bytes: &[u8], size: f32) -> f32 {
    let units: u32 = bytes
        .iter()
        .map(|&b| {
            let base = match b {
                0xC0..=0xC5 => b'A',
                0xC7 => b'C',
                0xC8..=0xCB => b'E',
                0xCC..=0xCF => b'I',
                0xD1 => b'N',
                0xD2..=0xD6 => b'O',
                0xD9..=0xDC => b'U',
                0xE0..=0xE5 => b'a',
                0xE7 => b'c',
                0xE8..=0xEB => b'e',
                0xEC..=0xEF => b'i',
                0xF1 => b'n',
                0xF2..=0xF6 => b'o',
                0xF9..=0xFC => b'u',
                b => b,
            };
            match base {
                32..=126 => u32::from(ASCII[usize::from(base - 32)]),
                _ => 556,
            }
        })
        .sum();
    units as f32 * size / 1000.0
}

/// Cuts `text` so that it fits `max_width` points, ending with `…` when cut.
pub fn fit(text: &str, size: f32, max_width: f32) -> Vec<u8> {
    let bytes = encode(text);
    if width(&bytes, size) <= max_width {
        return bytes;
    }
    let ellipsis = width(&[0x85], size).max(width(b"...", size));
    let mut out = bytes;
    while !out.is_empty() && width(&out, size) + ellipsis > max_width {
        out.pop();
    }
    out.push(0x85);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_are_latin1_bytes() {
        assert_eq!(encode("Orçamento São"), b"Or\xe7amento S\xe3o".to_vec());
        assert_eq!(encode("a — b"), b"a \x97 b".to_vec());
        assert_eq!(encode("m³"), b"m\xb3".to_vec());
    }

    #[test]
    fn widths_follow_helvetica() {
        assert_eq!(width(b"0123456789", 10.0), 55.6);
        assert_eq!(width(&encode("ã"), 10.0), width(b"a", 10.0));
        let cut = fit("Cimento CP II 50 kg muito comprido", 10.0, 60.0);
        assert!(width(&cut, 10.0) <= 60.0 + 0.01 && cut.ends_with(&[0x85]));
    }
}
