//! The chat page's state (both builds), and its browser side: SDK bindings and the
//! token lifecycle (hydrate only).

pub mod state;

#[cfg(feature = "hydrate")]
pub mod client;
#[cfg(feature = "hydrate")]
pub mod sdk;
