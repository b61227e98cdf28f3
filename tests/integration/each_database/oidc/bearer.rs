//! The provider's JWT access tokens as bearers of `POST /api/chat_token`: the account linked
//! to `(iss, sub)`, or one made from a verified email in the token; every bad token a 401
//! `invalid_token` with nothing written; the provider's keys fetched sparingly.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chatpass::error::AppError;
use serde_json::{json, Value};

use super::{poll, with_provider};
use crate::common::{
    self,
    devices::assert_invalid_token,
    oidc::{OidcProvider, SignedBy},
    TestApp,
};

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// `claims` with `changes` merged over them (a `null` removes a member).
fn changed(mut claims: Value, changes: Value) -> Value {
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            claims.as_object_mut().unwrap().remove(k);
        } else {
            claims[k] = v.clone();
        }
    }
    claims
}

/// chatpass and the provider, with `u-ann` (ann@example.com) signed in once on the web, so
/// linked.
async fn linked_ann(
    config: impl FnOnce(common::oidc::OidcConfig) -> common::oidc::OidcConfig,
) -> (TestApp, OidcProvider) {
    let (app, provider) =
        with_provider(|c| config(c.verified_account("u-ann", "ann@example.com")), &[]).await;
    app.oidc_browser(&provider, "u-ann").await;
    (app, provider)
}

#[tokio::test]
async fn a_linked_users_access_token_gets_their_chat_token() {
    let (app, provider) = linked_ann(|c| c).await;
    let token = provider.sign(provider.access_claims("u-ann"), SignedBy::Provider).await;
    let issued: chatpass::token::IssuedChatToken =
        common::answer(app.chat_token_with_bearer(&token).await, 200).await;
    assert_eq!(issued.identity, "ann@example.com");
    // `aud` as a list holding chatpass's audience; times within the 60 s leeway.
    let within = [
        json!({"aud": ["another-api", provider.audience()]}),
        json!({"exp": now() - 30}),
        json!({"nbf": now() + 30}),
        json!({"email": "whatever@example.com", "email_verified": "true"}),
    ];
    for change in within {
        let token =
            provider.sign(changed(provider.access_claims("u-ann"), change.clone()), SignedBy::Provider).await;
        assert_eq!(app.bearer_status(&token).await, 200, "{change}");
    }
    // One key, no kid: that key.
    let no_kid =
        provider.sign_with_header(provider.access_claims("u-ann"), json!({"kid": null}), SignedBy::Provider);
    assert_eq!(app.bearer_status(&no_kid.await).await, 200);
    assert_eq!(app.user_count().await, 1);
}

#[tokio::test]
async fn every_bad_access_token_is_invalid_token_and_writes_nothing() {
    let (app, provider) = linked_ann(|c| c).await;
    let good = provider.access_claims("u-ann");
    let mut bad: Vec<(&str, String)> = Vec::new();
    let signed = |change: Value| provider.sign(changed(good.clone(), change), SignedBy::Provider);
    bad.push(("another issuer", signed(json!({"iss": "http://127.0.0.1:1"})).await));
    bad.push(("the issuer with a slash", signed(json!({"iss": format!("{}/", provider.issuer())})).await));
    bad.push(("no issuer", signed(json!({"iss": null})).await));
    bad.push(("another audience", signed(json!({"aud": "another-api"})).await));
    bad.push(("no audience", signed(json!({"aud": null})).await));
    bad.push(("expired 2 minutes ago", signed(json!({"exp": now() - 120})).await));
    bad.push(("no exp", signed(json!({"exp": null})).await));
    bad.push(("nbf in 2 minutes", signed(json!({"nbf": now() + 120})).await));
    bad.push(("no sub", signed(json!({"sub": null})).await));
    bad.push(("another key", provider.sign(good.clone(), SignedBy::OtherKey).await));
    bad.push(("alg none", provider.sign(good.clone(), SignedBy::AlgNone).await));
    bad.push(("HS256 keyed by the public key", provider.sign(good.clone(), SignedBy::Hs256PublicKey).await));
    bad.push((
        "HS256 keyed by the client secret",
        provider.sign(good.clone(), SignedBy::Hs256ClientSecret).await,
    ));
    let rs256_saying_rs512 =
        provider.sign_with_header(good.clone(), json!({"alg": "RS512"}), SignedBy::Provider);
    bad.push(("a header alg not its key's", rs256_saying_rs512.await));
    let big = provider.sign(changed(good.clone(), json!({"pad": "x".repeat(10 * 1024)})), SignedBy::Provider);
    bad.push(("10 KB", big.await));
    bad.push((
        "a payload that is not JSON",
        provider.sign(json!("not json at all"), SignedBy::Provider).await,
    ));
    bad.push(("segments that are not JSON", "bm90IGpzb24.bm90IGpzb24.c2ln".to_string()));
    bad.push(("a header that is not JSON", {
        let real = provider.sign(good.clone(), SignedBy::Provider).await;
        let (_, rest) = real.split_once('.').unwrap();
        format!("e30xyz.{rest}")
    }));
    bad.push(("two segments", "eyJhbGciOiJSUzI1NiJ9.e30".to_string()));
    bad.push(("a signature changed", {
        // A character in the middle of the signature: all six of its bits are signature
        // bits (the last character's low bits are padding, so changing those alone would
        // rest on the decoder refusing non-canonical base64).
        let real = provider.sign(good.clone(), SignedBy::Provider).await;
        let at = real.rfind('.').unwrap() + 100;
        let flipped = if &real[at..=at] == "A" { "B" } else { "A" };
        format!("{}{flipped}{}", &real[..at], &real[at + 1..])
    }));
    for (what, token) in &bad {
        assert_invalid_token(app.chat_token_with_bearer(token).await, what).await;
    }
    assert_eq!(app.user_count().await, 1);
    assert_eq!(app.link_count().await, 1);
}

#[tokio::test]
async fn a_token_without_kid_is_refused_when_the_provider_has_several_keys() {
    let (app, provider) = linked_ann(|c| c.with_es256()).await;
    let es = provider.sign(provider.access_claims("u-ann"), SignedBy::ProviderEs256).await;
    assert_eq!(app.bearer_status(&es).await, 200, "the ES256 key verifies its own tokens");
    let no_kid = provider
        .sign_with_header(provider.access_claims("u-ann"), json!({"kid": null}), SignedBy::Provider)
        .await;
    assert_invalid_token(app.chat_token_with_bearer(&no_kid).await, "no kid, two keys").await;
    // An RS256 signature under the ES256 key's kid: the key's algorithm decides.
    let crossed = provider
        .sign_with_header(
            provider.access_claims("u-ann"),
            json!({"kid": provider.kid("ES256")}),
            SignedBy::Provider,
        )
        .await;
    assert_invalid_token(app.chat_token_with_bearer(&crossed).await, "RS256 under the ES256 kid").await;
}

#[tokio::test]
async fn a_flood_of_unknown_kids_fetches_the_keys_a_few_times_at_most() {
    let (app, provider) = linked_ann(|c| c).await;
    let before = provider.jwks_fetches().await;
    for i in 0..200 {
        let token = provider
            .sign_with_header(
                provider.access_claims("u-ann"),
                json!({"kid": format!("bogus-{i}")}),
                SignedBy::Provider,
            )
            .await;
        assert_eq!(app.bearer_status(&token).await, 401, "kid {i}");
    }
    let fetched = provider.jwks_fetches().await - before;
    assert!(fetched <= 3, "{fetched} JWKS fetches for 200 unknown kids");
}

#[tokio::test]
async fn the_provider_down_still_verifies_cached_keys_and_an_unknown_kid_is_503() {
    let (app, provider) = linked_ann(|c| c).await;
    provider.set_jwks_down(true).await;
    let token = provider.sign(provider.access_claims("u-ann"), SignedBy::Provider).await;
    assert_eq!(app.bearer_status(&token).await, 200, "a cached key verifies");
    let unknown = provider
        .sign_with_header(provider.access_claims("u-ann"), json!({"kid": "rotated-in"}), SignedBy::Provider)
        .await;
    // Until the keys may be fetched again (every 5 s at most) the fresh set says no such
    // key; once a fetch has failed, chatpass cannot know: 503.
    poll(Duration::from_secs(20), "never 503 for an unknown kid with the provider down", || async {
        let status = app.bearer_status(&unknown).await;
        assert!(status == 401 || status == 503, "{status}");
        status == 503
    })
    .await;
    assert_eq!(app.bearer_status(&token).await, 200, "the cached key still verifies");
    // The provider back: the unknown kid is refused as such once it can be asked again.
    provider.set_jwks_down(false).await;
    poll(Duration::from_secs(20), "never 401 again once the provider is back", || async {
        app.bearer_status(&unknown).await == 401
    })
    .await;
}

#[tokio::test]
async fn an_unlinked_user_gets_no_account_unless_the_token_carries_a_verified_email() {
    let (app, provider) = with_provider(|c| c, &[]).await;
    let claims = provider.access_claims("u-bob");
    let plain = provider.sign(claims.clone(), SignedBy::Provider).await;
    let refused = app.chat_token_with_bearer(&plain).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(common::app_error(refused).await, AppError::NoAccount);
    for (what, change) in [
        ("email_verified false", json!({"email": "bob@example.com", "email_verified": false})),
        ("email_verified missing", json!({"email": "bob@example.com"})),
        ("email_verified \"true\"", json!({"email": "bob@example.com", "email_verified": "true"})),
        ("email_verified 1", json!({"email": "bob@example.com", "email_verified": 1})),
        ("a look-alike email", json!({"email": "b\u{043e}b@example.com", "email_verified": true})),
        ("no email", json!({"email_verified": true})),
    ] {
        let token = provider.sign(changed(claims.clone(), change), SignedBy::Provider).await;
        let refused = app.chat_token_with_bearer(&token).await;
        assert_eq!(refused.status(), 403, "{what}");
        assert_eq!(common::app_error(refused).await, AppError::NoAccount, "{what}");
        assert_eq!(app.user_count().await, 0, "{what}");
    }
    let with_email = provider.sign(
        changed(claims.clone(), json!({"email": "Bob@Example.com", "email_verified": true})),
        SignedBy::Provider,
    );
    let issued: chatpass::token::IssuedChatToken =
        common::answer(app.chat_token_with_bearer(&with_email.await).await, 200).await;
    assert_eq!(issued.identity, "bob@example.com");
    assert_eq!((app.user_count().await, app.link_count().await), (1, 1));
    // Linked now: a token without the email finds the account.
    assert_eq!(app.bearer_status(&plain).await, 200);
    assert_eq!(app.user_count().await, 1);
}

#[tokio::test]
async fn a_configured_audience_is_the_one_required() {
    let (app, provider) = with_provider(|c| c, &[("CHATPASS_OIDC_AUDIENCE", "urn:chatpass:api")]).await;
    let claims =
        changed(provider.access_claims("u-bob"), json!({"email": "bob@example.com", "email_verified": true}));
    let for_client = provider.sign(claims.clone(), SignedBy::Provider).await;
    assert_invalid_token(app.chat_token_with_bearer(&for_client).await, "aud: the client id").await;
    let for_api =
        provider.sign(changed(claims, json!({"aud": "urn:chatpass:api"})), SignedBy::Provider).await;
    assert_eq!(app.bearer_status(&for_api).await, 200);
}
