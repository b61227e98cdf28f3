//! Device tokens: how an app (iOS, Android, or a web app on another origin) gets chat
//! tokens without a cookie. An app signs in once with the email and password and keeps the
//! token it is given; it sends it as `Authorization: Bearer` to `POST /api/chat_token`
//! (`caller` resolves it to the account). The owner lists and revokes devices; a password
//! change or reset, and deleting the account, revoke them all.
//!
//! Each `#[server]` function forwards to the function of the same name in `handlers`.

use leptos::prelude::*;
use server_fn::codec::GetUrl;

use crate::error::AppError;

#[cfg(feature = "ssr")]
mod handlers;
mod info;

pub use info::{DeviceInfo, Devices, NewDevice, RevokedDevice};

/// Signs a device in with the account's email and password: 201 with the device token,
/// shown this once. The same limits and the same one message as `/api/login`.
#[server(prefix = "/api", endpoint = "device_tokens")]
pub async fn create_device_token(
    email: String,
    password: String,
    device_name: String,
) -> Result<NewDevice, AppError> {
    handlers::create_device_token(email, password, device_name).await
}

/// "Connect a device" on the account page: a device token for the signed-in browser's
/// account (a session only, never a bearer), shown this once.
#[server(prefix = "/api", endpoint = "connect_device")]
pub async fn connect_device(device_name: String) -> Result<NewDevice, AppError> {
    handlers::connect_device(device_name).await
}

/// The account's devices, newest first (a session or a device token); never a token.
#[server(prefix = "/api", endpoint = "device_tokens", input = GetUrl)]
pub async fn device_tokens() -> Result<Devices, AppError> {
    handlers::device_tokens().await
}

/// Revokes the account's device `id` (a session or a device token, its own included): its
/// token fails from the next request on. 404 when the account has no such device.
#[server(prefix = "/api", endpoint = "revoke_device_token")]
pub async fn revoke_device_token(id: String) -> Result<RevokedDevice, AppError> {
    handlers::revoke_device_token(id).await
}
