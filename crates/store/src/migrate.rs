//! Versioned migrations with working `down` steps, embedded in the binary.
//!
//! The schema uses only types both engines share, so each version has one `up` and one `down`
//! file for both. Should a version ever need engine-specific SQL, give it a `postgres_up` /
//! `postgres_down` override here; the conformance tests compare the resulting schemas of
//! both engines, so drift is caught.

use sqlx::{Executor, Row};

use crate::db::{now_ms, Db, Engine, StoreError};

pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    /// Both engines, unless `postgres` overrides it. May be empty (nothing to do).
    pub up: &'static str,
    pub down: &'static str,
    /// PostgreSQL-only (up, down), run there instead of `up`/`down`: server-side code that
    /// SQLite does in Rust. Tables and indexes never go here, so the schemas stay identical.
    pub postgres: Option<(&'static str, &'static str)>,
}

impl Migration {
    fn up_for(&self, engine: Engine) -> &'static str {
        match (engine, self.postgres) {
            (Engine::Postgres, Some((up, _))) => up,
            _ => self.up,
        }
    }

    fn down_for(&self, engine: Engine) -> &'static str {
        match (engine, self.postgres) {
            (Engine::Postgres, Some((_, down))) => down,
            _ => self.down,
        }
    }
}

/// Runs a migration's SQL; an empty text is a version with nothing to do on this engine.
async fn run_sql(c: &mut sqlx::AnyConnection, sql: &'static str) -> Result<(), StoreError> {
    if !sql.trim().is_empty() {
        c.execute(sqlx::raw_sql(sql)).await?;
    }
    Ok(())
}

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "core",
        up: include_str!("../migrations/0001_core.up.sql"),
        down: include_str!("../migrations/0001_core.down.sql"),
        postgres: None,
    },
    Migration {
        version: 2,
        name: "hot_path_indexes",
        up: include_str!("../migrations/0002_hot_path_indexes.up.sql"),
        down: include_str!("../migrations/0002_hot_path_indexes.down.sql"),
        postgres: None,
    },
    Migration {
        version: 3,
        name: "record_delivery",
        // SQLite stores a delivery with the portable code in `inbound.rs`.
        up: "",
        down: "",
        postgres: Some((
            include_str!("../migrations/0003_record_delivery.postgres.up.sql"),
            include_str!("../migrations/0003_record_delivery.postgres.down.sql"),
        )),
    },
    Migration {
        version: 4,
        name: "job_lanes",
        up: include_str!("../migrations/0004_job_lanes.up.sql"),
        down: include_str!("../migrations/0004_job_lanes.down.sql"),
        postgres: None,
    },
    Migration {
        version: 5,
        name: "store_profile_pix",
        up: include_str!("../migrations/0005_store_profile_pix.up.sql"),
        down: include_str!("../migrations/0005_store_profile_pix.down.sql"),
        postgres: None,
    },
    Migration {
        version: 6,
        name: "user_ids_early_receipts",
        up: include_str!("../migrations/0006_user_ids_early_receipts.up.sql"),
        down: include_str!("../migrations/0006_user_ids_early_receipts.down.sql"),
        // The same columns and index, plus the webhook function that fills them.
        postgres: Some((
            concat!(
                include_str!("../migrations/0006_user_ids_early_receipts.up.sql"),
                include_str!("../migrations/0006_record_delivery.postgres.up.sql"),
            ),
            concat!(
                include_str!("../migrations/0006_record_delivery.postgres.down.sql"),
                include_str!("../migrations/0003_record_delivery.postgres.up.sql"),
                include_str!("../migrations/0006_user_ids_early_receipts.down.sql"),
            ),
        )),
    },
    Migration {
        version: 7,
        name: "window_from_meta",
        // SQLite measures the window in the portable code (`conversations::window_start`).
        up: "",
        down: "",
        postgres: Some((
            include_str!("../migrations/0007_window_from_meta.postgres.up.sql"),
            // Down restores 0006's function as it was (its text drops this one first).
            concat!(
                include_str!("../migrations/0007_window_from_meta.postgres.down.sql"),
                include_str!("../migrations/0006_record_delivery.postgres.up.sql"),
            ),
        )),
    },
    Migration {
        version: 8,
        name: "person_queue",
        up: include_str!("../migrations/0008_person_queue.up.sql"),
        down: include_str!("../migrations/0008_person_queue.down.sql"),
        postgres: None,
    },
    Migration {
        version: 9,
        name: "quote_pdf",
        up: include_str!("../migrations/0009_quote_pdf.up.sql"),
        down: include_str!("../migrations/0009_quote_pdf.down.sql"),
        postgres: None,
    },
    Migration {
        version: 10,
        name: "attendant_approval_limit",
        up: include_str!("../migrations/0010_attendant_approval_limit.up.sql"),
        down: include_str!("../migrations/0010_attendant_approval_limit.down.sql"),
        postgres: None,
    },
    Migration {
        version: 11,
        name: "inbox",
        up: include_str!("../migrations/0011_inbox.up.sql"),
        down: include_str!("../migrations/0011_inbox.down.sql"),
        postgres: None,
    },
    Migration {
        version: 12,
        name: "settings_version",
        // Triggers differ in syntax (SQLite bodies, PostgreSQL a plpgsql function); the column
        // is the same on both.
        up: include_str!("../migrations/0012_settings_version.up.sql"),
        down: include_str!("../migrations/0012_settings_version.down.sql"),
        postgres: Some((
            include_str!("../migrations/0012_settings_version.postgres.up.sql"),
            include_str!("../migrations/0012_settings_version.postgres.down.sql"),
        )),
    },
    Migration {
        version: 13,
        name: "quote_link",
        up: include_str!("../migrations/0013_quote_link.up.sql"),
        down: include_str!("../migrations/0013_quote_link.down.sql"),
        postgres: None,
    },
    Migration {
        version: 14,
        name: "meta_templates_opt_out",
        up: include_str!("../migrations/0014_meta_templates_opt_out.up.sql"),
        down: include_str!("../migrations/0014_meta_templates_opt_out.down.sql"),
        postgres: None,
    },
    Migration {
        version: 15,
        name: "orders",
        up: include_str!("../migrations/0015_orders.up.sql"),
        down: include_str!("../migrations/0015_orders.down.sql"),
        postgres: None,
    },
    Migration {
        version: 16,
        name: "onboarding",
        up: include_str!("../migrations/0016_onboarding.up.sql"),
        down: include_str!("../migrations/0016_onboarding.down.sql"),
        postgres: None,
    },
    Migration {
        version: 17,
        name: "billing",
        up: include_str!("../migrations/0017_billing.up.sql"),
        down: include_str!("../migrations/0017_billing.down.sql"),
        postgres: None,
    },
    Migration {
        version: 18,
        name: "closing_sale",
        up: include_str!("../migrations/0018_closing_sale.up.sql"),
        down: include_str!("../migrations/0018_closing_sale.down.sql"),
        postgres: None,
    },
    Migration {
        version: 19,
        name: "assistant_budget",
        up: include_str!("../migrations/0019_assistant_budget.up.sql"),
        down: include_str!("../migrations/0019_assistant_budget.down.sql"),
        postgres: None,
    },
    Migration {
        version: 20,
        name: "media_files",
        up: include_str!("../migrations/0020_media_files.up.sql"),
        down: include_str!("../migrations/0020_media_files.down.sql"),
        postgres: None,
    },
    Migration {
        version: 21,
        name: "accounts",
        up: include_str!("../migrations/0021_accounts.up.sql"),
        down: include_str!("../migrations/0021_accounts.down.sql"),
        postgres: None,
    },
];

/// The schema version this binary expects.
pub fn latest_version() -> i64 {
    MIGRATIONS.last().map(|m| m.version).unwrap_or(0)
}

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)";

/// Versions applied, ascending.
pub async fn applied(db: &Db) -> Result<Vec<i64>, StoreError> {
    db.write().execute(CREATE_TABLE).await?;
    let rows = sqlx::query("SELECT version FROM schema_migrations ORDER BY version")
        .fetch_all(db.write())
        .await?;
    rows.iter()
        .map(|r| r.try_get::<i64, _>(0).map_err(StoreError::from))
        .collect()
}

/// Applies every pending migration, each in its own transaction. Returns the versions applied.
pub async fn up(db: &Db) -> Result<Vec<i64>, StoreError> {
    let done = applied(db).await?;
    if let Some(&max) = done.iter().max() {
        if max > latest_version() {
            return Err(StoreError::Config(format!(
                "the database is at schema version {max}, newer than this binary knows ({}); upgrade the binary",
                latest_version()
            )));
        }
    }
    let mut ran = Vec::new();
    for m in MIGRATIONS.iter().filter(|m| !done.contains(&m.version)) {
        let (version, name, sql) = (m.version, m.name, m.up_for(db.engine()));
        db.tx(move |c| {
            Box::pin(async move {
                run_sql(c, sql).await?;
                sqlx::query(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                )
                .bind(version)
                .bind(name)
                .bind(now_ms())
                .execute(&mut *c)
                .await?;
                Ok(())
            })
        })
        .await?;
        tracing::info!(version, name, "migration applied");
        ran.push(version);
    }
    Ok(ran)
}

/// Reverts the last `steps` applied migrations, newest first. Returns the versions reverted.
pub async fn down(db: &Db, steps: usize) -> Result<Vec<i64>, StoreError> {
    let done = applied(db).await?;
    let mut reverted = Vec::new();
    for version in done.iter().rev().take(steps).copied() {
        let m = MIGRATIONS
            .iter()
            .find(|m| m.version == version)
            .ok_or_else(|| {
                StoreError::Config(format!(
                    "migration {version} is applied but unknown to this binary"
                ))
            })?;
        let sql = m.down_for(db.engine());
        db.tx(move |c| {
            Box::pin(async move {
                run_sql(c, sql).await?;
                sqlx::query("DELETE FROM schema_migrations WHERE version = $1")
                    .bind(version)
                    .execute(&mut *c)
                    .await?;
                Ok(())
            })
        })
        .await?;
        tracing::info!(version, "migration reverted");
        reverted.push(version);
    }
    Ok(reverted)
}

/// One line per known migration: version, name, applied or pending.
pub async fn status(db: &Db) -> Result<Vec<(i64, &'static str, bool)>, StoreError> {
    let done = applied(db).await?;
    Ok(MIGRATIONS
        .iter()
        .map(|m| (m.version, m.name, done.contains(&m.version)))
        .collect())
}

/// True when every migration of this binary is applied (used by `/ready`).
pub async fn is_current(db: &Db) -> Result<bool, StoreError> {
    let row =
        sqlx::query("SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) FROM schema_migrations")
            .fetch_one(db.read())
            .await?;
    Ok(row.try_get::<i64, _>(0)? == latest_version())
}

/// A description of the schema (tables, columns, indexes), the same shape on both engines:
/// used to prove both engines end up with the same schema and that up → down → up is clean.
pub async fn describe_schema(db: &Db) -> Result<Vec<String>, StoreError> {
    let mut out = Vec::new();
    match db.engine() {
        crate::Engine::Sqlite => {
            let tables = sqlx::query(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY name",
            )
            .fetch_all(db.read())
            .await?;
            for t in tables {
                let table: String = t.try_get(0)?;
                let cols = sqlx::query(
                    "SELECT name, \"notnull\" FROM pragma_table_info($1) ORDER BY name",
                )
                .bind(&table)
                .fetch_all(db.read())
                .await?;
                for c in cols {
                    let name: String = c.try_get(0)?;
                    let notnull: i64 = c.try_get(1)?;
                    out.push(format!("column {table}.{name} notnull={}", notnull != 0));
                }
            }
            let idx = sqlx::query(
                "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%' ORDER BY name",
            )
            .fetch_all(db.read())
            .await?;
            for i in idx {
                let name: String = i.try_get(0)?;
                let table: String = i.try_get(1)?;
                out.push(format!("index {table}.{name}"));
            }
        }
        crate::Engine::Postgres => {
            let cols = sqlx::query(
                "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT), CAST(is_nullable AS TEXT) FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name <> 'schema_migrations' ORDER BY table_name, column_name",
            )
            .fetch_all(db.read())
            .await?;
            for c in cols {
                let table: String = c.try_get(0)?;
                let name: String = c.try_get(1)?;
                let nullable: String = c.try_get(2)?;
                // SQLite reports primary-key columns as nullable unless declared NOT NULL.
                out.push(format!(
                    "column {table}.{name} notnull={}",
                    nullable == "NO"
                ));
            }
            let idx = sqlx::query(
                "SELECT CAST(indexname AS TEXT), CAST(tablename AS TEXT) FROM pg_indexes WHERE schemaname = current_schema()
                 AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key' ORDER BY indexname",
            )
            .fetch_all(db.read())
            .await?;
            for i in idx {
                let name: String = i.try_get(0)?;
                let table: String = i.try_get(1)?;
                out.push(format!("index {table}.{name}"));
            }
        }
    }
    out.sort();
    Ok(out)
}
