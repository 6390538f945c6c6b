#!/usr/bin/env python3
"""OrçaZap webhook benchmark: ingest throughput/latency and end-to-end reply latency.

Runs a RELEASE `orcazap serve` against a fresh database per scenario and drives it with
`loadgen` (crates/loadgen). Prints markdown tables of the median of --runs runs and writes
the raw results as JSON. Stdlib only; see bench/README.md.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import http.client

APP_SECRET = "bench-app-secret"
SECRET_KEY = "bench-secret-key-0123456789abcdef0123"


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Database:
    """A fresh SQLite file or PostgreSQL database, removed by close()."""

    def __init__(self, engine, pg_admin_url, workdir, label):
        self.engine = engine
        self.pg_admin_url = pg_admin_url
        if engine == "sqlite":
            self.url = f"sqlite://{workdir}/{label}.db"
            self.name = None
        else:
            self.name = f"orcazap_bench_{label}_{os.getpid()}"
            u = urllib.parse.urlsplit(pg_admin_url)
            self.url = urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + self.name, u.query, ""))
            self.psql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            self.psql(f'CREATE DATABASE "{self.name}"')

    def psql(self, sql):
        subprocess.run(["psql", self.pg_admin_url, "-v", "ON_ERROR_STOP=1", "-qc", sql],
                       check=True, capture_output=True, timeout=120)

    def close(self):
        if self.name:
            self.psql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class Orcazap:
    def __init__(self, binary, db_url, graph_port, workdir, label):
        self.binary = binary
        self.port = free_port()
        self.workdir = workdir
        self.label = label
        self.proc = None
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("ORCAZAP_")}
        self.env.update({
            "ORCAZAP_DATABASE_URL": db_url,
            "ORCAZAP_LISTEN": f"127.0.0.1:{self.port}",
            "ORCAZAP_WHATSAPP_APP_SECRET": APP_SECRET,
            "ORCAZAP_WHATSAPP_API_BASE": f"http://127.0.0.1:{graph_port}",
            "ORCAZAP_SECRET_KEY": SECRET_KEY,
        })
        for k in ("ORCAZAP_LOG", "ORCAZAP_DB_MAX_CONNECTIONS", "ORCAZAP_WORKER_CONCURRENCY",
                  "ORCAZAP_SQLITE_SYNCHRONOUS", "ORCAZAP_LOG_FORMAT"):
            if k in os.environ:
                self.env[k] = os.environ[k]

    def cli(self, args, stdin=None):
        subprocess.run([self.binary] + args, env=self.env, input=stdin, text=True,
                       check=True, capture_output=True, timeout=300)

    def prepare(self):
        self.cli(["migrate", "up"])
        self.cli(["seed", "--demo"])
        self.cli(["channel", "token", "--store", "demo"], stdin="bench-token\n")

    def start(self, extra):
        logf = open(os.path.join(self.workdir, f"serve-{self.label}.log"), "w")
        self.proc = subprocess.Popen([self.binary, "serve"] + extra, env=self.env,
                                     stdout=logf, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"orcazap exited; see {logf.name}")
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("orcazap did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def loadgen(args, mode_args):
    out = subprocess.run([args.loadgen] + mode_args + ["--secret", APP_SECRET, "--json"],
                         capture_output=True, text=True, timeout=600)
    if out.returncode not in (0, 2):
        raise RuntimeError(f"loadgen failed: {out.stderr}")
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def median_by(rows, key, fields):
    groups = {}
    for r in rows:
        groups.setdefault(r[key], []).append(r)
    return {k: {f: statistics.median(x[f] for x in v) for f in fields} | {"runs": len(v)}
            for k, v in sorted(groups.items())}


def bench_engine(args, engine, workdir, results, run_counter):
    conns = args.connections
    for mode, extra in (("web-only", ["--web-only"]), ("web+worker", [])):
        if mode not in args.modes:
            continue
        label = f"{engine}_{mode.replace('+', '_').replace('-', '_')}"
        db = Database(engine, args.pg_url, workdir, label)
        graph_port = free_port()
        mock = None
        srv = Orcazap(args.bin, db.url, graph_port, workdir, label)
        try:
            srv.prepare()
            if mode == "web+worker":
                mock = subprocess.Popen([args.loadgen, "graph-mock", "--listen",
                                         f"127.0.0.1:{graph_port}"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            srv.start(extra)
            for run in range(args.runs):
                run_counter[0] += 1
                log(f"{engine} {mode} ingest run {run + 1}/{args.runs}")
                rows = loadgen(args, ["ingest", "--url", f"http://127.0.0.1:{srv.port}",
                                      "--connections", ",".join(map(str, conns)),
                                      "--duration", str(args.duration),
                                      "--run-id", str(run_counter[0])])
                for r in rows:
                    r.update(engine=engine, roles=mode, run=run + 1)
                    results.append(r)
                    log(f"  c={r['connections']} {r['rps']:.0f} req/s p50 {r['p50_ms']:.2f} "
                        f"p99 {r['p99_ms']:.2f} errors {r['errors']}")
        finally:
            srv.stop()
            if mock:
                mock.send_signal(signal.SIGINT)
                mock.wait()
            db.close()
    if "e2e" in args.modes:
        label = f"{engine}_e2e"
        db = Database(engine, args.pg_url, workdir, label)
        graph_port = free_port()
        srv = Orcazap(args.bin, db.url, graph_port, workdir, label)
        try:
            srv.prepare()
            srv.start([])
            for run in range(args.runs):
                run_counter[0] += 1
                log(f"{engine} e2e run {run + 1}/{args.runs}")
                rows = loadgen(args, ["e2e", "--url", f"http://127.0.0.1:{srv.port}",
                                      "--rate", str(args.rate),
                                      "--duration", str(args.e2e_duration),
                                      "--graph-listen", f"127.0.0.1:{graph_port}",
                                      "--run-id", str(run_counter[0])])
                for r in rows:
                    r.update(engine=engine, run=run + 1)
                    results.append(r)
                    log(f"  sent {r['sent']} answered {r['answered']} lost {r['lost']} "
                        f"dup {r['duplicated']} p50 {r['p50_ms']:.1f} p95 {r['p95_ms']:.1f} "
                        f"p99 {r['p99_ms']:.1f}")
        finally:
            srv.stop()
            db.close()


def tables(results):
    out = []
    ingest = [r for r in results if r["mode"] == "ingest"]
    if ingest:
        out.append("### Webhook ingest (median of runs)\n")
        out.append("| engine | roles | connections | req/s | p50 ms | p99 ms | errors | runs |")
        out.append("|---|---|---:|---:|---:|---:|---:|---:|")
        keys = sorted({(r["engine"], r["roles"]) for r in ingest}, key=lambda k: (k[0], k[1] != "web-only"))
        for engine, roles in keys:
            rows = [r for r in ingest if r["engine"] == engine and r["roles"] == roles]
            for c, m in median_by(rows, "connections", ["rps", "p50_ms", "p99_ms", "errors"]).items():
                out.append(f"| {engine} | {roles} | {c} | {m['rps']:.0f} | {m['p50_ms']:.2f} | "
                           f"{m['p99_ms']:.2f} | {m['errors']:.0f} | {m['runs']} |")
        out.append("")
    e2e = [r for r in results if r["mode"] == "e2e"]
    if e2e:
        out.append("### End to end, webhook → reply at the Graph mock (median of runs)\n")
        out.append("| engine | rate msg/s | sent | lost | duplicated | p50 ms | p95 ms | p99 ms | max ms | runs |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for engine, m in median_by(e2e, "engine", ["rate", "sent", "lost", "duplicated", "p50_ms",
                                                    "p95_ms", "p99_ms", "max_ms"]).items():
            out.append(f"| {engine} | {m['rate']:.0f} | {m['sent']:.0f} | {m['lost']:.0f} | "
                       f"{m['duplicated']:.0f} | {m['p50_ms']:.1f} | {m['p95_ms']:.1f} | "
                       f"{m['p99_ms']:.1f} | {m['max_ms']:.1f} | {m['runs']} |")
        out.append("")
    return "\n".join(out)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--bin", default="target/release/orcazap")
    p.add_argument("--loadgen", default="target/release/loadgen")
    p.add_argument("--engines", default="sqlite,postgres")
    p.add_argument("--modes", default="web-only,web+worker,e2e")
    p.add_argument("--pg-url", default=os.environ.get("ORCAZAP_TEST_POSTGRES_URL",
                                                       "postgres://postgres@127.0.0.1/postgres"))
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--connections", type=lambda s: [int(x) for x in s.split(",")],
                   default=[1, 8, 32])
    p.add_argument("--duration", type=float, default=10)
    p.add_argument("--rate", type=float, default=50)
    p.add_argument("--e2e-duration", type=float, default=20)
    p.add_argument("--out", default=None, help="raw results JSON (default bench/results/<time>.json)")
    args = p.parse_args()
    args.modes = args.modes.split(",")
    for b in (args.bin, args.loadgen):
        if not os.access(b, os.X_OK):
            sys.exit(f"{b} missing: cargo build --release -p orcazap -p loadgen")
    workdir = tempfile.mkdtemp(prefix="orcazap-bench-")
    results = []
    counter = [0]
    try:
        for engine in args.engines.split(","):
            bench_engine(args, engine, workdir, results, counter)
    finally:
        out = args.out or os.path.join("bench", "results",
                                       time.strftime("%Y%m%dT%H%M%S") + ".json")
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out, "w") as f:
            json.dump({"machine": machine(), "results": results}, f, indent=1)
        log(f"raw results in {out}; server logs in {workdir}")
    print(tables(results))


def machine():
    info = {"nproc": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
        info["loadavg_at_end"] = open("/proc/loadavg").read().split()[:3]
    except OSError:
        pass
    return info


if __name__ == "__main__":
    main()
