//! A session store failure inside a server function, as the client sees it.

use crate::error::AppError;

/// A session store failure inside a server function: logged, answered 503.
pub fn session_error<E: std::fmt::Display>(error: E) -> AppError {
    tracing::warn!(error = %error, "session store error");
    AppError::Unavailable
}
