//! Every evaluation set of `eval/floors.json` (the tuned dev set and the untuned chat-style
//! set) through `parse_jsonl_line`, checked by `eval/check_floors.py` against the floors in
//! that file — the same scorer and the same floors as `scripts/eval-dev.sh`, so the two can
//! never drift apart (the old copy here was looser than the script). The floors cover items
//! F1, exact rate, location/payment/delivery, unknown detection, per-tag floors and the
//! ceiling on wrong quotes with nothing flagged; see docs/understanding.md.

use std::path::{Path, PathBuf};
use std::process::Command;

use domain::catalog::{parse_catalog_csv, DEMO_CATALOG_CSV};
use domain::understanding::{parse_jsonl_line, CatalogIndex};
use serde_json::Value;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn every_eval_set_stays_above_its_floors() {
    let root = repo_root();
    let floors: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("eval/floors.json")).expect("eval/floors.json"),
    )
    .expect("floors.json is JSON");
    let sets = floors["sets"].as_object().expect("floors.json has sets");
    assert!(sets.len() >= 2, "the dev and the chat set: {sets:?}");
    let catalog = parse_catalog_csv(DEMO_CATALOG_CSV).expect("demo catalog");
    let index = CatalogIndex::build(&catalog, &[]);
    let dir = std::env::temp_dir().join(format!("orcazap-eval-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");

    let mut failed = Vec::new();
    for (name, spec) in sets {
        let cases_path = root.join(spec["cases"].as_str().expect("cases path"));
        let cases = std::fs::read_to_string(&cases_path).expect("eval cases");
        let mut preds = String::new();
        let mut n = 0;
        for line in cases.lines().filter(|l| !l.trim().is_empty()) {
            let case: Value = serde_json::from_str(line).expect("eval case");
            // Only what a customer sends: the labels stay out of the parser's input.
            let input = serde_json::json!({"id": case["id"], "turns": case["turns"]}).to_string();
            preds.push_str(&parse_jsonl_line(&input, &index).expect("parse"));
            preds.push('\n');
            n += 1;
        }
        assert!(n > 0, "{name}: no cases in {}", cases_path.display());
        let pred_path = dir.join(format!("{name}.jsonl"));
        std::fs::write(&pred_path, preds).expect("write predictions");
        let out = Command::new("python3")
            .arg(root.join("eval/check_floors.py"))
            .arg(name)
            .arg(&pred_path)
            .output()
            .expect("python3 runs eval/check_floors.py");
        let report = String::from_utf8_lossy(&out.stdout);
        println!("{report}{}", String::from_utf8_lossy(&out.stderr));
        if !out.status.success() {
            let verdict = report
                .lines()
                .filter(|l| l.starts_with("FAIL") || l.starts_with("  - "));
            failed.push(format!(
                "{name}: {}",
                verdict.collect::<Vec<_>>().join("\n")
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        failed.is_empty(),
        "below the floors of eval/floors.json:\n{}",
        failed.join("\n")
    );
}
