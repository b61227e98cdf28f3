//! The chat page's state and the words for SDK errors (both builds), and its browser
//! side (hydrate only): the token lifecycle, the demo's conversation UI on top of it,
//! the SDK bindings and the browser helpers both use.

pub mod errors;
pub mod state;

#[cfg(feature = "hydrate")]
pub mod browser;
#[cfg(feature = "hydrate")]
pub mod conversations;
#[cfg(feature = "hydrate")]
pub mod names;
#[cfg(feature = "hydrate")]
pub mod sdk;
#[cfg(feature = "hydrate")]
pub mod token_lifecycle;
