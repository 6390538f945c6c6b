//! Properties of the pricing arithmetic over random catalogs, quantities and rules.

use domain::catalog::{CatalogItem, Unit};
use domain::ids::Cep;
use domain::money::{BasisPoints, Centavos, Quantity};
use domain::pricing::{
    demo_rules, price_quote, FreightRule, FreightZone, QuoteRequest, StoreRules, VolumeDiscount,
};
use domain::slots::{Location, PaymentMethod};
use proptest::prelude::*;

fn arb_item() -> impl Strategy<Value = CatalogItem> {
    (
        0i64..2_000_000,
        0i64..2_000_000,
        0i64..3_000_000,
        "[A-Z]{1,3}",
    )
        .prop_map(|(price, cost, weight_grams, sku)| CatalogItem {
            sku: sku.clone(),
            name: sku,
            unit: Unit::Un,
            price: Centavos(price),
            cost: Centavos(cost),
            weight_grams,
            aliases: vec![],
            active: true,
        })
}

fn arb_quantity() -> impl Strategy<Value = Quantity> {
    (0i64..5_000_000).prop_map(Quantity::from_thousandths)
}

fn arb_payment() -> impl Strategy<Value = PaymentMethod> {
    prop::sample::select(PaymentMethod::ALL.to_vec())
}

fn arb_location() -> impl Strategy<Value = Location> {
    prop_oneof![
        (1_000_000u32..99_999_999)
            .prop_map(|v| Location::Cep(Cep::parse(&format!("{v:08}")).unwrap())),
        prop::sample::select(vec!["Grajaú", "grajau", "Centro", "Tatuapé", "Pedreira"])
            .prop_map(|b| Location::Bairro(b.to_string())),
    ]
}

/// Demo rules plus a global volume discount and a free-freight threshold, so every rule kind
/// takes part.
fn rules_with(pix: i64, free_above: Option<i64>) -> StoreRules {
    let mut r = demo_rules();
    r.payment_discounts[0].1 = BasisPoints(pix);
    r.volume_discounts.push(VolumeDiscount {
        sku: None,
        min_quantity: Quantity::whole(100),
        discount: BasisPoints(150),
    });
    r.freight_rules.insert(
        0,
        FreightRule {
            label: "Centro".into(),
            zone: FreightZone::Bairros(vec!["Centro".into()]),
            base: Centavos(2000),
            per_kg: Centavos(5),
            free_above: free_above.map(Centavos),
        },
    );
    r
}

fn request<'a>(
    items: &'a [(CatalogItem, Quantity)],
    payment: PaymentMethod,
    location: Location,
) -> QuoteRequest<'a> {
    QuoteRequest {
        lines: items.iter().map(|(i, q)| (i, *q)).collect(),
        unknown: vec![],
        payment,
        location,
        llm_assisted: false,
        needs_human: false,
    }
}

proptest! {
    #[test]
    fn totals_are_never_negative(
        items in prop::collection::vec((arb_item(), arb_quantity()), 0..8),
        payment in arb_payment(),
        location in arb_location(),
        pix in 0i64..=10_000,
        free in prop::option::of(0i64..10_000_000),
    ) {
        let p = price_quote(&request(&items, payment, location), &rules_with(pix, free)).unwrap();
        prop_assert!(p.subtotal.0 >= 0);
        prop_assert!(p.payment_discount.0 >= 0);
        prop_assert!(p.payment_discount <= p.subtotal);
        prop_assert!(p.freight.unwrap_or_default().0 >= 0);
        prop_assert!(p.total.0 >= 0);
        for l in &p.lines {
            prop_assert!(l.unit_price <= l.list_price);
            prop_assert!(l.line_total.0 >= 0);
        }
    }

    #[test]
    fn a_larger_payment_discount_never_raises_the_total(
        items in prop::collection::vec((arb_item(), arb_quantity()), 0..8),
        location in arb_location(),
        a in 0i64..=10_000,
        b in 0i64..=10_000,
        free in prop::option::of(0i64..10_000_000),
    ) {
        let (small, large) = (a.min(b), a.max(b));
        let req = request(&items, PaymentMethod::Pix, location);
        let t_small = price_quote(&req, &rules_with(small, free)).unwrap().total;
        let t_large = price_quote(&req, &rules_with(large, free)).unwrap().total;
        prop_assert!(t_large <= t_small, "{} bp → {:?}, {} bp → {:?}", small, t_small, large, t_large);
    }

    /// Same property where it is easiest to break: a free-freight threshold placed between
    /// the value after the larger discount and the subtotal.
    #[test]
    fn a_larger_payment_discount_never_loses_free_freight(
        items in prop::collection::vec((arb_item(), arb_quantity()), 1..5),
        small in 0i64..=2_000,
        extra in 1i64..=3_000,
        place in 0i64..=10_000,
    ) {
        let large = small + extra;
        let req = request(&items, PaymentMethod::Pix, Location::Bairro("Centro".into()));
        let subtotal = price_quote(&req, &rules_with(0, None)).unwrap().subtotal.0;
        let net_large = subtotal - subtotal * large / 10_000;
        let free = net_large + (subtotal - net_large) * place / 10_000;
        let t_small = price_quote(&req, &rules_with(small, Some(free))).unwrap().total;
        let t_large = price_quote(&req, &rules_with(large, Some(free))).unwrap().total;
        prop_assert!(t_large <= t_small, "{} bp → {:?}, {} bp → {:?}", small, t_small, large, t_large);
    }

    #[test]
    fn line_totals_add_up_to_the_subtotal(
        items in prop::collection::vec((arb_item(), arb_quantity()), 0..8),
        payment in arb_payment(),
        location in arb_location(),
    ) {
        let p = price_quote(&request(&items, payment, location), &rules_with(500, None)).unwrap();
        let sum: i64 = p.lines.iter().map(|l| l.line_total.0).sum();
        prop_assert_eq!(sum, p.subtotal.0);
        prop_assert_eq!(p.lines.len(), items.len());
    }

    #[test]
    fn adding_an_item_never_lowers_the_subtotal(
        items in prop::collection::vec((arb_item(), arb_quantity()), 0..8),
        extra in (arb_item(), arb_quantity()),
        payment in arb_payment(),
        location in arb_location(),
    ) {
        let rules = rules_with(500, Some(50_000));
        let before = price_quote(&request(&items, payment, location.clone()), &rules).unwrap();
        let mut more = items.clone();
        more.push(extra);
        let after = price_quote(&request(&more, payment, location), &rules).unwrap();
        prop_assert!(after.subtotal >= before.subtotal);
    }

    #[test]
    fn total_is_net_plus_freight(
        items in prop::collection::vec((arb_item(), arb_quantity()), 0..8),
        payment in arb_payment(),
        location in arb_location(),
    ) {
        let p = price_quote(&request(&items, payment, location), &rules_with(500, Some(80_000))).unwrap();
        prop_assert_eq!(
            p.total.0,
            p.subtotal.0 - p.payment_discount.0 + p.freight.unwrap_or_default().0
        );
        prop_assert_eq!(p.freight.is_none(), p.freight_rule.is_none());
    }
}
