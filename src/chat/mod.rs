//! The browser side of the chat page: SDK bindings and the token lifecycle.

pub mod client;
pub mod sdk;
