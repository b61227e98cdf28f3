//! The user the session load found, handed to the login backend for this request: the
//! load joins the signed-in user in (one query for session and user), and the backend's
//! user lookup for the same request takes it from here instead of asking the database again.

use std::cell::Cell;

use crate::db::users::User;

tokio::task_local! {
    /// The user the session load of the current request joined in, until the login
    /// layer takes it. One slot per request (see [`scope`]); never shared.
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

/// Runs `request` (the session and login layers, and what they wrap) with a user slot
/// of its own.
pub async fn scope<T>(request: impl std::future::Future<Output = T>) -> T {
    REQUEST_USER.scope(Cell::new(None), request).await
}
