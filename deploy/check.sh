#!/usr/bin/env bash
# Checks the deployment files without building or starting anything:
#   - orcazap.env.example sets the variables production needs and holds no secret value (that it mentions
#     every variable of config::VARIABLES is a test of crates/orcazap/src/config/variables.rs);
#   - compose.yaml parses and has the expected services;
#   - systemd units pass `systemd-analyze verify` (when systemd-analyze is installed) and never stop
#     restarting after a crash loop (StartLimitIntervalSec=0, Restart=always, RestartSec >= 1 s);
#   - nginx.conf passes `nginx -t` in a scratch prefix with a throwaway certificate (when nginx is installed);
#   - the Caddyfile passes `caddy validate` (when caddy is installed; the DNS provider module line is removed,
#     because stock caddy does not include it).
# Tools that are missing are reported as SKIP outside CI; in CI (scripts/ci-env.sh: CI=true, 1, yes…)
# a missing tool is a failure (.ci/run installs them). Any failure exits non-zero.
set -euo pipefail

cd "$(dirname "$0")/.."
. scripts/ci-env.sh
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
step() { printf '\n== %s\n' "$*"; }
skip() { # $1 = what is missing, $2 = how to install it
    if is_ci; then
        echo "  FAILED: $1, and in CI (CI=$CI) no check may be skipped; install it: $2"
        exit 1
    fi
    echo "  SKIP: $1 (install: $2)"
}

step "deploy/orcazap.env.example: production variables set, no secrets"
python3 - deploy/orcazap.env.example <<'PY'
import re
import sys

REQUIRED = [
    # SPEC §10
    "ORCAZAP_DATABASE_URL", "ORCAZAP_LISTEN", "ORCAZAP_BASE_DOMAIN", "ORCAZAP_ENV", "ORCAZAP_SECRET_KEY",
    "ORCAZAP_WHATSAPP_API_BASE", "ORCAZAP_WHATSAPP_API_VERSION", "ORCAZAP_WHATSAPP_APP_SECRET",
    "ORCAZAP_WHATSAPP_VERIFY_TOKEN", "ORCAZAP_LOG_FORMAT",
    # operations
    "ORCAZAP_METRICS_TOKEN", "ORCAZAP_SENTRY_DSN", "ORCAZAP_DB_MAX_CONNECTIONS",
    "ORCAZAP_DB_ACQUIRE_TIMEOUT_MS", "ORCAZAP_DB_STATEMENT_TIMEOUT_MS", "ORCAZAP_ALLOW_SQLITE_IN_PRODUCTION",
    "ORCAZAP_TRUSTED_PROXIES", "ORCAZAP_ADMIN_TOKEN",
]
# Values of these must be placeholders (CHANGE_ME…) or empty: a real value here would be a committed secret.
SECRETS = {"ORCAZAP_SECRET_KEY", "ORCAZAP_WHATSAPP_APP_SECRET", "ORCAZAP_WHATSAPP_VERIFY_TOKEN",
           "ORCAZAP_METRICS_TOKEN", "ORCAZAP_SENTRY_DSN", "POSTGRES_PASSWORD",
           "ORCAZAP_ADMIN_TOKEN"}

values = {}
for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    line = line.rstrip("\n")
    if not line or line.startswith("#"):
        continue
    m = re.fullmatch(r"([A-Z][A-Z0-9_]*)=(\S*)", line)
    if not m:
        sys.exit(f"  FAILED: line {n} is not KEY=value (no spaces, no quotes): {line!r}")
    values[m.group(1)] = m.group(2)

failures = [f"missing {k}" for k in REQUIRED if k not in values]
for k in SECRETS & values.keys():
    if values[k] and not values[k].startswith("CHANGE_ME"):
        failures.append(f"{k} has a value that is not a CHANGE_ME placeholder")
url = values.get("ORCAZAP_DATABASE_URL", "")
if re.search(r"://[^:/]+:(?!CHANGE_ME)[^@]+@", url):
    failures.append("ORCAZAP_DATABASE_URL contains a password that is not CHANGE_ME")
if failures:
    for f in failures:
        print(f"  FAILED: {f}")
    sys.exit(1)
print(f"  SUCCESS: {len(values)} variables, secrets are placeholders")
PY

step "deploy/compose.yaml parses"
if ! python3 -c 'import yaml' 2>/dev/null; then
    skip "python3-yaml not installed" "apt-get install -y python3-yaml"
else
python3 - deploy/compose.yaml <<'PY'
import sys
import yaml
doc = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
services = doc.get("services", {})
missing = {"postgres", "migrate", "web", "worker"} - services.keys()
if missing:
    sys.exit(f"  FAILED: services missing: {sorted(missing)}")
if services["web"].get("command") != ["serve", "--web-only"] or services["worker"].get("command") != ["worker"]:
    sys.exit("  FAILED: web must run `serve --web-only` and worker `worker`")
for name in ("web", "worker"):
    cond = services[name].get("depends_on", {}).get("migrate", {}).get("condition")
    if cond != "service_completed_successfully":
        sys.exit(f"  FAILED: {name} must wait for migrate to complete")
print(f"  SUCCESS: services {sorted(services)}")
PY
fi

step "systemd units: systemd-analyze verify"
if command -v systemd-analyze >/dev/null 2>&1; then
    # verify wants the executables to exist; point them at /bin/true in a scratch copy.
    for unit in deploy/systemd/*.service; do
        sed 's|/usr/local/bin/orcazap|/bin/true|g' "$unit" >"$WORK/$(basename "$unit")"
    done
    out=$(cd "$WORK" && systemd-analyze verify ./*.service 2>&1) || { echo "$out"; exit 1; }
    if [ -n "$out" ]; then
        echo "$out"
        echo "  FAILED: systemd-analyze reported problems"
        exit 1
    fi
    echo "  SUCCESS: $(ls deploy/systemd/*.service | wc -l) units"
else
    skip "systemd-analyze not installed" "apt-get install -y systemd"
fi

step "systemd units: a crash loop never becomes a permanent outage"
# A start limit makes systemd give up for good after N crashes (security issue 10: one request crashed the
# process); restarts must continue, spaced by RestartSec. Plain text check: runs without systemd.
for unit in deploy/systemd/*.service; do
    python3 - "$unit" <<'PY'
import re
import sys

path = sys.argv[1]
section, keys = None, {}
for line in open(path, encoding="utf-8"):
    line = line.strip()
    if line.startswith("[") and line.endswith("]"):
        section = line[1:-1]
    elif "=" in line and not line.startswith("#"):
        k, v = line.split("=", 1)
        keys[(section, k.strip())] = v.strip()

problems = []
if keys.get(("Unit", "StartLimitIntervalSec")) != "0":
    problems.append("[Unit] StartLimitIntervalSec=0 missing (a start limit turns a crash loop into an outage)")
if ("Unit", "StartLimitBurst") in keys or ("Service", "StartLimitBurst") in keys:
    problems.append("StartLimitBurst set (remove it: no start limit)")
if ("Service", "StartLimitIntervalSec") in keys:
    problems.append("StartLimitIntervalSec belongs in [Unit]")
if keys.get(("Service", "Restart")) != "always":
    problems.append("[Service] Restart=always missing")
m = re.fullmatch(r"(\d+)(ms|s|min)?", keys.get(("Service", "RestartSec"), ""))
seconds = 0 if not m else int(m.group(1)) * {"ms": 0.001, "s": 1, None: 1, "min": 60}[m.group(2)]
if not 1 <= seconds <= 60:
    problems.append("[Service] RestartSec between 1s and 60s missing (space the restarts)")
if problems:
    print(f"  FAILED: {path}: " + "; ".join(problems))
    sys.exit(1)
print(f"  SUCCESS: {path}: restarts forever, {seconds:g} s apart")
PY
done

step "nginx -t deploy/proxy/nginx.conf"
if command -v nginx >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1; then
    mkdir -p "$WORK/nginx/conf.d" "$WORK/nginx/logs" "$WORK/nginx/tls"
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=orcazap.example \
        -keyout "$WORK/nginx/tls/privkey.pem" -out "$WORK/nginx/tls/fullchain.pem" 2>/dev/null
    sed -e "s|/etc/letsencrypt/live/orcazap.example|$WORK/nginx/tls|" -e "s|/var/log/nginx|$WORK/nginx/logs|" \
        deploy/proxy/nginx.conf >"$WORK/nginx/conf.d/orcazap.conf"
    cat >"$WORK/nginx/nginx.conf" <<EOF
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log;
events {}
http { access_log off; include $WORK/nginx/conf.d/*.conf; }
EOF
    nginx -q -t -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx"
    echo "  SUCCESS"
else
    skip "nginx (or openssl) not installed" "apt-get install -y nginx openssl"
fi

step "caddy validate deploy/proxy/Caddyfile"
if command -v caddy >/dev/null 2>&1; then
    sed '/^[[:space:]]*dns [a-z]/d' deploy/proxy/Caddyfile >"$WORK/Caddyfile"
    ORCAZAP_BASE_DOMAIN=orcazap.example ACME_EMAIL=ops@orcazap.example DNS_API_TOKEN=unused \
        caddy validate --config "$WORK/Caddyfile" --adapter caddyfile >"$WORK/caddy.log" 2>&1 \
        || { cat "$WORK/caddy.log"; exit 1; }
    echo "  SUCCESS (without the DNS provider line)"
else
    skip "caddy not installed" "apt-get install -y caddy"
fi

printf '\ndeploy/check.sh: all checks passed\n'
