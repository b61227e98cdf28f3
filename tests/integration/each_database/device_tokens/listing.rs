//! The devices list and revoking from it: an account sees and revokes only its own
//! devices, never a token; at most 20 are kept; `last_used_at` is coarse.

use crate::common;

use chatpass::{devices::RevokedDevice, error::AppError};
use common::{devices::app_client, TestApp};

fn now() -> i64 {
    std::time::UNIX_EPOCH.elapsed().unwrap().as_secs() as i64
}

#[tokio::test]
async fn the_list_shows_each_device_once_newest_first_and_never_a_token() {
    let app = TestApp::spawn().await;
    let ann = app.proven_user("ann@example.com").await;
    let phone = app.device_of(&ann, "Ann's iPhone").await;
    let tablet = app.connect_device(&ann, "Ann's iPad").await;
    let response = ann.client.get(app.url("/api/device_tokens")).send().await.unwrap();
    let text = response.text().await.unwrap();
    for device in [&phone, &tablet] {
        assert!(!text.contains(common::devices::random_part(&device.device_token)), "{text}");
    }
    let listed = app.devices_with(&ann.client).await.devices;
    let mut ids: Vec<&str> = listed.iter().map(|d| d.id.as_str()).collect();
    ids.sort();
    let mut expected = vec![phone.id.as_str(), tablet.id.as_str()];
    expected.sort();
    assert_eq!(ids, expected);
    assert!(listed.windows(2).all(|w| w[0].created_at >= w[1].created_at), "newest first: {listed:?}");
    assert!(listed.iter().all(|d| d.last_used_at.is_none()), "neither used yet: {listed:?}");
    assert!(listed.iter().all(|d| d.id.len() == 32 && d.id.bytes().all(|b| b.is_ascii_hexdigit())));
    // Signed out, there is no list.
    let stranger = app_client().get(app.url("/api/device_tokens")).send().await.unwrap();
    assert_eq!(stranger.status(), 401);
    assert_eq!(common::app_error(stranger).await, AppError::NotSignedIn);
}

#[tokio::test]
async fn revoking_another_accounts_device_or_a_made_up_id_is_404_and_revokes_nothing() {
    let app = TestApp::spawn().await;
    let ann = app.proven_user("ann@example.com").await;
    let bob = app.proven_user("bob@example.com").await;
    let anns = app.device_of(&ann, "Ann's iPhone").await;
    let bobs = app.device_of(&bob, "Bob's Pixel").await;

    // Bob's device, named from Ann's browser and from Ann's device token.
    let from_browser = app.revoke_device_with(&ann.client, &bobs.id).await;
    assert_eq!(from_browser.status(), 404);
    assert_eq!(common::app_error(from_browser).await, AppError::UnknownDevice);
    let from_device = app_client()
        .post(app.url("/api/revoke_device_token"))
        .header(reqwest::header::AUTHORIZATION, common::devices::bearer(&anns.device_token))
        .json(&serde_json::json!({"id": bobs.id}))
        .send()
        .await
        .unwrap();
    assert_eq!(from_device.status(), 404);
    assert_eq!(common::app_error(from_device).await, AppError::UnknownDevice);
    // Ids that name nothing: made up, malformed, the token itself, SQL.
    for id in [
        "0".repeat(32),
        bobs.id.to_uppercase(),
        format!("{}0", bobs.id),
        bobs.id[..31].to_string(),
        String::new(),
        anns.device_token.clone(),
        "' OR 1=1 --".to_string(),
        format!("{}%", &bobs.id[..31]),
    ] {
        let response = app.revoke_device_with(&ann.client, &id).await;
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, 404, "{id:?}: {text}");
        assert!(!text.contains(common::devices::random_part(&anns.device_token)), "not echoed: {text}");
    }
    assert_eq!(app.device_count().await, 2);
    assert_eq!(app.bearer_status(&bobs.device_token).await, 200);
    assert_eq!(app.bearer_status(&anns.device_token).await, 200);
    assert_eq!(app.devices_with(&bob.client).await.devices.len(), 1);

    // Ann revokes her own; again is 404.
    let revoked: RevokedDevice =
        common::answer(app.revoke_device_with(&ann.client, &anns.id).await, 200).await;
    assert_eq!(revoked.id, anns.id);
    assert_eq!(app.revoke_device_with(&ann.client, &anns.id).await.status(), 404);
    assert_eq!(app.device_count().await, 1);
    // Signed out, nothing can be revoked.
    let stranger = app_client()
        .post(app.url("/api/revoke_device_token"))
        .form(&[("id", &bobs.id)])
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), 401);
    assert_eq!(app.bearer_status(&bobs.device_token).await, 200);
}

#[tokio::test]
async fn a_twenty_first_device_revokes_the_oldest_and_keeps_the_new_one() {
    let app = TestApp::spawn().await;
    let ann = app.proven_user("ann@example.com").await;
    let bob = app.proven_user("bob@example.com").await;
    let bobs = app.connect_device(&bob, "Bob's Pixel").await;
    let mut devices = Vec::new();
    for i in 0..20 {
        devices.push(app.connect_device(&ann, &format!("device {i:02}")).await);
    }
    // Times are in seconds: the first is made a minute older, so "the oldest" is one device.
    app.execute(&format!(
        "UPDATE device_tokens SET created_at = created_at - 60 WHERE id = '{}'",
        devices[0].id
    ))
    .await;
    devices.push(app.device_of(&ann, "device 20").await);
    let listed = app.devices_with(&ann.client).await.devices;
    assert_eq!(listed.len(), 20);
    assert!(!listed.iter().any(|d| d.id == devices[0].id), "the oldest is gone: {listed:?}");
    assert_eq!(app.bearer_status(&devices[0].device_token).await, 401, "the oldest is revoked");
    for device in &devices[1..] {
        assert_eq!(app.bearer_status(&device.device_token).await, 200, "{} is kept", device.device_name);
    }
    assert_eq!(app.bearer_status(&bobs.device_token).await, 200, "another account's are not counted");
    assert_eq!(app.device_count().await, 21);
}

/// Devices made within one second tie on `created_at`, and a clock stepped back (or
/// another instance's clock) can make older ones look newer: the device just made is kept
/// whatever the clock says, or its owner would be handed a token that is already dead.
#[tokio::test]
async fn the_device_just_made_is_kept_even_when_the_others_look_newer() {
    let app = TestApp::spawn().await;
    let ann = app.proven_user("ann@example.com").await;
    for i in 0..20 {
        app.connect_device(&ann, &format!("device {i:02}")).await;
    }
    app.execute("UPDATE device_tokens SET created_at = created_at + 3600").await;
    for i in 0..3 {
        let new = app.connect_device(&ann, &format!("new {i}")).await;
        assert_eq!(app.bearer_status(&new.device_token).await, 200, "new {i} is live");
        let listed = app.devices_with(&ann.client).await.devices;
        assert_eq!(listed.len(), 20);
        assert!(listed.iter().any(|d| d.id == new.id), "new {i} is listed");
    }
    assert_eq!(app.device_count().await, 20);
}

#[tokio::test]
async fn last_used_at_is_set_by_a_use_and_written_at_most_once_a_minute() {
    let app = TestApp::spawn().await;
    let ann = app.proven_user("ann@example.com").await;
    let device = app.device_of(&ann, "Ann's iPhone").await;
    assert_eq!(app.last_used_at(&device.id).await, None, "not used yet");

    let before = now();
    assert_eq!(app.bearer_status(&device.device_token).await, 200);
    let first = app.last_used_at(&device.id).await.expect("set by the use");
    assert!((before..=now()).contains(&first), "{first} is the time of the use");
    let listed = app.devices_with(&ann.client).await.devices;
    assert_eq!(listed[0].last_used_at, Some(first));

    // A use 30 s after the last recorded one does not write.
    let recent = now() - 30;
    app.execute(&format!("UPDATE device_tokens SET last_used_at = {recent}")).await;
    assert_eq!(app.bearer_status(&device.device_token).await, 200);
    assert_eq!(app.devices_with_bearer(&device.device_token).await.devices.len(), 1);
    assert_eq!(app.last_used_at(&device.id).await, Some(recent), "not rewritten within the minute");
    // Many concurrent uses within the minute do not write either.
    let statuses = concurrent_statuses(&app, &device.device_token, 10).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(app.last_used_at(&device.id).await, Some(recent));

    // A use over a minute after it does.
    let stale = now() - 61;
    app.execute(&format!("UPDATE device_tokens SET last_used_at = {stale}")).await;
    let before = now();
    assert_eq!(app.bearer_status(&device.device_token).await, 200);
    let second = app.last_used_at(&device.id).await.unwrap();
    assert!((before..=now()).contains(&second), "rewritten: {second}");
    // A refused request records nothing.
    app.execute(&format!("UPDATE device_tokens SET last_used_at = {stale}")).await;
    let changed = common::devices::changed_at(&device.device_token, 12);
    assert_eq!(app.bearer_status(&changed).await, 401);
    assert_eq!(app.last_used_at(&device.id).await, Some(stale));
}

/// `n` concurrent chat-token requests with `token`; their statuses.
async fn concurrent_statuses(app: &TestApp, token: &str, n: usize) -> Vec<u16> {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (url, value) = (app.url("/api/chat_token"), common::devices::bearer(token));
        tasks.spawn(async move {
            let response =
                app_client().post(url).header(reqwest::header::AUTHORIZATION, value).send().await.unwrap();
            response.status().as_u16()
        });
    }
    tasks.join_all().await
}
