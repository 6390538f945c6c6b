//! `loadgen`: load tests for OrçaZap's WhatsApp webhook. See bench/README.md.
//!
//! - `ingest`: closed-loop webhook throughput and latency at N connections.
//! - `e2e`: steady webhook rate, latency until the reply reaches a mock Graph API.
//! - `drain`: N orders queued, then one worker started: time until every quote is sent.
//! - `graph-mock`: just the mock Graph API (for runs with the worker on).

mod drain;
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
    /// Drain: queue N complete orders (server in `serve --web-only`), start the worker
    /// command, time until every customer got the quote at the mock Graph API.
    Drain {
        #[command(flatten)]
        common: Common,
        /// Orders queued (one new contact each).
        #[arg(long, default_value_t = 300)]
        orders: u64,
        /// Connections used to queue them.
        #[arg(long, default_value_t = 32)]
        connections: usize,
        /// Started with `sh -c` once everything is queued; killed (SIGTERM) at the end.
        /// Prefix with `exec` so its peak RSS can be read.
        #[arg(long)]
        worker_cmd: String,
        /// Where the mock Graph API listens (ORCAZAP_WHATSAPP_API_BASE of the worker).
        #[arg(long, default_value = "127.0.0.1:9099")]
        graph_listen: String,
        /// The order each customer sends. The default is a complete order of the demo store
        /// (items, bairro with a freight rule, payment, day): one message, one quote sent at
        /// once. (`--text` is not used by `drain`.)
        #[arg(long, default_value = COMPLETE_ORDER)]
        order: String,
        /// A reply is the quote when its text contains this.
        #[arg(long, default_value = "Total")]
        quote_marker: String,
        /// Quotes per point of the rate curve.
        #[arg(long, default_value_t = 500)]
        block: usize,
        #[arg(long, default_value_t = 600.0)]
        timeout: f64,
        /// Fairness: another store's WhatsApp number id; its customers write during the drain
        /// and their reply latency is reported.
        #[arg(long)]
        probe_phone_number_id: Option<String>,
        /// Probe messages (one new contact each), one every --probe-every-ms.
        #[arg(long, default_value_t = 20)]
        probe_count: u64,
        #[arg(long, default_value_t = 500)]
        probe_every_ms: u64,
        #[arg(long, default_value = "oi, bom dia")]
        probe_text: String,
    },
    /// Only the mock Graph API, until killed.
    GraphMock {
        #[arg(long, default_value = "127.0.0.1:9099")]
        listen: String,
    },
}

/// The README's example order for the demo store (quoted at R$ 661,05, sent at once).
const COMPLETE_ORDER: &str = "bom dia, preciso de 10 sacos de cimento e 2 metros de areia média, entrega amanhã no Grajaú, pago no pix";

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
        Command::Drain {
            common,
            order,
            orders,
            connections,
            worker_cmd,
            graph_listen,
            quote_marker,
            block,
            timeout,
            probe_phone_number_id,
            probe_count,
            probe_every_ms,
            probe_text,
        } => {
            let (target, _) = parts(&common);
            let payloads = Arc::new(Payloads::new(&common.secret, common.run_id, &order));
            let mut mock = GraphMock::new(Duration::ZERO);
            mock.spawn(&graph_listen).await?;
            let r = drain::run(drain::DrainPlan {
                target: &target,
                payloads,
                mock: &mock,
                orders,
                connections,
                worker_cmd: &worker_cmd,
                quote_marker: &quote_marker,
                timeout: secs(timeout)?,
                block,
                probe: probe_phone_number_id.map(|phone_number_id| drain::Probe {
                    phone_number_id,
                    every: Duration::from_millis(probe_every_ms.max(1)),
                    count: probe_count,
                    text: probe_text,
                }),
            })
            .await?;
            let lost = r.queued as usize - r.answered;
            let probe = r.probe.as_ref().map(|p| {
                json!({
                    "sent": p.sent, "answered": p.answered, "p50_ms": p.latency.p50_ms,
                    "p95_ms": p.latency.p95_ms, "max_ms": p.latency.max_ms,
                })
            });
            if common.json {
                println!(
                    "{}",
                    json!({
                        "mode": "drain", "queued": r.queued, "webhook_errors": r.webhook_errors,
                        "queue_seconds": r.queue_seconds, "answered": r.answered, "lost": lost,
                        "replied_without_quote": r.replied_without_quote,
                        "duplicated": r.duplicated, "refused": r.refused,
                        "drain_seconds": r.drain_seconds, "rate": r.rate,
                        "block": r.block, "curve": r.curve,
                        "worker_peak_rss_kib": r.worker_peak_rss_kib, "probe": probe,
                    })
                );
            } else {
                let curve: Vec<String> = r.curve.iter().map(|x| format!("{x:.0}")).collect();
                println!(
                    "queued {} in {:.1} s (webhook errors {})  answered {}  lost {}  duplicated {}  refused {}\n\
                     drain {:.2} s  {:.0} quotes/s  per {}: [{}]  worker peak RSS {} KiB",
                    r.queued, r.queue_seconds, r.webhook_errors, r.answered, lost, r.duplicated,
                    r.refused, r.drain_seconds, r.rate, r.block, curve.join(", "),
                    r.worker_peak_rss_kib.map_or("?".to_string(), |k| k.to_string())
                );
                if let Some(p) = probe {
                    println!("other store during the drain: {p}");
                }
            }
            if r.replied_without_quote > 0 {
                eprintln!(
                    "{} customers got replies but no quote (no reply containing {quote_marker:?}): \
                     is --text a complete order (items, bairro, payment, day)?",
                    r.replied_without_quote
                );
            }
            let probe_lost = r
                .probe
                .as_ref()
                .is_some_and(|p| (p.answered as u64) < p.sent);
            if lost > 0 || r.webhook_errors > 0 || r.duplicated > 0 || probe_lost {
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
