//! The chat page's state and the words for SDK errors (both builds), and its browser
//! side: SDK bindings and the controller (hydrate only).

pub mod errors;
pub mod state;

#[cfg(feature = "hydrate")]
pub mod client;
#[cfg(feature = "hydrate")]
pub mod sdk;
