//! In-memory token buckets, by endpoint class (per address and per store) and by named
//! budget (per address, per account, per address-and-account).
//!
//! In memory on purpose: a limit that resets when the process restarts is still a limit, and
//! a shared store (Redis) would be a new moving part. With several instances behind a load
//! balancer each enforces its own share; login lockout, which must hold across instances,
//! lives in the database (`store::sessions::throttle_*`).
//!
//! Time is a parameter (`*_at`): the buckets' arithmetic is tested with a clock the test moves,
//! never with the wall clock.

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
    /// (burst, refill per minute) for one address and for one store.
    fn limits(self) -> (Limit, Limit) {
        match self {
            Class::Login => (Limit::new(10, 10), Limit::new(60, 60)),
            Class::Write => (Limit::new(60, 60), Limit::new(600, 600)),
            Class::Read => (Limit::new(300, 300), Limit::new(3000, 3000)),
        }
    }

    fn scopes(self) -> (&'static str, &'static str) {
        match self {
            Class::Login => ("login:ip", "login:tenant"),
            Class::Write => ("write:ip", "write:tenant"),
            Class::Read => ("read:ip", "read:tenant"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    burst: f64,
    per_sec: f64,
}

impl Limit {
    pub const fn new(burst: u32, per_minute: u32) -> Limit {
        Limit {
            burst: burst as f64,
            per_sec: per_minute as f64 / 60.0,
        }
    }
}

struct Bucket {
    tokens: f64,
    at: Instant,
    limit: Limit,
}

impl Bucket {
    fn refilled(&self, now: Instant) -> f64 {
        (self.tokens + now.saturating_duration_since(self.at).as_secs_f64() * self.limit.per_sec)
            .min(self.limit.burst)
    }
}

#[derive(Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<(&'static str, String), Bucket>>,
}

const MAX_KEYS: usize = 50_000;

impl RateLimiter {
    /// Takes one token from the address's and the store's bucket of `class`; `Err(seconds)`
    /// to wait when either is empty (nothing is taken then).
    pub fn check(&self, class: Class, ip: &str, tenant_id: &str) -> Result<(), u64> {
        self.check_at(class, ip, tenant_id, Instant::now())
    }

    pub fn check_at(
        &self,
        class: Class,
        ip: &str,
        tenant_id: &str,
        now: Instant,
    ) -> Result<(), u64> {
        let (per_ip, per_tenant) = class.limits();
        let (s_ip, s_tenant) = class.scopes();
        self.take_at(
            &[(s_ip, ip, per_ip), (s_tenant, tenant_id, per_tenant)],
            now,
        )
    }

    /// Takes one token from the address's bucket of `class` only.
    pub fn check_address(&self, class: Class, ip: &str) -> Result<(), u64> {
        let (per_ip, _) = class.limits();
        let (s_ip, _) = class.scopes();
        self.take(&[(s_ip, ip, per_ip)])
    }

    /// Takes one token from the store's bucket of `class` only. Only requests of the store's
    /// own signed-in users may spend it (`security::guard`): a budget that anonymous requests
    /// could spend would let anyone with a handful of addresses lock a store's team out.
    pub fn check_store(&self, class: Class, tenant_id: &str) -> Result<(), u64> {
        let (_, per_tenant) = class.limits();
        let (_, s_tenant) = class.scopes();
        self.take(&[(s_tenant, tenant_id, per_tenant)])
    }

    /// Takes one token from every named bucket `(scope, key, limit)`, all or nothing;
    /// `Err(seconds)` until every one of them has a token again.
    pub fn take(&self, buckets: &[(&'static str, &str, Limit)]) -> Result<(), u64> {
        self.take_at(buckets, Instant::now())
    }

    pub fn take_at(
        &self,
        buckets: &[(&'static str, &str, Limit)],
        now: Instant,
    ) -> Result<(), u64> {
        let Ok(mut map) = self.buckets.lock() else {
            return Ok(());
        };
        if map.len() > MAX_KEYS {
            // Full buckets carry no information: dropping them is free.
            map.retain(|_, b| b.refilled(now) < b.limit.burst);
        }
        let mut wait = 0.0f64;
        for (scope, key, limit) in buckets {
            let b = map.entry((scope, key.to_string())).or_insert(Bucket {
                tokens: limit.burst,
                at: now,
                limit: *limit,
            });
            b.tokens = b.refilled(now);
            b.at = now;
            b.limit = *limit;
            if b.tokens < 1.0 {
                wait = wait.max((1.0 - b.tokens) / limit.per_sec);
            }
        }
        if wait > 0.0 {
            return Err(wait.ceil().max(1.0) as u64);
        }
        for (scope, key, _) in buckets {
            if let Some(b) = map.get_mut(&(*scope, key.to_string())) {
                b.tokens -= 1.0;
            }
        }
        Ok(())
    }
}

impl RateLimiter {
    /// Whether every named bucket has a token, without taking any.
    pub fn peek_at(
        &self,
        buckets: &[(&'static str, &str, Limit)],
        now: Instant,
    ) -> Result<(), u64> {
        let Ok(map) = self.buckets.lock() else {
            return Ok(());
        };
        let mut wait = 0.0f64;
        for (scope, key, limit) in buckets {
            if let Some(b) = map.get(&(*scope, key.to_string())) {
                let t = b.refilled(now);
                if t < 1.0 {
                    wait = wait.max((1.0 - t) / limit.per_sec);
                }
            }
        }
        if wait > 0.0 {
            return Err(wait.ceil().max(1.0) as u64);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn burst_then_429_with_retry_after() {
        let rl = RateLimiter::default();
        let t0 = Instant::now();
        for _ in 0..10 {
            assert!(rl.check_at(Class::Login, "1.1.1.1", "t1", t0).is_ok());
        }
        // Exactly one token per 6 s comes back at 10/min: the wait says so.
        assert_eq!(rl.check_at(Class::Login, "1.1.1.1", "t1", t0), Err(6));
        let t1 = t0 + Duration::from_secs(3);
        assert_eq!(rl.check_at(Class::Login, "1.1.1.1", "t1", t1), Err(3));
        let t2 = t0 + Duration::from_secs(6);
        assert!(rl.check_at(Class::Login, "1.1.1.1", "t1", t2).is_ok());
        assert!(rl.check_at(Class::Login, "1.1.1.1", "t1", t2).is_err());
        // Another address still has its own budget; reads are another class.
        assert!(rl.check_at(Class::Login, "2.2.2.2", "t1", t2).is_ok());
        assert!(rl.check_at(Class::Read, "1.1.1.1", "t1", t2).is_ok());
    }

    #[test]
    fn tenant_budget_is_shared_by_addresses() {
        let rl = RateLimiter::default();
        let t0 = Instant::now();
        let refused = (0..70)
            .filter(|i| {
                rl.check_at(Class::Login, &format!("10.0.0.{i}"), "t1", t0)
                    .is_err()
            })
            .count();
        assert_eq!(refused, 10);
        // A minute later the store's bucket is full again.
        let t1 = t0 + Duration::from_secs(60);
        assert!(rl.check_at(Class::Login, "10.0.0.1", "t1", t1).is_ok());
    }

    #[test]
    fn named_buckets_are_all_or_nothing() {
        let rl = RateLimiter::default();
        let t0 = Instant::now();
        let small = Limit::new(2, 60);
        let big = Limit::new(100, 60);
        let pair = |k: &'static str| [("pair", k, small), ("addr", "1.1.1.1", big)];
        assert!(rl.take_at(&pair("a"), t0).is_ok());
        assert!(rl.take_at(&pair("a"), t0).is_ok());
        assert_eq!(rl.take_at(&pair("a"), t0), Err(1));
        // The refusal took nothing from the shared bucket: 98 left for other keys.
        for _ in 0..98 {
            let _ = rl.take_at(&[("addr", "1.1.1.1", big)], t0);
        }
        assert_eq!(rl.take_at(&pair("b"), t0), Err(1));
        assert!(rl.take_at(&pair("b"), t0 + Duration::from_secs(1)).is_ok());
        // Peeking takes nothing.
        let one = [("peek", "k", Limit::new(1, 1))];
        assert!(rl.peek_at(&one, t0).is_ok());
        assert!(rl.peek_at(&one, t0).is_ok());
        assert!(rl.take_at(&one, t0).is_ok());
        assert_eq!(rl.peek_at(&one, t0), Err(60));
        assert!(rl.peek_at(&one, t0 + Duration::from_secs(60)).is_ok());
    }
}
