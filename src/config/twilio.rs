//! The Twilio settings: all four account values, or none (demo mode), plus the token's
//! region, lifetime and push credentials. Each SID is checked for its prefix and 32 hex
//! digits; the secret is never echoed in an error.

use secrecy::{ExposeSecret, SecretString};

use super::parse::{parse_in_range, ConfigError};

/// Everything a chat token is made from: whose account signs it, where, for how long.
#[derive(Debug, Clone)]
pub struct TwilioSettings {
    pub mode: TwilioMode,
    /// `TWILIO_REGION` (`twr` in the token header), when set.
    pub region: Option<String>,
    /// `CHATPASS_TOKEN_TTL`: token lifetime in seconds, 180..=86400.
    pub ttl: u32,
}

/// Live (a real Twilio account) or demo (none configured: tokens Twilio will refuse).
#[derive(Debug, Clone)]
pub enum TwilioMode {
    Live(TwilioAccount),
    Demo,
}

impl TwilioSettings {
    /// The configured account, when live.
    pub fn account(&self) -> Option<&TwilioAccount> {
        match &self.mode {
            TwilioMode::Live(account) => Some(account),
            TwilioMode::Demo => None,
        }
    }
}

/// Real Twilio credentials. `Debug` hides the secret.
#[derive(Clone)]
pub struct TwilioAccount {
    pub account_sid: String,
    pub api_key_sid: String,
    pub api_secret: SecretString,
    pub chat_service_sid: String,
    /// `TWILIO_PUSH_CREDENTIAL_SID`: the push credential of `web` (and of no platform).
    pub push_credential_sid: Option<String>,
    /// `TWILIO_PUSH_CREDENTIALS`: each named platform's push credential, in the order given.
    pub push_credentials: Vec<(String, String)>,
}

impl std::fmt::Debug for TwilioAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioAccount")
            .field("account_sid", &self.account_sid)
            .field("api_key_sid", &self.api_key_sid)
            .field("api_secret", &"[redacted]")
            .field("chat_service_sid", &self.chat_service_sid)
            .field("push_credential_sid", &self.push_credential_sid)
            .field("push_credentials", &self.push_credentials)
            .finish()
    }
}

impl TwilioAccount {
    pub fn secret(&self) -> &str {
        self.api_secret.expose_secret()
    }
}

pub const TTL_MIN: u32 = 180;
pub const TTL_MAX: u32 = 86_400;
pub const TTL_DEFAULT: u32 = 3600;

const REQUIRED: [&str; 4] =
    ["TWILIO_ACCOUNT_SID", "TWILIO_API_KEY", "TWILIO_API_SECRET", "TWILIO_CHAT_SERVICE_SID"];

/// What a SID of another kind is, to name the likely mix-up.
fn kind_of(prefix: &str) -> &'static str {
    match prefix {
        "AC" => "an account SID",
        "SK" => "an API key SID",
        "IS" => "a Conversations/Chat service SID",
        "MG" => "a Messaging Service SID",
        "CR" => "a push credential SID",
        "PN" => "a phone number SID",
        "US" => "a user SID",
        _ => "not a Twilio SID",
    }
}

/// `raw` must be `prefix` followed by 32 hex digits, with nothing around it.
pub fn parse_sid(var: &'static str, raw: &str, prefix: &str) -> Result<String, ConfigError> {
    if raw.trim() != raw {
        return Err(ConfigError::new(var, "has surrounding whitespace; remove it"));
    }
    // The first two characters, not bytes: a non-ASCII first character is an answer, not a panic.
    let head_len = raw.char_indices().nth(2).map_or(raw.len(), |(at, _)| at);
    let (head, rest) = raw.split_at(head_len);
    if head != prefix {
        let what = kind_of(head);
        return Err(ConfigError::new(
            var,
            format!("starts with {head:?} ({what}); expected {prefix} followed by 32 hex digits"),
        ));
    }
    if rest.len() != 32 || !rest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ConfigError::new(var, format!("expected {prefix} followed by 32 hex digits")));
    }
    Ok(raw.to_string())
}

/// Reads the account (all four values or none), region and token lifetime.
/// `get` returns the raw value, `Some("")` when set but empty.
pub fn parse(get: &dyn Fn(&str) -> Option<String>) -> Result<TwilioSettings, ConfigError> {
    let account = parse_account(get)?;
    let set = |name: &str| get(name).filter(|v| !v.is_empty());
    let region = set("TWILIO_REGION").map(|r| parse_region(&r)).transpose()?;
    let ttl = set("CHATPASS_TOKEN_TTL").map(|t| parse_ttl(&t)).transpose()?.unwrap_or(TTL_DEFAULT);
    let mode = account.map_or(TwilioMode::Demo, TwilioMode::Live);
    Ok(TwilioSettings { mode, region, ttl })
}

/// The four account values (all or none), plus the optional push credential.
fn parse_account(get: &dyn Fn(&str) -> Option<String>) -> Result<Option<TwilioAccount>, ConfigError> {
    let values: Vec<Option<String>> = REQUIRED.iter().map(|v| get(v)).collect();
    let set = values.iter().filter(|v| v.as_deref().is_some_and(|s| !s.is_empty())).count();
    if set == 0 {
        if let Some(var) = ["TWILIO_PUSH_CREDENTIAL_SID", "TWILIO_PUSH_CREDENTIALS"]
            .into_iter()
            .find(|v| get(v).is_some_and(|s| !s.is_empty()))
        {
            return Err(ConfigError::new(var, "is set but the four Twilio values are not"));
        }
        return Ok(None);
    }
    for (var, value) in REQUIRED.iter().zip(&values) {
        match value.as_deref() {
            None => {
                return Err(ConfigError::new(
                    var,
                    "is missing: set all four Twilio values, or none of them for demo mode",
                ))
            }
            Some("") => return Err(ConfigError::new(var, "is empty")),
            Some(_) => {}
        }
    }
    let value = |i: usize| values[i].clone().unwrap_or_default();
    let account_sid = parse_sid("TWILIO_ACCOUNT_SID", &value(0), "AC")?;
    let api_key_sid = parse_sid("TWILIO_API_KEY", &value(1), "SK")?;
    let secret = value(2);
    if secret.trim() != secret {
        return Err(ConfigError::new("TWILIO_API_SECRET", "has surrounding whitespace; remove it"));
    }
    let chat_service_sid = parse_sid("TWILIO_CHAT_SERVICE_SID", &value(3), "IS")?;
    let push_credential_sid = get("TWILIO_PUSH_CREDENTIAL_SID")
        .filter(|s| !s.is_empty())
        .map(|raw| parse_sid("TWILIO_PUSH_CREDENTIAL_SID", &raw, "CR"))
        .transpose()?;
    let push_credentials = get("TWILIO_PUSH_CREDENTIALS")
        .map(|raw| parse_push_credentials(&raw))
        .transpose()?
        .unwrap_or_default();
    Ok(Some(TwilioAccount {
        account_sid,
        api_key_sid,
        api_secret: SecretString::from(secret),
        chat_service_sid,
        push_credential_sid,
        push_credentials,
    }))
}

/// The longest platform name (the same bound as `domain::Platform`, which requests are parsed into).
pub const PLATFORM_NAME_MAX: usize = 32;

/// `TWILIO_PUSH_CREDENTIALS`: `name=CR…` pairs separated by commas (`ios=CR…,android=CR…`),
/// each name 1–32 of `a-z`, `0-9`, `-`, once. Empty: none.
pub fn parse_push_credentials(raw: &str) -> Result<Vec<(String, String)>, ConfigError> {
    const VAR: &str = "TWILIO_PUSH_CREDENTIALS";
    if raw.is_empty() {
        return Ok(Vec::new());
    }
    if raw.chars().any(char::is_whitespace) {
        return Err(ConfigError::new(VAR, "contains whitespace; write name=CR…,name=CR… without spaces"));
    }
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (at, entry) in raw.split(',').enumerate() {
        let n = at + 1;
        if entry.is_empty() {
            return Err(ConfigError::new(VAR, format!("entry {n} is empty; remove the extra comma")));
        }
        let Some((name, sid)) = entry.split_once('=') else {
            return Err(ConfigError::new(VAR, format!("entry {n} has no `=`; write name=CR…")));
        };
        let name_ok = (1..=PLATFORM_NAME_MAX).contains(&name.len())
            && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !name_ok {
            return Err(ConfigError::new(
                VAR,
                format!("entry {n}'s name must be 1-{PLATFORM_NAME_MAX} of a-z, 0-9 and -"),
            ));
        }
        if name == "web" {
            return Err(ConfigError::new(
                VAR,
                "cannot name web: web's push credential is TWILIO_PUSH_CREDENTIAL_SID; set it there",
            ));
        }
        if pairs.iter().any(|(seen, _)| seen == name) {
            return Err(ConfigError::new(VAR, format!("names {name} twice")));
        }
        // The SID's own message, under this variable and naming the platform.
        let sid =
            parse_sid(VAR, sid, "CR").map_err(|e| ConfigError::new(VAR, format!("{name}: {}", e.reason)))?;
        pairs.push((name.to_string(), sid));
    }
    Ok(pairs)
}

/// `TWILIO_REGION`: a Twilio region code such as `us1`, `ie1`, `au1`.
pub fn parse_region(raw: &str) -> Result<String, ConfigError> {
    let ok = raw.len() >= 3
        && raw.len() <= 8
        && raw.bytes().take(2).all(|b| b.is_ascii_lowercase())
        && raw.bytes().skip(2).all(|b| b.is_ascii_digit() || b.is_ascii_lowercase());
    if !ok {
        return Err(ConfigError::new(
            "TWILIO_REGION",
            format!("{raw:?} is not a Twilio region like us1, ie1 or au1"),
        ));
    }
    Ok(raw.to_string())
}

/// `CHATPASS_TOKEN_TTL`: whole seconds in 180..=86400.
pub fn parse_ttl(raw: &str) -> Result<u32, ConfigError> {
    parse_in_range("CHATPASS_TOKEN_TTL", raw.trim(), u64::from(TTL_MIN), u64::from(TTL_MAX)).map(|v| v as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const AC: &str = "AC0123456789abcdef0123456789abcdef";
    const SK: &str = "SK0123456789abcdef0123456789abcdef";
    const IS: &str = "IS0123456789abcdef0123456789abcdef";
    const SECRET: &str = "my-very-private-secret-value";

    fn run(pairs: &[(&str, &str)]) -> Result<Option<TwilioAccount>, ConfigError> {
        let env: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        parse(&|k| env.get(k).cloned()).map(|s| s.account().cloned())
    }

    fn full(overrides: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
        let mut v = vec![
            ("TWILIO_ACCOUNT_SID", AC),
            ("TWILIO_API_KEY", SK),
            ("TWILIO_API_SECRET", SECRET),
            ("TWILIO_CHAT_SERVICE_SID", IS),
        ];
        for (k, val) in overrides {
            v.retain(|(key, _)| key != k);
            v.push((k, val));
        }
        v
    }

    fn err(pairs: &[(&str, &str)]) -> ConfigError {
        let e = run(pairs).unwrap_err();
        assert!(!e.to_string().contains(SECRET), "never echoes the secret: {e}");
        e
    }

    #[test]
    fn none_is_demo_and_all_four_is_live() {
        assert!(run(&[]).unwrap().is_none());
        let live = run(&full(&[])).unwrap().unwrap();
        assert_eq!(live.account_sid, AC);
        assert!(!format!("{live:?}").contains(SECRET));
    }

    #[test]
    fn mix_ups_name_the_variable() {
        let e = err(&full(&[("TWILIO_CHAT_SERVICE_SID", "MG0123456789abcdef0123456789abcdef")]));
        assert_eq!(e.var, "TWILIO_CHAT_SERVICE_SID");
        assert!(e.reason.contains("Messaging Service"), "{e}");
        let e = err(&full(&[("TWILIO_ACCOUNT_SID", SK), ("TWILIO_API_KEY", AC)]));
        assert_eq!(e.var, "TWILIO_ACCOUNT_SID");
        assert!(e.reason.contains("API key"), "{e}");
        let e = err(&full(&[("TWILIO_ACCOUNT_SID", " AC0123456789abcdef0123456789abcdef")]));
        assert!(e.reason.contains("whitespace"));
        let e = err(&full(&[("TWILIO_API_SECRET", "my-very-private-secret-value\n")]));
        assert_eq!(e.var, "TWILIO_API_SECRET");
        let e = err(&full(&[("TWILIO_API_SECRET", "")]));
        assert_eq!((e.var, e.reason.as_str()), ("TWILIO_API_SECRET", "is empty"));
        let e = err(&[("TWILIO_ACCOUNT_SID", AC)]);
        assert_eq!(e.var, "TWILIO_API_KEY");
        let e = err(&full(&[("TWILIO_API_KEY", "SK123")]));
        assert_eq!(e.var, "TWILIO_API_KEY");
        let e = err(&full(&[("TWILIO_PUSH_CREDENTIAL_SID", "XX0123456789abcdef0123456789abcdef")]));
        assert_eq!(e.var, "TWILIO_PUSH_CREDENTIAL_SID");
    }

    const CR1: &str = "CR0123456789abcdef0123456789abcdef";
    const CR2: &str = "CRfedcba9876543210fedcba9876543210";

    #[test]
    fn push_credentials_are_named_platforms_each_with_a_credential_sid() {
        let three = "ios=CR0123456789abcdef0123456789abcdef,ios-sandbox=CRfedcba9876543210fedcba9876543210,\
                     android=CR0123456789abcdef0123456789abcdef";
        let live = run(&full(&[("TWILIO_PUSH_CREDENTIALS", three)])).unwrap().unwrap();
        let names: Vec<&str> = live.push_credentials.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["ios", "ios-sandbox", "android"]);
        assert_eq!(live.push_credentials[1].1, CR2);
        assert!(run(&full(&[])).unwrap().unwrap().push_credentials.is_empty());
        assert!(run(&full(&[("TWILIO_PUSH_CREDENTIALS", "")])).unwrap().unwrap().push_credentials.is_empty());
        let longest = format!("{}={CR1}", "a".repeat(32));
        assert_eq!(parse_push_credentials(&longest).unwrap()[0].0.len(), 32);
    }

    #[test]
    fn bad_push_credentials_name_the_variable_and_say_why() {
        let cases = [
            (format!("ios={CR1},ios={CR2}"), "twice"),
            (format!("ios={CR1},,android={CR2}"), "empty"),
            (format!("ios={CR1},"), "empty"),
            (format!(",ios={CR1}"), "empty"),
            (format!("ios{CR1}"), "no `=`"),
            (format!("web={CR1}"), "TWILIO_PUSH_CREDENTIAL_SID"),
            (format!("ios= {CR1}"), "whitespace"),
            (format!("ios={CR1}, android={CR2}"), "whitespace"),
            (format!("iOS={CR1}"), "a-z"),
            (format!("={CR1}"), "a-z"),
            (format!("{}={CR1}", "a".repeat(33)), "a-z"),
            (format!("ios_dev={CR1}"), "a-z"),
            (format!("ïos={CR1}"), "a-z"),
            ("ios=CR123".to_string(), "32 hex"),
            ("ios=".to_string(), "32 hex"),
            ("ios=IS0123456789abcdef0123456789abcdef".to_string(), "Conversations"),
            (format!("ios={CR1}=x"), "32 hex"),
        ];
        for (raw, why) in cases {
            let e = parse_push_credentials(&raw).unwrap_err();
            assert_eq!(e.var, "TWILIO_PUSH_CREDENTIALS", "{raw}");
            assert!(e.reason.contains(why), "{raw}: {e}");
        }
        // Through the whole parser too, and in demo mode it is an error like the one SID.
        let e = err(&full(&[("TWILIO_PUSH_CREDENTIALS", "web=CR0123456789abcdef0123456789abcdef")]));
        assert_eq!(e.var, "TWILIO_PUSH_CREDENTIALS");
        let e = err(&[("TWILIO_PUSH_CREDENTIALS", "ios=CR0123456789abcdef0123456789abcdef")]);
        assert_eq!(
            (e.var, e.reason.as_str()),
            ("TWILIO_PUSH_CREDENTIALS", "is set but the four Twilio values are not")
        );
    }

    #[test]
    fn a_non_ascii_secret_is_fine() {
        let live = run(&full(&[("TWILIO_API_SECRET", "sécret-clé-🔑")])).unwrap().unwrap();
        assert_eq!(live.secret(), "sécret-clé-🔑");
    }

    #[test]
    fn region_and_ttl_belong_to_the_settings_in_both_modes() {
        let env: HashMap<&str, &str> = [("TWILIO_REGION", "ie1"), ("CHATPASS_TOKEN_TTL", "600")].into();
        let demo = parse(&|k| env.get(k).map(|v| v.to_string())).unwrap();
        assert!(matches!(demo.mode, TwilioMode::Demo));
        assert_eq!((demo.region.as_deref(), demo.ttl), (Some("ie1"), 600));
        let defaults = parse(&|_| None).unwrap();
        assert_eq!((defaults.region, defaults.ttl), (None, TTL_DEFAULT));
        let e = parse(&|k| (k == "CHATPASS_TOKEN_TTL").then(|| "10".to_string())).unwrap_err();
        assert_eq!(e.var, "CHATPASS_TOKEN_TTL");
    }

    #[test]
    fn ttl_bounds() {
        for bad in ["0", "179", "86401", "-5", "abc", "3600.5", ""] {
            assert_eq!(parse_ttl(bad).unwrap_err().var, "CHATPASS_TOKEN_TTL", "{bad:?}");
        }
        assert_eq!(parse_ttl("180").unwrap(), 180);
        assert_eq!(parse_ttl("86400").unwrap(), 86400);
    }

    #[test]
    fn regions() {
        assert_eq!(parse_region("ie1").unwrap(), "ie1");
        assert!(parse_region("IE1").is_err());
        assert!(parse_region("x").is_err());
    }
}
