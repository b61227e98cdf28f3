//! The axum-login backend: who a session belongs to, and checking credentials.

use axum_login::{AuthUser, AuthnBackend, UserId};

use super::loaded_user;
use crate::{
    db::{
        users::{self, User},
        Pool,
    },
    domain::{Email, Password},
    error::AppError,
    passwords::Hasher,
};

impl AuthUser for User {
    type Id = i64;

    fn id(&self) -> i64 {
        self.id
    }

    /// The account's session key (random, replaced with every password change): a session
    /// signed in before a change no longer matches and is signed out. Nothing derived from
    /// the password is copied into session rows.
    fn session_auth_hash(&self) -> &[u8] {
        self.session_key.as_bytes()
    }
}

pub struct Credentials {
    pub email: Email,
    pub password: Password,
}

#[derive(Clone, Debug)]
pub struct Backend {
    pub pool: Pool,
    pub hasher: Hasher,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BackendError(pub AppError);

impl From<sqlx::Error> for BackendError {
    fn from(e: sqlx::Error) -> Self {
        BackendError(e.into())
    }
}

impl AuthnBackend for Backend {
    type User = User;
    type Credentials = Credentials;
    type Error = BackendError;

    /// An unknown email costs the same argon2 work as a wrong password.
    async fn authenticate(&self, creds: Credentials) -> Result<Option<User>, BackendError> {
        let user = users::by_email(&self.pool, &creds.email).await?;
        let stored = user.as_ref().map(|u| u.password_hash.clone());
        let ok = self.hasher.verify(creds.password, stored).await.map_err(BackendError)?;
        Ok(user.filter(|_| ok))
    }

    /// The user the session load joined in for this request, or else from the database.
    async fn get_user(&self, id: &UserId<Self>) -> Result<Option<User>, BackendError> {
        if let Some(user) = loaded_user::take_request_user(*id) {
            return Ok(Some(user));
        }
        Ok(users::by_id(&self.pool, *id).await?)
    }
}

pub type AuthSession = axum_login::AuthSession<Backend>;
