//! A real OpenID Connect provider for the tests: `tests/oidc/provider.mjs`, panva's
//! OpenID-certified `oidc-provider` from npm (pinned in `tests/oidc/package-lock.json`,
//! installed by `make test`), on a free loopback port, with one confidential client and the
//! accounts a test gives it. Stopped when dropped.
//!
//! Its login is the provider's own development pages (any password; the login is an
//! account's `sub` or email); [`OidcProvider::sign_in`] goes through them over plain HTTP,
//! as a browser would. The routes under `/test/` are not OpenID Connect: they sign tokens
//! the provider never would, count `/jwks` fetches and take `/jwks` down
//! (`tests/oidc/provider.mjs` lists them).

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, ChildStdin, Command, Stdio},
    sync::{mpsc, Arc, Mutex},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use serde_json::{json, Map, Value};

/// What the provider is started with (the keys `tests/oidc/provider.mjs` documents).
#[derive(Clone, Debug)]
pub struct OidcConfig {
    settings: Map<String, Value>,
    accounts: Vec<Value>,
}

impl OidcConfig {
    /// One client that may send its users back to `redirect_uri`.
    pub fn new(redirect_uri: &str) -> OidcConfig {
        let mut settings = Map::new();
        settings.insert("redirect_uris".into(), json!([redirect_uri]));
        OidcConfig { settings, accounts: Vec::new() }
    }

    /// An account as the provider holds it: `{"sub", "email", "email_verified", "name"}`,
    /// each as given (`email_verified` may be `true`, `false`, missing or `"true"`).
    pub fn account(mut self, account: Value) -> OidcConfig {
        self.accounts.push(account);
        self
    }

    /// An account whose email the provider vouches for (`email_verified: true`).
    pub fn verified_account(self, sub: &str, email: &str) -> OidcConfig {
        self.account(json!({"sub": sub, "email": email, "email_verified": true}))
    }

    /// Where the provider may send the browser after its logout page.
    pub fn post_logout_redirect_uri(self, uri: &str) -> OidcConfig {
        self.set("post_logout_redirect_uris", json!([uri]))
    }

    /// The access tokens' `aud` (default: the client id).
    pub fn audience(self, audience: &str) -> OidcConfig {
        self.set("audience", audience)
    }

    /// Account claims the access tokens carry too, e.g. `["email", "email_verified"]`.
    pub fn access_token_claims(self, claims: &[&str]) -> OidcConfig {
        self.set("access_token_claims", json!(claims))
    }

    /// Also an ES256 signing key in the JWKS (after the RS256 one).
    pub fn with_es256(self) -> OidcConfig {
        self.set("es256", true)
    }

    /// Keeps the signing keys in `path` (written at the first start, read at the next), so a
    /// provider started again with the same file and `port` is the same provider restarted.
    pub fn keys_file(self, path: &Path) -> OidcConfig {
        self.set("keys_file", path.display().to_string())
    }

    /// Any other key of `provider.mjs`'s configuration (`port`, `client_id`, `resource`, …).
    pub fn set(mut self, key: &str, value: impl Into<Value>) -> OidcConfig {
        self.settings.insert(key.to_string(), value.into());
        self
    }

    fn to_json(&self) -> String {
        let mut settings = self.settings.clone();
        settings.insert("accounts".into(), Value::Array(self.accounts.clone()));
        Value::Object(settings).to_string()
    }
}

/// How `POST /test/sign` signs a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignedBy {
    /// The provider's RS256 key, with its `kid`: a token the provider could have issued.
    Provider,
    /// The provider's ES256 key (only with [`OidcConfig::with_es256`]).
    ProviderEs256,
    /// A fresh RSA key in no JWKS, under the provider's RS256 `kid` (unless the header
    /// names another).
    OtherKey,
    /// `alg: none` and an empty signature.
    AlgNone,
    /// HS256 keyed with the provider's public RS256 key as SPKI PEM text: the classic
    /// algorithm confusion.
    Hs256PublicKey,
    /// HS256 keyed with the client secret: what OpenID Connect allows a confidential
    /// client, and what chatpass must refuse.
    Hs256ClientSecret,
}

impl SignedBy {
    fn how(self) -> (&'static str, &'static str) {
        match self {
            SignedBy::Provider => ("provider", "RS256"),
            SignedBy::ProviderEs256 => ("provider", "ES256"),
            SignedBy::OtherKey => ("other-key", "RS256"),
            SignedBy::AlgNone => ("none", "RS256"),
            SignedBy::Hs256PublicKey => ("hs256-public", "RS256"),
            SignedBy::Hs256ClientSecret => ("hs256-secret", "RS256"),
        }
    }
}

/// A running `tests/oidc/provider.mjs`.
pub struct OidcProvider {
    issuer: String,
    client_id: String,
    client_secret: String,
    audience: String,
    resource: String,
    kids: Value,
    child: Child,
    stdin: Option<ChildStdin>,
    stderr: Arc<Mutex<Vec<String>>>,
    http: reqwest::Client,
}

fn provider_script() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let installed = root.join("tests/oidc/node_modules/oidc-provider");
    assert!(
        installed.exists(),
        "{} missing: run `make test` (it installs tests/oidc/package-lock.json)",
        installed.display()
    );
    root.join("tests/oidc/provider.mjs")
}

impl OidcProvider {
    /// Starts the provider and waits for its ready line (issuer, client id and secret).
    pub fn start(config: OidcConfig) -> OidcProvider {
        let mut child = Command::new("node")
            .arg(provider_script())
            .env("OIDC_FIXTURE_CONFIG", config.to_json())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start node tests/oidc/provider.mjs");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        // Its warnings are kept for a failure's message, not mixed into the test output;
        // draining the pipe keeps the provider from blocking on it.
        let kept = stderr.clone();
        let pipe = child.stderr.take().expect("stderr");
        let drain = std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                kept.lock().unwrap().push(line);
            }
        });
        // The first line is the ready line; stdout stays open (and read) after it.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
            let _ = tx.send(lines.next().unwrap_or_default());
            lines.for_each(drop);
        });
        let line = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
        let ready: Value = match serde_json::from_str(&line) {
            Ok(ready) => ready,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                let _ = drain.join();
                panic!(
                    "the OIDC provider did not start (first line {line:?}); its stderr:\n{}",
                    stderr.lock().unwrap().join("\n")
                );
            }
        };
        let field =
            |name: &str| ready[name].as_str().unwrap_or_else(|| panic!("no {name} in {ready}")).to_string();
        OidcProvider {
            issuer: field("issuer"),
            client_id: field("client_id"),
            client_secret: field("client_secret"),
            audience: field("audience"),
            resource: field("resource"),
            kids: ready["kids"].clone(),
            child,
            stdin,
            stderr,
            http: reqwest::Client::new(),
        }
    }

    /// `http://127.0.0.1:PORT`, exactly as the provider writes it in `iss`.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    pub fn client_secret(&self) -> &str {
        &self.client_secret
    }

    /// The `aud` of its access tokens.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// The resource indicator its access tokens are issued for.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The `kid` of its signing key for `alg` ("RS256", or "ES256" with `with_es256`).
    pub fn kid(&self, alg: &str) -> &str {
        self.kids[alg].as_str().unwrap_or_else(|| panic!("the provider has no {alg} key"))
    }

    /// A URL on the provider.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// What the provider wrote to stderr so far (oidc-provider's warnings).
    pub fn logs(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    /// Claims of a valid access token for `sub`: this issuer, its audience, five minutes
    /// left. Tests change or drop members to make bad ones.
    pub fn access_claims(&self, sub: &str) -> Value {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        json!({
            "iss": self.issuer,
            "sub": sub,
            "aud": self.audience,
            "client_id": self.client_id,
            "iat": now,
            "exp": now + 300,
        })
    }

    /// A JWT with these claims, signed as `how` says (`POST /test/sign`).
    pub async fn sign(&self, claims: Value, how: SignedBy) -> String {
        self.sign_with_header(claims, json!({}), how).await
    }

    /// As [`OidcProvider::sign`], with `header` merged over the default `{alg, kid, typ}`
    /// (a `null` removes a member). The signature is made by the key `how` names, whatever
    /// `header.alg` says.
    pub async fn sign_with_header(&self, claims: Value, header: Value, how: SignedBy) -> String {
        let (how, alg) = how.how();
        let answer: Value = self
            .test_route(self.http.post(self.url("/test/sign")).json(&json!({
                "claims": claims, "header": header, "how": how, "alg": alg,
            })))
            .await;
        answer["jwt"].as_str().expect("jwt").to_string()
    }

    /// The next token response's ID token becomes its own claims with `claims` merged over
    /// them (a `null` removes a member) and `header` over its header, signed as `how` says
    /// (`POST /test/tamper-next-id-token`): a provider that hands out a bad ID token for a
    /// real code. One use.
    pub async fn tamper_next_id_token(&self, claims: Value, header: Value, how: SignedBy) {
        let (how, alg) = how.how();
        let _: Value = self
            .test_route(self.http.post(self.url("/test/tamper-next-id-token")).json(&json!({
                "claims": claims, "header": header, "how": how, "alg": alg,
            })))
            .await;
    }

    /// The port it listens on (to start it again on the same one).
    pub fn port(&self) -> u16 {
        url::Url::parse(&self.issuer).ok().and_then(|u| u.port()).expect("the issuer names its port")
    }

    /// How many times `/jwks` was requested (503s included).
    pub async fn jwks_fetches(&self) -> u64 {
        self.stats().await["jwks_fetches"].as_u64().expect("jwks_fetches")
    }

    /// How many times the discovery document was requested (503s included).
    pub async fn discovery_fetches(&self) -> u64 {
        self.stats().await["discovery_fetches"].as_u64().expect("discovery_fetches")
    }

    /// `true`: `/jwks` answers 503, as a provider that is down would.
    pub async fn set_jwks_down(&self, down: bool) {
        let path = if down { "/test/stop-jwks" } else { "/test/start-jwks" };
        let _: Value = self.test_route(self.http.post(self.url(path))).await;
    }

    /// `true`: the discovery document answers 503.
    pub async fn set_discovery_down(&self, down: bool) {
        let path = if down { "/test/stop-discovery" } else { "/test/start-discovery" };
        let _: Value = self.test_route(self.http.post(self.url(path))).await;
    }

    async fn stats(&self) -> Value {
        self.test_route(self.http.get(self.url("/test/stats"))).await
    }

    async fn test_route(&self, request: reqwest::RequestBuilder) -> Value {
        let response = request.send().await.expect("the OIDC provider answers");
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert!(status.is_success(), "{status} from the provider's test route: {body}");
        serde_json::from_str(&body).expect("JSON from a test route")
    }

    /// Signs in as `login` (an account's `sub` or email, any password) through the
    /// provider's own login and consent pages, in a fresh browser (no provider session):
    /// starts at `authorize_url` (the provider's authorization endpoint with the relying
    /// party's parameters), follows the provider's redirects and submits its forms, and
    /// returns the first redirect that leaves the provider: the relying party's callback
    /// URL, with `code`, `state` and `iss` (or with `error`).
    pub async fn sign_in(&self, authorize_url: &str, login: &str) -> String {
        self.try_sign_in(authorize_url, login).await.unwrap_or_else(|e| panic!("{e}"))
    }

    /// As [`OidcProvider::sign_in`], with `Err` saying why when the provider does not send
    /// the browser back (a login that names no account, an error page).
    pub async fn try_sign_in(&self, authorize_url: &str, login: &str) -> Result<String, String> {
        self.browse(authorize_url, Some(login)).await
    }

    /// Follows an RP-initiated logout (`end_session_url`: the provider's
    /// `end_session_endpoint` with `id_token_hint`, `post_logout_redirect_uri`, `state`)
    /// in a fresh browser, confirming the provider's page, and returns where the provider
    /// sends the browser afterwards (the `post_logout_redirect_uri`, with `state`). The
    /// provider checks the hint and the URI before any page, so an `Err` names a bad one.
    pub async fn sign_out(&self, end_session_url: &str) -> Result<String, String> {
        self.browse(end_session_url, None).await
    }

    /// A browser without JavaScript on the provider's pages: follows its redirects,
    /// submits the one form of each page (filling the login form with `login` and
    /// confirming a logout), and returns the first redirect off the provider.
    async fn browse(&self, start: &str, login: Option<&str>) -> Result<String, String> {
        assert!(
            start.starts_with(&format!("{}/", self.issuer)),
            "{start} is not on the provider ({})",
            self.issuer
        );
        let browser = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut url = url::Url::parse(start).expect("an absolute URL");
        let mut form: Option<Vec<(String, String)>> = None;
        let mut logins_sent = 0;
        for _ in 0..20 {
            let request = match form.take() {
                Some(fields) => browser.post(url.clone()).form(&fields),
                None => browser.get(url.clone()),
            };
            let response = request.send().await.map_err(|e| format!("{url}: {e}"))?;
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .ok_or_else(|| format!("{status} without a Location from {url}"))?;
                let next = url.join(location).map_err(|e| format!("Location {location:?}: {e}"))?;
                if next.origin().ascii_serialization() != self.issuer {
                    return Ok(next.to_string());
                }
                url = next;
                continue;
            }
            let body = response.text().await.unwrap_or_default();
            if !status.is_success() {
                return Err(format!("{status} from the provider at {url}: {body}"));
            }
            let page =
                PostForm::find(&body).ok_or_else(|| format!("no form on the page at {url}: {body}"))?;
            let mut fields = page.hidden;
            if fields.iter().any(|(k, v)| k == "prompt" && v == "login") {
                let login = login.ok_or_else(|| format!("the provider asks for a login at {url}"))?;
                if logins_sent > 0 {
                    return Err(format!(
                        "the provider refused the login {login:?} (no account has it as sub or email)"
                    ));
                }
                logins_sent += 1;
                fields.push(("login".into(), login.into()));
                fields.push(("password".into(), "any password".into()));
            }
            if page.id == "op.logoutForm" {
                // The page's "Yes, sign me out" button, outside the form.
                fields.push(("logout".into(), "yes".into()));
            }
            url = url.join(&page.action).map_err(|e| format!("form action {:?}: {e}", page.action))?;
            form = Some(fields);
        }
        Err(format!("still on the provider after 20 steps, at {url}"))
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        // Closing stdin ends the provider; kill in case it is stuck.
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first `<form method="post">` of a page: its action and hidden fields (the provider's
/// dev pages hold one form each).
struct PostForm {
    id: String,
    action: String,
    hidden: Vec<(String, String)>,
}

impl PostForm {
    fn find(html: &str) -> Option<PostForm> {
        let mut rest = html;
        while let Some(start) = rest.find("<form") {
            let form = &rest[start..];
            let end = form.find("</form>").unwrap_or(form.len());
            let (tag, inner) = form[..end].split_once('>')?;
            let attrs = attributes(tag);
            if attr(&attrs, "method").is_some_and(|m| m.eq_ignore_ascii_case("post")) {
                let mut hidden = Vec::new();
                for input in inner.split("<input").skip(1) {
                    let attrs = attributes(input.split('>').next().unwrap_or(""));
                    if attr(&attrs, "type") == Some("hidden") {
                        if let Some(name) = attr(&attrs, "name") {
                            hidden.push((name.to_string(), attr(&attrs, "value").unwrap_or("").to_string()));
                        }
                    }
                }
                return Some(PostForm {
                    id: attr(&attrs, "id").unwrap_or("").to_string(),
                    action: attr(&attrs, "action")?.to_string(),
                    hidden,
                });
            }
            rest = &form[end..];
        }
        None
    }
}

/// The `name="value"` attributes of a tag's text, values unescaped.
fn attributes(tag: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = tag;
    while let Some(eq) = rest.find("=\"") {
        let name = rest[..eq].rsplit(|c: char| c.is_whitespace()).next().unwrap_or("").to_ascii_lowercase();
        let value_start = eq + 2;
        let Some(len) = rest[value_start..].find('"') else { break };
        found.push((name, unescape(&rest[value_start..value_start + len])));
        rest = &rest[value_start + len + 1..];
    }
    found
}

fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}
