//! Mail and account settings: where mail goes (an SMTP server, or files under the data
//! directory), who it is from, whether an email must be proven before it becomes a chat
//! identity, and what the identity is. The SMTP password is never echoed.

use std::{path::PathBuf, str::FromStr, time::Duration};

use lettre::message::Mailbox;
use secrecy::SecretString;

use super::parse::{parse_in_range, ConfigError};

/// The sender used when `CHATPASS_MAIL_FROM` is not set (files only: a real mail
/// service needs a real sender, so with `CHATPASS_SMTP_URL` it must be set).
pub const DEFAULT_MAIL_FROM: &str = "chatpass <chatpass@localhost>";
/// First retry after a failed delivery (`CHATPASS_MAIL_RETRY_SECS`); it doubles each time.
pub const DEFAULT_MAIL_RETRY_SECS: u64 = 5;

#[derive(Debug, Clone)]
pub struct MailSettings {
    pub transport: MailTransport,
    /// `CHATPASS_MAIL_FROM`, checked at start.
    pub from: Mailbox,
    /// The first retry's delay; later ones double, up to ten minutes.
    pub retry_after: Duration,
}

#[derive(Debug, Clone)]
pub enum MailTransport {
    /// `CHATPASS_SMTP_URL`.
    Smtp(SmtpSettings),
    /// No SMTP server: each mail is a `.eml` file in this directory, and the log says so.
    Files(PathBuf),
}

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// `smtp://` to a loopback host without credentials (a local relay, a test server), or
    /// `?tls=none`: no TLS.
    Plain,
    /// `smtp://` to any other host, with credentials, or with `?tls=required`: STARTTLS,
    /// refused when the server lacks it.
    StartTls,
    /// `smtps://`: TLS from the first byte.
    Tls,
}

/// Where mail is delivered. `Debug` hides the password.
#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub credentials: Option<(String, SecretString)>,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.credentials.as_ref().map(|(user, _)| user))
            .finish_non_exhaustive()
    }
}

/// Who may get a chat token, and what it is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountSettings {
    pub verification: Verification,
    pub chat_identity: ChatIdentity,
}

/// `CHATPASS_EMAIL_VERIFICATION`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// The default: sign-up sends a link; no chat token before it is used.
    Required,
    /// Sign-up signs in at once and tokens need no proven email.
    Off,
}

/// `CHATPASS_CHAT_IDENTITY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatIdentity {
    /// The account's email (the default).
    Email,
    /// The account's opaque id: no personal data in the identity.
    UserId,
}

/// Parses the mail settings. `default_outbox` is the directory for mail files when
/// neither an SMTP server nor `CHATPASS_OUTBOX_DIR` is set.
pub fn parse_mail(
    get: &dyn Fn(&str) -> Option<String>,
    default_outbox: PathBuf,
) -> Result<MailSettings, ConfigError> {
    let transport = match get("CHATPASS_SMTP_URL") {
        Some(raw) => MailTransport::Smtp(parse_smtp_url(&raw)?),
        None => MailTransport::Files(get("CHATPASS_OUTBOX_DIR").map(PathBuf::from).unwrap_or(default_outbox)),
    };
    let from = match get("CHATPASS_MAIL_FROM") {
        Some(raw) => Mailbox::from_str(raw.trim()).map_err(|_| {
            ConfigError::new(
                "CHATPASS_MAIL_FROM",
                format!("{raw:?} is not a mailbox; expected an address like chat@example.com or \"Chat <chat@example.com>\""),
            )
        })?,
        None if matches!(transport, MailTransport::Smtp(_)) => {
            return Err(ConfigError::new(
                "CHATPASS_MAIL_FROM",
                "must be set when CHATPASS_SMTP_URL is: the address your mail service sends from",
            ))
        }
        None => Mailbox::from_str(DEFAULT_MAIL_FROM).map_err(|_| ConfigError::new("CHATPASS_MAIL_FROM", "default"))?,
    };
    let retry_after = match get("CHATPASS_MAIL_RETRY_SECS") {
        Some(raw) => parse_in_range("CHATPASS_MAIL_RETRY_SECS", &raw, 1, 3600)?,
        None => DEFAULT_MAIL_RETRY_SECS,
    };
    Ok(MailSettings { transport, from, retry_after: Duration::from_secs(retry_after) })
}

pub fn parse_accounts(get: &dyn Fn(&str) -> Option<String>) -> Result<AccountSettings, ConfigError> {
    let verification = match get("CHATPASS_EMAIL_VERIFICATION").as_deref().map(str::trim) {
        None | Some("required") => Verification::Required,
        Some("off") => Verification::Off,
        Some(other) => {
            return Err(ConfigError::new(
                "CHATPASS_EMAIL_VERIFICATION",
                format!("{other:?}: expected required or off"),
            ))
        }
    };
    let chat_identity = match get("CHATPASS_CHAT_IDENTITY").as_deref().map(str::trim) {
        None | Some("email") => ChatIdentity::Email,
        Some("user-id") => ChatIdentity::UserId,
        Some(other) => {
            return Err(ConfigError::new(
                "CHATPASS_CHAT_IDENTITY",
                format!("{other:?}: expected email or user-id"),
            ))
        }
    };
    Ok(AccountSettings { verification, chat_identity })
}

/// `smtp://[user:pass@]host[:port][?tls=required|none]` or `smtps://[user:pass@]host[:port]`.
/// `smtp://` means STARTTLS, required, except to a loopback host (`localhost`, 127.0.0.0/8,
/// `::1`: the mail never leaves the machine) or with `?tls=none`. Credentials are only ever
/// sent over TLS: with them, `tls=none` is refused.
fn parse_smtp_url(raw: &str) -> Result<SmtpSettings, ConfigError> {
    const VAR: &str = "CHATPASS_SMTP_URL";
    // The error never holds the URL itself: it may carry a password.
    let url = url::Url::parse(raw.trim()).map_err(|e| {
        ConfigError::new(VAR, format!("not a URL ({e}); expected smtp://host:port or smtps://user:pass@host"))
    })?;
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| ConfigError::new(VAR, "has no host; expected smtp://host:port"))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    // `smtp:` is not a scheme the URL standard knows, so its host is left as text.
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8().map(|c| c.into_owned());
    let credentials = match (url.username(), url.password()) {
        ("", None) => None,
        (user, Some(password)) if !user.is_empty() => {
            let user = decode(user).map_err(|_| ConfigError::new(VAR, "the user name is not UTF-8"))?;
            let password =
                decode(password).map_err(|_| ConfigError::new(VAR, "the password is not UTF-8"))?;
            Some((user, SecretString::from(password)))
        }
        _ => {
            return Err(ConfigError::new(
                VAR,
                "credentials need both a user and a password (smtp://user:pass@host)",
            ))
        }
    };
    let mut tls = None;
    for (key, value) in url.query_pairs() {
        match (&*key, &*value) {
            ("tls", "required") if tls.is_none() => tls = Some(SmtpSecurity::StartTls),
            ("tls", "none") if tls.is_none() => tls = Some(SmtpSecurity::Plain),
            _ => {
                return Err(ConfigError::new(
                    VAR,
                    format!("unknown option {key:?}; the one option is tls=required or tls=none, once"),
                ))
            }
        }
    }
    let security = match (url.scheme(), tls) {
        ("smtps", None | Some(SmtpSecurity::StartTls)) => SmtpSecurity::Tls,
        ("smtps", Some(_)) => {
            return Err(ConfigError::new(VAR, "smtps: is TLS from the first byte; tls=none contradicts it"))
        }
        ("smtp", Some(SmtpSecurity::Plain)) if credentials.is_some() => {
            return Err(ConfigError::new(
                VAR,
                "tls=none with a user and password would send them in clear; drop one or the other",
            ))
        }
        ("smtp", Some(chosen)) => chosen,
        ("smtp", None) if loopback && credentials.is_none() => SmtpSecurity::Plain,
        ("smtp", None) => SmtpSecurity::StartTls,
        (other, _) => {
            return Err(ConfigError::new(
                VAR,
                format!("unsupported scheme {other:?}; expected smtp: or smtps:"),
            ))
        }
    };
    let port = url.port().unwrap_or(match security {
        SmtpSecurity::Tls => 465,
        SmtpSecurity::StartTls => 587,
        SmtpSecurity::Plain => 25,
    });
    Ok(SmtpSettings { host, port, security, credentials })
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn smtp(raw: &str) -> Result<SmtpSettings, ConfigError> {
        parse_smtp_url(raw)
    }

    #[test]
    fn smtp_urls_pick_their_protection() {
        let plain = smtp("smtp://127.0.0.1:2525").unwrap();
        assert_eq!(
            (plain.host.as_str(), plain.port, plain.security),
            ("127.0.0.1", 2525, SmtpSecurity::Plain)
        );
        assert!(plain.credentials.is_none());
        let starttls = smtp("smtp://ann%40x:p%40ss@mail.example.com").unwrap();
        assert_eq!((starttls.port, starttls.security), (587, SmtpSecurity::StartTls));
        let (user, password) = starttls.credentials.unwrap();
        assert_eq!((user.as_str(), password.expose_secret()), ("ann@x", "p@ss"));
        assert_eq!(smtp("smtp://relay?tls=required").unwrap().security, SmtpSecurity::StartTls);
        let tls = smtp("smtps://u:p@mail.example.com").unwrap();
        assert_eq!((tls.port, tls.security), (465, SmtpSecurity::Tls));
    }

    #[test]
    fn smtp_beyond_loopback_needs_starttls_unless_told_otherwise() {
        let security = |raw: &str| smtp(raw).map(|s| (s.security, s.port)).unwrap();
        for beyond in [
            "smtp://mail.example.com",
            "smtp://10.0.0.5",
            "smtp://[2001:db8::1]",
            "smtp://localhost.evil.example",
        ] {
            assert_eq!(security(beyond), (SmtpSecurity::StartTls, 587), "{beyond}");
        }
        assert_eq!(security("smtp://mail.example.com:25"), (SmtpSecurity::StartTls, 25));
        assert_eq!(security("smtp://mail.example.com?tls=none"), (SmtpSecurity::Plain, 25));
        assert_eq!(security("smtp://relay.internal:2525?tls=none"), (SmtpSecurity::Plain, 2525));
        for loopback in
            ["smtp://127.0.0.1", "smtp://127.8.9.10", "smtp://localhost", "smtp://LocalHost", "smtp://[::1]"]
        {
            assert_eq!(security(loopback), (SmtpSecurity::Plain, 25), "{loopback}");
        }
        assert_eq!(security("smtp://localhost?tls=required"), (SmtpSecurity::StartTls, 587));
        assert_eq!(security("smtp://u:p@127.0.0.1"), (SmtpSecurity::StartTls, 587), "credentials: TLS");
        assert_eq!(security("smtps://mail.example.com?tls=required"), (SmtpSecurity::Tls, 465));
    }

    #[test]
    fn tls_none_is_refused_where_it_would_contradict_or_leak() {
        for bad in [
            "smtp://u:hunter2hunter2@mail.example.com?tls=none",
            "smtp://u:hunter2hunter2@127.0.0.1?tls=none",
            "smtps://mail.example.com?tls=none",
            "smtp://mail.example.com?tls=none&tls=required",
            "smtp://mail.example.com?tls=off",
        ] {
            let err = smtp(bad).unwrap_err();
            assert_eq!(err.var, "CHATPASS_SMTP_URL", "{bad}");
            assert!(!err.to_string().contains("hunter2hunter2"), "{err}");
        }
    }

    #[test]
    fn bad_smtp_urls_say_why_and_never_echo_the_password() {
        for bad in [
            "mail.example.com",
            "http://u:hunter2hunter2@mail.example.com",
            "smtp://u:hunter2hunter2@mail.example.com?tls=no",
            "smtp://:hunter2hunter2@mail.example.com",
            "smtp://",
        ] {
            let err = smtp(bad).unwrap_err();
            assert_eq!(err.var, "CHATPASS_SMTP_URL");
            assert!(!err.to_string().contains("hunter2hunter2"), "{err}");
        }
        let debug = format!("{:?}", smtp("smtps://u:hunter2hunter2@m.example.com").unwrap());
        assert!(!debug.contains("hunter2hunter2"), "{debug}");
    }

    #[test]
    fn mail_from_is_a_mailbox_and_required_with_smtp() {
        let get = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
        };
        let files = parse_mail(&get(&[]), PathBuf::from("data/outbox")).unwrap();
        assert!(matches!(files.transport, MailTransport::Files(ref d) if d == &PathBuf::from("data/outbox")));
        let err = parse_mail(&get(&[("CHATPASS_SMTP_URL", "smtp://localhost")]), PathBuf::new()).unwrap_err();
        assert_eq!(err.var, "CHATPASS_MAIL_FROM");
        let err = parse_mail(&get(&[("CHATPASS_MAIL_FROM", "not a mailbox")]), PathBuf::new()).unwrap_err();
        assert_eq!(err.var, "CHATPASS_MAIL_FROM");
        let ok = parse_mail(
            &get(&[
                ("CHATPASS_SMTP_URL", "smtp://localhost:2525"),
                ("CHATPASS_MAIL_FROM", "Chat <chat@example.com>"),
            ]),
            PathBuf::new(),
        )
        .unwrap();
        assert_eq!(ok.from.email.to_string(), "chat@example.com");
    }

    #[test]
    fn account_settings_take_two_words_each() {
        let none = |_: &str| None;
        assert_eq!(
            parse_accounts(&none).unwrap(),
            AccountSettings { verification: Verification::Required, chat_identity: ChatIdentity::Email }
        );
        let off = |k: &str| (k == "CHATPASS_EMAIL_VERIFICATION").then(|| "off".to_string());
        assert_eq!(parse_accounts(&off).unwrap().verification, Verification::Off);
        let bad = |k: &str| (k == "CHATPASS_CHAT_IDENTITY").then(|| "phone".to_string());
        assert_eq!(parse_accounts(&bad).unwrap_err().var, "CHATPASS_CHAT_IDENTITY");
    }
}
