//! Single-use tokens sent by mail (the `/verify` and `/reset` links). The token is 256
//! random bits, base64url; only its SHA-256 is stored. A token is bound to a user and to
//! the email it was sent to, and works once, until it expires or a later change voids it.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use sha2::{Digest, Sha256};

use super::pool::{with_pool, with_tx, Pool, Tx};
use crate::error::AppError;

/// Random bytes per token.
const TOKEN_BYTES: usize = 32;
/// A token's length as text: base64url of 32 bytes, no padding.
const TOKEN_CHARS: usize = 43;

/// What a token is for (the `purpose` column): a token of one purpose never works for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::ResetPassword => "reset_password",
        }
    }
}

/// A token as it goes into a mail, and the hash that is stored.
pub struct NewToken {
    pub raw: String,
    pub hash: String,
}

pub fn generate() -> NewToken {
    use rand::RngCore;
    let mut bytes = [0u8; TOKEN_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    let raw = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash(&raw);
    NewToken { raw, hash }
}

fn hash(raw: &str) -> String {
    crate::security::hex(&Sha256::digest(raw.as_bytes()))
}

/// The stored hash of a token as a client sent it; anything that cannot be one of
/// ours (wrong length, other characters, NUL, non-ASCII) is 400 before any lookup.
pub fn parse(raw: &str) -> Result<String, AppError> {
    let raw = raw.trim();
    let bad = || {
        AppError::bad_input(
            "token",
            "This link is not valid: it may have been cut short. Use the whole link from the mail.",
        )
    };
    if raw.len() != TOKEN_CHARS || !raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(bad());
    }
    match URL_SAFE_NO_PAD.decode(raw) {
        Ok(bytes) if bytes.len() == TOKEN_BYTES => Ok(hash(raw)),
        _ => Err(bad()),
    }
}

/// Stores a token for `user_id` and `email`, valid until `expires_at`. A token carries
/// nothing to set: whoever uses it chooses there and then (see `auth::verification`).
pub async fn insert(
    tx: &mut Tx,
    token: &NewToken,
    purpose: Purpose,
    user_id: i64,
    email: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    const INSERT: &str =
        "INSERT INTO email_tokens (token_hash, user_id, email, purpose, created_at, expires_at) \
                          VALUES ($1, $2, $3, $4, $5, $6)";
    with_tx!(tx, c => {
        sqlx::query(INSERT)
            .bind(&token.hash)
            .bind(user_id)
            .bind(email)
            .bind(purpose.as_str())
            .bind(now)
            .bind(expires_at)
            .execute(c)
            .await
            .map(drop)
    })
}

/// What a used token was bound to.
#[derive(Debug, sqlx::FromRow)]
pub struct Used {
    pub user_id: i64,
    pub email: String,
}

/// Uses the token with this hash, if it is unused, of `purpose` and not expired at
/// `now` (the clock is an argument). One statement: of two concurrent uses, one wins.
pub async fn use_once(
    tx: &mut Tx,
    hash: &str,
    purpose: Purpose,
    now: i64,
) -> Result<Option<Used>, sqlx::Error> {
    const UPDATE: &str = "UPDATE email_tokens SET used_at = $1 \
                          WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1 \
                          RETURNING user_id, email";
    with_tx!(tx, c => sqlx::query_as::<_, Used>(UPDATE).bind(now).bind(hash).bind(purpose.as_str()).fetch_optional(c).await)
}

/// The user a token of `purpose` belongs to, used or not: to lock that user first (every
/// transaction that touches a user's tokens takes the user's row before them, so two of
/// them never wait on each other in opposite orders).
///
/// Read before the transaction (a token's user never changes): on SQLite a transaction
/// that reads first and writes later cannot wait for another writer, and fails busy.
pub async fn owner(pool: &Pool, hash: &str, purpose: Purpose) -> Result<Option<i64>, sqlx::Error> {
    const SELECT: &str = "SELECT user_id FROM email_tokens WHERE token_hash = $1 AND purpose = $2";
    with_pool!(pool, p => sqlx::query_scalar::<_, i64>(SELECT).bind(hash).bind(purpose.as_str()).fetch_optional(p).await)
}

/// Whether an unused, unexpired token of `purpose` has this hash (a look, not a use).
pub async fn is_live(pool: &Pool, hash: &str, purpose: Purpose, now: i64) -> Result<bool, sqlx::Error> {
    const SELECT: &str = "SELECT EXISTS (SELECT 1 FROM email_tokens \
                          WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3)";
    with_pool!(pool, p => sqlx::query_scalar::<_, bool>(SELECT).bind(hash).bind(purpose.as_str()).bind(now).fetch_one(p).await)
}

/// Voids every unused link of `user_id` at `now`, inside `tx`: proving the email and every
/// password change end whatever was mailed before (an old link must not outlive them). A
/// voided link counts as used, so it can still say whose it was ("already confirmed").
pub async fn void_all(tx: &mut Tx, user_id: i64, now: i64) -> Result<u64, sqlx::Error> {
    const UPDATE: &str = "UPDATE email_tokens SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL";
    with_tx!(tx, c => sqlx::query(UPDATE).bind(user_id).bind(now).execute(c).await.map(|r| r.rows_affected()))
}

/// How long a used or expired link is kept (seconds): a week to answer "was my link
/// used, and when", far past any link's life (a day at most).
pub const KEEP_FINISHED_SECS: i64 = 7 * 24 * 3600;

/// Deletes links used, or expired, more than [`KEEP_FINISHED_SECS`] before `now`; how
/// many. Live links stay.
pub async fn sweep(pool: &Pool, now: i64) -> Result<u64, sqlx::Error> {
    const DELETE: &str = "DELETE FROM email_tokens WHERE used_at < $1 OR expires_at < $1";
    let before = now - KEEP_FINISHED_SECS;
    with_pool!(pool, p => sqlx::query(DELETE).bind(before).execute(p).await.map(|r| r.rows_affected()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bits_and_stored_only_as_their_hash() {
        let token = generate();
        assert_eq!(token.raw.len(), TOKEN_CHARS);
        assert_eq!(parse(&token.raw).unwrap(), token.hash);
        assert_eq!(token.hash.len(), 64);
        assert!(!token.hash.contains(&token.raw));
        assert_ne!(generate().raw, token.raw);
    }

    #[test]
    fn anything_else_is_refused_before_a_lookup() {
        let good = generate().raw;
        let long = "A".repeat(10 * 1024);
        let cases = [
            "".to_string(),
            good[..42].to_string(),
            format!("{good}A"),
            long,
            format!("{}\0", &good[..42]),
            format!("{}é", &good[..41]),
            format!("{}+", &good[..42]),
            format!("{}=", &good[..42]),
        ];
        for bad in cases {
            assert!(parse(&bad).unwrap_err().for_field("token").is_some(), "{bad:?}");
        }
    }
}
