//! The delivery address a customer writes after confirming an order (issue 15 item 4):
//! "rua das flores 123 casa 2 perto do mercado", "av. brasil, 1500 apto 12", a line with a
//! CEP, or the address text of a shared WhatsApp location ("Av. Paulista, 1578 - Bela Vista,
//! São Paulo - SP, 01310-200"). Simple rules, no guessing beyond them: what is not found
//! stays empty and the bot asks for it, or staff read the customer's own words.

use serde::{Deserialize, Serialize};

use crate::ids::Cep;
use crate::pricing::fold;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub street: Option<String>,
    pub number: Option<String>,
    pub complement: Option<String>,
    pub reference: Option<String>,
    pub bairro: Option<String>,
    pub city: Option<String>,
    pub uf: Option<String>,
    pub cep: Option<Cep>,
}

/// Words that open a street name ("rua", "av.", "travessa"…), folded, without the dot.
const STREET_TYPES: &[&str] = &[
    "rua", "r", "avenida", "av", "avda", "travessa", "tv", "trav", "alameda", "al", "estrada",
    "estr", "est", "rodovia", "rod", "praca", "pca", "pc", "largo", "lgo", "viela", "servidao",
    "passagem", "beco", "ladeira",
];

/// Words that open a complement ("casa 2", "apto 12", "bloco B").
const COMPLEMENT_WORDS: &[&str] = &[
    "casa",
    "apto",
    "apt",
    "ap",
    "apartamento",
    "bloco",
    "bl",
    "sala",
    "fundos",
    "frente",
    "lote",
    "lt",
    "quadra",
    "qd",
    "andar",
    "conjunto",
    "cj",
    "torre",
    "sobrado",
    "loja",
    "galpao",
    "kitnet",
    "edificio",
    "ed",
    "condominio",
    "cond",
];

/// What opens a reference, folded; the label words themselves are dropped when they only
/// name the field ("referência: padaria" → "padaria"), kept when they are the reference
/// ("perto do mercado").
const REFERENCE_LABELS: &[&str] = &[
    "ponto de referencia:",
    "ponto de referencia",
    "referencia:",
    "referencia",
    "ref:",
    "ref.",
];
const REFERENCE_PHRASES: &[&str] = &[
    "perto d",
    "proximo a",
    "proximo d",
    "proxima a",
    "proxima d",
    "em frente",
    "ao lado d",
    "esquina com",
    "atras d",
    "do lado d",
];

impl Address {
    /// Enough for the truck: a street with a number (or "s/n").
    pub fn is_complete(&self) -> bool {
        self.street.is_some() && self.number.is_some()
    }

    /// Enough to deliver once the CEP is looked up: a number with a street or a CEP.
    pub fn is_enough(&self) -> bool {
        (self.street.is_some() || self.cep.is_some()) && self.number.is_some()
    }

    /// Does the text look like an address at all (so a "obrigado" or a new order is not
    /// taken as one)?
    pub fn looks_like_address(&self) -> bool {
        self.cep.is_some() || self.street.is_some() && self.number.is_some()
    }

    /// Fills what `self` lacks from `other` (a second message answering "qual é o número?").
    pub fn fill_from(&mut self, other: &Address) {
        fn take(a: &mut Option<String>, b: &Option<String>) {
            if a.is_none() {
                a.clone_from(b);
            }
        }
        take(&mut self.street, &other.street);
        take(&mut self.number, &other.number);
        take(&mut self.complement, &other.complement);
        take(&mut self.reference, &other.reference);
        take(&mut self.bairro, &other.bairro);
        take(&mut self.city, &other.city);
        take(&mut self.uf, &other.uf);
        if self.cep.is_none() {
            self.cep = other.cep;
        }
    }

    /// One line for staff and for the customer: "Rua das Flores, 123 — casa 2 — Grajaú,
    /// São Paulo/SP — CEP 04812-000 (ref.: perto do mercado)".
    pub fn one_line(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        match (&self.street, &self.number) {
            (Some(s), Some(n)) => parts.push(format!("{s}, {n}")),
            (Some(s), None) => parts.push(s.clone()),
            (None, Some(n)) => parts.push(format!("nº {n}")),
            (None, None) => {}
        }
        if let Some(c) = &self.complement {
            parts.push(c.clone());
        }
        let place = match (&self.bairro, &self.city, &self.uf) {
            (Some(b), Some(c), Some(u)) => Some(format!("{b}, {c}/{u}")),
            (Some(b), Some(c), None) => Some(format!("{b}, {c}")),
            (Some(b), None, _) => Some(b.clone()),
            (None, Some(c), Some(u)) => Some(format!("{c}/{u}")),
            (None, Some(c), None) => Some(c.clone()),
            (None, None, _) => None,
        };
        if let Some(p) = place {
            parts.push(p);
        }
        if let Some(cep) = self.cep {
            parts.push(format!("CEP {}", cep.formatted()));
        }
        let mut line = parts.join(" — ");
        if let Some(r) = &self.reference {
            if line.is_empty() {
                line = format!("ref.: {r}");
            } else {
                line.push_str(&format!(" (ref.: {r})"));
            }
        }
        line
    }
}

/// Does the text open with a street word ("rua das flores", "Av. Brasil")? A street named
/// without a number is taken only then (so "pago via pix" is not a street).
pub fn starts_with_street(text: &str) -> bool {
    text.split_whitespace().next().is_some_and(|w| {
        let k = fold(w);
        STREET_TYPES.contains(&k.trim_end_matches(['.', ':', ',']))
    })
}

/// Reads an address out of free text. Never fails: what is not found stays `None`.
pub fn parse(text: &str) -> Address {
    let mut addr = Address::default();
    // One line: a message in several lines is read like one with commas.
    let mut rest: String = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(", ");

    if let Some((cep, start, end)) = find_cep(&rest) {
        addr.cep = Some(cep);
        // Drop the CEP and the words that only announce it ("CEP:", "meu cep é").
        let mut words: Vec<&str> = rest[..start]
            .trim_end()
            .trim_end_matches([',', ':', '-'])
            .split_whitespace()
            .collect();
        while words
            .last()
            .is_some_and(|w| matches!(fold(w).as_str(), "-" | "," | ":" | "e" | "eh"))
        {
            words.pop();
        }
        if words
            .last()
            .is_some_and(|w| fold(w).trim_end_matches([':', ',']) == "cep")
        {
            words.pop();
        }
        rest = format!("{} {}", words.join(" "), &rest[end..]);
    }

    // The reference: from its first marker to the end.
    if let Some((at, label_len)) = find_reference(&rest) {
        let reference = rest[at + label_len..]
            .trim()
            .trim_start_matches([':', '-', ','])
            .trim()
            .trim_end_matches(['.', ','])
            .trim();
        if !reference.is_empty() {
            addr.reference = Some(reference.to_string());
        }
        rest.truncate(at);
    }

    // Segments: "Av. Paulista, 1578 - Bela Vista, São Paulo - SP".
    let cleaned = rest.replace(" - ", ", ").replace(';', ",");
    let tokens: Vec<Token> = tokenize(&cleaned);
    let mut i = 0;
    // Street: from a street word (or the first word) up to the number.
    let street_at = tokens
        .iter()
        .position(|t| STREET_TYPES.contains(&t.key.as_str()) && t.has_letters());
    let number_at = find_number(&tokens, street_at.map_or(0, |s| s + 1));
    match (street_at, number_at) {
        (Some(s), Some((n, _))) if n > s + 1 => {
            addr.street = Some(join(&tokens[s..n]));
            i = n;
        }
        (Some(s), None) => {
            let end = tokens[s..]
                .iter()
                .position(|t| t.comma_after)
                .map_or(tokens.len(), |e| s + e + 1);
            if end > s + 1 {
                addr.street = Some(join(&tokens[s..end]));
            }
            i = end;
        }
        // Words then a number without a street word ("obrigado 2 vezes") are no street.
        _ => {}
    }
    if let Some((n, skip)) = number_at {
        if n >= i {
            addr.number = Some(tokens[n + skip].number_text());
            i = n + skip + 1;
        }
    }
    // Complement: a complement word right after the number, to the end of its segment.
    let mut segs: Vec<String> = Vec::new();
    let mut current: Vec<&Token> = Vec::new();
    for t in tokens.iter().skip(i) {
        current.push(t);
        if t.comma_after {
            segs.push(join_refs(&current));
            current.clear();
        }
    }
    if !current.is_empty() {
        segs.push(join_refs(&current));
    }
    let mut segs: Vec<String> = segs.into_iter().filter(|s| !s.is_empty()).collect();
    if let Some(first) = segs.first() {
        let key = first
            .split_whitespace()
            .next()
            .map(|w| fold(w).trim_end_matches(['.', ':']).to_string())
            .unwrap_or_default();
        if COMPLEMENT_WORDS.contains(&key.as_str()) {
            addr.complement = Some(segs.remove(0));
        }
    }
    // Then bairro, city, UF, in that order, when the text has them as segments.
    if let Some(last) = segs.last() {
        if last.len() == 2 && last.chars().all(|c| c.is_ascii_alphabetic()) {
            addr.uf = Some(last.to_ascii_uppercase());
            segs.pop();
        }
    }
    let mut segs = segs.into_iter();
    if addr.number.is_some() || addr.cep.is_some() {
        addr.bairro = segs.next();
        addr.city = segs.next();
    }
    addr
}

struct Token {
    text: String,
    /// Folded, without trailing punctuation.
    key: String,
    comma_after: bool,
}

impl Token {
    fn has_letters(&self) -> bool {
        self.key.chars().any(|c| c.is_alphabetic())
    }

    /// "123", "123A", "1.500", "s/n".
    fn is_number(&self) -> bool {
        let k = self.key.replace('.', "");
        if k == "s/n" || k == "sn" {
            return true;
        }
        let digits = k.chars().take_while(|c| c.is_ascii_digit()).count();
        digits > 0 && digits <= 6 && k.len() - digits <= 1
    }

    fn number_text(&self) -> String {
        if self.key == "s/n" || self.key == "sn" {
            "s/n".into()
        } else {
            self.text
                .trim_end_matches([',', '.', ':'])
                .replace('.', "")
                .to_uppercase()
        }
    }
}

fn tokenize(text: &str) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::new();
    for raw in text.split_whitespace() {
        for (k, piece) in raw.split(',').enumerate() {
            if k > 0 {
                if let Some(last) = out.last_mut() {
                    last.comma_after = true;
                }
            }
            // "nº123", "n°123": the marker and the number apart.
            let piece = piece.trim();
            if piece.is_empty() {
                continue;
            }
            let mut p = piece;
            for marker in ["nº", "n°", "Nº", "N°"] {
                if let Some(rest) = p.strip_prefix(marker) {
                    if !rest.is_empty() {
                        out.push(token("nº"));
                        p = rest;
                    }
                }
            }
            out.push(token(p));
        }
    }
    out
}

fn token(text: &str) -> Token {
    let key = fold(text)
        .trim_end_matches(['.', ':', ';'])
        .trim_start_matches(['(', '"'])
        .to_string();
    Token {
        text: text.to_string(),
        key,
        comma_after: false,
    }
}

/// The house number from `from` on: (index of the marker or number, tokens to skip to the
/// number). "nº 45", "número 45", "n 45", or a bare "45" — but a number right after a street
/// word with another number later ("rua 7 de setembro 45") is the name's.
fn find_number(tokens: &[Token], from: usize) -> Option<(usize, usize)> {
    let markers = ["n", "no", "nº", "n°", "num", "numero"];
    let mut found = None;
    for (k, t) in tokens.iter().enumerate().skip(from) {
        if markers.contains(&t.key.as_str()) {
            if tokens.get(k + 1).is_some_and(Token::is_number) {
                return Some((k, 1));
            }
            continue;
        }
        if t.is_number() {
            if COMPLEMENT_WORDS.contains(&k.checked_sub(1).map_or("", |p| tokens[p].key.as_str())) {
                continue;
            }
            found = Some((k, 0));
            break;
        }
    }
    let (k, skip) = found?;
    if k == from && from > 0 {
        // Right after the street word: the name's number if another number follows.
        if let Some((later, s)) = find_number(tokens, k + 1) {
            if tokens[k + 1..later].iter().any(Token::has_letters) {
                return Some((later, s));
            }
        }
    }
    Some((k, skip))
}

fn join(tokens: &[Token]) -> String {
    join_refs(&tokens.iter().collect::<Vec<_>>())
}

fn join_refs(tokens: &[&Token]) -> String {
    tokens
        .iter()
        .map(|t| t.text.trim_end_matches(',').to_string())
        .collect::<Vec<_>>()
        .join(" ")
        .trim()
        .trim_end_matches(['.', ','])
        .to_string()
}

/// A CEP in the text: 8 digits as `01310-200`, `01310200` or `01.310-200`, not part of a
/// longer number. (CEP, byte start, byte end).
fn find_cep(text: &str) -> Option<(Cep, usize, usize)> {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() && (i == 0 || !b[i - 1].is_ascii_digit()) {
            let mut j = i;
            let mut digits = 0;
            while j < b.len() && (b[j].is_ascii_digit() || matches!(b[j], b'-' | b'.')) {
                if b[j].is_ascii_digit() {
                    digits += 1;
                }
                j += 1;
            }
            let candidate = text[i..j].trim_end_matches(['-', '.']);
            if digits == 8 {
                if let Ok(cep) = Cep::parse(candidate) {
                    return Some((cep, i, i + candidate.len()));
                }
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    None
}

/// Where a reference starts: (byte index in `text`, length of a label to drop).
fn find_reference(text: &str) -> Option<(usize, usize)> {
    // Folding keeps one char per char (except a few ligatures that do not occur here), so a
    // char index found in the folded text maps back to the original by char position.
    let folded: Vec<char> = text
        .chars()
        .map(|c| fold(&c.to_string()).chars().next().unwrap_or(' '))
        .collect();
    let folded_s: String = folded.iter().collect();
    let mut best: Option<(usize, usize)> = None;
    for label in REFERENCE_LABELS {
        if let Some(at) = word_start_find(&folded_s, label) {
            let len = label.chars().count();
            if best.is_none_or(|(b, _)| at < b) {
                best = Some((at, len));
            }
        }
    }
    for phrase in REFERENCE_PHRASES {
        if let Some(at) = word_start_find(&folded_s, phrase) {
            if best.is_none_or(|(b, _)| at < b) {
                best = Some((at, 0));
            }
        }
    }
    let (char_at, char_len) = best?;
    let byte_at = text
        .char_indices()
        .nth(char_at)
        .map_or(text.len(), |(b, _)| b);
    let byte_end = text
        .char_indices()
        .nth(char_at + char_len)
        .map_or(text.len(), |(b, _)| b);
    Some((byte_at, byte_end - byte_at))
}

/// Char index of `needle` in `hay` where it starts a word.
fn word_start_find(hay: &str, needle: &str) -> Option<usize> {
    let chars: Vec<char> = hay.chars().collect();
    let n: Vec<char> = needle.chars().collect();
    (0..chars.len().saturating_sub(n.len() - 1))
        .find(|&i| chars[i..].starts_with(&n) && (i == 0 || !chars[i - 1].is_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    #[test]
    fn street_number_complement_reference() {
        let a = parse("rua das flores 123 casa 2 perto do mercado");
        assert_eq!(a.street, s("rua das flores"));
        assert_eq!(a.number, s("123"));
        assert_eq!(a.complement, s("casa 2"));
        assert_eq!(a.reference, s("perto do mercado"));
        assert!(a.is_complete());
    }

    #[test]
    fn avenue_with_comma_and_apartment() {
        let a = parse("av. brasil, 1500 apto 12");
        assert_eq!(a.street, s("av. brasil"));
        assert_eq!(a.number, s("1500"));
        assert_eq!(a.complement, s("apto 12"));
        assert_eq!(a.reference, None);
    }

    #[test]
    fn a_line_with_a_cep() {
        let a = parse("Rua Domingos de Morais, 2187 - CEP 04035-000");
        assert_eq!(a.cep, Some(Cep::parse("04035000").unwrap()));
        assert_eq!(a.street, s("Rua Domingos de Morais"));
        assert_eq!(a.number, s("2187"));
        let only = parse("meu cep é 04812-010, número 45");
        assert_eq!(only.cep, Some(Cep::parse("04812010").unwrap()));
        assert_eq!(only.number, s("45"));
        assert!(only.looks_like_address());
    }

    #[test]
    fn shared_location_address_text() {
        let a = parse("Obra - Av. Paulista, 1578 - Bela Vista, São Paulo - SP, 01310-200");
        assert_eq!(a.street, s("Av. Paulista"));
        assert_eq!(a.number, s("1578"));
        assert_eq!(a.bairro, s("Bela Vista"));
        assert_eq!(a.city, s("São Paulo"));
        assert_eq!(a.uf, s("SP"));
        assert_eq!(a.cep, Some(Cep::parse("01310200").unwrap()));
    }

    #[test]
    fn labels_and_markers() {
        let a = parse("Rua Jaceguava nº 45, bloco B\nReferência: ao lado da padaria");
        assert_eq!(a.street, s("Rua Jaceguava"));
        assert_eq!(a.number, s("45"));
        assert_eq!(a.complement, s("bloco B"));
        assert_eq!(a.reference, s("ao lado da padaria"));
        let sn = parse("Estrada do M'Boi Mirim s/n em frente ao posto");
        assert_eq!(sn.street, s("Estrada do M'Boi Mirim"));
        assert_eq!(sn.number, s("s/n"));
        assert_eq!(sn.reference, s("em frente ao posto"));
    }

    #[test]
    fn number_in_the_street_name() {
        let a = parse("rua 7 de setembro 45");
        assert_eq!(a.street, s("rua 7 de setembro"));
        assert_eq!(a.number, s("45"));
    }

    #[test]
    fn not_an_address() {
        for t in [
            "obrigado!",
            "ok",
            "beleza, valeu",
            "quando chega?",
            "obrigado 2 vezes",
            "Vila Mariana 12",
        ] {
            assert!(!parse(t).looks_like_address(), "{t}");
        }
        let only_number = parse("é o número 230");
        assert_eq!(only_number.number, s("230"));
        assert!(only_number.street.is_none());
    }

    #[test]
    fn fill_and_one_line() {
        let mut a = parse("rua das flores");
        assert_eq!(a.street, s("rua das flores"));
        assert!(!a.is_complete());
        a.fill_from(&parse("123"));
        assert!(a.is_complete());
        a.bairro = s("Grajaú");
        assert_eq!(a.one_line(), "rua das flores, 123 — Grajaú");
    }
}
