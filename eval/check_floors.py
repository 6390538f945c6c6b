#!/usr/bin/env python3
"""Checks predictions for one evaluation set against eval/floors.json, the one source of truth
for the understanding floors (scripts/eval-dev.sh and crates/domain/tests/understanding_dev.rs
both call this, so the floors and the scoring cannot drift apart).

    python3 eval/check_floors.py SET PREDICTED.jsonl            # exit 1 when below a floor
    python3 eval/check_floors.py --propose SET PREDICTED.jsonl  # print floors from today's numbers

SET is a key of "sets" in floors.json. Scores with eval/score.py (its report is printed first).
"min" floors: the measured value must be >= the floor. "max" ceilings (the share of wrong
quotes with nothing flagged): the measured value must be <= the ceiling. A metric with nothing
to measure (None) fails its floor: a floor on it means the set is expected to measure it.
"""

import io
import json
import math
import os
import sys
from contextlib import redirect_stdout

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import score  # noqa: E402  (eval/score.py)

FLOORS = os.path.join(HERE, "floors.json")
# --propose: the margin under (or over, for ceilings) today's value, for sets not tuned on.
# Per-tag samples are small, so they get a wider margin. Tuned sets get no margin.
OVERALL_MARGIN, TAG_MARGIN = 0.02, 0.05
TAG_MIN_CASES = 5
MIN_KEYS = ["items_f1", "exact", "location", "payment", "delivery", "unknown_recall", "unknown_precision"]
TAG_MIN_KEYS = ["items_f1", "exact"]
MAX_KEYS = ["silent_wrong_rate"]


def measure(cases_path, pred_path):
    metrics_path = pred_path + ".metrics.json"
    report = io.StringIO()
    with redirect_stdout(report):
        score.main(["score.py", cases_path, pred_path, "--json", metrics_path])
    with open(metrics_path, encoding="utf-8") as fh:
        metrics = json.load(fh)
    os.unlink(metrics_path)
    return report.getvalue(), metrics


def check(name, spec, metrics):
    failures = []

    def one(scope, got, floors):
        for key, floor in (floors.get("min") or {}).items():
            v = got.get(key)
            if v is None or v < floor - 1e-9:
                failures.append(f"{scope} {key}={'-' if v is None else f'{v:.3f}'} < floor {floor:.3f}")
        for key, ceiling in (floors.get("max") or {}).items():
            v = got.get(key)
            if v is None or v > ceiling + 1e-9:
                failures.append(f"{scope} {key}={'-' if v is None else f'{v:.3f}'} > ceiling {ceiling:.3f}")

    if metrics["missing"]:
        failures.append(f"{metrics['missing']} cases have no prediction")
    one("overall", metrics["overall"], spec)
    for tag, floors in sorted((spec.get("tags") or {}).items()):
        got = metrics["tags"].get(tag)
        if got is None:
            failures.append(f"tag {tag}: no case carries it any more")
            continue
        one(f"tag {tag} (n={got['n']})", got, floors)
    return failures


def propose(spec, metrics):
    tuned = spec.get("tuned", False)

    def floors_for(got, keys, margin):
        m = 0.0 if tuned else margin
        out = {"min": {}, "max": {}}
        for k in keys:
            if got.get(k) is not None:
                out["min"][k] = max(0.0, math.floor(got[k] * 100) / 100 - m)
        for k in MAX_KEYS:
            if got.get(k) is not None:
                out["max"][k] = min(1.0, math.ceil(got[k] * 100) / 100 + m)
        for k in ("min", "max"):
            out[k] = {key: round(v, 2) for key, v in out[k].items()}
        return out

    new = {k: spec[k] for k in ("cases", "tuned", "about") if k in spec}
    new.update(floors_for(metrics["overall"], MIN_KEYS, OVERALL_MARGIN))
    new["tags"] = {
        tag: floors_for(got, TAG_MIN_KEYS, TAG_MARGIN)
        for tag, got in sorted(metrics["tags"].items())
        if got["n"] >= TAG_MIN_CASES
    }
    return new


def main(argv):
    proposing = "--propose" in argv
    args = [a for a in argv[1:] if a != "--propose"]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    name, pred_path = args
    with open(FLOORS, encoding="utf-8") as fh:
        sets = json.load(fh)["sets"]
    if name not in sets:
        print(f"unknown set {name!r}; floors.json has {sorted(sets)}", file=sys.stderr)
        return 2
    spec = sets[name]
    cases_path = os.path.join(os.path.dirname(HERE), spec["cases"])
    report, metrics = measure(cases_path, pred_path)
    print(f"== {name}: {spec['cases']}")
    print(report, end="")
    if proposing:
        print(json.dumps({name: propose(spec, metrics)}, indent=2, ensure_ascii=False))
        return 0
    failures = check(name, spec, metrics)
    o = metrics["overall"]
    summary = " ".join(
        f"{k}={o[k]:.3f}" for k in MIN_KEYS + MAX_KEYS if o.get(k) is not None
    )
    if failures:
        print(f"FAIL {name}: {len(failures)} below the floors in eval/floors.json:")
        for f in failures:
            print(f"  - {f}")
        return 1
    print(f"OK {name}: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
