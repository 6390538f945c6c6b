//! What backups need from the database: the table list, row counts per table, the schema
//! version and integrity checks — the same answers on both engines, so a manifest written at
//! backup time can be compared with a restored copy.

use std::collections::BTreeMap;

use sqlx::{AnyConnection, Row};

use crate::db::{Db, Engine, StoreError};

/// Row counts per table (every table, `schema_migrations` included), sorted by name.
pub type RowCounts = BTreeMap<String, i64>;

/// Names of the user tables of the current schema.
pub async fn tables(c: &mut AnyConnection, engine: Engine) -> Result<Vec<String>, StoreError> {
    let sql = match engine {
        Engine::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        }
        Engine::Postgres => {
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
        }
    };
    let rows = sqlx::query(sql).fetch_all(&mut *c).await?;
    rows.iter()
        .map(|r| r.try_get::<String, _>(0).map_err(StoreError::from))
        .collect()
}

/// Table names come from the catalog, but quote them anyway: they end up inside SQL text.
fn quoted(table: &str) -> Result<String, StoreError> {
    if table
        .chars()
        .all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
        && !table.is_empty()
    {
        Ok(format!("\"{table}\""))
    } else {
        Err(StoreError::Corrupt(format!(
            "unexpected table name {table:?}"
        )))
    }
}

/// Row counts of every table, read on one connection (inside the caller's snapshot, when the
/// caller opened one).
pub async fn row_counts(c: &mut AnyConnection, engine: Engine) -> Result<RowCounts, StoreError> {
    let mut out = RowCounts::new();
    for t in tables(c, engine).await? {
        let sql = format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {}", quoted(&t)?);
        let n: i64 = sqlx::query(&sql).fetch_one(&mut *c).await?.try_get(0)?;
        out.insert(t, n);
    }
    Ok(out)
}

/// The highest applied migration, 0 on an empty database.
pub async fn schema_version(c: &mut AnyConnection) -> Result<i64, StoreError> {
    let row =
        sqlx::query("SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) FROM schema_migrations")
            .fetch_one(&mut *c)
            .await?;
    Ok(row.try_get(0)?)
}

/// Problems found by the engine's own checks; empty means healthy.
///
/// SQLite: `PRAGMA integrity_check` (pages, indexes, constraints) and
/// `PRAGMA foreign_key_check`. PostgreSQL validates every foreign key when `pg_restore`
/// adds it back (a violation fails the restore); here it reports any constraint left
/// unvalidated.
pub async fn integrity_problems(
    c: &mut AnyConnection,
    engine: Engine,
) -> Result<Vec<String>, StoreError> {
    let mut problems = Vec::new();
    match engine {
        Engine::Sqlite => {
            let rows = sqlx::query("PRAGMA integrity_check")
                .fetch_all(&mut *c)
                .await?;
            for r in rows {
                let line: String = r.try_get(0)?;
                if line != "ok" {
                    problems.push(format!("integrity_check: {line}"));
                }
            }
            let rows = sqlx::query(
                "SELECT \"table\", CAST(rowid AS BIGINT), parent FROM pragma_foreign_key_check",
            )
            .fetch_all(&mut *c)
            .await?;
            for r in rows {
                let table: String = r.try_get(0)?;
                let rowid: Option<i64> = r.try_get(1)?;
                let parent: String = r.try_get(2)?;
                problems.push(format!(
                    "chave estrangeira quebrada: {table} linha {} aponta para {parent} inexistente",
                    rowid.unwrap_or(-1)
                ));
            }
        }
        Engine::Postgres => {
            let rows = sqlx::query(
                "SELECT CAST(conrelid::regclass AS TEXT), CAST(conname AS TEXT) FROM pg_constraint
                 WHERE contype = 'f' AND NOT convalidated AND connamespace = current_schema()::regnamespace",
            )
            .fetch_all(&mut *c)
            .await?;
            for r in rows {
                let table: String = r.try_get(0)?;
                let name: String = r.try_get(1)?;
                problems.push(format!("chave estrangeira não validada: {table}.{name}"));
            }
        }
    }
    Ok(problems)
}

/// Counts, version and integrity of a database in one go (used on a restored copy).
pub struct Inspection {
    pub schema_version: i64,
    pub row_counts: RowCounts,
    pub problems: Vec<String>,
}

pub async fn inspect(db: &Db) -> Result<Inspection, StoreError> {
    let engine = db.engine();
    let mut c = db.write().acquire().await?;
    Ok(Inspection {
        schema_version: schema_version(&mut c).await?,
        row_counts: row_counts(&mut c, engine).await?,
        problems: integrity_problems(&mut c, engine).await?,
    })
}

/// SQLite online backup: `VACUUM INTO` writes a consistent, compacted copy of the database
/// as of one read transaction, while other connections keep writing.
pub async fn sqlite_vacuum_into(db: &Db, path: &str) -> Result<(), StoreError> {
    if db.engine() != Engine::Sqlite {
        return Err(StoreError::Config("VACUUM INTO is SQLite only".into()));
    }
    // The path is a literal in the statement (SQLite does not bind it); escape quotes.
    let sql = format!("VACUUM INTO '{}'", path.replace('\'', "''"));
    sqlx::query(&sql).execute(db.read()).await?;
    Ok(())
}

/// A PostgreSQL snapshot kept open while `pg_dump --snapshot` copies it, so the manifest's
/// counts describe exactly the data in the dump even while the app writes.
pub struct PgSnapshot {
    conn: sqlx::pool::PoolConnection<sqlx::Any>,
    pub id: String,
    pub schema_version: i64,
    pub row_counts: RowCounts,
}

impl PgSnapshot {
    pub async fn open(db: &Db) -> Result<PgSnapshot, StoreError> {
        if db.engine() != Engine::Postgres {
            return Err(StoreError::Config("snapshots are PostgreSQL only".into()));
        }
        let mut conn = db.read().acquire().await?;
        sqlx::query("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *conn)
            .await?;
        let id: String = sqlx::query("SELECT pg_export_snapshot()")
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
        let schema_version = schema_version(&mut conn).await?;
        let row_counts = row_counts(&mut conn, Engine::Postgres).await?;
        Ok(PgSnapshot {
            conn,
            id,
            schema_version,
            row_counts,
        })
    }

    pub async fn close(mut self) -> Result<(), StoreError> {
        sqlx::query("COMMIT").execute(&mut *self.conn).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestDb;

    async fn counts_and_checks(engine: Engine) {
        let Some(t) = TestDb::new(engine).await else {
            return;
        };
        let i = inspect(&t.db).await.unwrap();
        assert_eq!(i.schema_version, crate::migrate::latest_version());
        assert!(i.problems.is_empty(), "{:?}", i.problems);
        assert_eq!(i.row_counts.get("tenants"), Some(&0));
        assert_eq!(
            i.row_counts.get("schema_migrations"),
            Some(&(crate::migrate::MIGRATIONS.len() as i64))
        );
        assert!(i.row_counts.contains_key("webhook_events"));
        t.db.tx(|c| {
            Box::pin(async move {
                crate::tenants::create(c, "loja", "Loja", "", "America/Sao_Paulo").await
            })
        })
        .await
        .unwrap();
        let i = inspect(&t.db).await.unwrap();
        assert_eq!(i.row_counts.get("tenants"), Some(&1));
    }

    #[tokio::test]
    async fn counts_and_checks_sqlite() {
        counts_and_checks(Engine::Sqlite).await;
    }

    #[tokio::test]
    async fn counts_and_checks_postgres() {
        counts_and_checks(Engine::Postgres).await;
    }

    #[tokio::test]
    async fn sqlite_foreign_key_breakage_is_reported() {
        let t = TestDb::new(Engine::Sqlite).await.unwrap();
        let mut c = t.db.write().acquire().await.unwrap();
        sqlx::query("PRAGMA foreign_keys=OFF")
            .execute(&mut *c)
            .await
            .unwrap();
        sqlx::query("INSERT INTO contacts (id, tenant_id, wa_id, created_at) VALUES ('c1', 'missing', '5511', 0)")
            .execute(&mut *c)
            .await
            .unwrap();
        let problems = integrity_problems(&mut c, Engine::Sqlite).await.unwrap();
        sqlx::query("PRAGMA foreign_keys=ON")
            .execute(&mut *c)
            .await
            .unwrap();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("contacts"), "{problems:?}");
    }
}
