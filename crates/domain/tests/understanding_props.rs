//! Robustness: any text (emoji, RTL, control characters, huge inputs) is read without
//! panicking and drafts survive JSON round trips. How long the hostile inputs take is measured
//! by `cargo bench -p domain --bench understanding` (`hostile_inputs`), not asserted here.

#[path = "support/hostile.rs"]
mod hostile;
use domain::catalog::{parse_catalog_csv, DEMO_CATALOG_CSV};
use domain::understanding::{
    parse_jsonl_line, understand, understand_in, CatalogIndex, Draft, MAX_MESSAGE_CHARS,
};
use proptest::prelude::*;

fn index() -> &'static CatalogIndex {
    static INDEX: std::sync::OnceLock<CatalogIndex> = std::sync::OnceLock::new();
    INDEX.get_or_init(|| {
        let items = parse_catalog_csv(DEMO_CATALOG_CSV).expect("demo catalog");
        CatalogIndex::build(&items, &["Jardim Ângela".to_string()])
    })
}

/// Words and symbols customers really use, mixed at random with arbitrary text.
fn chatty() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "10",
        "2,5",
        "1.500",
        "3/8",
        "20/12",
        "sacos",
        "m³",
        "cimento",
        "areia",
        "fina",
        "de",
        "e",
        ",",
        "\n",
        "- ",
        "✅",
        "📍",
        "não",
        "tira",
        "troca",
        "pela",
        "mais",
        "cep",
        "04567-000",
        "pix",
        "sexta",
        "jd",
        "Ângela",
        "meia",
        "dúzia",
        "milheiro",
        "x",
        ":",
        "?",
        "uns",
        "a",
        "ou",
        "💳",
        "تحويل",
        "\u{202e}",
        "\u{0}",
        "\u{7}",
        "🇧🇷",
        "ç̃",
        "rua",
        "45",
        "-",
        "1)",
        "mil",
        "e meio",
    ]);
    (prop::collection::vec(pieces, 0..40), any::<String>()).prop_map(|(v, s)| {
        let mut out = v.join(" ");
        out.push_str(&s);
        out
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn never_panics_on_arbitrary_text(s in any::<String>()) {
        let u = understand(&s, index());
        prop_assert!(u.confidence <= 100);
        for it in &u.items {
            prop_assert!(it.quantity.thousandths() > 0);
        }
    }

    #[test]
    fn never_panics_on_chat_like_text(s in chatty()) {
        let u = understand(&s, index());
        for it in &u.items {
            prop_assert!(it.quantity.thousandths() > 0);
        }
        let mut d = Draft::default();
        d.apply(&u);
        let u2 = understand_in(&s, index(), &d);
        d.apply(&u2);
        let json = serde_json::to_string(&d).expect("draft serializes");
        let back: Draft = serde_json::from_str(&json).expect("draft deserializes");
        prop_assert_eq!(back, d);
    }

    #[test]
    fn parse_line_accepts_any_turns(s in any::<String>(), turns in prop::collection::vec(chatty(), 0..4)) {
        let _ = parse_jsonl_line(&s, index());
        let line = serde_json::json!({"id": "p", "turns": turns}).to_string();
        let out = parse_jsonl_line(&line, index());
        prop_assert!(out.is_ok());
        let v: serde_json::Value = serde_json::from_str(&out.unwrap_or_default()).expect("output is JSON");
        prop_assert_eq!(v["id"].as_str(), Some("p"));
    }
}

#[test]
fn huge_and_hostile_inputs_are_bounded() {
    let cases = hostile::hostile_messages();
    for s in &cases {
        let u = understand(s, index());
        assert_eq!(u.truncated, s.chars().count() > MAX_MESSAGE_CHARS);
    }
}
