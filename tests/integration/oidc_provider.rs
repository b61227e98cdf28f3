//! The test OpenID Connect provider itself (`common::oidc`, `tests/oidc/provider.mjs`), run
//! for real: what the login tests will rely on, checked with no chatpass in the way. The
//! test plays the relying party: it builds the authorization request, signs in through the
//! provider's pages and redeems the code at the token endpoint.

use crate::common::oidc::{OidcConfig, OidcProvider, SignedBy};

use base64::{
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
    Engine as _,
};
use hmac::{Hmac, Mac};
use jsonwebtoken::{jwk::JwkSet, Algorithm, DecodingKey, Validation};
use rand::distr::{Alphanumeric, SampleString};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The relying party's callback: nothing listens there, the tests only read the URL.
const CALLBACK: &str = "http://127.0.0.1:9/auth/oidc/callback";
const HOME: &str = "http://127.0.0.1:9/";

/// An authorization request as a relying party makes it.
struct Request {
    url: String,
    state: String,
    nonce: String,
    verifier: String,
}

fn random() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), 43)
}

fn authorization_request(provider: &OidcProvider) -> Request {
    let (state, nonce, verifier) = (random(), random(), random());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let url = url::Url::parse_with_params(
        &provider.url("/auth"),
        [
            ("response_type", "code"),
            ("client_id", provider.client_id()),
            ("redirect_uri", CALLBACK),
            ("scope", "openid email profile"),
            ("state", &state),
            ("nonce", &nonce),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
    .unwrap();
    Request { url: url.to_string(), state, nonce, verifier }
}

fn query(url: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(url).unwrap().query_pairs().into_owned().collect()
}

/// The token endpoint's answer to the code (client_secret_basic, the PKCE verifier).
async fn redeem(provider: &OidcProvider, code: &str, verifier: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(provider.url("/token"))
        .basic_auth(provider.client_id(), Some(provider.client_secret()))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap()
}

/// Signs `login` in and returns the token endpoint's JSON, after checking the callback.
async fn tokens_for(provider: &OidcProvider, login: &str) -> (Request, Value) {
    let request = authorization_request(provider);
    let callback = provider.sign_in(&request.url, login).await;
    assert!(callback.starts_with(CALLBACK), "{callback}");
    let params = query(&callback);
    assert_eq!(params["state"], request.state);
    assert_eq!(params["iss"], provider.issuer());
    let response = redeem(provider, &params["code"], &request.verifier).await;
    assert_eq!(response.status(), 200);
    (request, response.json().await.unwrap())
}

async fn get_json(url: &str) -> Value {
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    response.json().await.unwrap()
}

async fn jwks(provider: &OidcProvider) -> JwkSet {
    serde_json::from_value(get_json(&provider.url("/jwks")).await).unwrap()
}

/// The claims of `token`, verified with the JWKS key its `kid` names, for `audience`.
fn verify(
    token: &str,
    keys: &JwkSet,
    issuer: &str,
    audience: &str,
) -> Result<Value, jsonwebtoken::errors::Error> {
    let kid = segment(token, 0)["kid"].as_str().unwrap_or_default().to_string();
    let jwk = keys.find(&kid).unwrap_or_else(|| panic!("no key {kid:?} in the JWKS"));
    let alg = match segment(token, 0)["alg"].as_str() {
        Some("ES256") => Algorithm::ES256,
        _ => Algorithm::RS256,
    };
    let mut validation = Validation::new(alg);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    Ok(jsonwebtoken::decode::<Value>(token, &DecodingKey::from_jwk(jwk)?, &validation)?.claims)
}

/// Segment `n` of a JWT, decoded as JSON (0: header, 1: claims).
fn segment(token: &str, n: usize) -> Value {
    let part = token.split('.').nth(n).expect("a JWT segment");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

#[tokio::test]
async fn discovery_names_what_a_relying_party_needs() {
    let provider = OidcProvider::start(OidcConfig::new(CALLBACK));
    let discovery = get_json(&provider.url("/.well-known/openid-configuration")).await;
    assert_eq!(discovery["issuer"], provider.issuer());
    assert!(provider.issuer().starts_with("http://127.0.0.1:"));
    for endpoint in ["authorization_endpoint", "token_endpoint", "jwks_uri", "end_session_endpoint"] {
        let url = discovery[endpoint].as_str().unwrap_or_else(|| panic!("no {endpoint}"));
        assert!(url.starts_with(provider.issuer()), "{endpoint}: {url}");
    }
    assert_eq!(discovery["jwks_uri"], provider.url("/jwks"));
    assert_eq!(discovery["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(discovery["response_types_supported"], json!(["code"]));
    for scope in ["openid", "email", "profile"] {
        assert!(discovery["scopes_supported"].as_array().unwrap().contains(&json!(scope)), "{scope}");
    }
    for claim in ["sub", "email", "email_verified"] {
        assert!(discovery["claims_supported"].as_array().unwrap().contains(&json!(claim)), "{claim}");
    }
    let keys = jwks(&provider).await;
    assert_eq!(keys.keys.len(), 1);
    assert!(keys.find(provider.kid("RS256")).is_some());
    assert_eq!(provider.discovery_fetches().await, 1);
}

#[tokio::test]
async fn the_code_flow_with_pkce_gives_the_accounts_claims_and_a_jwt_access_token() {
    let provider = OidcProvider::start(
        OidcConfig::new(CALLBACK)
            .verified_account("ann-sub", "ann@example.com")
            .account(json!({"sub": "bob-sub", "email": "bob@example.com", "email_verified": false}))
            .account(json!({"sub": "cat-sub", "email": "cat@example.com"}))
            .account(json!({"sub": "dan-sub", "email": "dan@example.com", "email_verified": "true"}))
            .access_token_claims(&["email", "email_verified"]),
    );
    let keys = jwks(&provider).await;

    // By email (in another case), then by sub: the same kind of tokens.
    let (request, tokens) = tokens_for(&provider, "Ann@Example.com").await;
    assert_eq!(tokens["token_type"], "Bearer");
    let id = verify(tokens["id_token"].as_str().unwrap(), &keys, provider.issuer(), provider.client_id())
        .expect("the ID token verifies with the JWKS");
    assert_eq!(id["sub"], "ann-sub");
    assert_eq!(id["email"], "ann@example.com");
    assert_eq!(id["email_verified"], true);
    assert_eq!(id["nonce"], json!(request.nonce));

    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(segment(access, 0)["typ"], "at+jwt");
    assert_eq!(segment(access, 0)["kid"], provider.kid("RS256"));
    let claims =
        verify(access, &keys, provider.issuer(), provider.audience()).expect("the access token verifies");
    assert_eq!(provider.audience(), provider.client_id());
    assert_eq!(claims["sub"], "ann-sub");
    assert_eq!(claims["client_id"], provider.client_id());
    assert_eq!(claims["email"], "ann@example.com");
    assert_eq!(claims["email_verified"], true);

    // email_verified as each account has it: false, missing, the string "true".
    for (login, verified) in
        [("bob-sub", json!(false)), ("cat-sub", Value::Null), ("dan@example.com", json!("true"))]
    {
        let (_, tokens) = tokens_for(&provider, login).await;
        let id = verify(tokens["id_token"].as_str().unwrap(), &keys, provider.issuer(), provider.client_id())
            .unwrap();
        assert_eq!(id["email_verified"], verified, "{login}");
        let access = segment(tokens["access_token"].as_str().unwrap(), 1);
        assert_eq!(access["email_verified"], verified, "{login}");
    }
}

#[tokio::test]
async fn access_tokens_are_for_the_configured_audience_and_carry_no_email_unless_asked() {
    let provider = OidcProvider::start(
        OidcConfig::new(CALLBACK)
            .verified_account("ann-sub", "ann@example.com")
            .set("client_id", "chatpass-web")
            .audience("chatpass-api"),
    );
    assert_eq!(provider.client_id(), "chatpass-web");
    assert_eq!(provider.resource(), "urn:chatpass:api");
    let (_, tokens) = tokens_for(&provider, "ann-sub").await;
    let keys = jwks(&provider).await;
    let access = tokens["access_token"].as_str().unwrap();
    let claims =
        verify(access, &keys, provider.issuer(), "chatpass-api").expect("aud is the configured audience");
    assert!(claims.get("email").is_none(), "{claims}");
    assert!(verify(access, &keys, provider.issuer(), provider.client_id()).is_err(), "not for the client id");
    // The ID token is still for the client.
    verify(tokens["id_token"].as_str().unwrap(), &keys, provider.issuer(), provider.client_id()).unwrap();
}

#[tokio::test]
async fn a_code_is_redeemed_once_and_only_with_its_verifier() {
    let provider =
        OidcProvider::start(OidcConfig::new(CALLBACK).verified_account("ann-sub", "ann@example.com"));
    let request = authorization_request(&provider);
    let code = query(&provider.sign_in(&request.url, "ann-sub").await)["code"].clone();
    let wrong = redeem(&provider, &code, &random()).await;
    assert_eq!(wrong.status(), 400);
    assert_eq!(wrong.json::<Value>().await.unwrap()["error"], "invalid_grant");

    let request = authorization_request(&provider);
    let code = query(&provider.sign_in(&request.url, "ann-sub").await)["code"].clone();
    assert_eq!(redeem(&provider, &code, &request.verifier).await.status(), 200);
    let again = redeem(&provider, &code, &request.verifier).await;
    assert_eq!(again.status(), 400);
    assert_eq!(again.json::<Value>().await.unwrap()["error"], "invalid_grant");
}

#[tokio::test]
async fn pkce_is_required_and_an_unknown_login_is_refused() {
    let provider =
        OidcProvider::start(OidcConfig::new(CALLBACK).verified_account("ann-sub", "ann@example.com"));
    let request = authorization_request(&provider);
    let mut without_pkce = url::Url::parse(&request.url).unwrap();
    let kept: Vec<(String, String)> =
        without_pkce.query_pairs().into_owned().filter(|(k, _)| !k.starts_with("code_challenge")).collect();
    without_pkce.query_pairs_mut().clear().extend_pairs(kept);
    let callback = provider.sign_in(without_pkce.as_str(), "ann-sub").await;
    let params = query(&callback);
    assert_eq!(params["error"], "invalid_request", "{callback}");
    assert!(params["error_description"].contains("PKCE"), "{callback}");

    let refused = provider.try_sign_in(&request.url, "nobody@example.com").await;
    assert!(refused.unwrap_err().contains("refused the login"));
    assert!(provider.logs().iter().any(|l| l.contains("devInteractions")), "{:?}", provider.logs());
}

#[tokio::test]
async fn logout_goes_back_to_the_registered_uri_with_the_state() {
    let provider = OidcProvider::start(
        OidcConfig::new(CALLBACK)
            .post_logout_redirect_uri(HOME)
            .verified_account("ann-sub", "ann@example.com"),
    );
    let (_, tokens) = tokens_for(&provider, "ann-sub").await;
    let end_session = get_json(&provider.url("/.well-known/openid-configuration")).await
        ["end_session_endpoint"]
        .as_str()
        .unwrap()
        .to_string();
    let logout = |post_logout: &str| {
        url::Url::parse_with_params(
            &end_session,
            [
                ("id_token_hint", tokens["id_token"].as_str().unwrap()),
                ("post_logout_redirect_uri", post_logout),
                ("state", "s1"),
            ],
        )
        .unwrap()
        .to_string()
    };
    let back = provider.sign_out(&logout(HOME)).await.expect("logout");
    assert_eq!(back, format!("{HOME}?state=s1"));
    let refused = provider.sign_out(&logout("http://127.0.0.1:9/elsewhere")).await.unwrap_err();
    assert!(refused.contains("post_logout_redirect_uri not registered"), "{refused}");
}

/// The provider's RS256 public key as SPKI PEM text, built from its JWK here (DER by hand),
/// so that the HS256 confusion token is checked against bytes the fixture did not pick.
fn spki_pem(keys: &JwkSet, kid: &str) -> String {
    let jwk = serde_json::to_value(keys.find(kid).unwrap()).unwrap();
    let integer = |b64: &str| {
        let mut bytes = URL_SAFE_NO_PAD.decode(b64).unwrap();
        if bytes[0] & 0x80 != 0 {
            bytes.insert(0, 0);
        }
        der(0x02, &bytes)
    };
    let rsa_key =
        der(0x30, &[integer(jwk["n"].as_str().unwrap()), integer(jwk["e"].as_str().unwrap())].concat());
    let rsa_encryption = [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];
    let spki = der(0x30, &[der(0x30, &rsa_encryption), der(0x03, &[&[0][..], &rsa_key].concat())].concat());
    let body = STANDARD.encode(spki);
    let lines: Vec<&str> =
        body.as_bytes().chunks(64).map(|line| std::str::from_utf8(line).unwrap()).collect();
    format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", lines.join("\n"))
}

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let len = content.len();
    let mut out = vec![tag];
    match len {
        0..=0x7f => out.push(len as u8),
        0x80..=0xff => out.extend([0x81, len as u8]),
        _ => out.extend([0x82, (len >> 8) as u8, len as u8]),
    }
    out.extend_from_slice(content);
    out
}

#[tokio::test]
async fn test_tokens_are_signed_as_asked() {
    let provider = OidcProvider::start(OidcConfig::new(CALLBACK).with_es256());
    let keys = jwks(&provider).await;
    assert_eq!(keys.keys.len(), 2);
    let claims = provider.access_claims("ann-sub");
    let (issuer, audience) = (provider.issuer(), provider.audience());

    let real = provider.sign(claims.clone(), SignedBy::Provider).await;
    assert_eq!(segment(&real, 0), json!({"alg": "RS256", "kid": provider.kid("RS256"), "typ": "JWT"}));
    assert_eq!(verify(&real, &keys, issuer, audience).expect("the provider's key"), claims);

    let es = provider.sign(claims.clone(), SignedBy::ProviderEs256).await;
    assert_eq!(segment(&es, 0)["kid"], provider.kid("ES256"));
    assert_eq!(verify(&es, &keys, issuer, audience).expect("the provider's ES256 key"), claims);

    let other = provider.sign(claims.clone(), SignedBy::OtherKey).await;
    assert_eq!(segment(&other, 0)["kid"], provider.kid("RS256"), "the provider's kid, another key");
    assert_eq!(segment(&other, 1), claims);
    let error = verify(&other, &keys, issuer, audience).unwrap_err();
    assert_eq!(error.kind(), &jsonwebtoken::errors::ErrorKind::InvalidSignature);

    let renamed = provider
        .sign_with_header(claims.clone(), json!({"kid": "unknown", "typ": null}), SignedBy::OtherKey)
        .await;
    assert_eq!(segment(&renamed, 0), json!({"alg": "RS256", "kid": "unknown"}));

    let none = provider.sign(claims.clone(), SignedBy::AlgNone).await;
    assert_eq!(segment(&none, 0)["alg"], "none");
    assert_eq!(segment(&none, 1), claims);
    assert!(none.ends_with('.'), "an empty signature: {none}");

    let confused = provider.sign(claims.clone(), SignedBy::Hs256PublicKey).await;
    assert_eq!(segment(&confused, 0)["alg"], "HS256");
    assert_eq!(segment(&confused, 0)["kid"], provider.kid("RS256"));
    let (input, signature) = confused.rsplit_once('.').unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(spki_pem(&keys, provider.kid("RS256")).as_bytes()).unwrap();
    mac.update(input.as_bytes());
    mac.verify_slice(&URL_SAFE_NO_PAD.decode(signature).unwrap())
        .expect("HMAC keyed with the public key's PEM");
}

#[tokio::test]
async fn jwks_fetches_are_counted_and_the_jwks_can_go_down() {
    let provider = OidcProvider::start(OidcConfig::new(CALLBACK));
    assert_eq!(provider.jwks_fetches().await, 0);
    jwks(&provider).await;
    jwks(&provider).await;
    assert_eq!(provider.jwks_fetches().await, 2);

    provider.set_jwks_down(true).await;
    assert_eq!(reqwest::get(provider.url("/jwks")).await.unwrap().status(), 503);
    assert_eq!(provider.jwks_fetches().await, 3, "a failed fetch counts too");
    provider.set_jwks_down(false).await;
    assert!(jwks(&provider).await.find(provider.kid("RS256")).is_some());

    provider.set_discovery_down(true).await;
    let discovery = provider.url("/.well-known/openid-configuration");
    assert_eq!(reqwest::get(&discovery).await.unwrap().status(), 503);
    provider.set_discovery_down(false).await;
    get_json(&discovery).await;
    assert_eq!(provider.discovery_fetches().await, 2);
}
