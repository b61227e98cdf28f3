//! `POST /api/device_tokens` checks a password as `/api/login` does, under the same
//! failed-login limits (per account and address, per address; counted in the database and
//! shared with the login), with the same one message for an unknown email.

use crate::common;

use chatpass::error::AppError;
use common::{fixtures::GOOD, TestApp};

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

#[tokio::test]
async fn thirty_wrong_passwords_are_limited_like_a_login_and_the_owner_still_gets_in() {
    let app = TestApp::spawn().await;
    let ann = app.proven_user("ann@example.com").await;
    let attacker = common::client_from("127.0.0.2");
    let mut statuses = Vec::new();
    for i in 0..30 {
        let response = app.create_device_with(&attacker, &ann.email, &format!("guess {i:04}"), "evil").await;
        let status = response.status().as_u16();
        let retry_after = response.headers().get("retry-after").cloned();
        match common::app_error(response).await {
            AppError::BadCredentials => assert_eq!(status, 401),
            AppError::RateLimited { retry_after: wait } => {
                assert_eq!(status, 429);
                assert!((1..=15 * 60).contains(&wait), "until the window ends: {wait}");
                let header: u64 = retry_after.expect("Retry-After").to_str().unwrap().parse().unwrap();
                assert_eq!(header, wait);
            }
            other => panic!("guess {i}: {other:?}"),
        }
        statuses.push(status);
    }
    assert_eq!(
        (count(&statuses, 401), count(&statuses, 429)),
        (10, 20),
        "the pair's budget of 10: {statuses:?}"
    );
    // The right password from that address is slowed down too, here and at the login.
    assert_eq!(app.create_device_with(&attacker, &ann.email, GOOD, "evil").await.status(), 429);
    let login =
        app.post_form_with(&attacker, "/api/login", &[("email", &ann.email), ("password", GOOD)]).await;
    assert_eq!(login.status(), 429, "one budget for logins and devices");
    assert_eq!(app.device_count().await, 0);

    // The owner, from addresses that have not failed, gets in: a browser and a device.
    ann.new_browser(&app, None).await;
    let phone =
        app.create_device_with(&common::client_from("127.0.0.3"), &ann.email, GOOD, "Ann's iPhone").await;
    assert_eq!(phone.status(), 201);
    assert_eq!(app.device_count().await, 1);
}

#[tokio::test]
async fn an_unknown_email_and_a_wrong_password_get_the_same_answer() {
    let app = TestApp::spawn().await;
    let ann = app.proven_user("ann@example.com").await;
    let wrong = app.create_device(&ann.email, "not the password at all", "x").await;
    let unknown = app.create_device("nobody@example.com", GOOD, "x").await;
    assert_eq!((wrong.status().as_u16(), unknown.status().as_u16()), (401, 401));
    let (wrong, unknown) = (wrong.text().await.unwrap(), unknown.text().await.unwrap());
    assert_eq!(wrong, unknown);
    assert_eq!(serde_json::from_str::<AppError>(&wrong).unwrap(), AppError::BadCredentials);
    assert_eq!(app.device_count().await, 0);
}

#[tokio::test]
async fn concurrent_wrong_passwords_at_logins_and_devices_share_exactly_one_budget() {
    let app = TestApp::builder().env("CHATPASS_LOGIN_FAILURES_PER_ACCOUNT", "10").spawn().await;
    let ann = app.proven_user("ann@example.com").await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..30 {
        let (url, path) = (app.url(""), if i % 2 == 0 { "/api/device_tokens" } else { "/api/login" });
        let email = ann.email.clone();
        tasks.spawn(async move {
            let body =
                serde_json::json!({"email": email, "password": format!("guess {i:04}"), "device_name": "x"});
            let client = common::client_from("127.0.0.2");
            client.post(format!("{url}{path}")).json(&body).send().await.unwrap().status().as_u16()
        });
    }
    let statuses = tasks.join_all().await;
    assert_eq!((count(&statuses, 401), count(&statuses, 429)), (10, 20), "{statuses:?}");
    assert_eq!(app.device_count().await, 0);
    ann.new_browser(&app, None).await;
}

#[tokio::test]
async fn concurrent_wrong_passwords_from_one_address_check_exactly_its_budget() {
    let app = TestApp::builder().env("CHATPASS_LOGIN_FAILURES_PER_IP", "20").spawn().await;
    let ann = app.proven_user("ann@example.com").await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..30 {
        let url = app.url("/api/device_tokens");
        tasks.spawn(async move {
            let body = serde_json::json!({
                "email": format!("user{i}@example.com"), "password": "a wrong guess", "device_name": "x"
            });
            common::client_from("127.0.0.2").post(url).json(&body).send().await.unwrap().status().as_u16()
        });
    }
    let statuses = tasks.join_all().await;
    assert_eq!((count(&statuses, 401), count(&statuses, 429)), (20, 10), "{statuses:?}");
    // The owner's browser, from another address, is not limited by that one.
    ann.new_browser(&app, None).await;
    assert_eq!(app.create_device(&ann.email, GOOD, "Ann's iPhone").await.status(), 201);
}
