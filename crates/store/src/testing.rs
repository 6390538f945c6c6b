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
                let admin = Db::connect(&DbConfig::new(&admin_url))
                    .await
                    .expect("postgres admin connection");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(admin.write())
                    .await
                    .expect("create test database");
                admin.close().await;
                let url = replace_db_name(&admin_url, &name);
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
                    rt.block_on(async {
                        let admin = Db::connect(&DbConfig::new(&admin_url)).await.ok()?;
                        let _ =
                            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(admin.write())
                                .await;
                        admin.close().await;
                        Some(())
                    })
                })
                .join();
            }
        }
    }
}

/// `postgres://u@h:5432/test?x` → `postgres://u@h:5432/NAME?x`
pub fn replace_db_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[scheme_end..].find('/').map(|i| i + scheme_end);
    let host = match path_start {
        Some(p) => &base[..p],
        None => base,
    };
    match query {
        Some(q) => format!("{host}/{name}?{q}"),
        None => format!("{host}/{name}"),
    }
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
