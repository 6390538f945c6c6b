#!/usr/bin/env bash
# Scores message understanding on every evaluation set of eval/floors.json (the tuned dev set and
# the untuned chat-style set) and fails when one drops below its floors (overall, per tag, unknown
# detection, and the ceiling on wrong quotes with nothing flagged; see docs/understanding.md).
#   scripts/eval-dev.sh                       # builds and runs the domain `parse` example
#   scripts/eval-dev.sh target/debug/orcazap parse --catalog eval/catalog.csv
#   EVAL_SETS=chat scripts/eval-dev.sh …      # only some sets (names of floors.json, space-separated)
# The optional command must read JSON lines on stdin and write predictions on stdout.
set -euo pipefail

cd "$(dirname "$0")/.."
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

if [ "$#" -gt 0 ]; then
  cmd=("$@")
else
  cargo build -q -p domain --example parse
  cmd=(target/debug/examples/parse eval/catalog.csv)
fi

sets="${EVAL_SETS:-$(python3 -c 'import json; print(" ".join(json.load(open("eval/floors.json"))["sets"]))')}"
status=0
for set in $sets; do
  cases=$(python3 -c 'import json, sys; print(json.load(open("eval/floors.json"))["sets"][sys.argv[1]]["cases"])' "$set")
  "${cmd[@]}" < "$cases" > "$WORK/$set.jsonl"
  python3 eval/check_floors.py "$set" "$WORK/$set.jsonl" || status=1
  echo
done
exit "$status"
