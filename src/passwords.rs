//! argon2id hashing and verification, off the async threads and bounded.
//!
//! Each hash costs ~19 MiB and tens of milliseconds of CPU. A semaphore caps how many run
//! at once, so a login flood can neither exhaust memory nor starve other requests; a
//! request that waits too long for a turn is answered 429 with `Retry-After` (too many
//! password checks at once: the flood is the cause, not an outage).
//!
//! Hashes run on a fixed set of threads of our own (one per slot), not on tokio's
//! blocking pool: the allocator keeps a freed 19 MiB block in the arena of the thread that
//! freed it, so hashing on whichever of tokio's many blocking threads is free lets resident
//! memory grow by a block per thread that ever hashed. With our own threads it is bounded by
//! slots x 19 MiB.
//!
//! The hashing threads run under Linux's `SCHED_IDLE` policy: a request thread that wakes
//! up takes the core from a hash at once, not after the hash's time slice, so a login flood
//! does not become every other request's p99 (`bench/README.md` has the A/B). On an idle
//! machine hashing runs at full speed all the same; on a core saturated by requests, hashes
//! get only what is left, so logins wait (and get 429 after `QUEUE_TIMEOUT`) before anything
//! else does.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        mpsc, Arc, Mutex,
    },
    time::Duration,
};

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use tokio::sync::Semaphore;

use crate::{domain::Password, error::AppError};

/// How long a request may wait for a hashing slot before it gets 429.
pub const QUEUE_TIMEOUT: Duration = Duration::from_secs(10);

type Job = Box<dyn FnOnce() + Send>;

/// One hash waiting for a slot, counted in the queue-depth gauge until dropped (also when
/// the request is abandoned while it waits).
struct Queued<'a>(&'a AtomicUsize);

impl<'a> Queued<'a> {
    fn enter(waiting: &'a AtomicUsize) -> Self {
        crate::metrics::hash_queue(waiting.fetch_add(1, Ordering::Relaxed) + 1);
        Queued(waiting)
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        crate::metrics::hash_queue(self.0.fetch_sub(1, Ordering::Relaxed).saturating_sub(1));
    }
}

/// The hashing threads' front door. Cloned with every request's login backend, so it is
/// one `Arc`: a clone is one increment.
#[derive(Clone)]
pub struct Hasher(Arc<Inner>);

struct Inner {
    slots: Arc<Semaphore>,
    /// To the hashing threads. The semaphore admits at most one job per thread, so a job
    /// never waits here.
    jobs: mpsc::Sender<Job>,
    /// Verified against when the email is unknown, so that costs the same as a wrong password.
    dummy_hash: Arc<str>,
    /// Hashes waiting for a slot (for the metrics).
    waiting: Arc<AtomicUsize>,
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher").field("free_slots", &self.0.slots.available_permits()).finish()
    }
}

/// Puts the calling thread under `SCHED_IDLE`. Best effort: if the system refuses, hashing
/// keeps the policy it had.
#[cfg(target_os = "linux")]
#[allow(unsafe_code, reason = "libc has no safe call for a thread's scheduling policy")]
fn lower_priority() {
    // On Linux, pid 0 is the calling thread alone.
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: `param` outlives the call, which only reads it.
    let ok = unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) } == 0;
    if !ok {
        tracing::debug!("could not lower the hashing threads' priority");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

/// argon2id with the crate defaults: m=19456 KiB, t=2, p=1 (OWASP's minimum).
fn argon2() -> Argon2<'static> {
    Argon2::default()
}

fn hash_now(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|_| AppError::Internal)
}

impl Hasher {
    /// `concurrency` hashes may run at once. Makes the dummy hash (one hash's work).
    pub fn new(concurrency: usize) -> Self {
        let dummy = hash_now("chatpass-dummy-password-for-unknown-emails").expect("argon2 works");
        let concurrency = concurrency.max(1);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..concurrency {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        // The lock is held only while taking a job; it ends when every Hasher
                        // (every sender) is gone.
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        match job {
                            // A panicking job drops its answer channel (the request gets 500);
                            // the thread lives on for the next one.
                            Ok(job) => drop(std::panic::catch_unwind(std::panic::AssertUnwindSafe(job))),
                            Err(_) => return,
                        }
                    }
                })
                .expect("spawn a hashing thread");
        }
        Hasher(Arc::new(Inner {
            slots: Arc::new(Semaphore::new(concurrency)),
            jobs,
            dummy_hash: dummy.into(),
            waiting: Arc::new(AtomicUsize::new(0)),
        }))
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
        let queued = std::time::Instant::now();
        let in_queue = Queued::enter(&self.0.waiting);
        let permit = tokio::time::timeout(QUEUE_TIMEOUT, self.0.slots.clone().acquire_owned()).await;
        drop(in_queue);
        crate::metrics::hash_wait(queued.elapsed().as_secs_f64());
        let permit = permit
            .map_err(|_| AppError::RateLimited { retry_after: QUEUE_TIMEOUT.as_secs() })?
            .map_err(|_| AppError::Unavailable)?;
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let out = work();
            drop(permit);
            let _ = done.send(out);
        });
        self.0.jobs.send(job).map_err(|_| AppError::Internal)?;
        // A dropped sender means the job panicked.
        result.await.map_err(|_| AppError::Internal)
    }

    /// For sign-up: refuses a commonly used password, then hashes.
    pub async fn hash_new(&self, password: Password) -> Result<String, AppError> {
        self.run(move || {
            if password.is_common() {
                return Err(AppError::bad_input(
                    "password",
                    "That password is on a list of commonly used passwords. Choose another.",
                ));
            }
            hash_now(password.expose())
        })
        .await?
    }

    /// True when `password` matches `stored`; with no stored hash, does the same work and says false.
    pub async fn verify(&self, password: Password, stored: Option<String>) -> Result<bool, AppError> {
        let dummy = self.0.dummy_hash.clone();
        self.run(move || {
            // An unknown account, and one with no password yet (`users::NO_PASSWORD`), cost
            // the same argon2 work as a wrong password, and never match.
            let (parsed, known) = match stored.as_deref().map(PasswordHash::new) {
                Some(Ok(parsed)) => (parsed, true),
                _ => match PasswordHash::new(&dummy) {
                    Ok(parsed) => (parsed, false),
                    Err(_) => return false,
                },
            };
            argon2().verify_password(password.expose().as_bytes(), &parsed).is_ok() && known
        })
        .await
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[allow(unsafe_code, reason = "the policy is only readable through libc")]
    fn own_policy() -> i32 {
        // SAFETY: reads the calling thread's policy; no memory of ours is touched.
        unsafe { libc::sched_getscheduler(0) }
    }

    #[tokio::test]
    async fn hashing_threads_give_way_to_the_threads_that_serve_requests() {
        let hasher = Hasher::new(1);
        assert_ne!(own_policy(), libc::SCHED_IDLE, "requests are served at the normal policy");
        assert_eq!(hasher.run(own_policy).await.unwrap(), libc::SCHED_IDLE);
    }

    /// Tokio's clock is paused: it jumps to the next timer whenever every task waits, so
    /// the ten seconds pass at once and nothing here sleeps.
    #[tokio::test(start_paused = true)]
    async fn a_hash_that_waits_past_the_queue_timeout_is_refused_with_retry_after() {
        let hasher = Hasher::new(1);
        // Hold the only slot: the job starts, says so, and waits to be let go.
        let (started, has_started) = tokio::sync::oneshot::channel();
        let (let_go, held) = mpsc::channel::<()>();
        let holder = tokio::spawn({
            let hasher = hasher.clone();
            async move {
                hasher
                    .run(move || {
                        started.send(()).unwrap();
                        held.recv().unwrap();
                    })
                    .await
            }
        });
        has_started.await.unwrap();

        let waited = tokio::time::Instant::now();
        let refused = hasher.run(|| ()).await;
        assert!(
            matches!(refused, Err(AppError::RateLimited { retry_after }) if retry_after == QUEUE_TIMEOUT.as_secs()),
            "{refused:?}"
        );
        let waited = waited.elapsed();
        assert!(
            waited >= QUEUE_TIMEOUT && waited < QUEUE_TIMEOUT + Duration::from_secs(1),
            "refused after {waited:?}"
        );
        assert_eq!(hasher.0.waiting.load(Ordering::Relaxed), 0, "the refused hash left the queue");

        let_go.send(()).unwrap();
        holder.await.unwrap().unwrap();
        assert_eq!(hasher.run(|| 7).await.unwrap(), 7, "the slot is free again");
    }
}
