//! What the browser may know about the account's sessions: the server functions' answers.

use serde::{Deserialize, Serialize};

/// One signed-in browser of the account, as the account page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// Names the session in this list, to end it; nothing can be learned from it.
    pub handle: String,
    /// The browser in coarse words: "Firefox on Linux", "an app or unknown browser".
    pub browser: String,
    /// When it signed in, `YYYY-MM-DD HH:MM UTC` ("not recorded" for sessions older than the list).
    pub signed_in: String,
    /// When it was last active, to the minute.
    pub last_seen: String,
    /// Whether it is the browser asking.
    pub current: bool,
}

/// `POST /api/end_session`'s answer: the handle of the session that ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndedSession {
    pub handle: String,
}

/// `POST /api/end_other_sessions`' answer: how many sessions ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndedSessions {
    pub ended: u64,
}
