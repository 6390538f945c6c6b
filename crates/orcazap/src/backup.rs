//! Backups you can trust: create, verify (restore into a scratch database and compare),
//! restore, and the scheduled backup with retention.
//!
//! A backup is two files side by side: the data file `FILE` (SQLite: a database file made
//! by `VACUUM INTO`; PostgreSQL: a `pg_dump -Fc` archive) and `FILE.manifest.json` with the
//! engine, schema version, creation time, row counts per table and the data file's size
//! and sha256. The manifest's counts are taken from the same snapshot the data comes from,
//! so they hold even while the application keeps writing.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use store::backup::RowCounts;
use store::{Db, DbConfig, Engine};

pub const FORMAT: &str = "orcazap-backup/1";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub format: String,
    pub engine: String,
    pub schema_version: i64,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub app_version: String,
    pub data_file: String,
    pub size_bytes: u64,
    pub sha256: String,
    pub row_counts: RowCounts,
}

/// `FILE` → `FILE.manifest.json`.
pub fn manifest_path(data: &Path) -> PathBuf {
    let mut s = data.as_os_str().to_owned();
    s.push(".manifest.json");
    PathBuf::from(s)
}

/// `sqlite://path?opts` → `path`.
fn sqlite_path(url: &str) -> String {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    rest.split('?').next().unwrap_or(rest).to_string()
}

async fn sha256_and_size(path: &Path) -> anyhow::Result<(String, u64)> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || -> anyhow::Result<(String, u64)> {
        let mut f = std::fs::File::open(&path)
            .with_context(|| format!("não foi possível abrir {}", path.display()))?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut size = 0u64;
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            size += n as u64;
            h.update(&buf[..n]);
        }
        Ok((hex::encode(h.finalize()), size))
    })
    .await
    .context("calculando o sha256")?
}

/// libpq tools get the URL without its password (which would show in `ps`); the password
/// travels in `PGPASSWORD`.
fn pg_command(program: &str, url: &str) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(program);
    let (clean, password) = split_password(url);
    cmd.arg("--dbname").arg(clean);
    if let Some(p) = password {
        cmd.env("PGPASSWORD", p);
    }
    cmd.kill_on_drop(true);
    cmd
}

fn split_password(url: &str) -> (String, Option<String>) {
    if let (Some(s), Some(at)) = (url.find("://"), url.rfind('@')) {
        if at > s {
            let creds = &url[s + 3..at];
            if let Some((user, pw)) = creds.split_once(':') {
                return (
                    format!("{}://{}@{}", &url[..s], user, &url[at + 1..]),
                    Some(pw.to_string()),
                );
            }
        }
    }
    (url.to_string(), None)
}

async fn run_tool(mut cmd: tokio::process::Command, what: &str) -> anyhow::Result<()> {
    let out = cmd
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .with_context(|| {
            format!("não foi possível executar {what}: instale as ferramentas do PostgreSQL (pacote postgresql-client)")
        })?;
    if !out.status.success() {
        bail!(
            "{what} falhou ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Writes a backup of `db` to `to` (and `to.manifest.json`). Refuses to overwrite.
pub async fn create(db: &Db, database_url: &str, to: &Path) -> anyhow::Result<Manifest> {
    if to.exists() {
        bail!("{} já existe: escolha outro nome de arquivo", to.display());
    }
    if let Some(parent) = to.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("criando a pasta {}", parent.display()))?;
    }
    // Written under a temporary name and renamed at the end: a half-written backup never
    // looks like a finished one.
    let partial = to.with_file_name(format!(
        "{}.partial",
        to.file_name().and_then(|n| n.to_str()).unwrap_or("backup")
    ));
    let _ = std::fs::remove_file(&partial);
    let (schema_version, row_counts) = match db.engine() {
        Engine::Sqlite => {
            let path = partial.to_string_lossy().to_string();
            store::backup::sqlite_vacuum_into(db, &path)
                .await
                .context("VACUUM INTO falhou")?;
            // Counts from the copy itself: exactly what the file holds.
            let copy = open_sqlite(&path).await?;
            let i = store::backup::inspect(&copy).await;
            copy.close().await;
            let i = i?;
            if !i.problems.is_empty() {
                let _ = std::fs::remove_file(&partial);
                bail!(
                    "a cópia feita não passou na verificação de integridade: {:?}",
                    i.problems
                );
            }
            cleanup_sqlite_sidecars(&partial);
            (i.schema_version, i.row_counts)
        }
        Engine::Postgres => {
            let snap = store::backup::PgSnapshot::open(db).await?;
            let mut cmd = pg_command("pg_dump", database_url);
            cmd.arg("--format=custom")
                .arg("--no-owner")
                .arg("--no-privileges")
                .arg(format!("--snapshot={}", snap.id))
                .arg("--file")
                .arg(&partial);
            let dumped = run_tool(cmd, "pg_dump").await;
            let (v, counts) = (snap.schema_version, snap.row_counts.clone());
            snap.close().await?;
            if let Err(e) = dumped {
                let _ = std::fs::remove_file(&partial);
                return Err(e);
            }
            (v, counts)
        }
    };
    let (sha256, size_bytes) = sha256_and_size(&partial).await?;
    let manifest = Manifest {
        format: FORMAT.into(),
        engine: db.engine().name().into(),
        schema_version,
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        app_version: env!("CARGO_PKG_VERSION").into(),
        data_file: to
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default(),
        size_bytes,
        sha256,
        row_counts,
    };
    std::fs::rename(&partial, to).with_context(|| format!("renomeando para {}", to.display()))?;
    std::fs::write(
        manifest_path(to),
        serde_json::to_string_pretty(&manifest)? + "\n",
    )
    .context("gravando o manifesto")?;
    Ok(manifest)
}

fn cleanup_sqlite_sidecars(path: &Path) {
    for ext in ["-wal", "-shm"] {
        let mut s = path.as_os_str().to_owned();
        s.push(ext);
        let _ = std::fs::remove_file(PathBuf::from(s));
    }
}

async fn open_sqlite(path: &str) -> anyhow::Result<Db> {
    let mut cfg = DbConfig::new(format!("sqlite://{path}"));
    cfg.max_connections = 1;
    Db::connect(&cfg)
        .await
        .with_context(|| format!("abrindo {path} como SQLite"))
}

pub fn read_manifest(file: &Path) -> anyhow::Result<Manifest> {
    let mp = manifest_path(file);
    let text = std::fs::read_to_string(&mp)
        .with_context(|| format!("manifesto {} não encontrado ou ilegível", mp.display()))?;
    let m: Manifest = serde_json::from_str(&text)
        .with_context(|| format!("manifesto {} inválido", mp.display()))?;
    if m.format != FORMAT {
        bail!("formato de backup desconhecido: {:?}", m.format);
    }
    Ok(m)
}

/// Size and sha256 of the data file against the manifest: catches truncation and corruption.
pub async fn check_checksum(file: &Path, m: &Manifest) -> anyhow::Result<()> {
    let (sha, size) = sha256_and_size(file).await?;
    if size != m.size_bytes {
        bail!(
            "BACKUP CORROMPIDO: {} tem {size} bytes, o manifesto diz {} (arquivo truncado ou alterado)",
            file.display(),
            m.size_bytes
        );
    }
    if sha != m.sha256 {
        bail!(
            "BACKUP CORROMPIDO: o sha256 de {} não confere com o manifesto",
            file.display()
        );
    }
    Ok(())
}

/// Differences between what a restored database holds and what the manifest promised.
pub fn compare(m: &Manifest, i: &store::backup::Inspection) -> Vec<String> {
    let mut out: Vec<String> = i.problems.clone();
    if i.schema_version != m.schema_version {
        out.push(format!(
            "versão do esquema {} no banco restaurado, {} no manifesto",
            i.schema_version, m.schema_version
        ));
    }
    for (table, want) in &m.row_counts {
        match i.row_counts.get(table) {
            Some(got) if got == want => {}
            Some(got) => out.push(format!(
                "tabela {table}: {got} linhas restauradas, {want} no manifesto"
            )),
            None => out.push(format!("tabela {table} ausente no banco restaurado")),
        }
    }
    for table in i.row_counts.keys() {
        if !m.row_counts.contains_key(table) {
            out.push(format!("tabela {table} não consta do manifesto"));
        }
    }
    out
}

/// What `verify` found (on success).
#[derive(Debug)]
pub struct Verified {
    pub manifest: Manifest,
    pub tables: usize,
    pub rows: i64,
}

/// Checks the checksum, restores into a scratch database (a temporary SQLite file, or a new
/// PostgreSQL database on `server_url`'s server, dropped afterwards), runs the integrity
/// checks and compares schema version and row counts with the manifest.
pub async fn verify(file: &Path, server_url: Option<&str>) -> anyhow::Result<Verified> {
    let m = read_manifest(file)?;
    check_checksum(file, &m).await?;
    let inspection = match m.engine.as_str() {
        "sqlite" => {
            let dir = std::env::temp_dir().join(format!("orcazap-verify-{}", store::new_id()));
            std::fs::create_dir_all(&dir)?;
            let copy = dir.join("scratch.db");
            let result = async {
                std::fs::copy(file, &copy).context("copiando o backup para a área temporária")?;
                let db = open_sqlite(&copy.to_string_lossy()).await?;
                let i = store::backup::inspect(&db).await;
                db.close().await;
                i.map_err(|e| anyhow::anyhow!("o backup não abre como banco SQLite: {e}"))
            }
            .await;
            let _ = std::fs::remove_dir_all(&dir);
            result?
        }
        "postgres" => {
            let server = server_url.context(
                "para verificar um backup PostgreSQL informe o servidor (ORCAZAP_DATABASE_URL ou --server)",
            )?;
            if Engine::from_url(server)? != Engine::Postgres {
                bail!("o backup é de PostgreSQL; --server precisa ser um postgres://…");
            }
            let name = format!("orcazap_verify_{}", store::new_id().replace('-', ""));
            let scratch_url = store::scratch::create_database(server, &name)
                .await
                .context("criando o banco temporário (o usuário precisa de CREATEDB)")?;
            let result = async {
                let mut cmd = pg_command("pg_restore", &scratch_url);
                cmd.arg("--no-owner")
                    .arg("--no-privileges")
                    .arg("--exit-on-error")
                    .arg(file);
                run_tool(cmd, "pg_restore").await?;
                let db = Db::connect(&DbConfig::new(&scratch_url)).await?;
                let i = store::backup::inspect(&db).await;
                db.close().await;
                Ok::<_, anyhow::Error>(i?)
            }
            .await;
            let _ = store::scratch::drop_database(server, &name).await;
            result?
        }
        other => bail!("motor desconhecido no manifesto: {other:?}"),
    };
    let problems = compare(&m, &inspection);
    if !problems.is_empty() {
        bail!(
            "BACKUP REPROVADO na verificação:\n  - {}",
            problems.join("\n  - ")
        );
    }
    Ok(Verified {
        tables: inspection.row_counts.len(),
        rows: inspection.row_counts.values().sum(),
        manifest: m,
    })
}

/// The real restore into `to_url`, then the same checks as `verify` on the result.
/// Refuses a non-empty target unless `force`.
pub async fn restore(file: &Path, to_url: &str, force: bool) -> anyhow::Result<Manifest> {
    let m = read_manifest(file)?;
    check_checksum(file, &m).await?;
    let engine = Engine::from_url(to_url)?;
    if engine.name() != m.engine {
        bail!(
            "o backup é de {} e o destino é {}: restaure no mesmo tipo de banco",
            m.engine,
            engine.name()
        );
    }
    match engine {
        Engine::Sqlite => {
            let target = PathBuf::from(sqlite_path(to_url));
            let exists = std::fs::metadata(&target)
                .map(|md| md.len() > 0)
                .unwrap_or(false);
            if exists && !force {
                bail!(
                    "{} já existe: pare a aplicação e use --force para substituí-lo",
                    target.display()
                );
            }
            let tmp = target.with_file_name(format!(
                "{}.restoring",
                target
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("orcazap.db")
            ));
            std::fs::copy(file, &tmp).context("copiando o backup")?;
            // Stale WAL files of the old database would be replayed onto the restored one.
            cleanup_sqlite_sidecars(&target);
            std::fs::rename(&tmp, &target).context("substituindo o banco")?;
        }
        Engine::Postgres => {
            let db = Db::connect(&DbConfig::new(to_url)).await?;
            let mut c = db.write().acquire().await?;
            let existing = store::backup::tables(&mut c, Engine::Postgres).await?;
            drop(c);
            db.close().await;
            if !existing.is_empty() && !force {
                bail!(
                    "o banco de destino já tem {} tabelas: pare a aplicação e use --force para substituí-las",
                    existing.len()
                );
            }
            let mut cmd = pg_command("pg_restore", to_url);
            cmd.arg("--no-owner")
                .arg("--no-privileges")
                .arg("--exit-on-error")
                .arg("--single-transaction");
            if !existing.is_empty() {
                cmd.arg("--clean").arg("--if-exists");
            }
            cmd.arg(file);
            run_tool(cmd, "pg_restore").await?;
        }
    }
    let db = Db::connect(&DbConfig::new(to_url)).await?;
    let i = store::backup::inspect(&db).await;
    db.close().await;
    let problems = compare(&m, &i?);
    if !problems.is_empty() {
        bail!(
            "RESTAURAÇÃO NÃO CONFERE com o manifesto:\n  - {}",
            problems.join("\n  - ")
        );
    }
    Ok(m)
}

/// Scheduled backups: settings from configuration.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub dir: PathBuf,
    pub interval: Duration,
    pub keep: usize,
}

const PREFIX: &str = "orcazap-";

fn data_ext(engine: Engine) -> &'static str {
    match engine {
        Engine::Sqlite => "sqlite",
        Engine::Postgres => "pgdump",
    }
}

/// Finished backups in `dir` (those with a manifest), oldest first. Names embed a UTC
/// timestamp, so name order is time order.
pub fn list_backups(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| {
                    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    name.starts_with(PREFIX)
                        && (name.ends_with(".sqlite") || name.ends_with(".pgdump"))
                        && manifest_path(p).exists()
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Deletes all but the newest `keep` backups (data and manifest). Returns what was deleted.
pub fn prune(dir: &Path, keep: usize) -> Vec<PathBuf> {
    let all = list_backups(dir);
    let n = all.len().saturating_sub(keep.max(1));
    let mut gone = Vec::new();
    for p in all.into_iter().take(n) {
        if std::fs::remove_file(&p).is_ok() {
            let _ = std::fs::remove_file(manifest_path(&p));
            gone.push(p);
        }
    }
    gone
}

/// One scheduled run: a new backup in `dir`, then retention.
pub async fn run_scheduled_once(
    db: &Db,
    database_url: &str,
    s: &Schedule,
) -> anyhow::Result<PathBuf> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let path = s
        .dir
        .join(format!("{PREFIX}{stamp}.{}", data_ext(db.engine())));
    create(db, database_url, &path).await?;
    for p in prune(&s.dir, s.keep) {
        tracing::info!(file = %p.display(), "old backup removed by retention");
    }
    Ok(path)
}

/// The worker side's backup loop: backs up when the newest backup is older than the
/// interval (so restarts don't skip or double a backup), until `stop` flips.
pub async fn scheduled(
    db: Db,
    database_url: String,
    s: Schedule,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let wait = next_due_in(&s);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        match run_scheduled_once(&db, &database_url, &s).await {
            Ok(p) => tracing::info!(file = %p.display(), "scheduled backup written"),
            Err(e) => tracing::error!(error = %format!("{e:#}"), "scheduled backup failed"),
        }
        // On failure, retry in at most an hour rather than a whole interval.
        if list_backups(&s.dir).is_empty() {
            tokio::select! {
                _ = tokio::time::sleep(s.interval.min(Duration::from_secs(3600))) => {}
                _ = stop.changed() => return,
            }
        }
    }
}

fn next_due_in(s: &Schedule) -> Duration {
    let newest = list_backups(&s.dir)
        .last()
        .and_then(|p| std::fs::metadata(p).ok())
        .and_then(|m| m.modified().ok())
        .and_then(|t| t.elapsed().ok());
    match newest {
        Some(age) => s.interval.saturating_sub(age),
        None => Duration::ZERO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths() {
        assert_eq!(sqlite_path("sqlite://a/b.db?mode=rwc"), "a/b.db");
        assert_eq!(sqlite_path("sqlite:x.db"), "x.db");
        assert_eq!(
            split_password("postgres://u:pw@h:5432/db"),
            ("postgres://u@h:5432/db".to_string(), Some("pw".to_string()))
        );
        assert_eq!(split_password("postgres://u@h/db").1, None);
        assert_eq!(
            manifest_path(Path::new("/b/x.sqlite")),
            PathBuf::from("/b/x.sqlite.manifest.json")
        );
    }

    #[test]
    fn retention_keeps_the_newest() {
        let dir = std::env::temp_dir().join(format!("orcazap-prune-{}", store::new_id()));
        std::fs::create_dir_all(&dir).unwrap();
        for i in 1..=5 {
            let p = dir.join(format!("orcazap-2026010{i}T000000Z.sqlite"));
            std::fs::write(&p, b"x").unwrap();
            std::fs::write(manifest_path(&p), b"{}").unwrap();
        }
        // Not a finished backup (no manifest): never counted, never deleted.
        std::fs::write(dir.join("orcazap-20250101T000000Z.sqlite"), b"x").unwrap();
        let gone = prune(&dir, 2);
        assert_eq!(gone.len(), 3);
        let left: Vec<String> = list_backups(&dir)
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().to_string())
            .collect();
        assert_eq!(
            left,
            [
                "orcazap-20260104T000000Z.sqlite",
                "orcazap-20260105T000000Z.sqlite"
            ]
        );
        assert!(dir.join("orcazap-20250101T000000Z.sqlite").exists());
        assert!(!manifest_path(&dir.join("orcazap-20260101T000000Z.sqlite")).exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
