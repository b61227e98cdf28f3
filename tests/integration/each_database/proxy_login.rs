//! Behind an auth proxy: its identity header signs the browser in, only from a trusted peer.

use crate::common;

use chatpass::error::AppError;
use common::TestApp;

const HEADER: &str = "x-auth-request-email";

async fn behind_proxy(trusted: &str) -> TestApp {
    TestApp::builder()
        .env("CHATPASS_TRUSTED_IDENTITY_HEADER", "X-Auth-Request-Email")
        .env("CHATPASS_TRUSTED_PROXIES", trusted)
        .spawn()
        .await
}

async fn chat_token_as(
    app: &TestApp,
    browser: &reqwest::Client,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut request =
        browser.post(app.url("/api/chat_token")).header("origin", format!("http://{}", app.addr));
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn a_trusted_proxys_header_signs_in_a_proven_account_made_on_first_sight() {
    let app = behind_proxy("127.0.0.1/32").await;
    let browser = common::client();
    let token = chat_token_as(&app, &browser, &[(HEADER, "Ann@Example.com")]).await;
    let token: chatpass::token::IssuedChatToken = common::answer(token, 200).await;
    assert_eq!(token.identity, "ann@example.com");
    assert_eq!(app.user_count().await, 1);
    // The session it made carries on; the same email again makes no second account.
    assert_eq!(chat_token_as(&app, &browser, &[(HEADER, "ann@example.com")]).await.status(), 200);
    assert_eq!(app.user_count().await, 1);
    // Another email on the same browser: that account, under a new session.
    let bob: chatpass::token::IssuedChatToken =
        common::answer(chat_token_as(&app, &browser, &[(HEADER, "bob@example.com")]).await, 200).await;
    assert_eq!(bob.identity, "bob@example.com");
}

#[tokio::test]
async fn the_header_from_an_untrusted_peer_is_ignored() {
    let app = behind_proxy("10.0.0.0/8").await;
    let response = chat_token_as(&app, &common::client(), &[(HEADER, "ann@example.com")]).await;
    assert_eq!(common::app_error(response).await, AppError::NotSignedIn);
    assert_eq!(app.user_count().await, 0);
}

#[tokio::test]
async fn a_header_sent_twice_empty_or_not_an_email_is_400_and_writes_nothing() {
    let app = behind_proxy("127.0.0.1/32").await;
    for bad in [
        &[(HEADER, "a@example.com"), (HEADER, "b@example.com")][..],
        &[(HEADER, "")],
        &[(HEADER, "not an email")],
        &[(HEADER, "аnn@example.com")],
    ] {
        let response = chat_token_as(&app, &common::client(), bad).await;
        assert_eq!(response.status(), 400, "{bad:?}");
        let (field, _) = common::bad_input(response).await;
        assert_eq!(field, "identity_header");
    }
    assert_eq!(app.user_count().await, 0);
}

#[tokio::test]
async fn an_unproven_account_is_taken_over_by_the_proxys_email() {
    let app = behind_proxy("127.0.0.1/32").await;
    app.legacy_account("ann@example.com", common::fixtures::GOOD).await;
    let response = chat_token_as(&app, &common::client(), &[(HEADER, "ann@example.com")]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(app.user_count().await, 1);
    // Whoever chose the old password cannot log in with it any more.
    assert_eq!(app.login("ann@example.com", common::fixtures::GOOD).await.status(), 401);
}

#[tokio::test]
async fn an_account_without_a_password_is_deleted_by_typing_its_email() {
    let app = behind_proxy("127.0.0.1/32").await;
    let browser = common::client();
    assert_eq!(chat_token_as(&app, &browser, &[(HEADER, "ann@example.com")]).await.status(), 200);
    assert!(!app.account_with(&browser).await.has_password);
    let delete = |typed: &'static str| {
        browser
            .post(app.url("/api/delete_account"))
            .header("origin", format!("http://{}", app.addr))
            .form(&[("password", typed)])
            .send()
    };
    let wrong = delete("bob@example.com").await.unwrap();
    assert_eq!(common::bad_input(wrong).await.0, "password");
    assert_eq!(app.user_count().await, 1);
    assert_eq!(delete("Ann@Example.com").await.unwrap().status(), 200);
    assert_eq!(app.user_count().await, 0);
}

#[tokio::test]
async fn first_requests_racing_for_one_new_email_make_one_account_and_all_get_in() {
    let app = behind_proxy("127.0.0.1/32").await;
    let requests = (0..10).map(|_| {
        let app = &app;
        async move { chat_token_as(app, &common::client(), &[(HEADER, "new@example.com")]).await.status() }
    });
    let statuses = futures::future::join_all(requests).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(app.user_count().await, 1);
}
