//! What an `Authorization` header can hold that is not a live device token: each is 401
//! `invalid_token` with `WWW-Authenticate: Bearer error="invalid_token"` (or refused by
//! HTTP itself), signs nothing in, and never falls back on a cookie.

use crate::common;

use base64::{engine::general_purpose::STANDARD, Engine as _};
use chatpass::{error::AppError, token::IssuedChatToken};
use common::devices::{app_client, assert_invalid_token, bearer, changed_at, raw_status};
use common::TestApp;
use reqwest::header::{HeaderValue, AUTHORIZATION};

fn value(bytes: &[u8]) -> HeaderValue {
    HeaderValue::from_bytes(bytes).unwrap_or_else(|e| panic!("{e}: {:?}", String::from_utf8_lossy(bytes)))
}

#[tokio::test]
async fn malformed_and_altered_bearers_are_invalid_token() {
    let app = TestApp::spawn().await;
    let ann = app.proven_user("ann@example.com").await;
    let token = app.device_of(&ann, "Ann's iPhone").await.device_token;
    let len = token.len();
    let basic_credentials = STANDARD.encode(format!("{}:{}", ann.email, ann.password));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty header", b"".to_vec()),
        ("scheme only", b"Bearer".to_vec()),
        ("scheme and a space", b"Bearer ".to_vec()),
        ("10 KB", format!("Bearer {}", "a".repeat(10 * 1024)).into_bytes()),
        ("10 KB after the prefix", format!("Bearer cpd_{}", "A".repeat(10 * 1024)).into_bytes()),
        ("the token and 10 KB more", format!("Bearer {token}{}", "A".repeat(10 * 1024)).into_bytes()),
        // Non-ASCII: UTF-8 (é), and a lone Latin-1 byte, in place of the last character.
        ("non-ASCII (UTF-8)", format!("Bearer {}é", &token[..len - 1]).into_bytes()),
        ("non-ASCII (Latin-1)", [format!("Bearer {}", &token[..len - 1]).as_bytes(), b"\xe9"].concat()),
        ("non-ASCII scheme", format!("Bëarer {token}").into_bytes()),
        ("one character changed in the prefix", format!("Bearer {}", changed_at(&token, 1)).into_bytes()),
        (
            "one character changed in the middle",
            format!("Bearer {}", changed_at(&token, len / 2)).into_bytes(),
        ),
        ("the first random character changed", format!("Bearer {}", changed_at(&token, 4)).into_bytes()),
        ("the last character changed", format!("Bearer {}", changed_at(&token, len - 1)).into_bytes()),
        ("one character short", format!("Bearer {}", &token[..len - 1]).into_bytes()),
        ("one character more", format!("Bearer {token}A").into_bytes()),
        ("without its prefix", format!("Bearer {}", &token[4..]).into_bytes()),
        ("the token alone, no scheme", token.clone().into_bytes()),
        ("sent as Basic", format!("Basic {token}").into_bytes()),
        ("Basic with the account's email and password", format!("Basic {basic_credentials}").into_bytes()),
        ("another scheme", format!("Token {token}").into_bytes()),
        ("a colon for the space", format!("Bearer:{token}").into_bytes()),
        ("a tab for the space", format!("Bearer\t{token}").into_bytes()),
        ("a comma-joined pair", format!("Bearer {token}, Bearer {token}").into_bytes()),
    ];
    for (what, bytes) in &cases {
        let response = app.chat_token_authorized(&[value(bytes)]).await;
        assert_invalid_token(response, what).await;
    }
    // None of them cost the live token anything.
    let issued: IssuedChatToken = common::answer(app.chat_token_with_bearer(&token).await, 200).await;
    assert_eq!(issued.identity, "ann@example.com");
    // The scheme's name is case-insensitive (RFC 7235), and the list takes a bearer too.
    let lower = app.chat_token_authorized(&[value(format!("bearer {token}").as_bytes())]).await;
    assert_eq!(lower.status(), 200);
    for (what, bytes) in &cases {
        let response = app_client()
            .get(app.url("/api/device_tokens"))
            .header(AUTHORIZATION, value(bytes))
            .send()
            .await
            .unwrap();
        assert_invalid_token(response, &format!("listing with {what}")).await;
    }
}

/// A NUL cannot be sent through reqwest: `HeaderValue::from_bytes` refuses it (as it does
/// any control byte but tab). The nearest thing is the same bytes written on a raw
/// connection: hyper refuses the request (400) before any of chatpass runs.
#[tokio::test]
async fn a_bearer_with_a_nul_is_refused_before_the_app_sees_it() {
    let app = TestApp::spawn().await;
    let ann = app.proven_user("ann@example.com").await;
    let token = app.device_of(&ann, "Ann's iPhone").await.device_token;
    assert!(HeaderValue::from_bytes(format!("Bearer {token}\0").as_bytes()).is_err());
    let with_nul = |bearer: &[u8]| {
        [
            format!(
                "POST /api/chat_token HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\nAuthorization: ",
                app.addr
            )
            .as_bytes(),
            bearer,
            b"\r\n",
        ]
        .concat()
    };
    let last = token.len() - 1;
    for bearer in [
        [b"Bearer ", token.as_bytes(), b"\0"].concat(),
        [b"Bearer ", &token.as_bytes()[..last], b"\0"].concat(),
        [b"Bearer \0", token.as_bytes()].concat(),
        b"Bearer \0".to_vec(),
    ] {
        assert_eq!(raw_status(&app, &with_nul(&bearer)).await, 400, "{:?}", String::from_utf8_lossy(&bearer));
    }
    // The raw connection itself is sound: the same request without the NUL is served.
    let clean = with_nul(format!("Bearer {token}").as_bytes());
    assert_eq!(raw_status(&app, &clean).await, 200);
}

#[tokio::test]
async fn two_authorization_headers_are_refused_even_when_both_are_good() {
    let app = TestApp::spawn().await;
    let ann = app.proven_user("ann@example.com").await;
    let (one, two) =
        (app.device_of(&ann, "one").await.device_token, app.device_of(&ann, "two").await.device_token);
    let bad = bearer(&changed_at(&one, 10));
    for (what, values) in [
        ("the same token twice", vec![bearer(&one), bearer(&one)]),
        ("two live tokens", vec![bearer(&one), bearer(&two)]),
        ("a live token, then a bad one", vec![bearer(&one), bad.clone()]),
        ("a bad token, then a live one", vec![bad, bearer(&one)]),
        ("a live token and an empty header", vec![bearer(&one), HeaderValue::from_static("")]),
    ] {
        assert_invalid_token(app.chat_token_authorized(&values).await, what).await;
    }
    assert_eq!(app.bearer_status(&one).await, 200);
}

#[tokio::test]
async fn a_bearer_wins_over_another_users_session_cookie() {
    let app = TestApp::spawn().await;
    let ann = app.proven_user("ann@example.com").await;
    let bob = app.proven_user("bob@example.com").await;
    let anns = app.device_of(&ann, "Ann's iPhone").await;
    let bobs = app.connect_device(&bob, "Bob's Pixel").await;
    let own_origin = format!("http://{}", app.addr);

    // Bob's browser, with its cookie, sends Ann's device token: Ann's account answers.
    for origin in [None, Some(own_origin.as_str())] {
        let mut request =
            bob.client.post(app.url("/api/chat_token")).header(AUTHORIZATION, bearer(&anns.device_token));
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        let response = request.send().await.unwrap();
        assert!(response.headers().get("set-cookie").is_none(), "Bob's session is not touched");
        let issued: IssuedChatToken = common::answer(response, 200).await;
        assert_eq!(issued.identity, "ann@example.com", "origin {origin:?}");
    }
    let listed = bob
        .client
        .get(app.url("/api/device_tokens"))
        .header(AUTHORIZATION, bearer(&anns.device_token))
        .send()
        .await
        .unwrap();
    let listed: chatpass::devices::Devices = common::answer(listed, 200).await;
    assert_eq!(listed.devices.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(), [anns.id.as_str()]);
    // Revoking Bob's device with Ann's token is Ann's account asking: no such device.
    let revoke = bob
        .client
        .post(app.url("/api/revoke_device_token"))
        .header(AUTHORIZATION, bearer(&anns.device_token))
        .form(&[("id", bobs.id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 404);
    assert_eq!(common::app_error(revoke).await, AppError::UnknownDevice);
    assert_eq!(app.bearer_status(&bobs.device_token).await, 200, "Bob's device is untouched");

    // A bad bearer with Bob's good cookie is refused as a bad bearer, never Bob's.
    for bad in [
        bearer(&changed_at(&anns.device_token, 20)),
        HeaderValue::from_static("Basic Ym9iOnBhc3N3b3Jk"),
        HeaderValue::from_static(""),
    ] {
        let response = bob
            .client
            .post(app.url("/api/chat_token"))
            .header("origin", &own_origin)
            .header(AUTHORIZATION, bad.clone())
            .send()
            .await
            .unwrap();
        assert_invalid_token(response, &format!("{bad:?} with Bob's cookie")).await;
    }
    // Bob's browser is still signed in as Bob.
    assert_eq!(app.chat_token_with(&bob.client).await.identity, "bob@example.com");
}

#[tokio::test]
async fn a_device_token_cannot_connect_another_device() {
    let app = TestApp::spawn().await;
    let ann = app.proven_user("ann@example.com").await;
    let device = app.device_of(&ann, "Ann's iPhone").await;
    let response = app_client()
        .post(app.url("/api/connect_device"))
        .header(AUTHORIZATION, bearer(&device.device_token))
        .form(&[("device_name", "a second one")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(common::app_error(response).await, AppError::NotSignedIn);
    assert_eq!(app.device_count().await, 1);
}
