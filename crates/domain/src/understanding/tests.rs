//! Table-driven tests of the whole reading of a message, with the demo catalog.

use super::*;
use crate::catalog::{parse_catalog_csv, DEMO_CATALOG_CSV};

fn index() -> CatalogIndex {
    let items = parse_catalog_csv(DEMO_CATALOG_CSV).expect("demo catalog");
    CatalogIndex::build(&items, &["Jardim Ângela".to_string(), "Grajaú".to_string()])
}

fn items_of(u: &Understanding) -> Vec<(String, String)> {
    u.items
        .iter()
        .map(|i| (i.sku.clone(), i.quantity.to_decimal_string()))
        .collect()
}

#[test]
fn smoke() {
    let idx = index();
    let u = understand("quero 10 sacos de cimento", &idx);
    assert_eq!(
        items_of(&u),
        vec![("CIM-CP2-50".to_string(), "10".to_string())]
    );
}
