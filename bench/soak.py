#!/usr/bin/env python3
"""OrçaZap soak: one `orcazap serve` (web + worker in one process) under a steady webhook rate
for a long time, with the server's RSS and the end-to-end p95 sampled every minute.

The load is `loadgen e2e` run in back-to-back one-minute windows against the same server and
database (a new run id per window, so every message is a new customer); after each window the
script records that window's latency percentiles, lost and duplicated replies, and the
server's resident memory (VmRSS) and peak (VmHWM). "Flat" means neither grows with time.
Stdlib only; reuses bench/run.py's database and server helpers. See bench/README.md.
"""

import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402


def rss_kib(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                k, v = line.split(":", 1)
                out[k] = int(v.split()[0])
    return out.get("VmRSS", 0), out.get("VmHWM", 0)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--bin", default="target/release/orcazap")
    p.add_argument("--loadgen", default="target/release/loadgen")
    p.add_argument("--engine", default="postgres", choices=["postgres", "sqlite"])
    p.add_argument("--pg-url", default=os.environ.get("ORCAZAP_TEST_POSTGRES_URL",
                                                       "postgres://postgres@127.0.0.1/postgres"))
    p.add_argument("--rate", type=float, default=50)
    p.add_argument("--minutes", type=int, default=30)
    p.add_argument("--window", type=float, default=60, help="seconds per sample")
    p.add_argument("--out", default=None)
    args = p.parse_args()
    for b in (args.bin, args.loadgen):
        if not os.access(b, os.X_OK):
            sys.exit(f"{b} missing: cargo build --release -p orcazap -p loadgen")
    workdir = tempfile.mkdtemp(prefix="orcazap-soak-")
    out = args.out or os.path.join("bench", "results",
                                   f"soak-{args.engine}-{time.strftime('%Y%m%dT%H%M%S')}.json")
    db = bench.Database(args.engine, args.pg_url, workdir, "soak")
    graph_port = bench.free_port()
    srv = bench.Orcazap(args.bin, db.url, graph_port, workdir, "soak")
    samples = []
    started = time.monotonic()
    try:
        srv.prepare()
        srv.start([])
        rss0, _ = rss_kib(srv.proc.pid)
        bench.log(f"soak: {args.engine}, {args.rate}/s for {args.minutes} × {args.window:.0f} s; "
                  f"server pid {srv.proc.pid}, RSS at start {rss0 / 1024:.1f} MiB")
        for i in range(args.minutes):
            rows = bench.loadgen(args, ["e2e", "--url", f"http://127.0.0.1:{srv.port}",
                                        "--rate", str(args.rate), "--duration", str(args.window),
                                        "--graph-listen", f"127.0.0.1:{graph_port}",
                                        "--run-id", str(1000 + i)])
            rss, hwm = rss_kib(srv.proc.pid)
            load = open("/proc/loadavg").read().split()[:3]
            for r in rows:
                r.update(minute=i + 1, elapsed_s=round(time.monotonic() - started, 1),
                         rss_mib=round(rss / 1024, 1), hwm_mib=round(hwm / 1024, 1),
                         loadavg=load)
                samples.append(r)
                bench.log(f"  min {i + 1:2d}: sent {r['sent']} lost {r['lost']} dup {r['duplicated']} "
                          f"p50 {r['p50_ms']:.1f} p95 {r['p95_ms']:.1f} p99 {r['p99_ms']:.1f} ms; "
                          f"RSS {rss / 1024:.1f} MiB (peak {hwm / 1024:.1f}); load {' '.join(load)}")
            save(out, args, samples)  # each minute: a stopped soak keeps what it measured
    finally:
        srv.stop()
        db.close()
        save(out, args, samples)
        bench.log(f"raw samples in {out}; server log in {workdir}")
    print(table(samples))


def save(out, args, samples):
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump({"machine": bench.machine(), "engine": args.engine, "rate": args.rate,
                   "window_s": args.window, "samples": samples}, f, indent=1)


def table(samples):
    if not samples:
        return "no samples"
    lines = ["| minute | sent | lost | dup | p50 ms | p95 ms | p99 ms | RSS MiB | load |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for s in samples:
        lines.append(f"| {s['minute']} | {s['sent']} | {s['lost']} | {s['duplicated']} | "
                     f"{s['p50_ms']:.1f} | {s['p95_ms']:.1f} | {s['p99_ms']:.1f} | "
                     f"{s['rss_mib']:.1f} | {' '.join(s['loadavg'])} |")
    n = max(1, len(samples) // 5)
    first, last = samples[:n], samples[-n:]
    avg = lambda xs, k: sum(x[k] for x in xs) / len(xs)  # noqa: E731
    lines.append("")
    lines.append(f"first {n} min vs last {n} min: p95 {avg(first, 'p95_ms'):.1f} → "
                 f"{avg(last, 'p95_ms'):.1f} ms, RSS {avg(first, 'rss_mib'):.1f} → "
                 f"{avg(last, 'rss_mib'):.1f} MiB; lost {sum(s['lost'] for s in samples)}, "
                 f"duplicated {sum(s['duplicated'] for s in samples)}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
