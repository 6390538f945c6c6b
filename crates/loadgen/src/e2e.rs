//! End-to-end latency: webhooks at a steady rate (open loop, one new contact each), and the
//! time from sending each webhook until the mock Graph API receives that contact's reply.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::graph_mock::GraphMock;
use crate::payload::Payloads;
use crate::stats::{percentiles, Percentiles};
use crate::target::Target;

pub struct E2eReport {
    pub rate: f64,
    pub sent: usize,
    pub webhook_errors: usize,
    pub answered: usize,
    pub lost: usize,
    /// Replies the mock refused by Meta's rules (they count as lost too).
    pub refused: u64,
    pub duplicated: usize,
    pub latency: Percentiles,
}

pub async fn run(
    target: &Target,
    payloads: Arc<Payloads>,
    mock: &GraphMock,
    rate: f64,
    duration: Duration,
    drain_timeout: Duration,
) -> anyhow::Result<E2eReport> {
    let client = target.client(64)?;
    let total = (rate * duration.as_secs_f64()).round() as u64;
    let sent_at: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let errors = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    // Open loop: a slow server must not slow the sender down (no coordinated omission).
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut tasks = Vec::with_capacity(total as usize);
    for n in 0..total {
        ticker.tick().await;
        let d = payloads.delivery(n, n);
        let client = client.clone();
        let url = target.webhook_url();
        let host = target.host.clone();
        let sent_at = sent_at.clone();
        let errors = errors.clone();
        tasks.push(tokio::spawn(async move {
            let t0 = Instant::now();
            if let Ok(mut m) = sent_at.lock() {
                m.insert(d.wa_id.clone(), t0);
            }
            let mut req = client
                .post(&url)
                .header("Content-Type", "application/json")
                .header("X-Hub-Signature-256", &d.signature)
                .body(d.body);
            if let Some(h) = &host {
                req = req.header("Host", h);
            }
            let good = matches!(req.send().await, Ok(r) if r.status().is_success());
            if !good {
                errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let sent_at: HashMap<String, Instant> = sent_at
        .lock()
        .map_err(|_| anyhow::anyhow!("sender panicked"))?
        .clone();
    let deadline = Instant::now() + drain_timeout;
    loop {
        let answered = mock.with_received(|r| {
            sent_at
                .keys()
                .filter(|w| r.by_recipient.contains_key(*w))
                .count()
        });
        if answered == sent_at.len() || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Late duplicates would arrive now.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (samples, duplicated, refused) = mock.with_received(|r| {
        let mut samples = Vec::new();
        let mut dup = 0;
        for (wa_id, t0) in &sent_at {
            if let Some(times) = r.by_recipient.get(wa_id) {
                if let Some(first) = times.iter().min() {
                    samples.push(first.saturating_duration_since(*t0));
                }
                if times.len() > 1 {
                    dup += 1;
                }
            }
        }
        (samples, dup, r.refused)
    });
    let answered = samples.len();
    Ok(E2eReport {
        rate,
        sent: sent_at.len(),
        webhook_errors: errors.load(std::sync::atomic::Ordering::Relaxed),
        answered,
        lost: sent_at.len() - answered,
        refused,
        duplicated,
        latency: percentiles(samples),
    })
}
