//! The durable job queue, in the database.
//!
//! - `enqueue` runs inside the caller's transaction (the transactional outbox): a message is
//!   never stored without the job that handles it, a decision never without its send.
//! - `claim` takes the next ready job with a lease; a crashed worker's job is taken again
//!   once its lease runs out. On PostgreSQL the candidate row is locked with
//!   `FOR UPDATE SKIP LOCKED`, so many workers in many processes never take the same job.
//! - Jobs with the same `serial_key` (one contact) run one at a time and in creation order:
//!   a job is only claimable when no other job of its key is running or older and still
//!   waiting. The conversation row lock in the worker is the second guard.
//! - Failures retry with exponential backoff and jitter; after `max_attempts` a job is
//!   `dead`, listed for the operator and requeueable.

use std::sync::OnceLock;

use rand::Rng;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::db::{new_id, now_ms, Db, Engine, StoreError};
use crate::text_column;

domain::stored_text_enum! {
    /// `jobs.status` (inside SQL the words are written out).
    pub enum JobStatus("job status") {
        /// Waiting for `run_at` (or for the job before it with the same `serial_key`).
        Ready = "ready",
        /// Claimed by a worker until `lease_until`.
        Running = "running",
        Done = "done",
        /// Out of attempts or failed for good: listed for the operator, requeueable.
        Dead = "dead",
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: String,
    pub kind: String,
    pub tenant_id: Option<String>,
    pub serial_key: Option<String>,
    pub payload_json: String,
    pub status: JobStatus,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: i64,
    pub lease_until: Option<i64>,
    pub locked_by: Option<String>,
    pub last_error: Option<String>,
    pub request_id: Option<String>,
    pub created_at: i64,
}

const COLS: &str =
    "id, kind, tenant_id, serial_key, payload_json, status, attempts, max_attempts, run_at, lease_until, locked_by, last_error, request_id, created_at";

fn from_row(r: &AnyRow) -> Result<Job, sqlx::Error> {
    Ok(Job {
        id: r.try_get(0)?,
        kind: r.try_get(1)?,
        tenant_id: r.try_get(2)?,
        serial_key: r.try_get(3)?,
        payload_json: r.try_get(4)?,
        status: text_column::parse(r, 5)?,
        attempts: r.try_get(6)?,
        max_attempts: r.try_get(7)?,
        run_at: r.try_get(8)?,
        lease_until: r.try_get(9)?,
        locked_by: r.try_get(10)?,
        last_error: r.try_get(11)?,
        request_id: r.try_get(12)?,
        created_at: r.try_get(13)?,
    })
}

#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: String,
    pub tenant_id: Option<String>,
    pub serial_key: Option<String>,
    pub payload: serde_json::Value,
    /// Unix ms; None = now.
    pub run_at: Option<i64>,
    pub max_attempts: i64,
    pub request_id: Option<String>,
}

impl NewJob {
    pub fn new(kind: &str, payload: serde_json::Value) -> NewJob {
        NewJob {
            kind: kind.to_string(),
            tenant_id: None,
            serial_key: None,
            payload,
            run_at: None,
            max_attempts: 8,
            request_id: None,
        }
    }
}

/// Adds a job inside the caller's transaction. Workers are told after the commit: by
/// [`Db::tx`] when it runs inside one, by the caller's [`Db::jobs_ready`] otherwise.
pub async fn enqueue(c: &mut AnyConnection, job: &NewJob) -> Result<String, StoreError> {
    let id = new_id();
    let now = now_ms();
    sqlx::query(
        "INSERT INTO jobs (id, kind, tenant_id, serial_key, payload_json, status, attempts, max_attempts, run_at, request_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 'ready', 0, $6, $7, $8, $9, $9)",
    )
    .bind(&id)
    .bind(&job.kind)
    .bind(&job.tenant_id)
    .bind(&job.serial_key)
    .bind(job.payload.to_string())
    .bind(job.max_attempts.max(1))
    .bind(job.run_at.unwrap_or(now))
    .bind(&job.request_id)
    .bind(now)
    .execute(&mut *c)
    .await?;
    crate::notify::job_added();
    Ok(id)
}

/// Whose turn it is among the stores: the store the last claim served, so the next claim
/// starts after it (round-robin). One per worker process; it is only where the search
/// starts, so a stale or unknown value is harmless.
#[derive(Debug, Default)]
pub struct StoreTurn(std::sync::Mutex<String>);

impl StoreTurn {
    fn last(&self) -> String {
        self.0.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn served(&self, tenant_id: Option<&str>) {
        if let (Some(t), Ok(mut last)) = (tenant_id, self.0.lock()) {
            t.clone_into(&mut last);
        }
    }
}

/// `X`'s lane is free: no other job of its serial key (one contact) is running under a live
/// lease or waiting ahead of it. Reads only the lane's live jobs (index `jobs_lane`, whose
/// predicate is written out so both planners use it).
fn lane_free(x: &str) -> String {
    format!(
        "({x}.serial_key IS NULL OR NOT EXISTS (
           SELECT 1 FROM jobs o WHERE o.serial_key = {x}.serial_key AND o.status IN ('ready', 'running') AND o.id <> {x}.id
             AND ((o.status = 'running' AND o.lease_until >= $1) OR (o.status = 'ready' AND o.id < {x}.id))))"
    )
}

/// The claim statement of one engine, built once.
fn claim_sql(engine: Engine) -> &'static str {
    static POSTGRES: OnceLock<String> = OnceLock::new();
    static SQLITE: OnceLock<String> = OnceLock::new();
    let (cell, lock) = match engine {
        // Lock the candidate and skip rows other workers hold: many workers in many
        // processes never take the same job.
        //
        // The claim commits synchronously like everything else. Tried and reverted
        // (docs/benchmarks.md, 2026-12-05): with `synchronous_commit` off for the claim, a
        // server crash can lose a claim whose worker survives and keeps running the job; after
        // the restart the job is ready again and a second attempt runs beside the first (a
        // quote sent twice in the fault script's `pg-restart --pg-stop-mode immediate`).
        Engine::Postgres => (&POSTGRES, "FOR UPDATE SKIP LOCKED"),
        // The single writer connection serialises claims already.
        Engine::Sqlite => (&SQLITE, ""),
    };
    cell.get_or_init(|| {
        let (j, d) = (lane_free("j"), lane_free("d"));
        // A store has work when its due range holds a job whose lane is free. A scalar
        // subquery with LIMIT, not EXISTS: PostgreSQL turns EXISTS into a semi-join that may
        // read the whole due range first (a bitmap over the backlog); this form stops at the
        // first free job, per store, in index order.
        let has_work = format!(
            "(SELECT d.id FROM jobs d WHERE d.tenant_id = t.id AND d.status = 'ready' AND d.run_at <= $1 AND {d}
              ORDER BY d.run_at, d.id LIMIT 1) IS NOT NULL"
        );
        // In order, the first that finds a job: a job whose lease ran out (its worker
        // crashed); a job of no store; the due head of the next store with work after the one
        // served last ($4), wrapping around. Each step reads an index range that does not
        // grow with the backlog: expired leases, one store's due jobs, one lane's live jobs,
        // and the stores passed over.
        format!(
            "UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_until = $2, locked_by = $3, updated_at = $1
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
             RETURNING {COLS}"
        )
    })
}

/// Claims the next runnable job for `worker_id` with a lease of `lease_ms`, starting the
/// search at the first store (tests, tools). Workers use [`claim_next`] with their turn.
pub async fn claim(db: &Db, worker_id: &str, lease_ms: i64) -> Result<Option<Job>, StoreError> {
    claim_next(db, worker_id, lease_ms, &StoreTurn::default()).await
}

/// Claims the next runnable job, the stores taking turns: a store with thousands of jobs
/// queued gets one claim per round like every other store with work, so it cannot delay
/// their replies. One statement, whatever the backlog (see [`claim_sql`]).
pub async fn claim_next(
    db: &Db,
    worker_id: &str,
    lease_ms: i64,
    turn: &StoreTurn,
) -> Result<Option<Job>, StoreError> {
    let now = now_ms();
    let row = sqlx::query(claim_sql(db.engine()))
        .bind(now)
        .bind(now + lease_ms)
        .bind(worker_id)
        .bind(turn.last())
        .fetch_optional(db.write())
        .await?;
    let job = row.as_ref().map(from_row).transpose()?;
    if let Some(j) = &job {
        turn.served(j.tenant_id.as_deref());
    }
    Ok(job)
}

/// Extends the lease of a long job (fenced by the worker id).
pub async fn heartbeat(
    db: &Db,
    id: &str,
    worker_id: &str,
    lease_ms: i64,
) -> Result<bool, StoreError> {
    let res = sqlx::query(
        "UPDATE jobs SET lease_until = $3 WHERE id = $1 AND locked_by = $2 AND status = 'running'",
    )
    .bind(id)
    .bind(worker_id)
    .bind(now_ms() + lease_ms)
    .execute(db.write())
    .await?;
    Ok(res.rows_affected() == 1)
}

/// The job is done. Fenced: if the lease was lost and another worker took the job, this
/// worker's late completion changes nothing.
pub async fn complete(
    c: &mut AnyConnection,
    id: &str,
    worker_id: &str,
) -> Result<bool, StoreError> {
    let res = sqlx::query("UPDATE jobs SET status = 'done', lease_until = NULL, updated_at = $3 WHERE id = $1 AND locked_by = $2 AND status = 'running'")
        .bind(id)
        .bind(worker_id)
        .bind(now_ms())
        .execute(&mut *c)
        .await?;
    Ok(res.rows_affected() == 1)
}

/// Hands the next job of a lane to the worker that just finished the one before it, inside
/// that job's transaction: when the oldest live job of `serial_key` is a `kind` job, due and
/// ready, it is claimed for `worker_id` in the same commit that marked the previous job done,
/// so the worker runs it at once instead of committing a claim for it (a quote's send after
/// the step that wrote it: one commit fewer per quote). The lane rule is the claim's own: only
/// the oldest live job of a lane may run, and only while nothing of the lane runs under a live
/// lease. The caller's job must already be done in this transaction.
pub async fn claim_lane_next(
    c: &mut AnyConnection,
    serial_key: &str,
    kind: &str,
    worker_id: &str,
    lease_ms: i64,
) -> Result<Option<Job>, StoreError> {
    static SQL: OnceLock<String> = OnceLock::new();
    // `status IN ('ready', 'running')` is written out in both subqueries so SQLite's planner,
    // like PostgreSQL's, reads the lane through the partial index `jobs_lane`.
    let sql = SQL.get_or_init(|| {
        format!(
            "UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_until = $2, locked_by = $3, updated_at = $1
             WHERE id = (SELECT h.id FROM jobs h WHERE h.serial_key = $4 AND h.status IN ('ready', 'running')
                         ORDER BY h.id LIMIT 1)
               AND status = 'ready' AND kind = $5 AND run_at <= $1
               AND NOT EXISTS (SELECT 1 FROM jobs o WHERE o.serial_key = $4 AND o.status IN ('ready', 'running')
                               AND o.status = 'running' AND o.lease_until >= $1)
             RETURNING {COLS}"
        )
    });
    let now = now_ms();
    let row = sqlx::query(sql)
        .bind(now)
        .bind(now + lease_ms)
        .bind(worker_id)
        .bind(serial_key)
        .bind(kind)
        .fetch_optional(&mut *c)
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// Delay before attempt `attempt + 1`: exponential from `base_ms`, capped, with full jitter
/// in the upper half so retries of many jobs don't stampede together.
pub fn backoff_ms(attempt: i64, base_ms: i64, cap_ms: i64) -> i64 {
    let exp = base_ms
        .saturating_mul(1_i64 << attempt.clamp(0, 20))
        .min(cap_ms);
    let half = exp / 2;
    half + rand::thread_rng().gen_range(0..=half.max(1))
}

/// [`complete`] on its own (no surrounding transaction): one statement, one round trip.
pub async fn mark_done(db: &Db, id: &str, worker_id: &str) -> Result<bool, StoreError> {
    let mut c = db.write().acquire().await?;
    complete(&mut c, id, worker_id).await
}

/// The job failed. Retries after `retry_in_ms`, or becomes `dead` when out of attempts or
/// when the failure is permanent.
pub async fn fail(
    db: &Db,
    job: &Job,
    worker_id: &str,
    error: &str,
    retry_in_ms: Option<i64>,
) -> Result<bool, StoreError> {
    let now = now_ms();
    let dead = retry_in_ms.is_none() || job.attempts >= job.max_attempts;
    let error: String = error.chars().take(2000).collect();
    let res = if dead {
        sqlx::query(
            "UPDATE jobs SET status = 'dead', lease_until = NULL, last_error = $3, updated_at = $4 WHERE id = $1 AND locked_by = $2 AND status = 'running'",
        )
        .bind(&job.id)
        .bind(worker_id)
        .bind(&error)
        .bind(now)
        .execute(db.write())
        .await?
    } else {
        sqlx::query(
            "UPDATE jobs SET status = 'ready', lease_until = NULL, locked_by = NULL, last_error = $3, run_at = $4, updated_at = $5
             WHERE id = $1 AND locked_by = $2 AND status = 'running'",
        )
        .bind(&job.id)
        .bind(worker_id)
        .bind(&error)
        .bind(now + retry_in_ms.unwrap_or(0))
        .bind(now)
        .execute(db.write())
        .await?
    };
    Ok(dead && res.rows_affected() == 1)
}

/// The job waits for something outside it (a blocked WhatsApp number): ready again at
/// `now + wait_ms`, the attempt not counted, the reason kept for the operator. Fenced like
/// [`fail`].
pub async fn postpone(
    db: &Db,
    job: &Job,
    worker_id: &str,
    reason: &str,
    wait_ms: i64,
) -> Result<(), StoreError> {
    let now = now_ms();
    let reason: String = reason.chars().take(2000).collect();
    sqlx::query(
        "UPDATE jobs SET status = 'ready', attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, lease_until = NULL, locked_by = NULL,
           last_error = $3, run_at = $4, updated_at = $5 WHERE id = $1 AND locked_by = $2 AND status = 'running'",
    )
    .bind(&job.id)
    .bind(worker_id)
    .bind(&reason)
    .bind(now + wait_ms.max(0))
    .bind(now)
    .execute(db.write())
    .await?;
    Ok(())
}

/// Makes a store's waiting jobs of one kind due now (the owner fixed what they waited for).
/// Returns how many; workers are rung after the caller's COMMIT.
pub async fn wake(c: &mut AnyConnection, tenant_id: &str, kind: &str) -> Result<u64, StoreError> {
    let now = now_ms();
    let res = sqlx::query(
        "UPDATE jobs SET run_at = $3, updated_at = $3 WHERE tenant_id = $1 AND kind = $2 AND status = 'ready' AND run_at > $3",
    )
    .bind(tenant_id)
    .bind(kind)
    .bind(now)
    .execute(&mut *c)
    .await?;
    if res.rows_affected() > 0 {
        crate::notify::job_added();
    }
    Ok(res.rows_affected())
}

/// Graceful shutdown: hand an unfinished job back without counting the attempt.
pub async fn release(db: &Db, id: &str, worker_id: &str) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE jobs SET status = 'ready', attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, lease_until = NULL, locked_by = NULL,
           updated_at = $3 WHERE id = $1 AND locked_by = $2 AND status = 'running'",
    )
    .bind(id)
    .bind(worker_id)
    .bind(now_ms())
    .execute(db.write())
    .await?;
    Ok(())
}

/// Jobs in one status, newest first (`orcazap jobs list|dead`, the operator page).
pub async fn list(db: &Db, status: Option<JobStatus>, limit: i64) -> Result<Vec<Job>, StoreError> {
    let (filter, bind) = match status {
        Some(s) => (" WHERE status = $2", Some(s.as_str())),
        None => ("", None),
    };
    let sql = format!("SELECT {COLS} FROM jobs{filter} ORDER BY created_at DESC, id DESC LIMIT $1");
    let mut q = sqlx::query(&sql).bind(limit);
    if let Some(s) = bind {
        q = q.bind(s);
    }
    let rows = q.fetch_all(db.read()).await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

pub async fn get(db: &Db, id: &str) -> Result<Option<Job>, StoreError> {
    let sql = format!("SELECT {COLS} FROM jobs WHERE id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(db.read()).await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// Puts a dead job back in the queue with fresh attempts.
pub async fn requeue(c: &mut AnyConnection, id: &str) -> Result<(), StoreError> {
    let res = sqlx::query(
        "UPDATE jobs SET status = 'ready', attempts = 0, run_at = $2, lease_until = NULL, locked_by = NULL, updated_at = $2 WHERE id = $1 AND status = 'dead'",
    )
    .bind(id)
    .bind(now_ms())
    .execute(&mut *c)
    .await?;
    if res.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Per kind: ready jobs, age of the oldest runnable one (ms), dead jobs. For metrics.
pub async fn stats(db: &Db) -> Result<Vec<QueueStat>, StoreError> {
    let now = now_ms();
    let rows = sqlx::query(
        "SELECT kind,
           CAST(SUM(CASE WHEN status = 'ready' THEN 1 ELSE 0 END) AS BIGINT),
           CAST(SUM(CASE WHEN status = 'running' THEN 1 ELSE 0 END) AS BIGINT),
           CAST(SUM(CASE WHEN status = 'dead' THEN 1 ELSE 0 END) AS BIGINT),
           CAST(COALESCE(MIN(CASE WHEN status = 'ready' AND run_at <= $1 THEN run_at END), $1) AS BIGINT)
         FROM jobs WHERE status <> 'done' GROUP BY kind ORDER BY kind",
    )
    .bind(now)
    .fetch_all(db.read())
    .await?;
    rows.iter()
        .map(|r| {
            let oldest: i64 = r.try_get(4)?;
            Ok(QueueStat {
                kind: r.try_get(0)?,
                ready: r.try_get(1)?,
                running: r.try_get(2)?,
                dead: r.try_get(3)?,
                oldest_ready_age_ms: (now - oldest).max(0),
            })
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueStat {
    pub kind: String,
    pub ready: i64,
    pub running: i64,
    pub dead: i64,
    pub oldest_ready_age_ms: i64,
}

/// Deletes finished jobs older than `older_than_ms` (they only matter for a while).
pub async fn purge_done(db: &Db, older_than_ms: i64) -> Result<u64, StoreError> {
    let res = sqlx::query("DELETE FROM jobs WHERE status = 'done' AND updated_at < $1")
        .bind(now_ms() - older_than_ms)
        .execute(db.write())
        .await?;
    Ok(res.rows_affected())
}

/// Records that a worker is alive (`/ready` checks freshness).
pub async fn worker_beat(db: &Db, worker_id: &str, hostname: &str) -> Result<(), StoreError> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO worker_heartbeats (worker_id, hostname, started_at, last_beat_at) VALUES ($1, $2, $3, $3)
         ON CONFLICT (worker_id) DO UPDATE SET last_beat_at = excluded.last_beat_at",
    )
    .bind(worker_id)
    .bind(hostname)
    .bind(now)
    .execute(db.write())
    .await?;
    Ok(())
}

/// The most recent heartbeat of any worker (unix ms), if any.
pub async fn last_worker_beat(db: &Db) -> Result<Option<i64>, StoreError> {
    let row = sqlx::query("SELECT CAST(MAX(last_beat_at) AS BIGINT) FROM worker_heartbeats")
        .fetch_one(db.read())
        .await?;
    Ok(row.try_get::<Option<i64>, _>(0)?)
}
