//! The one list of configuration variables. Parsing takes its defaults from here, `orcazap env`
//! prints it, and a test holds the README's table to it — so a default cannot be changed in one
//! place and forgotten in another.

/// What a variable is when it is not set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultValue {
    /// This value, parsed exactly like a value that was set.
    Value(&'static str),
    /// One value in development, another in production.
    PerEnv {
        development: &'static str,
        production: &'static str,
    },
    /// No value: the text says what that means (a feature off, a generated value, …).
    Unset(&'static str),
}

/// One variable the product reads.
#[derive(Debug, Clone, Copy)]
pub struct Variable {
    pub name: &'static str,
    pub default: DefaultValue,
    /// Markdown (backticks), as the README shows it.
    pub meaning: &'static str,
}

impl Variable {
    /// The value used when the variable is unset, or None when there is none.
    pub fn default_value(&self, production: bool) -> Option<&'static str> {
        match self.default {
            DefaultValue::Value(v) => Some(v),
            DefaultValue::PerEnv {
                development,
                production: p,
            } => Some(if production { p } else { development }),
            DefaultValue::Unset(_) => None,
        }
    }

    /// The default as the README's table shows it (markdown).
    pub fn default_markdown(&self) -> String {
        match self.default {
            DefaultValue::Value(v) => format!("`{v}`"),
            DefaultValue::PerEnv {
                development,
                production,
            } => format!("`{development}` (`{production}` in production)"),
            DefaultValue::Unset(text) => text.to_string(),
        }
    }
}

const fn var(name: &'static str, default: DefaultValue, meaning: &'static str) -> Variable {
    Variable {
        name,
        default,
        meaning,
    }
}

use DefaultValue::{PerEnv, Unset, Value};

const NONE: DefaultValue = Unset("none");

/// Every variable the product reads, in the order the README lists them.
pub const VARIABLES: &[Variable] = &[
    var("ORCAZAP_DATABASE_URL", Value("sqlite://orcazap.db"), "`sqlite://PATH` or `postgres://…`"),
    var("ORCAZAP_LISTEN", Value("127.0.0.1:8080"), "HTTP listen address"),
    var(
        "ORCAZAP_BASE_DOMAIN",
        Value("localhost"),
        "BASE: the apex host without port; stores live on `{slug}.BASE`",
    ),
    var(
        "ORCAZAP_ENV",
        Value("development"),
        "`production` refuses to start without the secrets it needs",
    ),
    var(
        "ORCAZAP_SECRET_KEY",
        Unset("generated for development"),
        "key material for encryption and signing (≥ 32 characters in production)",
    ),
    var(
        "ORCAZAP_SECRET_KEY_OLD",
        NONE,
        "previous key(s), comma-separated, accepted for reading during rotation",
    ),
    var("ORCAZAP_WHATSAPP_API_BASE", Value("https://graph.facebook.com"), "Graph API base URL"),
    var("ORCAZAP_WHATSAPP_API_VERSION", Value("v25.0"), "Graph API version"),
    var(
        "ORCAZAP_WHATSAPP_APP_SECRET",
        NONE,
        "webhook signature key (required in production)",
    ),
    var(
        "ORCAZAP_WHATSAPP_VERIFY_TOKEN",
        NONE,
        "webhook subscription token (required in production)",
    ),
    var(
        "ORCAZAP_META_APP_ID",
        Unset("none (no Embedded Signup button)"),
        "Meta app id for WhatsApp Embedded Signup; with `ORCAZAP_META_CONFIG_ID` and `ORCAZAP_WHATSAPP_APP_SECRET` the WhatsApp page shows \"Conectar com o Facebook\"",
    ),
    var(
        "ORCAZAP_META_CONFIG_ID",
        Unset("none (no Embedded Signup button)"),
        "the Facebook Login for Business configuration id of Embedded Signup (docs/whatsapp.md)",
    ),
    var(
        "ORCAZAP_LOG_FORMAT",
        PerEnv {
            development: "pretty",
            production: "json",
        },
        "`pretty` or `json`",
    ),
    var(
        "ORCAZAP_LOG",
        Value("info,sqlx=warn,hyper=warn"),
        "log filter (tracing `EnvFilter` syntax, e.g. `debug` or `info,worker=debug`)",
    ),
    var(
        "ORCAZAP_HTTPS",
        Value("false"),
        "`true` behind TLS: `Secure` cookies and HSTS (the only switch: `X-Forwarded-Proto` is not read)",
    ),
    var(
        "ORCAZAP_METRICS_TOKEN",
        NONE,
        "bearer token required on `/metrics` (which answers on `api.BASE` and the private address only); required in production, ≥ 32 characters",
    ),
    var(
        "ORCAZAP_HTTP_HEADER_TIMEOUT_MS",
        Value("30000"),
        "a connection that has not sent a whole request head in this time, or sits idle this long between requests, is closed; a request body must arrive within it once its reading starts",
    ),
    var(
        "ORCAZAP_ADMIN_TOKEN",
        NONE,
        "operator credential for `api.BASE/admin` (bearer, or basic-auth password); unset = `/admin` answers 404; production refuses one under 32 characters or a placeholder; failed attempts are throttled per address",
    ),
    var(
        "ORCAZAP_ADMIN_TOTP_SECRET",
        NONE,
        "operator's second factor: a TOTP secret in base32 (≥ 128 bits; RFC 6238, SHA-1, 6 digits, 30 s) for an authenticator app; `/admin` asks for a code after the token; required in production when ORCAZAP_ADMIN_TOKEN is set",
    ),
    var(
        "ORCAZAP_TRUSTED_PROXIES",
        NONE,
        "IPs/CIDRs (comma-separated) of your reverse proxies: only their `X-Forwarded-For` / `Forwarded` is believed, and the right-most address not in the list is the client (login throttling and rate limits key on it); empty = the socket peer is the client (docs/operations.md)",
    ),
    var(
        "ORCAZAP_DB_MAX_CONNECTIONS",
        Value("10"),
        "pool size (SQLite: readers; writes use one connection)",
    ),
    var("ORCAZAP_DB_ACQUIRE_TIMEOUT_MS", Value("5000"), "wait for a pooled connection"),
    var(
        "ORCAZAP_DB_STATEMENT_TIMEOUT_MS",
        Value("10000"),
        "PostgreSQL `statement_timeout` / SQLite `busy_timeout`",
    ),
    var(
        "ORCAZAP_SQLITE_SYNCHRONOUS",
        Value("NORMAL"),
        "SQLite `synchronous` pragma (`OFF`, `NORMAL`, `FULL`, `EXTRA`)",
    ),
    var("ORCAZAP_WORKER_CONCURRENCY", Value("8"), "jobs run at once per worker process"),
    var(
        "ORCAZAP_JOB_TIMEOUT_MS",
        Value("30000"),
        "a job running longer is stopped and retried",
    ),
    var("ORCAZAP_GRAPH_TIMEOUT_MS", Value("15000"), "request timeout of Graph API calls"),
    var(
        "ORCAZAP_WEBHOOK_BODY_LIMIT",
        // Meta documents webhook payloads of up to 3 MB (docs/whatsapp.md).
        Value("3145728"),
        "largest webhook body, bytes (larger → 413)",
    ),
    var(
        "ORCAZAP_AUTO_MIGRATE",
        PerEnv {
            development: "true",
            production: "false",
        },
        "apply pending migrations when serving",
    ),
    var(
        "ORCAZAP_ALLOW_SQLITE_IN_PRODUCTION",
        Value("false"),
        "run production on SQLite (single machine only)",
    ),
    var(
        "ORCAZAP_BACKUP_DIR",
        Unset("none (scheduled backups off)"),
        "directory for scheduled backups, written by the worker side (docs/operations.md)",
    ),
    var("ORCAZAP_BACKUP_INTERVAL_HOURS", Value("24"), "hours between scheduled backups"),
    var(
        "ORCAZAP_BACKUP_KEEP",
        Value("7"),
        "scheduled backups kept; older ones are deleted",
    ),
    var(
        "ORCAZAP_WEBHOOK_RETENTION_DAYS",
        Value("30"),
        "days raw webhook payloads are kept (LGPD); the worker deletes older ones",
    ),
    var(
        "ORCAZAP_TRANSCRIBE_BASE_URL",
        Unset("none (voice notes go to a person)"),
        "OpenAI-compatible transcription API for voice notes (`POST {base}/v1/audio/transcriptions`; a hosted service or a local whisper server, docs/voice-notes.md)",
    ),
    var(
        "ORCAZAP_TRANSCRIBE_API_KEY",
        NONE,
        "bearer key of the transcription API (none for a local server without one)",
    ),
    var(
        "ORCAZAP_TRANSCRIBE_MODEL",
        Value("whisper-1"),
        "transcription model name sent with each voice note",
    ),
    var(
        "ORCAZAP_TRANSCRIBE_LANGUAGE",
        Value("pt"),
        "language hint sent with each voice note (ISO-639-1)",
    ),
    var(
        "ORCAZAP_TRANSCRIBE_TIMEOUT_MS",
        Value("20000"),
        "deadline of one transcription call (keep it under ORCAZAP_JOB_TIMEOUT_MS); past it the voice note goes to a person",
    ),
    var(
        "ORCAZAP_TRANSCRIBE_MAX_SECONDS",
        Value("120"),
        "longest voice note transcribed; a longer one goes to a person and the customer is told",
    ),
    var(
        "ORCAZAP_MEDIA_MAX_AUDIO_BYTES",
        Value("16777216"),
        "largest voice note downloaded from Meta, bytes",
    ),
    var(
        "ORCAZAP_MEDIA_MAX_IMAGE_BYTES",
        Value("5242880"),
        "largest photo downloaded from Meta, bytes",
    ),
    var(
        "ORCAZAP_MEDIA_RETENTION_DAYS",
        Value("30"),
        "days customers' voice notes and photos are kept (encrypted); the worker empties older ones",
    ),
    var(
        "ORCAZAP_CEP_API_BASE",
        Value("https://viacep.com.br"),
        "CEP look-up service that fills an order's street, bairro and city, in the format ORCAZAP_CEP_PROVIDER names; `off` turns it off",
    ),
    var(
        "ORCAZAP_CEP_PROVIDER",
        Value("viacep"),
        "format of the CEP service: `viacep` (`GET {base}/ws/{cep}/json/`) or `brasilapi` (`GET {base}/api/cep/v1/{cep}`; with the base left at ViaCEP's, https://brasilapi.com.br)",
    ),
    var(
        "ORCAZAP_SMTP_URL",
        Unset("none (e-mail off)"),
        "SMTP server for the product's e-mail (password reset, invitations, e-mail verification, payment notices): `smtp://host:port` (plain, local relay), `smtp://user:pass@host:587?tls=required` (STARTTLS) or `smtps://user:pass@host:465`; unset = e-mail off (development: each e-mail, links included, is written to the log; production: nothing is sent or logged but the kind)",
    ),
    var(
        "ORCAZAP_MAIL_FROM",
        Value("OrçaZap <nao-responda@localhost>"),
        "sender of the product's e-mail, `Name <address>` (use an address of your domain with SPF/DKIM set up)",
    ),
    var(
        "ORCAZAP_SENTRY_DSN",
        NONE,
        "Sentry DSN: errors and panics, scrubbed of secrets and message bodies",
    ),
    var(
        "ORCAZAP_STRIPE_API_BASE",
        Value("https://api.stripe.com"),
        "Stripe API base URL (a local server in tests)",
    ),
    var(
        "ORCAZAP_STRIPE_SECRET_KEY",
        Unset("none (billing off)"),
        "Stripe secret key (`sk_…`); billing is on only with it and the webhook secret (docs/billing.md)",
    ),
    var(
        "ORCAZAP_STRIPE_WEBHOOK_SECRET",
        Unset("none (billing off)"),
        "signing secret of the `api.BASE/webhooks/stripe` endpoint (`whsec_…`)",
    ),
    var(
        "ORCAZAP_STRIPE_PRICE_ID",
        NONE,
        "the Stripe price (`price_…`) \"Assinar\" subscribes to",
    ),
    var(
        "ORCAZAP_BILLING_PLAN_NAME",
        Value("OrçaZap"),
        "the plan's name on the billing page",
    ),
    var(
        "ORCAZAP_BILLING_PLAN_PRICE_CENTS",
        NONE,
        "the plan's monthly price in centavos, shown on the billing page (Stripe charges the price id's)",
    ),
    var(
        "ORCAZAP_BILLING_GRACE_DAYS",
        Value("7"),
        "days a past_due subscription keeps automatic quotes before they go to approval",
    ),
    var(
        "ORCAZAP_LLM_BASE_URL",
        Unset("none (language model off)"),
        "OpenAI-compatible chat API root, version path included; requests go to `{base}/chat/completions` (`https://api.openai.com/v1`, Ollama `http://127.0.0.1:11434/v1`; docs/assistants.md)",
    ),
    var(
        "ORCAZAP_LLM_API_KEY",
        NONE,
        "bearer key of the language-model API (local servers need none)",
    ),
    var(
        "ORCAZAP_LLM_MODEL",
        Unset("none (language model off)"),
        "model name sent with each request; the language model is on only with this and the base URL",
    ),
    var(
        "ORCAZAP_LLM_PRICE_INPUT_PER_1K",
        Value("0"),
        "centavos per 1,000 prompt tokens, up to 3 decimals (e.g. `0.08`): with the output price, what a call costs the store's budget",
    ),
    var(
        "ORCAZAP_LLM_PRICE_OUTPUT_PER_1K",
        Value("0"),
        "centavos per 1,000 answer tokens, up to 3 decimals (e.g. `0.33`)",
    ),
    var(
        "ORCAZAP_LLM_MONTHLY_BUDGET_CENTS",
        Value("2000"),
        "each store's monthly language-model budget in centavos (a store may have its own: `orcazap assistant budget`); over it, rules only",
    ),
    var(
        "ORCAZAP_LLM_RATE_PER_MINUTE",
        Value("10"),
        "language-model calls per store per minute; beyond them, rules only",
    ),
    var(
        "ORCAZAP_LLM_TIMEOUT_MS",
        Value("8000"),
        "one language-model request; with retries (429, 5xx, timeouts) a call ends within twice this",
    ),
    var(
        "ORCAZAP_LLM_MAX_TOKENS",
        Value("400"),
        "the longest answer asked of the model (`max_tokens`), also the reservation's size",
    ),
    var(
        "ORCAZAP_CONFIG",
        NONE,
        "the `KEY=VALUE` file of `--config FILE` (environment only: a file cannot name itself)",
    ),
];

/// Variables no longer read, and why: setting one logs a warning instead of being ignored in
/// silence (docs/operations.md says the same).
pub const RETIRED: &[(&str, &str)] = &[(
    "ORCAZAP_SECRET_KEY_VERSION",
    "keys are told apart by their fingerprint since 2026-12 (docs/operations.md § secret rotation)",
)];

/// Read by the test suites and scripts, never by the binary (so it does not warn about them).
pub const TOOLING: &[&str] = &[
    "ORCAZAP_TEST_POSTGRES_URL",
    "ORCAZAP_BIN",
    // scripts/attack: the admin URL where the probe run creates and drops its scratch database.
    "ORCAZAP_ATTACK_POSTGRES_URL",
    // scripts/transcriber (the demo's local speech model): where its venv and model live, and
    // which PyPI wheel pair the model comes from.
    "ORCAZAP_TRANSCRIBER_HOME",
    "ORCAZAP_TRANSCRIBER_SOURCE",
];

/// The variable named `name`. Reading a name missing from [`VARIABLES`] is a bug: it would have
/// no documented default.
pub fn variable(name: &str) -> &'static Variable {
    VARIABLES
        .iter()
        .find(|v| v.name == name)
        .unwrap_or_else(|| panic!("configuration reads {name}, which VARIABLES does not list"))
}

/// What `orcazap env` prints.
pub fn listing() -> String {
    let mut out = String::new();
    for v in VARIABLES {
        let default = v.default_markdown().replace('`', "");
        out.push_str(&format!(
            "{}\n    padrão: {default}\n    {}\n",
            v.name, v.meaning
        ));
    }
    out
}

/// The README's configuration table.
pub fn readme_table() -> String {
    let mut out = String::from("| variable | default | meaning |\n|---|---|---|\n");
    for v in VARIABLES {
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            v.name,
            v.default_markdown(),
            v.meaning
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;

    fn repo_root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    /// Every text file of the repository (build output and git's own files aside).
    fn text_files(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if path.is_dir() {
                if name != "target" && name != ".git" && name != "node_modules" {
                    text_files(&path, out);
                }
            } else if entry.metadata().is_ok_and(|m| m.len() < 2_000_000) {
                if let Ok(text) = std::fs::read_to_string(&path) {
                    out.push((path, text));
                }
            }
        }
    }

    /// `ORCAZAP_*` names in a text; a bare prefix (`ORCAZAP_DB_*`, `format!("ORCAZAP_{x}")`)
    /// is not a name.
    fn names_in(text: &str) -> Vec<&str> {
        let mut names = Vec::new();
        let mut rest = text;
        while let Some(at) = rest.find("ORCAZAP_") {
            let tail = &rest[at..];
            let len = tail
                .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
                .unwrap_or(tail.len());
            let name = &tail[..len];
            if !name.ends_with('_') {
                names.push(name);
            }
            rest = &tail[len..];
        }
        names
    }

    /// A name read anywhere (code, scripts, deploy files) or mentioned in the docs is in the
    /// table, a test/script variable, or retired — and retired ones appear only in the docs
    /// (which say they are no longer read) and in this list.
    #[test]
    fn every_variable_anywhere_is_in_the_table() {
        let root = repo_root();
        let mut files = Vec::new();
        text_files(&root, &mut files);
        assert!(files.len() > 100, "scanned only {} files", files.len());
        let mut unknown = Vec::new();
        for (path, text) in &files {
            let shown = path
                .strip_prefix(&root)
                .unwrap_or(path)
                .display()
                .to_string();
            for name in names_in(text) {
                let listed = VARIABLES.iter().any(|v| v.name == name) || TOOLING.contains(&name);
                let retired = RETIRED.iter().any(|(r, _)| *r == name);
                let retired_ok = retired
                    && (shown.starts_with("docs/")
                        || shown == "crates/orcazap/src/config/variables.rs");
                if !listed && !retired_ok {
                    unknown.push(format!("{shown}: {name}"));
                }
            }
        }
        unknown.dedup();
        assert!(
            unknown.is_empty(),
            "not in config::VARIABLES (add it there, and to the README), nor TOOLING, nor a retired name in docs/:\n{}",
            unknown.join("\n")
        );
    }

    /// The README's table is the table: same variables, order, defaults and meanings.
    #[test]
    fn readme_table_is_the_variable_table() {
        let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
        let table = readme_table();
        assert!(
            readme.contains(&table),
            "README.md's configuration table differs from config::VARIABLES; it should read:\n\n{table}"
        );
    }

    /// The production env template mentions every variable (set, or commented out with its
    /// default), so an operator finds them all in the file they edit.
    #[test]
    fn env_example_mentions_every_variable() {
        let example =
            std::fs::read_to_string(repo_root().join("deploy/orcazap.env.example")).unwrap();
        let missing: Vec<&str> = VARIABLES
            .iter()
            .map(|v| v.name)
            .filter(|name| !names_in(&example).contains(name))
            .collect();
        assert!(
            missing.is_empty(),
            "deploy/orcazap.env.example lacks {missing:?}"
        );
    }

    #[test]
    fn retired_and_tooling_variables_are_documented() {
        let operations = std::fs::read_to_string(repo_root().join("docs/operations.md")).unwrap();
        for (name, _) in RETIRED {
            let line = operations
                .lines()
                .find(|l| l.contains(name))
                .unwrap_or_else(|| panic!("docs/operations.md does not mention {name}"));
            assert!(line.contains("no longer read"), "{line}");
        }
        let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
        for name in TOOLING {
            assert!(
                readme.contains(&format!("`{name}`")),
                "README does not mention {name}"
            );
        }
    }

    #[test]
    fn names_are_unique_and_the_listing_shows_each() {
        let listing = listing();
        for (i, v) in VARIABLES.iter().enumerate() {
            assert!(
                !VARIABLES[..i].iter().any(|w| w.name == v.name),
                "{} twice",
                v.name
            );
            assert!(listing.contains(&format!("{}\n    padrão: ", v.name)));
        }
        assert!(listing.contains("ORCAZAP_LOG_FORMAT\n    padrão: pretty (json in production)\n"));
        assert!(listing.contains("ORCAZAP_SECRET_KEY\n    padrão: generated for development\n"));
    }
}
