//! A store's pricing rules: payment and volume discounts, freight by bairro or CEP range,
//! minimum margin and the approval threshold. Stored per store; `demo_rules` is the demo
//! store of `demo-store.md`.

use serde::{Deserialize, Serialize};

use crate::ids::Cep;
use crate::money::{BasisPoints, Centavos, Quantity};
use crate::slots::{Location, PaymentMethod};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreRules {
    /// Discount per payment method; a method not listed gets no discount.
    pub payment_discounts: Vec<(PaymentMethod, BasisPoints)>,
    pub volume_discounts: Vec<VolumeDiscount>,
    /// Ordered: the first rule matching the location wins.
    pub freight_rules: Vec<FreightRule>,
    /// A quote whose margin is below this goes to approval.
    pub min_margin: BasisPoints,
    /// A quote whose total is strictly above this goes to approval.
    pub approval_above: Centavos,
    pub quote_validity_hours: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeDiscount {
    /// `None` is a global discount for every item; `Some(sku)` only for that item.
    pub sku: Option<String>,
    pub min_quantity: Quantity,
    pub discount: BasisPoints,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreightRule {
    /// Shown to the store (and kept in the quote snapshot) to say which rule applied.
    pub label: String,
    pub zone: FreightZone,
    pub base: Centavos,
    pub per_kg: Centavos,
    /// Freight is free when the subtotal (after volume discounts, before the payment discount)
    /// reaches this.
    pub free_above: Option<Centavos>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FreightZone {
    /// Canonical bairro names (with accents); matching ignores accents and case.
    Bairros(Vec<String>),
    /// Inclusive on both ends.
    CepRange { from: Cep, to: Cep },
}

impl FreightZone {
    pub fn matches(&self, location: &Location) -> bool {
        match (self, location) {
            (FreightZone::Bairros(names), Location::Bairro(b)) => {
                let wanted = fold(b);
                names.iter().any(|n| fold(n) == wanted)
            }
            (FreightZone::CepRange { from, to }, Location::Cep(c)) => {
                (from.value()..=to.value()).contains(&c.value())
            }
            _ => false,
        }
    }
}

impl StoreRules {
    pub fn payment_discount(&self, method: PaymentMethod) -> BasisPoints {
        self.payment_discounts
            .iter()
            .find(|(m, _)| *m == method)
            .map(|(_, bp)| clamp_bp(*bp))
            .unwrap_or(BasisPoints::ZERO)
    }

    /// The best volume discount whose minimum is met. An item-specific discount that is met
    /// beats any global one, even a larger global one: the store set that item's price
    /// deliberately.
    pub fn volume_discount(&self, sku: &str, quantity: Quantity) -> BasisPoints {
        let best = |specific: bool| {
            self.volume_discounts
                .iter()
                .filter(|v| match &v.sku {
                    Some(s) => specific && s.eq_ignore_ascii_case(sku),
                    None => !specific,
                })
                .filter(|v| quantity >= v.min_quantity)
                .map(|v| clamp_bp(v.discount))
                .max()
        };
        best(true)
            .or_else(|| best(false))
            .unwrap_or(BasisPoints::ZERO)
    }

    pub fn freight_rule_for(&self, location: &Location) -> Option<&FreightRule> {
        self.freight_rules.iter().find(|r| r.zone.matches(location))
    }
}

/// A discount outside 0–100% is a configuration mistake; never let it make prices negative
/// or raise them.
pub(crate) fn clamp_bp(bp: BasisPoints) -> BasisPoints {
    BasisPoints(bp.0.clamp(0, BasisPoints::FULL.0))
}

/// Canonical bairro names named by the freight rules, in rule order, without repeats.
pub fn known_bairros(rules: &StoreRules) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for rule in &rules.freight_rules {
        if let FreightZone::Bairros(names) = &rule.zone {
            for n in names {
                if !out.iter().any(|o| fold(o) == fold(n)) {
                    out.push(n.clone());
                }
            }
        }
    }
    out
}

/// Lowercase, without accents and with single spaces: "Jardim  ÂNGELA" → "jardim angela".
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        let base = match c {
            'á' | 'à' | 'â' | 'ã' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'õ' | 'ö' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            'ñ' => 'n',
            c => c,
        };
        if base.is_whitespace() {
            if !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
        } else {
            out.push(base);
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

fn cep(digits: &str) -> Cep {
    // Only called with the constant CEPs of the demo store below.
    Cep::parse(digits).unwrap_or_else(|e| panic!("demo CEP constant is invalid: {e}"))
}

/// The demo store's rules, exactly as `demo-store.md`.
pub fn demo_rules() -> StoreRules {
    let bairros = [
        "Grajaú",
        "Parelheiros",
        "Cidade Dutra",
        "Interlagos",
        "Jardim Ângela",
        "Jardim São Luís",
        "Capão Redondo",
        "Pedreira",
        "Cidade Ademar",
        "Jardim Miriam",
        "Americanópolis",
    ];
    StoreRules {
        payment_discounts: vec![
            (PaymentMethod::Pix, BasisPoints(500)),
            (PaymentMethod::Dinheiro, BasisPoints(300)),
            (PaymentMethod::Cartao, BasisPoints(0)),
            (PaymentMethod::Boleto, BasisPoints(0)),
        ],
        volume_discounts: vec![
            VolumeDiscount {
                sku: Some("CIM-CP2-50".into()),
                min_quantity: Quantity::whole(50),
                discount: BasisPoints(400),
            },
            VolumeDiscount {
                sku: Some("TIJ-6F".into()),
                min_quantity: Quantity::whole(2000),
                discount: BasisPoints(500),
            },
            VolumeDiscount {
                sku: Some("BLC-14".into()),
                min_quantity: Quantity::whole(500),
                discount: BasisPoints(500),
            },
        ],
        freight_rules: vec![
            FreightRule {
                label: "Zona Sul (bairros próximos)".into(),
                zone: FreightZone::Bairros(bairros.iter().map(|b| b.to_string()).collect()),
                base: Centavos(3500),
                per_kg: Centavos(0),
                free_above: None,
            },
            FreightRule {
                label: "CEP 04000-000 a 04999-999".into(),
                zone: FreightZone::CepRange {
                    from: cep("04000000"),
                    to: cep("04999999"),
                },
                base: Centavos(4500),
                per_kg: Centavos(2),
                free_above: None,
            },
            FreightRule {
                label: "CEP 01000-000 a 05999-999".into(),
                zone: FreightZone::CepRange {
                    from: cep("01000000"),
                    to: cep("05999999"),
                },
                base: Centavos(8000),
                per_kg: Centavos(3),
                free_above: None,
            },
        ],
        min_margin: BasisPoints(1200),
        approval_above: Centavos(800_000),
        quote_validity_hours: 48,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_ignores_accents_case_and_spacing() {
        assert_eq!(fold("  Jardim   ÂNGELA "), "jardim angela");
        assert_eq!(fold("Grajaú"), "grajau");
        assert_eq!(fold("Capão Redondo"), "capao redondo");
    }

    #[test]
    fn known_bairros_of_demo() {
        let b = known_bairros(&demo_rules());
        assert_eq!(b.len(), 11);
        assert_eq!(b[0], "Grajaú");
        assert!(b.contains(&"Jardim São Luís".to_string()));
    }
}
