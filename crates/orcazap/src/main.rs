//! `orcazap`: every role of the product in one binary. See `orcazap --help`.

mod channel_cmd;

use std::io::{BufRead, Read, Write};

use anyhow::Context;
use clap::{Parser, Subcommand};

use orcazap::config::{self, Config};
use orcazap::run::{self, DemoOptions, Roles};
use orcazap::seed;
use store::jobs::JobStatus;

#[derive(Parser)]
#[command(
    name = "orcazap",
    version,
    about = "OrçaZap — orçamentos de material de construção pelo WhatsApp"
)]
struct Cli {
    /// Optional KEY=VALUE configuration file; environment variables override it.
    #[arg(long, global = true, env = "ORCAZAP_CONFIG")]
    config: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// One command to try everything: SQLite, demo store, web + worker, WhatsApp simulator.
    Demo,
    /// Web and worker (or one of them).
    Serve {
        #[arg(long, conflicts_with = "worker_only")]
        web_only: bool,
        #[arg(long)]
        worker_only: bool,
    },
    /// The worker alone (same as `serve --worker-only`).
    Worker,
    /// Database migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Seed data.
    Seed {
        /// The demo store of docs/demo-store.md.
        #[arg(long, required = true)]
        demo: bool,
    },
    /// The job queue.
    Jobs {
        #[command(subcommand)]
        action: JobsAction,
    },
    /// Stores (tenants).
    Store {
        #[command(subcommand)]
        action: StoreAction,
    },
    /// Users.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Backups: create, verify (restore into a scratch database and compare), restore.
    Backup {
        #[command(subcommand)]
        action: BackupAction,
    },
    /// Secrets: re-encrypt channel tokens with the current ORCAZAP_SECRET_KEY.
    Secrets {
        #[command(subcommand)]
        action: SecretsAction,
    },
    /// A customer's personal data (LGPD): export or erase.
    Contact {
        #[command(subcommand)]
        action: ContactAction,
    },
    /// WhatsApp numbers (channels).
    Channel {
        #[command(subcommand)]
        action: ChannelAction,
    },
    /// Lists the configuration variables, their defaults and meaning.
    Env,
    /// Offline message understanding: JSON lines {"id","turns"} on stdin, predictions on stdout.
    Parse {
        #[arg(long)]
        catalog: String,
        /// Also ask the configured language model (ORCAZAP_LLM_*) about messages the rules are
        /// not confident of, as the bot does (docs/assistants.md); a summary goes to stderr.
        #[arg(long)]
        assistant: bool,
    },
    /// The optional language model: a store's monthly budget and this month's use.
    Assistant {
        #[command(subcommand)]
        action: AssistantAction,
    },
}

#[derive(Subcommand)]
enum AssistantAction {
    /// Sets the store's own monthly budget in centavos (0: no model for this store), or with
    /// --default goes back to ORCAZAP_LLM_MONTHLY_BUDGET_CENTS.
    Budget {
        #[arg(long)]
        store: String,
        #[arg(long, conflicts_with = "default", required_unless_present = "default")]
        cents: Option<i64>,
        #[arg(long)]
        default: bool,
    },
    /// This month's calls, tokens and spend of a store.
    Usage {
        #[arg(long)]
        store: String,
    },
}

#[derive(Subcommand)]
enum MigrateAction {
    Up,
    Down {
        #[arg(default_value_t = 1)]
        steps: usize,
    },
    Status,
}

#[derive(Subcommand)]
enum JobsAction {
    /// Recent jobs (all statuses).
    List {
        #[arg(long, default_value_t = 50)]
        limit: i64,
        #[arg(long)]
        status: Option<String>,
    },
    /// Dead jobs: out of attempts or failed permanently.
    Dead {
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Puts a dead job back in the queue.
    Requeue { id: String },
}

#[derive(Subcommand)]
enum StoreAction {
    /// Creates a store and its owner; the password is read from stdin (one line) or generated.
    Create {
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        owner_email: String,
    },
}

#[derive(Subcommand)]
enum BackupAction {
    /// Writes FILE (data) and FILE.manifest.json; safe while the application runs.
    Create {
        #[arg(long)]
        to: std::path::PathBuf,
    },
    /// Checks the checksum, restores into a scratch database and compares with the manifest.
    Verify {
        file: std::path::PathBuf,
        /// PostgreSQL server for the scratch database (default: ORCAZAP_DATABASE_URL).
        #[arg(long)]
        server: Option<String>,
    },
    /// Restores FILE into the database at URL (stop the application first).
    Restore {
        file: std::path::PathBuf,
        #[arg(long)]
        to: String,
        /// Replace a database that already has data.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
enum SecretsAction {
    /// Re-encrypts every channel token with the current key, in one transaction.
    Rotate,
}

#[derive(Subcommand)]
enum ContactAction {
    /// Everything stored about a customer of a store, as JSON on stdout.
    Export {
        #[arg(long)]
        store: String,
        #[arg(long)]
        phone: String,
    },
    /// Deletes a customer's messages and personal data; quotes stay, anonymised.
    Erase {
        #[arg(long)]
        store: String,
        #[arg(long)]
        phone: String,
    },
}

#[derive(Subcommand)]
enum ChannelAction {
    /// Sets the store's Graph access token, read from stdin (one line); stored encrypted.
    Token {
        #[arg(long)]
        store: String,
    },
}

#[derive(Subcommand)]
enum UserAction {
    /// Sets a user's password, read from stdin (one line).
    Password {
        #[arg(long)]
        store: String,
        #[arg(long)]
        email: String,
    },
}

fn main() {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("erro: não foi possível iniciar o runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = rt.block_on(dispatch(cli)) {
        eprintln!("erro: {e:#}");
        std::process::exit(1);
    }
}

async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    if let Command::Parse { catalog, assistant } = &cli.command {
        if *assistant {
            return orcazap::assist_cmd::parse_with_assistant(catalog, cli.config.as_deref()).await;
        }
        return parse(catalog);
    }
    if matches!(cli.command, Command::Env) {
        // `orcazap env | head -3` closes the pipe early: that is the reader's choice, not an
        // error (print! would panic with exit 101).
        let mut out = std::io::stdout().lock();
        return match out
            .write_all(config::listing().as_bytes())
            .and_then(|()| out.flush())
        {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                Err(anyhow::Error::new(e).context("escrevendo a lista de variáveis"))
            }
            _ => Ok(()),
        };
    }
    if matches!(cli.command, Command::Demo) {
        return demo(cli.config.as_deref()).await;
    }
    let cfg = Config::load(cli.config.as_deref())?;
    run::init_logging(&cfg);
    match cli.command {
        Command::Serve {
            web_only,
            worker_only,
        } => {
            let roles = if web_only {
                Roles::WebOnly
            } else if worker_only {
                Roles::WorkerOnly
            } else {
                Roles::Both
            };
            serve(cfg, roles).await
        }
        Command::Worker => serve(cfg, Roles::WorkerOnly).await,
        Command::Migrate { action } => {
            let db = run::connect(&cfg).await?;
            match action {
                MigrateAction::Up => {
                    let ran = store::migrate::up(&db).await?;
                    println!(
                        "{}",
                        if ran.is_empty() {
                            "nada a aplicar: o banco já está atualizado".to_string()
                        } else {
                            format!("aplicadas: {ran:?}")
                        }
                    );
                }
                MigrateAction::Down { steps } => {
                    let done = store::migrate::down(&db, steps).await?;
                    println!("revertidas: {done:?}");
                }
                MigrateAction::Status => {
                    for (v, name, applied) in store::migrate::status(&db).await? {
                        println!(
                            "{v:04} {name:<20} {}",
                            if applied { "aplicada" } else { "pendente" }
                        );
                    }
                }
            }
            Ok(())
        }
        Command::Seed { .. } => {
            let db = run::connect(&cfg).await?;
            run::ensure_schema(&db, &cfg).await?;
            let s = seed::seed_demo(&db, &cfg.cipher(), None).await?;
            println!(
                "{}",
                if s.created {
                    "loja demo criada"
                } else {
                    "loja demo já existia; senhas redefinidas"
                }
            );
            for (email, pw) in s.logins {
                println!("  {email}  senha: {pw}");
            }
            Ok(())
        }
        Command::Jobs { action } => {
            let db = run::connect(&cfg).await?;
            match action {
                JobsAction::List { limit, status } => {
                    let status = status
                        .as_deref()
                        .map(str::parse::<JobStatus>)
                        .transpose()
                        .map_err(|e| {
                            anyhow::anyhow!("--status: {e} (ready, running, done, dead)")
                        })?;
                    print_jobs(&store::jobs::list(&db, status, limit).await?)
                }
                JobsAction::Dead { limit } => {
                    print_jobs(&store::jobs::list(&db, Some(JobStatus::Dead), limit).await?)
                }
                JobsAction::Requeue { id } => {
                    db.tx(move |c| Box::pin(async move { store::jobs::requeue(c, &id).await }))
                        .await
                        .map_err(|e| match e {
                            store::StoreError::NotFound => {
                                anyhow::anyhow!("nenhum job morto com esse id")
                            }
                            other => anyhow::Error::new(other),
                        })?;
                    println!("job recolocado na fila");
                }
            }
            Ok(())
        }
        Command::Store {
            action:
                StoreAction::Create {
                    slug,
                    name,
                    owner_email,
                },
        } => {
            let db = run::connect(&cfg).await?;
            run::ensure_schema(&db, &cfg).await?;
            let (password, generated) = match read_stdin_line()? {
                Some(p) => (p, false),
                None => (web::auth::password::generate(), true),
            };
            seed::create_store(&db, &slug, &name, &owner_email, &password).await?;
            println!(
                "loja {slug} criada; painel: http://{slug}.{}",
                cfg.base_domain
            );
            if generated {
                println!("senha gerada para {owner_email}: {password}");
            }
            Ok(())
        }
        Command::User {
            action: UserAction::Password { store: slug, email },
        } => {
            let db = run::connect(&cfg).await?;
            let password = read_stdin_line()?
                .context("informe a nova senha em uma linha na entrada padrão")?;
            seed::set_password(&db, &slug, &email, &password).await?;
            println!("senha alterada; as sessões abertas desse usuário foram encerradas");
            Ok(())
        }
        Command::Backup { action } => backup(&cfg, action).await,
        Command::Secrets {
            action: SecretsAction::Rotate,
        } => {
            let db = run::connect(&cfg).await?;
            let r = orcazap::secrets::rotate(&db, &cfg.cipher(), "cli").await?;
            println!(
                "{} token(s) de canal recriptografado(s) com a chave atual (id {}); {} já estavam nela. Agora ORCAZAP_SECRET_KEY_OLD pode ser removida.",
                r.rotated, r.key_id, r.already_current
            );
            Ok(())
        }
        Command::Contact { action } => {
            let db = run::connect(&cfg).await?;
            match action {
                ContactAction::Export { store, phone } => {
                    let json = orcazap::privacy::export(&db, &store, &phone).await?;
                    println!("{}", serde_json::to_string_pretty(&json)?);
                }
                ContactAction::Erase { store, phone } => {
                    let r = orcazap::privacy::erase(&db, &store, &phone).await?;
                    println!(
                        "contato apagado: {} mensagem(ns) e {} conversa(s) removidas, {} orçamento(s) mantidos anonimizados",
                        r.messages_deleted, r.conversations_deleted, r.quotes_anonymised
                    );
                }
            }
            Ok(())
        }
        Command::Assistant { action } => {
            let db = run::connect(&cfg).await?;
            match action {
                AssistantAction::Budget {
                    store,
                    cents,
                    default: _,
                } => orcazap::assist_cmd::set_budget(&db, &store, cents).await,
                AssistantAction::Usage { store } => {
                    orcazap::assist_cmd::usage(&db, &cfg, &store).await
                }
            }
        }
        Command::Channel {
            action: ChannelAction::Token { store: slug },
        } => {
            let token = read_stdin_line()?
                .context("informe o token de acesso em uma linha na entrada padrão")?;
            let n = channel_cmd::set_token(&cfg, &slug, &token).await?;
            println!("token gravado (criptografado) em {n} número(s) da loja {slug}");
            Ok(())
        }
        Command::Demo | Command::Parse { .. } | Command::Env => Ok(()),
    }
}

async fn backup(cfg: &Config, action: BackupAction) -> anyhow::Result<()> {
    use orcazap::backup;
    match action {
        BackupAction::Create { to } => {
            let db = run::connect(cfg).await?;
            let started = std::time::Instant::now();
            let m = backup::create(&db, &cfg.database_url, &to).await;
            db.close().await;
            let m = m?;
            println!(
                "backup criado: {} ({} bytes, {} tabelas, {} linhas, esquema v{}) em {:.2}s\nmanifesto: {}",
                to.display(),
                m.size_bytes,
                m.row_counts.len(),
                m.row_counts.values().sum::<i64>(),
                m.schema_version,
                started.elapsed().as_secs_f64(),
                backup::manifest_path(&to).display()
            );
        }
        BackupAction::Verify { file, server } => {
            let started = std::time::Instant::now();
            let server = server.unwrap_or_else(|| cfg.database_url.clone());
            let v = backup::verify(&file, Some(&server)).await?;
            println!(
                "backup OK: {} — sha256 confere, restaurado em banco temporário, integridade OK, {} tabelas e {} linhas conferem com o manifesto (esquema v{}, criado em {}) em {:.2}s",
                file.display(),
                v.tables,
                v.rows,
                v.manifest.schema_version,
                v.manifest.created_at,
                started.elapsed().as_secs_f64()
            );
        }
        BackupAction::Restore { file, to, force } => {
            let started = std::time::Instant::now();
            let m = backup::restore(&file, &to, force).await?;
            println!(
                "restaurado em {}: {} linhas em {} tabelas conferem com o manifesto (backup de {}) em {:.2}s",
                store::db::redact_url(&to),
                m.row_counts.values().sum::<i64>(),
                m.row_counts.len(),
                m.created_at,
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}

async fn serve(cfg: Config, roles: Roles) -> anyhow::Result<()> {
    let metrics = run::init_metrics();
    let db = run::connect(&cfg).await?;
    run::ensure_schema(&db, &cfg).await?;
    run::serve(cfg, db, roles, DemoOptions::default(), metrics, |_| {}).await
}

/// The one-command experience.
async fn demo(config_file: Option<&str>) -> anyhow::Result<()> {
    // Demo defaults: a local SQLite file and random webhook secrets, unless configured.
    let set_default = |k: &str, v: &str| {
        if std::env::var(k).map(|x| x.is_empty()).unwrap_or(true) {
            std::env::set_var(k, v);
        }
    };
    set_default("ORCAZAP_DATABASE_URL", "sqlite://orcazap-demo.db");
    // Said before connecting (which creates the file): whether this run continues an earlier
    // demo's data, and how to start fresh (issue 12 item 11).
    let demo_file = std::env::var("ORCAZAP_DATABASE_URL")
        .ok()
        .and_then(|u| demo_database_file(&u));
    let reused = demo_file.as_ref().is_some_and(|f| f.exists());
    set_default("ORCAZAP_WHATSAPP_APP_SECRET", &random_hex());
    set_default("ORCAZAP_WHATSAPP_VERIFY_TOKEN", &random_hex());
    let cfg = Config::load(config_file)?;
    if cfg.env == config::Env::Production {
        anyhow::bail!(
            "`orcazap demo` é para experimentar o produto; não use com ORCAZAP_ENV=production"
        );
    }
    run::init_logging(&cfg);
    let metrics = run::init_metrics();
    let db = run::connect(&cfg).await?;
    store::migrate::up(&db)
        .await
        .context("aplicando as migrações")?;
    let seeded = seed::seed_demo(&db, &cfg.cipher(), Some("demo-access-token")).await?;
    // The demo shows the whole sale: its quotes go out with their PDF and the link to their
    // public page (a store turns them on once its CNPJ and address are filled in; the demo
    // store has them).
    enable_demo_quote_pdf(&db).await?;
    let base = cfg.base_domain.clone();
    let logins = seeded.logins;
    // Whether the simulator's voice notes are written down (issue 16), and how to turn it on.
    let voice_url = cfg
        .transcribe
        .as_ref()
        .map(|t| voice::transcribe::endpoint(&t.base_url));
    run::serve(cfg, db, Roles::Both, DemoOptions { enabled: true }, metrics, move |addr| {
        let port = addr.port();
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "\nOrçaZap demo rodando.\n");
        let _ = writeln!(out, "  Simulador de WhatsApp:  http://{base}:{port}/simulator");
        let _ = writeln!(out, "  Painel da loja demo:    http://demo.{base}:{port}/");
        let _ = writeln!(out, "  Site público:           http://{base}:{port}/");
        let _ = writeln!(out, "  Saúde:                  http://{base}:{port}/health  ·  http://{base}:{port}/ready  ·  http://api.{base}:{port}/metrics");
        let _ = writeln!(out, "\n  Logins da loja demo (senhas novas a cada execução):");
        for (email, pw) in &logins {
            let _ = writeln!(out, "    {email}  senha: {pw}");
        }
        if let Some(file) = &demo_file {
            let shown = file.display();
            if reused {
                let _ = writeln!(out, "\n  Banco: {shown} (reaproveitado: as conversas e os orçamentos de antes continuam).");
                let _ = writeln!(out, "  Para começar do zero: pare o demo e apague {shown} (e os arquivos {shown}-wal e {shown}-shm).");
            } else {
                let _ = writeln!(out, "\n  Banco: {shown} (novo). As próximas execuções reaproveitam este arquivo; apague-o para começar do zero.");
            }
        }
        match &voice_url {
            Some(url) => {
                let _ = writeln!(out, "\n  Áudios: transcritos por {url}.");
            }
            None => {
                let _ = writeln!(out, "\n  Áudios: sem transcrição (vão para uma pessoa). Para ouvi-los: scripts/transcriber/run.sh");
                let _ = writeln!(out, "  e ORCAZAP_TRANSCRIBE_BASE_URL=http://127.0.0.1:8178 (docs/voice-notes.md).");
            }
        }
        let _ = writeln!(out, "\n  Ctrl-C para parar.\n");
    })
    .await
}

async fn enable_demo_quote_pdf(db: &store::Db) -> anyhow::Result<()> {
    let tenant = store::tenants::by_slug(db, seed::DEMO_SLUG)
        .await?
        .context("a loja demo não foi criada")?;
    db.tx(move |c| {
        Box::pin(async move {
            store::store_profile::set_quote_pdf(c, &tenant.id, true).await?;
            // And with the link to the quote's public page (a CTA button).
            store::store_profile::set_quote_link(c, &tenant.id, true).await
        })
    })
    .await
    .context("ligando o PDF e o link do orçamento na loja demo")?;
    Ok(())
}

/// The file of a `sqlite://` demo database, as the person would name it (`./orcazap-demo.db`).
fn demo_database_file(url: &str) -> Option<std::path::PathBuf> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path.starts_with(':') {
        return None;
    }
    let p = std::path::PathBuf::from(path);
    Some(if p.is_relative() && !path.starts_with('.') {
        std::path::Path::new(".").join(p)
    } else {
        p
    })
}

fn random_hex() -> String {
    let mut b = [0u8; 24];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut b);
    hex::encode(b)
}

fn read_stdin_line() -> anyhow::Result<Option<String>> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .context("lendo a entrada padrão")?;
    let line = s
        .lines()
        .next()
        .unwrap_or("")
        .trim_end_matches('\r')
        .to_string();
    Ok((!line.is_empty()).then_some(line))
}

fn print_jobs(jobs: &[store::jobs::Job]) {
    if jobs.is_empty() {
        println!("nenhum job");
        return;
    }
    for j in jobs {
        println!(
            "{}  {:<26} {:<8} tentativas {}/{}  {}",
            j.id,
            j.kind,
            j.status,
            j.attempts,
            j.max_attempts,
            j.last_error.as_deref().unwrap_or("")
        );
    }
}

/// `orcazap parse`: the same understanding and draft logic as live conversations.
fn parse(catalog_path: &str) -> anyhow::Result<()> {
    let csv =
        std::fs::read_to_string(catalog_path).with_context(|| format!("lendo {catalog_path}"))?;
    let items = domain::catalog::parse_catalog_csv(&csv).map_err(|errs| {
        anyhow::anyhow!(
            "catálogo inválido:\n{}",
            errs.iter()
                .map(|e| format!("  {e}"))
                .collect::<Vec<_>>()
                .join("\n")
        )
    })?;
    let index = domain::understanding::CatalogIndex::build(&items, &[]);
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut bad = 0;
    for (n, line) in stdin.lock().lines().enumerate() {
        let line = line.context("lendo a entrada")?;
        if line.trim().is_empty() {
            continue;
        }
        match domain::understanding::parse_jsonl_line(&line, &index) {
            Ok(json) => writeln!(out, "{json}")?,
            Err(e) => {
                bad += 1;
                eprintln!("linha {}: {e}", n + 1);
            }
        }
    }
    out.flush()?;
    if bad > 0 {
        anyhow::bail!("{bad} linha(s) de entrada inválidas");
    }
    Ok(())
}
