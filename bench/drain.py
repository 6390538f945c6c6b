#!/usr/bin/env python3
"""OrçaZap drain benchmark: how fast workers empty a backlog of complete orders.

Per engine and per N: fresh database, `orcazap serve --web-only` receives N complete orders
(one new contact each, nothing answers them yet), then `loadgen drain` starts the worker
command(s) and times until every customer got the quote at loadgen's mock Graph API. Prints the
overall rate, the per-500 rate curve and the worker's peak RSS; raw JSON in bench/results/.
Stdlib only; see bench/README.md.

  python3 bench/drain.py --engines postgres,sqlite --orders 300,2000,6000 --runs 1
  python3 bench/drain.py --engines postgres --orders 2000 --workers 1,2 --runs 3   # scale-out:
                                                                          # 1 vs 2 processes, alternating
  python3 bench/drain.py --engines postgres --orders 5000 --probe       # fairness: another store
                                                                          # writes during the drain
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import re
import tempfile
import threading
import time
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import APP_SECRET, Database, Orcazap, free_port, log, machine  # noqa: E402

# A complete order of the demo store (the README's example): two catalog items, a bairro with a
# freight rule, the payment method and the day, so one message yields a quote sent at once
# (R$ 661,05). The previous text lacked the day and was answered with a question.
ORDER = ("bom dia, preciso de 10 sacos de cimento e 2 metros de areia média, "
         "entrega amanhã no Grajaú, pago no pix")


PROBE_PHONE_NUMBER_ID = "100000000000009"


def sql(db, statement):
    if db.name:
        subprocess.run(["psql", db.url, "-v", "ON_ERROR_STOP=1", "-qc", statement],
                       check=True, capture_output=True, timeout=60)
    else:
        subprocess.run(["sqlite3", db.url.removeprefix("sqlite://"), statement],
                       check=True, capture_output=True, timeout=60)


def add_probe_store(srv, db):
    """A second store with its own WhatsApp number, for the fairness probe."""
    srv.cli(["store", "create", "--slug", "vizinha", "--name", "Loja Vizinha",
             "--owner-email", "dono@vizinha.orcazap.test"], stdin="")
    sql(db, "INSERT INTO channels (id, tenant_id, phone_number_id, waba_id, display_number, "
            f"created_at, updated_at) SELECT '{uuid.uuid4()}', id, '{PROBE_PHONE_NUMBER_ID}', "
            "'200000000000009', '5511900000009', 0, 0 FROM tenants WHERE slug = 'vizinha'")
    srv.cli(["channel", "token", "--store", "vizinha"], stdin="bench-token\n")


def worker_cmd(args, workdir, label, workers):
    """The shell command starting the workers, and their metrics ports."""
    logs = [os.path.join(workdir, f"worker-{label}-{i}.log") for i in range(workers)]
    ports = [free_port() for _ in logs]
    # Each worker serves /health and /metrics on its own port (ORCAZAP_LISTEN).
    run = [f"ORCAZAP_LISTEN=127.0.0.1:{port} {args.bin} worker >>{log_} 2>&1"
           for port, log_ in zip(ports, logs)]
    if workers == 1:
        return f"exec env {run[0]}", ports
    # Several processes: the shell waits for all of them and passes SIGTERM on. Their pids
    # are kept by hand: `jobs -p` is empty in a non-interactive dash, which left the workers
    # running after the benchmark.
    starts = " ".join(f"env {r} & P{i}=$!;" for i, r in enumerate(run))
    pids = " ".join(f"$P{i}" for i in range(len(run)))
    return f"{starts} trap 'kill {pids}' TERM; wait", ports


PHASES = ("orcazap_job_duration_seconds", "orcazap_graph_request_duration_seconds",
          "orcazap_db_acquire_wait_seconds")


def scrape_phases(ports, stop, last, on_first=None):
    """Every 0.5 s, each worker's /metrics: the _sum and _count of the phase histograms (per
    job kind), kept from the last scrape before the worker stops. `on_first` runs once, when a
    worker first answers (the worker is up: the queue is filled)."""
    while not stop.is_set():
        totals = {}
        for port in ports:
            try:
                text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
            except OSError:
                continue
            if on_first:
                on_first()
                on_first = None
            for line in text.splitlines():
                m = re.match(r'(orcazap_[a-z_]+)_(sum|count)(?:\{(.*)\})? ([0-9.e+-]+)$', line)
                if m and m.group(1) in PHASES:
                    kind = re.search(r'kind="([^"]+)"', m.group(3) or "")
                    key = m.group(1).removeprefix("orcazap_") + (f"[{kind.group(1)}]" if kind else "")
                    totals.setdefault(key, [0.0, 0.0])[m.group(2) == "count"] += float(m.group(4))
        if totals:
            last.clear()
            last.update(totals)
        stop.wait(0.5)


def phase_summary(last):
    """{phase: {"count": n, "mean_ms": …, "total_s": …}} for the phases that ran."""
    return {k: {"count": int(c), "mean_ms": round(1000 * s / c, 2), "total_s": round(s, 2)}
            for k, (s, c) in sorted(last.items()) if c}


def reset_statements(db):
    """Zeroes pg_stat_statements (the cluster must preload it; see bench/README.md): what it
    counts from here on is the worker's drain, not the webhooks that filled the queue."""
    subprocess.run(["psql", db.pg_admin_url, "-qAtc", "SELECT pg_stat_statements_reset()"],
                   check=True, capture_output=True, timeout=60)


def statements(db, quotes):
    """The drain's statements in this run's database, most total time first: calls per quote,
    mean execution and planning ms, rows per call."""
    q = ("SELECT s.calls, s.total_exec_time, s.total_plan_time, s.plans, s.rows, "
         "regexp_replace(left(s.query, 160), '\\s+', ' ', 'g') FROM pg_stat_statements s "
         f"JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = '{db.name}' "
         "ORDER BY s.total_exec_time + s.total_plan_time DESC")
    out = subprocess.run(["psql", db.pg_admin_url, "-qAt", "-F", "\t", "-c", q], check=True,
                         capture_output=True, text=True, timeout=60).stdout
    rows = []
    for line in out.splitlines():
        calls, exec_ms, plan_ms, plans, nrows, query = line.split("\t", 5)
        calls = int(calls)
        rows.append({"per_quote": round(calls / max(quotes, 1), 2), "calls": calls,
                     "exec_ms": round(float(exec_ms) / max(calls, 1), 3),
                     "plan_ms": round(float(plan_ms) / max(int(plans), 1), 3) if int(plans) else 0,
                     "plans": int(plans), "rows": round(int(nrows) / max(calls, 1), 2),
                     "query": query})
    return rows


def drain_once(args, engine, orders, run, workdir, workers):
    label = f"{engine}_drain_{orders}_{run}_{workers}"
    db = Database(engine, args.pg_url, workdir, label)
    graph_port = free_port()
    srv = Orcazap(args.bin, db.url, graph_port, workdir, label)
    try:
        srv.prepare()
        probe = []
        if args.probe:
            add_probe_store(srv, db)
            probe = ["--probe-phone-number-id", PROBE_PHONE_NUMBER_ID,
                     "--probe-count", str(args.probe_count), "--probe-every-ms", "500"]
        srv.start(["--web-only"])
        env = dict(srv.env)
        cmd, ports = worker_cmd(args, workdir, label, workers)
        stop, last = threading.Event(), {}
        on_first = (lambda: reset_statements(db)) if args.statements and db.name else None
        scraper = threading.Thread(target=scrape_phases, args=(ports, stop, last, on_first),
                                   daemon=True)
        scraper.start()
        out = subprocess.run(
            [args.loadgen, "drain", "--url", f"http://127.0.0.1:{srv.port}",
             "--orders", str(orders), "--graph-listen", f"127.0.0.1:{graph_port}",
             "--order", args.text, "--quote-marker", args.quote_marker, "--worker-cmd", cmd,
             "--secret", APP_SECRET, "--json", "--timeout", str(args.timeout)] + probe,
            capture_output=True, text=True, timeout=args.timeout + 600, env=env)
        rows = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
        if not rows:
            raise RuntimeError(f"loadgen drain failed: {out.stderr}")
        stop.set()
        scraper.join()
        r = rows[0]
        r.update(engine=engine, run=run, workers=workers, phases=phase_summary(last))
        if args.statements and db.name:
            r["statements"] = statements(db, r["answered"])
        return r
    finally:
        srv.stop()
        db.close()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", default="target/release/orcazap")
    p.add_argument("--loadgen", default="target/release/loadgen")
    p.add_argument("--engines", default="postgres,sqlite")
    p.add_argument("--orders", default="300,2000,6000")
    p.add_argument("--workers", default="1",
                   help="worker processes started together; a list (1,2) compares scale-out")
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("--probe", action="store_true",
                   help="a second store's customers write during the drain (every 0.5 s)")
    p.add_argument("--probe-count", type=int, default=20)
    p.add_argument("--text", default=ORDER)
    p.add_argument("--quote-marker", default="Total",
                   help="a reply counts when its text contains this ('' = the first reply)")
    p.add_argument("--timeout", type=float, default=900)
    p.add_argument("--pg-url", default=os.environ.get("ORCAZAP_TEST_POSTGRES_URL",
                                                       "postgres://postgres@127.0.0.1/postgres"))
    p.add_argument("--statements", action="store_true",
                   help="PostgreSQL with pg_stat_statements preloaded: per-statement calls per "
                        "quote and mean ms during the drain (reset when the worker is up)")
    p.add_argument("--out", default=None)
    args = p.parse_args()
    workdir = tempfile.mkdtemp(prefix="orcazap-drain-")
    results = []
    try:
        for engine in args.engines.split(","):
            for orders in (int(x) for x in args.orders.split(",")):
                # Runs alternate between the worker counts, so drift over time hits each alike.
                for run in range(1, args.runs + 1):
                    for workers in (int(w) for w in args.workers.split(",")):
                        log(f"{engine} drain of {orders}, {workers} worker(s), run {run}")
                        r = drain_once(args, engine, orders, run, workdir, workers)
                        results.append(r)
                        log(f"  {r['rate']:.0f} quotes/s in {r['drain_seconds']:.1f} s, answered "
                            f"{r['answered']}/{r['queued']}, lost {r['lost']}, dup {r['duplicated']}, "
                            f"replied without a quote {r.get('replied_without_quote', 0)}, "
                            f"RSS {r['worker_peak_rss_kib']} KiB, curve "
                            f"{[round(x) for x in r['curve']]}")
                        for phase, v in r["phases"].items():
                            log(f"    {phase}: {v['count']} x {v['mean_ms']} ms = {v['total_s']} s")
                        st = r.get("statements") or []
                        if st:
                            log(f"    statements per quote: {sum(x['per_quote'] for x in st):.1f}; "
                                "calls/quote  exec ms  plan ms  rows  query")
                        for x in st[:25]:
                            log(f"    {x['per_quote']:6.2f} {x['exec_ms']:8.3f} {x['plan_ms']:7.3f} "
                                f"{x['rows']:5.1f}  {x['query'][:110]}")
                        if r.get("probe"):
                            pr = r["probe"]
                            log(f"  other store: {pr['answered']}/{pr['sent']} answered, p50 "
                                f"{pr['p50_ms']:.0f} ms, p95 {pr['p95_ms']:.0f} ms, max {pr['max_ms']:.0f} ms")
    finally:
        out = args.out or os.path.join("bench", "results",
                                       "drain-" + time.strftime("%Y%m%dT%H%M%S") + ".json")
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out, "w") as f:
            json.dump({"machine": machine(), "results": results}, f, indent=1)
        log(f"raw results in {out}; logs in {workdir}")
    print("| engine | workers | queued | quotes/s (median) | drain s | lost | dup | peak RSS MiB | per-500 curve | runs |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|---:|")
    groups = {}
    for r in results:
        groups.setdefault((r["engine"], r["workers"], r["queued"]), []).append(r)
    for (engine, workers, queued), rs in groups.items():
        best = sorted(rs, key=lambda r: r["rate"])[len(rs) // 2]
        rss = best["worker_peak_rss_kib"]
        print(f"| {engine} | {workers} | {queued} | {statistics.median(r['rate'] for r in rs):.0f} | "
              f"{best['drain_seconds']:.1f} | {sum(r['lost'] for r in rs)} | "
              f"{sum(r['duplicated'] for r in rs)} | {rss / 1024 if rss else float('nan'):.1f} | "
              f"{' '.join(str(round(x)) for x in best['curve'])} | {len(rs)} |")


if __name__ == "__main__":
    main()
