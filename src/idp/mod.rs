//! The team's identity provider (OpenID Connect), below the features that use it: the
//! provider discovered and its keys (`provider`), its access tokens checked (`access_token`),
//! and which account a provider's user is (`link`). The web sign-in is the `oidc` feature;
//! `caller` takes the provider's access tokens as bearers.

pub mod access_token;
pub mod link;
pub mod provider;

pub use link::{account_for, account_for_email, ProviderUser, Refusal};
pub use provider::Provider;
