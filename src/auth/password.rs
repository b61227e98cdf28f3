//! argon2id hashing and verification, off the async threads and bounded.
//!
//! Each hash costs ~19 MiB and tens of milliseconds of CPU. A semaphore caps how many run
//! at once, so a login flood can neither exhaust memory nor starve other requests; a
//! request that waits too long for a turn is answered 503.

use std::{sync::Arc, time::Duration};

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use tokio::sync::Semaphore;

use crate::{domain::Password, error::AppError};

/// How long a request may wait for a hashing slot before it gets 503.
pub const QUEUE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct Hasher {
    slots: Arc<Semaphore>,
    /// Verified against when the email is unknown, so that costs the same as a wrong password.
    dummy_hash: Arc<str>,
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher").field("free_slots", &self.slots.available_permits()).finish()
    }
}

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
        Hasher { slots: Arc::new(Semaphore::new(concurrency.max(1))), dummy_hash: dummy.into() }
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
        let permit = tokio::time::timeout(QUEUE_TIMEOUT, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| AppError::Unavailable)?
            .map_err(|_| AppError::Unavailable)?;
        tokio::task::spawn_blocking(move || {
            let out = work();
            drop(permit);
            out
        })
        .await
        .map_err(|_| AppError::Internal)
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
        let dummy = self.dummy_hash.clone();
        self.run(move || {
            let (hash, known) = match &stored {
                Some(hash) => (hash.as_str(), true),
                None => (&*dummy, false),
            };
            let Ok(parsed) = PasswordHash::new(hash) else {
                return false;
            };
            argon2().verify_password(password.expose().as_bytes(), &parsed).is_ok() && known
        })
        .await
    }
}
