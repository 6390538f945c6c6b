#!/usr/bin/env bash
# Crash-safety test: SIGKILL `orcazap serve` during a burst of 200 signed webhooks, restart,
# redeliver what got no 200 (as Meta does), and check that every contact got its reply.
#
#   cargo build -p orcazap && scripts/crash-test.sh                 # SQLite (temp file)
#   ORCAZAP_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1/postgres scripts/crash-test.sh
#
# ORCAZAP_BIN picks the binary (default target/debug/orcazap); this script builds nothing.
# With ORCAZAP_TEST_POSTGRES_URL a fresh database is created on that server and dropped after.
# Extra arguments go to scripts/crash_test.py (see --help). Exit status 0 = pass.
set -euo pipefail
cd "$(dirname "$0")/.."
export ORCAZAP_BIN="${ORCAZAP_BIN:-target/debug/orcazap}"
exec python3 scripts/crash_test.py "$@"
