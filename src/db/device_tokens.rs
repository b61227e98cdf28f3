//! The `device_tokens` table: the bearer tokens apps sign in with. A token is `cpd_` and
//! 256 random bits (base64url), shown once; only its SHA-256 is stored. Each row has a
//! random public `id` to list and revoke it by, never the token or its hash.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::{
    epoch::accounts_changed,
    pool::{with_pool, with_tx, Pool, Tx},
    users::{user_columns, User},
};

/// What every device token starts with: says what it is to a reader and a secret scanner.
pub const PREFIX: &str = "cpd_";
/// Random bytes per token, and their length as base64url without padding.
const TOKEN_BYTES: usize = 32;
const TOKEN_CHARS: usize = 43;
/// `last_used_at` is written at most once per this many seconds per token.
pub const LAST_USED_EVERY_SECS: i64 = 60;

/// A new token: the text the device keeps (shown once) and the hash that is stored.
pub struct NewDeviceToken {
    pub raw: String,
    pub hash: String,
}

impl std::fmt::Debug for NewDeviceToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewDeviceToken([redacted])")
    }
}

pub fn generate() -> NewDeviceToken {
    use rand::RngCore;
    let mut bytes = [0u8; TOKEN_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    let raw = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let hash = hash(&raw);
    NewDeviceToken { raw, hash }
}

fn hash(raw: &str) -> String {
    crate::security::hex(&Sha256::digest(raw.as_bytes()))
}

/// The stored hash of a token as a client sent it, or `None` for anything that cannot be
/// one of ours (other length, prefix or characters): refused before any lookup.
pub fn parse(raw: &str) -> Option<String> {
    let body = raw.strip_prefix(PREFIX)?;
    let ours = body.len() == TOKEN_CHARS
        && body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && URL_SAFE_NO_PAD.decode(body).is_ok_and(|bytes| bytes.len() == TOKEN_BYTES);
    ours.then(|| hash(raw))
}

/// One device of an account, as listed (times in Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRow {
    pub id: String,
    pub device_name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// Stores a device token for `user_id`, named `device_name`, at `now`, inside `tx` (whose
/// caller holds the user's row: see `devices::handlers`); the row's public id.
pub async fn insert(
    tx: &mut Tx,
    user_id: i64,
    token: &NewDeviceToken,
    device_name: &str,
    now: i64,
) -> Result<DeviceRow, sqlx::Error> {
    const INSERT: &str = "INSERT INTO device_tokens (id, user_id, token_hash, device_name, created_at) \
                          VALUES ($1, $2, $3, $4, $5)";
    let id = crate::security::random_hex(16);
    with_tx!(tx, c => {
        sqlx::query(INSERT).bind(&id).bind(user_id).bind(&token.hash).bind(device_name).bind(now).execute(c).await.map(drop)
    })?;
    Ok(DeviceRow { id, device_name: device_name.to_owned(), created_at: now, last_used_at: None })
}

/// The account whose device token has this hash, and when the token was last used: one
/// query, no cache, so a revoked token fails on its very next request.
pub async fn owner(pool: &Pool, hash: &str) -> Result<Option<(User, Option<i64>)>, sqlx::Error> {
    const SELECT: &str = concat!(
        "SELECT ",
        user_columns!("u."),
        ", d.last_used_at AS last_used_at FROM device_tokens d JOIN users u ON u.id = d.user_id ",
        "WHERE d.token_hash = $1"
    );
    with_pool!(pool, p => {
        match sqlx::query(SELECT).bind(hash).fetch_optional(p).await? {
            Some(row) => {
                let last_used_at: Option<i64> = row.try_get("last_used_at")?;
                Ok(User::from_row_opt(&row)?.map(|user| (user, last_used_at)))
            }
            None => Ok(None),
        }
    })
}

/// Records a use at `now`, unless one was recorded less than [`LAST_USED_EVERY_SECS`] ago
/// (of concurrent uses that all find it stale, the first writes).
pub async fn mark_used(pool: &Pool, hash: &str, now: i64) -> Result<(), sqlx::Error> {
    const UPDATE: &str = "UPDATE device_tokens SET last_used_at = $2 \
                          WHERE token_hash = $1 AND (last_used_at IS NULL OR last_used_at <= $3)";
    let stale_by = now - LAST_USED_EVERY_SECS;
    with_pool!(pool, p => sqlx::query(UPDATE).bind(hash).bind(now).bind(stale_by).execute(p).await.map(drop))
}

/// `user_id`'s devices, newest first.
pub async fn list_for_user(pool: &Pool, user_id: i64) -> Result<Vec<DeviceRow>, sqlx::Error> {
    const SELECT: &str = "SELECT id, device_name, created_at, last_used_at FROM device_tokens \
                          WHERE user_id = $1 ORDER BY created_at DESC, id";
    with_pool!(pool, p => {
        let rows = sqlx::query(SELECT).bind(user_id).fetch_all(p).await?;
        rows.iter()
            .map(|row| {
                Ok(DeviceRow {
                    id: row.try_get("id")?,
                    device_name: row.try_get("device_name")?,
                    created_at: row.try_get("created_at")?,
                    last_used_at: row.try_get("last_used_at")?,
                })
            })
            .collect()
    })
}

/// Revokes `user_id`'s device `id` (the row is deleted); false when the account has no
/// device by that id (revoked already, or another account's).
pub async fn revoke(pool: &Pool, user_id: i64, id: &str) -> Result<bool, sqlx::Error> {
    const DELETE: &str = "DELETE FROM device_tokens WHERE user_id = $1 AND id = $2";
    let revoked = with_pool!(pool, p => {
        sqlx::query(DELETE).bind(user_id).bind(id).execute(p).await.map(|r| r.rows_affected())
    })?;
    accounts_changed();
    Ok(revoked > 0)
}

/// Revokes the devices of `user_id` but `newest` (the one just written) and the `cap - 1`
/// newest others (by creation, then id), inside `tx`; how many. `newest` is kept whatever
/// the clock says: times are in seconds, so devices made within one second tie, and a
/// clock stepped back makes older ones look newer.
pub async fn keep_newest(tx: &mut Tx, user_id: i64, newest: &str, cap: i64) -> Result<u64, sqlx::Error> {
    const DELETE: &str = "DELETE FROM device_tokens WHERE user_id = $1 AND id <> $2 AND id NOT IN \
                          (SELECT id FROM device_tokens WHERE user_id = $1 AND id <> $2 \
                           ORDER BY created_at DESC, id DESC LIMIT $3)";
    with_tx!(tx, c => {
        sqlx::query(DELETE).bind(user_id).bind(newest).bind(cap - 1).execute(c).await.map(|r| r.rows_affected())
    })
}

/// Revokes every device token of `user_id` inside `tx`: a password change or reset and a
/// proven email end them, as they end the account's other sessions.
pub async fn revoke_all(tx: &mut Tx, user_id: i64) -> Result<u64, sqlx::Error> {
    const DELETE: &str = "DELETE FROM device_tokens WHERE user_id = $1";
    with_tx!(tx, c => sqlx::query(DELETE).bind(user_id).execute(c).await.map(|r| r.rows_affected()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_parses_to_its_hash_and_nothing_else_parses() {
        let token = generate();
        assert!(token.raw.starts_with(PREFIX));
        assert_eq!(token.raw.len(), PREFIX.len() + TOKEN_CHARS);
        assert_eq!(parse(&token.raw).as_deref(), Some(token.hash.as_str()));
        assert_ne!(token.hash, token.raw);
        let mut changed = token.raw.clone().into_bytes();
        let last = changed.len() - 2;
        changed[last] = if changed[last] == b'A' { b'B' } else { b'A' };
        let changed = String::from_utf8(changed).unwrap();
        assert_ne!(parse(&changed), Some(token.hash.clone()));
        let body = &token.raw[PREFIX.len()..];
        for bad in [
            String::new(),
            PREFIX.to_string(),
            body.to_string(),
            format!("cpx_{body}"),
            format!("{} ", token.raw),
            format!("{}\0", &token.raw[..token.raw.len() - 1]),
            format!("{}é", &token.raw[..token.raw.len() - 2]),
            "a".repeat(10 * 1024),
        ] {
            assert_eq!(parse(&bad), None, "{bad:?}");
        }
    }

    #[test]
    fn debug_hides_the_token() {
        let token = generate();
        assert!(!format!("{token:?}").contains(&token.raw[PREFIX.len()..]));
    }
}
