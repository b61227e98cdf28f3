//! The background sender: claims due mail from the outbox, delivers it, marks it sent,
//! and retries failures with a doubling delay. Request handlers [`Mailer::nudge`] it
//! after queueing, so mail leaves at once; otherwise it sleeps until the next retry.

use std::{
    path::PathBuf,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use lettre::message::Mailbox;
use tokio::{sync::Notify, task::JoinHandle};

use super::{
    files,
    messages::Mail,
    seal::Seal,
    transport::{SendError, Transport},
};
use crate::{
    config::{MailSettings, MailTransport},
    db::{outbox, Pool, Tx},
};

/// Rows claimed per round.
const BATCH: i64 = 16;
/// How long a claim holds (seconds): longer than any one delivery may take.
const LEASE_SECS: i64 = 120;
/// The longest delay between retries.
const MAX_RETRY: Duration = Duration::from_secs(600);
/// Mail older than this is not worth delivering (its link has expired): given up.
const GIVE_UP_AFTER_SECS: i64 = 24 * 3600;
/// The `last_error` of a row whose text does not open ([`give_up_unopened`]).
pub const UNOPENED: &str = "sealed with another key";
/// The sender looks at the table at least this often, for mail queued by other instances.
const IDLE_WAKE: Duration = Duration::from_secs(30);

/// What request handlers need of mail: the origin links point at, the outbox's seal, a
/// way to wake the sender, and (without SMTP) where mail files go, for the pages to say so.
pub struct Mailer {
    /// `scheme://host[:port]` for the links in mails (`CHATPASS_PUBLIC_URL`, else the
    /// address the server listens on).
    pub origin: String,
    /// The outbox directory when mail goes to files.
    pub file_outbox: Option<PathBuf>,
    seal: Arc<Seal>,
    wake: Arc<Notify>,
    running: Arc<AtomicBool>,
}

impl Mailer {
    /// Queues `mail` inside `tx`, so it exists exactly when the change that caused it does;
    /// its text sealed as this instance stores it (behind https it may hold a working link).
    pub async fn enqueue(
        &self,
        tx: &mut Tx,
        mail: &Mail,
        user_id: Option<i64>,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let stored_body = self.seal.close(&mail.body, &mail.to);
        let row = outbox::NewMail {
            user_id,
            kind: mail.kind.as_str(),
            recipient: &mail.to,
            subject: &mail.subject,
            stored_body: &stored_body,
        };
        outbox::enqueue(tx, row, now).await
    }

    /// Tells the sender there is new mail.
    pub fn nudge(&self) {
        self.wake.notify_one();
    }

    /// Removes a deleted account's mail files from the file outbox (call it once the
    /// deletion is committed). A failure is logged, not returned: the account is gone.
    pub async fn forget_user(&self, user_id: i64) {
        let Some(dir) = self.file_outbox.clone() else { return };
        let removed = tokio::task::spawn_blocking(move || files::remove_for_user(&dir, user_id))
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)));
        match removed {
            Ok(removed) => {
                tracing::info!(user.id = user_id, removed, "a deleted account's mail files removed")
            }
            Err(e) => {
                tracing::warn!(user.id = user_id, error = %e, "could not remove a deleted account's mail files")
            }
        }
    }

    /// Whether the background sender is still running (for `/readyz`).
    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::Relaxed)
    }
}

/// Unix seconds now.
pub fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// The delay before attempt `attempts + 1`: `first`, doubling, at most [`MAX_RETRY`].
pub fn retry_delay(first: Duration, attempts: u32) -> Duration {
    first.saturating_mul(1u32 << attempts.saturating_sub(1).min(16)).min(MAX_RETRY)
}

/// Clears the "sender running" flag when dropped.
struct Running(Arc<AtomicBool>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Relaxed);
    }
}

/// Starts the sender for this instance; `seal` stores and opens the outbox's text.
pub fn spawn(
    pool: Pool,
    settings: &MailSettings,
    origin: String,
    seal: Seal,
) -> Result<(Mailer, JoinHandle<()>), String> {
    let transport =
        Transport::from_settings(settings, &origin).map_err(|e| format!("CHATPASS_SMTP_URL: {e}"))?;
    let wake = Arc::new(Notify::new());
    let file_outbox = match &settings.transport {
        MailTransport::Files(dir) => Some(dir.clone()),
        MailTransport::Smtp(_) => None,
    };
    let running = Arc::new(AtomicBool::new(true));
    let seal = Arc::new(seal);
    let mailer =
        Mailer { origin, file_outbox, seal: seal.clone(), wake: wake.clone(), running: running.clone() };
    let (from, retry_after) = (settings.from.clone(), settings.retry_after);
    let task = tokio::spawn(async move {
        // Cleared however the loop ends (a panic included): /readyz then says so.
        let _alive = Running(running);
        run(pool, transport, &seal, from, retry_after, wake).await
    });
    Ok((mailer, task))
}

async fn run(
    pool: Pool,
    transport: Transport,
    seal: &Seal,
    from: Mailbox,
    first_retry: Duration,
    wake: Arc<Notify>,
) {
    let claim = crate::security::random_hex(16);
    loop {
        let delivered_all = match round(&pool, &transport, seal, &from, first_retry, &claim).await {
            Ok(count) => count < BATCH as usize,
            Err(e) => {
                tracing::warn!(error = %e, "mail sender: database error; trying again shortly");
                true
            }
        };
        if !delivered_all {
            continue;
        }
        let wait = match outbox::next_due(&pool).await {
            Ok(Some(due)) => {
                Duration::from_secs((due - unix_now()).clamp(0, IDLE_WAKE.as_secs() as i64) as u64)
            }
            _ => IDLE_WAKE,
        };
        if wait.is_zero() {
            // Due now but not claimable by us yet (another sender's lease): look again soon.
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        tokio::select! {
            () = wake.notified() => {},
            () = tokio::time::sleep(wait) => {},
        }
    }
}

/// Claims and delivers one batch; returns how many rows it claimed.
async fn round(
    pool: &Pool,
    transport: &Transport,
    seal: &Seal,
    from: &Mailbox,
    first_retry: Duration,
    claim: &str,
) -> Result<usize, sqlx::Error> {
    let now = unix_now();
    let claimed = outbox::claim(pool, now, LEASE_SECS, BATCH, claim).await?;
    let count = claimed.len();
    for mut mail in claimed {
        let Some(text) = seal.open(&mail.body, &mail.recipient) else {
            give_up_unopened(pool, &mail, claim).await?;
            continue;
        };
        mail.body = text;
        let mail = &mail;
        // Servers quote the recipient in their refusals; logs name no one by email.
        let outcome = transport.send(from, mail).await.map_err(|e| match e {
            SendError::Permanent(m) => SendError::Permanent(m.replace(&mail.recipient, "<recipient>")),
            SendError::Transient(m) => SendError::Transient(m.replace(&mail.recipient, "<recipient>")),
        });
        match outcome {
            Ok(()) => {
                if !outbox::mark_sent(pool, mail.id, claim, unix_now()).await? {
                    forget_if_deleted(pool, transport, mail).await?;
                }
                crate::metrics::mail("sent");
                tracing::info!(mail.id = mail.id, mail.kind = %mail.kind, attempts = mail.attempts, "mail sent");
            }
            Err(SendError::Permanent(error)) => {
                outbox::mark_failed(pool, mail.id, claim, unix_now(), &error).await?;
                crate::metrics::mail("failed");
                tracing::error!(mail.id = mail.id, mail.kind = %mail.kind, error = %error, "mail refused for good");
            }
            Err(SendError::Transient(error)) if unix_now() - mail.created_at > GIVE_UP_AFTER_SECS => {
                outbox::mark_failed(pool, mail.id, claim, unix_now(), &error).await?;
                crate::metrics::mail("failed");
                tracing::error!(mail.id = mail.id, mail.kind = %mail.kind, error = %error, "mail given up after a day of retries");
            }
            Err(SendError::Transient(error)) => {
                let delay = retry_delay(first_retry, mail.attempts.max(1) as u32);
                let retry_at = unix_now() + delay.as_secs().max(1) as i64;
                outbox::mark_retry(pool, mail.id, claim, retry_at, &error).await?;
                crate::metrics::mail("retry");
                tracing::warn!(
                    mail.id = mail.id,
                    mail.kind = %mail.kind,
                    attempts = mail.attempts,
                    retry_in_secs = delay.as_secs(),
                    error = %error,
                    "mail not delivered; will retry"
                );
            }
        }
    }
    Ok(count)
}

/// A row whose text does not open with this instance's key: sealed under another (an
/// earlier process's in demo mode, or a former TWILIO_API_SECRET) or altered. It can never
/// be delivered; the others go on.
async fn give_up_unopened(pool: &Pool, mail: &outbox::Claimed, claim: &str) -> Result<(), sqlx::Error> {
    outbox::mark_failed(pool, mail.id, claim, unix_now(), UNOPENED).await?;
    crate::metrics::mail("failed");
    tracing::warn!(
        mail.id = mail.id,
        mail.kind = %mail.kind,
        "mail given up: its text was sealed with another key (a demo-mode process's own, or a \
         former TWILIO_API_SECRET) or altered"
    );
    Ok(())
}

/// After a delivery that could not be marked sent: when the row is gone (its account was
/// deleted meanwhile), the file just written goes too, as the deletion took the others.
async fn forget_if_deleted(
    pool: &Pool,
    transport: &Transport,
    mail: &outbox::Claimed,
) -> Result<(), sqlx::Error> {
    if let (Transport::Files { dir, .. }, Some(user_id)) = (transport, mail.user_id) {
        if !outbox::exists(pool, mail.id).await? {
            let path = dir.join(files::file_name(mail.id, mail.user_id, mail.created_at));
            if let Err(e) = tokio::fs::remove_file(&path).await {
                tracing::warn!(user.id = user_id, error = %e, "could not remove a deleted account's mail file");
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_double_up_to_ten_minutes() {
        let first = Duration::from_secs(5);
        let delays: Vec<u64> = (1..=10).map(|n| retry_delay(first, n).as_secs()).collect();
        assert_eq!(delays, [5, 10, 20, 40, 80, 160, 320, 600, 600, 600]);
        assert_eq!(retry_delay(first, u32::MAX), MAX_RETRY);
    }
}
