//! Money, percentages and quantities as exact integers.
//!
//! Money is integer centavos, percentages are basis points (1% = 100 bp) and quantities are
//! exact decimals with three places (thousandths of the catalog unit: 0,5 milheiro = 500,
//! 2,5 m³ = 2500). No floating point is used for any of them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An amount of money in centavos (R$ 1,00 = 100).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Centavos(pub i64);

impl Centavos {
    pub const ZERO: Centavos = Centavos(0);

    /// Formats as Brazilians read money: `R$ 1.234,56`, the space a non-breaking one
    /// (U+00A0) so that "R$" never ends a line with its amount on the next — on a phone screen,
    /// in a WhatsApp bubble, in a table cell or in the PDF.
    pub fn to_brl(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        format!("{sign}R$\u{a0}{}", self.abs_reais())
    }

    /// The amount in reais without the symbol (`1.234,56`, `-32,95`): what a form's input
    /// shows for the owner to edit, and what [`Centavos::parse_brl`] reads back.
    pub fn to_reais(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        format!("{sign}{}", self.abs_reais())
    }

    fn abs_reais(self) -> String {
        let abs = self.0.unsigned_abs();
        format!("{},{:02}", group_thousands(abs / 100), abs % 100)
    }

    /// Parses what a store owner types: `1234,56`, `1.234,56`, `R$ 12`, `12.5` is refused
    /// (ambiguous), `12,5` is R$ 12,50.
    pub fn parse_brl(text: &str) -> Result<Centavos, MoneyError> {
        let t = text.trim().trim_start_matches("R$").trim();
        let (neg, t) = match t.strip_prefix('-') {
            Some(rest) => (true, rest.trim()),
            None => (false, t),
        };
        if t.is_empty() {
            return Err(MoneyError::Empty);
        }
        let (int_part, frac_part) = match t.split_once(',') {
            Some((i, f)) => (i, f),
            None => (t, ""),
        };
        // Thousands dots are only valid in groups of three.
        let groups: Vec<&str> = int_part.split('.').collect();
        if groups.len() > 1 && groups[1..].iter().any(|g| g.len() != 3) {
            return Err(MoneyError::Invalid(text.to_string()));
        }
        let digits: String = groups.concat();
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(MoneyError::Invalid(text.to_string()));
        }
        if frac_part.len() > 2 || !frac_part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(MoneyError::Invalid(text.to_string()));
        }
        let reais: i64 = digits.parse().map_err(|_| MoneyError::TooLarge)?;
        let mut cents: i64 = if frac_part.is_empty() {
            0
        } else {
            frac_part.parse().unwrap_or(0)
        };
        if frac_part.len() == 1 {
            cents *= 10;
        }
        let total = reais
            .checked_mul(100)
            .and_then(|v| v.checked_add(cents))
            .ok_or(MoneyError::TooLarge)?;
        Ok(Centavos(if neg { -total } else { total }))
    }
}

impl fmt::Display for Centavos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_brl())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("valor vazio")]
    Empty,
    #[error("valor inválido: \"{0}\" (use o formato 1.234,56)")]
    Invalid(String),
    #[error("valor grande demais")]
    TooLarge,
}

/// The bounds of one money input: what it is called on the form (for the pt-BR error) and
/// the range it may take. Every amount a person types or imports passes one of these in the
/// domain before it is stored or sent (docs/pricing.md, "Input limits").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MoneyLimit {
    pub what: &'static str,
    pub min: Centavos,
    pub max: Centavos,
}

/// R$ 1.000.000,00: no construction material is sold at more than this per unit.
const MILLION_REAIS: i64 = 100_000_000;

/// The limits of every money input in the product.
pub mod limits {
    use super::{MoneyLimit, MILLION_REAIS};

    /// A catalog price: more than zero (a free item is a mistake), at most R$ 1.000.000,00.
    pub const CATALOG_PRICE: MoneyLimit = MoneyLimit::new("Preço", 1, MILLION_REAIS);
    pub const CATALOG_COST: MoneyLimit = MoneyLimit::new("Custo", 0, MILLION_REAIS);
    /// A unit price a person sets while editing a quote (zero is a deliberate gift).
    pub const QUOTE_UNIT_PRICE: MoneyLimit = MoneyLimit::new("Preço", 0, MILLION_REAIS);
    /// A freight typed on a quote or a freight rule's fixed value: at most R$ 100.000,00.
    pub const FREIGHT: MoneyLimit = MoneyLimit::new("Frete", 0, MILLION_REAIS / 10);
    pub const FREIGHT_BASE: MoneyLimit = MoneyLimit::new("Valor fixo", 0, MILLION_REAIS / 10);
    /// Per kg: at most R$ 1.000,00.
    pub const FREIGHT_PER_KG: MoneyLimit = MoneyLimit::new("Valor por kg", 0, MILLION_REAIS / 1000);
    /// Thresholds compared with a quote's totals: at most R$ 100.000.000,00.
    pub const FREE_FREIGHT_ABOVE: MoneyLimit =
        MoneyLimit::new("Frete grátis acima de", 0, MILLION_REAIS * 100);
    pub const APPROVAL_ABOVE: MoneyLimit =
        MoneyLimit::new("Limite para aprovação", 0, MILLION_REAIS * 100);

    /// Every limit, for the documentation test that keeps docs/pricing.md true.
    pub const ALL: [MoneyLimit; 8] = [
        CATALOG_PRICE,
        CATALOG_COST,
        QUOTE_UNIT_PRICE,
        FREIGHT,
        FREIGHT_BASE,
        FREIGHT_PER_KG,
        FREE_FREIGHT_ABOVE,
        APPROVAL_ABOVE,
    ];
}

impl MoneyLimit {
    pub const fn new(what: &'static str, min: i64, max: i64) -> MoneyLimit {
        MoneyLimit {
            what,
            min: Centavos(min),
            max: Centavos(max),
        }
    }

    /// The amount if it is within the limit, else a pt-BR error naming the field.
    pub fn check(self, amount: Centavos) -> Result<Centavos, AmountError> {
        if amount < self.min {
            Err(if amount.0 < 0 {
                AmountError::Negative { what: self.what }
            } else {
                AmountError::BelowMinimum {
                    what: self.what,
                    min: self.min,
                }
            })
        } else if amount > self.max {
            Err(AmountError::AboveMaximum {
                what: self.what,
                max: self.max,
            })
        } else {
            Ok(amount)
        }
    }

    /// What a person typed (`1.234,56`), parsed and checked.
    pub fn parse(self, text: &str) -> Result<Centavos, AmountError> {
        let amount = Centavos::parse_brl(text).map_err(|e| match e {
            MoneyError::TooLarge => AmountError::AboveMaximum {
                what: self.what,
                max: self.max,
            },
            e => AmountError::Parse {
                what: self.what,
                source: e,
            },
        })?;
        self.check(amount)
    }
}

/// A money input refused, with the field's name: shown to the person as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("{what}: {source}.")]
    Parse {
        what: &'static str,
        source: MoneyError,
    },
    #[error("{what}: não pode ser negativo.")]
    Negative { what: &'static str },
    #[error("{what}: precisa ser pelo menos {}.", .min.to_brl())]
    BelowMinimum { what: &'static str, min: Centavos },
    #[error("{what}: no máximo {}.", .max.to_brl())]
    AboveMaximum { what: &'static str, max: Centavos },
}

/// A percentage in basis points: 500 = 5%.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct BasisPoints(pub i64);

impl BasisPoints {
    pub const ZERO: BasisPoints = BasisPoints(0);
    pub const FULL: BasisPoints = BasisPoints(10_000);

    /// What a person types for a discount or a margin (`5`, `2,5`, `12%`): 0–100 %, at most
    /// two decimals; empty is 0. The error names the field, in pt-BR.
    pub fn parse_percent(text: &str, what: &str) -> Result<BasisPoints, String> {
        let t = text.trim().trim_end_matches('%').trim();
        if t.is_empty() {
            return Ok(BasisPoints::ZERO);
        }
        if t.starts_with('-') {
            return Err(format!("{what}: não pode ser negativo"));
        }
        let q: Quantity = t
            .parse()
            .map_err(|_| format!("{what}: use um número como 5 ou 2,5"))?;
        let th = q.thousandths();
        if th % 10 != 0 {
            return Err(format!("{what}: no máximo duas casas decimais"));
        }
        let bp = th / 10;
        if !(0..=BasisPoints::FULL.0).contains(&bp) {
            return Err(format!("{what}: entre 0 e 100%"));
        }
        Ok(BasisPoints(bp))
    }

    /// `5%`, `17,7%`: one decimal place, pt-BR comma.
    pub fn to_percent_br(self) -> String {
        let tenths = div_round_half_up(self.0 as i128, 10) as i64;
        if tenths % 10 == 0 {
            format!("{}%", tenths / 10)
        } else {
            format!("{},{}%", tenths / 10, (tenths % 10).abs())
        }
    }
}

/// Quantities are exact decimals with this many thousandths per unit.
pub const QUANTITY_SCALE: i64 = 1000;

/// The most of one item a quote may carry: 100.000 units (100.000 sacos, 100.000 milheiros).
/// A larger order is not something to price without a person, and the bound keeps every line
/// total (at most R$ 1.000.000,00 × 100.000) far inside `i64` centavos.
pub const MAX_QUANTITY: Quantity = Quantity::whole(100_000);

/// An exact, non-negative quantity in the catalog's unit, in thousandths.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Quantity(i64);

impl Quantity {
    pub const ZERO: Quantity = Quantity(0);

    pub const fn from_thousandths(t: i64) -> Quantity {
        Quantity(t)
    }

    pub const fn whole(units: i64) -> Quantity {
        Quantity(units * QUANTITY_SCALE)
    }

    pub const fn thousandths(self) -> i64 {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Decimal text with a dot and no trailing zeros (`2.5`, `10`, `0.05`): the machine format
    /// used in JSON output and CSV files.
    pub fn to_decimal_string(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let int = abs / QUANTITY_SCALE as u64;
        let frac = abs % QUANTITY_SCALE as u64;
        if frac == 0 {
            format!("{sign}{int}")
        } else {
            let f = format!("{frac:03}");
            format!("{sign}{int}.{}", f.trim_end_matches('0'))
        }
    }

    /// pt-BR text: `2,5`, `1.500`, `0,05`.
    pub fn to_br(self) -> String {
        let abs = self.0.unsigned_abs();
        let int = abs / QUANTITY_SCALE as u64;
        let frac = abs % QUANTITY_SCALE as u64;
        let sign = if self.0 < 0 { "-" } else { "" };
        if frac == 0 {
            format!("{sign}{}", group_thousands(int))
        } else {
            let f = format!("{frac:03}");
            format!("{sign}{},{}", group_thousands(int), f.trim_end_matches('0'))
        }
    }

    /// A JSON number for machine output (the `parse` command). Never used for money.
    pub fn to_json_number(self) -> serde_json::Value {
        if self.0 % QUANTITY_SCALE == 0 {
            serde_json::Value::from(self.0 / QUANTITY_SCALE)
        } else {
            // The decimal string has at most three places, so this parse is exact enough for
            // display and the scorer compares after rounding to four places.
            serde_json::from_str(&self.to_decimal_string()).unwrap_or(serde_json::Value::Null)
        }
    }

    /// The quantity if it is within `0..=MAX_QUANTITY`, else a pt-BR error.
    pub fn check_line(self) -> Result<Quantity, QuantityError> {
        if self.0 < 0 {
            Err(QuantityError::Negative)
        } else if self > MAX_QUANTITY {
            Err(QuantityError::AboveMaximum)
        } else {
            Ok(self)
        }
    }

    pub fn checked_add(self, other: Quantity) -> Option<Quantity> {
        self.0.checked_add(other.0).map(Quantity)
    }

    /// `self - other`, or `None` when that would be negative (taking off more than there
    /// is).
    pub fn checked_sub(self, other: Quantity) -> Option<Quantity> {
        self.0
            .checked_sub(other.0)
            .filter(|left| *left >= 0)
            .map(Quantity)
    }

    /// Multiplies by `num/den` with half-up rounding to the nearest thousandth (unit
    /// conversions such as 500 tijolos → 0,5 milheiro).
    ///
    /// Saturates instead of wrapping: "9999999999999999 milheiros" in units must stay a huge
    /// (and so refused, `check_line`) quantity, never become a negative or small one.
    pub fn scale(self, num: i64, den: i64) -> Quantity {
        let exact = div_round_half_up(self.0 as i128 * num as i128, den as i128);
        Quantity(exact.clamp(i64::MIN as i128, i64::MAX as i128) as i64)
    }
}

impl FromStr for Quantity {
    type Err = QuantityError;

    /// Reads a quantity as a person in Brazil writes it, and as [`Quantity::to_br`] shows it in
    /// a form: `10`, `2,5`, `0,05`, `1.500` (thousands), `1.500,5`; a lone dot with one or
    /// two decimals (`2.5`) is a decimal point. At most three decimal places. A form
    /// pre-filled with "2.000" must read back as two thousand, never as 2.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.is_empty() {
            return Err(QuantityError::Invalid(s.to_string()));
        }
        let invalid = || QuantityError::Invalid(s.to_string());
        let (int, frac): (String, &str) = match t.split_once(',') {
            Some((int, frac)) => (without_thousands_dots(int).ok_or_else(invalid)?, frac),
            None => {
                let groups: Vec<&str> = t.split('.').collect();
                let thousands = groups.len() > 2
                    || groups.len() == 2 && groups[1].len() == 3 && !matches!(groups[0], "" | "0");
                if thousands {
                    (without_thousands_dots(t).ok_or_else(invalid)?, "")
                } else {
                    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
                    (int.to_string(), frac)
                }
            }
        };
        let int = int.as_str();
        if int.is_empty() && frac.is_empty() {
            return Err(QuantityError::Invalid(s.to_string()));
        }
        if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(QuantityError::Invalid(s.to_string()));
        }
        if frac.len() > 3 {
            return Err(QuantityError::TooPrecise(s.to_string()));
        }
        let int_v: i64 = if int.is_empty() {
            0
        } else {
            int.parse().map_err(|_| QuantityError::TooLarge)?
        };
        let frac_v: i64 = if frac.is_empty() {
            0
        } else {
            frac.parse::<i64>()
                .map_err(|_| QuantityError::Invalid(s.to_string()))?
                * 10_i64.pow(3 - frac.len() as u32)
        };
        int_v
            .checked_mul(QUANTITY_SCALE)
            .and_then(|v| v.checked_add(frac_v))
            .map(Quantity)
            .ok_or(QuantityError::TooLarge)
    }
}

/// `1.234.567` → `1234567`; `None` when the dots are not thousands (groups of three after
/// the first, which has one to three digits). Text without dots comes back as it is.
fn without_thousands_dots(t: &str) -> Option<String> {
    let groups: Vec<&str> = t.split('.').collect();
    if groups.len() == 1 {
        return Some(t.to_string());
    }
    let first_ok = (1..=3).contains(&groups[0].len());
    (first_ok && groups[1..].iter().all(|g| g.len() == 3)).then(|| groups.concat())
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    #[error("quantidade inválida: \"{0}\"")]
    Invalid(String),
    #[error("quantidade com casas decimais demais: \"{0}\" (máximo 3)")]
    TooPrecise(String),
    #[error("quantidade grande demais")]
    TooLarge,
    #[error("quantidade não pode ser negativa")]
    Negative,
    #[error("quantidade acima do máximo de 100.000 por item")]
    AboveMaximum,
}

/// Integer division rounding half away from zero (half up for the non-negative values money
/// uses): the rounding rule of `demo-store.md`.
pub fn div_round_half_up(num: i128, den: i128) -> i128 {
    assert!(den > 0, "denominator must be positive");
    if num >= 0 {
        (num + den / 2) / den
    } else {
        -((-num + den / 2) / den)
    }
}

pub(crate) fn group_thousands(mut n: u64) -> String {
    let mut groups = Vec::new();
    loop {
        groups.push(n % 1000);
        n /= 1000;
        if n == 0 {
            break;
        }
    }
    let mut out = groups.pop().map(|g| g.to_string()).unwrap_or_default();
    while let Some(g) = groups.pop() {
        out.push_str(&format!(".{g:03}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brl_formatting() {
        assert_eq!(Centavos(66105).to_brl(), "R$\u{a0}661,05");
        assert_eq!(Centavos(123456).to_brl(), "R$\u{a0}1.234,56");
        assert_eq!(Centavos(100000000).to_brl(), "R$\u{a0}1.000.000,00");
        assert_eq!(Centavos(5).to_brl(), "R$\u{a0}0,05");
        assert_eq!(Centavos(-3295).to_brl(), "-R$\u{a0}32,95");
        assert_eq!(Centavos(123456).to_reais(), "1.234,56");
        assert_eq!(Centavos(-3295).to_reais(), "-32,95");
        // What the owner edits reads back to the same amount.
        assert_eq!(
            Centavos::parse_brl(&Centavos(123456).to_reais()),
            Ok(Centavos(123456))
        );
        assert_eq!(
            Centavos::parse_brl(&Centavos(123456).to_brl()),
            Ok(Centavos(123456))
        );
    }

    #[test]
    fn brl_parsing() {
        assert_eq!(Centavos::parse_brl("1.234,56"), Ok(Centavos(123456)));
        assert_eq!(Centavos::parse_brl("R$ 36,9"), Ok(Centavos(3690)));
        assert_eq!(Centavos::parse_brl("12"), Ok(Centavos(1200)));
        assert!(Centavos::parse_brl("12.5").is_err());
        assert!(Centavos::parse_brl("abc").is_err());
        assert!(Centavos::parse_brl("1,234").is_err());
        assert!(Centavos::parse_brl("").is_err());
    }

    #[test]
    fn quantity_parse_and_format() {
        let q: Quantity = "2,5".parse().unwrap();
        assert_eq!(q.thousandths(), 2500);
        assert_eq!(q.to_decimal_string(), "2.5");
        assert_eq!(q.to_br(), "2,5");
        assert_eq!(
            "0.05".parse::<Quantity>().unwrap().to_decimal_string(),
            "0.05"
        );
        assert_eq!(Quantity::whole(1500).to_br(), "1.500");
        assert!("1.2345".parse::<Quantity>().is_err());
        // What to_br writes in a form reads back unchanged (pt-BR thousands).
        for q in [2_000_000, 1_500_500, 2_500, 50, 1_234_567_000] {
            let q = Quantity::from_thousandths(q);
            assert_eq!(q.to_br().parse::<Quantity>(), Ok(q), "{}", q.to_br());
        }
        let n = |s: &str| s.parse::<Quantity>().map(|q| q.to_br());
        assert_eq!(n("2.000"), Ok("2.000".into()));
        assert_eq!(n("1.500,5"), Ok("1.500,5".into()));
        assert_eq!(n("2.5"), Ok("2,5".into()));
        assert_eq!(n("0.500"), Ok("0,5".into()));
        assert!(n("1.23.456").is_err());
        assert!(n("12.34,5").is_err());
        assert!("x".parse::<Quantity>().is_err());
        assert_eq!(
            Quantity::whole(500).scale(1, 1000).to_decimal_string(),
            "0.5"
        );
        assert_eq!(
            Quantity::whole(20).scale(1, 1000).to_json_number(),
            serde_json::json!(0.02)
        );
    }

    #[test]
    fn unit_conversion_never_wraps() {
        let huge = Quantity::from_thousandths(i64::MAX / 10);
        assert_eq!(huge.scale(1000, 1), Quantity::from_thousandths(i64::MAX));
        assert!(huge.scale(1000, 1).check_line().is_err());
    }

    #[test]
    fn half_up() {
        assert_eq!(div_round_half_up(5, 10), 1);
        assert_eq!(div_round_half_up(4, 10), 0);
        assert_eq!(div_round_half_up(-5, 10), -1);
        assert_eq!(BasisPoints(1770).to_percent_br(), "17,7%");
        assert_eq!(BasisPoints(500).to_percent_br(), "5%");
    }
}
