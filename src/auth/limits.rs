//! Rate limits on failed logins (per account and per client address) and on sign-ups
//! (per client address) and on verification mails sent again (per account and address), with the `governor` crate's GCRA limiters.
//!
//! Failed logins are recorded after the fact, so they need a "blocked until" memory on
//! top of governor's state: a limiter says no once, and we remember until when.

use std::{
    collections::HashMap,
    hash::Hash,
    net::IpAddr,
    num::NonZeroU32,
    sync::Mutex,
    time::{Duration, Instant},
};

use governor::{clock::Clock, DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::{
    config::{Budget, LimitSettings},
    error::AppError,
};

/// The governor quota that spends `budget` evenly over its window.
fn quota(budget: Budget) -> Quota {
    let count = NonZeroU32::new(budget.count.max(1)).expect("nonzero");
    let period = budget.window / count.get();
    Quota::with_period(period.max(Duration::from_millis(1))).expect("nonzero period").allow_burst(count)
}

pub struct Limiter<K: Hash + Eq + Clone> {
    limiter: DefaultKeyedRateLimiter<K>,
    blocked: Mutex<HashMap<K, Instant>>,
}

/// Past this many remembered keys, forget the stale ones.
const PRUNE_AT: usize = 10_000;

impl<K: Hash + Eq + Clone> Limiter<K> {
    pub fn new(budget: Budget) -> Self {
        Limiter { limiter: RateLimiter::keyed(quota(budget)), blocked: Mutex::new(HashMap::new()) }
    }

    /// Counts one event now; refuses when the budget is spent.
    pub fn check(&self, key: &K) -> Result<(), AppError> {
        self.limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.limiter.clock().now());
            AppError::RateLimited { retry_after: seconds(wait) }
        })?;
        self.prune();
        Ok(())
    }

    /// Refuses while a key is blocked by earlier [`Limiter::record`]s.
    pub fn ensure_open(&self, key: &K) -> Result<(), AppError> {
        let blocked = self.blocked.lock().unwrap_or_else(|p| p.into_inner());
        match blocked.get(key) {
            Some(until) if *until > Instant::now() => {
                Err(AppError::RateLimited { retry_after: seconds(*until - Instant::now()) })
            }
            _ => Ok(()),
        }
    }

    /// Records one failure; when that spends the budget, blocks the key until it refills.
    pub fn record(&self, key: &K) {
        if let Err(not_until) = self.limiter.check_key(key) {
            let wait = not_until.wait_time_from(self.limiter.clock().now());
            let mut blocked = self.blocked.lock().unwrap_or_else(|p| p.into_inner());
            blocked.insert(key.clone(), Instant::now() + wait.max(Duration::from_secs(1)));
        }
        self.prune();
    }

    fn prune(&self) {
        if self.limiter.len() > PRUNE_AT {
            self.limiter.retain_recent();
        }
        let mut blocked = self.blocked.lock().unwrap_or_else(|p| p.into_inner());
        if blocked.len() > PRUNE_AT {
            let now = Instant::now();
            blocked.retain(|_, until| *until > now);
        }
    }
}

fn seconds(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// Every limit the app applies, configured once at start.
pub struct Limits {
    pub login_failures_per_account: Limiter<String>,
    pub login_failures_per_ip: Limiter<IpAddr>,
    pub signups_per_ip: Limiter<IpAddr>,
    /// Verification mails sent again, per user id and per client address.
    pub resends_per_account: Limiter<i64>,
    pub resends_per_ip: Limiter<IpAddr>,
}

impl Limits {
    pub fn new(settings: LimitSettings) -> Self {
        Limits {
            login_failures_per_account: Limiter::new(settings.login_failures_per_account),
            login_failures_per_ip: Limiter::new(settings.login_failures_per_ip),
            signups_per_ip: Limiter::new(settings.signups_per_ip),
            resends_per_account: Limiter::new(settings.resends_per_account),
            resends_per_ip: Limiter::new(settings.resends_per_ip),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_block_after_the_budget_and_say_when_to_retry() {
        let limiter = Limiter::new(Budget { count: 3, window: Duration::from_secs(300) });
        let key = "ann@example.com".to_string();
        for _ in 0..3 {
            limiter.ensure_open(&key).unwrap();
            limiter.record(&key);
        }
        limiter.ensure_open(&key).unwrap();
        limiter.record(&key);
        match limiter.ensure_open(&key) {
            Err(AppError::RateLimited { retry_after }) => assert!((1..=100).contains(&retry_after)),
            other => panic!("expected 429, got {other:?}"),
        }
        limiter.ensure_open(&"other@example.com".to_string()).unwrap();
    }

    #[test]
    fn check_counts_every_event() {
        let limiter = Limiter::new(Budget { count: 2, window: Duration::from_secs(3600) });
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        assert!(limiter.check(&ip).is_ok());
        assert!(limiter.check(&ip).is_ok());
        assert!(matches!(limiter.check(&ip), Err(AppError::RateLimited { .. })));
    }
}
