//! How password guessing is slowed without letting anyone lock real users out. Shared by the
//! store's login form, the central login on `BASE`, and the password-change form.
//!
//! Three controls, each keyed so that it can only hurt the attacker:
//!
//! 1. **Per account (database, all instances):** [`ACCOUNT_MAX_FAILURES`] wrong passwords in
//!    [`THROTTLE_WINDOW_MS`] lock that account for [`LOCKOUT_MS`], from every address. This caps
//!    guesses against one account at 5 per 15 minutes, whatever the attacker's addresses.
//! 2. **Per address and account (memory):** attempts are charged to a token bucket keyed by
//!    (client address, account) after the cheap checks (CSRF, Origin) pass, so requests
//!    without a valid form cost nothing and nobody can spend another person's budget. A
//!    shared address (an office NAT, a proxy not configured as trusted) never blocks another
//!    account.
//! 3. **Per address (database):** wrong passwords from one address, any account, are counted;
//!    past [`ADDRESS_MAX_FAILURES`] in the window the address is *suspect* and every further
//!    failure from it is slowed ([`SUSPECT_DELAY`]) and answered 429 with `Retry-After`. This
//!    is the budget that sees password spraying (one guess for many accounts). It is
//!    consulted only *after* the password was checked, so a correct password from that
//!    address still signs in: twenty colleagues behind one address are never locked out
//!    because someone else guessed from there.
//!
//! The old rule (20 failures from one address lock every account for everyone behind it,
//! unknown e-mails included) turned the per-address counter into a switch anyone could flip
//! to shut the platform.

use std::time::Duration;

use store::sessions;

use crate::dashboard::ratelimit::{Limit, RateLimiter};

/// Wrong passwords for one account (any address) before it is locked.
pub const ACCOUNT_MAX_FAILURES: i64 = 5;
/// Wrong passwords from one address (any account, any store) before its failures are slowed.
pub const ADDRESS_MAX_FAILURES: i64 = 20;
pub const THROTTLE_WINDOW_MS: i64 = 15 * 60 * 1000;
pub const LOCKOUT_MS: i64 = 15 * 60 * 1000;
/// Added to every failure answer of a suspect address (an async wait: costs no CPU).
pub const SUSPECT_DELAY: Duration = Duration::from_secs(1);
/// Attempts per (address, account) pair: a burst of 10, then one every 6 s.
pub const PAIR_LIMIT: Limit = Limit::new(10, 10);

pub fn account_key(tenant_id: &str, email: &str) -> String {
    format!("acct:{tenant_id}:{}", store::users::normalize_email(email))
}

pub fn address_key(ip: &str) -> String {
    format!("ip:{ip}")
}

/// Charges one attempt to the (address, account) bucket; `Err(seconds)` when it is empty.
/// `account` is whatever names the account on that form (tenant + e-mail, or the e-mail on
/// the central login).
pub fn charge_attempt(limiter: &RateLimiter, ip: &str, account: &str) -> Result<(), u64> {
    let key = format!("{ip}|{}", store::users::normalize_email(account));
    limiter.take(&[("login:pair", &key, PAIR_LIMIT)])
}

/// What a failed attempt led to.
#[derive(Debug, Default)]
pub struct Failure {
    /// An account just reached its limit: locked until then.
    pub account_locked_until: Option<i64>,
    /// The address is over its failure budget until then (failures are slowed).
    pub address_suspect_until: Option<i64>,
}

/// Counts one failure against `accounts` (possibly none: an unknown e-mail) and the address.
pub async fn record_failure(
    db: &store::Db,
    accounts: Vec<String>,
    ip: &str,
) -> Result<Failure, store::StoreError> {
    let addr = address_key(ip);
    let f = db
        .tx(move |c| {
            Box::pin(async move {
                let mut locked = None;
                for k in &accounts {
                    let r = sessions::throttle_failure(
                        c,
                        k,
                        ACCOUNT_MAX_FAILURES,
                        THROTTLE_WINDOW_MS,
                        LOCKOUT_MS,
                    )
                    .await?;
                    locked = locked.max(r);
                }
                let suspect = sessions::throttle_failure(
                    c,
                    &addr,
                    ADDRESS_MAX_FAILURES,
                    THROTTLE_WINDOW_MS,
                    LOCKOUT_MS,
                )
                .await?;
                Ok(Failure {
                    account_locked_until: locked,
                    address_suspect_until: suspect,
                })
            })
        })
        .await?;
    metrics::counter!("orcazap_login_failures_total").increment(1);
    if f.address_suspect_until.is_some() {
        metrics::counter!("orcazap_rate_limited_total", "class" => "LoginSuspect").increment(1);
        tokio::time::sleep(SUSPECT_DELAY).await;
    }
    Ok(f)
}

/// The pt-BR answer to a failure from a suspect address (the password was wrong; a right one
/// would have been accepted).
pub fn suspect_message() -> String {
    "E-mail ou senha incorretos. Houve muitas tentativas erradas a partir da sua rede; por segurança as respostas ficaram mais lentas. Confira os dados e tente de novo.".into()
}
