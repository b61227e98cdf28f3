//! What the chat page says when Twilio's SDK reports a problem. The SDK hands over
//! whatever it has: an `Error` with a message, an object with `code`/`errorCode` and
//! `message`, a bare string, or `undefined`. The browser side reads that into a
//! [`Reported`]; this module (pure, both builds, unit-tested) turns it into a sentence
//! that says what happened and what to do. It never shows "undefined" or
//! "[object Object]".

/// What could be read from an SDK error, whatever its shape.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reported {
    /// `message`, or the value itself when it is a string.
    pub message: Option<String>,
    /// `errorCode`, or `code` (Twilio's numeric error code).
    pub code: Option<i64>,
    /// `httpStatusCode` / `status`, when the SDK says which HTTP answer it got.
    pub http_status: Option<i64>,
}

/// Longest piece of an SDK message the page repeats.
const MAX_MESSAGE_CHARS: usize = 200;

/// The SDK's message, when it says something: control and invisible formatting
/// characters dropped, placeholders JavaScript makes of missing values refused.
fn usable_message(message: Option<&str>) -> Option<String> {
    let cleaned: String = message?.chars().filter(|c| !c.is_control() && !is_invisible_format(*c)).collect();
    let cleaned = cleaned.trim();
    let lower = cleaned.to_ascii_lowercase();
    let meaningless = cleaned.is_empty()
        || lower.contains("undefined")
        || lower.contains("[object")
        || lower == "null"
        || lower == "error";
    if meaningless {
        return None;
    }
    Some(if cleaned.chars().count() > MAX_MESSAGE_CHARS {
        let cut: String = cleaned.chars().take(MAX_MESSAGE_CHARS).collect();
        format!("{cut}…")
    } else {
        cleaned.to_string()
    })
}

/// Bidi controls and zero-width characters: they could make a message read otherwise.
pub fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{AD}' | '\u{61C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// Twilio's error codes, in words: what happened, and what to do.
fn known_code(code: i64) -> Option<&'static str> {
    Some(match code {
        20101 => "Twilio says the chat token is not valid. Reload the page for a new one; if this repeats, the server's TWILIO_* settings are wrong.",
        20102 => "Twilio could not read the chat token's header. The server's token code or settings are wrong; tell whoever runs this site.",
        20103 => "Twilio does not recognise the account or the API key in the chat token. Check the server's Twilio account SID and API key.",
        20104 => "The chat token has expired. chatpass fetches a new one by itself; if this repeats, check the clocks of this computer and the server.",
        20105 => "The chat token is not valid yet. The server's clock is probably ahead; check it.",
        20106 => "The chat token's grant is not accepted. Check the server's Conversations service SID.",
        20107 => "Twilio refused the chat token's signature: the server's API secret does not belong to its API key. Fix the server's Twilio settings.",
        20157 => "The chat token expired before a fresh one reached Twilio. chatpass starts a new connection; reload the page if this repeats.",
        20003 => "Twilio refused access (authentication failed). Check the server's TWILIO_* settings.",
        20429 | 429 => "Twilio is receiving too many requests. Wait a minute; chatpass retries by itself.",
        50350 => "That conversation does not exist, or you are not allowed to see it.",
        50400 | 50403 => "You are not allowed to do that in this conversation.",
        _ => return None,
    })
}

/// Whether the SDK is describing a failed network connection.
fn is_network(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    ["socket", "network", "connect", "transport", "timeout", "timed out", "offline"]
        .iter()
        .any(|word| lower.contains(word))
}

/// `what` (what the page was doing, e.g. "Sending the message") and what went wrong.
pub fn explain(what: &str, reported: &Reported, demo: bool) -> String {
    let raw = reported.message.as_deref();
    let message = usable_message(raw);
    let code_words = reported.code.and_then(known_code);
    let because = if let Some(words) = code_words {
        words.to_string()
    } else if raw.is_some_and(is_network) {
        "Twilio could not be reached: the network is down, or a firewall blocks wss://tsock.*.twilio.com. chatpass keeps trying; check this computer's connection.".to_string()
    } else if reported.http_status == Some(401) || reported.http_status == Some(403) {
        "Twilio refused the chat token. Reload the page for a new one; if this repeats, the server's TWILIO_* settings are wrong.".to_string()
    } else {
        match &message {
            Some(m) => format!("Twilio said: \u{201c}{m}\u{201d}. Try again; reload the page if it repeats."),
            None => "Twilio reported an error without saying what it was. Try again; reload the page if it repeats.".to_string(),
        }
    };
    let code = reported.code.map(|c| format!(" (Twilio error {c})")).unwrap_or_default();
    let demo_note = if demo {
        " This is expected in demo mode: the token is signed with a random secret, so Twilio refuses it."
    } else {
        ""
    };
    format!("{what} failed. {because}{code}{demo_note}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reported(message: Option<&str>, code: Option<i64>) -> Reported {
        Reported { message: message.map(String::from), code, http_status: None }
    }

    #[test]
    fn every_shape_reads_as_words() {
        for r in [
            reported(None, None),
            reported(Some("undefined"), None),
            reported(Some("[object Object]"), None),
            reported(Some(""), None),
            reported(Some("Socket error: undefined"), None),
            reported(None, Some(20104)),
            reported(Some("Error"), Some(1)),
        ] {
            let text = explain("Connecting", &r, false);
            assert!(!text.contains("undefined"), "{text}");
            assert!(!text.contains("[object"), "{text}");
            assert!(text.starts_with("Connecting failed. "), "{text}");
            assert!(text.ends_with('.') || text.ends_with(')'), "{text}");
        }
    }

    #[test]
    fn codes_and_network_failures_have_their_own_words() {
        assert!(explain("x", &reported(None, Some(20101)), false).contains("not valid"));
        assert!(explain("x", &reported(None, Some(20104)), false).contains("expired"));
        assert!(explain("x", &reported(None, Some(20107)), false).contains("API secret does not belong"));
        assert!(explain("x", &reported(None, Some(20157)), false).contains("expired before a fresh one"));
        let offline = explain("Connecting", &reported(Some("Socket error: undefined"), None), false);
        assert!(offline.contains("could not be reached"), "{offline}");
        let odd = explain("Sending", &reported(Some("quota <b>"), Some(54321)), false);
        assert!(odd.contains("\u{201c}quota <b>\u{201d}") && odd.contains("Twilio error 54321"), "{odd}");
        assert!(explain("x", &reported(None, Some(20107)), true).contains("expected in demo mode"));
    }

    #[test]
    fn messages_are_cleaned_and_bounded() {
        let long = "a".repeat(10_000);
        let text = explain("x", &reported(Some(&long), None), false);
        assert!(text.chars().count() < 400, "{}", text.len());
        let sneaky = explain("x", &reported(Some("ab\u{202E}cd\u{0}"), None), false);
        assert!(sneaky.contains("abcd"), "{sneaky}");
    }
}
