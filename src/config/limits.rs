//! The budgets of the rate limits (`CHATPASS_LOGIN_FAILURES_*`, `CHATPASS_SIGNUPS_PER_IP`, `CHATPASS_RESENDS_PER_*`, `CHATPASS_RESETS_PER_IP`, `CHATPASS_DISPLAY_NAMES_PER_ACCOUNT`).
//! The limiters that spend them live with the feature that applies them (`auth::limits`).

use std::time::Duration;

/// A budget: `count` events per `window`, refilled evenly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub count: u32,
    pub window: Duration,
}

/// Every budget, read once at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitSettings {
    pub login_failures_per_account: Budget,
    pub login_failures_per_ip: Budget,
    pub signups_per_ip: Budget,
    /// Verification mails sent again on request (`CHATPASS_RESENDS_PER_*`, `CHATPASS_RESETS_PER_IP`).
    pub resends_per_account: Budget,
    pub resends_per_ip: Budget,
    /// Forgotten-password requests per client address (`CHATPASS_RESETS_PER_IP`).
    pub resets_per_ip: Budget,
    /// Display-name changes per account (`CHATPASS_DISPLAY_NAMES_PER_ACCOUNT`).
    pub display_names_per_account: Budget,
}
