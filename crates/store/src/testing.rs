//! Fresh databases for tests, on both engines.
//!
//! SQLite: a file in a temporary directory. PostgreSQL: a new database on the server named by
//! `ORCAZAP_TEST_POSTGRES_URL` (e.g. `postgres://postgres@127.0.0.1:5432/test`), dropped
//! when the handle is dropped. Without that variable PostgreSQL tests are skipped with a
//! [`skip_notice`] — except in CI ([`in_ci`]), where a missing PostgreSQL is a failure.

use crate::db::{Db, DbConfig, Engine};

pub const POSTGRES_ENV: &str = "ORCAZAP_TEST_POSTGRES_URL";

pub struct TestDb {
    pub db: Db,
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(std::path::PathBuf),
    Postgres { admin_url: String, name: String },
}

/// The marker that starts a skip notice; `scripts/test.sh` finds it in nextest's JUnit report
/// (which keeps passing tests' output) and counts the test as skipped, not passed.
pub const SKIP_MARKER: &str = "ORCAZAP-SKIP";

/// Whether tests run in CI, where nothing may be skipped. CI services set `CI=true`, others
/// `CI=1` or `CI=yes`: any value except empty, `0`, `false`, `no` and `off` (any case) counts,
/// so an unusual spelling fails closed. Same rule as `scripts/ci-env.sh`.
pub fn in_ci() -> bool {
    ci_value_means_ci(std::env::var("CI").ok().as_deref())
}

fn ci_value_means_ci(value: Option<&str>) -> bool {
    let v = value.unwrap_or("").trim().to_ascii_lowercase();
    !matches!(v.as_str(), "" | "0" | "false" | "no" | "off")
}

/// Says, on stderr, that part of the current test did not run: `suite` names what was skipped
/// and `enable` how to run it. One line, starting with [`SKIP_MARKER`]. Panics in CI instead.
pub fn skip_notice(suite: &str, enable: &str) {
    if in_ci() {
        panic!(
            "{suite} skipped in CI (CI={:?}), where nothing may be skipped: {enable}",
            std::env::var("CI").unwrap_or_default()
        );
    }
    eprintln!("{SKIP_MARKER} [{suite}]: {enable}");
}

/// A PDF read back as text with poppler's `pdftotext -layout`, or None (after a
/// [`skip_notice`], a failure in CI) when poppler is not installed. Shared by the quote PDF's
/// own tests and the black-box test of the PDF a customer receives.
pub fn pdf_text(pdf: &[u8]) -> Option<String> {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("orcazap-pdf-{}-{n}.pdf", std::process::id()));
    std::fs::write(&path, pdf).expect("a temporary file for the PDF");
    let out = std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(&path)
        .arg("-")
        .output();
    let _ = std::fs::remove_file(&path);
    match out {
        Ok(out) => {
            assert!(
                out.status.success(),
                "pdftotext: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            Some(String::from_utf8(out.stdout).expect("pdftotext writes UTF-8"))
        }
        Err(_) => {
            skip_notice("quote PDF text", "install poppler-utils (pdftotext)");
            None
        }
    }
}

/// The PostgreSQL admin URL for tests, or None (after a [`skip_notice`]) when tests should skip.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var(POSTGRES_ENV) {
        Ok(u) if !u.trim().is_empty() => Some(u),
        _ => {
            skip_notice(
                "PostgreSQL",
                &format!("set {POSTGRES_ENV}=postgres://postgres@127.0.0.1:5432/test to run it"),
            );
            None
        }
    }
}

impl TestDb {
    /// A migrated fresh database, or None when the engine is not available here.
    pub async fn new(engine: Engine) -> Option<TestDb> {
        let t = Self::empty(engine).await?;
        crate::migrate::up(&t.db).await.expect("migrations apply");
        Some(t)
    }

    /// A fresh database without migrations.
    pub async fn empty(engine: Engine) -> Option<TestDb> {
        match engine {
            Engine::Sqlite => {
                let dir =
                    std::env::temp_dir().join(format!("orcazap-test-{}", uuid::Uuid::new_v4()));
                std::fs::create_dir_all(&dir).expect("temp dir");
                let url = format!("sqlite://{}", dir.join("test.db").display());
                let db = Db::connect(&DbConfig::new(&url))
                    .await
                    .expect("sqlite opens");
                Some(TestDb {
                    db,
                    url,
                    cleanup: Cleanup::Dir(dir),
                })
            }
            Engine::Postgres => {
                let admin_url = postgres_admin_url()?;
                let name = format!("orcazap_t_{}", uuid::Uuid::new_v4().simple());
                let url = crate::scratch::create_database(&admin_url, &name)
                    .await
                    .expect("create test database");
                let mut cfg = DbConfig::new(&url);
                cfg.max_connections = 20;
                let db = Db::connect(&cfg).await.expect("postgres test db opens");
                Some(TestDb {
                    db,
                    url,
                    cleanup: Cleanup::Postgres { admin_url, name },
                })
            }
        }
    }
}

/// What a both-engines test runs against: a fresh database ([`TestDb`]), or something built on
/// one (the test kit's running application). See [`both_engines!`](crate::both_engines).
pub trait Fixture: Sized {
    /// None when the engine is not available here (PostgreSQL without its URL, outside CI).
    fn start(engine: Engine) -> impl std::future::Future<Output = Option<Self>>;

    /// After the scenario returned: the checks that need the end of the test, a graceful stop.
    fn finish(self) -> impl std::future::Future<Output = ()> {
        async {}
    }
}

impl Fixture for TestDb {
    async fn start(engine: Engine) -> Option<TestDb> {
        TestDb::new(engine).await
    }
}

/// Declares, for each scenario `async fn name(fixture: &F)` of the enclosing module, the tests
/// `sqlite::name` and `postgres::name`: each starts a fresh `F` ([`Fixture`]) on its engine,
/// runs the scenario and finishes the fixture. SQLite is always there; PostgreSQL is skipped
/// with a notice outside CI when `ORCAZAP_TEST_POSTGRES_URL` is unset.
///
/// ```ignore
/// store::both_engines!(TestDb; tenant_isolation_in_queries, receipts_never_move_backwards);
/// store::both_engines!(TestDb, worker_threads = 4; quote_numbers_unique_under_concurrency);
/// ```
#[macro_export]
macro_rules! both_engines {
    ($fixture:ty; $($name:ident),* $(,)?) => {
        $crate::both_engines!($fixture, worker_threads = 2; $($name),*);
    };
    ($fixture:ty, worker_threads = $threads:tt; $($name:ident),* $(,)?) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = $threads)]
                async fn $name() {
                    let fixture = <$fixture as $crate::testing::Fixture>::start($crate::Engine::Sqlite)
                        .await
                        .expect("SQLite is always available");
                    super::$name(&fixture).await;
                    $crate::testing::Fixture::finish(fixture).await;
                }
            )*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = $threads)]
                async fn $name() {
                    if let Some(fixture) =
                        <$fixture as $crate::testing::Fixture>::start($crate::Engine::Postgres).await
                    {
                        super::$name(&fixture).await;
                        $crate::testing::Fixture::finish(fixture).await;
                    }
                }
            )*
        }
    };
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres { admin_url, name } => {
                // Drop from a fresh thread with its own runtime: Drop cannot be async. Nothing
                // here may wait on the test's runtime (Drop runs on one of its threads), so the
                // pool is not closed: DROP … WITH (FORCE) ends its connections.
                let (admin_url, name) = (admin_url.clone(), name.clone());
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .ok()?;
                    rt.block_on(crate::scratch::drop_database(&admin_url, &name))
                        .ok()
                })
                .join();
            }
        }
    }
}

/// Moves every account link (`store::accounts`) `ms` into the past: its expiry with it.
pub async fn age_account_tokens(db: &Db, ms: i64) {
    sqlx::query(
        "UPDATE account_tokens SET created_at = created_at - $1, expires_at = expires_at - $1",
    )
    .bind(ms)
    .execute(db.write())
    .await
    .unwrap();
}

/// Forgets every login failure and lockout (a test that locked an account on purpose goes on).
pub async fn clear_login_throttle(db: &Db) {
    sqlx::query("DELETE FROM login_throttle")
        .execute(db.write())
        .await
        .unwrap();
}

/// A job waiting for its retry becomes due now.
pub async fn make_job_due(db: &Db, id: &str) {
    sqlx::query("UPDATE jobs SET run_at = 0 WHERE id = $1")
        .bind(id)
        .execute(db.write())
        .await
        .unwrap();
}

#[cfg(test)]
mod tests {
    use super::ci_value_means_ci;

    #[test]
    fn every_truthy_ci_spelling_counts_as_ci() {
        for v in ["true", "TRUE", "True", "1", "yes", "YES", "on", "gitlab"] {
            assert!(ci_value_means_ci(Some(v)), "CI={v}");
        }
        for v in ["", " ", "0", "false", "False", "no", "NO", "off"] {
            assert!(!ci_value_means_ci(Some(v)), "CI={v:?}");
        }
        assert!(!ci_value_means_ci(None));
    }
}
