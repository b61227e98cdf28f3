//! The background sender of Twilio calls: claims due rows of `db::twilio_calls`, makes each
//! call, and finishes the row. Network errors, timeouts, 429 and 5xx are retried with a
//! doubling delay (at least Twilio's `Retry-After`); a create that finds the User (409)
//! renames it; a rename or delete that finds none (404) creates it or is done; any other
//! 4xx is given up, logged with Twilio's error code and counted in `/metrics`.
//!
//! In demo mode, or with `CHATPASS_TWILIO_SYNC=off`, no call is made: each row is marked
//! skipped and the log says so.

use std::time::Duration;

use tokio::task::JoinHandle;

use super::rest::{CallError, UsersApi};
use crate::{
    config::{ChatIdentity, TwilioSettings, TwilioSideSettings},
    db::{
        twilio_calls::{self, Call, Claimed, WAKE},
        Pool,
    },
    mail::sender::{retry_delay, unix_now},
};

/// Rows claimed per round.
const BATCH: i64 = 16;
/// How long a claim holds (seconds): far longer than a call's timeout (two calls at most).
const LEASE_SECS: i64 = 120;
/// The first retry's delay, doubling, at most ten minutes (the mail sender's `retry_delay`).
pub const FIRST_RETRY: Duration = Duration::from_secs(1);
/// The longest `Retry-After` honoured: Twilio's longest backoff is shorter.
const MAX_RETRY: Duration = Duration::from_secs(600);
/// A call still failing a day on is given up (`chatpass twilio sync` repairs what is left).
const GIVE_UP_AFTER_SECS: i64 = 24 * 3600;
/// The sender looks at the table at least this often, for calls queued by other instances.
const IDLE_WAKE: Duration = Duration::from_secs(30);

/// Who the sender works for: the API, or nobody (demo mode, sync off).
enum Target {
    Twilio(UsersApi),
    Skip(&'static str),
}

/// Starts this instance's sender.
pub fn spawn(
    pool: Pool,
    twilio: &TwilioSettings,
    side: &TwilioSideSettings,
    identity: ChatIdentity,
) -> Result<JoinHandle<()>, String> {
    let target = match twilio.account() {
        None => Target::Skip("demo mode"),
        Some(_) if !side.sync => Target::Skip("CHATPASS_TWILIO_SYNC=off"),
        Some(account) => Target::Twilio(UsersApi::new(&side.api_url, account)?),
    };
    if let Target::Skip(why) = &target {
        tracing::info!("Twilio Users are not kept in step with accounts ({why}): no Twilio call is made");
    }
    Ok(tokio::spawn(async move { run(pool, target, identity).await }))
}

async fn run(pool: Pool, target: Target, identity: ChatIdentity) {
    let claim = crate::security::random_hex(16);
    loop {
        // Registered before the table is read, so a nudge after that read is not lost.
        let woken = WAKE.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let all = match round(&pool, &target, identity, &claim).await {
            Ok(claimed) => claimed < BATCH as usize,
            Err(e) => {
                tracing::warn!(error = %e, "Twilio sender: database error; trying again shortly");
                true
            }
        };
        if !all {
            continue;
        }
        let wait = match twilio_calls::next_due(&pool).await {
            Ok(Some(due)) => {
                Duration::from_secs((due - unix_now()).clamp(0, IDLE_WAKE.as_secs() as i64) as u64)
            }
            _ => IDLE_WAKE,
        };
        if wait.is_zero() {
            // Due, but held by another sender's lease or behind an earlier call: soon.
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        tokio::select! {
            () = woken => {},
            () = tokio::time::sleep(wait) => {},
        }
    }
}

/// Claims and makes one batch; how many rows it claimed.
async fn round(
    pool: &Pool,
    target: &Target,
    identity: ChatIdentity,
    claim: &str,
) -> Result<usize, sqlx::Error> {
    let claimed = twilio_calls::claim(pool, unix_now(), LEASE_SECS, BATCH, claim).await?;
    let count = claimed.len();
    for row in claimed {
        let Some(call) = Call::parse(&row.call) else {
            twilio_calls::mark_failed(pool, row.id, claim, unix_now(), "not a call chatpass knows").await?;
            continue;
        };
        let api = match target {
            Target::Twilio(api) => api,
            Target::Skip(why) => {
                twilio_calls::mark_done(pool, row.id, claim, unix_now(), "skipped").await?;
                crate::metrics::twilio_call(call.as_str(), "skipped");
                tracing::info!(user.id = row.user_id, call = call.as_str(), "Twilio call skipped ({why})");
                continue;
            }
        };
        let outcome = make(api, call, &row, identity).await;
        finish(pool, call, &row, claim, outcome, identity).await?;
    }
    Ok(count)
}

/// Makes `row`'s call; what became of it.
async fn make(
    api: &UsersApi,
    call: Call,
    row: &Claimed,
    mode: ChatIdentity,
) -> Result<&'static str, CallError> {
    let identity = if mode == ChatIdentity::Email { &row.email } else { &row.chat_id };
    let name = &row.friendly_name;
    match call {
        Call::Create => create_or_rename(api, identity, name).await,
        Call::Rename => rename_or_create(api, identity, name).await,
        Call::Delete => match api.delete(identity).await {
            Ok(()) => Ok("deleted"),
            Err(CallError::NotFound) => Ok("absent"),
            Err(e) => Err(e),
        },
        // An opaque id does not change with the email, but the name may: the default one is
        // the email's local part (a provider's account has no other until one is chosen).
        Call::ChangeEmail if mode == ChatIdentity::UserId => rename_or_create(api, identity, name).await,
        Call::ChangeEmail => {
            if let Some(old) = row.old_email.as_deref() {
                match api.delete(old).await {
                    Ok(()) | Err(CallError::NotFound) => {}
                    Err(e) => return Err(e),
                }
            }
            create_or_rename(api, identity, name).await
        }
    }
}

async fn rename_or_create(api: &UsersApi, identity: &str, name: &str) -> Result<&'static str, CallError> {
    match api.rename(identity, name).await {
        Ok(()) => Ok("renamed"),
        // Never made (sync was off, or it was deleted at Twilio): the account can chat.
        Err(CallError::NotFound) => create_or_rename(api, identity, name).await,
        Err(e) => Err(e),
    }
}

async fn create_or_rename(api: &UsersApi, identity: &str, name: &str) -> Result<&'static str, CallError> {
    match api.create(identity, name).await {
        Ok(()) => Ok("created"),
        // There already (the SDK makes a nameless User on first connect): named now.
        Err(CallError::Conflict) => api.rename(identity, name).await.map(|()| "renamed"),
        Err(e) => Err(e),
    }
}

async fn finish(
    pool: &Pool,
    call: Call,
    row: &Claimed,
    claim: &str,
    outcome: Result<&'static str, CallError>,
    mode: ChatIdentity,
) -> Result<(), sqlx::Error> {
    let now = unix_now();
    let name = call.as_str();
    // Twilio quotes the resource (the identity: an email, by default); logs name no one.
    let scrub = |text: String| {
        let identity = if mode == ChatIdentity::Email { &row.email } else { &row.chat_id };
        let text = if identity.is_empty() { text } else { text.replace(identity.as_str(), "<identity>") };
        match row.old_email.as_deref() {
            Some(old) if !old.is_empty() => text.replace(old, "<identity>"),
            _ => text,
        }
    };
    match outcome {
        Ok(done) => {
            twilio_calls::mark_done(pool, row.id, claim, now, done).await?;
            crate::metrics::twilio_call(name, "done");
            tracing::info!(
                user.id = row.user_id,
                call = name,
                outcome = done,
                attempts = row.attempts,
                "Twilio call made"
            );
        }
        Err(CallError::Transient { reason, .. }) if now - row.created_at > GIVE_UP_AFTER_SECS => {
            let reason = scrub(reason);
            twilio_calls::mark_failed(pool, row.id, claim, now, &reason).await?;
            crate::metrics::twilio_call(name, "given_up");
            tracing::error!(user.id = row.user_id, call = name, error = %reason, "Twilio call given up after a day of retries");
        }
        Err(CallError::Transient { reason, retry_after }) => {
            let reason = scrub(reason);
            let delay = retry_delay(FIRST_RETRY, row.attempts.max(1) as u32)
                .max(retry_after.unwrap_or_default().min(MAX_RETRY));
            twilio_calls::mark_retry(pool, row.id, claim, unix_after(delay), &reason).await?;
            crate::metrics::twilio_call(name, "retry");
            tracing::warn!(
                user.id = row.user_id,
                call = name,
                attempts = row.attempts,
                retry_in_secs = delay.as_secs().max(1),
                error = %reason,
                "Twilio call failed; will retry"
            );
        }
        Err(refused) => {
            let code = match &refused {
                CallError::Refused { code, .. } => *code,
                _ => None,
            };
            let error = scrub(refused.to_string());
            twilio_calls::mark_failed(pool, row.id, claim, now, &error).await?;
            crate::metrics::twilio_call(name, "given_up");
            tracing::error!(
                user.id = row.user_id,
                call = name,
                twilio.code = code,
                error = %error,
                "Twilio refused the call; given up"
            );
        }
    }
    Ok(())
}

/// The first whole Unix second at least `delay` (and at least a second) from now. Rows are
/// due by whole seconds (`next_attempt_at <= now`, `now` rounded down), so rounding this
/// down instead would let a retry come up to a second early: before Twilio's Retry-After.
fn unix_after(delay: Duration) -> i64 {
    let at = std::time::UNIX_EPOCH.elapsed().unwrap_or_default() + delay.max(Duration::from_secs(1));
    (at.as_secs() + u64::from(at.subsec_nanos() > 0)) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retry_is_due_no_sooner_than_its_delay() {
        for delay in
            [Duration::ZERO, Duration::from_millis(1), Duration::from_secs(2), Duration::from_millis(2500)]
        {
            let before = std::time::UNIX_EPOCH.elapsed().unwrap();
            let at = unix_after(delay);
            assert!(
                Duration::from_secs(at as u64) >= before + delay.max(Duration::from_secs(1)),
                "{delay:?}"
            );
            assert!(Duration::from_secs(at as u64) <= before + delay + Duration::from_secs(2), "{delay:?}");
        }
    }

    #[test]
    fn retries_double_from_a_second_up_to_ten_minutes() {
        let delays: Vec<u64> = (1..=12).map(|n| retry_delay(FIRST_RETRY, n).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 600, 600]);
        assert_eq!(retry_delay(FIRST_RETRY, u32::MAX), MAX_RETRY);
    }
}
