//! Everything that ends an account's device tokens: a revoke, a password change or reset,
//! the owner proving an email someone else had set a password for, deleting the account.
//! Each ends every device of the account (and no one else's) from the next request on.

use crate::common;

use chatpass::{devices::NewDevice, error::AppError};
use common::{
    devices::assert_invalid_token,
    fixtures::{GOOD, OTHER},
    mail, TestApp,
};

/// Asks for a reset link for `email` and returns its token once the mail is written.
async fn reset_link(app: &TestApp, email: &str) -> String {
    let links =
        |app: &TestApp| app.mails_to(email).iter().filter_map(|m| mail::reset_token(m)).collect::<Vec<_>>();
    let before = links(app).len();
    assert_eq!(app.forgot_password(email).await, 202);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if let Some(link) = links(app).get(before) {
            return link.clone();
        }
        assert!(std::time::Instant::now() < deadline, "no new /reset link for {email}");
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

async fn assert_all_dead(app: &TestApp, devices: &[&NewDevice], what: &str) {
    for device in devices {
        let name = &device.device_name;
        assert_invalid_token(
            app.chat_token_with_bearer(&device.device_token).await,
            &format!("{name}: {what}"),
        )
        .await;
    }
}

#[tokio::test]
async fn a_password_change_ends_every_device_of_the_account_and_no_others() {
    let app = TestApp::spawn().await;
    let ann = app.proven_user("ann@example.com").await;
    let bob = app.proven_user("bob@example.com").await;
    let (phone, tablet) = (app.device_of(&ann, "phone").await, app.connect_device(&ann, "tablet").await);
    let bobs = app.device_of(&bob, "Bob's").await;
    let form = [("current_password", GOOD), ("new_password", OTHER)];
    assert_eq!(app.post_form_with(&ann.client, "/api/change_password", &form).await.status(), 200);
    assert_all_dead(&app, &[&phone, &tablet], "after a password change").await;
    assert!(app.devices_with(&ann.client).await.devices.is_empty());
    assert_eq!(app.bearer_status(&bobs.device_token).await, 200);
}

#[tokio::test]
async fn a_password_reset_ends_every_device_of_the_account() {
    let app = TestApp::spawn().await;
    let ann = app.proven_user("ann@example.com").await;
    let bob = app.proven_user("bob@example.com").await;
    let (phone, tablet) = (app.device_of(&ann, "phone").await, app.connect_device(&ann, "tablet").await);
    let bobs = app.device_of(&bob, "Bob's").await;
    let link = reset_link(&app, &ann.email).await;
    // Asking for a link ends nothing: anyone can ask.
    assert_eq!(app.bearer_status(&phone.device_token).await, 200);
    let browser = common::client();
    let reset =
        app.post_form_with(&browser, "/api/reset_password", &[("token", &link), ("password", OTHER)]).await;
    assert_eq!(reset.status(), 200);
    assert_all_dead(&app, &[&phone, &tablet], "after a reset").await;
    assert!(app.devices_with(&browser).await.devices.is_empty());
    assert_eq!(app.bearer_status(&bobs.device_token).await, 200);
    assert_eq!(app.device_count().await, 1);
}

#[tokio::test]
async fn the_owner_proving_the_email_ends_the_devices_of_whoever_set_the_password() {
    let app = TestApp::spawn().await;
    let email = "ceo@example.com";
    let attacker_password = "an attacker's chosen passphrase";
    app.legacy_account(email, attacker_password).await;
    // The squatter signs a device in with the password they set, and a browser too.
    let squatters: NewDevice =
        common::answer(app.create_device(email, attacker_password, "evil").await, 201).await;
    let browser = app.logged_in_browser(email, attacker_password, None).await;
    let connected = app.post_form_with(&browser, "/api/connect_device", &[("device_name", "evil 2")]).await;
    let connected: NewDevice = common::answer(connected, 201).await;
    // Before the proof a device gets no chat token, as a session gets none.
    for device in [&squatters, &connected] {
        let refused = app.chat_token_with_bearer(&device.device_token).await;
        assert_eq!(refused.status(), 403);
        assert_eq!(common::app_error(refused).await, AppError::EmailUnverified);
    }

    let owner = common::client();
    assert_eq!(app.post_form_with(&owner, "/api/signup", &[("email", email)]).await.status(), 202);
    let link = app.verification_token(email, 1).await;
    let proof = app.verify_with(&owner, &link, GOOD).await;
    assert_eq!(proof.status(), 200);
    assert_all_dead(&app, &[&squatters, &connected], "after the owner's proof").await;
    assert_eq!(app.device_count().await, 0);
    assert!(app.devices_with(&owner).await.devices.is_empty());
    // The squatter's password no longer signs a device in; the owner's does, and gets tokens.
    assert_eq!(app.create_device(email, attacker_password, "evil").await.status(), 401);
    let owners: NewDevice = common::answer(app.create_device(email, GOOD, "CEO's phone").await, 201).await;
    assert_eq!(app.bearer_status(&owners.device_token).await, 200);
}

#[tokio::test]
async fn deleting_the_account_ends_its_devices() {
    let app = TestApp::spawn().await;
    let ann = app.proven_user("ann@example.com").await;
    let bob = app.proven_user("bob@example.com").await;
    let (phone, tablet) = (app.device_of(&ann, "phone").await, app.connect_device(&ann, "tablet").await);
    let bobs = app.device_of(&bob, "Bob's").await;
    let deleted = app.post_form_with(&ann.client, "/api/delete_account", &[("password", GOOD)]).await;
    assert_eq!(deleted.status(), 200);
    assert_all_dead(&app, &[&phone, &tablet], "of a deleted account").await;
    assert_eq!(app.device_count().await, 1, "only Bob's is left");
    assert_eq!(app.bearer_status(&bobs.device_token).await, 200);
    // The same email signed up again is a new account: the old devices stay dead.
    let again = app.proven_user("ann@example.com").await;
    assert_all_dead(&app, &[&phone, &tablet], "after the email signed up again").await;
    assert!(app.devices_with(&again.client).await.devices.is_empty());
}

#[tokio::test]
async fn a_device_can_revoke_itself_and_then_can_do_nothing() {
    let app = TestApp::spawn().await;
    let ann = app.proven_user("ann@example.com").await;
    let device = app.device_of(&ann, "phone").await;
    let revoke = |id: &str| {
        common::devices::app_client()
            .post(app.url("/api/revoke_device_token"))
            .header(reqwest::header::AUTHORIZATION, common::devices::bearer(&device.device_token))
            .form(&[("id", id.to_string())])
            .send()
    };
    assert_eq!(revoke(&device.id).await.unwrap().status(), 200);
    assert_invalid_token(revoke(&device.id).await.unwrap(), "revoking again").await;
    let list = common::devices::app_client()
        .get(app.url("/api/device_tokens"))
        .header(reqwest::header::AUTHORIZATION, common::devices::bearer(&device.device_token))
        .send()
        .await
        .unwrap();
    assert_invalid_token(list, "listing").await;
    assert_invalid_token(app.chat_token_with_bearer(&device.device_token).await, "a token").await;
}
