//! Money inputs are bounded and every computation is checked (issue 10 items 6 and 9), and a
//! quote a person edits is priced by the same code as a fresh one (issue 11 item 2).

use std::collections::HashMap;

use domain::catalog::{CatalogItem, Unit};
use domain::money::{limits, AmountError, BasisPoints, Centavos, Quantity, MAX_QUANTITY};
use domain::pricing::{
    demo_rules, price_quote, reprice_edited, ApprovalReason, LineEdit, PricedQuote, PricingError,
    QuoteRequest, StoreRules,
};
use domain::slots::{Location, PaymentMethod};
use proptest::prelude::*;

fn item(sku: &str, price: i64, cost: i64) -> CatalogItem {
    CatalogItem {
        sku: sku.into(),
        name: format!("Produto {sku}"),
        unit: Unit::Un,
        price: Centavos(price),
        cost: Centavos(cost),
        weight_grams: 1000,
        aliases: vec![],
        active: true,
    }
}

fn request<'a>(lines: &[(&'a CatalogItem, Quantity)], location: Location) -> QuoteRequest<'a> {
    QuoteRequest {
        lines: lines.to_vec(),
        unknown: vec![],
        payment: PaymentMethod::Pix,
        location,
        llm_assisted: false,
        needs_human: false,
    }
}

fn grajau() -> Location {
    Location::Bairro("Grajaú".into())
}

fn costs(items: &[&CatalogItem]) -> HashMap<String, Centavos> {
    items.iter().map(|i| (i.sku.clone(), i.cost)).collect()
}

fn keep(p: &PricedQuote) -> Vec<LineEdit> {
    p.lines
        .iter()
        .map(|l| LineEdit {
            quantity: l.quantity,
            unit_price: l.unit_price,
        })
        .collect()
}

// ---------- limits of the inputs ----------

#[test]
fn negative_and_huge_amounts_are_refused_in_pt_br() {
    let neg = limits::FREIGHT.parse("-5.000,00").unwrap_err();
    assert_eq!(neg, AmountError::Negative { what: "Frete" });
    assert_eq!(neg.to_string(), "Frete: não pode ser negativo.");
    let huge = limits::FREIGHT.parse("100.000,01").unwrap_err();
    assert_eq!(huge.to_string(), "Frete: no máximo R$\u{a0}100.000,00.");
    assert_eq!(
        limits::FREIGHT.parse("100.000,00"),
        Ok(Centavos(10_000_000))
    );
    // More digits than i64 holds is "too large", not "invalid".
    assert_eq!(
        limits::CATALOG_PRICE
            .parse("99999999999999999999999")
            .unwrap_err()
            .to_string(),
        "Preço: no máximo R$\u{a0}1.000.000,00."
    );
    assert_eq!(
        limits::CATALOG_PRICE.parse("0").unwrap_err().to_string(),
        "Preço: precisa ser pelo menos R$\u{a0}0,01."
    );
    assert!(limits::APPROVAL_ABOVE.parse("-1").is_err());
    assert!(limits::FREIGHT_PER_KG.parse("1.000,01").is_err());
    for l in limits::ALL {
        assert!(l.min.0 >= 0 && l.max > l.min, "{l:?}");
    }
}

#[test]
fn percentages_are_between_0_and_100() {
    assert_eq!(
        BasisPoints::parse_percent("2,5", "PIX"),
        Ok(BasisPoints(250))
    );
    assert_eq!(BasisPoints::parse_percent("", "PIX"), Ok(BasisPoints(0)));
    assert_eq!(
        BasisPoints::parse_percent("-5", "Desconto PIX").unwrap_err(),
        "Desconto PIX: não pode ser negativo"
    );
    assert!(BasisPoints::parse_percent("100,01", "PIX").is_err());
}

#[test]
fn quantity_above_the_maximum_is_refused() {
    assert_eq!(MAX_QUANTITY, Quantity::whole(100_000));
    assert!(MAX_QUANTITY.check_line().is_ok());
    assert!(Quantity::from_thousandths(MAX_QUANTITY.thousandths() + 1)
        .check_line()
        .is_err());
}

// ---------- checked arithmetic ----------

#[test]
fn a_million_units_is_not_priced() {
    // The finding: 1.000.000 × a huge price was stored as a negative subtotal.
    let it = item("X", 100_000_000, 1);
    let e = price_quote(
        &request(&[(&it, Quantity::whole(1_000_000))], grajau()),
        &demo_rules(),
    )
    .unwrap_err();
    assert!(matches!(e, PricingError::Quantity { line: 1, .. }), "{e:?}");
    assert!(e.to_string().contains("máximo de 100.000"), "{e}");
}

#[test]
fn amounts_that_do_not_fit_are_an_error_never_a_wrapped_total() {
    // A price stored before the limits existed: the line total does not fit in i64.
    let it = item("X", i64::MAX / 10, 1);
    let r = price_quote(
        &request(&[(&it, Quantity::whole(100_000))], grajau()),
        &demo_rules(),
    );
    assert_eq!(r.unwrap_err(), PricingError::Overflow);
    // Each line fits, their sum does not.
    let big = item("B", i64::MAX / 2, 1);
    let r = price_quote(
        &request(
            &[
                (&big, Quantity::whole(1)),
                (&big, Quantity::whole(1)),
                (&big, Quantity::whole(1)),
            ],
            grajau(),
        ),
        &demo_rules(),
    );
    assert_eq!(r.unwrap_err(), PricingError::Overflow);
}

proptest! {
    /// Within the input limits nothing overflows and every total is the exact sum.
    #[test]
    fn within_the_limits_totals_are_exact(
        lines in prop::collection::vec((1i64..=100_000_000, 0i64..=100_000_000, 0i64..=100_000_000), 1..20),
    ) {
        let items: Vec<CatalogItem> = lines.iter().enumerate()
            .map(|(i, (p, c, _))| item(&format!("S{i}"), *p, *c)).collect();
        let req_lines: Vec<(&CatalogItem, Quantity)> = items.iter().zip(&lines)
            .map(|(it, (_, _, q))| (it, Quantity::from_thousandths(*q))).collect();
        let p = price_quote(&request(&req_lines, grajau()), &demo_rules()).unwrap();
        let sum: i128 = p.lines.iter().map(|l| l.line_total.0 as i128).sum();
        prop_assert_eq!(p.subtotal.0 as i128, sum);
        prop_assert!(p.total.0 >= 0);
        prop_assert_eq!(p.total.0 as i128, sum - p.payment_discount.0 as i128 + p.freight.unwrap().0 as i128);
    }
}

// ---------- editing a quote ----------

fn waiting_quote(rules: &StoreRules, a: &CatalogItem, b: &CatalogItem) -> PricedQuote {
    price_quote(
        &request(
            &[(a, Quantity::whole(10)), (b, Quantity::whole(2))],
            grajau(),
        ),
        rules,
    )
    .unwrap()
}

#[test]
fn edit_refuses_negative_or_huge_freight_prices_and_quantities() {
    let rules = demo_rules();
    let (a, b) = (item("A", 3690, 3050), item("B", 14500, 10500));
    let p = waiting_quote(&rules, &a, &b);
    let c = costs(&[&a, &b]);
    let e = reprice_edited(&p, &keep(&p), Some(Centavos(-500_000)), &c, &rules).unwrap_err();
    assert_eq!(e.to_string(), "Frete: não pode ser negativo.");
    let e = reprice_edited(&p, &keep(&p), Some(Centavos(i64::MAX)), &c, &rules).unwrap_err();
    assert_eq!(e.to_string(), "Frete: no máximo R$\u{a0}100.000,00.");
    let mut edits = keep(&p);
    edits[1].unit_price = Centavos(-1);
    let e = reprice_edited(&p, &edits, None, &c, &rules).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Linha 2 (Produto B): Preço: não pode ser negativo."
    );
    let mut edits = keep(&p);
    edits[0].quantity = Quantity::whole(1_000_000);
    edits[0].unit_price = limits::QUOTE_UNIT_PRICE.max;
    let e = reprice_edited(&p, &edits, None, &c, &rules).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Linha 1 (Produto A): quantidade acima do máximo de 100.000 por item."
    );
    let none: Vec<LineEdit> = keep(&p)
        .into_iter()
        .map(|l| LineEdit {
            quantity: Quantity::ZERO,
            ..l
        })
        .collect();
    assert_eq!(
        reprice_edited(&p, &none, None, &c, &rules),
        Err(PricingError::NoLines)
    );
    assert_eq!(
        reprice_edited(&p, &keep(&p)[..1], None, &c, &rules),
        Err(PricingError::LinesMismatch)
    );
}

#[test]
fn edit_that_lowers_the_margin_or_raises_the_total_gets_those_reasons() {
    let rules = demo_rules();
    let (a, b) = (item("A", 3690, 3050), item("B", 14500, 10500));
    let p = waiting_quote(&rules, &a, &b);
    assert!(p.approval_reasons.is_empty(), "{:?}", p.approval_reasons);
    let c = costs(&[&a, &b]);
    // Selling A at cost: the margin falls below 12%.
    let mut edits = keep(&p);
    edits[0].unit_price = Centavos(3050);
    let e = reprice_edited(&p, &edits, None, &c, &rules).unwrap();
    assert_eq!(e.approval_reasons, vec![ApprovalReason::MarginBelowMinimum]);
    // 1.000 sacos: the total passes the R$ 8.000,00 threshold.
    let mut edits = keep(&p);
    edits[0].quantity = Quantity::whole(1000);
    let e = reprice_edited(&p, &edits, None, &c, &rules).unwrap();
    assert_eq!(
        e.approval_reasons,
        vec![ApprovalReason::TotalAboveThreshold]
    );
}

proptest! {
    /// An edited quote gets exactly the totals, margin and reasons a fresh quote with the same
    /// lines gets: the arithmetic and the rules live in one place.
    #[test]
    fn edited_quote_equals_a_fresh_quote_with_the_same_lines(
        qa in 1i64..200_000, qb in 1i64..20_000,
        price_a in 1i64..10_000, cost_a in 0i64..12_000,
        orig_a in 1i64..50, unknown in any::<bool>(), llm in any::<bool>(),
        cep in prop::sample::select(vec!["04567000", "08000000"]),
    ) {
        let rules = demo_rules();
        let a = item("A", price_a, cost_a);
        let b = item("B", 14500, 10500);
        let location = Location::Cep(domain::ids::Cep::parse(cep).unwrap());
        let mut original_req = request(&[(&a, Quantity::whole(orig_a)), (&b, Quantity::whole(1))], location.clone());
        let mut fresh_req = request(&[(&a, Quantity::from_thousandths(qa)), (&b, Quantity::from_thousandths(qb))], location);
        for r in [&mut original_req, &mut fresh_req] {
            if unknown { r.unknown = vec!["selador".into()]; }
            r.llm_assisted = llm;
        }
        let original = price_quote(&original_req, &rules).unwrap();
        let fresh = price_quote(&fresh_req, &rules).unwrap();
        // The person types the fresh quote's quantities, unit prices and freight.
        let edits: Vec<LineEdit> = fresh.lines.iter().map(|l| LineEdit { quantity: l.quantity, unit_price: l.unit_price }).collect();
        let edited = reprice_edited(&original, &edits, fresh.freight, &costs(&[&a, &b]), &rules).unwrap();
        prop_assert_eq!(&edited.approval_reasons, &fresh.approval_reasons);
        prop_assert_eq!(edited.subtotal, fresh.subtotal);
        prop_assert_eq!(edited.payment_discount, fresh.payment_discount);
        prop_assert_eq!(edited.total, fresh.total);
        prop_assert_eq!(edited.margin_bp, fresh.margin_bp);
        let pairs = |p: &PricedQuote| p.lines.iter().map(|l| (l.quantity, l.line_total, l.cost_total)).collect::<Vec<_>>();
        prop_assert_eq!(pairs(&edited), pairs(&fresh));
    }
}

/// Products the quote did not include leave its "não incluído" list when the person dealt
/// with them: the one whose suggested item they added from the catalog, and the ones they
/// marked resolved — and with the list the "unknown item" approval reason goes. Others stay.
#[test]
fn unknown_products_the_person_resolved_leave_the_quote() {
    let a = item("A", 1_000, 500);
    let sel = item("SEL-18", 9_000, 6_000);
    let mut req = request(&[(&a, Quantity::whole(1))], grajau());
    req.unknown = vec!["selador suvinil".into(), "porta".into(), "janela".into()];
    let mut p = price_quote(&req, &demo_rules()).unwrap();
    p.suggestions = vec![domain::pricing::Suggestion {
        unknown: "selador suvinil".into(),
        sku: "SEL-18".into(),
        name: sel.name.clone(),
    }];
    assert!(p.approval_reasons.contains(&ApprovalReason::UnknownItem));
    let edited = domain::pricing::reprice(
        &p,
        &keep(&p),
        domain::pricing::FreightEdit::Keep,
        &[(&sel, Quantity::whole(1))],
        &["porta".to_string()],
        &costs(&[&a, &sel]),
        &demo_rules(),
    )
    .unwrap();
    assert_eq!(edited.unknown, ["janela"]);
    assert!(edited.suggestions.is_empty(), "{:?}", edited.suggestions);
    assert!(edited
        .approval_reasons
        .contains(&ApprovalReason::UnknownItem));
    let all = domain::pricing::reprice(
        &edited,
        &keep(&edited),
        domain::pricing::FreightEdit::Keep,
        &[],
        &["janela".to_string()],
        &costs(&[&a, &sel]),
        &demo_rules(),
    )
    .unwrap();
    assert!(all.unknown.is_empty());
    assert!(!all.approval_reasons.contains(&ApprovalReason::UnknownItem));
}
