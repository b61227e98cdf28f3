//! What the device-token server functions answer (times are Unix seconds).

use serde::{Deserialize, Serialize};

/// A device just signed in: `device_token` is shown this once and stored only as a hash.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDevice {
    pub device_token: String,
    pub id: String,
    pub device_name: String,
    pub created_at: i64,
}

impl std::fmt::Debug for NewDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewDevice").field("id", &self.id).finish_non_exhaustive()
    }
}

/// One connected device, as listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    /// Names the device in the list, to revoke it; nothing can be learned from it.
    pub id: String,
    pub device_name: String,
    pub created_at: i64,
    /// To the minute: written at most once a minute. `None`: never used yet.
    pub last_used_at: Option<i64>,
}

/// `GET /api/device_tokens`' answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Devices {
    pub devices: Vec<DeviceInfo>,
}

/// `POST /api/revoke_device_token`'s answer: the id of the device revoked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokedDevice {
    pub id: String,
}
