//! Sessions: who a request belongs to. tower-sessions over a SQL store in the app's own
//! database ([`store`]), what chatpass keeps in a session ([`record`]), axum-login's
//! backend ([`backend`]), the per-request user slot that saves the second query
//! ([`slot`]), the middleware stack ([`layers`]), and one user's sessions listed, ended
//! and capped ([`per_user`]).

pub mod backend;
pub mod layers;
pub mod per_user;
mod record;
mod slot;
pub mod store;

pub use backend::{AuthSession, Backend, Credentials};
pub use layers::stack;
pub use record::{mark_browser, mark_login, COOKIE_NAME};
pub use store::CACHE_FOR;
