//! One module per page, plus the form pieces they share.

pub mod account;
pub mod chat;
pub mod devices;
pub mod forgot;
pub mod form;
pub mod home;
pub mod hydration;
pub mod login;
pub mod not_found;
pub mod reset;
pub mod signup;
pub mod sso;
pub mod verify;
