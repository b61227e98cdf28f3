//! The mails chatpass sends, as plain text. Pure: no IO; the links' origin is an argument.

/// What a mail is for (the outbox's `kind` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    /// "Confirm your email": the `/verify` link.
    Verify,
    /// "Someone tried to sign up with your address" (it already has an account).
    SignupAttempt,
    /// "Choose a new password": the `/reset` link.
    ResetPassword,
    /// "Your password was changed" (by a reset or on the account page).
    PasswordChanged,
    /// "Your email was confirmed on a browser" (the link was used; everything else ended).
    EmailConfirmed,
}

impl MailKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::Verify => "verify",
            MailKind::SignupAttempt => "signup_attempt",
            MailKind::ResetPassword => "reset_password",
            MailKind::PasswordChanged => "password_changed",
            MailKind::EmailConfirmed => "email_confirmed",
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
             To confirm that it is yours, open this link within 24 hours and choose your\r\n\
             password there:\r\n\
             \r\n\
             {origin}/verify?token={token}\r\n\
             \r\n\
             If it was not you, ignore this mail: without the link nothing happens, and\r\n\
             nobody can sign in with this address.\r\n"
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
             If you forgot your password, ask for a new one here:\r\n\
             \r\n\
             {origin}/forgot\r\n\
             \r\n\
             If it was not you, nothing has changed: your password still works and nobody got in.\r\n"
        ),
    }
}

/// How long a password-reset link works, in seconds (the text says "one hour").
pub const RESET_TTL_SECS: i64 = 3600;

pub fn reset_password(origin: &str, to: &str, token: &str) -> Mail {
    Mail {
        kind: MailKind::ResetPassword,
        to: to.to_string(),
        subject: "Choose a new chatpass password".into(),
        body: format!(
            "Someone, hopefully you, asked to choose a new chatpass password for this address.\r\n\
             \r\n\
             To choose one, open this link within one hour:\r\n\
             \r\n\
             {origin}/reset?token={token}\r\n\
             \r\n\
             The link works once. If it was not you, ignore this mail: your password stays as it is.\r\n"
        ),
    }
}

/// `how`: "reset with a link from a mail" or "changed on the account page".
pub fn password_changed(origin: &str, to: &str, how: &str) -> Mail {
    Mail {
        kind: MailKind::PasswordChanged,
        to: to.to_string(),
        subject: "Your chatpass password was changed".into(),
        body: format!(
            "The password of your chatpass account was just {how}. Every other signed-in\r\n\
             browser was signed out.\r\n\
             \r\n\
             If it was not you, choose a new password now and check your mailbox's security:\r\n\
             \r\n\
             {origin}/forgot\r\n"
        ),
    }
}

/// `at`: when the link was used, as the mail states it (UTC).
pub fn email_confirmed(origin: &str, to: &str, at: &str) -> Mail {
    Mail {
        kind: MailKind::EmailConfirmed,
        to: to.to_string(),
        subject: "Your chatpass email was confirmed".into(),
        body: format!(
            "Your email was confirmed on a browser at {at}, and a password was chosen there.\r\n\
             Every other browser, device and link of this address was signed out or voided.\r\n\
             \r\n\
             If it was not you, choose a new password now:\r\n\
             \r\n\
             {origin}/forgot\r\n"
        ),
    }
}

/// `now` (Unix seconds) as a mail states a time: `2026-12-01 21:30 UTC`.
pub fn utc_time(now: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(now) {
        Ok(t) => format!(
            "{}-{:02}-{:02} {:02}:{:02} UTC",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        ),
        Err(_) => "an unknown time".to_string(),
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
    fn the_attempt_mail_links_to_login_and_to_a_new_password_and_reveals_nothing_else() {
        let mail = signup_attempt("http://127.0.0.1:3000", "ann@example.com");
        let links: Vec<_> = mail.body.split_whitespace().filter(|w| w.contains("://")).collect();
        assert_eq!(links, ["http://127.0.0.1:3000/login", "http://127.0.0.1:3000/forgot"]);
        assert!(!mail.body.contains("token"));
    }

    #[test]
    fn the_reset_mail_holds_one_link_and_the_notice_none_that_acts() {
        let mail = reset_password("https://chat.example.com", "ann@example.com", "abc_-123");
        let links: Vec<_> = mail.body.split_whitespace().filter(|w| w.contains("://")).collect();
        assert_eq!(links, ["https://chat.example.com/reset?token=abc_-123"]);
        let notice =
            password_changed("https://chat.example.com", "ann@example.com", "changed on the account page");
        assert_eq!(first_link(&notice.body), Some("https://chat.example.com/forgot"));
        let confirmed =
            email_confirmed("https://chat.example.com", "ann@example.com", &utc_time(1_780_000_000));
        assert!(confirmed.body.contains("2026-05-28 20:26 UTC"), "{}", confirmed.body);
        assert_eq!(first_link(&confirmed.body), Some("https://chat.example.com/forgot"));
        for body in [&mail.body, &notice.body, &confirmed.body] {
            assert!(body.is_ascii() && body.lines().all(|l| l.len() < 998));
        }
    }
}
