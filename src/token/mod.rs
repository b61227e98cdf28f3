//! Twilio Access Tokens: the pure token encoder.

pub mod access_token;

pub use access_token::{AccessToken, ChatGrant, SignedToken, SigningKey, TokenError};
