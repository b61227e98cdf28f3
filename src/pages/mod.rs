//! One module per page, plus the form pieces they share.

pub mod chat;
pub mod form;
pub mod home;
pub mod login;
pub mod not_found;
pub mod signup;
pub mod verify;
