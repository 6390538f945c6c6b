#!/usr/bin/env bash
# Checks the monitoring files kept in the repository; CI runs it as `monitoring/check.sh`.
#
#   1. promtool check rules   monitoring/prometheus/alerts.yml
#   2. promtool test rules    monitoring/prometheus/alerts_test.yml
#   3. promtool check config  monitoring/prometheus/prometheus.example.yml (syntax only)
#   4. python3 -m json.tool   monitoring/grafana/orcazap.json
#   5. consistency: the dashboard and the rules use only metrics the binary exposes (monitoring/metrics.txt,
#      compared with the binary by crates/orcazap/tests/surfaces.rs), the dashboard shows
#      every one of them, every PromQL query in the dashboard parses, and every runbook_url anchor exists
#      as a section of docs/runbook.md.
#   6. the operations docs' relative links (file.md#section) resolve.
#   7. a freshly started `orcazap serve` (SQLite, temporary) exposes every family of metrics.txt at its first
#      scrape (skipped with a note when no binary is built; $ORCAZAP_BIN picks one).
#
# Exits non-zero on the first failure. Installs promtool (Debian package "prometheus") when missing and
# running as root; otherwise prints how to install it.
set -euo pipefail

cd "$(dirname "$0")/.."

RULES=monitoring/prometheus/alerts.yml
TESTS=monitoring/prometheus/alerts_test.yml
PROM_CONFIG=monitoring/prometheus/prometheus.example.yml
DASHBOARD=monitoring/grafana/orcazap.json
RUNBOOK=docs/runbook.md

step() { printf '\n== %s\n' "$*"; }

ensure_promtool() {
    if command -v promtool >/dev/null 2>&1; then
        return 0
    fi
    if [ "$(id -u)" -ne 0 ]; then
        echo "promtool not found. Install it with:" >&2
        echo "  sudo apt-get update && sudo apt-get install -y prometheus   # Debian/Ubuntu, ships promtool" >&2
        echo "  sudo systemctl disable --now prometheus                    # only promtool is needed" >&2
        echo "or download a release from https://prometheus.io/download/ and put promtool on PATH." >&2
        exit 1
    fi
    echo "promtool not found; installing the Debian 'prometheus' package (without starting its service)"
    # policy-rc.d answering 101 keeps the package's service from being started by the installer;
    # an existing policy is left as it was.
    local policy=/usr/sbin/policy-rc.d created_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        created_policy=1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null
    if [ "$created_policy" -eq 1 ]; then
        rm -f "$policy"
    fi
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
        systemctl disable --now prometheus >/dev/null 2>&1 || true
    fi
}

ensure_promtool
promtool --version 2>&1 | head -n 1

step "promtool check rules $RULES"
promtool check rules "$RULES"

step "promtool test rules $TESTS"
promtool test rules "$TESTS"

step "promtool check config --syntax-only $PROM_CONFIG"
promtool check config --syntax-only "$PROM_CONFIG"

step "python3 -m json.tool $DASHBOARD"
python3 -m json.tool "$DASHBOARD" >/dev/null
echo "  SUCCESS: valid JSON"

step "consistency: metric names, dashboard queries, runbook anchors"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

python3 - "$RULES" "$DASHBOARD" "$RUNBOOK" "$WORK/dashboard_queries.yml" <<'PY'
import json
import re
import sys

rules_path, dashboard_path, runbook_path, queries_out = sys.argv[1:5]

# The metrics the binary exposes: monitoring/metrics.txt, the contract with crates/ (a Rust test
# compares it with the source and with a running binary's /metrics). Histograms appear in PromQL with
# the _bucket/_sum/_count suffixes.
CONTRACT = {}
for line in open("monitoring/metrics.txt", encoding="utf-8"):
    line = line.strip()
    if line and not line.startswith("#"):
        name, kind = line.split()
        CONTRACT[name] = kind
EXPOSED = set(CONTRACT)
HISTOGRAMS = {n for n, k in CONTRACT.items() if k == "histogram"}

def base_name(name):
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and name[: -len(suffix)] in HISTOGRAMS:
            return name[: -len(suffix)]
    return name

def metrics_in(text):
    return {base_name(m) for m in re.findall(r"\borcazap_[a-z0-9_]+", text)}

failures = []

rules_text = open(rules_path, encoding="utf-8").read()
# Strip YAML comments and annotation lines so prose does not count as a metric reference.
rule_exprs = "\n".join(
    line for line in rules_text.splitlines()
    if not line.lstrip().startswith("#") and "summary:" not in line and "description:" not in line
)
unknown = metrics_in(rule_exprs) - EXPOSED
if unknown:
    failures.append(f"alerts.yml uses metrics the binary does not expose: {sorted(unknown)}")

dashboard = json.load(open(dashboard_path, encoding="utf-8"))

def walk_panels(panels):
    for p in panels:
        yield p
        yield from walk_panels(p.get("panels", []))

exprs = []
for panel in walk_panels(dashboard.get("panels", [])):
    for target in panel.get("targets", []):
        if target.get("expr"):
            exprs.append((panel.get("title", "?"), target["expr"]))
    if panel.get("type") != "row":
        ds = panel.get("datasource", {})
        if ds.get("uid") != "${datasource}":
            failures.append(f"panel {panel.get('title')!r} does not use the $datasource variable")

variables = {v["name"]: v for v in dashboard.get("templating", {}).get("list", [])}
if variables.get("datasource", {}).get("query") != "prometheus":
    failures.append("dashboard lacks a Prometheus datasource variable named 'datasource'")

used = set()
for _, expr in exprs:
    used |= metrics_in(expr)
unknown = used - EXPOSED
if unknown:
    failures.append(f"dashboard uses metrics the binary does not expose: {sorted(unknown)}")
missing = EXPOSED - used
if missing:
    failures.append(f"dashboard has no panel for: {sorted(missing)}")

# Dashboard queries become recording rules so promtool parses them (Grafana variables replaced by values).
def concrete(expr):
    expr = expr.replace("$__rate_interval", "5m").replace("$__range", "1h").replace("$__interval", "1m")
    return re.sub(r"\$\{?[a-z_]+\}?", ".*", expr)

with open(queries_out, "w", encoding="utf-8") as out:
    out.write("groups:\n  - name: dashboard_queries\n    rules:\n")
    for i, (title, expr) in enumerate(exprs):
        out.write(f"      - record: dashboard:query_{i}\n")
        out.write(f"        expr: {json.dumps(concrete(expr))}\n")

# runbook_url anchors must exist in docs/runbook.md (GitHub-style heading slugs or explicit <a id>).
def slug(heading):
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")

runbook = open(runbook_path, encoding="utf-8").read()
anchors = {slug(h) for h in re.findall(r"^#{1,6}\s+(.+?)\s*$", runbook, flags=re.M)}
anchors |= set(re.findall(r'<a\s+(?:id|name)="([^"]+)"', runbook))
alerts = re.findall(r"^\s*-\s*alert:\s*(\S+)", rules_text, flags=re.M)
urls = re.findall(r'runbook_url:\s*"([^"]+)"', rules_text)
if len(urls) != len(alerts):
    failures.append(f"{len(alerts)} alerts but {len(urls)} runbook_url annotations")
for url in urls:
    path, _, anchor = url.partition("#")
    if path != "docs/runbook.md" or not anchor:
        failures.append(f"runbook_url {url!r} must be docs/runbook.md#<anchor>")
    elif anchor not in anchors:
        failures.append(f"runbook_url {url!r}: no such section in {runbook_path}")
# Each alert block (text up to the next "- alert:" or group) needs its labels and annotations.
for block in re.split(r"^\s*-\s*alert:\s*", rules_text, flags=re.M)[1:]:
    name = block.split()[0]
    block = re.split(r"^\s*-\s*name:", block, flags=re.M)[0]
    for key in ("severity:", "summary:", "description:", "runbook_url:"):
        if key not in block:
            failures.append(f"alert {name} has no {key.rstrip(':')}")
    sev = re.search(r"severity:\s*(\S+)", block)
    if sev and sev.group(1) not in ("critical", "warning", "info"):
        failures.append(f"alert {name}: severity {sev.group(1)!r} is not critical, warning or info")

if failures:
    for f in failures:
        print(f"  FAILED: {f}")
    sys.exit(1)
print(f"  SUCCESS: {len(alerts)} alerts, {len(urls)} runbook anchors found, "
      f"{len(exprs)} dashboard queries, all {len(EXPOSED)} exposed metrics on the dashboard")
PY

step "operations docs: relative links and anchors resolve"
python3 - docs/runbook.md docs/operations.md docs/incident-response.md docs/security.md <<'PY'
import os
import re
import sys

def slug(heading):
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")

def anchors(path):
    text = open(path, encoding="utf-8").read()
    # Headings inside fenced code blocks are not headings.
    text = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    return {slug(h) for h in re.findall(r"^#{1,6}\s+(.+?)\s*$", text, flags=re.M)}

failures = []
checked = 0
for doc in sys.argv[1:]:
    if not os.path.exists(doc):
        failures.append(f"{doc} is missing")
        continue
    text = open(doc, encoding="utf-8").read()
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"^[a-z]+:", target):
            continue  # external (https:, mailto:)
        path, _, anchor = target.partition("#")
        full = os.path.normpath(os.path.join(os.path.dirname(doc), path)) if path else doc
        checked += 1
        if not os.path.exists(full):
            failures.append(f"{doc}: link to missing file {target}")
        elif anchor and full.endswith(".md") and anchor not in anchors(full):
            failures.append(f"{doc}: link to missing section {target}")
if failures:
    for f in failures:
        print(f"  FAILED: {f}")
    sys.exit(1)
print(f"  SUCCESS: {checked} relative links resolve")
PY

step "promtool check rules (dashboard queries parse as PromQL)"
promtool check rules "$WORK/dashboard_queries.yml"

step "first scrape: a freshly started binary exposes every family of monitoring/metrics.txt"
# The binary: $ORCAZAP_BIN, else a built one in target/. Without one the step says so and is
# skipped (CI builds it first: crates/orcazap/tests/surfaces.rs checks the same on both engines).
BIN=${ORCAZAP_BIN:-}
for candidate in target/debug/orcazap target/release/orcazap; do
    if [ -z "$BIN" ] && [ -x "$candidate" ]; then BIN=$candidate; fi
done
if [ -z "$BIN" ]; then
    echo "  SKIPPED: no orcazap binary (set ORCAZAP_BIN or cargo build -p orcazap)"
else
    python3 - "$(realpath "$BIN")" "$WORK" <<'PY'
import json, os, subprocess, sys, time, urllib.request

binary, work = sys.argv[1:3]
env = {"PATH": os.environ.get("PATH", ""), "HOME": work,
       "ORCAZAP_DATABASE_URL": f"sqlite://{work}/first-scrape.db",
       "ORCAZAP_SECRET_KEY": "check-sh-secret-key-material-0123456789",
       "ORCAZAP_LISTEN": "127.0.0.1:0", "ORCAZAP_LOG_FORMAT": "json", "ORCAZAP_LOG": "info"}
proc = subprocess.Popen([binary, "serve"], cwd=work, env=env, stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE, text=True)
failures = []
try:
    addr, deadline = None, time.time() + 60
    while addr is None and time.time() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        if ev.get("message") == "listening":
            addr = ev["addr"]
    if addr is None:
        failures.append(f"{binary} serve did not report its address")
    else:
        text = urllib.request.urlopen(addr + "/metrics", timeout=10).read().decode()
        exposed = {}
        for line in text.splitlines():
            if line.startswith("# TYPE "):
                name, kind = line.split()[2:4]
                exposed[name] = kind
        for line in open("monitoring/metrics.txt", encoding="utf-8"):
            line = line.strip()
            if line and not line.startswith("#"):
                name, kind = line.split()
                if exposed.get(name) != kind:
                    failures.append(f"{name} ({kind}) absent at the first scrape")
finally:
    proc.terminate()
    proc.wait(timeout=30)
if failures:
    for f in failures:
        print(f"  FAILED: {f}")
    sys.exit(1)
print(f"  SUCCESS: every family present at the first scrape of {binary}")
PY
fi

printf '\nmonitoring/check.sh: all checks passed\n'
