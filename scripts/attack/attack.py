#!/usr/bin/env python3
"""Black-box re-run of the attack list of security issue 10 against the real binary.

Starts its own servers — `orcazap serve` in production mode on SQLite and on PostgreSQL, and
`orcazap demo` — probes them from outside over HTTP and raw sockets, prints one line per probe
(HELD or FAIL, what was sent, what came back) and a summary "N probes, N held, N failed".
Exit status 1 when a probe failed. See scripts/attack/README.md.
"""

import argparse
import csv
import io
import json
import os
import re
import socket
import stat
import sys
import threading
import time
import traceback

sys.dont_write_bytecode = True  # no __pycache__ in the repository
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (PROXY_ADDR, Browser, GraphMock, PgScratch, Server,  # noqa: E402
                     base_env, free_port, hidden, meta_csrf, random_hex, sign, tempdir,
                     text_message, webhook_body)

RESULTS = []  # (engine, id, held, observed)
STRONG = "cavalo correto bateria grampo 71"  # a passphrase zxcvbn scores 4


class Probe:
    """Collects the expectations of one probe; it held when every one of them held."""

    def __init__(self, engine, pid, title):
        self.engine, self.pid, self.title = engine, pid, title
        self.notes = []
        self.failed = []

    def check(self, cond, what):
        (self.notes if cond else self.failed).append(what)
        return cond

    def note(self, what):
        self.notes.append(what)


def report(p, crashed=None):
    held = not p.failed and crashed is None
    observed = "; ".join((["FAILED: " + "; ".join(p.failed)] if p.failed else [])
                         + ([f"ERROR: {crashed}"] if crashed else []) + p.notes)
    RESULTS.append((p.engine, p.pid, held, observed))
    print(f"{'HELD' if held else 'FAIL'}  {p.engine:<8} {p.pid:<28} {p.title} — {observed}",
          flush=True)


# ---------------------------------------------------------------- the production-like target


class Target:
    """One engine: scratch database, demo seed, extra stores, `orcazap serve` in production."""

    def __init__(self, engine, args, graph):
        self.engine = engine
        self.args = args
        self.graph = graph
        self.workdir = tempdir(f"orcazap-attack-{engine}-")
        self.pg = None
        self.port = free_port()
        self.app_secret = random_hex()
        self.verify_token = random_hex()
        self.metrics_token = random_hex()
        self.admin_token = random_hex()
        self.srcs = iter(range(10, 250))
        self.ids = {}

    def src(self):
        """A fresh client address for one probe (127.0.0.N; .2 is the trusted proxy)."""
        return f"127.0.0.{next(self.srcs)}"

    def env(self, **over):
        e = base_env()
        e.update({
            "ORCAZAP_ENV": "production",
            "ORCAZAP_DATABASE_URL": self.db_url,
            "ORCAZAP_ALLOW_SQLITE_IN_PRODUCTION": "true",
            "ORCAZAP_LISTEN": f"127.0.0.1:{self.port}",
            "ORCAZAP_BASE_DOMAIN": "localhost",
            "ORCAZAP_SECRET_KEY": self._key,
            "ORCAZAP_WHATSAPP_APP_SECRET": self.app_secret,
            "ORCAZAP_WHATSAPP_VERIFY_TOKEN": self.verify_token,
            "ORCAZAP_WHATSAPP_API_BASE": f"http://127.0.0.1:{self.graph.port}",
            "ORCAZAP_METRICS_TOKEN": self.metrics_token,
            "ORCAZAP_ADMIN_TOKEN": self.admin_token,
            # Production requires the operator's second factor with the token (docs/security.md).
            "ORCAZAP_ADMIN_TOTP_SECRET": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
            "ORCAZAP_TRUSTED_PROXIES": PROXY_ADDR,
            # Shorter than the 30 s default so the slow-header probes take seconds.
            "ORCAZAP_HTTP_HEADER_TIMEOUT_MS": "3000",
            "ORCAZAP_LOG": "warn",
        })
        e.update(over)
        return {k: v for k, v in e.items() if v is not None}

    def setup(self):
        if self.engine == "postgres":
            self.pg = PgScratch(self.args.pg_url)
            self.db_url = self.pg.create()
        else:
            self.db_url = f"sqlite://{self.workdir}/attack.db"
        self._key = "attack-" + random_hex(24)
        self.server = Server(self.args.bin, self.env(), self.workdir, f"serve-{self.engine}")
        s = self.server
        s.cli(["migrate", "up"])
        out = s.cli(["seed", "--demo"]).stdout
        self.logins = dict(re.findall(r"^\s+(\S+@\S+)\s+senha: (\S.*)$", out, re.M))
        self.owner = ("dono@demo.orcazap.test", self.logins["dono@demo.orcazap.test"])
        self.attendant = ("atendente@demo.orcazap.test", self.logins["atendente@demo.orcazap.test"])
        s.cli(["channel", "token", "--store", "demo"], stdin="attack-graph-token\n")
        # Stores for the probes that lock accounts or compare tenants (password on stdin).
        for slug, email in [("loja-b", "dono@b.test"), ("alvo", "alvo@x.test"),
                            ("alvo-xff", "xff@x.test"), ("um-1", "single1@x.test"),
                            ("um-2", "single2@x.test")] + \
                [(f"multi{n}-{k}", f"multi{n}@x.test") for n in (1, 2) for k in "abcde"]:
            s.cli(["store", "create", "--slug", slug, "--name", f"Loja {slug}",
                   "--owner-email", email], stdin=STRONG + "\n")
        self.start()

    def start(self):
        self.server.start(self.port)

    def restart_if_dead(self):
        if not self.server.alive():
            self.start()
            return True
        return False

    def teardown(self):
        self.server.stop()
        if self.pg:
            self.pg.drop()

    # -------- helpers

    def browser(self, src=None):
        return Browser(self.port, src or self.src())

    def store_login(self, b, slug, email, password, headers=None):
        host = f"{slug}.localhost"
        page = b.get(host, "/login", headers=headers)
        return b.post(host, "/login", {"csrf": hidden(page.text) or "", "email": email,
                                       "password": password}, headers=headers)

    def signed_in(self, slug, who=None, src=None):
        b = self.browser(src)
        email, pw = who or self.owner
        r = self.store_login(b, slug, email, pw)
        if r.status != 303:
            raise RuntimeError(f"login of {email} on {slug} answered {r.status}: {r.text[:200]}")
        return b

    def csrf(self, b, slug):
        return meta_csrf(b.get(f"{slug}.localhost", "/").text)

    def central_login(self, b, email, password, headers=None):
        page = b.get("localhost", "/login", headers=headers)
        return b.post("localhost", "/login", {"csrf": hidden(page.text) or "", "email": email,
                                              "password": password}, headers=headers)

    def webhook(self, body, signature="sign", src=None):
        b = Browser(self.port, src or "127.0.0.1")
        sig = sign(self.app_secret, body) if signature == "sign" else signature
        return b.request("POST", "api.localhost", "/webhooks/whatsapp", body=body,
                         headers={"Content-Type": "application/json",
                                  "X-Hub-Signature-256": sig}, cookies=False)

    def customer_says(self, wa_id, text, name="Cliente"):
        return self.webhook(webhook_body([text_message(wa_id, text)], [(wa_id, name)]))

    def healthy(self):
        try:
            return self.browser("127.0.0.1").get("localhost", "/health", timeout=10).status == 200
        except OSError:
            return False


def ids_in(html, prefix):
    return list(dict.fromkeys(re.findall(r'href="/%s/([0-9a-zA-Z_-]+)"' % prefix, html)))


def total_of(html):
    m = re.search(r'class="total"><td colspan="3">Total</td><td class="r">([^<]*)<', html)
    return m.group(1) if m else None


# ---------------------------------------------------------------- probes on `serve`

PROBES = []


def probe(pid, title):
    def deco(f):
        PROBES.append((pid, title, f))
        return f
    return deco


@probe("fixture.quote", "a customer's message becomes a quote waiting for approval")
def fixture_quote(t, p):
    r = t.customer_says("5511955554444", "10 sacos de cimento, entrega amanhã em Itaquera, pix",
                        "Carlos")
    p.check(r.status == 200, f"signed webhook → {r.status}")
    sent = t.graph.wait_for("5511955554444")
    p.check(bool(sent), f"bot answered the customer ({len(sent)} message(s))")
    b = t.signed_in("demo", t.attendant)
    deadline = time.time() + 20
    while time.time() < deadline:
        appr = ids_in(b.get("demo.localhost", "/aprovacoes").text, "aprovacoes")
        if appr:
            break
        time.sleep(0.5)
    p.check(bool(appr), "approval listed")
    t.ids["approval"] = appr[0]
    detail = b.get("demo.localhost", f"/aprovacoes/{appr[0]}").text
    t.ids["conversation"] = ids_in(detail, "conversas")[0]
    quotes = ids_in(b.get("demo.localhost", "/orcamentos").text, "orcamentos")
    t.ids["quote"] = quotes[0]
    owner = t.signed_in("demo")
    team = owner.get("demo.localhost", "/equipe").text
    t.ids["user"] = re.findall(r'action="/equipe/([0-9a-zA-Z_-]+)/papel"', team)[0]
    cat = owner.get("demo.localhost", "/catalogo").text
    t.ids["item"] = re.findall(r'action="/catalogo/([0-9a-zA-Z_-]+)/ativo"', cat)[0]
    p.note(f"ids {t.ids}")


# -------- finding 1: template nesting


def template_payloads():
    minus = lambda n: "{{ " + "-" * n + "1 }}"  # noqa: E731
    return [
        ("minus×6000", minus(6000)),
        ("minus×16000", minus(16000)),
        ("minus×20000 (over the 16 KB cap)", minus(20000)),
        ("not×4000", "{{ " + "not " * 4000 + "1 }}"),
        ("parens×5000", "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}"),
        ("brackets×5000", "{{ " + "[" * 5000 + "1" + "]" * 5000 + " }}"),
        ("filters×5000", "{{ 1" + "|abs" * 3000 + " }}"),
        ("attr chain×5000", "{{ cliente" + ".a" * 5000 + " }}"),
        ("-( ×3000", "{{ " + "-(" * 3000 + "1" + ")" * 3000 + " }}"),
        ("if×3000", "{% if 1 %}" * 1500 + "x" + "{% endif %}" * 1500),
        ("elif×3000", "{% if 0 %}a" + "{% elif 0 %}a" * 1500 + "{% endif %}"),
        ("inline if×3000", "{{ " + "1 if 0 else " * 1500 + "1 }}"),
        ("for×1500", "{% for a in [1] %}" * 1000 + "x" + "{% endfor %}" * 1000),
        ("loop bomb", "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}"),
    ]


def template_probe(t, p, path_suffix):
    b = t.signed_in("demo", src=t.src())
    csrf = t.csrf(b, "demo")
    for name, src in template_payloads():
        t0 = time.monotonic()
        try:
            r = b.post("demo.localhost", f"/modelos/quote{path_suffix}", {"csrf": csrf, "source": src},
                       timeout=60)
            status = r.status
        except OSError as e:
            status = f"connection error {e}"
        alive = t.server.alive() and t.healthy()
        ok = alive and isinstance(status, int) and status < 500
        if path_suffix == "":
            ok = ok and status != 303  # a save would redirect
        p.check(ok, f"{name} → {status} in {time.monotonic() - t0:.1f}s, server "
                f"{'alive' if alive else 'DOWN'}")
        if not alive:
            t.restart_if_dead()
            b = t.signed_in("demo", src=t.src())
            csrf = t.csrf(b, "demo")
    if path_suffix == "":
        page = b.get("demo.localhost", "/modelos/quote").text
        p.check("-----" not in page and "(((((" not in page, "nothing saved")


@probe("F1.template-preview", "deep template nesting via preview (14 shapes)")
def f1_preview(t, p):
    template_probe(t, p, "/previa")


@probe("F1.template-save", "deep template nesting via save")
def f1_save(t, p):
    template_probe(t, p, "")


# -------- finding 2: one address locks everyone out


def fail_logins(t, b, n, headers=None, slug="demo"):
    statuses = []
    for i in range(n):
        r = t.store_login(b, slug, f"ninguem{i}@nada.test", "errada-" + str(i), headers=headers)
        statuses.append(r.status)
    return statuses


@probe("F2.address-direct", "22 failures from one address, then correct logins of others from it")
def f2_direct(t, p):
    src = t.src()
    b = t.browser(src)
    st = fail_logins(t, b, 22)
    p.note(f"22 failures for unknown e-mails → {sorted(set(st))}")
    r = t.store_login(t.browser(src), "loja-b", "dono@b.test", STRONG)
    p.check(r.status == 303, f"correct login of another store's owner from that address → {r.status}")
    r = t.store_login(t.browser(src), "demo", *t.attendant)
    p.check(r.status == 303, f"correct login on the attacked store from that address → {r.status}")
    b2 = t.browser(src)
    r = t.central_login(b2, "single1@x.test", STRONG)
    p.check(r.status == 200 and "login/handoff" in r.text,
            f"central login of another account from that address → {r.status}")


@probe("F2.xff-trusted", "22 failures via the trusted proxy (X-Forwarded-For A), then B and A log in")
def f2_xff_trusted(t, p):
    xa, xb = {"X-Forwarded-For": "203.0.113.5"}, {"X-Forwarded-For": "198.51.100.7"}
    b = Browser(t.port, PROXY_ADDR)
    st = fail_logins(t, b, 22, headers=xa)
    p.note(f"client A's failures → {st[:3]}…{st[-3:]}")
    p.check(429 in st[20:], "A's own failures past 20 are slowed/429 (A's address was believed)")
    r = t.store_login(Browser(t.port, PROXY_ADDR), "demo", "ninguem@nada.test", "x", headers=xb)
    p.check(r.status == 401 and r.elapsed < 5, f"client B's wrong password → {r.status} "
            f"({r.elapsed:.2f}s), not slowed by A")
    r = t.store_login(Browser(t.port, PROXY_ADDR), "loja-b", "dono@b.test", STRONG, headers=xb)
    p.check(r.status == 303, f"B's correct login → {r.status}")
    r = t.store_login(Browser(t.port, PROXY_ADDR), "alvo-xff", "xff@x.test", STRONG, headers=xa)
    p.check(r.status == 303, f"A's correct login of another account → {r.status}")


@probe("F2.xff-untrusted", "22 failures with rotating X-Forwarded-For from an untrusted peer")
def f2_xff_untrusted(t, p):
    src = t.src()
    b = t.browser(src)
    st = [t.store_login(b, "demo", f"x{i}@nada.test", "e",
                        headers={"X-Forwarded-For": f"10.9.{i}.1", "Forwarded": f"for=10.8.{i}.1"}
                        ).status for i in range(22)]
    p.check(429 in st[20:], f"forged headers ignored: failures past 20 from one peer slowed → "
            f"{st[18:]}")
    r = t.store_login(t.browser(src), "loja-b", "dono@b.test", STRONG,
                      headers={"X-Forwarded-For": "10.9.0.1"})
    p.check(r.status == 303, f"correct login from that peer → {r.status}")


# -------- finding 3: login blocked without credentials


@probe("F3.empty-posts", "70 empty POSTs from 7 addresses (direct and via proxy), then the owner logs in")
def f3_empty_posts(t, p):
    srcs = [t.src() for _ in range(7)]
    codes = []
    for i in range(70):
        b = Browser(t.port, srcs[i % 7])
        codes.append(b.post("demo.localhost", "/login", {}).status)
        codes.append(b.post("localhost", "/login", {}).status)
        codes.append(Browser(t.port, PROXY_ADDR).post(
            "demo.localhost", "/login", {}, headers={"X-Forwarded-For": f"192.0.2.{i % 7}"}).status)
    p.note(f"210 empty POSTs → {sorted(set(codes))}")
    r = t.store_login(t.browser(srcs[0]), "demo", *t.owner)
    p.check(r.status == 303, f"owner's store login from one of those addresses → {r.status}")
    r = t.store_login(t.browser(), "demo", *t.owner)
    p.check(r.status == 303, f"owner's store login from a fresh address → {r.status}")
    r = t.central_login(t.browser(srcs[1]), t.owner[0], t.owner[1])
    p.check(r.status == 200 and "login/handoff" in r.text, f"owner's central login → {r.status}")


@probe("F3.tenant-write-budget", "660 anonymous POSTs (no session, no token) from 11 addresses, then the owner writes")
def f3_tenant_write(t, p):
    owner = t.signed_in("demo")
    csrf = t.csrf(owner, "demo")
    codes = {}
    for a in range(11):
        b = t.browser()
        for _ in range(60):
            s = b.post("demo.localhost", f"/aprovacoes/{t.ids['approval']}/aprovar", {}).status
            codes[s] = codes.get(s, 0) + 1
    p.note(f"anonymous POSTs → {codes}")
    r = owner.post("demo.localhost", "/modelos/quote/previa",
                   {"csrf": csrf, "source": "Total: {{ orcamento.total }}"})
    p.check(r.status == 200, f"owner's write afterwards → {r.status} {r.header('retry-after') or ''}")


@probe("F3.tenant-read-budget", "4,200 anonymous GETs from 14 addresses at once, then the owner reads")
def f3_tenant_read(t, p):
    owner = t.signed_in("demo")
    codes = {}
    lock = threading.Lock()

    def flood():
        b = t.browser()
        for _ in range(300):
            s = b.get("demo.localhost", "/login", cookies=False).status
            with lock:
                codes[s] = codes.get(s, 0) + 1

    owner_codes = []
    done = threading.Event()

    def owner_reads():
        while not done.is_set():
            owner_codes.append(owner.get("demo.localhost", "/aprovacoes").status)
            time.sleep(0.1)

    t0 = time.monotonic()
    threads = [threading.Thread(target=flood) for _ in range(14)]
    watcher = threading.Thread(target=owner_reads)
    watcher.start()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    done.set()
    watcher.join()
    p.note(f"anonymous GETs in {time.monotonic() - t0:.1f}s → {codes}")
    p.check(429 not in owner_codes, f"owner's pages during the flood → "
            f"{ {c: owner_codes.count(c) for c in set(owner_codes)} }")


# -------- finding 4: attendant export


@probe("F4.attendant-csv", "attendant GET /catalogo/exportar.csv")
def f4_attendant_csv(t, p):
    b = t.signed_in("demo", t.attendant)
    r = b.get("demo.localhost", "/catalogo/exportar.csv")
    head = r.text.splitlines()[0] if r.text else ""
    p.check(r.status == 200 and "cost" not in head, f"attendant → {r.status}, header {head!r}")
    o = t.signed_in("demo").get("demo.localhost", "/catalogo/exportar.csv")
    p.check("cost_cents" in o.text.splitlines()[0], "owner's export still has costs")
    p.check("no-store" in (r.header("cache-control") or ""), f"Cache-Control {r.header('cache-control')}")


# -------- finding 5: operator token


@probe("F5.admin-guessing", "40 wrong operator tokens from one address, then the right one")
def f5_admin(t, p):
    src = t.src()
    b = t.browser(src)
    codes = []
    t0 = time.monotonic()
    for i in range(40):
        hdr = {"Authorization": f"Bearer {random_hex()}"} if i % 2 else \
            {"Authorization": "Basic " + __import__("base64").b64encode(f"admin:{random_hex()}".encode()).decode()}
        codes.append(b.get("api.localhost", "/admin", headers=hdr).status)
    p.note(f"40 guesses in {time.monotonic() - t0:.1f}s → {codes.count(401)}×401, {codes.count(429)}×429")
    p.check(codes.count(401) <= 11 and codes[-1] == 429, "guessing throttled after ~10")
    r = b.get("api.localhost", "/admin", headers={"Authorization": f"Bearer {t.admin_token}"})
    p.check(r.status == 429, f"right token from the throttled address → {r.status} (refused before comparing)")
    r = t.browser().get("api.localhost", "/admin", headers={"Authorization": f"Bearer {t.admin_token}"})
    p.check(r.status == 200, f"right token from another address → {r.status}")
    r = Browser(t.port, PROXY_ADDR).get("api.localhost", "/admin",
                                        headers={"Authorization": f"Bearer {t.admin_token}",
                                                 "X-Forwarded-For": "203.0.113.99"})
    p.check(r.status == 200, f"right token via the proxy for another client → {r.status}")


@probe("F5.weak-admin-token", "production start with ORCAZAP_ADMIN_TOKEN weak or placeholder")
def f5_weak(t, p):
    for tok in ["a", "CHANGE_ME_admin_token_0123456789abcdef0123",
                "a" * 40, "token-token-token-token-token-token", "adminadminadminadminadminadminadmin"]:
        port = free_port()
        env = t.env(ORCAZAP_ADMIN_TOKEN=tok, ORCAZAP_LISTEN=f"127.0.0.1:{port}")
        s = Server(t.args.bin, env, t.workdir, "weak-admin")
        try:
            s.start(port)
            p.check(False, f"{tok[:12]!r}… → server STARTED")
        except RuntimeError as e:
            p.check("ORCAZAP_ADMIN_TOKEN" in str(e), f"{tok[:12]!r}… → refused")
        finally:
            s.stop()


@probe("P.metrics-token-required", "production start without ORCAZAP_METRICS_TOKEN, or a short one")
def p_metrics_required(t, p):
    for tok in [None, "short"]:
        port = free_port()
        env = t.env(ORCAZAP_METRICS_TOKEN=tok, ORCAZAP_LISTEN=f"127.0.0.1:{port}")
        s = Server(t.args.bin, env, t.workdir, "no-metrics")
        try:
            s.start(port)
            p.check(False, f"metrics token {tok!r} → server STARTED")
        except RuntimeError as e:
            p.check("ORCAZAP_METRICS_TOKEN" in str(e), f"metrics token {tok!r} → refused")
        finally:
            s.stop()


@probe("P.metrics-exposure", "/metrics on every host, with and without the token")
def p_metrics(t, p):
    b = t.browser()
    good = {"Authorization": f"Bearer {t.metrics_token}"}
    for host, hdr, want in [("api.localhost", None, 401), ("api.localhost", {"Authorization": "Bearer x"}, 401),
                            ("api.localhost", good, 200), ("127.0.0.1", None, 401), ("127.0.0.1", good, 200),
                            ("localhost", good, 404), ("www.localhost", good, 404),
                            ("demo.localhost", good, 404), ("evil.com", good, 404)]:
        r = b.get(host, "/metrics", headers=hdr)
        p.check(r.status == want, f"{host}{' +token' if hdr == good else ''} → {r.status}")


# -------- findings 6 and 9: money inputs


@probe("F6.quote-edit-bounds", "negative/huge freight, prices and quantities on quote edit")
def f6_money(t, p):
    b = t.signed_in("demo", t.attendant)
    csrf = t.csrf(b, "demo")
    path = f"/aprovacoes/{t.ids['approval']}"
    before = total_of(b.get("demo.localhost", path).text)
    sent_before = len(t.graph.all())
    for fields in [{"freight": "-5.000,00"}, {"freight": "-0,01"}, {"freight": "999999999999999999999"},
                   {"freight": "100.000,01"}, {"freight": "NaN"}, {"freight": "1e9"},
                   {"qty_0": "-10"}, {"qty_0": "1000000"}, {"qty_0": "0"}, {"qty_0": "1e308"},
                   {"price_0": "-36,90"}, {"price_0": "92.233.720.368.547.758,07"},
                   {"qty_0": "1000000", "price_0": "92.233.720.368.547.758,07"},
                   {"qty_0": "99999", "price_0": "-1.000.000,00", "freight": "0"}]:
        r = b.post("demo.localhost", f"{path}/editar", {"csrf": csrf, **fields})
        now = total_of(b.get("demo.localhost", path).text)
        p.check(r.status == 400 and now == before, f"{fields} → {r.status}, total {now}")
    p.check(not any("-R$" in m for _, m in t.graph.all()[sent_before:]), "no negative total sent")
    p.check(len(t.graph.all()) == sent_before, "nothing sent to the customer")


@probe("F9.quote-overflow", "quantity × price at the limits and beyond: exact, never wrapped")
def f9_overflow(t, p):
    b = t.signed_in("demo", t.attendant)
    csrf = t.csrf(b, "demo")
    path = f"/aprovacoes/{t.ids['approval']}"
    r = b.post("demo.localhost", f"{path}/editar", {"csrf": csrf, "qty_0": "100000",
                                                    "price_0": "1.000.000,00", "freight": "100.000,00"})
    total = total_of(b.get("demo.localhost", path).text)
    p.check(r.status == 303 and total and "-" not in total, f"100.000 × R$ 1.000.000,00 → {r.status}, total {total}")
    r = b.post("demo.localhost", f"{path}/editar", {"csrf": csrf, "qty_0": "100001",
                                                    "price_0": "1.000.000,01"})
    p.check(r.status == 400, f"one over each limit → {r.status}")
    # Put the quote back to something ordinary for the probes that follow.
    b.post("demo.localhost", f"{path}/editar", {"csrf": csrf, "qty_0": "10", "price_0": "36,90",
                                                "freight": "60,00"})


# -------- finding 7: NUL and control characters in webhook text


@probe("F7.nul-in-webhook", "NUL and control characters in a signed delivery with a normal neighbour")
def f7_nul(t, p):
    a, n = "5511911110001", "5511911110002"
    nasty = "cimento\u0000 10 sacos \u0001\u0007\u001b[31m\u202e\ufeff\u0000fim"
    body = webhook_body([text_message(a, nasty), text_message(n, "preciso de 5 sacos de areia")],
                        [(a, "Nul\u0000 Name\u0001"), (n, "Vizinho")])
    codes = [t.webhook(body).status for _ in range(2)]  # Meta retries: the second is a duplicate
    p.check(codes[0] == 200, f"delivery → {codes}")
    p.check(bool(t.graph.wait_for(n)), "the neighbour was answered")
    p.check(bool(t.graph.wait_for(a)), "the NUL sender was answered")
    b = t.signed_in("demo")
    inbox = b.get("demo.localhost", "/conversas").text
    p.check("Nul" in inbox, "contact with NUL in the name listed in the inbox")
    raw = b.get("demo.localhost", "/conversas").body
    p.check(b"\x00" not in raw, "no raw NUL in the page")


# -------- finding 8: CSV formula injection


@probe("F8.csv-formulas", "catalog names starting with = + - @ tab CR, exported as CSV")
def f8_csv(t, p):
    b = t.signed_in("demo")
    csrf = t.csrf(b, "demo")
    evil = ["-2+3+cmd|' /C calc'!A0", "=HYPERLINK(\"http://evil.test\",\"x\")", "+1+1", "@SUM(A1)",
            "\t=1+1", "\r=1+1", "-1+HYPERLINK(\"http://x\")"]
    for i, name in enumerate(evil):
        r = b.post("demo.localhost", "/catalogo/itens", {"csrf": csrf, "sku": f"EVIL{i}", "name": name,
                                                         "unit": "un", "price": "1,00", "cost": "0,50",
                                                         "weight_kg": "1", "aliases": name, "active": "1"})
        p.check(r.status in (200, 303), f"item {i} saved → {r.status}")
    imp = "sku,name,unit,price_cents,cost_cents,weight_kg,aliases\nEVILCSV,=cmd|'/c calc'!A1,un,100,50,1,@x\n"
    r = b.post("demo.localhost", "/catalogo/importar", {"csrf": csrf, "csv": imp})
    p.note(f"CSV import with a formula → {r.status}")
    for who in (b, t.signed_in("demo", t.attendant)):
        text = who.get("demo.localhost", "/catalogo/exportar.csv").text
        bad = [c for row in csv.reader(io.StringIO(text)) for c in row
               if c[:1] in ("=", "+", "@", "\t", "\r") or (c[:1] == "-" and not re.fullmatch(r"-?[\d.]+", c))]
        p.check(not bad, f"export cells starting a formula: {bad[:3]}")


# -------- finding 10: Host routing


@probe("F10.host-routing", "every surface on every kind of Host")
def f10_hosts(t, p):
    adm = {"Authorization": f"Bearer {t.admin_token}"}
    met = {"Authorization": f"Bearer {t.metrics_token}"}
    verify = f"/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token={t.verify_token}&hub.challenge=42"
    surfaces = [("GET", "/", None), ("GET", "/login", None), ("GET", "/signup", None),
                ("GET", "/admin", adm), ("GET", verify, None), ("GET", "/metrics", met),
                ("GET", "/aprovacoes", None), ("GET", "/simulator", None), ("GET", "/health", None)]
    expect = {
        "localhost": {"/": 200, "/login": 200, "/signup": 200, "/health": 200},
        "www.localhost": {"/": 200, "/login": 200, "/signup": 200, "/health": 200},
        "api.localhost": {"/admin": 200, verify: 200, "/metrics": 200, "/health": 200},
        "demo.localhost": {"/": 303, "/login": 200, "/aprovacoes": 303, "/health": 200},
        "nope.localhost": {"/health": 200}, "admin.localhost": {"/health": 200},
        "evil.com": {"/health": 200}, "127.0.0.1": {"/metrics": 200, "/health": 200},
        "api.localhost.evil.com": {"/health": 200}, "localhost.evil.com": {"/health": 200},
        "[::1]": {"/metrics": 200, "/health": 200},
    }
    b = t.browser()
    wrong = []
    for host, want in expect.items():
        for method, path, hdr in surfaces:
            r = b.request(method, host, path, headers=hdr, cookies=False)
            exp = want.get(path, 404)
            if r.status != exp:
                wrong.append(f"{host}{path.split('?')[0]} → {r.status} (want {exp})")
    p.check(not wrong, f"{len(expect) * len(surfaces)} host×surface pairs" + (": " + ", ".join(wrong) if wrong else " as documented"))
    # A webhook to another host stores nothing.
    body = webhook_body([text_message("5511922220001", "oi")], [("5511922220001", "X")])
    for host in ["localhost", "demo.localhost", "evil.com", "127.0.0.1"]:
        r = t.browser().request("POST", host, "/webhooks/whatsapp", body=body,
                                headers={"X-Hub-Signature-256": sign(t.app_secret, body),
                                         "Content-Type": "application/json"})
        p.check(r.status == 404, f"signed webhook on {host} → {r.status}")
    time.sleep(2)
    p.check(not t.graph.to("5511922220001"), "nothing answered for webhooks on wrong hosts")
    r = b.request("GET", "", "/health", with_port=False, cookies=False)
    p.note(f"empty Host → {r.status}")


# -------- partial findings


@probe("P.central-timing", "central login: wrong password for an e-mail in 1 vs 5 stores vs unknown")
def p_timing(t, p):
    groups = {"1 store": ["single1@x.test", "single2@x.test"],
              "5 stores": ["multi1@x.test", "multi2@x.test"],
              "unknown": ["nobody1@x.test", "nobody2@x.test"]}
    times = {g: [] for g in groups}
    for rnd in range(4):  # 4 failures per account: under the 5-failure lockout
        for g, emails in groups.items():
            for e in emails:
                b = t.browser()
                r = t.central_login(b, e, f"errada{rnd}")
                times[g].append(r.elapsed)
    med = {g: sorted(v)[len(v) // 2] for g, v in times.items()}
    p.note("median " + ", ".join(f"{g} {m * 1000:.0f} ms" for g, m in med.items()))
    p.check(med["5 stores"] < 1.5 * med["1 store"] and med["1 store"] < 1.5 * med["5 stores"],
            "1 store vs 5 stores within 1.5×")
    p.check(med["unknown"] < 1.5 * med["1 store"] and med["1 store"] < 1.5 * med["unknown"],
            "known vs unknown e-mail within 1.5×")


@probe("P.handoff-binding", "central-login hand-off links used from another browser")
def p_handoff(t, p):
    a = t.browser()
    r = t.central_login(a, "dono@b.test", STRONG)
    link = re.search(r'href="(http://[^"]*/login/handoff\?token=[^"]*)"', r.text)
    p.check(r.status == 200 and link, f"central login → {r.status}, continue link present")
    url = link.group(1)
    path = url.split(":%d" % t.port, 1)[1]
    victim = t.browser()
    v = victim.get("loja-b.localhost", path, follow=True)
    p.check("oz_session" not in victim.cookies("loja-b.localhost"),
            f"link T followed by another browser → no session ({v.status})")
    # The same link is burnt now, even for the right browser.
    a2 = a.get("loja-b.localhost", path, follow=True)
    p.check("oz_session" not in a.cookies("loja-b.localhost"),
            f"first-leg token reused by its own browser → no session ({a2.status})")
    # Second leg: the right browser up to the apex's answer, the final link stolen.
    a = t.browser()
    r = t.central_login(a, "dono@b.test", STRONG)
    path = re.search(r'href="http://[^"/]*(/login/handoff\?token=[^"]*)"', r.text).group(1)
    s2 = a.get("loja-b.localhost", path)
    confirm = s2.header("location")
    cp = confirm.split(":%d" % t.port, 1)[1]
    s3 = a.get("localhost", cp)
    final = s3.header("location") or ""
    p.check("/login/handoff/concluir" in final, f"apex confirmed the right browser → {s3.status}")
    fp = final.split(":%d" % t.port, 1)[-1]
    thief = t.browser()
    thief.get("loja-b.localhost", fp)
    p.check("oz_session" not in thief.cookies("loja-b.localhost"), "final link in another browser → no session")
    a.get("loja-b.localhost", fp)
    p.check("oz_session" not in a.cookies("loja-b.localhost"), "final link burnt by the thief's try")
    ok = t.browser()
    r = t.central_login(ok, "dono@b.test", STRONG)
    path = re.search(r'href="http://[^"/]*(/login/handoff\?token=[^"]*)"', r.text).group(1)
    ok.get("loja-b.localhost", path, follow=True)
    p.check("oz_session" in ok.cookies("loja-b.localhost"), "the right browser, untouched, signs in")


def signup(t, b, slug, password, name=None, email=None):
    page = b.get("localhost", "/signup")
    return b.post("localhost", "/signup", {"csrf": hidden(page.text) or "", "name": name or f"Loja {slug}",
                                           "slug": slug, "email": email or f"dono@{slug}.test",
                                           "password": password})


@probe("P.signup-slugs", "reserved and look-alike slugs at sign-up")
def p_signup_slugs(t, p):
    bad = ["xn--80ak6aa92e", "xn--dmo-7la", "metrics", "health", "webhooks", "staging", "grafana",
           "api", "www", "admin", "static", "mail", "orcazap", "orcazap-suporte", "demo", "loja-b",
           "a", "-abc", "abc-", "login", "signup", "root", "status", "prometheus"]
    accepted = []
    for slug in bad:
        r = signup(t, t.browser(), slug, STRONG)
        if r.status in (200, 303) and "login/handoff" in r.text:
            accepted.append(slug)
    p.check(not accepted, f"{len(bad)} slugs; accepted: {accepted or 'none'}")
    r = signup(t, t.browser(), "loja-sinal", STRONG, name="<script>alert('loja')</script>")
    p.check("login/handoff" in r.text, f"an ordinary slug still signs up → {r.status}")


@probe("P.signup-passwords", "weak passwords at sign-up")
def p_signup_pw(t, p):
    weak = ["orcazap2024", "Senha@2024", "12341234123412", "senhasenha", "loja-fraca1", "Deposito123",
            "dono@fraca.test", "aaaaaaaaaaaaaaaaaa", "qwertyuiop123", "Brasil2024!", "construcao123"]
    accepted = [pw for pw in weak if "login/handoff" in signup(t, t.browser(), "loja-fraca", pw).text]
    p.check(not accepted, f"accepted: {accepted or 'none'} of {len(weak)}")


@probe("P.password-change-guessing", "wrong current password on /conta/senha, again and again")
def p_pwchange(t, p):
    b = t.signed_in("alvo", ("alvo@x.test", STRONG))
    csrf = t.csrf(b, "alvo")
    codes = []
    for i in range(8):
        r = b.post("alvo.localhost", "/conta/senha", {"csrf": csrf, "current": f"chute{i}",
                                                      "new": "outra frase longa qualquer 55",
                                                      "confirm": "outra frase longa qualquer 55"})
        codes.append(r.status)
    p.note(f"8 wrong guesses → {codes}")
    r = b.get("alvo.localhost", "/")
    p.check(r.status in (303, 401) and "/login" in (r.header("location") or "/login"),
            f"session ended → GET / {r.status} {r.header('location')}")
    r = t.store_login(t.browser(), "alvo", "alvo@x.test", STRONG)
    p.check(r.status == 429, f"account locked for a while → correct login {r.status}")


@probe("P.no-store", "Cache-Control: no-store on dashboard pages, CSV, admin, login")
def p_nostore(t, p):
    b = t.signed_in("demo")
    pages = [("demo.localhost", p_) for p_ in ["/", "/aprovacoes", f"/aprovacoes/{t.ids['approval']}",
                                                "/conversas", f"/conversas/{t.ids['conversation']}",
                                                "/orcamentos", f"/orcamentos/{t.ids['quote']}", "/catalogo",
                                                "/catalogo/exportar.csv", "/regras", "/frete", "/modelos",
                                                "/equipe", "/whatsapp", "/conta/senha", "/login"]]
    pages += [("localhost", "/login"), ("localhost", "/signup")]
    missing = []
    for host, path in pages:
        r = b.get(host, path)
        if "no-store" not in (r.header("cache-control") or ""):
            missing.append(f"{host}{path}={r.status}:{r.header('cache-control')}")
    r = b.get("api.localhost", "/admin", headers={"Authorization": f"Bearer {t.admin_token}"})
    if "no-store" not in (r.header("cache-control") or ""):
        missing.append(f"admin:{r.header('cache-control')}")
    p.check(not missing, f"{len(pages) + 1} responses; without no-store: {missing or 'none'}")


def closed_within(sock, limit, trickle=None):
    """Seconds until the server closes `sock` (None if still open after `limit`); `trickle`
    is sent one byte a second meanwhile."""
    sock.settimeout(1.0)
    t0 = time.monotonic()
    i = 0
    while time.monotonic() - t0 < limit:
        try:
            data = sock.recv(4096)
            if not data:
                return time.monotonic() - t0
            if trickle is None or b"HTTP/1.1" in data:
                return time.monotonic() - t0  # answered (e.g. 408/400): the server ended it
        except socket.timeout:
            pass
        except OSError:
            return time.monotonic() - t0
        if trickle is not None:
            try:
                sock.send(trickle[i % len(trickle):i % len(trickle) + 1])
                i += 1
            except OSError:
                return time.monotonic() - t0
    return None


def raw_socket(t, src=None):
    s = socket.create_connection(("127.0.0.1", t.port), timeout=5,
                                 source_address=(src or t.src(), 0))
    return s


@probe("P.slow-headers", "slowloris: half a request head, then a header byte every second")
def p_slowloris(t, p):
    cases = []
    s = raw_socket(t)
    s.send(b"GET /health HTTP/1.1\r\nHost: localhost\r\n")
    cases.append(("trickled head", closed_within(s, 20, trickle=b"X-Slow: aaaaaaaaaaaaaaaa\r\n")))
    s = raw_socket(t)
    cases.append(("nothing sent", closed_within(s, 20)))
    s = raw_socket(t)
    s.send(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
    time.sleep(0.3)
    s.recv(4096)
    cases.append(("idle keep-alive", closed_within(s, 20)))
    for name, secs in cases:
        p.check(secs is not None, f"{name}: " + (f"closed after {secs:.1f}s" if secs else "still open after 20s"))


@probe("P.slow-body", "slow body: headers of a 1 KB POST, then one body byte a second")
def p_slowbody(t, p):
    for host, path in [("api.localhost", "/webhooks/whatsapp"), ("demo.localhost", "/login"),
                       ("localhost", "/signup")]:
        s = raw_socket(t)
        s.send((f"POST {path} HTTP/1.1\r\nHost: {host}:{t.port}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: 1000\r\n\r\n").encode())
        secs = closed_within(s, 45, trickle=b"{")
        p.check(secs is not None, f"{host}{path}: " + (f"ended after {secs:.1f}s" if secs else
                                                       "still open after 45s of trickling"))
        s.close()


# -------- classes that held before


@probe("H.csrf", "writes without a token, with a wrong Origin, cross-site")
def h_csrf(t, p):
    b = t.signed_in("demo")
    csrf = t.csrf(b, "demo")
    ap = t.ids["approval"]
    cases = [
        ("no token", {}, {}),
        ("wrong token", {"csrf": "0" * 64}, {}),
        ("token, Origin evil", {"csrf": csrf}, {"Origin": "http://evil.com"}),
        ("token, Origin other store", {"csrf": csrf}, {"Origin": f"http://loja-b.localhost:{t.port}"}),
        ("token, Sec-Fetch-Site cross-site", {"csrf": csrf}, {"Sec-Fetch-Site": "cross-site"}),
        ("token, Origin null", {"csrf": csrf}, {"Origin": "null"}),
    ]
    paths = [f"/aprovacoes/{ap}/rejeitar", "/equipe/convidar", "/regras", "/catalogo/importar",
             f"/conversas/{t.ids['conversation']}/responder", "/whatsapp", "/logout", "/conta/senha"]
    for path in paths:
        for name, form, hdr in cases:
            r = b.post("demo.localhost", path, form, headers=hdr)
            if r.status != 403:
                p.check(False, f"{path} {name} → {r.status}")
    p.check(not p.failed, f"{len(paths) * len(cases)} forged writes with a live session → 403")
    for host, path in [("localhost", "/login"), ("localhost", "/signup"), ("demo.localhost", "/login")]:
        r = t.browser().post(host, path, {"email": "a@b.c", "password": "x"})
        p.check(r.status == 403, f"{host}{path} without the double-submit cookie → {r.status}")
    r = t.browser().post("api.localhost", "/admin/jobs/x/requeue", {},
                         headers={"Authorization": f"Bearer {t.admin_token}"})
    p.check(r.status in (403, 404), f"admin requeue without its CSRF token → {r.status}")
    r = b.post("demo.localhost", "/modelos/quote/previa", {"source": "x"}, headers={"X-CSRF-Token": csrf})
    p.check(r.status == 200, f"header token (htmx) accepted → {r.status}")


@probe("H.xss", "script in store name, catalog, customer text and contact name, rendered in pages")
def h_xss(t, p):
    wa = "5511933339999"
    payload = "<script>alert('xss')</script><img src=x onerror=alert(1)>"
    t.webhook(webhook_body([text_message(wa, "quero " + payload)], [(wa, "<svg onload=alert(2)>")]))
    t.graph.wait_for(wa)
    b = t.signed_in("demo")
    csrf = t.csrf(b, "demo")
    b.post("demo.localhost", "/catalogo/itens", {"csrf": csrf, "sku": "XSS1", "name": payload, "unit": "un",
                                                 "price": "1,00", "cost": "0,50", "weight_kg": "1",
                                                 "aliases": payload, "active": "1"})
    b.post("demo.localhost", "/modelos/quote/previa", {"csrf": csrf, "source": payload})
    inbox = b.get("demo.localhost", "/conversas").raw
    conv = ids_in(inbox, "conversas")
    pages = {"inbox": inbox, "catalog": b.get("demo.localhost", "/catalogo").raw,
             "preview": b.post("demo.localhost", "/modelos/quote/previa", {"csrf": csrf, "source": payload}).raw}
    for c in conv[:5]:
        pages[f"conversa {c[:8]}"] = b.get("demo.localhost", f"/conversas/{c}").raw
        pages[f"transcript {c[:8]}"] = b.get("demo.localhost", f"/conversas/{c}/mensagens").raw
    raw = [k for k, v in pages.items() if "<script>alert" in v or "<img src=x" in v or "<svg onload" in v]
    p.check(not raw, f"{len(pages)} pages; raw markup in: {raw or 'none'}")
    p.check(any("&lt;script&gt;" in v or "&lt;svg" in v for v in pages.values()), "payload shown escaped")
    # The store name from the sign-up probe (loja-sinal), on its dashboard and the central login.
    r = t.central_login(t.browser(), "dono@loja-sinal.test", STRONG)
    p.check("<script>alert('loja')" not in r.raw, f"store name escaped on the hand-off page ({r.status})")
    sb = t.browser()
    if t.store_login(sb, "loja-sinal", "dono@loja-sinal.test", STRONG).status == 303:
        page = sb.get("loja-sinal.localhost", "/").raw
        p.check("<script>alert('loja')" not in page and "&lt;script&gt;" in page, "store name escaped in its dashboard")


@probe("H.idor", "another store's quote, approval, conversation, item and user ids")
def h_idor(t, p):
    b = t.signed_in("loja-b", ("dono@b.test", STRONG))
    csrf = t.csrf(b, "loja-b")
    i = t.ids
    gets = [f"/aprovacoes/{i['approval']}", f"/orcamentos/{i['quote']}", f"/conversas/{i['conversation']}",
            f"/conversas/{i['conversation']}/mensagens"]
    posts = [f"/aprovacoes/{i['approval']}/aprovar", f"/aprovacoes/{i['approval']}/rejeitar",
             f"/aprovacoes/{i['approval']}/editar", f"/conversas/{i['conversation']}/assumir",
             f"/conversas/{i['conversation']}/responder", f"/catalogo/{i['item']}/ativo",
             f"/equipe/{i['user']}/papel", f"/equipe/sessoes/{i['user']}/encerrar"]
    n = 0
    for path in gets:
        r = b.get("loja-b.localhost", path)
        n += 1
        p.check(r.status == 404, f"GET {path} → {r.status}")
    for path in posts:
        r = b.post("loja-b.localhost", path, {"csrf": csrf, "text": "oi", "reason": "x", "role": "owner",
                                              "freight": "1,00"})
        n += 1
        p.check(r.status == 404, f"POST {path} → {r.status}")
    # loja-b's session cookie presented to demo's host.
    stolen = Browser(t.port, t.src())
    stolen.cookies("demo.localhost").update(b.cookies("loja-b.localhost"))
    r = stolen.get("demo.localhost", "/aprovacoes")
    p.check(r.status == 303, f"loja-b's session on demo.localhost → {r.status}")
    a = t.signed_in("demo", t.attendant)
    r = a.get("demo.localhost", "/equipe")
    p.check(r.status in (403, 404), f"attendant on owner page /equipe → {r.status}")
    r = a.post("demo.localhost", "/regras", {"csrf": t.csrf(a, "demo")})
    p.check(r.status in (403, 404), f"attendant POST /regras → {r.status}")
    if not p.failed:
        p.notes = [f"{n} cross-store requests → 404; cookie not valid on another store; attendant kept off owner pages"]


@probe("H.session-fixation", "a session id planted before login, logout, old cookies")
def h_fixation(t, p):
    b = t.browser()
    planted = "a" * 64
    b.cookies("demo.localhost")["oz_session"] = planted
    r = t.store_login(b, "demo", *t.attendant)
    new = b.cookies("demo.localhost").get("oz_session")
    p.check(r.status == 303 and new and new != planted, "login issued a new session id")
    evil = Browser(t.port, t.src())
    evil.cookies("demo.localhost")["oz_session"] = planted
    p.check(evil.get("demo.localhost", "/").status == 303, "planted id is not signed in")
    old = dict(b.cookies("demo.localhost"))
    b.post("demo.localhost", "/logout", {"csrf": t.csrf(b, "demo")})
    replay = Browser(t.port, t.src())
    replay.cookies("demo.localhost").update(old)
    p.check(replay.get("demo.localhost", "/").status == 303, "cookie after logout is dead")


@probe("H.headers", "security headers on pages")
def h_headers(t, p):
    b = t.signed_in("demo")
    for host, path in [("demo.localhost", "/"), ("localhost", "/"), ("localhost", "/login"),
                       ("api.localhost", "/admin"), ("evil.com", "/x")]:
        r = b.get(host, path, headers={"Authorization": f"Bearer {t.admin_token}"} if "api" in host else None)
        csp = r.header("content-security-policy") or ""
        ok = (r.header("x-content-type-options") == "nosniff" and "script-src" in csp
              and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
              and ("frame-ancestors 'none'" in csp or r.header("x-frame-options"))
              and r.header("referrer-policy"))
        p.check(bool(ok), f"{host}{path} {r.status}: nosniff={r.header('x-content-type-options')} "
                          f"csp={'yes' if csp else 'no'} xfo={r.header('x-frame-options')}")
    if not p.failed:
        p.notes = [f"{len(p.notes)} responses: nosniff, CSP without inline script, frame-ancestors/XFO, Referrer-Policy"]


@probe("H.webhook-signatures", "missing, wrong, truncated, other-body and sha1 signatures")
def h_sigs(t, p):
    wa = "5511944440000"
    body = webhook_body([text_message(wa, "10 sacos de cimento")], [(wa, "Forjado")])
    good = sign(t.app_secret, body)
    cases = {"missing": None, "wrong": "sha256=" + "0" * 64, "truncated": good[:-2],
             "longer": good + "00", "other body": sign(t.app_secret, body + b" "),
             "sha1": "sha1=" + good[7:47], "no prefix": good[7:],
             "other key": sign("not-the-secret", body), "empty": ""}
    for name, sig in cases.items():
        r = t.webhook(body, signature=sig)
        p.check(r.status == 401, f"{name} → {r.status}")
    time.sleep(2)
    p.check(not t.graph.to(wa), "nothing answered to the forged deliveries")
    # Hex is case-insensitive: an upper-case digest of the right HMAC is a valid signature.
    other = webhook_body([text_message("5511944440001", "oi")], [("5511944440001", "Maiúsculas")])
    r = t.webhook(other, signature="sha256=" + sign(t.app_secret, other)[7:].upper())
    p.note(f"upper-case hex of the right HMAC → {r.status}")
    r = t.browser().get("api.localhost", "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=x&hub.challenge=1")
    p.check(r.status == 403, f"subscription check with a wrong verify token → {r.status}")


def raw_exchange(t, data, wait=3.0):
    s = raw_socket(t)
    s.sendall(data)
    s.settimeout(wait)
    out = b""
    t0 = time.monotonic()
    while time.monotonic() - t0 < wait:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    s.close()
    return out


@probe("H.smuggling", "conflicting Content-Length / Transfer-Encoding")
def h_smuggling(t, p):
    smuggled = b"GET /admin HTTP/1.1\r\nHost: api.localhost\r\nAuthorization: Bearer " + \
        t.admin_token.encode() + b"\r\n\r\n"
    cases = {
        "CL+TE chunked": b"POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + b"GET /secret-x HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "two CL": b"POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nContent-Length: 40\r\n\r\nabcde",
        "TE obfuscated": b"POST /login HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: xchunked\r\n"
                         b"Content-Length: 3\r\n\r\nabc",
        "TE space before colon": b"POST /login HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
        "CL with sign": b"POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Length: +5\r\n\r\nabcde",
        "TE chunked,identity": b"POST /login HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
        "bare LF": b"GET /health HTTP/1.1\nHost: localhost\n\n",
        "header folding": b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-A: b\r\n c\r\n\r\n",
        "smuggled admin via api Host in body": b"POST /webhooks/whatsapp HTTP/1.1\r\nHost: localhost\r\n"
                                               b"Content-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled,
    }
    for name, data in cases.items():
        out = raw_exchange(t, data)
        statuses = re.findall(rb"HTTP/1\.1 (\d{3})", out)
        st = [int(x) for x in statuses]
        if name == "bare LF":
            p.note(f"{name} → {st}")
            continue
        second_ok = len(st) >= 2 and st[1] == 200
        admin_leak = b"<title>" in out and b"Opera" in out and b"admin" in out.lower()
        p.check(not second_ok and not admin_leak and all(s != 500 for s in st),
                f"{name} → {st}")
    p.check(t.server.alive(), "server alive")


@probe("P.forwarded-proto", "X-Forwarded-Proto: https never switches HTTPS mode (ORCAZAP_HTTPS=false)")
def p_forwarded_proto(t, p):
    for src, who in [(None, "a client"), (PROXY_ADDR, "the trusted proxy")]:
        b = Browser(t.port, src or t.src())
        page = b.get("demo.localhost", "/login", headers={"X-Forwarded-Proto": "https"})
        r = b.post("demo.localhost", "/login", {"csrf": hidden(page.text) or "", "email": t.attendant[0],
                                                "password": t.attendant[1]},
                   headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.50"})
        cookies = r.all("set-cookie")
        p.check(r.status == 303 and not any("Secure" in c for c in cookies)
                and r.header("strict-transport-security") is None,
                f"from {who}: {r.status}, Secure cookie {any('Secure' in c for c in cookies)}, "
                f"HSTS {r.header('strict-transport-security')}")
        session = [c for c in cookies if c.startswith("oz_session=")]
        p.check(bool(session) and "HttpOnly" in session[0] and "SameSite=Lax" in session[0]
                and "Domain" not in session[0], f"session cookie flags: {session[0].split(';', 1)[1] if session else None}")


@probe("P.webhook-size", "webhook bodies over the limit, signed")
def p_webhook_size(t, p):
    body = webhook_body([text_message("5511955550000", "x" * (300 * 1024))], [("5511955550000", "Grande")])
    r = t.webhook(body)
    p.check(r.status == 413, f"{len(body) // 1024} KiB signed delivery → {r.status}")


@probe("P.systemd-restarts", "the hardened units restart forever (no start limit)")
def p_systemd(t, p):
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy", "systemd")
    for unit in ("orcazap-web.service", "orcazap-worker.service"):
        text = open(os.path.join(root, unit)).read()
        p.check("StartLimitIntervalSec=0" in text and re.search(r"^Restart=always$", text, re.M),
                f"{unit}: StartLimitIntervalSec=0, Restart=always")


@probe("Z.server-log", "no panic, abort or stack overflow in the server's log after every probe")
def z_log(t, p):
    log = t.server.output()
    bad = [w for w in ("panicked", "stack overflow", "SIGSEGV", "SIGABRT", "fatal runtime error") if w in log]
    p.check(not bad and t.server.alive(), f"{len(log.splitlines())} log lines; found: {bad or 'nothing'}")


# ---------------------------------------------------------------- the demo


def demo_probes(args):
    engine = "demo"
    wd = tempdir("orcazap-attack-demo-")
    port = free_port()
    env = base_env()
    env.update({"ORCAZAP_LISTEN": f"127.0.0.1:{port}", "ORCAZAP_LOG": "warn"})
    s = Server(args.bin, env, wd, "demo")
    try:
        s.start(port, args=("demo",), wait_host="localhost")
        out = ""
        for _ in range(50):
            out = s.output()
            if "senha:" in out:
                break
            time.sleep(0.1)

        p = Probe(engine, "P.demo-simulator-hosts", "simulator on other hosts")
        for host, want in [("localhost", 200), ("www.localhost", 404), ("api.localhost", 404),
                           ("demo.localhost", 404), ("127.0.0.1", 404), ("evil.com", 404), ("[::1]", 404)]:
            r = Browser(port).get(host, "/simulator")
            p.check(r.status == want, f"{host}/simulator → {r.status}")
            r = Browser(port).request("POST", host, "/simulator/send", body=json.dumps(
                {"phone": "5511900001111", "text": "oi"}), headers={"Content-Type": "application/json"})
            p.check(r.status == (200 if want == 200 else 404), f"{host}/simulator/send → {r.status}")
        report(p)

        p = Probe(engine, "P.demo-simulator-messages", "/simulator/messages for other numbers")
        me, victim = "5511900002222", "5511900003333"
        vb = Browser(port)
        vb.request("POST", "localhost", "/simulator/send", body=json.dumps(
            {"phone": victim, "text": "10 sacos de cimento, entrega no Grajaú, pix"}),
            headers={"Content-Type": "application/json"})

        def replies(r):
            try:
                return [(m.get("id"), m.get("body", "")) for m in json.loads(r.text).get("messages", [])]
            except ValueError:
                return []

        deadline = time.time() + 30
        seen = []
        while time.time() < deadline and not seen:
            seen = replies(vb.get("localhost", f"/simulator/messages?phone={victim}"))
            time.sleep(0.5)
        p.check(bool(seen), f"the victim sees the bot's reply (sanity): {[b for _, b in seen[:1]]}")
        att = Browser(port)
        att.request("POST", "localhost", "/simulator/send", body=json.dumps({"phone": me, "text": "oi"}),
                    headers={"Content-Type": "application/json"})
        forged = Browser(port)
        forged.cookies("localhost")["oz_sim"] = f"{victim}.0.{'0' * 64}"
        # Writing as the victim's number starts a view from now: none of the earlier replies.
        late = Browser(port)
        late.request("POST", "localhost", "/simulator/send", body=json.dumps({"phone": victim, "text": "oi"}),
                     headers={"Content-Type": "application/json"})
        for name, b in [("no cookie", Browser(port)), ("own cookie, other number", att),
                        ("forged cookie", forged), ("new view as the victim's number", late)]:
            r = b.get("localhost", f"/simulator/messages?phone={victim}")
            leaked = [m for m in replies(r) if m in seen]
            p.check(not leaked, f"{name} → {r.status}, {len(leaked)} of the victim's replies")
        r = Browser(port).request("POST", "localhost", "/simulator/send", body="phone=5511900004444&text=oi",
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})
        p.check(r.status in (403, 415), f"simulator send as a cross-site form → {r.status}")
        report(p)

        p = Probe(engine, "P.dev-key-file", "development key file permissions")
        key = os.path.join(wd, "orcazap-dev-secret.key")
        mode = stat.S_IMODE(os.stat(key).st_mode) if os.path.exists(key) else None
        p.check(mode == 0o600, f"demo's new key file mode {oct(mode) if mode is not None else 'missing'}")
        wd2 = tempdir("orcazap-attack-key-")
        k2 = os.path.join(wd2, "orcazap-dev-secret.key")
        with open(k2, "w") as f:
            f.write(random_hex(32))
        os.chmod(k2, 0o644)
        env2 = base_env()
        env2["ORCAZAP_DATABASE_URL"] = f"sqlite://{wd2}/k.db"
        Server(args.bin, env2, wd2, "key").cli(["migrate", "up"], check=False)
        mode2 = stat.S_IMODE(os.stat(k2).st_mode)
        p.check(mode2 == 0o600, f"an existing 0644 key file → {oct(mode2)}")
        report(p)

        p = Probe(engine, "P.demo-surfaces", "demo: dashboard login, admin and hosts")
        logins = dict(re.findall(r"^\s+(\S+@\S+)\s+senha: (\S.*)$", s.output(), re.M))
        b = Browser(port)
        page = b.get("demo.localhost", "/login")
        r = b.post("demo.localhost", "/login", {"csrf": hidden(page.text) or "",
                                                "email": "dono@demo.orcazap.test",
                                                "password": logins.get("dono@demo.orcazap.test", "")})
        p.check(r.status == 303, f"owner logs in with the printed password → {r.status}")
        r = Browser(port).get("api.localhost", "/admin")
        p.check(r.status == 404, f"/admin without ORCAZAP_ADMIN_TOKEN → {r.status}")
        r = Browser(port).get("evil.com", "/login")
        p.check(r.status == 404, f"evil.com/login → {r.status}")
        r = Browser(port).request("POST", "evil.com", "/_fake_graph/v25.0/1/messages", body="{}")
        p.check(r.status == 404, f"fake Graph on evil.com → {r.status}")
        report(p)
    except Exception as e:  # noqa: BLE001
        p = Probe(engine, "demo", "the demo run")
        report(p, crashed=f"{e!r}\n{traceback.format_exc()}")
    finally:
        s.stop()


# ---------------------------------------------------------------- main


def run_engine(engine, args, graph):
    t = Target(engine, args, graph)
    try:
        t.setup()
    except Exception as e:  # noqa: BLE001
        p = Probe(engine, "setup", "server setup")
        report(p, crashed=repr(e))
        t.teardown()
        return
    try:
        for pid, title, f in PROBES:
            if args.only and not re.search(args.only, pid) and not pid.startswith("fixture"):
                continue
            p = Probe(engine, pid, title)
            crashed = None
            try:
                f(t, p)
            except Exception as e:  # noqa: BLE001
                crashed = f"{e!r} at {traceback.extract_tb(e.__traceback__)[-1].lineno}"
            if t.restart_if_dead():
                crashed = (crashed or "") + " server process DIED (restarted)"
            report(p, crashed)
    finally:
        if args.keep:
            print(f"[{engine}] kept {t.workdir}")
        t.teardown()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="target/debug/orcazap", help="the orcazap binary")
    ap.add_argument("--engines", default="sqlite,postgres,demo",
                    help="comma-separated: sqlite, postgres, demo")
    ap.add_argument("--pg-url", default=os.environ.get("ORCAZAP_ATTACK_POSTGRES_URL",
                                                       "postgres://postgres@127.0.0.1:5432/postgres"),
                    help="PostgreSQL server where a scratch database is created and dropped")
    ap.add_argument("--only", help="regex: run only matching probe ids")
    ap.add_argument("--keep", action="store_true", help="keep working directories and logs")
    args = ap.parse_args()
    if not os.path.exists(args.bin):
        sys.exit(f"{args.bin} not found: build it with `cargo build -p orcazap`")
    args.bin = os.path.abspath(args.bin)
    graph = GraphMock()
    try:
        for engine in args.engines.split(","):
            if engine == "demo":
                if not args.only or re.search(args.only, "P.demo-simulator P.dev-key-file"):
                    demo_probes(args)
            else:
                run_engine(engine, args, graph)
    finally:
        graph.close()
    held = sum(1 for r in RESULTS if r[2])
    failed = [r for r in RESULTS if not r[2]]
    print()
    for e, pid, _, obs in failed:
        print(f"FAILED {e} {pid}: {obs}")
    print(f"{len(RESULTS)} probes, {held} held, {len(failed)} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
