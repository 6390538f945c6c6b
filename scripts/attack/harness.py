"""Plumbing for the black-box attack run: an HTTP client with one cookie jar per browser and a
chosen source address, a fake Graph API, the server under test and scratch databases.

Stdlib only. The client talks to 127.0.0.1:PORT and names the site in the Host header (as a
browser behind DNS would), so no name resolution of `*.localhost` is needed. Loopback answers on
all of 127.0.0.0/8, so each probe can come from its own address (127.0.0.N): one probe's
throttling never leaks into another's, and 127.0.0.2 plays the trusted reverse proxy.
"""

import hashlib
import html
import hmac
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PHONE_NUMBER_ID = "100000000000001"  # the demo store's channel (seed --demo)
DISPLAY_NUMBER = "5511933334444"
PROXY_ADDR = "127.0.0.2"  # listed in ORCAZAP_TRUSTED_PROXIES


def random_hex(n=32):
    return secrets.token_hex(n)


# ---------------------------------------------------------------- HTTP client


class Resp:
    def __init__(self, status, headers, body, elapsed):
        self.status = status
        self.headers = headers  # list of (name, value)
        self.body = body
        self.elapsed = elapsed

    @property
    def text(self):
        """The body, HTML entities decoded (the pages escape `/` as `&#x2f;`)."""
        return html.unescape(self.raw)

    @property
    def raw(self):
        """The body as sent (for checks of escaping)."""
        return self.body.decode("utf-8", "replace")

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    def __repr__(self):
        return f"<{self.status} {self.header('location') or ''} {self.text[:120]!r}>"


class Browser:
    """One browser: host-only cookies per host name, a source address, no redirects followed
    unless asked. `port` is the server's; `host` is what goes in the Host header."""

    def __init__(self, port, src="127.0.0.1", user_agent="attack-probe/1"):
        self.port = port
        self.src = src
        self.jar = {}  # host (no port) -> {name: value}
        self.ua = user_agent

    def cookies(self, host):
        return self.jar.setdefault(host.split(":")[0], {})

    def request(self, method, host, path, form=None, body=None, headers=None, follow=False,
                src=None, timeout=60, cookies=True, with_port=True):
        hdrs = {"User-Agent": self.ua}
        hostname = host.split(":")[0]
        hdrs["Host"] = f"{host}:{self.port}" if with_port and ":" not in host else host
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        if isinstance(body, str):
            body = body.encode()
        jar = self.cookies(hostname)
        if cookies and jar:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
        hdrs.update(headers or {})
        hdrs = {k: v for k, v in hdrs.items() if v is not None}
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout,
                                          source_address=(src or self.src, 0))
        t0 = time.monotonic()
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for k, v in hdrs.items():
                conn.putheader(k, v)
            if body is not None:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            r = conn.getresponse()
            data = r.read()
            resp = Resp(r.status, r.getheaders(), data, time.monotonic() - t0)
        finally:
            conn.close()
        if cookies:
            for line in resp.all("set-cookie"):
                name, _, rest = line.partition("=")
                value = rest.split(";")[0]
                if re.search(r"max-age=0\b", line, re.I) or value == "":
                    jar.pop(name.strip(), None)
                else:
                    jar[name.strip()] = value
        if follow and resp.status in (301, 302, 303, 307, 308):
            loc = resp.header("location")
            u = urllib.parse.urlsplit(loc)
            nhost = u.hostname or hostname
            npath = (u.path or "/") + (f"?{u.query}" if u.query else "")
            return self.request("GET", nhost, npath, follow=True, src=src, timeout=timeout)
        return resp

    def get(self, host, path, **kw):
        return self.request("GET", host, path, **kw)

    def post(self, host, path, form=None, **kw):
        return self.request("POST", host, path, form=form if form is not None else {}, **kw)


def hidden(html, name="csrf"):
    m = re.search(r'name="%s"\s+value="([^"]*)"' % re.escape(name), html)
    return m.group(1) if m else None


def meta_csrf(html):
    m = re.search(r'name="csrf-token"\s+content="([^"]*)"', html)
    return m.group(1) if m else hidden(html)


# ---------------------------------------------------------------- fake Graph API


class GraphMock:
    """Answers POST /{version}/{phone_number_id}/messages like Meta and records each send."""

    def __init__(self):
        self.sends = []  # (to, body text)
        self.lock = threading.Lock()
        mock = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n)
                try:
                    msg = json.loads(raw)
                except ValueError:
                    msg = {}
                if msg.get("status") == "read":
                    # The worker's read receipt (with typing indicator): not a reply.
                    data = json.dumps({"success": True}).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                to = str(msg.get("to", ""))
                body = (msg.get("text") or {}).get("body") or \
                    ((msg.get("interactive") or {}).get("body") or {}).get("text", "")
                with mock.lock:
                    mock.sends.append((to, body))
                    k = len(mock.sends)
                data = json.dumps({"messaging_product": "whatsapp",
                                   "contacts": [{"input": to, "wa_id": to}],
                                   "messages": [{"id": f"wamid.attack{k:08d}"}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def to(self, number):
        with self.lock:
            return [b for t, b in self.sends if t == number]

    def all(self):
        with self.lock:
            return list(self.sends)

    def wait_for(self, number, count=1, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.to(number)) >= count:
                return self.to(number)
            time.sleep(0.2)
        return self.to(number)

    def close(self):
        self.server.shutdown()


# ---------------------------------------------------------------- webhooks


def text_message(wa_id, text, name=None, wamid=None):
    return {"from": wa_id, "id": wamid or f"wamid.ATK{secrets.token_hex(8)}",
            "timestamp": str(int(time.time())), "type": "text", "text": {"body": text}}


def webhook_body(messages, contacts):
    return json.dumps({
        "object": "whatsapp_business_account",
        "entry": [{"id": "200000000000002", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": PHONE_NUMBER_ID},
            "contacts": [{"profile": {"name": n}, "wa_id": w} for w, n in contacts],
            "messages": messages}}]}],
    }, ensure_ascii=False).encode()


def sign(secret, body):
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# ---------------------------------------------------------------- processes


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    """`orcazap serve` (or `demo`) with a given environment, in its own working directory."""

    def __init__(self, binary, env, workdir, name):
        self.binary = binary
        self.env = env
        self.workdir = workdir
        self.name = name
        self.proc = None
        self.log_path = os.path.join(workdir, f"{name}.log")

    def cli(self, args, stdin=None, check=True, env=None):
        r = subprocess.run([self.binary] + args, env=env or self.env, input=stdin, text=True,
                           capture_output=True, timeout=300, cwd=self.workdir)
        if check and r.returncode != 0:
            raise RuntimeError(f"orcazap {' '.join(args)} failed:\n{r.stdout}\n{r.stderr}")
        return r

    def start(self, port, args=("serve",), wait_host="api.localhost"):
        logf = open(self.log_path, "w")
        self.proc = subprocess.Popen([self.binary, *args], env=self.env, stdout=logf,
                                     stderr=subprocess.STDOUT, cwd=self.workdir)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"orcazap {' '.join(args)} exited with {self.proc.returncode}; "
                                   f"see {self.log_path}:\n{open(self.log_path).read()[-3000:]}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                conn.request("GET", "/health", headers={"Host": wait_host})
                ok = conn.getresponse().status == 200
                conn.close()
                if ok:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"orcazap {' '.join(args)} not healthy in 60 s; see {self.log_path}")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def output(self):
        try:
            return open(self.log_path, errors="replace").read()
        except OSError:
            return ""

    def stop(self):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class PgScratch:
    """A fresh database on the PostgreSQL server of `admin_url`, dropped afterwards."""

    def __init__(self, admin_url):
        self.admin_url = admin_url
        self.name = f"orcazap_attack_{os.getpid()}_{int(time.time())}"
        u = urllib.parse.urlsplit(admin_url)
        self.url = urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + self.name, u.query, ""))

    def psql(self, sql):
        if shutil.which("psql") is None:
            raise RuntimeError("psql is needed to create the scratch PostgreSQL database")
        subprocess.run(["psql", self.admin_url, "-v", "ON_ERROR_STOP=1", "-qc", sql],
                       check=True, capture_output=True, timeout=60)

    def create(self):
        self.psql(f'CREATE DATABASE "{self.name}"')
        return self.url

    def drop(self):
        try:
            self.psql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        except (subprocess.CalledProcessError, RuntimeError) as e:
            print(f"warning: could not drop {self.name}: {e}")


def base_env():
    """The caller's environment without any ORCAZAP_ setting (the run decides them all)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("ORCAZAP_")}


def tempdir(prefix):
    return tempfile.mkdtemp(prefix=prefix)
