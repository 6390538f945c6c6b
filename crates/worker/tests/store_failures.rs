//! Which store failures a job retries and which make it dead, with errors the real engines
//! raise (not hand-built values): the database away, busy or timing out is retried; a
//! constraint violation, a decode error or a missing row fails the same way every time and is
//! dead at once, with the reason.

use std::time::Duration;

use sqlx::Row;
use store::testing::TestDb;
use store::{Db, DbConfig, Engine, StoreError};
use worker::Outcome;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_permanent_failures_are_dead() {
    if let Some(t) = TestDb::new(Engine::Sqlite).await {
        permanent_failures_are_dead(&t).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_permanent_failures_are_dead() {
    if let Some(t) = TestDb::new(Engine::Postgres).await {
        permanent_failures_are_dead(&t).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_transient_failures_are_retried() {
    if let Some(t) = TestDb::new(Engine::Sqlite).await {
        transient_failures_are_retried(&t).await;
        sqlite_busy_is_retried(&t).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_transient_failures_are_retried() {
    if let Some(t) = TestDb::new(Engine::Postgres).await {
        transient_failures_are_retried(&t).await;
        postgres_timeouts_conflicts_and_lost_connections_are_retried(&t).await;
    }
}

/// The job's outcome for a store failure, also when a boundary added what it was doing.
fn assert_dead(e: StoreError, why: &str) {
    let text = store::error::report(&e);
    match Outcome::from_store(e) {
        Outcome::Dead(reason) => assert_eq!(reason, text, "{why}"),
        other => panic!("{why}: {text} gave {other:?}, not dead"),
    }
}

fn assert_retried(e: StoreError, why: &str) {
    let text = store::error::report(&e);
    match Outcome::from_store(e) {
        Outcome::Retry { error, .. } => assert_eq!(error, text, "{why}"),
        other => panic!("{why}: {text} gave {other:?}, not a retry"),
    }
}

fn both_ways(e: impl Fn() -> StoreError, check: fn(StoreError, &str), why: &str) {
    check(e(), why);
    check(
        e().doing("advancing a conversation"),
        &format!("{why}, with context"),
    );
}

async fn permanent_failures_are_dead(t: &TestDb) {
    let db = &t.db;
    sqlx::query("CREATE TABLE failures (id TEXT PRIMARY KEY, n BIGINT NOT NULL, label TEXT)")
        .execute(db.write())
        .await
        .unwrap();
    sqlx::query("INSERT INTO failures (id, n, label) VALUES ('a', 1, 'um')")
        .execute(db.write())
        .await
        .unwrap();

    // A unique violation the store did not name (not through `from_unique`) is final too.
    let unique = || async {
        sqlx::query("INSERT INTO failures (id, n) VALUES ('a', 2)")
            .execute(db.write())
            .await
            .unwrap_err()
    };
    let e = unique().await;
    assert!(matches!(&e, sqlx::Error::Database(d) if d.is_unique_violation()));
    assert_dead(StoreError::from(e), "unique violation");
    assert_dead(
        StoreError::from(unique().await).doing("x"),
        "unique, context",
    );

    let not_null = || async {
        sqlx::query("INSERT INTO failures (id, n) VALUES ('b', NULL)")
            .execute(db.write())
            .await
            .unwrap_err()
    };
    let e = not_null().await;
    assert!(matches!(&e, sqlx::Error::Database(_)), "{e:?}");
    assert_dead(StoreError::from(e), "NOT NULL violation");
    assert_dead(
        StoreError::from(not_null().await).doing("x"),
        "NOT NULL, context",
    );

    let decode = || async {
        let row = sqlx::query("SELECT label FROM failures WHERE id = 'a'")
            .fetch_one(db.read())
            .await
            .unwrap();
        row.try_get::<i64, _>(0).unwrap_err()
    };
    let e = decode().await;
    assert!(matches!(&e, sqlx::Error::ColumnDecode { .. }), "{e:?}");
    assert_dead(StoreError::from(e), "decode error");
    assert_dead(
        StoreError::from(decode().await).doing("x"),
        "decode, context",
    );

    let missing = || async {
        sqlx::query("SELECT n FROM failures WHERE id = 'nobody'")
            .fetch_one(db.read())
            .await
            .err()
            .expect("no row")
    };
    let e = missing().await;
    assert!(matches!(&e, sqlx::Error::RowNotFound), "{e:?}");
    assert_dead(StoreError::from(e), "row not found");
    assert_dead(
        StoreError::from(missing().await).doing("x"),
        "row not found, context",
    );

    let no_table = sqlx::query("SELECT n FROM no_such_table")
        .execute(db.read())
        .await
        .unwrap_err();
    assert_dead(StoreError::from(no_table), "a bug in the SQL");

    both_ways(|| StoreError::NotFound, assert_dead, "store's not found");
    both_ways(
        || StoreError::Corrupt("unknown role \"x\"".into()),
        assert_dead,
        "corrupt data",
    );
    both_ways(
        || StoreError::bug("no outcome for the delivery"),
        assert_dead,
        "a bug",
    );
}

async fn transient_failures_are_retried(t: &TestDb) {
    // A pool with one connection, taken: the next transaction times out waiting.
    let mut cfg = DbConfig::new(&t.url);
    cfg.max_connections = 1;
    cfg.acquire_timeout = Duration::from_millis(200);
    let small = Db::connect(&cfg).await.unwrap();
    let held = small.write().acquire().await.unwrap();
    let nothing = || small.tx(|_| Box::pin(async move { Ok(()) }));
    let e = nothing().await.unwrap_err();
    assert!(
        matches!(&e, StoreError::Sqlx(sqlx::Error::PoolTimedOut)),
        "{e:?}"
    );
    assert_retried(e, "pool exhausted");
    let e = nothing().await.unwrap_err().doing("claiming a job");
    assert_retried(e, "pool exhausted, context");
    drop(held);

    // The pool closed under the job (a shutdown).
    small.close().await;
    let e = small.ping().await.unwrap_err();
    assert!(
        matches!(&e, StoreError::Sqlx(sqlx::Error::PoolClosed)),
        "{e:?}"
    );
    assert_retried(e, "pool closed");
}

/// Another process (the CLI, a second worker) holds SQLite's write lock longer than the busy
/// timeout: "database is locked".
async fn sqlite_busy_is_retried(t: &TestDb) {
    let mut cfg = DbConfig::new(&t.url);
    cfg.statement_timeout = Duration::from_millis(100);
    let other = Db::connect(&cfg).await.unwrap();
    let mut holder = t.db.write().acquire().await.unwrap();
    sqlx::raw_sql("BEGIN IMMEDIATE")
        .execute(&mut *holder)
        .await
        .unwrap();
    let e = other
        .tx(|_| Box::pin(async move { Ok(()) }))
        .await
        .unwrap_err();
    sqlx::raw_sql("ROLLBACK")
        .execute(&mut *holder)
        .await
        .unwrap();
    assert!(
        store::error::report(&e).contains("locked"),
        "{}",
        store::error::report(&e)
    );
    both_ways_owned(e, "SQLite busy");
    other.close().await;
}

/// Checks an error both bare and with context, from one real occurrence.
fn both_ways_owned(e: StoreError, why: &str) {
    let text = store::error::report(&e);
    let wrapped = StoreError::internal("advancing a conversation", e);
    assert!(wrapped.is_transient(), "{why}, with context: {text}");
    let StoreError::Internal {
        source: Some(inner),
        ..
    } = wrapped
    else {
        unreachable!()
    };
    let inner = *inner.downcast::<StoreError>().unwrap();
    assert_retried(inner, why);
}

async fn postgres_timeouts_conflicts_and_lost_connections_are_retried(t: &TestDb) {
    // statement_timeout: 57014 query_canceled.
    let mut cfg = DbConfig::new(&t.url);
    cfg.statement_timeout = Duration::from_millis(100);
    let impatient = Db::connect(&cfg).await.unwrap();
    let e = sqlx::query("SELECT pg_sleep(2)")
        .execute(impatient.write())
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "57014", "{e:?}");
    both_ways_owned(StoreError::from(e), "statement timeout");
    impatient.close().await;

    let db = &t.db;
    sqlx::query("CREATE TABLE contended (id TEXT PRIMARY KEY, n BIGINT NOT NULL)")
        .execute(db.write())
        .await
        .unwrap();
    sqlx::query("INSERT INTO contended (id, n) VALUES ('a', 0), ('b', 0)")
        .execute(db.write())
        .await
        .unwrap();

    // Serialization failure (40001): a REPEATABLE READ transaction updates a row another
    // transaction changed after its snapshot.
    let mut t1 = db.write().acquire().await.unwrap();
    sqlx::raw_sql("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT n FROM contended")
        .execute(&mut *t1)
        .await
        .unwrap();
    sqlx::query("UPDATE contended SET n = n + 1 WHERE id = 'a'")
        .execute(db.write())
        .await
        .unwrap();
    let e = sqlx::query("UPDATE contended SET n = n + 10 WHERE id = 'a'")
        .execute(&mut *t1)
        .await
        .unwrap_err();
    sqlx::raw_sql("ROLLBACK").execute(&mut *t1).await.unwrap();
    assert_eq!(sqlstate(&e), "40001", "{e:?}");
    both_ways_owned(StoreError::from(e), "serialization failure");

    // Deadlock (40P01): two transactions lock the two rows in opposite orders.
    let mut t2 = db.write().acquire().await.unwrap();
    for (c, row) in [(&mut *t1, "a"), (&mut *t2, "b")] {
        sqlx::raw_sql("BEGIN; SET LOCAL deadlock_timeout = '50ms'")
            .execute(&mut *c)
            .await
            .unwrap();
        sqlx::query("UPDATE contended SET n = n + 1 WHERE id = $1")
            .bind(row)
            .execute(&mut *c)
            .await
            .unwrap();
    }
    let (r1, r2) = tokio::join!(
        sqlx::query("UPDATE contended SET n = n + 1 WHERE id = 'b'").execute(&mut *t1),
        sqlx::query("UPDATE contended SET n = n + 1 WHERE id = 'a'").execute(&mut *t2),
    );
    let e = match (r1, r2) {
        (Err(e), Ok(_)) | (Ok(_), Err(e)) => e,
        other => panic!("expected one deadlock victim: {other:?}"),
    };
    for c in [&mut *t1, &mut *t2] {
        sqlx::raw_sql("ROLLBACK").execute(c).await.unwrap();
    }
    assert_eq!(sqlstate(&e), "40P01", "{e:?}");
    both_ways_owned(StoreError::from(e), "deadlock");

    // The server ends the connection (a restart, a failover): admin shutdown or I/O error.
    let pid: i32 = sqlx::query("SELECT pg_backend_pid()")
        .fetch_one(&mut *t1)
        .await
        .unwrap()
        .get(0);
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .execute(&mut *t2)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let e = sqlx::query("SELECT 1").execute(&mut *t1).await.unwrap_err();
    t1.close_on_drop();
    both_ways_owned(StoreError::from(e), "connection terminated");
}

fn sqlstate(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => d.code().unwrap_or_default().into_owned(),
        other => panic!("not a database error: {other:?}"),
    }
}
