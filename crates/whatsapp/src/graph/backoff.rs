//! How long to wait before the next attempt: exponential backoff with full jitter, so many
//! workers hitting the same limit don't retry in lockstep.

use std::time::Duration;

use super::config::RetryPolicy;
use super::error::SendError;

/// The pair rate limit (one customer, many messages) clears slowly: its ceiling grows
/// from a larger base.
pub const PAIR_RATE_LIMIT_FACTOR: u32 = 4;

/// Wait after attempt number `failed_attempt` (1-based) failed with `err`.
///
/// `random_upto(n)` returns a uniform value in `0..=n` (microseconds); injected so tests
/// can pin the jitter.
pub(crate) fn delay_after(
    policy: &RetryPolicy,
    failed_attempt: u32,
    err: &SendError,
    random_upto: impl FnOnce(u64) -> u64,
) -> Duration {
    let max = micros(policy.max_delay);
    let mut base = micros(policy.base_delay);
    if err.is_pair_rate_limit() {
        base = base.saturating_mul(u64::from(PAIR_RATE_LIMIT_FACTOR));
    }
    let doublings = failed_attempt.saturating_sub(1).min(40);
    let ceiling = base.saturating_mul(1u64 << doublings).min(max);
    let jittered = if err.is_pair_rate_limit() {
        // Half fixed, half random: a retry to the same customer never fires at once.
        let half = ceiling / 2;
        half + random_upto(ceiling - half).min(ceiling - half)
    } else {
        random_upto(ceiling).min(ceiling)
    };
    let asked = err.retry_after().map_or(0, micros).min(max);
    Duration::from_micros(jittered.max(asked))
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

pub(crate) fn thread_random_upto(n: u64) -> u64 {
    use rand::Rng;
    rand::thread_rng().gen_range(0..=n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
        }
    }

    fn transient(code: Option<i64>, retry_after: Option<Duration>) -> SendError {
        SendError::Transient {
            code,
            message: String::new(),
            retry_after,
        }
    }

    #[test]
    fn ceiling_doubles_and_is_capped() {
        let e = transient(None, None);
        let max = |attempt| delay_after(&policy(), attempt, &e, |n| n);
        assert_eq!(max(1), Duration::from_millis(100));
        assert_eq!(max(2), Duration::from_millis(200));
        assert_eq!(max(4), Duration::from_millis(800));
        assert_eq!(max(6), Duration::from_secs(2));
        assert_eq!(max(u32::MAX), Duration::from_secs(2));
        // Full jitter: the low end is zero.
        assert_eq!(delay_after(&policy(), 3, &e, |_| 0), Duration::ZERO);
    }

    #[test]
    fn pair_rate_limit_waits_longer_and_never_zero() {
        let e = transient(Some(131056), None);
        assert_eq!(
            delay_after(&policy(), 1, &e, |n| n),
            Duration::from_millis(400)
        );
        assert_eq!(
            delay_after(&policy(), 1, &e, |_| 0),
            Duration::from_millis(200)
        );
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_max() {
        let e = transient(None, Some(Duration::from_secs(1)));
        assert_eq!(delay_after(&policy(), 1, &e, |_| 0), Duration::from_secs(1));
        let e = transient(None, Some(Duration::from_secs(60)));
        assert_eq!(delay_after(&policy(), 1, &e, |_| 0), Duration::from_secs(2));
    }

    #[test]
    fn thread_random_stays_in_range() {
        for _ in 0..1000 {
            assert!(thread_random_upto(5) <= 5);
        }
        assert_eq!(thread_random_upto(0), 0);
    }
}
