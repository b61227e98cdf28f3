//! Twilio's side of an account. Its Conversations User follows the account: made when the
//! account can first chat, renamed with it, deleted with it (`sender`, through the durable
//! queue `db::twilio_calls` that account changes write in their own transaction, over
//! `rest`). `drift` is `chatpass twilio sync`, which puts right what drifted anyway.
//! `webhook` is the Conversations service's webhook: signed by Twilio (`signature`), and
//! its pre-action events refused for an identity of no account that may chat.

pub mod drift;
pub mod rest;
pub mod sender;
pub mod signature;
pub mod webhook;
