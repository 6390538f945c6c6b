//! The dev evaluation set through `parse_jsonl_line`, scored like `eval/score.py` (items
//! micro-F1 on sku+quantity, exact case rate, slot accuracy on labeled cases). Floors sit
//! just under the measured numbers, so a regression fails the build.

use std::collections::HashMap;

use domain::catalog::{parse_catalog_csv, DEMO_CATALOG_CSV};
use domain::understanding::{fold_for_compare, parse_jsonl_line, CatalogIndex};
use serde_json::Value;

const DEV: &str = include_str!("../../../eval/messages.dev.jsonl");

fn items(v: &Value) -> HashMap<(String, i64), usize> {
    let mut m = HashMap::new();
    for it in v.as_array().into_iter().flatten() {
        let sku = it["sku"].as_str().unwrap_or("").to_uppercase();
        let q = it["quantity"].as_f64().unwrap_or(f64::NAN);
        *m.entry((sku, (q * 10_000.0).round() as i64)).or_insert(0) += 1;
    }
    m
}

fn location(v: &Value) -> Option<String> {
    if let Some(c) = v.get("cep").and_then(Value::as_str) {
        return Some(c.chars().filter(char::is_ascii_digit).collect());
    }
    v.get("bairro")
        .and_then(Value::as_str)
        .map(fold_for_compare)
}

#[test]
fn dev_set_scores_stay_above_floors() {
    let catalog = parse_catalog_csv(DEMO_CATALOG_CSV).expect("demo catalog");
    let index = CatalogIndex::build(&catalog, &[]);
    let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
    let (mut exact, mut n) = (0usize, 0usize);
    let mut slot_ok = [0usize; 3];
    let mut slot_n = [0usize; 3];
    for line in DEV.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).expect("dev case");
        let input = serde_json::json!({"id": case["id"], "turns": case["turns"]}).to_string();
        let pred: Value =
            serde_json::from_str(&parse_jsonl_line(&input, &index).expect("parse")).expect("json");
        let exp = &case["expected"];
        let (e, p) = (items(&exp["items"]), items(&pred["items"]));
        let mut case_tp = 0;
        for (k, c) in &e {
            case_tp += (*c).min(*p.get(k).unwrap_or(&0));
        }
        let (ne, np): (usize, usize) = (e.values().sum(), p.values().sum());
        tp += case_tp;
        fp += np - case_tp;
        fn_ += ne - case_tp;
        let loc_ok = location(&exp["location"]) == location(&pred["location"]);
        let pay_ok = exp["payment"] == pred["payment"];
        let dlv_ok = exp["delivery"] == pred["delivery"];
        for (k, (ok, labeled)) in [
            (loc_ok, !exp["location"].is_null()),
            (pay_ok, !exp["payment"].is_null()),
            (dlv_ok, !exp["delivery"].is_null()),
        ]
        .into_iter()
        .enumerate()
        {
            if labeled {
                slot_n[k] += 1;
                slot_ok[k] += usize::from(ok);
            }
        }
        let unk_len = |v: &Value| v.as_array().map_or(0, Vec::len);
        let same_unknown_count = unk_len(&exp["unknown"]) == unk_len(&pred["unknown"]);
        if e == p && loc_ok && pay_ok && dlv_ok && same_unknown_count {
            exact += 1;
        }
        n += 1;
    }
    let f1 = 2.0 * tp as f64 / (2 * tp + fp + fn_) as f64;
    let exact_rate = exact as f64 / n as f64;
    assert!(f1 >= 0.97, "items F1 {f1:.3} (tp={tp} fp={fp} fn={fn_})");
    assert!(exact_rate >= 0.93, "exact rate {exact_rate:.3}");
    for (k, name) in ["location", "payment", "delivery"].iter().enumerate() {
        let acc = slot_ok[k] as f64 / slot_n[k] as f64;
        assert!(acc >= 0.95, "{name} accuracy {acc:.3}");
    }
}
