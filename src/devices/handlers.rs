//! The server side of the device-token server functions.

use crate::{
    caller,
    db::{
        device_tokens,
        users::{self, User},
    },
    domain::DeviceName,
    error::AppError,
    state::{app_state, auth_session},
};

use super::info::{DeviceInfo, Devices, NewDevice, RevokedDevice};

/// At most this many devices per account: a new one past it revokes the least recently
/// created, as sessions do.
pub const MAX_DEVICES: i64 = 20;

pub async fn create_device_token(
    email: String,
    password: String,
    device_name: String,
) -> Result<NewDevice, AppError> {
    // Every field is checked before anything counts, hashes or writes.
    let name = DeviceName::parse(&device_name)?;
    let (user, _) = crate::auth::check_credentials(&email, &password).await?;
    // A password changed since it was checked makes it a wrong one.
    issue(&user, &name, AppError::BadCredentials).await
}

pub async fn connect_device(device_name: String) -> Result<NewDevice, AppError> {
    let name = DeviceName::parse(&device_name)?;
    let user = auth_session().await?.user.ok_or(AppError::NotSignedIn)?;
    // A password changed since the session was loaded has ended the session.
    issue(&user, &name, AppError::NotSignedIn).await
}

/// Writes a device token for `user`, as read when the request's credential was checked.
/// The user's row is held first, the lock every password change, reset, proof and deletion
/// takes before it revokes the account's devices: a device is written either before one
/// of those (which then revokes it) or after, and then only if the account still has the
/// session key it was checked with (a new one comes with every password); otherwise the
/// credential is stale and the answer is `stale`.
async fn issue(user: &User, name: &DeviceName, stale: AppError) -> Result<NewDevice, AppError> {
    let pool = &app_state()?.pool;
    let token = device_tokens::generate();
    let now = std::time::UNIX_EPOCH.elapsed().map_err(|_| AppError::Internal)?.as_secs() as i64;
    let mut tx = pool.begin().await?;
    match users::lock_row_for_update(&mut tx, user.id).await? {
        Some(now_stored) if now_stored.session_key == user.session_key => {}
        _ => {
            tracing::info!(user.id = user.id, "device refused: the password changed since it was checked");
            return Err(stale);
        }
    }
    let row = device_tokens::insert(&mut tx, user.id, &token, name.as_str(), now).await?;
    let dropped = device_tokens::keep_newest(&mut tx, user.id, &row.id, MAX_DEVICES).await?;
    tx.commit().await?;
    crate::metrics::device_connected();
    tracing::info!(user.id = user.id, device.id = %row.id, dropped, "device connected");
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::CREATED);
    }
    Ok(NewDevice {
        device_token: token.raw,
        id: row.id,
        device_name: row.device_name,
        created_at: row.created_at,
    })
}

pub async fn device_tokens() -> Result<Devices, AppError> {
    let user = caller::account().await?;
    let rows = device_tokens::list_for_user(&app_state()?.pool, user.id).await?;
    let devices = rows
        .into_iter()
        .map(|row| DeviceInfo {
            id: row.id,
            device_name: row.device_name,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
        })
        .collect();
    Ok(Devices { devices })
}

pub async fn revoke_device_token(id: String) -> Result<RevokedDevice, AppError> {
    let user = caller::account().await?;
    // Ids are 32 hex digits; anything else names no device (and is not echoed).
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::UnknownDevice);
    }
    if !device_tokens::revoke(&app_state()?.pool, user.id, &id).await? {
        return Err(AppError::UnknownDevice);
    }
    tracing::info!(user.id = user.id, device.id = %id, "device revoked");
    Ok(RevokedDevice { id })
}
