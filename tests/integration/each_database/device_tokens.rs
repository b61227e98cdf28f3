//! Device tokens through the real router: an app signs in with the email and password,
//! gets chat tokens with `Authorization: Bearer`, and stops the moment its token is revoked.

use crate::common;

use chatpass::{
    devices::{Devices, NewDevice, RevokedDevice},
    error::AppError,
    token::IssuedChatToken,
};
use common::{fixtures::GOOD, TestApp};

/// What an app sends: no cookies, no `Origin`.
fn app_client() -> reqwest::Client {
    reqwest::Client::builder().build().unwrap()
}

async fn create(app: &TestApp, email: &str, password: &str, name: &str) -> reqwest::Response {
    app_client()
        .post(app.url("/api/device_tokens"))
        .json(&serde_json::json!({"email": email, "password": password, "device_name": name}))
        .send()
        .await
        .unwrap()
}

async fn chat_token_with_bearer(app: &TestApp, bearer: &str) -> reqwest::Response {
    app_client().post(app.url("/api/chat_token")).bearer_auth(bearer).send().await.unwrap()
}

#[tokio::test]
async fn an_app_signs_in_gets_chat_tokens_and_is_revoked() {
    let app = TestApp::spawn().await;
    let ann = app.proven_user("ann@example.com").await;
    let device: NewDevice = common::answer(create(&app, &ann.email, GOOD, "Ann's iPhone").await, 201).await;
    assert!(device.device_token.starts_with("cpd_"));
    assert_eq!(device.device_name, "Ann's iPhone");

    let token: IssuedChatToken =
        common::answer(chat_token_with_bearer(&app, &device.device_token).await, 200).await;
    assert_eq!(token.identity, "ann@example.com");

    let listed = app_client()
        .get(app.url("/api/device_tokens"))
        .bearer_auth(&device.device_token)
        .send()
        .await
        .unwrap();
    let listed: Devices = common::answer(listed, 200).await;
    assert_eq!(listed.devices.len(), 1);
    assert_eq!(listed.devices[0].id, device.id);
    assert!(listed.devices[0].last_used_at.is_some());

    let revoked = app_client()
        .post(app.url("/api/revoke_device_token"))
        .bearer_auth(&device.device_token)
        .form(&[("id", device.id.as_str())])
        .send()
        .await
        .unwrap();
    let revoked: RevokedDevice = common::answer(revoked, 200).await;
    assert_eq!(revoked.id, device.id);

    let refused = chat_token_with_bearer(&app, &device.device_token).await;
    assert_eq!(refused.status(), 401);
    assert_eq!(
        refused.headers().get("www-authenticate").and_then(|v| v.to_str().ok()),
        Some(r#"Bearer error="invalid_token""#)
    );
    assert_eq!(common::app_error(refused).await, AppError::InvalidToken);
}
