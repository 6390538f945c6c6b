//! PIX copia-e-cola: the static BR Code a store's customer pastes (or scans) in any bank
//! app to pay a quote, built by us from the store's PIX key.
//!
//! Layout (Manual do BR Code and Manual de Padrões para Iniciação do Pix, Banco Central;
//! sources and the reference vectors in docs/pix.md):
//!
//! ```text
//! 00 02 "01"                         payload format
//! 26 .. 00 "br.gov.bcb.pix"          merchant account: the PIX GUI ...
//!       01 key                       ... and the store's key
//! 52 04 "0000"                       merchant category (not informed)
//! 53 03 "986"                        currency: BRL
//! 54 .. "1234.56"                    amount: reais with a dot and two decimals
//! 58 02 "BR"
//! 59 .. NAME                         merchant name, ≤ 25, upper case without accents
//! 60 .. CITY                         merchant city, ≤ 15, same
//! 62 .. 05 txid                      reference: the quote number's letters and digits
//! 63 04 CRC16-CCITT-FALSE            over everything before it, `6304` included
//! ```

mod emv;
pub(crate) mod key;
pub mod qr;
mod text;

pub use emv::crc16_ccitt_false;
pub use key::{PixKey, PixKeyError, PixKeyKind};

use crate::money::Centavos;

/// The PIX "GUI" that marks the merchant account template as PIX. The manual's own example
/// writes it in lower case; readers compare it case-insensitively.
pub const PIX_GUI: &str = "br.gov.bcb.pix";

/// Limits of the fields (Manual do BR Code, table of IDs).
pub const MERCHANT_NAME_MAX: usize = 25;
pub const MERCHANT_CITY_MAX: usize = 15;
pub const TXID_MAX: usize = 25;
/// The amount field holds at most 13 characters (`9999999999.99`).
const AMOUNT_MAX_LEN: usize = 13;

/// Why a code could not be built; pt-BR because the dashboard shows it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PixError {
    #[error(transparent)]
    Key(#[from] PixKeyError),
    #[error("informe o nome do recebedor Pix (letras ou números)")]
    MerchantName,
    #[error("informe a cidade do recebedor Pix (letras ou números)")]
    MerchantCity,
    #[error("o valor do Pix precisa ser maior que zero e caber no código")]
    Amount,
}

/// Who receives: the name and city the payer's app shows before confirming, already in the
/// form the BR Code carries (see `text::ans_upper`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merchant {
    name: String,
    city: String,
}

impl Merchant {
    pub fn new(name: &str, city: &str) -> Result<Merchant, PixError> {
        let name = text::ans_upper(name, MERCHANT_NAME_MAX);
        let city = text::ans_upper(city, MERCHANT_CITY_MAX);
        if !name.chars().any(|c| c.is_ascii_alphanumeric()) {
            return Err(PixError::MerchantName);
        }
        if !city.chars().any(|c| c.is_ascii_alphanumeric()) {
            return Err(PixError::MerchantCity);
        }
        Ok(Merchant { name, city })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn city(&self) -> &str {
        &self.city
    }
}

/// The transaction id of a static code: letters and digits only, at most 25, `***` when
/// there is none (manual). Made from the quote number so the store's bank statement shows
/// which quote was paid: `ORC-2026-000123` → `ORC2026000123`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Txid(String);

impl Txid {
    pub const NONE: &'static str = "***";

    pub fn from_quote_number(number: &str) -> Txid {
        let s = text::alphanumeric(number);
        // Numbers only grow at the end, so a cut keeps the end, which tells quotes apart.
        let s = s[s.len().saturating_sub(TXID_MAX)..].to_string();
        if s.is_empty() {
            Txid(Self::NONE.to_string())
        } else {
            Txid(s)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The amount as the BR Code writes it: reais, a dot, two decimals, no grouping.
pub fn amount_field(amount: Centavos) -> Result<String, PixError> {
    if amount.0 <= 0 {
        return Err(PixError::Amount);
    }
    let s = format!("{}.{:02}", amount.0 / 100, amount.0 % 100);
    if s.len() > AMOUNT_MAX_LEN {
        return Err(PixError::Amount);
    }
    Ok(s)
}

/// The copia-e-cola for paying `amount` to `key`, referencing `txid`.
pub fn copia_e_cola(
    key: &PixKey,
    merchant: &Merchant,
    amount: Centavos,
    txid: &Txid,
) -> Result<String, PixError> {
    let amount = amount_field(amount)?;
    let mut w = emv::Writer::new();
    w.field(0, "01")
        .template(26, |t| {
            t.field(0, PIX_GUI).field(1, key.as_str());
        })
        .field(52, "0000")
        .field(53, "986")
        .field(54, &amount)
        .field(58, "BR")
        .field(59, merchant.name())
        .field(60, merchant.city())
        .template(62, |t| {
            t.field(5, txid.as_str());
        });
    Ok(w.finish_with_crc())
}

#[cfg(test)]
mod tests;
