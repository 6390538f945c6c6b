//! Latency percentiles (nearest rank over all samples: no histogram rounding).

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Percentiles {
    pub count: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// Nearest-rank percentile of an ascending slice; `q` in (0, 100].
fn rank(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let n = sorted.len();
    let idx = ((q / 100.0) * n as f64).ceil() as usize;
    sorted[idx.clamp(1, n) - 1]
}

pub fn percentiles(mut samples: Vec<Duration>) -> Percentiles {
    samples.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    Percentiles {
        count: samples.len(),
        p50_ms: ms(rank(&samples, 50.0)),
        p95_ms: ms(rank(&samples, 95.0)),
        p99_ms: ms(rank(&samples, 99.0)),
        max_ms: ms(samples.last().copied().unwrap_or_default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn nearest_rank_on_one_to_hundred() {
        let samples: Vec<Duration> = (1..=100).rev().map(ms).collect();
        let p = percentiles(samples);
        assert_eq!(p.count, 100);
        assert_eq!(p.p50_ms, 50.0);
        assert_eq!(p.p95_ms, 95.0);
        assert_eq!(p.p99_ms, 99.0);
        assert_eq!(p.max_ms, 100.0);
    }

    #[test]
    fn small_samples_take_the_ceiling() {
        let p = percentiles(vec![ms(3), ms(1), ms(2)]);
        assert_eq!(p.p50_ms, 2.0);
        assert_eq!(p.p99_ms, 3.0);
    }

    #[test]
    fn empty_is_zero() {
        let p = percentiles(Vec::new());
        assert_eq!(p.count, 0);
        assert_eq!(p.p99_ms, 0.0);
    }
}
