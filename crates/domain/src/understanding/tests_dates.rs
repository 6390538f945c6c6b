//! Delivery days the way people in Brazil write them, read from whole messages with the demo
//! catalog: the day is found, and its words and numbers never become items or unknown
//! products (issue 12 item 4, issue 13 group 9). Resolution against a fixed "today" is in
//! `slots::tests`.

use super::*;
use crate::catalog::{parse_catalog_csv, DEMO_CATALOG_CSV};

fn index() -> CatalogIndex {
    let items = parse_catalog_csv(DEMO_CATALOG_CSV).expect("demo catalog");
    CatalogIndex::build(&items, &["Jardim Ângela".to_string()])
}

/// (message, delivery code, expected items as (SKU, quantity))
type Case<'a> = (&'a str, Option<&'a str>, &'a [(&'a str, &'a str)]);

#[test]
fn days_are_read_and_never_become_items() {
    let idx = index();
    let cases: &[Case] = &[
        ("entrega dia 12", Some("dia:12"), &[]),
        ("dia 12", Some("dia:12"), &[]),
        ("p/ dia 12", Some("dia:12"), &[]),
        (
            "10 sc de cimento p/ dia 12",
            Some("dia:12"),
            &[("CIM-CP2-50", "10")],
        ),
        (
            "10 sc de cimento pra dia doze",
            Some("dia:12"),
            &[("CIM-CP2-50", "10")],
        ),
        (
            "dia 12 manda 10 sacos de cimento",
            Some("dia:12"),
            &[("CIM-CP2-50", "10")],
        ),
        ("pode ser dia primeiro", Some("dia:01"), &[]),
        ("12/12", Some("date:12/12"), &[]),
        ("entrega 12/1", Some("date:12/01"), &[]),
        ("dia 15 de janeiro", Some("date:15/01"), &[]),
        ("depois de amanhã", Some("depois_de_amanha"), &[]),
        ("dps d amanha", Some("depois_de_amanha"), &[]),
        ("semana que vem", Some("semana_que_vem"), &[]),
        ("só na próxima semana", Some("semana_que_vem"), &[]),
        ("próxima quinta", Some("weekday:quinta"), &[]),
        ("quinta que vem", Some("weekday:quinta"), &[]),
        ("quinta-feira que vem", Some("weekday:quinta"), &[]),
        ("sexta da semana que vem", Some("weekday:sexta"), &[]),
        ("semana que vem na terça", Some("weekday:terca"), &[]),
        ("sexta", Some("weekday:sexta"), &[]),
        ("hj", Some("hoje"), &[]),
        ("amanha", Some("amanha"), &[]),
        ("amanhã cedo", Some("amanha"), &[]),
        ("sabado", Some("weekday:sabado"), &[]),
        ("bom dia 10 sacos de cimento", None, &[("CIM-CP2-50", "10")]),
        ("boleto pra 30 dias", None, &[]),
        ("ferro 3/8 7 barras", None, &[("VER-38", "7")]),
    ];
    for (msg, want_day, want_items) in cases {
        let u = understand(msg, &idx);
        assert_eq!(u.delivery.map(|d| d.code()).as_deref(), *want_day, "{msg}");
        let mut got: Vec<(String, i64)> = u
            .items
            .iter()
            .map(|i| (i.sku.clone(), i.quantity.thousandths()))
            .collect();
        got.sort();
        let mut want: Vec<(String, i64)> = want_items
            .iter()
            .map(|(s, q)| (s.to_string(), q.parse::<i64>().unwrap() * 1000))
            .collect();
        want.sort();
        assert_eq!(got, want, "items of {msg}");
        assert!(u.unknown.is_empty(), "{msg}: unknown {:?}", u.unknown);
    }
}

#[test]
fn quinta_que_vem_is_not_quinta() {
    let idx = index();
    let d = |m: &str| understand(m, &idx).delivery;
    assert_eq!(
        d("quinta que vem"),
        Some(crate::slots::Delivery::NextWeekday(
            crate::slots::Weekday::Quinta
        ))
    );
    assert_eq!(
        d("na quinta"),
        Some(crate::slots::Delivery::Weekday(
            crate::slots::Weekday::Quinta
        ))
    );
    assert_eq!(
        d("sexta da semana que vem"),
        Some(crate::slots::Delivery::WeekdayNextWeek(
            crate::slots::Weekday::Sexta
        ))
    );
}
