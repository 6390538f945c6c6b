//! Drain: how fast one worker empties a backlog. N complete orders (each from a new contact)
//! are queued through the webhook of a `serve --web-only` server, then the worker command is
//! started and the clock runs until every customer has received a reply containing the quote
//! marker at the mock Graph API. The rate is reported overall and per block of 500 quotes, so
//! a rate that falls as the backlog grows (or shrinks) shows up as a curve, not an average.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::graph_mock::GraphMock;
use crate::payload::Payloads;
use crate::target::Target;

pub struct DrainReport {
    pub queued: u64,
    pub webhook_errors: u64,
    pub queue_seconds: f64,
    /// Customers who got their quote (a reply containing the quote marker).
    pub answered: usize,
    /// Customers who got replies but no quote (the order text was not a complete order, or
    /// the quote waits for approval): not counted in the rate.
    pub replied_without_quote: usize,
    pub duplicated: usize,
    pub refused: u64,
    /// From starting the worker to the last quote.
    pub drain_seconds: f64,
    pub rate: f64,
    /// Quotes per second in each block of `block` quotes, in order.
    pub curve: Vec<f64>,
    pub block: usize,
    /// The worker's peak resident set (VmHWM), KiB, when it could be read.
    pub worker_peak_rss_kib: Option<u64>,
    /// Messages to another store sent during the drain, when asked for.
    pub probe: Option<ProbeReport>,
}

/// Another store's customers writing while the backlog drains (fairness across stores).
pub struct Probe {
    /// That store's WhatsApp number id.
    pub phone_number_id: String,
    pub every: Duration,
    pub count: u64,
    pub text: String,
}

pub struct ProbeReport {
    pub sent: u64,
    pub answered: usize,
    pub latency: crate::stats::Percentiles,
}

/// Probe contacts are numbered from here (orders from 0).
const PROBE_CONTACTS: u64 = 500_000_000;

pub struct DrainPlan<'a> {
    pub target: &'a Target,
    pub payloads: Arc<Payloads>,
    pub mock: &'a GraphMock,
    pub orders: u64,
    pub connections: usize,
    /// Run by `sh -c` after the backlog is queued (prefix it with `exec` for the RSS).
    pub worker_cmd: &'a str,
    /// A reply counts as the quote when its text contains this.
    pub quote_marker: &'a str,
    pub timeout: Duration,
    pub block: usize,
    pub probe: Option<Probe>,
}

/// Queues the orders with `connections` closed-loop connections; errors are counted.
async fn queue(plan: &DrainPlan<'_>) -> anyhow::Result<u64> {
    let seq = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..plan.connections.max(1) {
        let client = plan.target.client(1)?;
        let url = plan.target.webhook_url();
        let host = plan.target.host.clone();
        let payloads = plan.payloads.clone();
        let (seq, errors, total) = (seq.clone(), errors.clone(), plan.orders);
        tasks.push(tokio::spawn(async move {
            loop {
                let n = seq.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    break;
                }
                let d = payloads.delivery(n, n);
                let mut req = client
                    .post(&url)
                    .header("Content-Type", "application/json")
                    .header("X-Hub-Signature-256", &d.signature)
                    .body(d.body);
                if let Some(h) = &host {
                    req = req.header("Host", h);
                }
                if !matches!(req.send().await, Ok(r) if r.status().is_success()) {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    Ok(errors.load(Ordering::Relaxed))
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Rates per block of `block` arrivals (seconds since the start, ascending).
pub fn curve(arrivals: &[f64], start: f64, block: usize) -> Vec<f64> {
    let mut out = Vec::new();
    let mut prev = start;
    for chunk in arrivals.chunks(block.max(1)) {
        if chunk.len() < block {
            break;
        }
        let end = chunk[chunk.len() - 1];
        out.push(chunk.len() as f64 / (end - prev).max(1e-9));
        prev = end;
    }
    out
}

pub async fn run(plan: DrainPlan<'_>) -> anyhow::Result<DrainReport> {
    let t_queue = Instant::now();
    let webhook_errors = queue(&plan).await?;
    let queue_seconds = t_queue.elapsed().as_secs_f64();
    let wa_ids: Vec<String> = (0..plan.orders).map(|n| plan.payloads.wa_id(n)).collect();
    let customers: std::collections::HashSet<&str> = wa_ids.iter().map(String::as_str).collect();
    let marker = plan.quote_marker;
    // Customers of the backlog who got their quote: distinct recipients, so a duplicate or a
    // probe's reply never stands in for a customer still waiting.
    let quotes_so_far = |mock: &GraphMock| {
        mock.with_calls(|calls| {
            calls
                .iter()
                .filter(|c| c.is_accepted() && c.text().contains(marker))
                .map(|c| c.to())
                .filter(|to| customers.contains(to))
                .collect::<std::collections::HashSet<_>>()
                .len()
        })
    };
    if quotes_so_far(plan.mock) > 0 {
        anyhow::bail!("quotes arrived before the worker started: is a worker already running?");
    }
    let t0 = Instant::now();
    let mut worker = std::process::Command::new("sh")
        .arg("-c")
        .arg(plan.worker_cmd)
        .spawn()?;
    // The probes: one new contact each, from a wa_id range the orders never use.
    let probe_task = plan.probe.as_ref().map(|p| {
        let client = plan.target.client(4);
        let url = plan.target.webhook_url();
        let host = plan.target.host.clone();
        let payloads = plan.payloads.clone();
        let (pn, every, count, text) =
            (p.phone_number_id.clone(), p.every, p.count, p.text.clone());
        tokio::spawn(async move {
            let client = client?;
            let mut sent = Vec::new();
            let mut tick = tokio::time::interval(every);
            for n in 0..count {
                tick.tick().await;
                let d = payloads.delivery_to(&pn, PROBE_CONTACTS + n, PROBE_CONTACTS + n, &text);
                let at = Instant::now();
                let mut req = client
                    .post(&url)
                    .header("Content-Type", "application/json")
                    .header("X-Hub-Signature-256", &d.signature)
                    .body(d.body);
                if let Some(h) = &host {
                    req = req.header("Host", h);
                }
                if matches!(req.send().await, Ok(r) if r.status().is_success()) {
                    sent.push((d.wa_id, at));
                }
            }
            anyhow::Ok(sent)
        })
    });
    let deadline = t0 + plan.timeout;
    let mut rss = None;
    loop {
        rss = peak_rss_kib(worker.id()).or(rss);
        if quotes_so_far(plan.mock) >= wa_ids.len() || Instant::now() >= deadline {
            break;
        }
        if let Some(status) = worker.try_wait()? {
            anyhow::bail!("the worker exited early: {status}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let probes = match probe_task {
        Some(task) => Some(task.await??),
        None => None,
    };
    // Late duplicates (and the last probes' replies) would arrive now.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    rss = peak_rss_kib(worker.id()).or(rss);
    // SIGTERM: the worker shuts down gracefully.
    let _ = std::process::Command::new("kill")
        .arg(worker.id().to_string())
        .status();
    let _ = worker.wait();
    let (mut arrivals, duplicated, refused, replied) = plan.mock.with_calls(|calls| {
        let mut first = std::collections::HashMap::new();
        let mut dup = 0;
        let mut refused = 0;
        let mut replied = std::collections::HashSet::new();
        for c in calls {
            if !c.is_accepted() {
                refused += u64::from(c.refusal().is_some());
                continue;
            }
            if customers.contains(c.to()) {
                replied.insert(c.to().to_string());
            }
            if !c.text().contains(marker) {
                continue;
            }
            let at = c.at.saturating_duration_since(t0).as_secs_f64();
            if first.insert(c.to().to_string(), at).is_some() {
                dup += 1;
            }
        }
        let arrivals: Vec<f64> = wa_ids
            .iter()
            .filter_map(|w| first.get(w).copied())
            .collect();
        (arrivals, dup, refused, replied.len())
    });
    arrivals.sort_by(f64::total_cmp);
    let probe = probes.map(|sent| {
        let samples: Vec<Duration> = plan.mock.with_calls(|calls| {
            sent.iter()
                .filter_map(|(wa_id, at)| {
                    calls
                        .iter()
                        .filter(|c| c.is_accepted() && c.to() == wa_id)
                        .map(|c| c.at.saturating_duration_since(*at))
                        .min()
                })
                .collect()
        });
        ProbeReport {
            sent: sent.len() as u64,
            answered: samples.len(),
            latency: crate::stats::percentiles(samples),
        }
    });
    let drain_seconds = arrivals.last().copied().unwrap_or(0.0);
    Ok(DrainReport {
        queued: plan.orders,
        webhook_errors,
        queue_seconds,
        answered: arrivals.len(),
        replied_without_quote: replied.saturating_sub(arrivals.len()),
        duplicated,
        refused,
        drain_seconds,
        rate: arrivals.len() as f64 / drain_seconds.max(1e-9),
        curve: curve(&arrivals, 0.0, plan.block),
        block: plan.block,
        worker_peak_rss_kib: rss,
        probe,
    })
}

#[cfg(test)]
mod tests {
    use super::curve;

    #[test]
    fn curve_is_the_rate_of_each_full_block() {
        // Blocks of two: 2/s, then 4/s, then 0.8/s; the last, partial block is dropped.
        let arrivals = [0.5, 1.0, 1.25, 1.5, 3.0, 4.0, 5.0];
        assert_eq!(curve(&arrivals, 0.0, 2), vec![2.0, 4.0, 0.8]);
    }
}
