//! The other ways an account comes to chat, each queueing its User's create in the same
//! transaction: sign-up with `CHATPASS_EMAIL_VERIFICATION=off` (made able to chat), an
//! auth proxy's first request for an email (made proven), and a reset link that proves an
//! account signed up before proof was required. (A provider's first sign-in: `user_id`.)

use super::{create, live, outcomes};
use crate::common::{self, fixtures::GOOD, mail};

fn created() -> Vec<(String, String)> {
    vec![("create".to_string(), "created".to_string())]
}

#[tokio::test]
async fn a_sign_up_without_verification_makes_the_user_at_once() {
    let live = live(&[("CHATPASS_EMAIL_VERIFICATION", "off")]).await;
    let form = [("email", "ann@example.com"), ("password", GOOD), ("display_name", "Ann Lee")];
    let signup = live.app.post_form("/api/signup", &form).await;
    assert_eq!(signup.status(), 200, "{}", signup.text().await.unwrap_or_default());
    let rows = live.settled(1).await;
    assert_eq!(outcomes(&rows), created());
    assert_eq!(live.made().await, [create("ann@example.com", "Ann Lee", 201)]);
}

#[tokio::test]
async fn a_trusted_proxys_first_request_for_an_email_makes_its_user_once() {
    let live = live(&[
        ("CHATPASS_TRUSTED_IDENTITY_HEADER", "X-Auth-Request-Email"),
        ("CHATPASS_TRUSTED_PROXIES", "127.0.0.1/32"),
    ])
    .await;
    let browser = common::client();
    for _ in 0..3 {
        let token = browser
            .post(live.app.url("/api/chat_token"))
            .header("origin", format!("http://{}", live.app.addr))
            .header("x-auth-request-email", "Ann@Example.com")
            .send()
            .await
            .unwrap();
        assert_eq!(token.status(), 200);
    }
    let rows = live.settled(1).await;
    assert_eq!(outcomes(&rows), created());
    assert_eq!(live.made().await, [create("ann@example.com", "ann", 201)], "one account, one User");
}

#[tokio::test]
async fn a_reset_link_that_proves_the_address_makes_the_user() {
    let live = live(&[]).await;
    // From before proof was required: a password, no proof, so no chat and no User.
    live.app.legacy_account("ann@example.com", GOOD).await;
    assert_eq!(live.app.forgot_password("ann@example.com").await, 202);
    let mail = live.app.wait_for_mail("ann@example.com", 1).await;
    let token = mail::reset_token(&mail).expect("a reset link");
    assert!(live.calls().await.is_empty(), "asking for a link proves nothing");

    let form = [("token", token.as_str()), ("password", "a brand new long passphrase")];
    let reset = live.app.post_form_with(&common::client(), "/api/reset_password", &form).await;
    assert_eq!(reset.status(), 200, "{}", reset.text().await.unwrap_or_default());
    let rows = live.settled(1).await;
    assert_eq!(outcomes(&rows), created());
    assert_eq!(live.made().await, [create("ann@example.com", "ann", 201)]);

    // A second reset proves nothing new: no second create. (Mail 2 is the notice that
    // the password changed.)
    assert_eq!(live.app.forgot_password("ann@example.com").await, 202);
    let mail = live.app.wait_for_mail("ann@example.com", 3).await;
    let token = mail::reset_token(&mail).expect("a second reset link");
    let form = [("token", token.as_str()), ("password", "yet another long passphrase")];
    assert_eq!(live.app.post_form_with(&common::client(), "/api/reset_password", &form).await.status(), 200);
    assert_eq!(live.calls().await.len(), 1);
}
