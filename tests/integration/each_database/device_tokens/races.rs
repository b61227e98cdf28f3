//! A revoke and a password change racing the chat-token requests of the device they end:
//! a request may win only if it started before the change answered. No sleeps: the
//! requests in flight are held at a known point (their body unsent) or run freely, and
//! every request sent after the change's answer must be refused.

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};

use crate::common;

use common::{
    devices::{app_client, assert_invalid_token, bearer, HeldRequest},
    fixtures::OTHER,
    TestApp,
};

/// `n` chat-token requests with `token`, started now and left running.
fn start_requests(app: &TestApp, token: &str, n: usize) -> tokio::task::JoinSet<u16> {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (url, value) = (app.url("/api/chat_token"), bearer(token));
        tasks.spawn(async move {
            let response = app_client().post(url).header(reqwest::header::AUTHORIZATION, value).send().await;
            response.expect("an answer").status().as_u16()
        });
    }
    tasks
}

#[tokio::test]
async fn no_request_that_starts_after_a_revoke_has_answered_gets_a_token() {
    let app = TestApp::spawn().await;
    let ann = app.proven_user("ann@example.com").await;
    let device = app.device_of(&ann, "Ann's iPhone").await;
    let other = app.connect_device(&ann, "Ann's iPad").await;
    // Five held at the body: the server is serving them, and they are judged after the revoke.
    let mut held = Vec::new();
    for _ in 0..5 {
        held.push(HeldRequest::chat_token(&app, &device.device_token).await);
    }
    let in_flight = start_requests(&app, &device.device_token, 20);

    let revoked = app.revoke_device_with(&ann.client, &device.id).await;
    assert_eq!(revoked.status(), 200);
    // From here on every request started is refused.
    let after = start_requests(&app, &device.device_token, 20);
    let after = after.join_all().await;
    assert!(after.iter().all(|s| *s == 401), "after the revoke: {after:?}");
    for request in held {
        assert_eq!(request.finish().await, 401, "a request read after the revoke is judged after it");
    }
    assert_invalid_token(app.chat_token_with_bearer(&device.device_token).await, "revoked").await;
    // Those that raced it got a token or a refusal, nothing else.
    let raced = in_flight.join_all().await;
    assert!(raced.iter().all(|s| [200, 401].contains(s)), "racing the revoke: {raced:?}");
    // The account's other device is untouched.
    assert_eq!(app.bearer_status(&other.device_token).await, 200);
}

#[tokio::test]
async fn a_password_change_racing_token_requests_kills_the_device_token() {
    let app = TestApp::spawn().await;
    let ann = app.proven_user("ann@example.com").await;
    let device = app.device_of(&ann, "Ann's iPhone").await;
    let held = HeldRequest::chat_token(&app, &device.device_token).await;
    // A stream of requests runs across the change; each notes whether it was sent after
    // the change had answered.
    let changed = Arc::new(AtomicBool::new(false));
    let stream = {
        let (changed, url, value) =
            (changed.clone(), app.url("/api/chat_token"), bearer(&device.device_token));
        tokio::spawn(async move {
            let client = app_client();
            let mut seen = Vec::new();
            let mut sent_after = 0;
            while sent_after < 10 {
                let after = changed.load(Ordering::SeqCst);
                let request = client.post(&url).header(reqwest::header::AUTHORIZATION, value.clone());
                let status = request.send().await.expect("an answer").status().as_u16();
                seen.push((after, status));
                sent_after += usize::from(after);
                tokio::task::yield_now().await;
            }
            seen
        })
    };
    let form = [("current_password", ann.password.as_str()), ("new_password", OTHER)];
    let change = app.post_form_with(&ann.client, "/api/change_password", &form).await;
    assert_eq!(change.status(), 200, "{}", change.text().await.unwrap_or_default());
    changed.store(true, Ordering::SeqCst);

    let seen = stream.await.unwrap();
    for (after, status) in &seen {
        if *after {
            assert_eq!(*status, 401, "sent after the change answered: {seen:?}");
        } else {
            assert!([200, 401].contains(status), "{seen:?}");
        }
    }
    assert_eq!(held.finish().await, 401);
    assert_invalid_token(app.chat_token_with_bearer(&device.device_token).await, "after a change").await;
    assert_eq!(app.device_count().await, 0);
    // The new password signs a new device in.
    let new = app.create_device(&ann.email, OTHER, "Ann's iPhone").await;
    assert_eq!(new.status(), 201);
}

/// Devices signed in with the old password while the password changes: each password
/// was checked before the change or is refused after it, and either way the change ends
/// the device. One that outlived the change would be a way in that the change did not close.
#[tokio::test]
async fn a_device_signed_in_while_the_password_changes_does_not_outlive_the_change() {
    let app = TestApp::spawn().await;
    let ann = app.proven_user("ann@example.com").await;
    let changed = Arc::new(AtomicBool::new(false));
    // Four streams of sign-ins with the old password, running until the change has answered.
    let mut streams = tokio::task::JoinSet::new();
    for stream in 0..4 {
        let (changed, url, email) = (changed.clone(), app.url("/api/device_tokens"), ann.email.clone());
        let password = ann.password.clone();
        streams.spawn(async move {
            let mut answers = Vec::new();
            for i in 0.. {
                let done = changed.load(Ordering::SeqCst);
                let name = format!("stream {stream} device {i}");
                let body = serde_json::json!({"email": email, "password": password, "device_name": name});
                let response = app_client().post(&url).json(&body).send().await.unwrap();
                let status = response.status().as_u16();
                answers.push((status, response.json::<serde_json::Value>().await.unwrap()));
                if done {
                    break;
                }
            }
            answers
        });
    }
    let form = [("current_password", ann.password.as_str()), ("new_password", OTHER)];
    assert_eq!(app.post_form_with(&ann.client, "/api/change_password", &form).await.status(), 200);
    changed.store(true, Ordering::SeqCst);
    let answers: Vec<_> = streams.join_all().await.into_iter().flatten().collect();
    let mut created = 0;
    for (status, body) in &answers {
        match status {
            201 => {
                created += 1;
                let token = body["device_token"].as_str().unwrap();
                assert_eq!(
                    app.bearer_status(token).await,
                    401,
                    "{} outlived the change",
                    body["device_name"]
                );
            }
            401 => assert_eq!(body["error"], "bad_credentials", "{body}"),
            other => panic!("{other}: {body}"),
        }
    }
    assert!(created > 0, "some sign-ins came before the change: {answers:?}");
    assert_eq!(app.device_count().await, 0);
}
