//! The CPF or CNPJ a customer sends for the invoice (issue 15 item 4, when the store asks
//! for "dados para nota"): check digits verified — CPF, numeric CNPJ and the alphanumeric
//! CNPJ valid from July 2026 (each character counts as its ASCII code − 48), the same rules as
//! a PIX key's (`pix::key`).

use crate::pix::key;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaxId {
    /// 11 digits.
    Cpf(String),
    /// 14 characters, `0-9A-Z` then two digits.
    Cnpj(String),
}

impl TaxId {
    /// As stored: digits (and upper-case letters for an alphanumeric CNPJ), no punctuation.
    pub fn stored(&self) -> &str {
        match self {
            TaxId::Cpf(s) | TaxId::Cnpj(s) => s,
        }
    }

    pub fn kind_pt(&self) -> &'static str {
        match self {
            TaxId::Cpf(_) => "CPF",
            TaxId::Cnpj(_) => "CNPJ",
        }
    }

    /// `123.456.789-09`, `12.ABC.345/01DE-35`.
    pub fn formatted(&self) -> String {
        match self {
            TaxId::Cpf(s) => format!("{}.{}.{}-{}", &s[..3], &s[3..6], &s[6..9], &s[9..]),
            TaxId::Cnpj(s) => format!(
                "{}.{}.{}/{}-{}",
                &s[..2],
                &s[2..5],
                &s[5..8],
                &s[8..12],
                &s[12..]
            ),
        }
    }

    /// A stored value read back (None for anything else).
    pub fn from_stored(s: &str) -> Option<TaxId> {
        match read(s) {
            TaxIdRead::Valid(t) => Some(t),
            _ => None,
        }
    }
}

/// What a message is, read as a CPF or CNPJ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaxIdRead {
    /// No CPF- or CNPJ-shaped word in it ("obrigado", an address): not an answer.
    NotADocument,
    Valid(TaxId),
    /// Shaped like one, but the check digits do not match: the pt-BR reason.
    Invalid(&'static str),
}

/// Finds a CPF (11 digits) or CNPJ (14 characters) in the message, punctuation allowed
/// (`123.456.789-09`, `12.ABC.345/01DE-35`), and checks its digits.
pub fn read(text: &str) -> TaxIdRead {
    for word in text.split_whitespace() {
        let w: String = word
            .chars()
            .filter(|c| !matches!(c, '.' | '-' | '/' | ',' | ';' | ':'))
            .collect::<String>()
            .to_ascii_uppercase();
        let digits = w.chars().filter(char::is_ascii_digit).count();
        if w.len() == 11 && digits == 11 {
            return match key::cpf(&w) {
                Ok(s) => TaxIdRead::Valid(TaxId::Cpf(s)),
                Err(_) => {
                    TaxIdRead::Invalid("Esse CPF não confere (os dígitos verificadores não batem)")
                }
            };
        }
        let shaped = w.len() == 14
            && w.is_ascii()
            && w[..12].chars().all(|c| c.is_ascii_alphanumeric())
            && w[12..].chars().all(|c| c.is_ascii_digit())
            && digits >= 4;
        if shaped {
            return match key::cnpj(&w) {
                Ok(s) => TaxIdRead::Valid(TaxId::Cnpj(s)),
                Err(_) => {
                    TaxIdRead::Invalid("Esse CNPJ não confere (os dígitos verificadores não batem)")
                }
            };
        }
    }
    TaxIdRead::NotADocument
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpf_with_and_without_punctuation() {
        assert_eq!(
            read("meu cpf é 529.982.247-25"),
            TaxIdRead::Valid(TaxId::Cpf("52998224725".into()))
        );
        assert_eq!(
            TaxId::Cpf("52998224725".into()).formatted(),
            "529.982.247-25"
        );
        assert!(matches!(read("52998224724"), TaxIdRead::Invalid(_)));
        assert!(matches!(read("111.111.111-11"), TaxIdRead::Invalid(_)));
    }

    #[test]
    fn cnpj_numeric_and_alphanumeric() {
        // Receita Federal's example of the alphanumeric CNPJ (from July 2026).
        let alnum = read("CNPJ: 12.ABC.345/01DE-35");
        assert_eq!(
            alnum,
            TaxIdRead::Valid(TaxId::Cnpj("12ABC34501DE35".into()))
        );
        if let TaxIdRead::Valid(t) = alnum {
            assert_eq!(t.formatted(), "12.ABC.345/01DE-35");
            assert_eq!(t.kind_pt(), "CNPJ");
        }
        assert_eq!(
            read("11.222.333/0001-81"),
            TaxIdRead::Valid(TaxId::Cnpj("11222333000181".into()))
        );
        assert!(matches!(read("12.ABC.345/01DE-36"), TaxIdRead::Invalid(_)));
        assert!(matches!(read("11.222.333/0001-80"), TaxIdRead::Invalid(_)));
    }

    #[test]
    fn other_messages_are_not_documents() {
        for t in [
            "obrigado",
            "rua das flores 123",
            "meu cep é 04812-010",
            "(11) 98765-4321",
        ] {
            assert_eq!(read(t), TaxIdRead::NotADocument, "{t}");
        }
    }
}
