#!/usr/bin/env python3
"""Cost of one job claim against a queue of N due jobs (+ N scheduled later), before and after issue 14.

Loads the schema (migrations 0001, 0002, 0004) into a scratch PostgreSQL database, inserts the jobs and
runs the old and the new claim statement under EXPLAIN ANALYZE inside a rolled-back transaction (median
of 5). Usage: python3 bench/claim_cost.py [--pg-url postgres://postgres@127.0.0.1/postgres]
The new statement is rebuilt here from store::jobs::claim_sql; keep them in step.
"""
import argparse, os, re, statistics, subprocess, urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
M = os.path.join(HERE, "..", "crates", "store", "migrations")
OLD = """UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_until = $2, locked_by = $3, updated_at = $1
 WHERE id = (SELECT j.id FROM jobs j
   WHERE ((j.status = 'ready' AND j.run_at <= $1) OR (j.status = 'running' AND j.lease_until < $1))
     AND (j.serial_key IS NULL OR NOT EXISTS (
       SELECT 1 FROM jobs o WHERE o.serial_key = j.serial_key AND o.id <> j.id
         AND ((o.status = 'running' AND o.lease_until >= $1) OR (o.status = 'ready' AND o.id < j.id))))
   ORDER BY j.run_at, j.id LIMIT 1 FOR UPDATE SKIP LOCKED)"""

lock = "FOR UPDATE SKIP LOCKED"
def lane(x):
    return f"""({x}.serial_key IS NULL OR NOT EXISTS (
           SELECT 1 FROM jobs o WHERE o.serial_key = {x}.serial_key AND o.status IN ('ready', 'running') AND o.id <> {x}.id
             AND ((o.status = 'running' AND o.lease_until >= $1) OR (o.status = 'ready' AND o.id < {x}.id))))"""
j,d=lane("j"),lane("d")
has_work=f"""(SELECT d.id FROM jobs d WHERE d.tenant_id = t.id AND d.status = 'ready' AND d.run_at <= $1 AND {d}
              ORDER BY d.run_at, d.id LIMIT 1) IS NOT NULL"""
COLS="id, kind, tenant_id, serial_key, payload_json, status, attempts, max_attempts, run_at, lease_until, locked_by, last_error, request_id, created_at"
NEW=f"""UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_until = $2, locked_by = $3, updated_at = $1
             WHERE id = COALESCE(
               (SELECT j.id FROM jobs j WHERE j.status = 'running' AND j.lease_until < $1 AND {j}
                ORDER BY j.lease_until LIMIT 1 {lock}),
               (SELECT j.id FROM jobs j WHERE j.tenant_id IS NULL AND j.status = 'ready' AND j.run_at <= $1 AND {j}
                ORDER BY j.run_at, j.id LIMIT 1 {lock}),
               (SELECT j.id FROM jobs j
                WHERE j.tenant_id = COALESCE(
                    (SELECT t.id FROM tenants t WHERE t.id > $4 AND {has_work} ORDER BY t.id LIMIT 1),
                    (SELECT t.id FROM tenants t WHERE t.id <= $4 AND {has_work} ORDER BY t.id LIMIT 1))
                  AND j.status = 'ready' AND j.run_at <= $1 AND {j}
                ORDER BY j.run_at, j.id LIMIT 1 {lock}))
             RETURNING {COLS}"""


def psql(url, sql):
    return subprocess.run(["psql", url, "-qAt", "-v", "ON_ERROR_STOP=1"], input=sql,
                          capture_output=True, text=True, check=True).stdout


def bind(sql):
    return (sql.replace("$1", "100000").replace("$2", "160000").replace("$3", "'w1'")
            .replace("$4", "'ta'"))


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--pg-url", default="postgres://postgres@127.0.0.1/postgres")
    p.add_argument("--sizes", default="300,2000,10000")
    args = p.parse_args()
    u = urllib.parse.urlsplit(args.pg_url)
    db = urllib.parse.urlunsplit((u.scheme, u.netloc, "/orcazap_claim_cost", u.query, ""))
    for n in (int(x) for x in args.sizes.split(",")):
        psql(args.pg_url, "DROP DATABASE IF EXISTS orcazap_claim_cost;")
        psql(args.pg_url, "CREATE DATABASE orcazap_claim_cost;")
        psql(db, "".join(open(os.path.join(M, f)).read() for f in (
            "0001_core.up.sql", "0002_hot_path_indexes.up.sql", "0004_job_lanes.up.sql")))
        psql(db, "INSERT INTO tenants (id, slug, name, created_at, updated_at) VALUES "
                 "('ta', 'a', 'A', 0, 0), ('tb', 'b', 'B', 0, 0);")
        rows = [f"('a{i:06d}', 'k', 'ta', 'ca{i}', '{{}}', 'ready', 0, 8, {1000 + i}, {1000 + i}, {1000 + i})"
                for i in range(n)]
        rows += [f"('f{i:06d}', 'k', 'ta', 'cf{i}', '{{}}', 'ready', 0, 8, 999999999, 1, 1)" for i in range(n)]
        psql(db, "INSERT INTO jobs (id, kind, tenant_id, serial_key, payload_json, status, attempts, "
                 "max_attempts, run_at, created_at, updated_at) VALUES " + ",".join(rows) + "; ANALYZE jobs;")
        res = {}
        for name, q in (("before", OLD), ("after", NEW)):
            ts = []
            for _ in range(5):
                out = psql(db, "BEGIN;\nEXPLAIN (ANALYZE) " + bind(q) + ";\nROLLBACK;")
                ts.append(float(re.search(r"Execution Time: ([\d.]+)", out).group(1)))
            res[name] = ts
        print(f"N={n} due (+{n} later): before {statistics.median(res['before']):.2f} ms "
              f"{res['before']}, after {statistics.median(res['after']):.3f} ms {res['after']}")
    psql(args.pg_url, "DROP DATABASE IF EXISTS orcazap_claim_cost;")


if __name__ == "__main__":
    main()
