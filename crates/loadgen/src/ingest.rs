//! Closed-loop webhook ingest: `connections` keep-alive connections, each sending its next
//! delivery as soon as the previous one is answered, for a fixed duration.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::payload::Payloads;
use crate::stats::{percentiles, Percentiles};
use crate::target::Target;

pub struct IngestReport {
    pub connections: usize,
    pub seconds: f64,
    pub ok: u64,
    pub errors: u64,
    pub requests_per_s: f64,
    pub latency: Percentiles,
}

pub async fn run(
    target: &Target,
    payloads: Arc<Payloads>,
    connections: usize,
    duration: Duration,
    warmup: Duration,
) -> anyhow::Result<IngestReport> {
    let seq = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + duration;
    let mut tasks = Vec::with_capacity(connections);
    for _ in 0..connections {
        let client = target.client(1)?;
        let url = target.webhook_url();
        let host = target.host.clone();
        let payloads = payloads.clone();
        let seq = seq.clone();
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            let (mut ok, mut errors) = (0u64, 0u64);
            loop {
                let n = seq.fetch_add(1, Ordering::Relaxed);
                // One new contact per message: the webhook's worst case (contact and
                // conversation created every time).
                let d = payloads.delivery(n, n);
                let t0 = Instant::now();
                if t0 >= end {
                    break;
                }
                let mut req = client
                    .post(&url)
                    .header("Content-Type", "application/json")
                    .header("X-Hub-Signature-256", &d.signature)
                    .body(d.body);
                if let Some(h) = &host {
                    req = req.header("Host", h);
                }
                let good = match req.send().await {
                    Ok(r) => {
                        let s = r.status();
                        let _ = r.bytes().await;
                        s.is_success()
                    }
                    Err(_) => false,
                };
                let t1 = Instant::now();
                if t0 >= measure_from && t1 <= end {
                    if good {
                        ok += 1;
                        samples.push(t1 - t0);
                    } else {
                        errors += 1;
                    }
                }
            }
            (samples, ok, errors)
        }));
    }
    let mut all = Vec::new();
    let (mut ok, mut errors) = (0, 0);
    for t in tasks {
        let (s, o, e) = t.await?;
        all.extend(s);
        ok += o;
        errors += e;
    }
    let seconds = duration.as_secs_f64();
    Ok(IngestReport {
        connections,
        seconds,
        ok,
        errors,
        requests_per_s: ok as f64 / seconds,
        latency: percentiles(all),
    })
}
