//! Device tokens through the real router: an app signs in with the email and password,
//! gets chat tokens with `Authorization: Bearer`, and stops the moment its token is revoked.
//! The bad input of issue #27 is in the submodules, one area each.

mod bearer;
mod cors;
mod device_names;
mod json_bodies;
mod limits;
mod listing;
mod races;
mod revocation;
mod secrecy;

use crate::common;

use chatpass::{
    devices::{NewDevice, RevokedDevice},
    token::IssuedChatToken,
};
use common::{
    devices::{app_client, assert_invalid_token, bearer},
    TestApp,
};

#[tokio::test]
async fn an_app_signs_in_gets_chat_tokens_and_is_revoked() {
    let app = TestApp::spawn().await;
    let ann = app.proven_user("ann@example.com").await;
    let device: NewDevice =
        common::answer(app.create_device(&ann.email, &ann.password, "Ann's iPhone").await, 201).await;
    assert!(device.device_token.starts_with("cpd_"));
    assert_eq!(device.device_name, "Ann's iPhone");

    let token: IssuedChatToken =
        common::answer(app.chat_token_with_bearer(&device.device_token).await, 200).await;
    assert_eq!(token.identity, "ann@example.com");

    let listed = app.devices_with_bearer(&device.device_token).await;
    assert_eq!(listed.devices.len(), 1);
    assert_eq!(listed.devices[0].id, device.id);
    assert!(listed.devices[0].last_used_at.is_some());

    let revoked = app_client()
        .post(app.url("/api/revoke_device_token"))
        .header(reqwest::header::AUTHORIZATION, bearer(&device.device_token))
        .form(&[("id", device.id.as_str())])
        .send()
        .await
        .unwrap();
    let revoked: RevokedDevice = common::answer(revoked, 200).await;
    assert_eq!(revoked.id, device.id);

    assert_invalid_token(app.chat_token_with_bearer(&device.device_token).await, "revoked").await;
}
