//! The accounts epoch: a count of the committed writes to accounts (users and sessions)
//! this process made, so that a cache of account rows knows when what it holds may be stale.

use std::sync::atomic::{AtomicU64, Ordering};

/// Counts the committed writes to accounts (users and sessions) this process made: a
/// transaction's commit, a session row created, saved or deleted, a display name set.
static ACCOUNTS_EPOCH: AtomicU64 = AtomicU64::new(0);

/// Now's count of account writes. A cache of account rows keeps an entry only while the
/// count is what it was when the entry was read from the database: anything written
/// since (on this instance) makes it read again.
pub fn accounts_epoch() -> u64 {
    ACCOUNTS_EPOCH.load(Ordering::Acquire)
}

/// Call after (never before) a write to accounts outside a `Tx` has completed.
pub fn accounts_changed() {
    ACCOUNTS_EPOCH.fetch_add(1, Ordering::AcqRel);
}
