//! Values parsed once at the edge ("parse, don't validate"): once you hold an [`Email`],
//! a [`Password`] or a [`DisplayName`], it is well-formed. None of them prints its content
//! through `Debug` (logs name users by id). A [`Platform`] names no one, so it may.
//!
//! One file per type; each keeps its own bounds and tests.

mod device_name;
mod display_name;
mod email;
mod identity;
mod password;
mod platform;

pub use device_name::{DeviceName, DEVICE_NAME_MAX_CHARS};
pub use display_name::{DisplayName, DisplayNameError, DISPLAY_NAME_FALLBACK, DISPLAY_NAME_MAX_CHARS};
pub use email::{Email, EMAIL_MAX_BYTES};
pub use identity::Identity;
pub use password::{Password, PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS};
pub use platform::{Platform, PLATFORM_MAX_CHARS};
