//! Every setting, read once at start from the environment (and an optional `.env`),
//! parsed into typed values. A bad value is one [`ConfigError`] naming the variable.
//!
//! Parsing takes a lookup function instead of reading the process environment, so it
//! is pure and tests can feed it a table.

use std::{net::SocketAddr, path::PathBuf, str::FromStr, time::Duration};

pub mod cors;
mod database;
pub mod limits;
pub mod login;
pub mod mail;
mod parse;
pub mod proxies;
pub mod twilio;
pub mod twilio_side;

pub use cors::CorsOrigins;
pub use database::{parse_database_url, Database, DEFAULT_DATABASE_URL};
pub use limits::{Budget, LimitSettings};
pub use login::{LoginSettings, OidcSettings};
pub use mail::{
    AccountSettings, ChatIdentity, MailSettings, MailTransport, SmtpSecurity, SmtpSettings, Verification,
};
pub use parse::{parse_in_range, ConfigError};
pub use proxies::TrustedProxies;
pub use twilio::{TwilioAccount, TwilioMode, TwilioSettings};
pub use twilio_side::TwilioSideSettings;

/// The address served when `LEPTOS_SITE_ADDR` is not set.
pub const DEFAULT_SITE_ADDR: &str = "127.0.0.1:3000";
/// Where cargo-leptos puts the built site.
pub const DEFAULT_SITE_ROOT: &str = "target/site";

#[derive(Debug, Clone)]
pub struct Config {
    pub database: Database,
    pub site_addr: SocketAddr,
    pub site_root: String,
    /// The origin browsers see (`CHATPASS_PUBLIC_URL`), e.g. `https://chat.example.com`.
    /// Drives the cross-site check and `Secure` cookies. `None`: the request's own Host.
    pub public_origin: Option<String>,
    pub sessions: SessionSettings,
    pub limits: LimitSettings,
    /// The account tokens are signed for (or demo mode), their region and lifetime.
    pub twilio: TwilioSettings,
    /// Where mail goes and who it is from.
    pub mail: MailSettings,
    /// Whether emails must be proven, and what a chat identity is.
    pub accounts: AccountSettings,
    /// Proxies whose `X-Forwarded-For` names the client (`CHATPASS_TRUSTED_PROXIES`).
    pub trusted_proxies: TrustedProxies,
    /// Other web origins that may call the token routes (`CHATPASS_CORS_ORIGINS`); empty: none.
    pub cors_origins: CorsOrigins,
    /// How log lines are written (`CHATPASS_LOG_FORMAT`).
    pub log_format: LogFormat,
    /// Where `/metrics` is served (`CHATPASS_METRICS_ADDR`); `None`: no metrics.
    pub metrics_addr: Option<SocketAddr>,
    /// The ways in besides the password: an OpenID provider, an auth proxy's header.
    pub login: LoginSettings,
    /// Twilio's side of accounts: its REST API, whether changes reach it, webhook signatures.
    pub twilio_side: TwilioSideSettings,
}

/// `CHATPASS_LOG_FORMAT`: `text` (the default: one readable line per event) or `json` (one
/// JSON object per line, for log collectors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Session lifetimes. Idle: a session unused this long ends. Absolute: a login ends
/// this long after it began, however active.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionSettings {
    pub idle: Duration,
    pub absolute: Duration,
}

pub const DEFAULT_SESSION_IDLE_SECS: u64 = 7 * 24 * 3600;
pub const DEFAULT_SESSION_ABSOLUTE_SECS: u64 = 30 * 24 * 3600;
pub const DEFAULT_LOGIN_FAILURES_PER_ACCOUNT: u32 = 10;
pub const DEFAULT_LOGIN_FAILURES_PER_IP: u32 = 100;
pub const DEFAULT_SIGNUPS_PER_IP: u32 = 20;
pub const DEFAULT_RESENDS_PER_ACCOUNT: u32 = 5;
pub const DEFAULT_RESENDS_PER_IP: u32 = 20;
pub const DEFAULT_RESETS_PER_IP: u32 = 10;
pub const DEFAULT_DISPLAY_NAMES_PER_ACCOUNT: u32 = 30;
/// Window of the display-name budget.
pub const DISPLAY_NAME_WINDOW: Duration = Duration::from_secs(3600);
/// Window of the resend budgets.
pub const RESEND_WINDOW: Duration = Duration::from_secs(3600);
/// Window of the login-failure budgets.
pub const LOGIN_FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Window of the sign-up budget.
pub const SIGNUP_WINDOW: Duration = Duration::from_secs(3600);

/// Every setting chatpass reads (besides `RUST_LOG`), for the checks every value passes first.
pub const SETTINGS: &[&str] = &[
    "DATABASE_URL",
    "LEPTOS_SITE_ADDR",
    "LEPTOS_SITE_ROOT",
    "CHATPASS_PUBLIC_URL",
    "CHATPASS_SESSION_IDLE_SECS",
    "CHATPASS_SESSION_ABSOLUTE_SECS",
    "CHATPASS_LOGIN_FAILURES_PER_ACCOUNT",
    "CHATPASS_LOGIN_FAILURES_PER_IP",
    "CHATPASS_SIGNUPS_PER_IP",
    "CHATPASS_RESENDS_PER_ACCOUNT",
    "CHATPASS_RESENDS_PER_IP",
    "CHATPASS_RESETS_PER_IP",
    "CHATPASS_DISPLAY_NAMES_PER_ACCOUNT",
    "CHATPASS_EMAIL_VERIFICATION",
    "CHATPASS_CHAT_IDENTITY",
    "CHATPASS_SMTP_URL",
    "CHATPASS_MAIL_FROM",
    "CHATPASS_OUTBOX_DIR",
    "CHATPASS_MAIL_RETRY_SECS",
    "CHATPASS_TOKEN_TTL",
    "CHATPASS_TRUSTED_PROXIES",
    "CHATPASS_LOG_FORMAT",
    "CHATPASS_METRICS_ADDR",
    "CHATPASS_CORS_ORIGINS",
    "CHATPASS_OIDC_ISSUER",
    "CHATPASS_OIDC_CLIENT_ID",
    "CHATPASS_OIDC_CLIENT_SECRET",
    "CHATPASS_OIDC_NAME",
    "CHATPASS_OIDC_AUDIENCE",
    "CHATPASS_PASSWORD_LOGIN",
    "CHATPASS_TRUSTED_IDENTITY_HEADER",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_API_KEY",
    "TWILIO_API_SECRET",
    "TWILIO_CHAT_SERVICE_SID",
    "TWILIO_PUSH_CREDENTIAL_SID",
    "TWILIO_PUSH_CREDENTIALS",
    "TWILIO_REGION",
    "TWILIO_AUTH_TOKEN",
    "CHATPASS_TWILIO_API_URL",
    "CHATPASS_TWILIO_SYNC",
];

/// The longest value any setting may have.
const MAX_VALUE_BYTES: usize = 4096;

/// What every value must be before its own parser sees it: no control characters (a NUL,
/// a newline: nothing a setting needs, and trouble in a header, a path or a log line), and
/// not absurdly long. The value itself is never repeated in the message (it may be a secret).
fn check_value(var: &'static str, value: &str) -> Result<(), ConfigError> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(ConfigError::new(
            var,
            format!("is {} bytes long; at most {MAX_VALUE_BYTES}", value.len()),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(ConfigError::new(
            var,
            "contains a control character (a NUL, a newline, a tab…); remove it",
        ));
    }
    Ok(())
}

impl Config {
    /// Whether browsers reach this server over https (the public URL says so): the
    /// session cookie is then `Secure` and `__Host-`, and answers carry HSTS.
    pub fn is_https(&self) -> bool {
        self.public_origin.as_deref().is_some_and(|o| o.starts_with("https://"))
    }

    /// Reads the process environment (after loading `.env`, which the caller does). A
    /// setting whose value is not UTF-8 is refused, not ignored.
    pub fn from_env() -> Result<Self, ConfigError> {
        for var in SETTINGS {
            if let Some(value) = std::env::var_os(var) {
                if value.to_str().is_none() {
                    return Err(ConfigError::new(var, "is not valid UTF-8"));
                }
            }
        }
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Parses settings from any lookup; an empty value counts as unset.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        for var in SETTINGS {
            if let Some(value) = get(var) {
                check_value(var, &value)?;
            }
        }
        let twilio = twilio::parse(&|name| get(name))?;
        let get = |name: &str| get(name).filter(|v| !v.is_empty());
        let database =
            parse_database_url(&get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string()))?;
        let site_addr =
            parse_site_addr(&get("LEPTOS_SITE_ADDR").unwrap_or_else(|| DEFAULT_SITE_ADDR.to_string()))?;
        let site_root = get("LEPTOS_SITE_ROOT").unwrap_or_else(|| DEFAULT_SITE_ROOT.to_string());
        let public_origin = get("CHATPASS_PUBLIC_URL").map(|raw| parse_public_url(&raw)).transpose()?;
        if !site_addr.ip().is_loopback() && public_origin.is_none() {
            // Reachable from other machines, the server must not trust a request's Host
            // header for what its own origin is (cookies, the cross-site check, mail links).
            return Err(ConfigError::new(
                "LEPTOS_SITE_ADDR",
                format!(
                    "{site_addr} is reachable from other machines, so CHATPASS_PUBLIC_URL must say \
                     which origin browsers use (for example https://chat.example.com)"
                ),
            ));
        }
        let number = |var: &'static str, default: u64, min: u64, max: u64| -> Result<u64, ConfigError> {
            match get(var) {
                None => Ok(default),
                Some(raw) => parse_in_range(var, &raw, min, max),
            }
        };
        let sessions = SessionSettings {
            idle: Duration::from_secs(number(
                "CHATPASS_SESSION_IDLE_SECS",
                DEFAULT_SESSION_IDLE_SECS,
                60,
                365 * 86400,
            )?),
            absolute: Duration::from_secs(number(
                "CHATPASS_SESSION_ABSOLUTE_SECS",
                DEFAULT_SESSION_ABSOLUTE_SECS,
                60,
                365 * 86400,
            )?),
        };
        let budget = |var, default, window| -> Result<Budget, ConfigError> {
            Ok(Budget { count: number(var, u64::from(default), 1, 1_000_000)? as u32, window })
        };
        let limits = LimitSettings {
            login_failures_per_account: budget(
                "CHATPASS_LOGIN_FAILURES_PER_ACCOUNT",
                DEFAULT_LOGIN_FAILURES_PER_ACCOUNT,
                LOGIN_FAILURE_WINDOW,
            )?,
            login_failures_per_ip: budget(
                "CHATPASS_LOGIN_FAILURES_PER_IP",
                DEFAULT_LOGIN_FAILURES_PER_IP,
                LOGIN_FAILURE_WINDOW,
            )?,
            signups_per_ip: budget("CHATPASS_SIGNUPS_PER_IP", DEFAULT_SIGNUPS_PER_IP, SIGNUP_WINDOW)?,
            resends_per_account: budget(
                "CHATPASS_RESENDS_PER_ACCOUNT",
                DEFAULT_RESENDS_PER_ACCOUNT,
                RESEND_WINDOW,
            )?,
            resends_per_ip: budget("CHATPASS_RESENDS_PER_IP", DEFAULT_RESENDS_PER_IP, RESEND_WINDOW)?,
            resets_per_ip: budget("CHATPASS_RESETS_PER_IP", DEFAULT_RESETS_PER_IP, RESEND_WINDOW)?,
            display_names_per_account: budget(
                "CHATPASS_DISPLAY_NAMES_PER_ACCOUNT",
                DEFAULT_DISPLAY_NAMES_PER_ACCOUNT,
                DISPLAY_NAME_WINDOW,
            )?,
        };
        let default_outbox = match &database {
            Database::Sqlite { file: Some(file), .. } => {
                file.parent().map(|dir| dir.join("outbox")).unwrap_or_else(|| PathBuf::from("outbox"))
            }
            _ => PathBuf::from("data/outbox"),
        };
        let mail = mail::parse_mail(&get, default_outbox)?;
        let accounts = mail::parse_accounts(&get)?;
        let trusted_proxies = match get("CHATPASS_TRUSTED_PROXIES") {
            Some(raw) => TrustedProxies::parse("CHATPASS_TRUSTED_PROXIES", &raw)?,
            None => TrustedProxies::default(),
        };
        let login = login::parse(&get, &trusted_proxies)?;
        let cors_origins =
            get("CHATPASS_CORS_ORIGINS").map(|raw| CorsOrigins::parse(&raw)).transpose()?.unwrap_or_default();
        let log_format = match get("CHATPASS_LOG_FORMAT").as_deref().map(str::trim) {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(_) => return Err(ConfigError::new("CHATPASS_LOG_FORMAT", "expected text or json")),
        };
        let twilio_side = twilio_side::parse(&get, twilio.account().is_some(), twilio.region.as_deref())?;
        let metrics_addr =
            get("CHATPASS_METRICS_ADDR").map(|raw| parse_metrics_addr(&raw, site_addr)).transpose()?;
        Ok(Self {
            database,
            site_addr,
            site_root,
            public_origin,
            sessions,
            limits,
            twilio,
            mail,
            accounts,
            trusted_proxies,
            cors_origins,
            login,
            log_format,
            metrics_addr,
            twilio_side,
        })
    }
}

/// `CHATPASS_PUBLIC_URL`: an http(s) URL; kept as its origin, `scheme://host[:port]`.
fn parse_public_url(raw: &str) -> Result<String, ConfigError> {
    const VAR: &str = "CHATPASS_PUBLIC_URL";
    let url = url::Url::parse(raw.trim())
        .map_err(|e| ConfigError::new(VAR, format!("{raw:?} is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(ConfigError::new(VAR, "must be an http:// or https:// URL with a host"));
    }
    Ok(url.origin().ascii_serialization())
}

/// `CHATPASS_METRICS_ADDR`: a listen address of its own, never the site's.
fn parse_metrics_addr(raw: &str, site: SocketAddr) -> Result<SocketAddr, ConfigError> {
    const VAR: &str = "CHATPASS_METRICS_ADDR";
    let addr = SocketAddr::from_str(raw.trim())
        .map_err(|_| ConfigError::new(VAR, "is not an address with a port, like 127.0.0.1:9100"))?;
    let same_ip = addr.ip() == site.ip() || addr.ip().is_unspecified() || site.ip().is_unspecified();
    if addr.port() != 0 && addr.port() == site.port() && same_ip {
        return Err(ConfigError::new(
            VAR,
            format!(
                "{addr} is the site's own address (LEPTOS_SITE_ADDR); metrics need a listener of their own"
            ),
        ));
    }
    Ok(addr)
}

fn parse_site_addr(raw: &str) -> Result<SocketAddr, ConfigError> {
    SocketAddr::from_str(raw.trim()).map_err(|_| {
        ConfigError::new(
            "LEPTOS_SITE_ADDR",
            format!("{raw:?} is not an address with a port, like 127.0.0.1:3000"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let env: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| env.get(k).cloned())
    }

    #[test]
    fn defaults_are_a_sqlite_file_under_data_and_port_3000() {
        let config = parse(&[]).unwrap();
        assert_eq!(config.site_addr, "127.0.0.1:3000".parse().unwrap());
        let Database::Sqlite { file, .. } = config.database else { panic!("not sqlite") };
        assert_eq!(file.unwrap(), PathBuf::from("data/chatpass.db"));
    }

    #[test]
    fn bad_values_name_their_variable() {
        let err = parse(&[("LEPTOS_SITE_ADDR", "not-an-address")]).unwrap_err();
        assert_eq!(err.var, "LEPTOS_SITE_ADDR");
        let err = parse(&[("DATABASE_URL", "mysql://localhost/db")]).unwrap_err();
        assert_eq!(err.var, "DATABASE_URL");
        assert!(err.to_string().contains("\"mysql\""), "{err}");
        let err = parse(&[("DATABASE_URL", "data/chatpass.db")]).unwrap_err();
        assert_eq!(err.var, "DATABASE_URL");
    }

    #[test]
    fn public_url_becomes_an_origin_and_numbers_are_range_checked() {
        let config = parse(&[("CHATPASS_PUBLIC_URL", "https://Chat.Example.com/app/")]).unwrap();
        assert_eq!(config.public_origin.as_deref(), Some("https://chat.example.com"));
        assert!(config.is_https());
        assert!(!parse(&[("CHATPASS_PUBLIC_URL", "http://chat.example.com")]).unwrap().is_https());
        assert!(!parse(&[]).unwrap().is_https(), "no public URL: the request's own scheme, not https");
        assert_eq!(parse(&[("CHATPASS_PUBLIC_URL", "ftp://x")]).unwrap_err().var, "CHATPASS_PUBLIC_URL");
        assert_eq!(
            parse(&[("CHATPASS_SESSION_IDLE_SECS", "5")]).unwrap_err().var,
            "CHATPASS_SESSION_IDLE_SECS"
        );
        assert_eq!(parse(&[("CHATPASS_SIGNUPS_PER_IP", "many")]).unwrap_err().var, "CHATPASS_SIGNUPS_PER_IP");
        assert_eq!(parse(&[("CHATPASS_RESETS_PER_IP", "0")]).unwrap_err().var, "CHATPASS_RESETS_PER_IP");
    }

    #[test]
    fn the_metrics_address_is_never_the_sites() {
        assert_eq!(parse(&[]).unwrap().metrics_addr, None);
        let ok = parse(&[("CHATPASS_METRICS_ADDR", "127.0.0.1:9100")]).unwrap();
        assert_eq!(ok.metrics_addr, Some("127.0.0.1:9100".parse().unwrap()));
        for same in ["127.0.0.1:3000", "0.0.0.0:3000"] {
            let error = parse(&[("CHATPASS_METRICS_ADDR", same)]).unwrap_err();
            assert_eq!(error.var, "CHATPASS_METRICS_ADDR", "{same}");
        }
        assert_eq!(parse(&[("CHATPASS_METRICS_ADDR", "metrics")]).unwrap_err().var, "CHATPASS_METRICS_ADDR");
    }

    #[test]
    fn a_listen_address_beyond_loopback_needs_a_public_url() {
        for addr in ["0.0.0.0:3000", "[::]:3000", "192.0.2.10:3000"] {
            let error = parse(&[("LEPTOS_SITE_ADDR", addr)]).unwrap_err();
            assert_eq!(error.var, "LEPTOS_SITE_ADDR");
            assert!(error.to_string().contains("CHATPASS_PUBLIC_URL"), "{error}");
            let with_url =
                parse(&[("LEPTOS_SITE_ADDR", addr), ("CHATPASS_PUBLIC_URL", "https://chat.example.com")]);
            assert!(with_url.is_ok(), "{addr}");
        }
        for addr in ["127.0.0.1:3000", "[::1]:3000", "127.0.0.2:0"] {
            assert!(parse(&[("LEPTOS_SITE_ADDR", addr)]).is_ok(), "{addr}");
        }
    }

    #[test]
    fn every_setting_refuses_a_nul_and_a_huge_value_by_name_and_never_panics_on_any() {
        let huge = "7".repeat(10 * 1024);
        for var in SETTINGS {
            for bad in ["a\0b", "line\nbreak", huge.as_str()] {
                let error = parse(&[(var, bad)]).unwrap_err();
                assert_eq!(error.var, *var, "{var} = {:?}…", &bad[..bad.len().min(12)]);
                assert!(!error.to_string().contains(bad), "the value is not repeated");
            }
            // Non-ASCII: whatever the answer, no panic, and an error names a setting.
            for odd in ["€C0123456789abcdef0123456789abcdef", "ünïcödé", "\u{202e}x", "日本"] {
                if let Err(error) = parse(&[(var, odd)]) {
                    assert!(SETTINGS.contains(&error.var), "{var}: {error}");
                }
            }
        }
    }

    #[test]
    fn cors_origins_are_none_by_default_and_parsed_when_set() {
        assert!(parse(&[]).unwrap().cors_origins.is_empty());
        assert!(parse(&[("CHATPASS_CORS_ORIGINS", "")]).unwrap().cors_origins.is_empty());
        let config = parse(&[("CHATPASS_CORS_ORIGINS", "HTTPS://App.Example.com:443")]).unwrap();
        assert_eq!(config.cors_origins.to_vec(), ["https://app.example.com"]);
        let error = parse(&[("CHATPASS_CORS_ORIGINS", "https://*.example.com")]).unwrap_err();
        assert_eq!(error.var, "CHATPASS_CORS_ORIGINS");
    }

    #[test]
    fn memory_database_has_no_file() {
        let config = parse(&[("DATABASE_URL", "sqlite::memory:")]).unwrap();
        let Database::Sqlite { file, .. } = config.database else { panic!("not sqlite") };
        assert!(file.is_none());
    }

    #[test]
    fn postgres_urls_select_postgres_and_keep_the_password_out_of_debug_and_errors() {
        for url in [
            "postgres://app:s3cret-pw@db.internal:6543/chat",
            "postgresql://app:s3cret-pw@db.internal:6543/chat",
        ] {
            let config = parse(&[("DATABASE_URL", url)]).unwrap();
            let Database::Postgres(options) = &config.database else { panic!("not postgres") };
            assert_eq!(options.get_host(), "db.internal");
            assert_eq!(options.get_port(), 6543);
            assert_eq!(options.get_database(), Some("chat"));
            let debug = format!("{config:?}");
            assert!(debug.contains("db.internal") && !debug.contains("s3cret-pw"), "{debug}");
        }
        let err =
            parse(&[("DATABASE_URL", "postgres://app:s3cret-pw@db.internal:notaport/chat")]).unwrap_err();
        assert_eq!(err.var, "DATABASE_URL");
        assert!(!err.to_string().contains("s3cret-pw"), "{err}");
        let err =
            parse(&[("DATABASE_URL", "postgres://app:s3cret-pw@db/chat?sslmode=sometimes")]).unwrap_err();
        assert_eq!(err.var, "DATABASE_URL");
        assert!(!err.to_string().contains("s3cret-pw"), "{err}");
    }
}
