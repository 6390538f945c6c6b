//! Connecting to the database and running transactions safely.

use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, ConnectOptions, Executor};

pub use crate::error::StoreError;

/// Which database engine a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    /// Refuses unknown schemes instead of silently creating an empty file.
    pub fn from_url(url: &str) -> Result<Engine, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Engine::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Engine::Postgres)
        } else {
            Err(StoreError::Config(format!(
                "unsupported database URL scheme in {:?}: use sqlite://PATH or postgres://…",
                redact_url(url)
            )))
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

/// Pool and timeout settings, from configuration.
#[derive(Debug, Clone)]
pub struct DbConfig {
    pub url: String,
    /// Connections in the pool (PostgreSQL) or readers (SQLite; writes use one connection).
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// PostgreSQL `statement_timeout`; SQLite `busy_timeout`.
    pub statement_timeout: Duration,
    /// SQLite `synchronous` pragma (`NORMAL` is safe with WAL).
    pub sqlite_synchronous: String,
}

impl DbConfig {
    pub fn new(url: impl Into<String>) -> DbConfig {
        DbConfig {
            url: url.into(),
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(10),
            sqlite_synchronous: "NORMAL".into(),
        }
    }
}

/// The work of a transaction ([`Db::tx_with`]): a boxed future borrowing the connection.
pub type TxFut<'c, T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>;
/// The work of a [`Db::tx`].
pub type BoxFut<'c, T> = TxFut<'c, T, StoreError>;

/// The database handle: cheap to clone.
///
/// On SQLite all writes go through one connection (SQLite has one writer anyway; a pool of
/// writers only adds busy-wait sleeps and p99 spikes) and reads through a small pool. On
/// PostgreSQL both are the same pool.
#[derive(Clone)]
pub struct Db {
    inner: Arc<DbInner>,
}

struct DbInner {
    engine: Engine,
    write: AnyPool,
    read: AnyPool,
    url: String,
    /// Tells workers that committed jobs are ready ([`crate::notify`]).
    bell: crate::notify::Bell,
}

impl Db {
    pub async fn connect(cfg: &DbConfig) -> Result<Db, StoreError> {
        sqlx::any::install_default_drivers();
        let engine = Engine::from_url(&cfg.url)?;
        match engine {
            Engine::Sqlite => {
                let url = sqlite_url_with_create(&cfg.url);
                let opts = AnyConnectOptions::from_str(&url)?.disable_statement_logging();
                let busy_ms = cfg.statement_timeout.as_millis();
                let sync = match cfg.sqlite_synchronous.to_uppercase().as_str() {
                    s @ ("OFF" | "NORMAL" | "FULL" | "EXTRA") => s.to_string(),
                    other => {
                        return Err(StoreError::Config(format!(
                            "invalid SQLite synchronous setting {other:?}"
                        )))
                    }
                };
                let pragmas = format!(
                    "PRAGMA journal_mode=WAL; PRAGMA busy_timeout={busy_ms}; PRAGMA synchronous={sync}; PRAGMA foreign_keys=ON;"
                );
                let p1 = pragmas.clone();
                let write = AnyPoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(cfg.acquire_timeout)
                    .after_connect(move |conn, _| {
                        let p = p1.clone();
                        Box::pin(async move {
                            conn.execute(sqlx::raw_sql(&p)).await?;
                            Ok(())
                        })
                    })
                    .connect_with(opts.clone())
                    .await?;
                // Readers open after the writer so the file exists and WAL is on.
                let read = AnyPoolOptions::new()
                    .max_connections(cfg.max_connections.clamp(1, 8))
                    .acquire_timeout(cfg.acquire_timeout)
                    .after_connect(move |conn, _| {
                        let p = pragmas.clone();
                        Box::pin(async move {
                            conn.execute(sqlx::raw_sql(&p)).await?;
                            Ok(())
                        })
                    })
                    .connect_with(opts)
                    .await?;
                Ok(Db {
                    inner: Arc::new(DbInner {
                        engine,
                        write,
                        read,
                        url: cfg.url.clone(),
                        bell: crate::notify::Bell::new(),
                    }),
                })
            }
            Engine::Postgres => {
                let opts = AnyConnectOptions::from_str(&cfg.url)?.disable_statement_logging();
                let stmt_ms = cfg.statement_timeout.as_millis();
                let pool = AnyPoolOptions::new()
                    .max_connections(cfg.max_connections.max(1))
                    .acquire_timeout(cfg.acquire_timeout)
                    .after_connect(move |conn, _| {
                        Box::pin(async move {
                            conn.execute(sqlx::raw_sql(&format!(
                                "SET statement_timeout = {stmt_ms}"
                            )))
                            .await?;
                            Ok(())
                        })
                    })
                    .connect_with(opts)
                    .await?;
                Ok(Db {
                    inner: Arc::new(DbInner {
                        engine,
                        write: pool.clone(),
                        read: pool,
                        url: cfg.url.clone(),
                        bell: crate::notify::Bell::new(),
                    }),
                })
            }
        }
    }

    pub fn engine(&self) -> Engine {
        self.inner.engine
    }

    /// Tells workers that jobs this process committed are ready ([`crate::notify`]). Call it
    /// after the commit; [`Db::tx`] does when its transaction added a job.
    pub fn jobs_ready(&self) {
        self.inner.bell.ring(self.inner.engine, &self.inner.write);
    }

    pub(crate) fn bell(&self) -> &crate::notify::Bell {
        &self.inner.bell
    }

    /// Size limit of the write pool (1 on SQLite).
    pub fn max_write_connections(&self) -> u32 {
        self.inner.write.options().get_max_connections()
    }

    /// The pool for reads.
    pub fn read(&self) -> &AnyPool {
        &self.inner.read
    }

    /// The pool for writes (single connection on SQLite).
    pub fn write(&self) -> &AnyPool {
        &self.inner.write
    }

    /// The URL this handle was opened with (contains credentials: never log it raw).
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// Pool usage for metrics: (pool, in use, idle, max).
    pub fn pool_stats(&self) -> Vec<(&'static str, u32, u32, u32)> {
        let stat = |name, p: &AnyPool| {
            let idle = p.num_idle() as u32;
            (
                name,
                p.size().saturating_sub(idle),
                idle,
                p.options().get_max_connections(),
            )
        };
        let mut v = vec![stat("write", &self.inner.write)];
        if self.inner.engine == Engine::Sqlite {
            v.push(stat("read", &self.inner.read));
        }
        v
    }

    /// Runs `f` inside one transaction on the write pool, in a spawned task so that a caller
    /// that goes away (an HTTP client hanging up, a shutdown) cannot cancel it half-way and
    /// leave a pooled connection inside an open transaction. Commits when `f` succeeds,
    /// rolls back otherwise. When `f` added a job ([`crate::jobs::enqueue`]), workers are
    /// told after the commit ([`Db::jobs_ready`]).
    pub async fn tx<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut AnyConnection) -> BoxFut<'c, T> + Send + 'static,
    {
        self.tx_with(f).await
    }

    /// [`Db::tx`] for work that can also fail with its own error `E` — a business refusal
    /// such as "essa aprovação já foi decidida" decided half-way — rolled back like any
    /// failure. Store errors inside `f` convert with `?`.
    pub async fn tx_with<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: for<'c> FnOnce(&'c mut AnyConnection) -> TxFut<'c, T, E> + Send + 'static,
    {
        let db = self.clone();
        let handle = tokio::spawn(async move {
            let (pool, engine) = (&db.inner.write, db.inner.engine);
            let waited = std::time::Instant::now();
            let mut conn = pool.acquire().await.map_err(StoreError::from)?;
            metrics::histogram!("orcazap_db_acquire_wait_seconds")
                .record(waited.elapsed().as_secs_f64());
            // SQLite: take the write lock up front so a read-then-write transaction cannot
            // fail half-way with SQLITE_BUSY when another process (the CLI) also writes.
            let begin = match engine {
                Engine::Sqlite => "BEGIN IMMEDIATE",
                Engine::Postgres => "BEGIN",
            };
            conn.execute(sqlx::raw_sql(begin))
                .await
                .map_err(StoreError::from)?;
            match crate::notify::noting_jobs(f(&mut conn)).await {
                (Ok(v), job_added) => {
                    conn.execute(sqlx::raw_sql("COMMIT"))
                        .await
                        .map_err(StoreError::from)?;
                    if job_added {
                        db.jobs_ready();
                    }
                    Ok(v)
                }
                (Err(e), _) => {
                    if let Err(rb) = conn.execute(sqlx::raw_sql("ROLLBACK")).await {
                        // The connection is in an unknown state: don't return it to the pool.
                        tracing::warn!(error = %rb, "rollback failed; closing connection");
                        conn.close_on_drop();
                    }
                    Err(e)
                }
            }
        });
        handle
            .await
            .map_err(|e| E::from(StoreError::Task(e.to_string())))?
    }

    /// Is the database reachable?
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.inner.read).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.inner.write.close().await;
        self.inner.read.close().await;
    }
}

/// `sqlite://orcazap.db` → create the file if missing (`mode=rwc`).
fn sqlite_url_with_create(url: &str) -> String {
    if url.contains("mode=") || url.contains(":memory:") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

/// Hides the password of a database URL for logs and error messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}://{}:***@{}", &url[..s], user, &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

/// A new time-ordered id (UUIDv7) as text.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Now, in unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(Engine::from_url("sqlite://x.db").unwrap(), Engine::Sqlite);
        assert_eq!(
            Engine::from_url("postgres://u@h/db").unwrap(),
            Engine::Postgres
        );
        assert!(Engine::from_url("mysql://x").is_err());
        assert!(Engine::from_url("orcazap.db").is_err());
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(
            sqlite_url_with_create("sqlite://a.db"),
            "sqlite://a.db?mode=rwc"
        );
    }
}
