//! What the chat page shows: its reactive state and display helpers. Compiled in both
//! builds: the server renders the page from it, the browser-side controller writes it.

use leptos::prelude::*;

use crate::token::IssuedChatToken;

/// One message as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub author: String,
    pub body: String,
}

/// Everything the page shows; the browser-side controller writes it.
#[derive(Clone, Copy)]
pub struct ChatView {
    pub connection: RwSignal<String>,
    pub error: RwSignal<Option<String>>,
    pub signed_out: RwSignal<bool>,
    /// The server refused a token because the email is not confirmed yet (403).
    pub unverified: RwSignal<bool>,
    pub token: RwSignal<Option<IssuedChatToken>>,
    pub refreshes: RwSignal<u32>,
    pub conversations: RwSignal<Vec<String>>,
    pub open: RwSignal<Option<String>>,
    pub messages: RwSignal<Vec<Line>>,
    pub now: RwSignal<u64>,
}

impl ChatView {
    pub fn new() -> Self {
        ChatView {
            connection: RwSignal::new("starting".into()),
            error: RwSignal::new(None),
            signed_out: RwSignal::new(false),
            unverified: RwSignal::new(false),
            token: RwSignal::new(None),
            refreshes: RwSignal::new(0),
            conversations: RwSignal::new(Vec::new()),
            open: RwSignal::new(None),
            messages: RwSignal::new(Vec::new()),
            now: RwSignal::new(0),
        }
    }
}

impl Default for ChatView {
    fn default() -> Self {
        Self::new()
    }
}

/// `HH:MM:SS UTC` for seconds since the epoch.
pub fn clock(secs: u64) -> String {
    let day = secs % 86_400;
    format!("{:02}:{:02}:{:02} UTC", day / 3600, day % 3600 / 60, day % 60)
}

/// `1h 02m 03s` for a number of seconds.
pub fn countdown(secs: u64) -> String {
    match secs {
        0 => "expired".into(),
        s if s >= 3600 => format!("{}h {:02}m {:02}s", s / 3600, s % 3600 / 60, s % 60),
        s if s >= 60 => format!("{}m {:02}s", s / 60, s % 60),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_and_countdowns() {
        assert_eq!(clock(1_700_000_000), "22:13:20 UTC");
        assert_eq!(countdown(0), "expired");
        assert_eq!(countdown(59), "59s");
        assert_eq!(countdown(61), "1m 01s");
        assert_eq!(countdown(3723), "1h 02m 03s");
    }
}
