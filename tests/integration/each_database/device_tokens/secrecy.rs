//! A device token is shown once, in the answer that creates it, and is nowhere else: not
//! in any table (only its SHA-256 is stored), not in any log line, not in any error.

use std::time::{Duration, Instant};

use crate::common;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use chatpass::devices::NewDevice;
use common::{
    devices::{app_client, bearer, changed_at, random_part},
    fixtures::{GOOD, OTHER},
    process::Instance,
    TestApp,
};
use reqwest::header::{HeaderValue, AUTHORIZATION};
use sha2::{Digest, Sha256};

/// What would give `token` away, as bytes: the token, its random part, the random bytes
/// themselves and their hex.
fn giveaways(token: &str) -> Vec<(&'static str, Vec<u8>)> {
    let bytes = URL_SAFE_NO_PAD.decode(random_part(token)).unwrap();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    vec![
        ("the token", token.as_bytes().to_vec()),
        ("its random part", random_part(token).as_bytes().to_vec()),
        ("its random bytes", bytes),
        ("its random bytes in hex", hex.clone().into_bytes()),
        ("its random bytes in HEX", hex.to_uppercase().into_bytes()),
    ]
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Requests that carry `token` where it does not belong: each must be refused without
/// echoing it. Returns each answer's body.
async fn misuses(client: &reqwest::Client, base: &str, email: &str, token: &str) -> Vec<(String, String)> {
    let mut bodies = Vec::new();
    let post = |path: &str| client.post(format!("{base}{path}"));
    let requests: Vec<(&str, reqwest::RequestBuilder)> = vec![
        (
            "one character changed",
            post("/api/chat_token").header(AUTHORIZATION, bearer(&changed_at(token, 9))),
        ),
        ("sent as Basic", post("/api/chat_token").header(AUTHORIZATION, format!("Basic {token}"))),
        ("without a scheme", post("/api/chat_token").header(AUTHORIZATION, token.to_string())),
        (
            "with a non-ASCII byte",
            post("/api/chat_token").header(
                AUTHORIZATION,
                HeaderValue::from_bytes(&[b"Bearer ", token.as_bytes(), b"\xff"].concat()).unwrap(),
            ),
        ),
        (
            "sent twice",
            post("/api/chat_token").header(AUTHORIZATION, bearer(token)).header(AUTHORIZATION, bearer(token)),
        ),
        (
            "as the email",
            post("/api/device_tokens")
                .json(&serde_json::json!({"email": token, "password": GOOD, "device_name": "x"})),
        ),
        (
            "as the password",
            post("/api/device_tokens")
                .json(&serde_json::json!({"email": email, "password": token, "device_name": "x"})),
        ),
        (
            "as a device name with a control",
            post("/api/device_tokens").json(
                &serde_json::json!({"email": email, "password": GOOD, "device_name": format!("{token}\u{7}x")}),
            ),
        ),
        (
            "as the id to revoke",
            post("/api/revoke_device_token").header(AUTHORIZATION, bearer(token)).form(&[("id", token)]),
        ),
        (
            "in an unreadable JSON body",
            post("/api/device_tokens")
                .header("content-type", "application/json")
                .body(format!("{{\"email\": \"{token}\"")),
        ),
        ("in a JSON array", post("/api/device_tokens").json(&serde_json::json!([token]))),
        (
            "in a nested object",
            post("/api/device_tokens").json(&serde_json::json!({"email": {"token": token}})),
        ),
    ];
    for (what, request) in requests {
        let response = request.send().await.unwrap();
        let status = response.status();
        let body = response.text().await.unwrap();
        assert!(status.is_client_error(), "{what}: {status} {body}");
        bodies.push((what.to_string(), body));
    }
    bodies
}

#[tokio::test]
async fn no_table_holds_a_device_token_and_no_error_echoes_one() {
    let app = TestApp::spawn().await;
    let ann = app.proven_user("ann@example.com").await;
    let bob = app.proven_user("bob@example.com").await;
    let phone = app.device_of(&ann, "Ann's iPhone").await;
    let form = app_client()
        .post(app.url("/api/device_tokens"))
        .form(&[("email", ann.email.as_str()), ("password", GOOD), ("device_name", "Ann's Pixel")])
        .send()
        .await
        .unwrap();
    let pixel: NewDevice = common::answer(form, 201).await;
    let tablet = app.connect_device(&ann, "Ann's iPad").await;
    let revoked = app.connect_device(&bob, "Bob's old phone").await;
    let bobs = app.device_of(&bob, "Bob's phone").await;
    // Each is used: a token, the list (its last use written), with a cookie beside it.
    for device in [&phone, &pixel, &tablet, &revoked, &bobs] {
        assert_eq!(app.bearer_status(&device.device_token).await, 200);
        let with_cookie =
            bob.client.post(app.url("/api/chat_token")).header(AUTHORIZATION, bearer(&device.device_token));
        assert_eq!(with_cookie.send().await.unwrap().status(), 200);
        app.devices_with_bearer(&device.device_token).await;
    }
    assert_eq!(app.revoke_device_with(&bob.client, &revoked.id).await.status(), 200);
    let mut bodies = Vec::new();
    for device in [&phone, &revoked] {
        bodies.extend(misuses(&app_client(), &app.url(""), &ann.email, &device.device_token).await);
        bodies.extend(misuses(&ann.client, &app.url(""), &ann.email, &device.device_token).await);
    }
    // The revoked token, used again; a password change (its notice mail, its revocations).
    assert_eq!(app.bearer_status(&revoked.device_token).await, 401);
    let change = [("current_password", GOOD), ("new_password", OTHER)];
    assert_eq!(app.post_form_with(&bob.client, "/api/change_password", &change).await.status(), 200);

    let stored = app.every_stored_value().await;
    assert!(
        stored.iter().any(|(place, _)| place.ends_with("device_tokens.token_hash")),
        "the dump sees the table"
    );
    let mut hashes = Vec::new();
    for device in [&phone, &pixel, &tablet, &revoked, &bobs] {
        for (what, giveaway) in giveaways(&device.device_token) {
            for (place, value) in &stored {
                assert!(!contains(value, &giveaway), "{what} of {} is in {place}", device.device_name);
            }
            for (misuse, body) in &bodies {
                assert!(!contains(body.as_bytes(), &giveaway), "{what} is in the answer to {misuse}: {body}");
            }
        }
        hashes.push(sha256_hex(&device.device_token));
    }
    // What is stored is each live token's SHA-256.
    let mut stored_hashes: Vec<String> = stored
        .iter()
        .filter(|(place, _)| place.ends_with("device_tokens.token_hash"))
        .map(|(_, v)| String::from_utf8(v.clone()).unwrap())
        .collect();
    stored_hashes.sort();
    let mut anns = hashes[..3].to_vec();
    anns.sort();
    assert_eq!(stored_hashes, anns, "Ann's three; Bob's ended");
}

/// The real binary's log, with debug lines on, on this run's database.
#[tokio::test]
async fn no_log_line_holds_a_device_token() {
    let (database, dir) = common::database_of_its_own().await;
    let outbox = dir.path().join("outbox").display().to_string();
    let at = Instance::start(&[
        ("RUST_LOG", "debug"),
        ("DATABASE_URL", &database),
        ("CHATPASS_OUTBOX_DIR", &outbox),
        // The sign-up sets the password: no mail to wait for.
        ("CHATPASS_EMAIL_VERIFICATION", "off"),
    ]);
    let base = at.url("");
    let client = app_client();
    let signup = client
        .post(at.url("/api/signup"))
        .form(&[("email", "ann@example.com"), ("password", GOOD)])
        .send()
        .await
        .unwrap();
    assert!(signup.status().is_success(), "{}", signup.status());
    let create = |name: &str| {
        client
            .post(at.url("/api/device_tokens"))
            .json(&serde_json::json!({"email": "ann@example.com", "password": GOOD, "device_name": name}))
            .send()
    };
    let phone: NewDevice = common::answer(create("phone").await.unwrap(), 201).await;
    let tablet: NewDevice = common::answer(create("tablet").await.unwrap(), 201).await;
    for device in [&phone, &tablet] {
        let token =
            client.post(at.url("/api/chat_token")).header(AUTHORIZATION, bearer(&device.device_token));
        assert_eq!(token.send().await.unwrap().status(), 200);
        let list =
            client.get(at.url("/api/device_tokens")).header(AUTHORIZATION, bearer(&device.device_token));
        assert_eq!(list.send().await.unwrap().status(), 200);
        misuses(&client, &base, "ann@example.com", &device.device_token).await;
    }
    let revoke = client
        .post(at.url("/api/revoke_device_token"))
        .header(AUTHORIZATION, bearer(&phone.device_token))
        .form(&[("id", phone.id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 200);
    let last = client.post(at.url("/api/chat_token")).header(AUTHORIZATION, bearer(&phone.device_token));
    assert_eq!(last.send().await.unwrap().status(), 401);

    // Wait (bounded) for the last request's refusal, after the revoke, to be written.
    let deadline = Instant::now() + Duration::from_secs(10);
    let logs = loop {
        let logs = at.logs();
        let revoked_at = logs.iter().position(|l| l.contains("device revoked"));
        let refused_after =
            revoked_at.is_some_and(|at| logs[at..].iter().any(|l| l.contains("unknown or revoked")));
        if refused_after {
            break logs;
        }
        assert!(Instant::now() < deadline, "the last refusal was never logged:\n{}", logs.join("\n"));
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(logs.iter().any(|l| l.contains("device connected")), "the log has the devices' lines");
    for device in [&phone, &tablet] {
        for (what, giveaway) in giveaways(&device.device_token) {
            for line in &logs {
                assert!(!contains(line.as_bytes(), &giveaway), "{what} is logged: {line}");
            }
        }
    }
}
