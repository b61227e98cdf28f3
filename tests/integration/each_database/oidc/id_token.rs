//! An ID token that must not verify, handed out by the real provider for a real code (its
//! `/test/tamper-next-id-token`): wrong nonce, audience or issuer, expired, another key,
//! `alg: none`, HS256 keyed by the public key or by the client secret. Each refused as
//! `provider`, no account, no session.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::{refusal, with_provider};
use crate::common::{
    self,
    oidc::{OidcProvider, SignedBy},
    TestApp,
};

/// Signs in as `u-ann` with the next ID token tampered as said; chatpass's answer.
async fn sign_in_tampered(
    app: &TestApp,
    provider: &OidcProvider,
    claims: Value,
    header: Value,
    how: SignedBy,
) -> (reqwest::Client, reqwest::Response) {
    let browser = common::client();
    let back = app.oidc_callback_url(provider, &browser, "u-ann", "/chat").await;
    provider.tamper_next_id_token(claims, header, how).await;
    let answer = browser.get(back).send().await.unwrap();
    (browser, answer)
}

#[tokio::test]
async fn a_bad_id_token_is_refused_and_makes_no_account() {
    let (app, provider) = with_provider(|c| c.verified_account("u-ann", "ann@example.com"), &[]).await;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let cases: Vec<(&str, Value, Value, SignedBy)> = vec![
        ("a wrong nonce", json!({"nonce": "not-the-nonce"}), json!({}), SignedBy::Provider),
        ("no nonce", json!({"nonce": null}), json!({}), SignedBy::Provider),
        ("another audience", json!({"aud": "someone-else"}), json!({}), SignedBy::Provider),
        ("another issuer", json!({"iss": "http://127.0.0.1:1"}), json!({}), SignedBy::Provider),
        ("expired", json!({"exp": now - 600, "iat": now - 4200}), json!({}), SignedBy::Provider),
        ("another key", json!({}), json!({}), SignedBy::OtherKey),
        ("alg none", json!({}), json!({}), SignedBy::AlgNone),
        ("HS256 keyed by the public key", json!({}), json!({}), SignedBy::Hs256PublicKey),
        ("HS256 keyed by the client secret", json!({}), json!({}), SignedBy::Hs256ClientSecret),
        ("an unknown kid", json!({}), json!({"kid": "no-such-key"}), SignedBy::Provider),
    ];
    for (what, claims, header, how) in cases {
        let (browser, answer) = sign_in_tampered(&app, &provider, claims, header, how).await;
        assert_eq!(refusal(answer).await, "provider", "{what}");
        app.assert_nobody_signed_in(&browser, what).await;
    }
    // The control: the same route re-signing the provider's own token changes nothing.
    let (browser, answer) = sign_in_tampered(&app, &provider, json!({}), json!({}), SignedBy::Provider).await;
    assert_eq!(answer.status(), 303);
    assert_eq!(answer.headers()["location"], "/chat");
    assert_eq!(app.whoami_with(&browser).await.as_deref(), Some("ann@example.com"));
}

#[tokio::test]
async fn an_id_token_whose_claims_change_the_user_is_still_checked() {
    let (app, provider) = with_provider(|c| c.verified_account("u-ann", "ann@example.com"), &[]).await;
    // Correctly signed, but its email_verified is a string: not the boolean.
    let (browser, answer) =
        sign_in_tampered(&app, &provider, json!({"email_verified": "true"}), json!({}), SignedBy::Provider)
            .await;
    assert_eq!(refusal(answer).await, "provider");
    app.assert_nobody_signed_in(&browser, "email_verified \"true\"").await;
    // Correctly signed, email_verified false.
    let (browser, answer) =
        sign_in_tampered(&app, &provider, json!({"email_verified": false}), json!({}), SignedBy::Provider)
            .await;
    assert_eq!(refusal(answer).await, "email_not_verified");
    app.assert_nobody_signed_in(&browser, "email_verified false").await;
}
