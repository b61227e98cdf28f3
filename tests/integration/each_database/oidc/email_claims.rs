//! A first sign-in needs an email the provider vouches for (`email_verified: true`, a JSON
//! boolean) and that chatpass accepts; otherwise no account, and the login page says why.

use serde_json::json;

use super::{refusal, with_provider};
use crate::common;

#[tokio::test]
async fn an_email_not_verified_by_the_provider_makes_no_account() {
    let (app, provider) = with_provider(
        |c| {
            c.account(json!({"sub": "u-false", "email": "f@example.com", "email_verified": false}))
                .account(json!({"sub": "u-missing", "email": "m@example.com"}))
                .account(json!({"sub": "u-no-email"}))
        },
        &[],
    )
    .await;
    for sub in ["u-false", "u-missing", "u-no-email"] {
        let browser = common::client();
        let answer = app.oidc_sign_in(&provider, &browser, sub, "/chat").await;
        assert_eq!(refusal(answer).await, "email_not_verified", "{sub}");
        app.assert_nobody_signed_in(&browser, sub).await;
    }
}

/// A string `"true"` is not the boolean: openidconnect refuses the whole ID token (its
/// `email_verified` must be a boolean), so the sign-in is refused as the provider's fault.
#[tokio::test]
async fn email_verified_as_the_string_true_makes_no_account() {
    let (app, provider) = with_provider(
        |c| c.account(json!({"sub": "u-string", "email": "s@example.com", "email_verified": "true"})),
        &[],
    )
    .await;
    let browser = common::client();
    let answer = app.oidc_sign_in(&provider, &browser, "u-string", "/chat").await;
    assert_eq!(refusal(answer).await, "provider");
    app.assert_nobody_signed_in(&browser, "\"true\"").await;
}

#[tokio::test]
async fn an_email_chatpass_refuses_makes_no_account() {
    let looks_alike = [
        ("u-cyrillic", "\u{0430}nn@example.com"),
        ("u-quoted", "\"victim@example.com\"@evil.example"),
        ("u-route", "ann%example.com@evil.example"),
        ("u-ip", "ann@127.0.0.1"),
        ("u-none", "not an email"),
    ];
    let (app, provider) =
        with_provider(|c| looks_alike.iter().fold(c, |c, (sub, email)| c.verified_account(sub, email)), &[])
            .await;
    for (sub, email) in looks_alike {
        let browser = common::client();
        let answer = app.oidc_sign_in(&provider, &browser, sub, "/chat").await;
        assert_eq!(refusal(answer).await, "email_refused", "{email:?}");
        app.assert_nobody_signed_in(&browser, email).await;
    }
}
