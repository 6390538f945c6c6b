//! `loadgen`: load tests for OrçaZap's WhatsApp webhook. See bench/README.md.
//!
//! - `ingest`: closed-loop webhook throughput and latency at N connections.
//! - `e2e`: steady webhook rate, latency until the reply reaches a mock Graph API.
//! - `graph-mock`: just the mock Graph API (for runs with the worker on).

mod e2e;
mod graph_mock;
mod ingest;
mod payload;
mod stats;
mod target;

use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use serde_json::json;

use graph_mock::GraphMock;
use payload::Payloads;
use target::Target;

#[derive(Parser)]
#[command(
    name = "loadgen",
    about = "Load generator for the OrçaZap WhatsApp webhook"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct Common {
    /// Base URL of `orcazap serve`.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Host header: the webhook answers on api.BASE only (api.localhost with the default BASE).
    #[arg(long, default_value = "api.localhost")]
    host: Option<String>,
    /// ORCAZAP_WHATSAPP_APP_SECRET of the server.
    #[arg(long, env = "ORCAZAP_WHATSAPP_APP_SECRET")]
    secret: String,
    /// Keeps wa_ids and wamids of runs on one database apart (0-99).
    #[arg(long, default_value_t = 0)]
    run_id: u32,
    /// Message text.
    #[arg(long, default_value = "oi, bom dia")]
    text: String,
    /// Print one JSON object per result instead of a table line.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Webhook ingest: requests/s and latency at each connection count.
    Ingest {
        #[command(flatten)]
        common: Common,
        /// Connection counts, comma separated.
        #[arg(long, value_delimiter = ',', default_value = "1,8,32")]
        connections: Vec<usize>,
        /// Measured seconds per connection count.
        #[arg(long, default_value_t = 10.0)]
        duration: f64,
        /// Unmeasured seconds before each measurement.
        #[arg(long, default_value_t = 1.0)]
        warmup: f64,
    },
    /// End-to-end: webhook → worker → Graph, at a steady rate.
    E2e {
        #[command(flatten)]
        common: Common,
        /// Messages per second (each from a new contact).
        #[arg(long, default_value_t = 50.0)]
        rate: f64,
        #[arg(long, default_value_t = 20.0)]
        duration: f64,
        /// Where the mock Graph API listens (ORCAZAP_WHATSAPP_API_BASE of the server).
        #[arg(long, default_value = "127.0.0.1:9099")]
        graph_listen: String,
        /// How long to wait for the last replies.
        #[arg(long, default_value_t = 15.0)]
        drain_timeout: f64,
    },
    /// Only the mock Graph API, until killed.
    GraphMock {
        #[arg(long, default_value = "127.0.0.1:9099")]
        listen: String,
    },
}

fn secs(s: f64) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(s).map_err(|e| anyhow::anyhow!("invalid duration {s}: {e}"))
}

fn parts(c: &Common) -> (Target, Arc<Payloads>) {
    (
        Target {
            base_url: c.url.clone(),
            host: c.host.clone(),
        },
        Arc::new(Payloads::new(&c.secret, c.run_id, &c.text)),
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Ingest {
            common,
            connections,
            duration,
            warmup,
        } => {
            let (target, payloads) = parts(&common);
            if !common.json {
                println!("conns  req/s     p50 ms  p99 ms  max ms  ok      errors");
            }
            for c in connections {
                let r = ingest::run(
                    &target,
                    payloads.clone(),
                    c.max(1),
                    secs(duration)?,
                    secs(warmup)?,
                )
                .await?;
                if common.json {
                    println!(
                        "{}",
                        json!({
                            "mode": "ingest", "connections": r.connections, "seconds": r.seconds,
                            "ok": r.ok, "errors": r.errors, "rps": r.requests_per_s,
                            "p50_ms": r.latency.p50_ms, "p95_ms": r.latency.p95_ms,
                            "p99_ms": r.latency.p99_ms, "max_ms": r.latency.max_ms,
                        })
                    );
                } else {
                    println!(
                        "{:<6} {:<9.0} {:<7.2} {:<7.2} {:<7.2} {:<7} {}",
                        r.connections,
                        r.requests_per_s,
                        r.latency.p50_ms,
                        r.latency.p99_ms,
                        r.latency.max_ms,
                        r.ok,
                        r.errors
                    );
                }
            }
        }
        Command::E2e {
            common,
            rate,
            duration,
            graph_listen,
            drain_timeout,
        } => {
            if !(rate > 0.0 && rate <= 100_000.0) {
                anyhow::bail!("--rate must be in (0, 100000]");
            }
            let (target, payloads) = parts(&common);
            let mut mock = GraphMock::new(Duration::ZERO);
            mock.spawn(&graph_listen).await?;
            let r = e2e::run(
                &target,
                payloads,
                &mock,
                rate,
                secs(duration)?,
                secs(drain_timeout)?,
            )
            .await?;
            if common.json {
                println!(
                    "{}",
                    json!({
                        "mode": "e2e", "rate": r.rate, "sent": r.sent,
                        "webhook_errors": r.webhook_errors, "answered": r.answered,
                        "lost": r.lost, "refused": r.refused, "duplicated": r.duplicated,
                        "p50_ms": r.latency.p50_ms, "p95_ms": r.latency.p95_ms,
                        "p99_ms": r.latency.p99_ms, "max_ms": r.latency.max_ms,
                    })
                );
            } else {
                println!(
                    "rate {:.0}/s  sent {}  webhook errors {}  answered {}  lost {}  refused {}  duplicated {}\n\
                     latency webhook→Graph: p50 {:.1} ms  p95 {:.1} ms  p99 {:.1} ms  max {:.1} ms",
                    r.rate, r.sent, r.webhook_errors, r.answered, r.lost, r.refused, r.duplicated,
                    r.latency.p50_ms, r.latency.p95_ms, r.latency.p99_ms, r.latency.max_ms
                );
            }
            if r.lost > 0 || r.webhook_errors > 0 {
                std::process::exit(2);
            }
        }
        Command::GraphMock { listen } => {
            let mut mock = GraphMock::new(Duration::ZERO);
            let addr = mock.spawn(&listen).await?;
            eprintln!("mock Graph API on http://{addr}");
            tokio::signal::ctrl_c().await?;
            let (total, refused) = mock.with_received(|r| (r.total, r.refused));
            eprintln!("{total} replies accepted, {refused} refused by Meta's rules");
        }
    }
    Ok(())
}
