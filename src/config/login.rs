//! The ways in besides chatpass's own password: the team's OpenID Connect provider
//! (`CHATPASS_OIDC_*`), an auth proxy's identity header (`CHATPASS_TRUSTED_IDENTITY_HEADER`),
//! and whether the password forms stay (`CHATPASS_PASSWORD_LOGIN`).

use secrecy::{ExposeSecret, SecretString};

use super::{parse::ConfigError, proxies::TrustedProxies};

/// The provider chatpass signs people in with. `Debug` hides the client secret.
#[derive(Clone)]
pub struct OidcSettings {
    /// `CHATPASS_OIDC_ISSUER`, exactly as the provider's discovery document names it.
    pub issuer: String,
    pub client_id: String,
    client_secret: SecretString,
    /// The button's label (`CHATPASS_OIDC_NAME`, e.g. "Acme SSO").
    pub name: String,
    /// What an access token's `aud` must contain (`CHATPASS_OIDC_AUDIENCE`; default the client id).
    pub audience: String,
}

impl OidcSettings {
    pub fn client_secret(&self) -> &str {
        self.client_secret.expose_secret()
    }
}

impl std::fmt::Debug for OidcSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcSettings")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("name", &self.name)
            .field("audience", &self.audience)
            .finish()
    }
}

/// Every way in but the session cookie and device tokens.
#[derive(Debug, Clone, Default)]
pub struct LoginSettings {
    pub oidc: Option<OidcSettings>,
    /// `CHATPASS_PASSWORD_LOGIN=off`: the password forms are hidden and their routes refuse (403).
    pub password_login: bool,
    /// `CHATPASS_TRUSTED_IDENTITY_HEADER`, lowercase: the header an auth proxy puts the
    /// signed-in email in, honoured only from `CHATPASS_TRUSTED_PROXIES`.
    pub identity_header: Option<String>,
}

pub const DEFAULT_OIDC_NAME: &str = "single sign-on";

/// Headers a proxy header can never be: they carry the client's own credentials or the
/// proxy chain, which chatpass reads for other purposes.
const NOT_AN_IDENTITY_HEADER: &[&str] =
    &["authorization", "cookie", "host", "origin", "referer", "x-forwarded-for", "forwarded"];

pub fn parse(
    get: &dyn Fn(&str) -> Option<String>,
    proxies: &TrustedProxies,
) -> Result<LoginSettings, ConfigError> {
    let oidc = parse_oidc(get)?;
    let identity_header =
        get("CHATPASS_TRUSTED_IDENTITY_HEADER").map(|raw| parse_header(&raw)).transpose()?;
    if identity_header.is_some() && proxies.is_empty() {
        return Err(ConfigError::new(
            "CHATPASS_TRUSTED_IDENTITY_HEADER",
            "needs CHATPASS_TRUSTED_PROXIES: the header is believed only from the proxies listed there",
        ));
    }
    let password_login = match get("CHATPASS_PASSWORD_LOGIN").as_deref().map(str::trim) {
        None | Some("on") => true,
        Some("off") => false,
        Some(_) => return Err(ConfigError::new("CHATPASS_PASSWORD_LOGIN", "expected on or off")),
    };
    if !password_login && oidc.is_none() && identity_header.is_none() {
        return Err(ConfigError::new(
            "CHATPASS_PASSWORD_LOGIN",
            "is off, but neither CHATPASS_OIDC_ISSUER nor CHATPASS_TRUSTED_IDENTITY_HEADER is set: nobody could sign in",
        ));
    }
    Ok(LoginSettings { oidc, password_login, identity_header })
}

fn parse_oidc(get: &dyn Fn(&str) -> Option<String>) -> Result<Option<OidcSettings>, ConfigError> {
    const TOGETHER: [&str; 3] =
        ["CHATPASS_OIDC_ISSUER", "CHATPASS_OIDC_CLIENT_ID", "CHATPASS_OIDC_CLIENT_SECRET"];
    let values: Vec<Option<String>> = TOGETHER.iter().map(|v| get(v)).collect();
    if values.iter().all(Option::is_none) {
        for var in ["CHATPASS_OIDC_NAME", "CHATPASS_OIDC_AUDIENCE"] {
            if get(var).is_some() {
                return Err(ConfigError::new(var, "is set but CHATPASS_OIDC_ISSUER is not"));
            }
        }
        return Ok(None);
    }
    if let Some((var, _)) = TOGETHER.iter().zip(&values).find(|(_, v)| v.is_none()) {
        return Err(ConfigError::new(
            var,
            "is missing: set CHATPASS_OIDC_ISSUER, CHATPASS_OIDC_CLIENT_ID and CHATPASS_OIDC_CLIENT_SECRET together",
        ));
    }
    let [issuer, client_id, secret] = [0, 1, 2].map(|i| values[i].clone().unwrap_or_default());
    let issuer = parse_issuer(&issuer)?;
    if client_id.trim() != client_id {
        return Err(ConfigError::new("CHATPASS_OIDC_CLIENT_ID", "has surrounding whitespace; remove it"));
    }
    let name =
        get("CHATPASS_OIDC_NAME").map(|n| n.trim().to_string()).unwrap_or_else(|| DEFAULT_OIDC_NAME.into());
    if name.chars().count() > 64 || name.contains(['<', '>']) {
        return Err(ConfigError::new(
            "CHATPASS_OIDC_NAME",
            "is a button label: at most 64 characters, no < or >",
        ));
    }
    let audience = get("CHATPASS_OIDC_AUDIENCE").unwrap_or_else(|| client_id.clone());
    Ok(Some(OidcSettings { issuer, client_id, client_secret: SecretString::from(secret), name, audience }))
}

/// An https URL, or plain http to a loopback address (a provider on this machine, in
/// tests); kept as written (an ID token's `iss` must equal it exactly), without a trailing `/`.
fn parse_issuer(raw: &str) -> Result<String, ConfigError> {
    const VAR: &str = "CHATPASS_OIDC_ISSUER";
    let url = url::Url::parse(raw).map_err(|e| ConfigError::new(VAR, format!("is not a URL ({e})")))?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => return Err(ConfigError::new(VAR, "must be https (plain http only to a loopback address)")),
        _ => return Err(ConfigError::new(VAR, "must be an https URL")),
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(ConfigError::new(VAR, "must have no query, fragment or user name"));
    }
    Ok(raw.trim_end_matches('/').to_string())
}

fn parse_header(raw: &str) -> Result<String, ConfigError> {
    const VAR: &str = "CHATPASS_TRUSTED_IDENTITY_HEADER";
    let name = raw.trim().to_ascii_lowercase();
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(ConfigError::new(VAR, "must be a header name such as X-Auth-Request-Email"));
    }
    if NOT_AN_IDENTITY_HEADER.contains(&name.as_str()) {
        return Err(ConfigError::new(
            VAR,
            format!("cannot be {name}: chatpass reads that header for something else"),
        ));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_with(pairs: &[(&str, &str)], proxies: &str) -> Result<LoginSettings, ConfigError> {
        let proxies = if proxies.is_empty() {
            TrustedProxies::default()
        } else {
            TrustedProxies::parse("P", proxies).unwrap()
        };
        let get = |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string());
        parse(&get, &proxies)
    }

    const OIDC: [(&str, &str); 3] = [
        ("CHATPASS_OIDC_ISSUER", "https://login.example.com/realms/acme/"),
        ("CHATPASS_OIDC_CLIENT_ID", "chatpass"),
        ("CHATPASS_OIDC_CLIENT_SECRET", "s3cret-value"),
    ];

    #[test]
    fn nothing_set_is_password_login_only() {
        let login = parse_with(&[], "").unwrap();
        assert!(login.oidc.is_none() && login.password_login && login.identity_header.is_none());
    }

    #[test]
    fn a_provider_takes_its_three_values_and_defaults_the_rest() {
        let login = parse_with(&OIDC, "").unwrap();
        let oidc = login.oidc.unwrap();
        assert_eq!(oidc.issuer, "https://login.example.com/realms/acme");
        assert_eq!((oidc.audience.as_str(), oidc.name.as_str()), ("chatpass", DEFAULT_OIDC_NAME));
        assert!(!format!("{oidc:?}").contains("s3cret-value"));
        let local = [("CHATPASS_OIDC_ISSUER", "http://127.0.0.1:4000"), OIDC[1], OIDC[2]];
        assert!(parse_with(&local, "").is_ok());
    }

    #[test]
    fn bad_values_name_their_variable_and_never_the_secret() {
        // (the settings, the proxies, the variable the error names)
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
        let cases: &[Case<'_>] = &[
            (&[OIDC[0], OIDC[1]], "", "CHATPASS_OIDC_CLIENT_SECRET"),
            (
                &[("CHATPASS_OIDC_ISSUER", "http://login.example.com"), OIDC[1], OIDC[2]],
                "",
                "CHATPASS_OIDC_ISSUER",
            ),
            (&[("CHATPASS_OIDC_ISSUER", "ftp://x"), OIDC[1], OIDC[2]], "", "CHATPASS_OIDC_ISSUER"),
            (&[("CHATPASS_OIDC_NAME", "Acme")], "", "CHATPASS_OIDC_NAME"),
            (&[("CHATPASS_PASSWORD_LOGIN", "off")], "", "CHATPASS_PASSWORD_LOGIN"),
            (&[("CHATPASS_PASSWORD_LOGIN", "maybe")], "", "CHATPASS_PASSWORD_LOGIN"),
            (
                &[("CHATPASS_TRUSTED_IDENTITY_HEADER", "X-Auth-Request-Email")],
                "",
                "CHATPASS_TRUSTED_IDENTITY_HEADER",
            ),
            (
                &[("CHATPASS_TRUSTED_IDENTITY_HEADER", "Cookie")],
                "10.0.0.0/8",
                "CHATPASS_TRUSTED_IDENTITY_HEADER",
            ),
            (
                &[("CHATPASS_TRUSTED_IDENTITY_HEADER", "a b")],
                "10.0.0.0/8",
                "CHATPASS_TRUSTED_IDENTITY_HEADER",
            ),
        ];
        for (pairs, proxies, var) in cases {
            let error = parse_with(pairs, proxies).unwrap_err();
            assert_eq!(error.var, *var, "{pairs:?}");
            assert!(!error.to_string().contains("s3cret-value"));
        }
    }

    #[test]
    fn a_proxy_header_needs_trusted_proxies_and_allows_password_login_off() {
        let pairs = [
            ("CHATPASS_TRUSTED_IDENTITY_HEADER", "X-Auth-Request-Email"),
            ("CHATPASS_PASSWORD_LOGIN", "off"),
        ];
        let login = parse_with(&pairs, "10.0.0.0/8").unwrap();
        assert_eq!(login.identity_header.as_deref(), Some("x-auth-request-email"));
        assert!(!login.password_login);
    }
}
