//! JSON bodies on the server functions, as apps send them: a flat object of strings,
//! numbers and booleans is read as the form would be (`null` is a field left out);
//! anything else is 400 on `request`, before any handler runs.

use crate::common;

use chatpass::devices::NewDevice;
use common::{devices::app_client, fixtures::GOOD, TestApp};

async fn post_json(app: &TestApp, client: &reqwest::Client, path: &str, body: &[u8]) -> reqwest::Response {
    client
        .post(app.url(path))
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(body.to_vec())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_json_login_and_a_json_device_sign_in_work() {
    let app = TestApp::spawn().await;
    let ann = app.proven_user("ann@example.com").await;
    let browser = common::client();
    let login = serde_json::json!({"email": ann.email, "password": GOOD});
    let response = post_json(&app, &browser, "/api/login", login.to_string().as_bytes()).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap_or_default());
    assert_eq!(app.whoami_with(&browser).await.as_deref(), Some("ann@example.com"));

    // With a charset, a number for a name, and a null (a field left out: `next` is optional).
    let body =
        format!(r#"{{"email": "{}", "password": "{GOOD}", "device_name": 42, "next": null}}"#, ann.email);
    let response = app_client()
        .post(app.url("/api/device_tokens"))
        .header("content-type", "application/json; charset=utf-8")
        .body(body)
        .send()
        .await
        .unwrap();
    let device: NewDevice = common::answer(response, 201).await;
    assert_eq!(device.device_name, "42");
    assert_eq!(app.bearer_status(&device.device_token).await, 200);
    // A revoke by JSON, with a bearer.
    let revoke = app_client()
        .post(app.url("/api/revoke_device_token"))
        .header(reqwest::header::AUTHORIZATION, common::devices::bearer(&device.device_token))
        .json(&serde_json::json!({"id": device.id}))
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 200);
    assert_eq!(app.bearer_status(&device.device_token).await, 401);
}

#[tokio::test]
async fn malformed_json_arrays_and_nested_objects_are_400_on_request_and_write_nothing() {
    let app = TestApp::spawn().await;
    let ann = app.proven_user("ann@example.com").await;
    let live = app.connect_device(&ann, "phone").await;
    let (email, name) = (ann.email.as_str(), "Ann's iPhone");
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("cut short", format!(r#"{{"email": "{email}", "password": "{GOOD}""#).into_bytes()),
        ("not JSON", b"email=ann@example.com".to_vec()),
        ("a missing value", br#"{"email": }"#.to_vec()),
        (
            "trailing garbage",
            format!(r#"{{"email": "{email}", "password": "{GOOD}", "device_name": "{name}"}} x"#)
                .into_bytes(),
        ),
        ("two objects", format!(r#"{{"email": "{email}"}}{{"password": "{GOOD}"}}"#).into_bytes()),
        ("not UTF-8", b"{\"email\": \"\xff\"}".to_vec()),
        ("an empty array", b"[]".to_vec()),
        (
            "an array of the object",
            format!(r#"[{{"email": "{email}", "password": "{GOOD}", "device_name": "{name}"}}]"#)
                .into_bytes(),
        ),
        ("a string", br#""ann@example.com""#.to_vec()),
        ("a number", b"42".to_vec()),
        ("null", b"null".to_vec()),
        (
            "a nested object",
            format!(r#"{{"email": {{"value": "{email}"}}, "password": "{GOOD}", "device_name": "{name}"}}"#)
                .into_bytes(),
        ),
        (
            "an array value",
            format!(r#"{{"email": ["{email}"], "password": "{GOOD}", "device_name": "{name}"}}"#)
                .into_bytes(),
        ),
        (
            "an empty object value",
            format!(r#"{{"email": "{email}", "password": "{GOOD}", "device_name": {{}}}}"#).into_bytes(),
        ),
        ("a deep nest", format!("{}{}", "[".repeat(5000), "]".repeat(5000)).into_bytes()),
    ];
    let failures_before = common::count(&app.pool, "SELECT COUNT(*) FROM login_failures").await;
    let sessions_before = app.session_count().await;
    for path in ["/api/device_tokens", "/api/login", "/api/chat_token", "/api/revoke_device_token"] {
        for (what, body) in &bodies {
            let response = app_client()
                .post(app.url(path))
                .header(reqwest::header::AUTHORIZATION, common::devices::bearer(&live.device_token))
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 400, "{what} to {path}");
            let (field, reason) = common::bad_input(response).await;
            assert_eq!(field, "request", "{what} to {path}: {reason}");
        }
    }
    assert_eq!(app.device_count().await, 1, "nothing written");
    let failures = common::count(&app.pool, "SELECT COUNT(*) FROM login_failures").await;
    assert_eq!(failures, failures_before, "nothing counted");
    assert_eq!(app.session_count().await, sessions_before);
    assert_eq!(app.bearer_status(&live.device_token).await, 200, "nothing revoked");

    // An empty body is an empty form, and a null is a field left out: 400 on that field.
    let empty = post_json(&app, &app_client(), "/api/device_tokens", b"").await;
    assert_eq!(common::bad_input(empty).await.0, "email");
    let null = format!(r#"{{"email": "{email}", "password": "{GOOD}", "device_name": null}}"#);
    let null = post_json(&app, &app_client(), "/api/device_tokens", null.as_bytes()).await;
    assert_eq!(common::bad_input(null).await.0, "device_name");
    assert_eq!(app.device_count().await, 1);
}
