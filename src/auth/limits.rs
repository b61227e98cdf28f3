//! Rate limits.
//!
//! - Failed logins ([`FailedLogins`]): counted in the database, per account and client
//!   address pair and per address, so they hold across restarts and instances, cannot be
//!   raced (a guess is counted before its password is checked), and an attacker
//!   elsewhere cannot lock an account's owner out.
//! - Sign-ups, verification mails sent again, forgotten-password requests and display-name
//!   changes ([`Limiter`]): every request counts, in memory, with the `governor` crate's GCRA.

use std::{hash::Hash, net::IpAddr, num::NonZeroU32, time::Duration};

use sha2::{Digest, Sha256};

use governor::{clock::Clock, DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::{
    config::{Budget, LimitSettings},
    db::{
        login_failures::{self, Scope},
        Pool,
    },
    error::AppError,
};

/// The governor quota that spends `budget` evenly over its window.
fn quota(budget: Budget) -> Quota {
    let count = NonZeroU32::new(budget.count.max(1)).expect("nonzero");
    let period = budget.window / count.get();
    Quota::with_period(period.max(Duration::from_millis(1))).expect("nonzero period").allow_burst(count)
}

pub struct Limiter<K: Hash + Eq + Clone> {
    /// For log lines: which limit refused.
    name: &'static str,
    limiter: DefaultKeyedRateLimiter<K>,
    cap: usize,
}

/// At most this many clients are remembered per limiter (about 64 bytes each). The sweep
/// ([`Limiter::sweep`], every minute) forgets clients whose budget has refilled; past the
/// cap in between, requests pass without being counted until the sweep makes room. Memory
/// stays bounded, and a flood from that many addresses cannot lock everyone else out; what
/// it gains is bounded by the per-account caps behind these limits (mails an hour per
/// account) and by the hashing pool (sign-ups).
pub const MAX_REMEMBERED: usize = 100_000;

impl<K: Hash + Eq + Clone + std::fmt::Display> Limiter<K> {
    pub fn new(name: &'static str, budget: Budget) -> Self {
        Self::with_cap(name, budget, MAX_REMEMBERED)
    }

    pub fn with_cap(name: &'static str, budget: Budget, cap: usize) -> Self {
        Limiter { name, limiter: RateLimiter::keyed(quota(budget)), cap }
    }

    /// Counts one event now; refuses when the budget is spent (or the limiter is full).
    pub fn check(&self, key: &K) -> Result<(), AppError> {
        if self.limiter.len() >= self.cap {
            tracing::warn!(
                limit = self.name,
                remembered = self.limiter.len(),
                "a rate limiter is full; not counting until its sweep"
            );
            return Ok(());
        }
        self.limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.limiter.clock().now());
            // The key is a client address or a user id, never an email.
            tracing::info!(limit = self.name, key = %key, "rate limited");
            AppError::RateLimited { retry_after: seconds(wait) }
        })
    }

    /// Forgets clients whose budget has refilled, and gives the memory back.
    pub fn sweep(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    /// How many clients are remembered.
    pub fn len(&self) -> usize {
        self.limiter.len()
    }

    pub fn is_empty(&self) -> bool {
        self.limiter.is_empty()
    }
}

/// A per-address budget. IPv6 clients come keyed by their /64 (`config::proxies::limit_key`);
/// one who holds a larger prefix could move between its /64s, so each /56 also has four times
/// the budget and each /48 sixteen times. IPv4 addresses are counted alone.
pub struct AddressLimiter {
    per_client: Limiter<IpAddr>,
    per_56: Limiter<IpAddr>,
    per_48: Limiter<IpAddr>,
}

impl AddressLimiter {
    pub fn new(name: &'static str, budget: Budget) -> Self {
        let times = |n: u32| Budget { count: budget.count.saturating_mul(n), window: budget.window };
        AddressLimiter {
            per_client: Limiter::new(name, budget),
            per_56: Limiter::new(name, times(4)),
            per_48: Limiter::new(name, times(16)),
        }
    }

    /// Counts one event of `ip` now, in its own budget and, for IPv6, its /56's and /48's.
    pub fn check(&self, ip: &IpAddr) -> Result<(), AppError> {
        self.per_client.check(ip)?;
        if let IpAddr::V6(v6) = ip {
            let prefix = |bits: u32| {
                IpAddr::from(std::net::Ipv6Addr::from(u128::from(*v6) & (u128::MAX << (128 - bits))))
            };
            self.per_56.check(&prefix(56))?;
            self.per_48.check(&prefix(48))?;
        }
        Ok(())
    }

    pub fn sweep(&self) {
        self.per_client.sweep();
        self.per_56.sweep();
        self.per_48.sweep();
    }
}

/// How often the in-memory limiters are swept.
pub const SWEEP_EVERY: Duration = Duration::from_secs(60);

fn seconds(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// Failed logins (and wrong current passwords), in the database. A guess is counted as a
/// failure of its address and of its (account, address) pair before the password is
/// checked, so concurrent guesses cannot overrun a budget; a right password takes the
/// address's count back and clears the pair. Past the pair's budget
/// that pair is refused until its window ends, but the account stays open from every
/// other address; past the address budget, the address is refused for every account.
#[derive(Clone, Debug)]
pub struct FailedLogins {
    pool: Pool,
    per_pair: Budget,
    per_address: Budget,
}

/// What one login attempt counted; hand it back to [`FailedLogins::password_was_right`]
/// or [`FailedLogins::password_not_checked`].
#[derive(Debug)]
pub struct CountedAttempt {
    pair: String,
    address: String,
}

fn window_secs(budget: Budget) -> i64 {
    i64::try_from(budget.window.as_secs()).unwrap_or(i64::MAX).max(1)
}

impl FailedLogins {
    pub fn new(pool: &Pool, settings: &LimitSettings) -> Self {
        FailedLogins {
            pool: pool.clone(),
            per_pair: settings.login_failures_per_account,
            per_address: settings.login_failures_per_ip,
        }
    }

    /// Counts this attempt at `now` (Unix seconds) before its password is checked, or 429 with the seconds until
    /// the window that refused it ends. The pair key holds a hash of the email, not the
    /// email (no list of guessed addresses is kept).
    /// `email` as parsed from the form, or as the account stores it (an address stored under
    /// older rules may no longer parse, and its owner must still be able to confirm).
    pub async fn count_attempt(&self, email: &str, ip: IpAddr, now: i64) -> Result<CountedAttempt, AppError> {
        let address = ip.to_string();
        let email_hash = crate::security::hex(&Sha256::digest(email.as_bytes()));
        let attempt = CountedAttempt { pair: format!("{email_hash}|{address}"), address };
        if let Err(refused) = self.count_one(Scope::Address, &attempt.address, self.per_address, now).await {
            tracing::info!(client = %attempt.address, limit = "login_failures_per_ip", "login refused: rate limited");
            return Err(refused);
        }
        if let Err(refused) = self.count_one(Scope::Pair, &attempt.pair, self.per_pair, now).await {
            // Not checked, so not a failure of this address.
            login_failures::forgive_failed_login(&self.pool, Scope::Address, &attempt.address).await?;
            tracing::info!(client = %attempt.address, limit = "login_failures_per_account", "login refused: rate limited");
            return Err(refused);
        }
        Ok(attempt)
    }

    /// One failure of `key` counted, or 429 with the seconds until its window ends.
    async fn count_one(&self, scope: Scope, key: &str, budget: Budget, now: i64) -> Result<(), AppError> {
        let window = window_secs(budget);
        let count = login_failures::record_failed_login(&self.pool, scope, key, now, window).await?;
        if count.failures > i64::from(budget.count) {
            let wait = (count.window_start + window - now).max(1);
            return Err(AppError::RateLimited { retry_after: u64::try_from(wait).unwrap_or(1) });
        }
        Ok(())
    }

    /// The password was right: the address's count goes back, the pair starts over.
    pub async fn password_was_right(&self, attempt: CountedAttempt) -> Result<(), AppError> {
        login_failures::forgive_failed_login(&self.pool, Scope::Address, &attempt.address).await?;
        login_failures::clear(&self.pool, Scope::Pair, &attempt.pair).await?;
        Ok(())
    }

    /// The password could not be checked (the hashing pool was busy): both counts go back.
    pub async fn password_not_checked(&self, attempt: CountedAttempt) -> Result<(), AppError> {
        login_failures::forgive_failed_login(&self.pool, Scope::Address, &attempt.address).await?;
        login_failures::forgive_failed_login(&self.pool, Scope::Pair, &attempt.pair).await?;
        Ok(())
    }

    /// Forgets counts whose window has ended.
    pub async fn sweep(&self, now: i64) -> Result<u64, sqlx::Error> {
        let longest = window_secs(self.per_pair).max(window_secs(self.per_address));
        login_failures::sweep(&self.pool, now - longest).await
    }
}

/// Every limit the app applies, configured once at start.
pub struct Limits {
    pub failed_logins: FailedLogins,
    pub signups_per_ip: AddressLimiter,
    /// Verification mails sent again, per user id and per client address.
    pub resends_per_account: Limiter<i64>,
    pub resends_per_ip: AddressLimiter,
    /// Forgotten-password requests per client address.
    pub resets_per_ip: AddressLimiter,
    /// Display-name changes per user id (each one a write).
    pub display_names_per_account: Limiter<i64>,
    /// Password changes per user id that passed the current-password check (each one ends
    /// every other session and may mail the owner).
    pub password_changes_per_account: Limiter<i64>,
}

/// [`Limits::password_changes_per_account`]'s budget: more than anyone changes by hand.
const PASSWORD_CHANGES: Budget = Budget { count: 5, window: Duration::from_secs(3600) };

impl Limits {
    /// Sweeps every in-memory limiter (see [`MAX_REMEMBERED`]).
    pub fn sweep_memory(&self) {
        self.signups_per_ip.sweep();
        self.resends_per_account.sweep();
        self.resends_per_ip.sweep();
        self.resets_per_ip.sweep();
        self.display_names_per_account.sweep();
        self.password_changes_per_account.sweep();
    }

    pub fn new(pool: &Pool, settings: LimitSettings) -> Self {
        Limits {
            failed_logins: FailedLogins::new(pool, &settings),
            signups_per_ip: AddressLimiter::new("signups_per_ip", settings.signups_per_ip),
            resends_per_account: Limiter::new("resends_per_account", settings.resends_per_account),
            resends_per_ip: AddressLimiter::new("resends_per_ip", settings.resends_per_ip),
            resets_per_ip: AddressLimiter::new("resets_per_ip", settings.resets_per_ip),
            display_names_per_account: Limiter::new(
                "display_names_per_account",
                settings.display_names_per_account,
            ),
            password_changes_per_account: Limiter::new("password_changes_per_account", PASSWORD_CHANGES),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_limiter_remembers_no_one_new_and_a_sweep_keeps_live_budgets() {
        let limiter = Limiter::with_cap("test", Budget { count: 5, window: Duration::from_secs(3600) }, 3);
        for last in 1..=3u8 {
            assert!(limiter.check(&IpAddr::from([192, 0, 2, last])).is_ok());
        }
        assert_eq!(limiter.len(), 3);
        // Full: a new client passes uncounted (not remembered), nobody is locked out.
        for _ in 0..10 {
            assert!(limiter.check(&IpAddr::from([192, 0, 2, 9])).is_ok());
        }
        assert_eq!(limiter.len(), 3, "memory stays bounded");
        // The three spent part of their budget within the window: the sweep keeps them.
        limiter.sweep();
        assert_eq!(limiter.len(), 3);
    }

    #[test]
    fn ipv6_clients_spread_over_one_48_share_its_budget() {
        let limiter = AddressLimiter::new("test", Budget { count: 2, window: Duration::from_secs(3600) });
        // Each /64 (as `limit_key` hands them over) is a client of its own, but a /56 holds
        // at most four budgets and a /48 sixteen, however many /64s the requests come from.
        let client =
            |n: u128| IpAddr::from(std::net::Ipv6Addr::from((0x2001_0db8_0001_u128 << 80) | (n << 64)));
        let passed =
            (0..256u128).flat_map(|n| [client(n), client(n)]).filter(|ip| limiter.check(ip).is_ok()).count();
        assert_eq!(passed, 2 * 4, "one /56 (the first 256 /64s): four budgets");
        let other_56 = |n: u128| {
            IpAddr::from(std::net::Ipv6Addr::from((0x2001_0db8_0001_u128 << 80) | ((256 + n) << 64)))
        };
        assert!(limiter.check(&other_56(0)).is_ok(), "another /56 of the same /48 has its own");
        // IPv4 addresses are counted alone.
        let v4 = IpAddr::from([192, 0, 2, 1]);
        assert!(limiter.check(&v4).is_ok() && limiter.check(&v4).is_ok());
        assert!(limiter.check(&v4).is_err());
        assert!(limiter.check(&IpAddr::from([192, 0, 2, 2])).is_ok());
    }

    #[test]
    fn check_counts_every_event() {
        let limiter = Limiter::new("test", Budget { count: 2, window: Duration::from_secs(3600) });
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        assert!(limiter.check(&ip).is_ok());
        assert!(limiter.check(&ip).is_ok());
        assert!(matches!(limiter.check(&ip), Err(AppError::RateLimited { .. })));
    }
}
