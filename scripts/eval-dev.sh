#!/usr/bin/env bash
# Scores message understanding on the dev set and fails when it drops below the floors.
#   scripts/eval-dev.sh                       # builds and runs the domain `parse` example
#   scripts/eval-dev.sh target/debug/orcazap parse --catalog eval/catalog.csv
# The optional command must read JSON lines on stdin and write predictions on stdout.
set -euo pipefail

# Floors, set just under the measured dev numbers (see docs/understanding.md).
MIN_ITEMS_F1=0.98
MIN_EXACT=0.95
MIN_LOCATION=0.97   # restricted to cases with a labeled location
MIN_PAYMENT=0.97    # restricted to cases with a labeled payment
MIN_DELIVERY=0.97   # restricted to cases with a labeled delivery

cd "$(dirname "$0")/.."
CASES=eval/messages.dev.jsonl
PRED=$(mktemp)
REPORT=$(mktemp)
trap 'rm -f "$PRED" "$REPORT"' EXIT

if [ "$#" -gt 0 ]; then
  "$@" < "$CASES" > "$PRED"
else
  cargo build -q -p domain --example parse
  target/debug/examples/parse eval/catalog.csv < "$CASES" > "$PRED"
fi

python3 eval/score.py "$CASES" "$PRED" > "$REPORT"
cat "$REPORT"

python3 - "$REPORT" "$MIN_ITEMS_F1" "$MIN_EXACT" "$MIN_LOCATION" "$MIN_PAYMENT" "$MIN_DELIVERY" <<'PY'
import re, sys
report = open(sys.argv[1], encoding="utf-8").read()
floors = dict(zip(["items_f1", "exact", "location", "payment", "delivery"], map(float, sys.argv[2:7])))
def grab(pattern):
    m = re.search(pattern, report)
    return float(m.group(1)) if m and m.group(1) != "-" else 0.0
got = {
    "items_f1": grab(r"Items, sku\+quantity : .*?F1=\s*([\d.]+|-)"),
    "exact": grab(r"Exact case rate\s*:\s*([\d.]+|-)"),
    "location": grab(r"Location accuracy .*?labeled location:\s*([\d.]+|-)"),
    "payment": grab(r"Payment accuracy .*?labeled payment:\s*([\d.]+|-)"),
    "delivery": grab(r"Delivery accuracy .*?labeled delivery:\s*([\d.]+|-)"),
}
bad = [f"{k}={got[k]:.3f} < {floors[k]:.3f}" for k in floors if got[k] < floors[k]]
if bad:
    print("FAIL: below the floors: " + ", ".join(bad))
    sys.exit(1)
print("OK: " + " ".join(f"{k}={v:.3f}" for k, v in got.items()))
PY
