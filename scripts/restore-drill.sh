#!/usr/bin/env bash
# Restore drill: make data, back up, destroy the database, restore, verify, compare counts —
# on SQLite, and on PostgreSQL when ORCAZAP_TEST_POSTGRES_URL is set (required in CI: see scripts/ci-env.sh).
# Also proves that a truncated backup is refused. Prints the time of each step.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/ci-env.sh

BIN="${ORCAZAP_BIN:-target/debug/orcazap}"
[ -x "$BIN" ] || cargo build -q -p orcazap
work="$(mktemp -d)"
pg_created=""
cleanup() {
  if [ -n "$pg_created" ]; then psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $pg_created WITH (FORCE)" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
export ORCAZAP_SECRET_KEY="drill-secret-key-0123456789abcdef0123456789"
export ORCAZAP_LOG=warn
export ORCAZAP_AUTO_MIGRATE=true
unset ORCAZAP_BACKUP_DIR ORCAZAP_SENTRY_DSN

ms() { date +%s%3N; }
step() { # $1 = label, rest = command
  local label="$1"; shift
  local t0; t0=$(ms)
  "$@" >/dev/null
  echo "   $label: $(( $(ms) - t0 )) ms"
}

# SQL that both engines accept: 20 customers, 20 closed conversations, 400 messages.
DATA_SQL="
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20)
INSERT INTO contacts (id, tenant_id, wa_id, name, created_at)
SELECT 'drill-c' || i, (SELECT id FROM tenants WHERE slug = 'demo'), '551190000' || (1000 + i), 'Cliente ' || i, 0 FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20)
INSERT INTO conversations (id, tenant_id, contact_id, channel_id, state, last_message_at, created_at, updated_at)
SELECT 'drill-v' || i, (SELECT id FROM tenants WHERE slug = 'demo'), 'drill-c' || i,
       (SELECT MIN(id) FROM channels), 'WON', 0, 0, 0 FROM n;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 399)
INSERT INTO messages (id, tenant_id, conversation_id, contact_id, direction, kind, body, status, created_at, updated_at)
SELECT 'drill-m' || i, (SELECT id FROM tenants WHERE slug = 'demo'), 'drill-v' || (1 + i % 20), 'drill-c' || (1 + i % 20),
       'in', 'text', 'preciso de ' || i || ' sacos de cimento', 'processed', i, i FROM n;
"
COUNT_SQL="SELECT 'tenants=' || COUNT(*) FROM tenants UNION ALL SELECT 'users=' || COUNT(*) FROM users
 UNION ALL SELECT 'catalog_items=' || COUNT(*) FROM catalog_items UNION ALL SELECT 'contacts=' || COUNT(*) FROM contacts
 UNION ALL SELECT 'conversations=' || COUNT(*) FROM conversations UNION ALL SELECT 'messages=' || COUNT(*) FROM messages
 UNION ALL SELECT 'channels=' || COUNT(*) FROM channels"

drill() { # $1 = engine name, $2 = URL, $3 = sql runner, $4 = destroy function
  local name="$1" url="$2" sql="$3" destroy="$4"
  local file="$work/$name.backup"
  echo "== simulação de restauração: $name"
  export ORCAZAP_DATABASE_URL="$url"
  "$BIN" seed --demo >/dev/null
  $sql "$DATA_SQL" >/dev/null
  local before; before="$($sql "$COUNT_SQL" | tr -d ' ' | sort | tr '\n' ' ')"
  echo "   dados: $before"
  step "backup create" "$BIN" backup create --to "$file"
  echo "   tamanho: $(wc -c <"$file") bytes"
  step "destruir o banco" $destroy
  step "backup restore" "$BIN" backup restore "$file" --to "$url"
  step "backup verify" "$BIN" backup verify "$file"
  local after; after="$($sql "$COUNT_SQL" | tr -d ' ' | sort | tr '\n' ' ')"
  if [ "$before" != "$after" ]; then
    printf 'ERRO: contagens diferentes depois da restauração:\n  antes:  %s\n  depois: %s\n' "$before" "$after" >&2
    exit 1
  fi
  echo "   contagens iguais antes e depois"
  cp "$file" "$file.bad"; cp "$file.manifest.json" "$file.bad.manifest.json"
  truncate -s "$(( $(wc -c <"$file") / 2 ))" "$file.bad"
  if out="$("$BIN" backup verify "$file.bad" 2>&1)"; then
    echo "ERRO: backup truncado passou na verificação" >&2
    exit 1
  fi
  echo "   backup truncado recusado: ${out##*: }" | head -c 200; echo
}

# SQLite
SQLITE_FILE="$work/drill.db"
sqlite_sql() { sqlite3 -batch "$SQLITE_FILE" "$1"; }
sqlite_destroy() { rm -f "$SQLITE_FILE" "$SQLITE_FILE-wal" "$SQLITE_FILE-shm"; }
drill sqlite "sqlite://$SQLITE_FILE" sqlite_sql sqlite_destroy

# PostgreSQL
if [ -n "${ORCAZAP_TEST_POSTGRES_URL:-}" ]; then
  PG_ADMIN="$ORCAZAP_TEST_POSTGRES_URL"
  pg_created="orcazap_drill_$$"
  PG_URL="${PG_ADMIN%/*}/$pg_created"
  psql -q "$PG_ADMIN" -c "CREATE DATABASE $pg_created" >/dev/null
  pg_sql() { psql -q -X -t -A -v ON_ERROR_STOP=1 "$PG_URL" -c "$1"; }
  pg_destroy() {
    psql -q "$PG_ADMIN" -c "DROP DATABASE $pg_created WITH (FORCE)" >/dev/null
    psql -q "$PG_ADMIN" -c "CREATE DATABASE $pg_created" >/dev/null
  }
  drill postgres "$PG_URL" pg_sql pg_destroy
elif is_ci; then
  echo "ERRO: em CI a simulação de restauração no PostgreSQL não pode ser pulada (ORCAZAP_TEST_POSTGRES_URL)" >&2
  exit 1
else
  echo "== PostgreSQL pulado: defina ORCAZAP_TEST_POSTGRES_URL"
fi
echo "OK: simulação de restauração passou"
