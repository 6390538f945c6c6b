//! What can go wrong in the store, and whether trying again can help.
//!
//! Three kinds of failure travel in [`StoreError`], and callers treat them differently:
//! - outcomes the caller acts on: [`StoreError::NotFound`] and [`StoreError::Conflict`] (a
//!   unique constraint refused the write; its message is pt-BR, for the user);
//! - faults, logged and never shown to a user: everything else. [`StoreError::Internal`] says
//!   what was being done and keeps its cause as the error's `source`, so a log line that
//!   prints the chain ([`report`]) reads "recording webhook delivery: …: connection reset";
//! - among faults, transient ones (the database away, busy or timing out) are worth retrying;
//!   [`StoreError::is_transient`] looks through the whole chain to decide.

use std::error::Error as StdError;

/// Any error, as the cause of an [`StoreError::Internal`].
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database configuration: {0}")]
    Config(String),
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write. Only [`StoreError::from_unique`] makes it: the
    /// message says in pt-BR what is taken, and the web shows it to the user.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("invalid data in database: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error("database task failed: {0}")]
    Task(String),
    /// A fault while doing something. The text says what was being done; the cause, if any,
    /// is the `source` (not repeated in the text, so a chain printer shows each part once).
    #[error("{doing}")]
    Internal {
        doing: String,
        #[source]
        source: Option<BoxError>,
    },
}

impl StoreError {
    /// Unique-constraint violations become conflicts the web layer turns into 409/422.
    pub fn from_unique(e: sqlx::Error, what: &str) -> StoreError {
        if let sqlx::Error::Database(db) = &e {
            if db.is_unique_violation() {
                return StoreError::Conflict(what.to_string());
            }
        }
        StoreError::Sqlx(e)
    }

    /// A fault with its cause.
    pub fn internal(doing: impl Into<String>, source: impl Into<BoxError>) -> StoreError {
        StoreError::Internal {
            doing: doing.into(),
            source: Some(source.into()),
        }
    }

    /// A fault with no underlying error: the store's own expectation did not hold.
    pub fn bug(what: impl Into<String>) -> StoreError {
        StoreError::Internal {
            doing: what.into(),
            source: None,
        }
    }

    /// Says what was being done when a fault happened, for the log. Outcomes the caller acts
    /// on (not found, a unique conflict) pass unchanged, so callers still match on them.
    pub fn doing(self, what: impl Into<String>) -> StoreError {
        match self {
            e @ (StoreError::NotFound | StoreError::Conflict(_)) => e,
            fault => StoreError::internal(what, fault),
        }
    }

    /// Errors worth retrying a moment later: the database unreachable, the pool exhausted or
    /// closed, a lock or statement timeout, a serialization failure or deadlock, SQLite busy.
    /// Everything else (constraint violations, decode and type errors, a missing row, bad
    /// data, bugs) fails the same way every time.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Sqlx(e) => sqlx_is_transient(e),
            // The transaction's task did not finish: a shutdown, or the recorder stopping.
            StoreError::Task(_) => true,
            StoreError::Internal {
                source: Some(cause),
                ..
            } => {
                if let Some(e) = cause.downcast_ref::<StoreError>() {
                    e.is_transient()
                } else if let Some(e) = cause.downcast_ref::<sqlx::Error>() {
                    sqlx_is_transient(e)
                } else {
                    false
                }
            }
            _ => false,
        }
    }
}

/// Adds what was being done to a failed store call: `store_call().await.doing("…")?`.
pub trait Doing<T> {
    fn doing(self, what: &str) -> Result<T, StoreError>;
}

impl<T> Doing<T> for Result<T, StoreError> {
    fn doing(self, what: &str) -> Result<T, StoreError> {
        self.map_err(|e| e.doing(what))
    }
}

fn sqlx_is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            let sqlite = db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some();
            db.code().is_some_and(|c| match sqlite {
                true => sqlite_code_is_transient(&c),
                false => sqlstate_is_transient(&c),
            })
        }
        // Decode and type errors, RowNotFound, configuration, encoding: retrying cannot help.
        _ => false,
    }
}

/// SQLite extended result codes (decimal text; the primary code is the low byte) worth
/// retrying: SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_FULL — another writer holds
/// the file, or the disk failed or filled up and an operator's fix makes the retry succeed.
fn sqlite_code_is_transient(code: &str) -> bool {
    code.parse::<i64>()
        .is_ok_and(|n| matches!(n & 0xff, 5 | 6 | 10 | 13))
}

/// PostgreSQL SQLSTATEs worth retrying.
fn sqlstate_is_transient(code: &str) -> bool {
    matches!(
        code,
        // serialization_failure, deadlock_detected
        "40001" | "40P01"
        // query_canceled (statement_timeout), lock_not_available
        | "57014" | "55P03"
        // admin_shutdown, crash_shutdown, cannot_connect_now
        | "57P01" | "57P02" | "57P03"
    ) || code.starts_with("08") // connection exception
        || code.starts_with("53") // insufficient resources (disk full, out of memory, too many connections)
        || code.starts_with("58") // system error (I/O)
}

/// An error and its causes on one line, outermost first: "doing: cause: cause". For logs:
/// `tracing::warn!(error = %store::error::report(&e), …)`.
pub fn report(e: &(dyn StdError + 'static)) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        // `#[error(transparent)]` wrappers repeat their cause's text: print it once.
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_keeps_outcomes_and_wraps_faults() {
        assert!(matches!(
            StoreError::NotFound.doing("loading"),
            StoreError::NotFound
        ));
        assert!(matches!(
            StoreError::Conflict("já existe".into()).doing("saving"),
            StoreError::Conflict(m) if m == "já existe"
        ));
        let e = StoreError::Corrupt("bad role".into()).doing("loading the team");
        assert_eq!(e.to_string(), "loading the team");
        assert_eq!(
            report(&e),
            "loading the team: invalid data in database: bad role"
        );
        assert!(!e.is_transient());
    }

    #[test]
    fn transient_through_context() {
        let e = StoreError::from(sqlx::Error::PoolTimedOut).doing("claiming a job");
        assert!(e.is_transient());
        let e = StoreError::internal("recording", sqlx::Error::PoolClosed).doing("outer");
        assert!(e.is_transient());
        assert!(!StoreError::from(sqlx::Error::RowNotFound).is_transient());
        assert!(!StoreError::bug("no outcome").is_transient());
    }

    #[test]
    fn codes() {
        for c in ["40001", "40P01", "57014", "08006", "53300", "57P01"] {
            assert!(sqlstate_is_transient(c), "{c}");
        }
        for c in ["23505", "23503", "22P02", "42P01", "42703", "XX000"] {
            assert!(!sqlstate_is_transient(c), "{c}");
        }
        for c in ["5", "517", "6", "10", "13"] {
            assert!(sqlite_code_is_transient(c), "{c}");
        }
        for c in ["2067", "19", "1", "787", "20"] {
            assert!(!sqlite_code_is_transient(c), "{c}");
        }
    }
}
