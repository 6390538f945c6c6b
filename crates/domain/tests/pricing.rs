//! Table-driven pricing cases on the demo store (demo-store.md) and rounding edge cases.
//! Expected values are computed by hand from the rules; the comments show the arithmetic.

use domain::catalog::{parse_catalog_csv, CatalogItem, Unit, DEMO_CATALOG_CSV};
use domain::ids::Cep;
use domain::money::{BasisPoints, Centavos, Quantity};
use domain::pricing::{
    demo_rules, known_bairros, price_quote, ApprovalReason, FreightRule, FreightZone, PricedQuote,
    QuoteRequest, StoreRules, VolumeDiscount,
};
use domain::slots::{Location, PaymentMethod};

use ApprovalReason::*;
use PaymentMethod::*;

fn catalog() -> Vec<CatalogItem> {
    parse_catalog_csv(DEMO_CATALOG_CSV).unwrap()
}

fn bairro(b: &str) -> Location {
    Location::Bairro(b.to_string())
}

fn cep(c: &str) -> Location {
    Location::Cep(Cep::parse(c).unwrap())
}

fn q(text: &str) -> Quantity {
    text.parse().unwrap()
}

/// Prices `(sku, quantity)` lines of the demo catalog with the demo rules.
fn demo_quote(lines: &[(&str, &str)], payment: PaymentMethod, location: Location) -> PricedQuote {
    let cat = catalog();
    let req = QuoteRequest {
        lines: lines
            .iter()
            .map(|(sku, qty)| (cat.iter().find(|i| i.sku == *sku).unwrap(), q(qty)))
            .collect(),
        unknown: vec![],
        payment,
        location,
        llm_assisted: false,
        needs_human: false,
    };
    price_quote(&req, &demo_rules()).unwrap()
}

#[test]
fn demo_example_is_exact() {
    let p = demo_quote(
        &[("CIM-CP2-50", "10"), ("ARE-MED-M3", "2")],
        Pix,
        bairro("Grajaú"),
    );
    assert_eq!(p.lines[0].line_total, Centavos(36900));
    assert_eq!(p.lines[1].line_total, Centavos(29000));
    assert_eq!(p.subtotal, Centavos(65900));
    assert_eq!(p.payment_discount_bp, BasisPoints(500));
    assert_eq!(p.payment_discount, Centavos(3295));
    assert_eq!(p.freight, Some(Centavos(3500)));
    assert_eq!(p.total, Centavos(66105));
    assert_eq!(p.total.to_brl(), "R$\u{a0}661,05");
    // (62605 − 51500) / 62605 = 0,17738… → 1774 bp
    assert_eq!(p.margin_bp, Some(BasisPoints(1774)));
    assert_eq!(p.margin_bp.unwrap().to_percent_br(), "17,7%");
    assert!(p.approval_reasons.is_empty());
    assert!(!p.needs_approval());
    assert_eq!(
        p.freight_rule.as_deref(),
        Some("Zona Sul (bairros próximos)")
    );
}

/// One row: lines, payment, location → subtotal, payment discount, freight, total, reasons.
struct Case {
    name: &'static str,
    lines: &'static [(&'static str, &'static str)],
    payment: PaymentMethod,
    location: fn() -> Location,
    subtotal: i64,
    discount: i64,
    freight: Option<i64>,
    total: i64,
    reasons: &'static [ApprovalReason],
}

const EXAMPLE: &[(&str, &str)] = &[("CIM-CP2-50", "10"), ("ARE-MED-M3", "2")];

#[test]
fn demo_rules_table() {
    let cases = [
        // --- each payment method on the demo example in Grajaú ---
        Case {
            name: "pix 5%",
            lines: EXAMPLE,
            payment: Pix,
            location: || bairro("Grajaú"),
            subtotal: 65900,
            discount: 3295,
            freight: Some(3500),
            total: 66105,
            reasons: &[],
        },
        Case {
            name: "dinheiro 3%",
            lines: EXAMPLE,
            payment: Dinheiro,
            location: || bairro("Grajaú"),
            subtotal: 65900,
            discount: 1977,
            freight: Some(3500),
            total: 67423,
            reasons: &[],
        },
        Case {
            name: "cartao 0%",
            lines: EXAMPLE,
            payment: Cartao,
            location: || bairro("Grajaú"),
            subtotal: 65900,
            discount: 0,
            freight: Some(3500),
            total: 69400,
            reasons: &[],
        },
        Case {
            name: "boleto 0%",
            lines: EXAMPLE,
            payment: Boleto,
            location: || bairro("Grajaú"),
            subtotal: 65900,
            discount: 0,
            freight: Some(3500),
            total: 69400,
            reasons: &[],
        },
        // --- volume discount CIM-CP2-50 from 50 sc: 4% (3690 → 3542,4 → 3542) ---
        Case {
            name: "cimento 49 sc",
            lines: &[("CIM-CP2-50", "49")],
            payment: Cartao,
            location: || bairro("Grajaú"),
            subtotal: 180810,
            discount: 0,
            freight: Some(3500),
            total: 184310,
            reasons: &[],
        },
        Case {
            name: "cimento 49,999 sc",
            lines: &[("CIM-CP2-50", "49,999")],
            payment: Cartao,
            location: || bairro("Grajaú"),
            subtotal: 184496,
            discount: 0,
            freight: Some(3500),
            total: 187996,
            reasons: &[],
        },
        Case {
            name: "cimento 50 sc",
            lines: &[("CIM-CP2-50", "50")],
            payment: Cartao,
            location: || bairro("Grajaú"),
            subtotal: 177100,
            discount: 0,
            freight: Some(3500),
            total: 180600,
            reasons: &[],
        },
        Case {
            name: "cimento 51 sc",
            lines: &[("CIM-CP2-50", "51")],
            payment: Cartao,
            location: || bairro("Grajaú"),
            subtotal: 180642,
            discount: 0,
            freight: Some(3500),
            total: 184142,
            reasons: &[],
        },
        // --- TIJ-6F from 2000 un: 5% (89 → 84,55 → 85) ---
        Case {
            name: "tijolo 1999 un",
            lines: &[("TIJ-6F", "1999")],
            payment: Cartao,
            location: || bairro("Grajaú"),
            subtotal: 177911,
            discount: 0,
            freight: Some(3500),
            total: 181411,
            reasons: &[],
        },
        Case {
            name: "tijolo 2000 un",
            lines: &[("TIJ-6F", "2000")],
            payment: Cartao,
            location: || bairro("Grajaú"),
            subtotal: 170000,
            discount: 0,
            freight: Some(3500),
            total: 173500,
            reasons: &[],
        },
        Case {
            name: "tijolo 2001 un",
            lines: &[("TIJ-6F", "2001")],
            payment: Cartao,
            location: || bairro("Grajaú"),
            subtotal: 170085,
            discount: 0,
            freight: Some(3500),
            total: 173585,
            reasons: &[],
        },
        // --- BLC-14 from 500 un: 5% (420 → 399) ---
        Case {
            name: "bloco 499 un",
            lines: &[("BLC-14", "499")],
            payment: Cartao,
            location: || bairro("Grajaú"),
            subtotal: 209580,
            discount: 0,
            freight: Some(3500),
            total: 213080,
            reasons: &[],
        },
        Case {
            name: "bloco 500 un",
            lines: &[("BLC-14", "500")],
            payment: Cartao,
            location: || bairro("Grajaú"),
            subtotal: 199500,
            discount: 0,
            freight: Some(3500),
            total: 203000,
            reasons: &[],
        },
        Case {
            name: "bloco 501 un",
            lines: &[("BLC-14", "501")],
            payment: Cartao,
            location: || bairro("Grajaú"),
            subtotal: 199899,
            discount: 0,
            freight: Some(3500),
            total: 203399,
            reasons: &[],
        },
        // --- freight: bairros, accent/case-insensitive ---
        Case {
            name: "grajau sem acento",
            lines: EXAMPLE,
            payment: Pix,
            location: || bairro("grajau"),
            subtotal: 65900,
            discount: 3295,
            freight: Some(3500),
            total: 66105,
            reasons: &[],
        },
        Case {
            name: "GRAJAÚ maiúsculo",
            lines: EXAMPLE,
            payment: Pix,
            location: || bairro("GRAJAÚ"),
            subtotal: 65900,
            discount: 3295,
            freight: Some(3500),
            total: 66105,
            reasons: &[],
        },
        Case {
            name: "jardim angela",
            lines: EXAMPLE,
            payment: Pix,
            location: || bairro("jardim  angela"),
            subtotal: 65900,
            discount: 3295,
            freight: Some(3500),
            total: 66105,
            reasons: &[],
        },
        Case {
            name: "americanopolis",
            lines: EXAMPLE,
            payment: Pix,
            location: || bairro("Americanopolis"),
            subtotal: 65900,
            discount: 3295,
            freight: Some(3500),
            total: 66105,
            reasons: &[],
        },
        // --- freight: CEP 04xxx: 4500 + 2 × 3500 kg = 11500 ---
        Case {
            name: "cep 04567-000",
            lines: EXAMPLE,
            payment: Pix,
            location: || cep("04567-000"),
            subtotal: 65900,
            discount: 3295,
            freight: Some(11500),
            total: 74105,
            reasons: &[],
        },
        Case {
            name: "cep 04000-000 (início)",
            lines: EXAMPLE,
            payment: Pix,
            location: || cep("04000-000"),
            subtotal: 65900,
            discount: 3295,
            freight: Some(11500),
            total: 74105,
            reasons: &[],
        },
        Case {
            name: "cep 04999-999 (fim)",
            lines: EXAMPLE,
            payment: Pix,
            location: || cep("04999-999"),
            subtotal: 65900,
            discount: 3295,
            freight: Some(11500),
            total: 74105,
            reasons: &[],
        },
        // --- CEP 01xxx–05xxx: 8000 + 3 × 3500 kg = 18500 ---
        Case {
            name: "cep 01310-100",
            lines: EXAMPLE,
            payment: Pix,
            location: || cep("01310-100"),
            subtotal: 65900,
            discount: 3295,
            freight: Some(18500),
            total: 81105,
            reasons: &[],
        },
        Case {
            name: "cep 03999-999",
            lines: EXAMPLE,
            payment: Pix,
            location: || cep("03999-999"),
            subtotal: 65900,
            discount: 3295,
            freight: Some(18500),
            total: 81105,
            reasons: &[],
        },
        Case {
            name: "cep 05999-999",
            lines: EXAMPLE,
            payment: Pix,
            location: || cep("05999-999"),
            subtotal: 65900,
            discount: 3295,
            freight: Some(18500),
            total: 81105,
            reasons: &[],
        },
        // --- no rule: freight unknown, total without freight, approval ---
        Case {
            name: "cep 06000-000",
            lines: EXAMPLE,
            payment: Pix,
            location: || cep("06000-000"),
            subtotal: 65900,
            discount: 3295,
            freight: None,
            total: 62605,
            reasons: &[NoFreightRule],
        },
        Case {
            name: "cep 08210-000 zona leste",
            lines: EXAMPLE,
            payment: Pix,
            location: || cep("08210-000"),
            subtotal: 65900,
            discount: 3295,
            freight: None,
            total: 62605,
            reasons: &[NoFreightRule],
        },
        Case {
            name: "bairro fora da lista",
            lines: EXAMPLE,
            payment: Pix,
            location: || bairro("Tatuapé"),
            subtotal: 65900,
            discount: 3295,
            freight: None,
            total: 62605,
            reasons: &[NoFreightRule],
        },
        // --- margin: 50 sc with the 4% volume and 5% PIX discounts ---
        // net 177100 − 8855 = 168245, cost 152500 → 9,36% < 12%
        Case {
            name: "margem abaixo de 12%",
            lines: &[("CIM-CP2-50", "50")],
            payment: Pix,
            location: || bairro("Grajaú"),
            subtotal: 177100,
            discount: 8855,
            freight: Some(3500),
            total: 171745,
            reasons: &[MarginBelowMinimum],
        },
        // --- total above R$ 8.000,00: 9 milheiros × 980,00 ---
        Case {
            name: "total acima de 8 mil",
            lines: &[("TIJ-MAC", "9")],
            payment: Cartao,
            location: || bairro("Grajaú"),
            subtotal: 882000,
            discount: 0,
            freight: Some(3500),
            total: 885500,
            reasons: &[TotalAboveThreshold],
        },
        // everything at once: low margin, above threshold, no freight
        Case {
            name: "vários motivos",
            lines: &[("CIM-CP2-50", "250")],
            payment: Pix,
            location: || cep("08210-000"),
            subtotal: 885500,
            discount: 44275,
            freight: None,
            total: 841225,
            reasons: &[MarginBelowMinimum, TotalAboveThreshold, NoFreightRule],
        },
        // --- fractional quantities ---
        Case {
            name: "2,5 m³ de areia",
            lines: &[("ARE-MED-M3", "2,5")],
            payment: Cartao,
            location: || bairro("Grajaú"),
            subtotal: 36250,
            discount: 0,
            freight: Some(3500),
            total: 39750,
            reasons: &[],
        },
        Case {
            name: "0,5 milheiro",
            lines: &[("TIJ-MAC", "0,5")],
            payment: Cartao,
            location: || bairro("Grajaú"),
            subtotal: 49000,
            discount: 0,
            freight: Some(3500),
            total: 52500,
            reasons: &[],
        },
        // 0,05 milheiro: 4900; weight 2500 kg × 0,05 = 125 kg → 4500 + 250
        Case {
            name: "0,05 milheiro",
            lines: &[("TIJ-MAC", "0,05")],
            payment: Cartao,
            location: || cep("04567-000"),
            subtotal: 4900,
            discount: 0,
            freight: Some(4750),
            total: 9650,
            reasons: &[],
        },
        // --- half centavos round up ---
        // 0,5 × 89 = 44,5 → 45; PIX 5% of 45 = 2,25 → 2
        Case {
            name: "meio tijolo",
            lines: &[("TIJ-6F", "0,5")],
            payment: Pix,
            location: || bairro("Grajaú"),
            subtotal: 45,
            discount: 2,
            freight: Some(3500),
            total: 3543,
            reasons: &[],
        },
        // 1 tijolo: PIX 5% of 89 = 4,45 → 4; 2,3 kg × 2 = 4,6 → 5
        Case {
            name: "um tijolo cep 04",
            lines: &[("TIJ-6F", "1")],
            payment: Pix,
            location: || cep("04567-000"),
            subtotal: 89,
            discount: 4,
            freight: Some(4505),
            total: 4590,
            reasons: &[],
        },
        // 10 tijolos: 890, PIX 44,5 → 45; 23 kg × 2 = 46
        Case {
            name: "pix meio centavo",
            lines: &[("TIJ-6F", "10")],
            payment: Pix,
            location: || cep("04567-000"),
            subtotal: 890,
            discount: 45,
            freight: Some(4546),
            total: 5391,
            reasons: &[],
        },
    ];
    for c in cases {
        let p = demo_quote(c.lines, c.payment, (c.location)());
        assert_eq!(p.subtotal, Centavos(c.subtotal), "{}: subtotal", c.name);
        assert_eq!(
            p.payment_discount,
            Centavos(c.discount),
            "{}: desconto",
            c.name
        );
        assert_eq!(p.freight, c.freight.map(Centavos), "{}: frete", c.name);
        assert_eq!(p.total, Centavos(c.total), "{}: total", c.name);
        assert_eq!(p.approval_reasons, c.reasons, "{}: motivos", c.name);
        assert_eq!(p.needs_approval(), !c.reasons.is_empty(), "{}", c.name);
        let sum: i64 = p.lines.iter().map(|l| l.line_total.0).sum();
        assert_eq!(sum, c.subtotal, "{}: soma das linhas", c.name);
    }
}

#[test]
fn volume_discount_is_recorded_on_the_line() {
    let p = demo_quote(
        &[("TIJ-6F", "2000"), ("BLC-14", "10")],
        Cartao,
        bairro("Grajaú"),
    );
    assert_eq!(p.lines[0].volume_discount_bp, BasisPoints(500));
    assert_eq!(p.lines[0].list_price, Centavos(89));
    assert_eq!(p.lines[0].unit_price, Centavos(85));
    assert_eq!(p.lines[0].cost_total, Centavos(124_000));
    assert_eq!(p.lines[0].weight_grams, 2300);
    assert_eq!(p.lines[1].volume_discount_bp, BasisPoints(0));
    assert_eq!(p.lines[1].unit_price, Centavos(420));
}

#[test]
fn margin_just_above_minimum_is_sent_automatically() {
    // 49 sc PIX: 180810 − 9041 (9040,5 ↑) = 171769; cost 149450 → 12,99%
    let p = demo_quote(&[("CIM-CP2-50", "49")], Pix, bairro("Grajaú"));
    assert_eq!(p.payment_discount, Centavos(9041));
    assert_eq!(p.margin_bp, Some(BasisPoints(1299)));
    assert!(p.approval_reasons.is_empty());
}

fn item(sku: &str, price: i64, cost: i64, weight_grams: i64) -> CatalogItem {
    CatalogItem {
        sku: sku.into(),
        name: format!("Produto {sku}"),
        unit: Unit::Un,
        price: Centavos(price),
        cost: Centavos(cost),
        weight_grams,
        aliases: vec![],
        active: true,
    }
}

fn request<'a>(lines: Vec<(&'a CatalogItem, Quantity)>, location: Location) -> QuoteRequest<'a> {
    QuoteRequest {
        lines,
        unknown: vec![],
        payment: Cartao,
        location,
        llm_assisted: false,
        needs_human: false,
    }
}

#[test]
fn total_exactly_at_threshold_is_not_above() {
    let it = item("X", 796_500, 1, 0);
    let p = price_quote(
        &request(vec![(&it, q("1"))], bairro("Grajaú")),
        &demo_rules(),
    )
    .unwrap();
    assert_eq!(p.total, Centavos(800_000));
    assert!(p.approval_reasons.is_empty());
    let it = item("X", 796_501, 1, 0);
    let p = price_quote(
        &request(vec![(&it, q("1"))], bairro("Grajaú")),
        &demo_rules(),
    )
    .unwrap();
    assert_eq!(p.approval_reasons, vec![TotalAboveThreshold]);
}

#[test]
fn margin_exactly_at_minimum_is_not_below() {
    let it = item("X", 10_000, 8_800, 0);
    let p = price_quote(
        &request(vec![(&it, q("1"))], bairro("Grajaú")),
        &demo_rules(),
    )
    .unwrap();
    assert_eq!(p.margin_bp, Some(BasisPoints(1200)));
    assert!(p.approval_reasons.is_empty());
    let it = item("X", 10_000, 8_801, 0);
    let p = price_quote(
        &request(vec![(&it, q("1"))], bairro("Grajaú")),
        &demo_rules(),
    )
    .unwrap();
    assert_eq!(p.margin_bp, Some(BasisPoints(1199)));
    assert_eq!(p.approval_reasons, vec![MarginBelowMinimum]);
}

#[test]
fn per_kg_half_centavo_rounds_up() {
    // 500 g at R$ 0,03/kg = 1,5 centavo → 2; CEP 01xxx base 8000
    let it = item("X", 100, 10, 500);
    let p = price_quote(
        &request(vec![(&it, q("1"))], cep("01001-000")),
        &demo_rules(),
    )
    .unwrap();
    assert_eq!(p.freight, Some(Centavos(8002)));
    // 499 g → 1,497 → 1
    let it = item("X", 100, 10, 499);
    let p = price_quote(
        &request(vec![(&it, q("1"))], cep("01001-000")),
        &demo_rules(),
    )
    .unwrap();
    assert_eq!(p.freight, Some(Centavos(8001)));
}

#[test]
fn weight_is_summed_exactly_before_rounding_freight() {
    // Three lines of 1/3 kg each would round to 0 each on their own; together 1 kg = 3.
    let it = item("X", 100, 10, 333);
    let it2 = item("Y", 100, 10, 333);
    let it3 = item("Z", 100, 10, 334);
    let req = request(
        vec![(&it, q("1")), (&it2, q("1")), (&it3, q("1"))],
        cep("01001-000"),
    );
    assert_eq!(
        price_quote(&req, &demo_rules()).unwrap().freight,
        Some(Centavos(8003))
    );
}

#[test]
fn unknown_items_llm_and_human_reasons_all_apply() {
    let cat = catalog();
    let cim = cat.iter().find(|i| i.sku == "CIM-CP2-50").unwrap();
    let req = QuoteRequest {
        lines: vec![(cim, q("10"))],
        unknown: vec!["selador em galão".into()],
        payment: Pix,
        location: cep("08210-000"),
        llm_assisted: true,
        needs_human: true,
    };
    let p = price_quote(&req, &demo_rules()).unwrap();
    assert_eq!(
        p.approval_reasons,
        vec![UnknownItem, NoFreightRule, LlmAssisted, NeedsHuman]
    );
    assert_eq!(p.unknown, vec!["selador em galão".to_string()]);
}

#[test]
fn only_unknown_items_gives_an_empty_quote_for_approval() {
    let req = QuoteRequest {
        lines: vec![],
        unknown: vec!["telha colonial".into()],
        payment: Pix,
        location: bairro("Grajaú"),
        llm_assisted: false,
        needs_human: false,
    };
    let p = price_quote(&req, &demo_rules()).unwrap();
    assert_eq!(p.subtotal, Centavos(0));
    assert_eq!(p.margin_bp, None);
    assert_eq!(p.approval_reasons, vec![UnknownItem]);
}

fn custom_rules() -> StoreRules {
    StoreRules {
        payment_discounts: vec![(Pix, BasisPoints(1000))],
        volume_discounts: vec![
            VolumeDiscount {
                sku: None,
                min_quantity: q("10"),
                discount: BasisPoints(200),
            },
            VolumeDiscount {
                sku: None,
                min_quantity: q("100"),
                discount: BasisPoints(800),
            },
            VolumeDiscount {
                sku: Some("A".into()),
                min_quantity: q("50"),
                discount: BasisPoints(300),
            },
        ],
        freight_rules: vec![FreightRule {
            label: "Centro".into(),
            zone: FreightZone::Bairros(vec!["Centro".into()]),
            base: Centavos(5000),
            per_kg: Centavos(10),
            free_above: Some(Centavos(100_000)),
        }],
        min_margin: BasisPoints(0),
        approval_above: Centavos(i64::MAX),
        quote_validity_hours: 24,
    }
}

#[test]
fn item_specific_discount_beats_global_and_best_threshold_wins() {
    let rules = custom_rules();
    let a = item("A", 1000, 1, 0);
    let b = item("B", 1000, 1, 0);
    let price = |it: &CatalogItem, qty: &str| {
        price_quote(&request(vec![(it, q(qty))], bairro("centro")), &rules)
            .unwrap()
            .lines[0]
            .volume_discount_bp
    };
    assert_eq!(price(&b, "9"), BasisPoints(0));
    assert_eq!(price(&b, "10"), BasisPoints(200));
    assert_eq!(price(&b, "100"), BasisPoints(800));
    // A: below its own minimum the global one applies; at it, its own (even if smaller).
    assert_eq!(price(&a, "10"), BasisPoints(200));
    assert_eq!(price(&a, "50"), BasisPoints(300));
    assert_eq!(price(&a, "100"), BasisPoints(300));
}

#[test]
fn free_freight_compares_the_subtotal_before_payment_discount() {
    let rules = custom_rules();
    let it = item("B", 100_000, 1, 10_000);
    // subtotal exactly 100000: free, even though PIX brings the net value to 90000
    let mut req = request(vec![(&it, q("1"))], bairro("Centro"));
    req.payment = Pix;
    let p = price_quote(&req, &rules).unwrap();
    assert_eq!(p.freight, Some(Centavos(0)));
    assert_eq!(p.total, Centavos(90_000));
    // just below: 5000 + 10 × 9,999 kg = 5099,99 → 5100
    let it = item("B", 99_999, 1, 9_999);
    let p = price_quote(&request(vec![(&it, q("1"))], bairro("Centro")), &rules).unwrap();
    assert_eq!(p.freight, Some(Centavos(5100)));
}

#[test]
fn approval_reason_codes_round_trip() {
    for r in ApprovalReason::ALL {
        assert_eq!(ApprovalReason::from_code(r.code()), Some(r));
        assert_eq!(
            serde_json::to_value(r).unwrap(),
            serde_json::json!(r.code())
        );
        assert!(!r.label_pt().is_empty());
    }
    assert_eq!(
        ApprovalReason::from_code(" NO_FREIGHT_RULE "),
        Some(NoFreightRule)
    );
    assert_eq!(ApprovalReason::from_code("nope"), None);
}

#[test]
fn priced_quote_snapshot_round_trips_through_json() {
    let p = demo_quote(EXAMPLE, Pix, cep("08210-000"));
    let json = serde_json::to_string(&p).unwrap();
    let back: PricedQuote = serde_json::from_str(&json).unwrap();
    assert_eq!(back, p);
}

#[test]
fn store_rules_round_trip_through_json() {
    let r = demo_rules();
    let back: StoreRules = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    assert_eq!(back, r);
}

#[test]
fn demo_rules_match_the_demo_store() {
    let r = demo_rules();
    assert_eq!(r.min_margin, BasisPoints(1200));
    assert_eq!(r.approval_above, Centavos(800_000));
    assert_eq!(r.quote_validity_hours, 48);
    assert_eq!(r.freight_rules.len(), 3);
    assert_eq!(known_bairros(&r).len(), 11);
}
