//! A device's name is checked before anything else: an empty, long, or control- or
//! bidi-laden name is 400 on `device_name`, and nothing is counted, hashed or written.

use crate::common;

use chatpass::domain::DEVICE_NAME_MAX_CHARS;
use common::{fixtures::GOOD, TestApp};

fn bad_names() -> Vec<(&'static str, String)> {
    vec![
        ("empty", String::new()),
        ("only spaces", "   ".into()),
        ("65 characters", "x".repeat(DEVICE_NAME_MAX_CHARS + 1)),
        ("65 characters around a space", format!("{} {}", "x".repeat(32), "y".repeat(32))),
        ("65 characters after NFC", "e\u{301}".repeat(DEVICE_NAME_MAX_CHARS + 1)),
        ("10 KB", "x".repeat(10 * 1024)),
        ("a NUL", "Ann's\0iPhone".into()),
        ("a tab", "Ann's\tiPhone".into()),
        ("a line break", "Ann's iPhone\nAdmin's Mac".into()),
        ("a carriage return", "Ann's\riPhone".into()),
        ("ESC", "Ann's \u{1b}[31miPhone".into()),
        ("DEL", "Ann's\u{7f}iPhone".into()),
        ("a C1 control", "Ann's\u{85}iPhone".into()),
        ("a right-to-left override", "\u{202e}enohPi s'nnA".into()),
        ("a left-to-right embedding", "Ann's \u{202a}iPhone".into()),
        ("a right-to-left isolate", "Ann's \u{2067}iPhone\u{2069}".into()),
        ("a right-to-left mark", "Ann's\u{200f} iPhone".into()),
        ("a zero-width space", "Ann's\u{200b}iPhone".into()),
        ("a byte-order mark", "\u{feff}Ann's iPhone".into()),
        ("a line separator", "Ann's\u{2028}iPhone".into()),
    ]
}

async fn assert_device_name_refused(response: reqwest::Response, what: &str) {
    assert_eq!(response.status(), 400, "{what}");
    let (field, reason) = common::bad_input(response).await;
    assert_eq!(field, "device_name", "{what}: {reason}");
}

#[tokio::test]
async fn bad_device_names_are_400_and_write_nothing_when_signing_a_device_in() {
    let app = TestApp::spawn().await;
    let ann = app.proven_user("ann@example.com").await;
    for (what, name) in bad_names() {
        assert_device_name_refused(app.create_device(&ann.email, GOOD, &name).await, what).await;
        // Checked before the credentials: a wrong password with a bad name is still about the name.
        let wrong = app.create_device(&ann.email, "wrong password here", &name).await;
        assert_device_name_refused(wrong, &format!("{what}, wrong password")).await;
        // A form body says the same as JSON.
        let form = common::devices::app_client()
            .post(app.url("/api/device_tokens"))
            .form(&[("email", ann.email.as_str()), ("password", GOOD), ("device_name", &name)])
            .send()
            .await
            .unwrap();
        assert_device_name_refused(form, &format!("{what}, as a form")).await;
    }
    assert_eq!(app.device_count().await, 0);
    assert!(app.devices_with(&ann.client).await.devices.is_empty());
    // Nothing was counted against the login limits either.
    assert_eq!(common::count(&app.pool, "SELECT COUNT(*) FROM login_failures").await, 0);

    // The longest name is accepted, as sent.
    let longest = "x".repeat(DEVICE_NAME_MAX_CHARS);
    let device = app.device_of(&ann, &longest).await;
    assert_eq!(device.device_name, longest);
    assert_eq!(app.device_count().await, 1);
}

#[tokio::test]
async fn bad_device_names_are_400_and_write_nothing_when_a_browser_connects_a_device() {
    let app = TestApp::spawn().await;
    let ann = app.proven_user("ann@example.com").await;
    for (what, name) in bad_names() {
        let response =
            app.post_form_with(&ann.client, "/api/connect_device", &[("device_name", &name)]).await;
        assert_device_name_refused(response, what).await;
    }
    let missing = app.post_form_with(&ann.client, "/api/connect_device", &[]).await;
    assert_device_name_refused(missing, "left out").await;
    assert_eq!(app.device_count().await, 0);
    assert!(app.devices_with(&ann.client).await.devices.is_empty());
    // Trimmed and NFC-normalised when accepted.
    let device = app.connect_device(&ann, "  Cafe\u{301} tablet ").await;
    assert_eq!(device.device_name, "Caf\u{e9} tablet");
}
