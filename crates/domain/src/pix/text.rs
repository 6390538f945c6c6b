//! Free text a store types (its name, its city, a quote number) made fit for a BR Code.
//!
//! The manual allows only the EMV "ans" character set in the merchant name and city and
//! recommends plain upper-case letters without accents, because payers' apps and older
//! readers show the bytes as they come. So: accents removed, upper case, runs of spaces
//! collapsed, anything outside printable ASCII dropped, then cut to the field's limit.

/// Removes accents from the letters Portuguese uses; other characters are returned as they are.
fn unaccent(c: char) -> char {
    match c {
        'á' | 'à' | 'â' | 'ã' | 'ä' => 'a',
        'Á' | 'À' | 'Â' | 'Ã' | 'Ä' => 'A',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'É' | 'È' | 'Ê' | 'Ë' => 'E',
        'í' | 'ì' | 'î' | 'ï' => 'i',
        'Í' | 'Ì' | 'Î' | 'Ï' => 'I',
        'ó' | 'ò' | 'ô' | 'õ' | 'ö' => 'o',
        'Ó' | 'Ò' | 'Ô' | 'Õ' | 'Ö' => 'O',
        'ú' | 'ù' | 'û' | 'ü' => 'u',
        'Ú' | 'Ù' | 'Û' | 'Ü' => 'U',
        'ç' => 'c',
        'Ç' => 'C',
        'ñ' => 'n',
        'Ñ' => 'N',
        'ª' => 'a',
        'º' => 'o',
        other => other,
    }
}

/// Upper-case ASCII without accents, single spaces, at most `max` characters.
pub fn ans_upper(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max));
    let mut pending_space = false;
    for c in text.chars().map(unaccent) {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if !(c.is_ascii_graphic()) {
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c.to_ascii_uppercase());
    }
    // ASCII only from here, so byte and character counts agree.
    out.truncate(max);
    out.trim_end().to_string()
}

/// Only letters and digits (what a static BR Code's txid may hold), accents removed.
pub fn alphanumeric(text: &str) -> String {
    text.chars()
        .map(unaccent)
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_loses_accents_and_extra_spaces_and_is_cut() {
        assert_eq!(ans_upper("  Depósito  São João ", 25), "DEPOSITO SAO JOAO");
        assert_eq!(ans_upper("Construção & Cia.", 25), "CONSTRUCAO & CIA.");
        assert_eq!(
            ans_upper("Materiais de Construção Ribeirão", 25),
            "MATERIAIS DE CONSTRUCAO R"
        );
        // A cut that lands after a space leaves no trailing space.
        assert_eq!(ans_upper("Abcdefghijklmn opq", 15), "ABCDEFGHIJKLMN");
        assert_eq!(ans_upper("Ação 😀 Já", 25), "ACAO JA");
    }

    #[test]
    fn txid_keeps_letters_and_digits_only() {
        assert_eq!(alphanumeric("ORC-2026-000123"), "ORC2026000123");
        assert_eq!(alphanumeric("Pedido nº 12/ç"), "Pedidono12c");
    }
}
