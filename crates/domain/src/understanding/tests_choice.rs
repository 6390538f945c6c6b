//! Which kinds the bot offers when one amount names several products (issue 13, "when
//! unsure, ask"): sentences written for these tests, on the demo catalog and on a store
//! that set no default for its cement.

use super::*;
use crate::catalog::{parse_catalog_csv, DEMO_CATALOG_CSV};

fn demo() -> &'static CatalogIndex {
    static INDEX: std::sync::OnceLock<CatalogIndex> = std::sync::OnceLock::new();
    INDEX.get_or_init(|| {
        CatalogIndex::build(&parse_catalog_csv(DEMO_CATALOG_CSV).expect("demo"), &[])
    })
}

const HEADER: &str = "sku,name,unit,price_cents,cost_cents,weight_kg,aliases\n";
/// Three cements and two tijolos, no generic alias: "cimento" alone names none of them.
const NO_DEFAULTS: &str = "\
CP2,Cimento CP-II 50kg,sc,3690,3000,50,cimento cp2|cp2
CP3,Cimento CP-III 50kg,sc,3790,3100,50,cimento cp3|cp3
BRANCO,Cimento branco 1kg,kg,690,480,1,cimento branco
T6,Tijolo 6 furos,un,95,60,2,tijolo 6 furos
T8,Tijolo 8 furos,un,120,80,2.5,tijolo 8 furos
";

fn store(aliases_on_cp2: &str) -> CatalogIndex {
    let csv = format!(
        "{HEADER}{}",
        NO_DEFAULTS.replace("cimento cp2|cp2", aliases_on_cp2)
    );
    CatalogIndex::build(&parse_catalog_csv(&csv).expect("catalog"), &[])
}

/// The draft after the messages, and the question for its first unknown product.
fn asked(index: &CatalogIndex, turns: &[&str]) -> (Draft, Option<Choice>) {
    let mut draft = Draft::default();
    for t in turns {
        let u = understand_in(t, index, &draft);
        draft.apply(&u);
    }
    let choice = draft
        .unknown
        .first()
        .and_then(|t| choice_for(index, t, &draft.held));
    (draft, choice)
}

fn skus(choice: &Option<Choice>) -> Vec<&str> {
    choice
        .as_ref()
        .map(|c| c.skus.iter().map(String::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn a_generic_name_with_an_amount_offers_the_kinds_that_fit_its_unit() {
    let cases: &[(&str, &[&str])] = &[
        // The unit narrows: metres are the fios sold by the metre, rolos the rolos.
        ("preciso de 30 metros de fio", &["CAB-25M", "CAB-40M"]),
        ("me ve 3 rolos de fio", &["CAB-15R", "CAB-25R"]),
        (
            "bom dia, 8 telhas pra cobertura dos fundos",
            &["TEL-244", "TEL-183"],
        ),
        ("vou querer 2 caixas d'água", &["CXA-500", "CXA-1000"]),
        (
            "e 6 sacos de argamassa",
            &["ARG-AC1-20", "ARG-AC2-20", "ARG-AC3-20"],
        ),
    ];
    for (msg, want) in cases {
        let (draft, choice) = asked(demo(), &[msg]);
        assert!(draft.items.is_empty(), "{msg}: {:?}", draft.items);
        assert_eq!(skus(&choice), *want, "{msg}: {draft:?}");
    }
    let (_, choice) = asked(demo(), &["8 telhas pra cobertura"]);
    let choice = choice.unwrap();
    assert_eq!(choice.quantity, crate::money::Quantity::whole(8));
    assert_eq!(choice.product_words(), "telha");
}

#[test]
fn no_question_for_look_alikes_products_not_sold_or_no_amount() {
    for msg in [
        // An attribute no item has: the store does not sell it, a person says so.
        "4 telhas coloniais",
        "10 barras de ferro 5/8",
        "2 latas de tinta azul piscina",
        // No amount: nothing to keep once the kind is known.
        "tem telha?",
        "algumas telhas",
        // Not a product of the store at all.
        "3 portas de madeira",
    ] {
        let (_, choice) = asked(demo(), &[msg]);
        assert_eq!(choice, None, "{msg}");
    }
}

#[test]
fn the_stores_default_variant_is_never_asked_about() {
    // No default: "cimento" is any of the three; sacos leave out the one sold by the kg.
    let (draft, choice) = asked(&store("cimento cp2|cp2"), &["manda 12 sacos de cimento"]);
    assert!(draft.items.is_empty());
    assert_eq!(skus(&choice), ["CP2", "CP3"]);
    // The store made CP-II its cement (the generic word is an alias of that item): the
    // message is an order of CP-II, nothing is unknown, nothing is asked.
    let (draft, choice) = asked(
        &store("cimento|cimento cp2|cp2"),
        &["manda 12 sacos de cimento"],
    );
    assert_eq!(draft.items.len(), 1);
    assert_eq!(draft.items[0].sku, "CP2");
    assert!(draft.unknown.is_empty());
    assert_eq!(choice, None);
    // The demo catalog has defaults for cimento, areia, brita and tijolo.
    for msg in ["10 sacos de cimento", "3 metros de areia", "500 tijolos"] {
        let (draft, choice) = asked(demo(), &[msg]);
        assert_eq!(draft.items.len(), 1, "{msg}");
        assert_eq!(choice, None, "{msg}");
    }
}

#[test]
fn the_amount_is_converted_to_the_kind_picked_and_typed_answers_keep_it() {
    let index = store("cimento cp2|cp2");
    let (_, choice) = asked(&index, &["1 milheiro de tijolo"]);
    let choice = choice.expect("which tijolo?");
    assert_eq!(choice.skus, ["T6", "T8"]);
    assert_eq!(
        choice.quantity_for(crate::catalog::Unit::Un),
        crate::money::Quantity::whole(1000)
    );
    // Typed instead of tapped: the kind named takes the amount held for it.
    let typed: &[(&[&str], &str, i64)] = &[
        (&["1 milheiro de tijolo", "o de 8 furos"], "T8", 1000),
        (&["manda 12 sacos de cimento", "o cp3"], "CP3", 12),
    ];
    for (turns, sku, qty) in typed {
        let (draft, _) = asked(&index, turns);
        assert_eq!(draft.items.len(), 1, "{turns:?}: {draft:?}");
        assert_eq!(draft.items[0].sku, *sku, "{turns:?}");
        assert_eq!(draft.items[0].quantity, crate::money::Quantity::whole(*qty));
        assert!(draft.unknown.is_empty(), "{turns:?}: {:?}", draft.unknown);
    }
    let (draft, _) = asked(demo(), &["preciso de 30 metros de fio", "o de 4"]);
    assert_eq!(draft.items[0].sku, "CAB-40M");
    assert_eq!(draft.items[0].quantity, crate::money::Quantity::whole(30));
}
