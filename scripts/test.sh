#!/usr/bin/env bash
# The test command of the README: every suite this machine can run, and a plain list of the
# suites it skipped and how to enable them. With CI=true nothing may be skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

CI="${CI:-false}"
skipped=()
fail_or_skip() { # $1 = suite, $2 = how to enable
  if [ "$CI" = "true" ]; then
    echo "ERRO: em CI a suíte '$1' não pode ser pulada: $2" >&2
    exit 1
  fi
  skipped+=("$1 — $2")
}

# PostgreSQL: use ORCAZAP_TEST_POSTGRES_URL, or a local server with trust auth.
if [ -z "${ORCAZAP_TEST_POSTGRES_URL:-}" ]; then
  if command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    export ORCAZAP_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:5432/test"
  fi
fi
if [ -z "${ORCAZAP_TEST_POSTGRES_URL:-}" ]; then
  unset ORCAZAP_TEST_POSTGRES_URL
  fail_or_skip "PostgreSQL (conformance, pipeline, multi-worker, crash test on PostgreSQL)" \
    "start PostgreSQL on 127.0.0.1:5432 or set ORCAZAP_TEST_POSTGRES_URL=postgres://USER@HOST:PORT/DB"
fi

# Browser suite: headless Chromium through chromedriver.
if ! command -v chromedriver >/dev/null 2>&1; then
  fail_or_skip "navegador (dashboard em Chromium headless)" "apt-get install -y chromium chromium-driver"
fi

echo "== testes Rust (cargo)"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast --status-level fail --final-status-level slow
else
  cargo test --workspace --no-fail-fast
fi

echo "== o comando do README resolve o binário (cargo run na raiz)"
cargo run -q -- env >/dev/null

echo "== qualidade do entendimento (eval/messages.dev.jsonl)"
scripts/eval-dev.sh target/debug/orcazap parse --catalog eval/catalog.csv

echo "== simulação de restauração de backup (SQLite e PostgreSQL)"
ORCAZAP_BIN=target/debug/orcazap scripts/restore-drill.sh

echo "== teste de queda (SIGKILL no meio do tráfego) — SQLite"
(unset ORCAZAP_TEST_POSTGRES_URL; ORCAZAP_BIN=target/debug/orcazap scripts/crash-test.sh)
if [ -n "${ORCAZAP_TEST_POSTGRES_URL:-}" ]; then
  echo "== teste de queda (SIGKILL no meio do tráfego) — PostgreSQL"
  ORCAZAP_BIN=target/debug/orcazap scripts/crash-test.sh
fi

if [ "${#skipped[@]}" -gt 0 ]; then
  echo
  echo "Suítes PULADAS nesta máquina:"
  for s in "${skipped[@]}"; do echo "  - $s"; done
fi
echo "OK: todos os testes executados passaram."
