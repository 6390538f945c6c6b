#!/usr/bin/env bash
# The test command of the README: every suite this machine can run, then ONE summary — tests run,
# passed, failed, and skipped with why and how to enable them — ending with the plain line
# "N passed, N failed, N skipped" (CI tooling reads it). Exits non-zero when anything failed.
# In CI (scripts/ci-env.sh: CI=true, 1, yes…) nothing may be skipped: a skip is a failure.
#
# Counting: each Rust test is one test (from nextest's JUnit report, target/nextest/default/
# junit.xml); a Rust test that skipped a part (its PostgreSQL half, the browser) counts as
# skipped, not passed. Each other suite (eval set, restore drill, crash test per engine) is one.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/ci-env.sh

passed=0 failed=0 skipped=0
failures=()
skips=() # "suite<TAB>how to enable<TAB>what"

pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); failures+=("$1"); echo "FALHOU: $1" >&2; }
skip() { # $1 = suite, $2 = how to enable, $3 = what was skipped
  if is_ci; then
    fail "$3 pulado em CI (CI=$CI), onde nada pode ser pulado: $2"
  else
    skipped=$((skipped + 1)); skips+=("$1	$2	$3")
  fi
}
run() { # $1 = name, rest = command: one suite, counted as one test
  local name="$1"; shift
  echo; echo "== $name"
  if "$@"; then pass; else fail "$name"; fi
}

# PostgreSQL: use ORCAZAP_TEST_POSTGRES_URL, or a local server with trust auth.
PG_HOW="set ORCAZAP_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test to run it"  # same words as store::testing
if [ -z "${ORCAZAP_TEST_POSTGRES_URL:-}" ]; then
  if command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    export ORCAZAP_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:5432/test"
  else
    unset ORCAZAP_TEST_POSTGRES_URL
  fi
fi

echo "== testes Rust (cargo nextest, relatório JUnit)"
JUNIT=target/nextest/default/junit.xml
rm -f "$JUNIT"
if ! cargo nextest --version >/dev/null 2>&1; then
  fail "cargo-nextest não instalado (cargo install cargo-nextest --locked): testes Rust não executados"
else
  cargo nextest run --workspace --no-fail-fast --status-level fail --final-status-level slow
  nextest_rc=$?
  if outcomes=$(python3 scripts/junit_summary.py "$JUNIT"); then
    while IFS=$'\t' read -r kind name suite how; do
      case "$kind" in
        PASS) pass ;;
        FAIL) fail "$name" ;;
        SKIP) skip "$suite" "$how" "$name" ;;
      esac
    done <<<"$outcomes"
    # nextest failing with every test green means something outside the tests broke.
    if [ "$nextest_rc" -ne 0 ] && ! grep -q '^FAIL' <<<"$outcomes"; then
      fail "cargo nextest saiu com $nextest_rc sem teste falho no relatório"
    fi
  else
    fail "cargo nextest (saída $nextest_rc): sem relatório JUnit — a compilação falhou?"
  fi
fi

BIN=target/debug/orcazap
# `cargo run` at the root must start orcazap (the README's first command). Checked through cargo's
# metadata plus the binary nextest just built, not with `cargo run` itself: that builds only the
# orcazap package, whose dependencies get other features than in the workspace build, so it would
# compile sqlx, hyper & co. a second time (minutes of CI) to prove the same thing.
readme_binary() {
  cargo metadata --no-deps --format-version 1 | python3 -c '
import json, sys
m = json.load(sys.stdin)
bins = [t["name"] for p in m["packages"] if p["id"] in m["workspace_default_members"]
        for t in p["targets"] if "bin" in t["kind"]]
sys.exit(0 if bins == ["orcazap"] else f"cargo run at the root would run {bins}, not [orcazap]")
' && "$BIN" env >/dev/null
}
run "o comando do README resolve o binário (cargo run na raiz)" readme_binary
for set in $(python3 -c 'import json; print(" ".join(json.load(open("eval/floors.json"))["sets"]))'); do
  run "qualidade do entendimento: conjunto $set (eval/floors.json)" \
    env EVAL_SETS="$set" scripts/eval-dev.sh "$BIN" parse --catalog eval/catalog.csv
done
# The local transcriber's HTTP layer with a fake engine (~1 s, standard library; the real model is
# scripts/transcriber/check.sh, not run here: it downloads ~200 MB).
run "transcritor local: camada HTTP (scripts/transcriber, motor falso)" \
  env PYTHONDONTWRITEBYTECODE=1 python3 -m unittest discover -s scripts/transcriber -p 'test_*.py'
run "simulação de restauração de backup (SQLite$([ -n "${ORCAZAP_TEST_POSTGRES_URL:-}" ] && echo ' e PostgreSQL'))" \
  env ORCAZAP_BIN="$BIN" scripts/restore-drill.sh
run "teste de queda (SIGKILL no meio do tráfego) — SQLite" \
  env -u ORCAZAP_TEST_POSTGRES_URL ORCAZAP_BIN="$BIN" scripts/crash-test.sh
if [ -n "${ORCAZAP_TEST_POSTGRES_URL:-}" ]; then
  run "teste de queda (SIGKILL no meio do tráfego) — PostgreSQL" env ORCAZAP_BIN="$BIN" scripts/crash-test.sh
else
  skip PostgreSQL "$PG_HOW" "simulação de restauração no PostgreSQL"
  skip PostgreSQL "$PG_HOW" "teste de queda no PostgreSQL"
fi

# Falhas durante a carga (issue 14 item 5): versões curtas, < 1 min cada (scripts/faults/README.md).
FAULT_OUT=$(mktemp -d)
run "falha: API Graph respondendo 429/5xx por 8 s — SQLite" \
  python3 scripts/faults/faults.py graph-errors --engine sqlite --bin "$BIN" --orders 150 --rate 15 \
  --fault-seconds 8 --out "$FAULT_OUT/graph-sqlite.json"
run "falha: worker morto (SIGKILL) a cada 3 s — SQLite" \
  python3 scripts/faults/faults.py sigkill --engine sqlite --bin "$BIN" --orders 150 --rate 15 \
  --kill-every 3 --out "$FAULT_OUT/kill-sqlite.json"
if [ -n "${ORCAZAP_TEST_POSTGRES_URL:-}" ]; then
  run "falha: API Graph respondendo 429/5xx por 8 s — PostgreSQL" \
    python3 scripts/faults/faults.py graph-errors --bin "$BIN" --orders 150 --rate 15 \
    --fault-seconds 8 --out "$FAULT_OUT/graph-pg.json"
  run "falha: worker morto (SIGKILL) a cada 3 s — PostgreSQL" \
    python3 scripts/faults/faults.py sigkill --bin "$BIN" --orders 150 --rate 15 --kill-every 3 \
    --out "$FAULT_OUT/kill-pg.json"
else
  skip PostgreSQL "$PG_HOW" "falhas da API Graph e SIGKILL no PostgreSQL"
fi
if [ -n "${ORCAZAP_TEST_POSTGRES_URL:-}" ]; then
  run "falha: API Graph respondendo depois do timeout do cliente por 8 s — PostgreSQL" \
    python3 scripts/faults/faults.py graph-timeouts --bin "$BIN" --orders 150 --rate 15 \
    --fault-seconds 8 --out "$FAULT_OUT/graph-timeouts-pg.json"
else
  run "falha: API Graph respondendo depois do timeout do cliente por 8 s — SQLite" \
    python3 scripts/faults/faults.py graph-timeouts --engine sqlite --bin "$BIN" --orders 150 \
    --rate 15 --fault-seconds 8 --out "$FAULT_OUT/graph-timeouts-sqlite.json"
fi
if [ "$(id -u)" = 0 ] && command -v mount >/dev/null && command -v sqlite3 >/dev/null; then
  run "falha: disco cheio com SQLite (tmpfs pequeno) por 5 s" \
    python3 scripts/faults/faults.py disk-full --bin "$BIN" --orders 150 --rate 15 \
    --fault-seconds 5 --out "$FAULT_OUT/disk-full.json"
else
  skip "mount (root) e sqlite3" "rode como root com sqlite3 instalado" "disco cheio com SQLite"
fi
if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
  run "falha: PostgreSQL reiniciado no meio da carga (cluster próprio)" \
    python3 scripts/faults/faults.py pg-restart --bin "$BIN" --orders 150 --rate 15 \
    --fault-seconds 3 --out "$FAULT_OUT/pg-restart.json"
else
  skip "initdb/pg_ctl" "instale o servidor PostgreSQL (initdb e pg_ctl no PATH)" "PostgreSQL reiniciado no meio da carga"
fi
rm -rf "$FAULT_OUT"

echo
echo "== Resumo dos testes"
echo "executados: $((passed + failed)) (passaram $passed, falharam $failed); pulados: $skipped"
if [ "$skipped" -gt 0 ]; then
  echo "Pulados, por motivo (como habilitar):"
  printf '%s\n' "${skips[@]}" | python3 -c '
import sys
from collections import defaultdict
groups = defaultdict(list)
for line in sys.stdin.read().splitlines():
    suite, how, what = line.split("\t", 2)
    groups[(suite, how)].append(what)
for (suite, how), whats in sorted(groups.items(), key=lambda g: -len(g[1])):
    shown = ", ".join(whats[:3]) + (f" e mais {len(whats) - 3}" if len(whats) > 3 else "")
    print(f"  - {len(whats)} sem {suite}: {how}\n      ({shown})")
'
fi
if [ "$failed" -gt 0 ]; then
  echo "Falharam:"
  printf '  - %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
