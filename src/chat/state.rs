//! What the chat page shows: its reactive state and display helpers. Compiled in both
//! builds: the server renders the page from it, the browser-side controller writes it.
//! Everything here is pure, so it is unit-tested without a browser.

use std::collections::HashMap;

use leptos::prelude::*;

use super::errors::is_invisible_format;
use crate::token::IssuedChatToken;

/// One message as shown. `index` is the SDK's per-conversation message index: the key
/// that keeps a message from showing twice when it arrives while history loads.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub index: i64,
    /// The author's chat identity; the page shows their friendly name for it.
    pub author: String,
    pub body: String,
    /// Milliseconds since the epoch, when the SDK says.
    pub sent_at_ms: Option<f64>,
}

/// A conversation in the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationItem {
    pub sid: String,
    pub name: String,
    /// Unread messages; `None` until the SDK has said (or when it cannot: the user has
    /// no read horizon in this conversation yet).
    pub unread: Option<u32>,
}

/// Where the connection to Twilio stands, as the state line says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    Starting,
    SdkMissing,
    Connecting,
    Connected,
    Disconnecting,
    Disconnected,
    Denied,
    Failed,
    Retrying,
    Recovering,
    SignedOut,
    Unverified,
    Unknown,
}

impl Connection {
    /// The SDK's `connectionStateChanged` value.
    pub fn from_sdk(state: &str) -> Self {
        match state {
            "connecting" => Connection::Connecting,
            "connected" => Connection::Connected,
            "disconnecting" => Connection::Disconnecting,
            "disconnected" => Connection::Disconnected,
            "denied" => Connection::Denied,
            "error" => Connection::Failed,
            "retrying" => Connection::Retrying,
            _ => Connection::Unknown,
        }
    }

    /// A stable name for tests and styles (`data-state`).
    pub fn key(self) -> &'static str {
        match self {
            Connection::Starting => "starting",
            Connection::SdkMissing => "sdk-missing",
            Connection::Connecting => "connecting",
            Connection::Connected => "connected",
            Connection::Disconnecting => "disconnecting",
            Connection::Disconnected => "disconnected",
            Connection::Denied => "denied",
            Connection::Failed => "error",
            Connection::Retrying => "retrying",
            Connection::Recovering => "recovering",
            Connection::SignedOut => "signed-out",
            Connection::Unverified => "unverified",
            Connection::Unknown => "unknown",
        }
    }

    /// The state line, in words.
    pub fn words(self, demo: bool) -> &'static str {
        match self {
            Connection::Starting => "Starting…",
            Connection::SdkMissing => "Not connected: Twilio's chat library did not load.",
            Connection::Connecting => "Connecting to Twilio…",
            Connection::Connected => "Connected.",
            Connection::Disconnecting => "Disconnecting…",
            Connection::Disconnected => "Disconnected. chatpass reconnects when the network returns.",
            Connection::Denied if demo => "Twilio refused the token, as expected in demo mode.",
            Connection::Denied => {
                "Twilio refused the token. Reload the page; if it repeats, the server's settings are wrong."
            }
            Connection::Failed => "The connection to Twilio failed. chatpass keeps trying.",
            Connection::Retrying => "Cannot reach Twilio yet; trying again.",
            Connection::Recovering => "Reconnecting with a fresh token…",
            Connection::SignedOut => "Signed out: chat has stopped.",
            Connection::Unverified => "Waiting for your email to be confirmed.",
            Connection::Unknown => "Connection state unknown.",
        }
    }
}

/// A token this close to expiry (seconds) is renewed when the page wakes up.
pub const RENEW_WITHIN_SECS: u64 = 120;

/// What the page does with its client when it wakes up (back online, tab visible again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    Nothing,
    RenewToken,
    NewClient,
}

impl Wake {
    /// `left`: the token's seconds by this browser's clock. Connecting: the SDK is already
    /// on it. Retrying (waiting out a backoff), disconnected, denied or failed: start over.
    pub fn after(left: u64, connection: Connection) -> Wake {
        let connected = connection == Connection::Connected;
        match left > 0 && (connected || connection == Connection::Connecting) {
            true if connected && left <= RENEW_WITHIN_SECS => Wake::RenewToken,
            true => Wake::Nothing,
            false => Wake::NewClient,
        }
    }
}

/// Why the page has no token yet, while it waits `wait_secs` to ask again.
pub fn token_retry_words(error: &str, wait_secs: i32) -> String {
    format!("Could not get a chat token from chatpass ({error}). Retrying in {wait_secs} s; check your connection.")
}

/// Everything the page shows; the token lifecycle and the conversation UI write it.
#[derive(Clone, Copy)]
pub struct ChatView {
    pub connection: RwSignal<Connection>,
    /// The browser says it has no network.
    pub offline: RwSignal<bool>,
    pub error: RwSignal<Option<String>>,
    pub signed_out: RwSignal<bool>,
    /// The server refused a token because the email is not confirmed yet (403).
    pub unverified: RwSignal<bool>,
    pub token: RwSignal<Option<IssuedChatToken>>,
    /// When the current token expires by this browser's clock (seconds): the time it
    /// arrived plus its lifetime, so a wrong clock here or on the server does not matter.
    pub token_expires_local: RwSignal<u64>,
    /// The token's decoded header and claims, pretty-printed (demo mode shows them).
    pub token_json: RwSignal<Option<(String, String)>>,
    pub refreshes: RwSignal<u32>,
    pub conversations: RwSignal<Vec<ConversationItem>>,
    /// The open conversation's sid and name.
    pub open: RwSignal<Option<(String, String)>>,
    pub messages: RwSignal<Vec<Line>>,
    pub has_older: RwSignal<bool>,
    pub loading_older: RwSignal<bool>,
    /// Identities of the open conversation's participants.
    pub participants: RwSignal<Vec<String>>,
    /// Identities of participants typing now.
    pub typing: RwSignal<Vec<String>>,
    /// Friendly names the SDK gave, by identity (asked once per identity).
    pub names: RwSignal<HashMap<String, String>>,
    pub now: RwSignal<u64>,
}

impl ChatView {
    pub fn new() -> Self {
        ChatView {
            connection: RwSignal::new(Connection::Starting),
            offline: RwSignal::new(false),
            error: RwSignal::new(None),
            signed_out: RwSignal::new(false),
            unverified: RwSignal::new(false),
            token: RwSignal::new(None),
            token_expires_local: RwSignal::new(0),
            token_json: RwSignal::new(None),
            refreshes: RwSignal::new(0),
            conversations: RwSignal::new(Vec::new()),
            open: RwSignal::new(None),
            messages: RwSignal::new(Vec::new()),
            has_older: RwSignal::new(false),
            loading_older: RwSignal::new(false),
            participants: RwSignal::new(Vec::new()),
            typing: RwSignal::new(Vec::new()),
            names: RwSignal::new(HashMap::new()),
            now: RwSignal::new(0),
        }
    }

    /// Whether the current token is a demo one.
    pub fn demo(&self) -> bool {
        self.token.with(|t| t.as_ref().is_some_and(|t| t.demo))
    }

    /// [`Self::demo`], outside the page's reactive code (SDK callbacks).
    pub fn demo_untracked(&self) -> bool {
        self.token.with_untracked(|t| t.as_ref().is_some_and(|t| t.demo))
    }

    /// The name to show for `identity`.
    pub fn name_of(&self, identity: &str) -> String {
        self.names.with(|names| shown_name(names.get(identity).map(String::as_str), identity))
    }

    /// The name and, beside it, who it really is ([`handle`]): "Bo (bo@example.com)". A
    /// friendly name is whatever its owner (or anyone with Twilio access) set; the identity is
    /// what chatpass proved, so a name can never pass for another account.
    pub fn name_and_handle_of(&self, identity: &str) -> String {
        let name = self.name_of(identity);
        let handle = handle(identity);
        if name == handle {
            name
        } else {
            format!("{name} ({handle})")
        }
    }
}

impl Default for ChatView {
    fn default() -> Self {
        Self::new()
    }
}

/// Longest friendly name shown; other people's names come from Twilio, unchecked.
pub const MAX_SHOWN_NAME: usize = 64;

/// A participant's friendly name as shown: control and invisible formatting characters
/// removed (a bidi override could make a name read as someone else's), at most
/// [`MAX_SHOWN_NAME`] characters; the identity when there is no usable name.
pub fn shown_name(friendly: Option<&str>, identity: &str) -> String {
    let cleaned: String = friendly
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control() && !is_invisible_format(*c))
        .collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() {
        return identity.to_string();
    }
    if cleaned.chars().count() > MAX_SHOWN_NAME {
        let cut: String = cleaned.chars().take(MAX_SHOWN_NAME - 1).collect();
        return format!("{cut}…");
    }
    cleaned.to_string()
}

/// How an author is told apart whatever their friendly name: the email itself when it is
/// the identity (`CHATPASS_CHAT_IDENTITY=email`), else a short handle of the opaque id
/// (`#1a2b3c4d`). Cleaned like a name (identities come from Twilio too).
pub fn handle(identity: &str) -> String {
    let cleaned: String = identity.chars().filter(|c| !c.is_control() && !is_invisible_format(*c)).collect();
    if cleaned.contains('@') {
        return cleaned;
    }
    let short: String = cleaned.chars().take(8).collect();
    format!("#{short}")
}

/// `name` with `identity`'s [`handle`] beside it, unless the name is the handle already.
pub fn with_handle(name: String, identity: &str) -> String {
    let handle = handle(identity);
    if name == handle {
        name
    } else {
        format!("{name} ({handle})")
    }
}

/// Adds `lines` to `shown`, keeping one line per index, oldest first.
pub fn merge_lines(shown: &mut Vec<Line>, lines: impl IntoIterator<Item = Line>) {
    for line in lines {
        match shown.binary_search_by_key(&line.index, |l| l.index) {
            Ok(at) => shown[at] = line,
            Err(at) => shown.insert(at, line),
        }
    }
}

/// "Ana is typing…", "Ana and Bo are typing…", "3 people are typing…".
pub fn typing_sentence(names: &[String]) -> Option<String> {
    match names {
        [] => None,
        [one] => Some(format!("{one} is typing…")),
        [a, b] => Some(format!("{a} and {b} are typing…")),
        many => Some(format!("{} people are typing…", many.len())),
    }
}

/// `text` cut after the points where an identity or SID may wrap (`@`, `.`, `-`, `_`,
/// `+`, `:`), so a long email breaks between its parts instead of mid-word.
pub fn break_points(text: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if matches!(c, '@' | '.' | '-' | '_' | '+' | ':') && !current.is_empty() {
            parts.push(std::mem::take(&mut current));
        }
        current.push(c);
    }
    if !current.is_empty() {
        parts.push(current);
    }
    parts
}

/// `HH:MM:SS UTC` for seconds since the epoch.
pub fn clock(secs: u64) -> String {
    let day = secs % 86_400;
    format!("{:02}:{:02}:{:02} UTC", day / 3600, day % 3600 / 60, day % 60)
}

/// `HH:MM UTC` for milliseconds since the epoch (a message's time).
pub fn short_clock(ms: f64) -> String {
    let secs = (ms / 1000.0).max(0.0) as u64;
    let day = secs % 86_400;
    format!("{:02}:{:02}", day / 3600, day % 3600 / 60)
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
    fn a_waking_page_renews_a_token_near_expiry_and_starts_over_when_expired_or_cut_off() {
        use Connection::*;
        assert_eq!(Wake::after(3000, Connected), Wake::Nothing);
        assert_eq!(Wake::after(RENEW_WITHIN_SECS, Connected), Wake::RenewToken);
        assert_eq!(Wake::after(60, Connecting), Wake::Nothing);
        assert_eq!(Wake::after(0, Connected), Wake::NewClient);
        for cut_off in [Retrying, Disconnected, Denied, Failed, Recovering, Unknown] {
            assert_eq!(Wake::after(3000, cut_off), Wake::NewClient, "{cut_off:?}");
        }
    }

    fn line(index: i64, body: &str) -> Line {
        Line { index, author: "a@x".into(), body: body.into(), sent_at_ms: None }
    }

    #[test]
    fn clocks_and_countdowns() {
        assert_eq!(clock(1_700_000_000), "22:13:20 UTC");
        assert_eq!(short_clock(1_700_000_000_000.0), "22:13");
        assert_eq!(countdown(0), "expired");
        assert_eq!(countdown(59), "59s");
        assert_eq!(countdown(61), "1m 01s");
        assert_eq!(countdown(3723), "1h 02m 03s");
    }

    #[test]
    fn lines_merge_by_index_without_duplicates() {
        let mut shown = vec![line(5, "five")];
        merge_lines(&mut shown, [line(6, "six"), line(5, "five again")]);
        merge_lines(&mut shown, (0..6).map(|i| line(i, "old")));
        let indexes: Vec<i64> = shown.iter().map(|l| l.index).collect();
        assert_eq!(indexes, vec![0, 1, 2, 3, 4, 5, 6]);
        assert_eq!(shown[5].body, "old");
    }

    #[test]
    fn every_author_is_shown_with_who_they_are() {
        assert_eq!(handle("bo@example.com"), "bo@example.com");
        assert_eq!(handle("1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d"), "#1a2b3c4d");
        assert_eq!(handle("bo\u{202E}@example.com"), "bo@example.com");
        let posing = shown_name(Some("real.ann@example.com"), "bo@example.com");
        assert_eq!(with_handle(posing, "bo@example.com"), "real.ann@example.com (bo@example.com)");
        let unnamed = shown_name(None, "cy@example.com");
        assert_eq!(with_handle(unnamed, "cy@example.com"), "cy@example.com", "no name: the identity once");
    }

    #[test]
    fn names_are_cleaned_bounded_and_fall_back_to_the_identity() {
        assert_eq!(shown_name(None, "a@x"), "a@x");
        assert_eq!(shown_name(Some(""), "a@x"), "a@x");
        assert_eq!(shown_name(Some(" \u{202E}\u{200B} "), "a@x"), "a@x");
        assert_eq!(shown_name(Some("Ana\u{202E}"), "a@x"), "Ana");
        assert_eq!(shown_name(Some("<b>Bo</b>"), "a@x"), "<b>Bo</b>");
        let huge = "n".repeat(10_000);
        let shown = shown_name(Some(&huge), "a@x");
        assert_eq!(shown.chars().count(), MAX_SHOWN_NAME);
        assert!(shown.ends_with('…'));
    }

    #[test]
    fn typing_sentences() {
        assert_eq!(typing_sentence(&[]), None);
        assert_eq!(typing_sentence(&["Ana".into()]).unwrap(), "Ana is typing…");
        assert_eq!(typing_sentence(&["Ana".into(), "Bo".into()]).unwrap(), "Ana and Bo are typing…");
        assert_eq!(typing_sentence(&["a".into(), "b".into(), "c".into()]).unwrap(), "3 people are typing…");
    }

    #[test]
    fn identities_break_between_their_parts() {
        assert_eq!(break_points("ana.lopez@example.com"), vec!["ana", ".lopez", "@example", ".com"]);
        assert_eq!(break_points("ISabc"), vec!["ISabc"]);
        assert_eq!(break_points(""), Vec::<String>::new());
        assert_eq!(break_points("@@"), vec!["@", "@"]);
    }

    #[test]
    fn every_state_has_words() {
        for s in
            ["connecting", "connected", "disconnecting", "disconnected", "denied", "error", "retrying", "x"]
        {
            let c = Connection::from_sdk(s);
            assert!(!c.words(false).is_empty() && !c.words(true).is_empty());
            assert!(!c.key().is_empty());
        }
        assert!(Connection::Denied.words(true).contains("demo"));
    }
}
