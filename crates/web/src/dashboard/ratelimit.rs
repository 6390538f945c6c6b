//! In-memory token buckets per IP and per store, by endpoint class.
//!
//! In memory on purpose: a limit that resets when the process restarts is still a limit, and
//! a shared store (Redis) would be a new moving part. With several instances behind a load
//! balancer each enforces its own share; login lockout, which must hold across instances,
//! lives in the database (`store::sessions::throttle_*`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// What a request does, which decides its budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    Login,
    Write,
    Read,
}

impl Class {
    /// (burst, refill per minute) for one IP and for one store.
    fn limits(self) -> (Limit, Limit) {
        match self {
            Class::Login => (Limit::new(10, 10), Limit::new(60, 60)),
            Class::Write => (Limit::new(60, 60), Limit::new(600, 600)),
            Class::Read => (Limit::new(300, 300), Limit::new(3000, 3000)),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Limit {
    burst: f64,
    per_sec: f64,
}

impl Limit {
    const fn new(burst: u32, per_minute: u32) -> Limit {
        Limit {
            burst: burst as f64,
            per_sec: per_minute as f64 / 60.0,
        }
    }
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

#[derive(Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<(Class, bool, String), Bucket>>,
}

const MAX_KEYS: usize = 50_000;

impl RateLimiter {
    /// Takes one token from the IP's and the store's bucket; `Err(seconds)` to wait when
    /// either is empty (nothing is taken then).
    pub fn check(&self, class: Class, ip: &str, tenant_id: &str) -> Result<(), u64> {
        let now = Instant::now();
        let (per_ip, per_tenant) = class.limits();
        let Ok(mut map) = self.buckets.lock() else {
            return Ok(());
        };
        if map.len() > MAX_KEYS {
            // Full buckets carry no information: dropping them is free.
            map.retain(|(c, _, _), b| {
                let (l, _) = c.limits();
                b.tokens + now.duration_since(b.at).as_secs_f64() * l.per_sec < l.burst
            });
        }
        let mut wait = 0.0f64;
        for (is_tenant, key, limit) in [(false, ip, per_ip), (true, tenant_id, per_tenant)] {
            let b = map
                .entry((class, is_tenant, key.to_string()))
                .or_insert(Bucket {
                    tokens: limit.burst,
                    at: now,
                });
            b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * limit.per_sec)
                .min(limit.burst);
            b.at = now;
            if b.tokens < 1.0 {
                wait = wait.max((1.0 - b.tokens) / limit.per_sec);
            }
        }
        if wait > 0.0 {
            return Err(wait.ceil().max(1.0) as u64);
        }
        for is_tenant in [false, true] {
            let key = if is_tenant { tenant_id } else { ip };
            if let Some(b) = map.get_mut(&(class, is_tenant, key.to_string())) {
                b.tokens -= 1.0;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_429_with_retry_after() {
        let rl = RateLimiter::default();
        for _ in 0..10 {
            assert!(rl.check(Class::Login, "1.1.1.1", "t1").is_ok());
        }
        let wait = rl.check(Class::Login, "1.1.1.1", "t1").unwrap_err();
        assert!((1..=6).contains(&wait), "{wait}");
        // Another IP still has its own budget; reads are another class.
        assert!(rl.check(Class::Login, "2.2.2.2", "t1").is_ok());
        assert!(rl.check(Class::Read, "1.1.1.1", "t1").is_ok());
    }

    #[test]
    fn tenant_budget_is_shared_by_ips() {
        let rl = RateLimiter::default();
        let mut refused = 0;
        for i in 0..70 {
            if rl
                .check(Class::Login, &format!("10.0.0.{i}"), "t1")
                .is_err()
            {
                refused += 1;
            }
        }
        assert_eq!(refused, 10);
    }
}
