//! The web sign-in: the provider's page, the callback, the account it lands on.

use super::with_provider;
use crate::common;

#[tokio::test]
async fn a_provider_user_signs_in_lands_on_next_and_gets_a_token_for_their_email() {
    let (app, provider) = with_provider(|c| c.verified_account("u-ann", "Ann@Example.com"), &[]).await;
    let browser = common::client();
    let back = app.oidc_sign_in(&provider, &browser, "u-ann", "/chat").await;
    assert_eq!(back.status(), 303, "{}", back.text().await.unwrap_or_default());
    assert_eq!(back.headers()["location"], "/chat");
    let token = app.chat_token_with(&browser).await;
    assert_eq!(token.identity, "ann@example.com");
    assert_eq!(app.user_count().await, 1);
}
