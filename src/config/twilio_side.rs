//! The settings of Twilio's side of an account: where its REST API is, whether account
//! changes reach it (`CHATPASS_TWILIO_SYNC`), and the Auth Token its webhooks are signed with.

use secrecy::SecretString;

use super::parse::ConfigError;

/// Twilio's Conversations API in its US1 region, unless `CHATPASS_TWILIO_API_URL` or
/// `TWILIO_REGION` says otherwise.
pub const DEFAULT_API_URL: &str = "https://conversations.twilio.com";

/// The API's origin for the processing region the tokens name (`TWILIO_REGION`): an API
/// key lives in one region, and only that region's host lets it in. Twilio's hosts are
/// `{product}.{edge}.{region}.twilio.com`; IE1 and AU1 are the regions of their own
/// (edges dublin and sydney), the other legacy region ids are served by US1.
pub fn api_url_for_region(region: Option<&str>) -> String {
    match region {
        Some("ie1") => "https://conversations.dublin.ie1.twilio.com".to_string(),
        Some("au1") => "https://conversations.sydney.au1.twilio.com".to_string(),
        _ => DEFAULT_API_URL.to_string(),
    }
}

#[derive(Clone)]
pub struct TwilioSideSettings {
    /// `CHATPASS_TWILIO_API_URL`: the API's origin, without a trailing slash.
    pub api_url: String,
    /// `CHATPASS_TWILIO_SYNC`: whether account changes are sent to Twilio (live mode only).
    pub sync: bool,
    /// `TWILIO_AUTH_TOKEN`: what Twilio signs webhooks with; `None`: no webhook route.
    pub auth_token: Option<SecretString>,
}

impl std::fmt::Debug for TwilioSideSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioSideSettings")
            .field("api_url", &self.api_url)
            .field("sync", &self.sync)
            .field("auth_token", &self.auth_token.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// `get` returns a set, non-empty value. `live`: the four Twilio values are set; `region`:
/// `TWILIO_REGION`, parsed.
pub fn parse(
    get: &dyn Fn(&str) -> Option<String>,
    live: bool,
    region: Option<&str>,
) -> Result<TwilioSideSettings, ConfigError> {
    let api_url = get("CHATPASS_TWILIO_API_URL").map(|raw| parse_api_url(&raw)).transpose()?;
    let sync = match get("CHATPASS_TWILIO_SYNC").as_deref().map(str::trim) {
        None | Some("on") => live,
        Some("off") => false,
        Some(_) => return Err(ConfigError::new("CHATPASS_TWILIO_SYNC", "expected on or off")),
    };
    let auth_token = get("TWILIO_AUTH_TOKEN").map(|raw| parse_auth_token(&raw)).transpose()?;
    Ok(TwilioSideSettings {
        api_url: api_url.unwrap_or_else(|| api_url_for_region(region)),
        sync,
        auth_token,
    })
}

/// An https origin; plain http only to a loopback address (a stand-in, in tests).
fn parse_api_url(raw: &str) -> Result<String, ConfigError> {
    const VAR: &str = "CHATPASS_TWILIO_API_URL";
    let url = url::Url::parse(raw.trim()).map_err(|e| ConfigError::new(VAR, format!("is not a URL: {e}")))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" if url.host().is_some() => {}
        "http" if loopback => {}
        "http" => {
            return Err(ConfigError::new(VAR, "must be https:// (plain http only to a loopback address)"))
        }
        _ => return Err(ConfigError::new(VAR, "must be an https:// URL with a host")),
    }
    if !matches!(url.path(), "" | "/")
        || url.query().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(ConfigError::new(
            VAR,
            "must be an origin only (scheme, host, port), like https://conversations.twilio.com",
        ));
    }
    Ok(url.origin().ascii_serialization())
}

/// Twilio's Auth Tokens are 32 hex digits; anything else is a paste of something else.
fn parse_auth_token(raw: &str) -> Result<SecretString, ConfigError> {
    const VAR: &str = "TWILIO_AUTH_TOKEN";
    if raw.trim() != raw {
        return Err(ConfigError::new(VAR, "has surrounding whitespace; remove it"));
    }
    if raw.len() != 32 || !raw.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ConfigError::new(
            VAR,
            "expected 32 hex digits (the account's Auth Token, from the Twilio Console)",
        ));
    }
    Ok(SecretString::from(raw.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)], live: bool) -> Result<TwilioSideSettings, ConfigError> {
        let pairs: Vec<(String, String)> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        parse(&get, live, get("TWILIO_REGION").as_deref())
    }

    #[test]
    fn the_default_api_url_is_the_tokens_regions() {
        let url = |pairs: &[(&str, &str)]| settings(pairs, true).unwrap().api_url;
        assert_eq!(url(&[]), "https://conversations.twilio.com");
        assert_eq!(url(&[("TWILIO_REGION", "us1")]), "https://conversations.twilio.com");
        assert_eq!(url(&[("TWILIO_REGION", "ie1")]), "https://conversations.dublin.ie1.twilio.com");
        assert_eq!(url(&[("TWILIO_REGION", "au1")]), "https://conversations.sydney.au1.twilio.com");
        assert_eq!(url(&[("TWILIO_REGION", "de1")]), "https://conversations.twilio.com", "served by US1");
        let set = [("TWILIO_REGION", "ie1"), ("CHATPASS_TWILIO_API_URL", "https://proxy.example")];
        assert_eq!(url(&set), "https://proxy.example", "a URL set wins");
    }

    #[test]
    fn sync_is_on_in_live_mode_unless_turned_off_and_never_in_demo_mode() {
        assert!(settings(&[], true).unwrap().sync);
        assert!(!settings(&[("CHATPASS_TWILIO_SYNC", "off")], true).unwrap().sync);
        assert!(!settings(&[], false).unwrap().sync);
        assert!(!settings(&[("CHATPASS_TWILIO_SYNC", "on")], false).unwrap().sync);
        assert!(settings(&[("CHATPASS_TWILIO_SYNC", "yes")], true).is_err());
    }

    #[test]
    fn the_api_url_is_https_or_plain_http_to_loopback_only() {
        let url = |raw: &str| settings(&[("CHATPASS_TWILIO_API_URL", raw)], true).map(|s| s.api_url);
        assert_eq!(url("https://conversations.twilio.com/").unwrap(), "https://conversations.twilio.com");
        assert_eq!(url("http://127.0.0.1:4010").unwrap(), "http://127.0.0.1:4010");
        assert_eq!(url("http://[::1]:4010").unwrap(), "http://[::1]:4010");
        assert_eq!(url("http://localhost:4010").unwrap(), "http://localhost:4010");
        for bad in [
            "http://example.com",
            "ftp://127.0.0.1",
            "https://x.com/v1",
            "https://u:p@x.com",
            "nope",
            "https://x.com/?a=1",
        ] {
            let e = url(bad).unwrap_err().to_string();
            assert!(e.contains("CHATPASS_TWILIO_API_URL"), "{bad}: {e}");
        }
    }

    #[test]
    fn an_auth_token_is_32_hex_digits_and_never_echoed() {
        let token = |raw: &str| settings(&[("TWILIO_AUTH_TOKEN", raw)], true);
        assert!(token("0123456789abcdef0123456789ABCDEF").unwrap().auth_token.is_some());
        for bad in ["secret-not-hex-secret-not-hex-xx", "0123", " 0123456789abcdef0123456789abcdef"] {
            let e = token(bad).unwrap_err().to_string();
            assert!(e.contains("TWILIO_AUTH_TOKEN") && !e.contains(bad.trim()), "{e}");
        }
        let debug = format!("{:?}", token("0123456789abcdef0123456789abcdef").unwrap());
        assert!(!debug.contains("0123456789abcdef"), "{debug}");
    }
}
