//! The store's PIX key (chave Pix), validated by its type as the DICT registers it.
//!
//! The key goes into the BR Code exactly as registered, so each type is normalized to the
//! DICT's form: CPF and CNPJ without punctuation, e-mail in lower case, phone as
//! `+55DDDNUMBER`, random key (EVP) as a lower-case UUID. Sources in docs/pix.md.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What kind of key the store registered at its bank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PixKeyKind {
    Cpf,
    Cnpj,
    Email,
    Phone,
    /// Chave aleatória: a UUID the bank generated (EVP in the DICT).
    Random,
}

impl PixKeyKind {
    pub const ALL: [PixKeyKind; 5] = [
        PixKeyKind::Cpf,
        PixKeyKind::Cnpj,
        PixKeyKind::Email,
        PixKeyKind::Phone,
        PixKeyKind::Random,
    ];

    /// The stored word (a column of `tenants`).
    pub fn as_str(self) -> &'static str {
        match self {
            PixKeyKind::Cpf => "cpf",
            PixKeyKind::Cnpj => "cnpj",
            PixKeyKind::Email => "email",
            PixKeyKind::Phone => "phone",
            PixKeyKind::Random => "random",
        }
    }

    /// What a store owner reads in the settings form.
    pub fn label(self) -> &'static str {
        match self {
            PixKeyKind::Cpf => "CPF",
            PixKeyKind::Cnpj => "CNPJ",
            PixKeyKind::Email => "E-mail",
            PixKeyKind::Phone => "Celular",
            PixKeyKind::Random => "Chave aleatória",
        }
    }
}

impl fmt::Display for PixKeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PixKeyKind {
    type Err = PixKeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PixKeyKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(PixKeyError::UnknownKind)
    }
}

/// Why a key was refused; the messages are what the settings form shows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PixKeyError {
    #[error("tipo de chave Pix desconhecido")]
    UnknownKind,
    #[error("informe a chave Pix")]
    Empty,
    #[error("CPF inválido: confira os 11 dígitos")]
    Cpf,
    #[error("CNPJ inválido: confira os 14 caracteres e os dígitos verificadores")]
    Cnpj,
    #[error("e-mail inválido para chave Pix")]
    Email,
    #[error("celular inválido: use DDD e número, por exemplo (11) 98765-4321")]
    Phone,
    #[error("chave aleatória inválida: cole a chave de 36 caracteres que o banco gerou")]
    Random,
}

/// A key that passed its type's rules, in the DICT's normalized form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PixKey {
    kind: PixKeyKind,
    value: String,
}

impl PixKey {
    /// Validates what the owner typed (punctuation and spaces allowed where people type them).
    pub fn parse(kind: PixKeyKind, text: &str) -> Result<PixKey, PixKeyError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(PixKeyError::Empty);
        }
        let value = match kind {
            PixKeyKind::Cpf => cpf(text)?,
            PixKeyKind::Cnpj => cnpj(text)?,
            PixKeyKind::Email => email(text)?,
            PixKeyKind::Phone => phone(text)?,
            PixKeyKind::Random => random(text)?,
        };
        Ok(PixKey { kind, value })
    }

    pub fn kind(&self) -> PixKeyKind {
        self.kind
    }

    /// The key as it goes into the BR Code (and as it is stored).
    pub fn as_str(&self) -> &str {
        &self.value
    }
}

impl fmt::Display for PixKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

/// Drops the punctuation people type in documents: `123.456.789-09`, `12.ABC.345/01DE-35`.
fn strip_document_punctuation(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '.' | '-' | '/' | ' '))
        .collect()
}

/// Modulo-11 check digit as CPF and CNPJ use it: remainder below 2 gives 0.
fn mod11_digit(values: &[u32], weights: &[u32]) -> u32 {
    let sum: u32 = values.iter().zip(weights).map(|(v, w)| v * w).sum();
    let r = sum % 11;
    if r < 2 {
        0
    } else {
        11 - r
    }
}

pub(crate) fn cpf(text: &str) -> Result<String, PixKeyError> {
    let s = strip_document_punctuation(text);
    if s.len() != 11 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PixKeyError::Cpf);
    }
    let d: Vec<u32> = s.bytes().map(|b| u32::from(b - b'0')).collect();
    // 000.000.000-00, 111.111.111-11, ... pass the arithmetic but are not CPFs.
    if d.iter().all(|&x| x == d[0]) {
        return Err(PixKeyError::Cpf);
    }
    let first = mod11_digit(&d[..9], &[10, 9, 8, 7, 6, 5, 4, 3, 2]);
    let second = mod11_digit(&d[..10], &[11, 10, 9, 8, 7, 6, 5, 4, 3, 2]);
    if d[9] != first || d[10] != second {
        return Err(PixKeyError::Cpf);
    }
    Ok(s)
}

/// CNPJ, numeric or alphanumeric (Receita Federal, from July 2026): twelve characters
/// `0-9A-Z` and two numeric check digits. Each character counts as its ASCII code minus 48,
/// so digits keep their value and `A` = 17 — the rule that makes old CNPJs still valid.
pub(crate) fn cnpj(text: &str) -> Result<String, PixKeyError> {
    let s = strip_document_punctuation(text).to_ascii_uppercase();
    let b = s.as_bytes();
    if b.len() != 14
        || !b[..12]
            .iter()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        || !b[12..].iter().all(u8::is_ascii_digit)
    {
        return Err(PixKeyError::Cnpj);
    }
    let v: Vec<u32> = b.iter().map(|&c| u32::from(c) - 48).collect();
    if v.iter().all(|&x| x == v[0]) {
        return Err(PixKeyError::Cnpj);
    }
    let first = mod11_digit(&v[..12], &[5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]);
    let second = mod11_digit(&v[..13], &[6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]);
    if v[12] != first || v[13] != second {
        return Err(PixKeyError::Cnpj);
    }
    Ok(s)
}

/// The DICT's e-mail rule: at most 77 characters, stored in lower case, a local part of the
/// usual atext characters and dots, a domain of dot-separated labels (letters, digits,
/// inner hyphens, at most 63 each) with at least one dot.
fn email(text: &str) -> Result<String, PixKeyError> {
    let s = text.to_ascii_lowercase();
    if s.len() > 77 || !s.is_ascii() {
        return Err(PixKeyError::Email);
    }
    let (local, domain) = s.split_once('@').ok_or(PixKeyError::Email)?;
    let local_ok = !local.is_empty()
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".!#$%&'*+/=?^_`{|}~-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
    if local_ok && domain_ok {
        Ok(s)
    } else {
        Err(PixKeyError::Email)
    }
}

/// A Brazilian phone in the DICT's E.164 form `+55` + DDD + number. People type
/// `(11) 98765-4321`, `11987654321` or `+55 11 98765-4321`; all become `+5511987654321`.
/// Mobiles have nine digits starting with 9; eight-digit landlines (2–5) are accepted too,
/// since the DICT registers any Brazilian number.
fn phone(text: &str) -> Result<String, PixKeyError> {
    let had_plus = text.starts_with('+');
    let digits: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '(' | ')' | '-' | '.' | '+'))
        .collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PixKeyError::Phone);
    }
    let national = match digits.len() {
        12 | 13 if digits.starts_with("55") => &digits[2..],
        10 | 11 if !had_plus => &digits[..],
        _ => return Err(PixKeyError::Phone),
    };
    let (ddd, number) = national.split_at(2);
    let ddd_ok = ddd.bytes().all(|b| (b'1'..=b'9').contains(&b));
    let number_ok = match number.len() {
        9 => number.starts_with('9'),
        8 => matches!(number.as_bytes()[0], b'2'..=b'5'),
        _ => false,
    };
    if ddd_ok && number_ok {
        Ok(format!("+55{national}"))
    } else {
        Err(PixKeyError::Phone)
    }
}

/// The random key: a UUID (8-4-4-4-12 hexadecimal), stored in lower case.
fn random(text: &str) -> Result<String, PixKeyError> {
    let s = text.to_ascii_lowercase();
    let groups: Vec<&str> = s.split('-').collect();
    let shape_ok = groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()));
    if shape_ok {
        Ok(s)
    } else {
        Err(PixKeyError::Random)
    }
}

#[cfg(test)]
mod tests;
