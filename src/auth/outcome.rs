//! What the account server functions answer when they succeed without signing in.

use serde::{Deserialize, Serialize};

/// `POST /api/signup`'s answer: `{"status":"check_your_inbox"}` (202) or `{"status":"signed_in"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SignupOutcome {
    CheckYourInbox,
    SignedIn,
}

/// `POST /api/resend_verification`'s answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ResendOutcome {
    CheckYourInbox,
    AlreadyVerified,
}

/// `POST /api/forgot_password`'s answer, always `{"status":"check_your_inbox"}` (202).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ForgotOutcome {
    CheckYourInbox,
}
