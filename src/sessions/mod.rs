//! Sessions: who a request belongs to. tower-sessions over a store in the app's own
//! database ([`store`]; its rows and one user's sessions listed, ended and capped are
//! `db::sessions`), what chatpass keeps in a session ([`record`]), axum-login's backend
//! ([`backend`]), the loaded user handed to the backend for this request, which saves the
//! second query ([`loaded_user`]), and the middleware stack ([`layers`]).

pub mod backend;
pub mod layers;
mod loaded_user;
mod record;
pub mod store;

pub use backend::{AuthSession, Backend, Credentials};
pub use layers::stack;
pub use record::{mark_browser, mark_login, COOKIE_NAME, OIDC_ID_TOKEN_KEY};
pub use store::CACHE_FOR;
