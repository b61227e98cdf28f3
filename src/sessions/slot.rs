//! The per-request user slot: the session load joins the signed-in user in (one query
//! for session and user), and the login backend's user lookup for the same request takes
//! it from here instead of asking the database again.

use std::cell::Cell;

use axum::{extract::Request, middleware::Next, response::Response};

use crate::users::User;

tokio::task_local! {
    /// The user the session load of the current request joined in, until the login
    /// layer takes it. One slot per request (see [`user_slot`]); never shared.
    static REQUEST_USER: Cell<Option<User>>;
}

/// Called by the store when a session row names a user.
pub fn keep_for_request(user: User) {
    // Outside a request (no slot) there is nobody to hand it to.
    let _ = REQUEST_USER.try_with(|slot| slot.set(Some(user)));
}

/// The user this request's session load found, if it is user `id`. Taken, not copied:
/// a second lookup in the same request goes to the database.
pub fn take_request_user(id: i64) -> Option<User> {
    REQUEST_USER.try_with(|slot| slot.take()).ok().flatten().filter(|u| u.id == id)
}

/// Middleware, outside the session and login layers: gives the request its user slot.
pub async fn user_slot(request: Request, next: Next) -> Response {
    REQUEST_USER.scope(Cell::new(None), next.run(request)).await
}
