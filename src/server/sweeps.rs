//! The periodic sweeps: limits every minute, finished links and mail every hour.

use std::sync::Arc;

use crate::{auth::limits::Limits, db::Pool, mail::sender};

/// Sweeps the limits every minute: the in-memory limiters forget clients whose budget has
/// refilled (their memory stays bounded, see `auth::limits::MAX_REMEMBERED`), and every
/// fifth time the database forgets failed-login counts whose window has ended (each
/// instance does; the delete is idempotent). A failed sweep is logged and tried again.
pub(super) fn spawn_limit_sweeper(limits: Arc<Limits>) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(crate::auth::limits::SWEEP_EVERY);
        for round in 0u64.. {
            every.tick().await;
            limits.sweep_memory();
            if round % 5 == 0 {
                if let Err(e) = limits.failed_logins.sweep(sender::unix_now()).await {
                    tracing::warn!(error = %e, "could not sweep failed-login counts; will retry");
                }
            }
        }
    });
}

/// How often finished records are swept: they are kept for days, so an hour late is nothing.
const RECORD_SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Sweeps finished records every hour (and at start): used and expired links
/// (`email_tokens::sweep`), sent or given-up mail (`outbox::sweep`) and finished Twilio calls
/// (`twilio_calls::sweep`), each kept a week.
/// Every instance does; the deletes are idempotent. A failed sweep is logged and tried again.
pub(super) fn spawn_record_sweeper(pool: Pool) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(RECORD_SWEEP_EVERY);
        loop {
            every.tick().await;
            let now = sender::unix_now();
            if let Err(e) = crate::db::email_tokens::sweep(&pool, now).await {
                tracing::warn!(error = %e, "could not sweep used and expired links; will retry");
            }
            if let Err(e) = crate::db::outbox::sweep(&pool, now).await {
                tracing::warn!(error = %e, "could not sweep delivered mail; will retry");
            }
            if let Err(e) = crate::db::twilio_calls::sweep(&pool, now).await {
                tracing::warn!(error = %e, "could not sweep finished Twilio calls; will retry");
            }
        }
    });
}
