//! `chatpass twilio sync`: chatpass's accounts compared with the service's Users, and what
//! drifted put right: a User made for each account that may chat and has none, renamed
//! where its name differs, deleted where no such account is left. `--dry-run` prints the
//! plan only.

use std::{
    collections::BTreeMap,
    io::Write,
    time::{Duration, Instant},
};

use super::rest::{CallError, UsersApi};
use crate::{
    config::{ChatIdentity, Verification},
    db::{users, Pool},
};

/// One change to make at Twilio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Create { identity: String, friendly_name: String },
    Rename { identity: String, friendly_name: String },
    Delete { identity: String },
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Change::Create { identity, friendly_name } => {
                write!(f, "create {identity:?} named {friendly_name:?}")
            }
            Change::Rename { identity, friendly_name } => {
                write!(f, "rename {identity:?} to {friendly_name:?}")
            }
            Change::Delete { identity } => write!(f, "delete {identity:?}"),
        }
    }
}

/// What a run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub created: usize,
    pub renamed: usize,
    pub deleted: usize,
    pub failed: usize,
}

/// A progress line at most this often on long runs (to stderr).
const PROGRESS_EVERY: Duration = Duration::from_secs(1);
/// Accounts read per query.
const ACCOUNTS_PAGE: i64 = 500;
/// Tries per change when Twilio or the network fails for a moment.
const TRIES: u32 = 4;

/// What should change: every account that may chat against every User of the service.
pub async fn plan(
    pool: &Pool,
    api: &UsersApi,
    mode: ChatIdentity,
    verification: Verification,
    progress: &mut dyn Write,
) -> Result<Vec<Change>, String> {
    let mut twilio: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut page = None;
    let mut last = Instant::now();
    loop {
        let (users, next) = with_retries(|| api.list_page(page.as_deref()))
            .await
            .map_err(|e| format!("cannot list the service's Users: {e}"))?;
        twilio.extend(users.into_iter().map(|u| (u.identity, u.friendly_name)));
        if last.elapsed() >= PROGRESS_EVERY {
            let _ = writeln!(progress, "twilio sync: {} Users read from Twilio", twilio.len());
            last = Instant::now();
        }
        match next {
            Some(next) => page = Some(next),
            None => break,
        }
    }
    let mut changes = Vec::new();
    let mut after = 0;
    loop {
        let accounts = users::page_after(pool, after, ACCOUNTS_PAGE)
            .await
            .map_err(|e| format!("cannot read the accounts: {e}"))?;
        let Some(last_account) = accounts.last() else { break };
        after = last_account.id;
        for user in accounts.iter().filter(|u| u.may_chat(verification)) {
            let identity = user.chat_identity(mode).to_string();
            let friendly_name = user.display_name_or_default();
            match twilio.remove(&identity) {
                None => changes.push(Change::Create { identity, friendly_name }),
                Some(name) if name.as_deref() != Some(friendly_name.as_str()) => {
                    changes.push(Change::Rename { identity, friendly_name })
                }
                Some(_) => {}
            }
        }
    }
    // What is left at Twilio belongs to no account that may chat.
    changes.extend(twilio.into_keys().map(|identity| Change::Delete { identity }));
    Ok(changes)
}

/// Makes `changes`, one after the other, with a progress line on long runs. A change that
/// fails is reported (to `out`) and the others go on.
pub async fn apply(
    api: &UsersApi,
    changes: &[Change],
    out: &mut dyn Write,
    progress: &mut dyn Write,
) -> Report {
    let mut report = Report::default();
    let mut last = Instant::now();
    for (done, change) in changes.iter().enumerate() {
        let result = match change {
            Change::Create { identity, friendly_name } => {
                match with_retries(|| api.create(identity, friendly_name)).await {
                    Err(CallError::Conflict) => with_retries(|| api.rename(identity, friendly_name)).await,
                    other => other,
                }
            }
            Change::Rename { identity, friendly_name } => {
                with_retries(|| api.rename(identity, friendly_name)).await
            }
            Change::Delete { identity } => match with_retries(|| api.delete(identity)).await {
                Err(CallError::NotFound) => Ok(()),
                other => other,
            },
        };
        match (result, change) {
            (Ok(()), Change::Create { .. }) => report.created += 1,
            (Ok(()), Change::Rename { .. }) => report.renamed += 1,
            (Ok(()), Change::Delete { .. }) => report.deleted += 1,
            (Err(e), _) => {
                report.failed += 1;
                let _ = writeln!(out, "failed: {change}: {e}");
            }
        }
        if last.elapsed() >= PROGRESS_EVERY {
            let _ = writeln!(progress, "twilio sync: {}/{} changes made", done + 1, changes.len());
            last = Instant::now();
        }
    }
    report
}

async fn with_retries<T, F, Fut>(mut call: F) -> Result<T, CallError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, CallError>>,
{
    let mut delay = Duration::from_millis(500);
    for _ in 1..TRIES {
        match call().await {
            Err(CallError::Transient { retry_after, .. }) => {
                tokio::time::sleep(retry_after.unwrap_or(delay).min(Duration::from_secs(30))).await;
                delay *= 2;
            }
            other => return other,
        }
    }
    call().await
}
