#!/usr/bin/env python3
"""Fault scripts (issue 14 item 5): the reply path under a fault, checked from outside.

A load of complete orders (one new customer each, paced) goes through `orcazap serve
--web-only`'s webhook while separate `orcazap worker` processes answer them at a local mock
Graph API. During the load one fault is injected:

  pg-restart    PostgreSQL (a private cluster this script starts on its own port, so no other
                user of the machine's server is disturbed) is stopped and started again.
  graph-errors  the mock Graph API answers 429 / 500 / 503 (rotating) for --fault-seconds.
  sigkill       the worker process is SIGKILLed every --kill-every seconds and restarted.
  graph-timeouts  the mock Graph API takes every send (as Meta would) but answers only after
                --slow-seconds, beyond the worker's Graph client timeout, for --fault-seconds.
  disk-full     SQLite on a small tmpfs of its own (--disk-mib; needs `mount`, i.e. root),
                filled to the last byte for --fault-seconds, then freed.

Then it waits until every customer got the quote and reports: lost customers (no quote), sends
repeated to the same customer with the same text (duplicates), dead jobs, how long the reply
path took to recover after the fault, and the time to drain. Webhooks that get no 200 are
delivered again, as Meta does. Exits 1 when a customer is lost or duplicates exceed what the
fault allows: none for pg-restart and graph-errors; for sigkill, at most the sends in flight
at each kill (kills x worker concurrency: the Cloud API has no idempotency key, see
docs/benchmarks.md "Crash safety"); for graph-timeouts, at most the sends whose answer the
client gave up on (Meta has them, we could not know: the same window); for disk-full, at most
the sends in flight when the disk filled (Meta's 200 came back, the "sent" commit could not be
written). disk-full also requires `PRAGMA integrity_check` = ok afterwards and a webhook that
answered 5xx (never 200 for a message it could not store).

Stdlib only (+ pg_ctl/initdb for pg-restart, psql or sqlite3 for the job counts).

  python3 scripts/faults/faults.py pg-restart   --orders 300 --rate 30
  python3 scripts/faults/faults.py graph-errors --orders 300 --rate 30 --fault-seconds 10
  python3 scripts/faults/faults.py sigkill      --orders 300 --rate 30 --kill-every 3
  python3 scripts/faults/faults.py graph-timeouts --orders 300 --rate 30 --fault-seconds 10
  python3 scripts/faults/faults.py disk-full    --orders 300 --rate 30 --fault-seconds 10
  # long versions: --orders 3000 --rate 50 (60 s of load), --fault-seconds 60
"""

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import crash_test as ct  # noqa: E402  (webhook bodies, signing, scratch databases)

# The README's complete order for the demo store: one message, one quote (R$ 661,05).
ORDER = ("bom dia, preciso de 10 sacos de cimento e 2 metros de areia média, "
         "entrega amanhã no Grajaú, pago no pix")
QUOTE_MARKER = "Total"
JOB_TIMEOUT_MS = 5000  # lease = timeout + 10 s: a killed worker's jobs come back in 15 s


def log(msg):
    print(f"[faults {time.strftime('%H:%M:%S')}] {msg}", flush=True)


class FaultyGraph:
    """The mock Graph API of crash_test.py, plus a fault window answering errors."""

    FAULTS = [
        (429, {"error": {"message": "(#130429) Rate limit hit", "type": "OAuthException",
                         "code": 130429}}),
        (500, {"error": {"message": "An unknown error occurred", "type": "OAuthException",
                         "code": 1}}),
        (503, {"error": {"message": "Service temporarily unavailable", "code": 131016}}),
    ]

    def __init__(self):
        self.sends = []  # accepted: (to, body, monotonic)
        self.read_receipts = 0  # "status: read" posts (read receipt + typing), not replies
        self.refused = 0
        self.fault_until = 0.0
        # graph-timeouts: sends taken (Meta has them) but answered only after slow_seconds.
        self.slow_until = 0.0
        self.slow_seconds = 0.0
        self.slow = 0
        self.lock = threading.Lock()
        mock = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if not re.fullmatch(r"/v\d+\.\d+/\d+/messages", self.path):
                    return self.reply(404, {"error": {"message": "unknown path", "code": 100}})
                msg = json.loads(raw)
                if msg.get("status") == "read":
                    # A read receipt with the typing indicator (the worker marks the customer's
                    # message read as it starts): best effort, not a reply to anyone.
                    with mock.lock:
                        mock.read_receipts += 1
                    return self.reply(200, {"success": True})
                to = str(msg.get("to", ""))
                body = (msg.get("text", {}).get("body") if msg.get("type") == "text"
                        else msg.get("interactive", {}).get("body", {}).get("text", ""))
                with mock.lock:
                    if time.monotonic() < mock.fault_until:
                        mock.refused += 1
                        status, err = FaultyGraph.FAULTS[mock.refused % len(FaultyGraph.FAULTS)]
                        return self.reply(status, err)
                    mock.sends.append((to, body or "", time.monotonic()))
                    n = len(mock.sends)
                    slow = time.monotonic() < mock.slow_until
                    if slow:
                        mock.slow += 1
                if slow:
                    # Meta took the message; its answer comes after the client gave up.
                    time.sleep(mock.slow_seconds)
                self.reply(200, {"messaging_product": "whatsapp",
                                 "contacts": [{"input": to, "wa_id": to}],
                                 "messages": [{"id": f"wamid.fault{n:08d}"}]})

            def reply(self, status, obj):
                data = json.dumps(obj).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client hung up (its timeout): nobody reads this answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def snapshot(self):
        with self.lock:
            return list(self.sends)


class PrivatePostgres:
    """A PostgreSQL cluster of our own (initdb in a temporary directory, its own port), so
    restarting it disturbs nobody else on the machine."""

    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "pg")
        os.makedirs(self.dir)
        self.port = ct.free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.dir, "postgres")
        self.data = os.path.join(self.dir, "data")
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def run(self, *args):
        subprocess.run(self.as_user + list(args), check=True, capture_output=True, timeout=120)

    def init(self):
        self.run("initdb", "-D", self.data, "-A", "trust", "-U", "postgres")

    def start(self):
        self.run("pg_ctl", "-D", self.data, "-l", os.path.join(self.dir, "pg.log"), "-w",
                 "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1", "start")

    def stop(self, mode="fast"):
        # `immediate` is a crash as PostgreSQL sees it: no shutdown checkpoint, WAL not yet
        # flushed is lost and recovery runs at the next start (what unflushed commits, such as
        # the job claims, must survive).
        self.run("pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")


class SmallDisk:
    """A tmpfs of --disk-mib for the SQLite file, filled to the last byte on demand: the
    writes fail with SQLITE_FULL for real (no injected error), and space comes back when the
    filler is removed, as when an operator frees disk."""

    def __init__(self, workdir, mib):
        self.path = os.path.join(workdir, "disk")
        os.makedirs(self.path)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={mib}m", "tmpfs", self.path],
                       check=True, capture_output=True, timeout=30)
        self.filler = os.path.join(self.path, "filler")

    def fill(self):
        """Writes the filler until the file system refuses (ENOSPC); returns bytes left."""
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            for size in (1 << 20, 64 << 10, 4096, 512, 1):
                while True:
                    try:
                        if os.write(fd, b"\0" * size) < size:
                            break
                    except OSError:
                        break
        finally:
            os.close(fd)
        return os.statvfs(self.path).f_bavail * os.statvfs(self.path).f_frsize

    def free(self):
        os.remove(self.filler)

    def unmount(self):
        subprocess.run(["umount", "-l", self.path], capture_output=True, timeout=30)


def count_sql(db_url, sql):
    if db_url.startswith("sqlite://"):
        out = subprocess.run(["sqlite3", db_url.removeprefix("sqlite://"), sql],
                             capture_output=True, text=True, timeout=60, check=True).stdout
    else:
        out = subprocess.run(["psql", db_url, "-tAc", sql], capture_output=True, text=True,
                             timeout=60, check=True).stdout
    return int(out.strip() or 0)


class Worker:
    """`orcazap worker` processes, restartable."""

    def __init__(self, binary, env, workdir):
        self.binary, self.env, self.workdir = binary, env, workdir
        self.procs = []
        self.starts = 0

    def start(self):
        self.starts += 1
        env = dict(self.env, ORCAZAP_LISTEN=f"127.0.0.1:{ct.free_port()}")
        logf = open(os.path.join(self.workdir, f"worker-{self.starts}.log"), "w")
        self.procs.append(subprocess.Popen([self.binary, "worker"], env=env, stdout=logf,
                                           stderr=subprocess.STDOUT))

    def sigkill(self):
        p = self.procs[-1]
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            p.wait()

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("fault", choices=["pg-restart", "graph-errors", "sigkill", "graph-timeouts",
                                     "disk-full"])
    p.add_argument("--bin", default=os.environ.get("ORCAZAP_BIN", "target/release/orcazap"))
    p.add_argument("--engine", choices=["postgres", "sqlite"], default="postgres",
                   help="graph-errors and sigkill only (pg-restart is PostgreSQL)")
    p.add_argument("--orders", type=int, default=300)
    p.add_argument("--rate", type=float, default=30.0, help="orders per second")
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--worker-concurrency", type=int, default=4)
    p.add_argument("--fault-at", type=float, default=None,
                   help="seconds into the load (default: a third of it)")
    p.add_argument("--fault-seconds", type=float, default=10.0,
                   help="graph-errors: how long the errors last; pg-restart: time down")
    p.add_argument("--kill-every", type=float, default=3.0, help="sigkill: seconds between kills")
    p.add_argument("--pg-stop-mode", choices=["fast", "immediate"], default="fast",
                   help="pg-restart: pg_ctl's stop mode (immediate = a server crash)")
    p.add_argument("--graph-timeout-ms", type=int, default=2000,
                   help="graph-timeouts: the worker's Graph client timeout")
    p.add_argument("--slow-seconds", type=float, default=3.0,
                   help="graph-timeouts: how late the mock answers (beyond the client timeout)")
    p.add_argument("--disk-mib", type=int, default=64, help="disk-full: size of the tmpfs")
    p.add_argument("--grace", type=float, default=60.0,
                   help="seconds to wait for the last quotes after the load and the fault")
    p.add_argument("--out", default=None, help="JSON results file")
    p.add_argument("--keep", action="store_true", help="keep logs and databases")
    args = p.parse_args()
    if args.fault == "pg-restart":
        args.engine = "postgres"
    if args.fault == "disk-full":
        args.engine = "sqlite"
    sys.exit(run(args))


def run(args):
    workdir = tempfile.mkdtemp(prefix=f"orcazap-fault-{args.fault}-")
    os.chmod(workdir, 0o755)
    pg_private = scratch = disk = None
    try:
        if args.fault == "pg-restart":
            pg_private = PrivatePostgres(workdir)
            pg_private.init()
            pg_private.start()
            db_url = pg_private.url
        elif args.engine == "postgres":
            admin = os.environ.get("ORCAZAP_TEST_POSTGRES_URL",
                                   "postgres://postgres@127.0.0.1:5432/postgres")
            scratch = ct.PgScratch(admin)
            scratch.create()
            db_url = scratch.url
        elif args.fault == "disk-full":
            disk = SmallDisk(workdir, args.disk_mib)
            db_url = f"sqlite://{disk.path}/fault.db"
        else:
            db_url = f"sqlite://{workdir}/fault.db"
        graph = FaultyGraph()
        graph.slow_seconds = args.slow_seconds
        port = ct.free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("ORCAZAP_")}
        env.update({
            "ORCAZAP_DATABASE_URL": db_url,
            "ORCAZAP_WHATSAPP_APP_SECRET": ct.APP_SECRET,
            "ORCAZAP_WHATSAPP_API_BASE": f"http://127.0.0.1:{graph.port}",
            "ORCAZAP_SECRET_KEY": ct.SECRET_KEY,
            "ORCAZAP_WORKER_CONCURRENCY": str(args.worker_concurrency),
            "ORCAZAP_JOB_TIMEOUT_MS": str(JOB_TIMEOUT_MS),
            "ORCAZAP_LOG": os.environ.get("ORCAZAP_LOG", "warn"),
            "ORCAZAP_GRAPH_TIMEOUT_MS": str(args.graph_timeout_ms),
        })
        web = ct.Server(args.bin, dict(env, ORCAZAP_LISTEN=f"127.0.0.1:{port}"), workdir)
        web.cli(["migrate", "up"])
        web.cli(["seed", "--demo"])
        web.cli(["channel", "token", "--store", "demo"], stdin="fault-test-token\n")
        start_web(web, port)
        worker = Worker(args.bin, env, workdir)
        worker.start()
        try:
            result = scenario(args, web, worker, graph, port, db_url, pg_private, disk)
        finally:
            worker.stop()
            web.stop()
            graph.server.shutdown()
        if disk:
            disk_checks(result, db_url, workdir)
        result.update(fault=args.fault, engine=args.engine, orders=args.orders, rate=args.rate,
                      worker_concurrency=args.worker_concurrency, binary=args.bin,
                      date=time.strftime("%Y-%m-%dT%H:%M:%S"))
        out = args.out or os.path.join("bench", "results",
                                       f"fault-{args.fault}-{time.strftime('%Y%m%dT%H%M%S')}.json")
        os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
        with open(out, "w") as f:
            json.dump(result, f, indent=1)
        log(f"results in {out}; logs in {workdir}")
        return 0 if result["passed"] else 1
    finally:
        if pg_private:
            try:
                pg_private.stop()
            except subprocess.CalledProcessError:
                pass
        if scratch:
            scratch.drop()
        if disk:
            disk.unmount()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def start_web(web, port):
    logf = open(os.path.join(web.workdir, "web.log"), "a")
    web.proc = subprocess.Popen([web.binary, "serve", "--web-only"], env=web.env, stdout=logf,
                                stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/health", headers={"Host": ct.WEBHOOK_HOST})
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("orcazap serve --web-only did not become healthy in 30 s")


def disk_checks(result, db_url, workdir):
    """After a full disk: the file is sound and the failure was said in words."""
    out = subprocess.run(["sqlite3", db_url.removeprefix("sqlite://"), "PRAGMA integrity_check"],
                         capture_output=True, text=True, timeout=120)
    result["integrity_check"] = (out.stdout.strip() or out.stderr.strip())
    said = 0
    for name in os.listdir(workdir):
        if name.endswith(".log"):
            with open(os.path.join(workdir, name), errors="replace") as f:
                said += sum(1 for line in f if "full" in line.lower())
    result["log_lines_saying_full"] = said
    ok = result["integrity_check"] == "ok" and said > 0 and result["webhook_5xx"] > 0
    result["passed"] = result["passed"] and ok
    print(f"integrity_check: {result['integrity_check']}; log lines saying the disk is full: "
          f"{said}; webhook 5xx answers while full: {result['webhook_5xx']}; /ready while full: "
          f"{result['fault_window'].get('ready_while_full')}")
    print("PASSED" if result["passed"] else "FAILED")


def ready_status(port):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/ready", headers={"Host": ct.WEBHOOK_HOST})
        r = conn.getresponse()
        return f"{r.status} {r.read().decode(errors='replace')[:200]}"
    except OSError as e:
        return f"error {e}"


def scenario(args, web, worker, graph, port, db_url, pg, disk=None):
    ts = int(time.time())
    deliveries = [ct.Delivery(f"55118{i:08d}", f"wamid.FAULT{ts}{i:06d}",
                              ct.webhook_body(f"55118{i:08d}", f"wamid.FAULT{ts}{i:06d}", ORDER, ts))
                  for i in range(args.orders)]
    load_seconds = args.orders / args.rate
    fault_at = args.fault_at if args.fault_at is not None else load_seconds / 3
    log(f"{args.fault} on {args.engine}: {args.orders} orders at {args.rate:.0f}/s "
        f"({load_seconds:.0f} s), fault at {fault_at:.1f} s")
    t0 = time.monotonic()
    fault = {"kills": 0}
    stop_faults = threading.Event()

    def inject():
        time.sleep(max(0.0, fault_at))
        fault["start"] = time.monotonic() - t0
        if args.fault == "pg-restart":
            pg.stop(args.pg_stop_mode)
            fault["down_at"] = time.monotonic() - t0
            time.sleep(args.fault_seconds)
            pg.start()
            fault["end"] = time.monotonic() - t0
        elif args.fault == "graph-errors":
            with graph.lock:
                graph.fault_until = time.monotonic() + args.fault_seconds
            time.sleep(args.fault_seconds)
            fault["end"] = time.monotonic() - t0
        elif args.fault == "graph-timeouts":
            with graph.lock:
                graph.slow_until = time.monotonic() + args.fault_seconds
            time.sleep(args.fault_seconds)
            fault["end"] = time.monotonic() - t0
        elif args.fault == "disk-full":
            try:
                fault["bytes_left"] = disk.fill()
                time.sleep(min(2.0, args.fault_seconds))
                fault["ready_while_full"] = ready_status(port)
                time.sleep(max(0.0, args.fault_seconds - 2.0))
            finally:
                disk.free()
                fault["end"] = time.monotonic() - t0
        else:
            while not stop_faults.is_set() and time.monotonic() - t0 < load_seconds + 2:
                worker.sigkill()
                fault["kills"] += 1
                worker.start()
                stop_faults.wait(args.kill_every)
            fault["end"] = time.monotonic() - t0

    statuses, statuses_lock = {}, threading.Lock()
    injector = threading.Thread(target=inject, daemon=True)
    injector.start()

    def paced(i_d):
        i, d = i_d
        delay = t0 + i / args.rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        # As Meta: a webhook without a 200 is delivered again (here every 0.5 s, 2 minutes).
        for _ in range(240):
            status = ct.post_webhook(port, d)
            if status == 200:
                return
            with statuses_lock:
                statuses[status] = statuses.get(status, 0) + 1
            time.sleep(0.5)

    with ThreadPoolExecutor(max_workers=args.connections) as pool:
        list(pool.map(paced, enumerate(deliveries)))
    injector.join()
    stop_faults.set()
    wanted = {d.wa_id for d in deliveries}
    deadline = time.monotonic() + args.grace + JOB_TIMEOUT_MS / 1000 + 10
    while time.monotonic() < deadline:
        quoted = {to for to, body, _ in graph.snapshot() if QUOTE_MARKER in body}
        if wanted <= quoted:
            break
        time.sleep(0.25)
    time.sleep(2)  # late duplicates would arrive now
    sends = graph.snapshot()
    quoted_at = {}
    seen, dups = {}, 0
    for to, body, at in sends:
        key = (to, body)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            dups += 1
        if QUOTE_MARKER in body and to in wanted:
            quoted_at.setdefault(to, at - t0)
    lost = sorted(wanted - set(quoted_at))
    after = sorted(at - t0 for _, _, at in sends if at - t0 >= fault.get("end", 0))
    recovery = (after[0] - fault["end"]) if after and "end" in fault else None
    dead = count_sql(db_url, "SELECT COUNT(*) FROM jobs WHERE status = 'dead'")
    allowed = {"sigkill": fault["kills"] * args.worker_concurrency,
               "graph-timeouts": graph.slow,
               "disk-full": args.worker_concurrency}.get(args.fault, 0)
    result = {
        "customers": len(wanted), "webhook_redeliveries": sum(d.attempts - 1 for d in deliveries),
        "quoted": len(quoted_at), "lost": len(lost), "duplicates": dups,
        "duplicates_allowed": allowed, "dead_jobs": dead, "graph_refused": graph.refused,
        "fault_window": fault, "recovery_seconds": recovery,
        "graph_answered_late": graph.slow,
        "webhook_non_200": {str(k): v for k, v in statuses.items()},
        "webhook_5xx": sum(v for k, v in statuses.items() if k and 500 <= k < 600),
        "last_quote_seconds": max(quoted_at.values()) if quoted_at else None,
        "load_seconds": load_seconds,
    }
    result["passed"] = not lost and dups <= allowed
    print()
    print(f"FAULT {args.fault} ({args.engine}): {len(wanted)} customers, "
          f"{result['quoted']} quoted, lost {len(lost)}, duplicates {dups} (allowed {allowed}), "
          f"dead jobs {dead}, webhook redeliveries {result['webhook_redeliveries']}, "
          f"Graph errors answered {graph.refused}, Graph answers after the client's timeout "
          f"{graph.slow}, kills {fault['kills']}, webhook answers other than 200 "
          f"{result['webhook_non_200']}")
    if recovery is not None:
        print(f"fault {fault.get('start', 0):.1f}–{fault['end']:.1f} s; first reply "
              f"{recovery:.2f} s after it ended; last quote at {result['last_quote_seconds']:.1f} s "
              f"(load ended at {load_seconds:.1f} s)")
    if lost:
        print(f"lost (first 10): {lost[:10]}")
    print("PASSED" if result["passed"] else "FAILED")
    return result


if __name__ == "__main__":
    main()
