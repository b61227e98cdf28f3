//! The mails chatpass sends, as plain text. Pure: no IO; the links' origin is an argument.

/// What a mail is for (the outbox's `kind` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    /// "Confirm your email": the `/verify` link.
    Verify,
    /// "Someone tried to sign up with your address" (it already has an account).
    SignupAttempt,
}

impl MailKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::Verify => "verify",
            MailKind::SignupAttempt => "signup_attempt",
        }
    }
}

/// One mail, ready for the outbox. Every field is ASCII: the recipient is a parsed
/// `Email` (punycode domain), the origin is ASCII, tokens are base64url.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub kind: MailKind,
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// How long a verification link works, in seconds (the text says "24 hours").
pub const VERIFY_TTL_SECS: i64 = 24 * 3600;

pub fn verification(origin: &str, to: &str, token: &str) -> Mail {
    Mail {
        kind: MailKind::Verify,
        to: to.to_string(),
        subject: "Confirm your email for chatpass".into(),
        body: format!(
            "Someone, hopefully you, signed up for chatpass with this address.\r\n\
             \r\n\
             To confirm that it is yours, open this link within 24 hours and press the button:\r\n\
             \r\n\
             {origin}/verify?token={token}\r\n\
             \r\n\
             If it was not you, ignore this mail: without the link nothing happens.\r\n"
        ),
    }
}

pub fn signup_attempt(origin: &str, to: &str) -> Mail {
    Mail {
        kind: MailKind::SignupAttempt,
        to: to.to_string(),
        subject: "Someone tried to sign up for chatpass with your address".into(),
        body: format!(
            "Someone just tried to sign up for chatpass with this address, which already has an account.\r\n\
             \r\n\
             If it was you, log in instead:\r\n\
             \r\n\
             {origin}/login\r\n\
             \r\n\
             If it was not you, nothing has changed: your password still works and nobody got in.\r\n"
        ),
    }
}

/// The first link in a mail's text, for the log line of a mail written to a file.
pub fn first_link(body: &str) -> Option<&str> {
    body.split_whitespace().find(|word| word.starts_with("http://") || word.starts_with("https://"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verification_mail_holds_exactly_one_link() {
        let mail = verification("https://chat.example.com", "ann@example.com", "abc_-123");
        let links: Vec<_> = mail.body.split_whitespace().filter(|w| w.contains("://")).collect();
        assert_eq!(links, ["https://chat.example.com/verify?token=abc_-123"]);
        assert_eq!(first_link(&mail.body), Some(links[0]));
        assert!(mail.body.is_ascii() && mail.body.lines().all(|l| l.len() < 998));
    }

    #[test]
    fn the_attempt_mail_links_to_login_and_reveals_nothing_else() {
        let mail = signup_attempt("http://127.0.0.1:3000", "ann@example.com");
        assert_eq!(first_link(&mail.body), Some("http://127.0.0.1:3000/login"));
        assert!(!mail.body.contains("token"));
    }
}
