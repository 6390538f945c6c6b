//! Property: a list typed without any separator ("20 saco cimento 4 metro areia 10 barra
//! ferro 3/8 …") reads back every item with its amount, whatever the order, the amounts and
//! the number of items (issue 13, run-on lists).

use domain::catalog::{parse_catalog_csv, DEMO_CATALOG_CSV};
use domain::understanding::{parse_conversation, CatalogIndex};
use proptest::prelude::*;

fn index() -> &'static CatalogIndex {
    static INDEX: std::sync::OnceLock<CatalogIndex> = std::sync::OnceLock::new();
    INDEX.get_or_init(|| {
        let items = parse_catalog_csv(DEMO_CATALOG_CSV).expect("demo catalog");
        CatalogIndex::build(&items, &[])
    })
}

/// (how it is typed after the amount, SKU): the way a hurried customer names each product.
const WAYS: &[(&str, &str)] = &[
    ("saco cimento", "CIM-CP2-50"),
    ("metro areia", "ARE-MED-M3"),
    ("metro pedra", "BRI-1-M3"),
    ("barra ferro 3/8", "VER-38"),
    ("kg arame", "ARA-REC"),
    ("bloco 14", "BLC-14"),
    ("sc cal", "CAL-CH3-20"),
    ("saco gesso", "GES-40"),
    ("tijolo 6 furos", "TIJ-6F"),
    ("m3 areia grossa", "ARE-GRO-M3"),
    ("lata tinta pva", "TIN-P18"),
    ("caixinha 4x2", "CXL-42"),
];

/// (name, unit word, SKU) for lists with the amount after the name ("areia 5 metro pedra 3
/// metro cimento 30 saco").
const AFTER: &[(&str, &str, &str)] = &[
    ("cimento", "saco", "CIM-CP2-50"),
    ("areia", "metro", "ARE-MED-M3"),
    ("pedra", "metro", "BRI-1-M3"),
    ("ferro 3/8", "barra", "VER-38"),
    ("arame", "kg", "ARA-REC"),
    ("cal", "sc", "CAL-CH3-20"),
    ("gesso", "saco", "GES-40"),
    ("tinta pva", "lata", "TIN-P18"),
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_item_of_a_list_without_separators_is_read(
        picks in prop::sample::subsequence((0..WAYS.len()).collect::<Vec<_>>(), 2..=5)
            .prop_shuffle(),
        amounts in prop::collection::vec(2u32..=60, 5),
        greeting in any::<bool>(),
    ) {
        let mut msg = String::from(if greeting { "bom dia qro " } else { "" });
        let mut want: Vec<(String, String)> = Vec::new();
        for (k, w) in picks.iter().enumerate() {
            let (words, sku) = WAYS[*w];
            msg.push_str(&format!("{} {} ", amounts[k], words));
            want.push((sku.to_string(), amounts[k].to_string()));
        }
        let out = parse_conversation(&[msg.trim()], index());
        let mut got: Vec<(String, String)> = out
            .items
            .iter()
            .map(|i| (i.sku.clone(), i.quantity.to_string()))
            .collect();
        got.sort();
        want.sort();
        prop_assert_eq!(got, want, "{}", msg);
        prop_assert!(out.unknown.is_empty(), "{}: {:?}", msg, out.unknown);
    }

    #[test]
    fn every_item_of_a_list_with_amounts_after_the_names_is_read(
        picks in prop::sample::subsequence((0..AFTER.len()).collect::<Vec<_>>(), 2..=5)
            .prop_shuffle(),
        amounts in prop::collection::vec(2u32..=60, 5),
    ) {
        let mut msg = String::new();
        let mut want: Vec<(String, String)> = Vec::new();
        for (k, w) in picks.iter().enumerate() {
            let (name, unit, sku) = AFTER[*w];
            msg.push_str(&format!("{name} {} {unit} ", amounts[k]));
            want.push((sku.to_string(), amounts[k].to_string()));
        }
        let out = parse_conversation(&[msg.trim()], index());
        let mut got: Vec<(String, String)> = out
            .items
            .iter()
            .map(|i| (i.sku.clone(), i.quantity.to_string()))
            .collect();
        got.sort();
        want.sort();
        prop_assert_eq!(got, want, "{}", msg);
        prop_assert!(out.unknown.is_empty(), "{}: {:?}", msg, out.unknown);
    }
}
