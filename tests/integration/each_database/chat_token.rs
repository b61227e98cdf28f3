//! `POST /api/chat_token` through the real router: only for a signed-in user, identity
//! from the session, never from the request; the `platform` field chooses the push credential.

use crate::common;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use chatpass::{error::AppError, token::IssuedChatToken};
use common::fixtures::{ACCOUNT_SID, API_KEY, GOOD, SERVICE_SID};
use common::TestApp;
use serde_json::Value;

const SECRET: &str = "live-secret-for-the-chat-token-tests";

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

async fn live_app() -> TestApp {
    TestApp::builder()
        .env("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
        .env("TWILIO_API_KEY", API_KEY)
        .env("TWILIO_API_SECRET", SECRET)
        .env("TWILIO_CHAT_SERVICE_SID", SERVICE_SID)
        .env("TWILIO_REGION", "ie1")
        .env("CHATPASS_TOKEN_TTL", "900")
        .spawn()
        .await
}

#[tokio::test]
async fn a_signed_in_user_gets_a_token_for_their_stored_email() {
    let app = live_app().await;
    assert_eq!(app.register("  Ann@Example.com", GOOD).await.status(), 200);
    let body = app.chat_token().await;
    assert_eq!(body.identity, "ann@example.com");
    assert!(!body.demo);
    assert_eq!(body.ttl, 900);
    let token = body.token.as_str();
    let claims = claims(token);
    assert_eq!(claims["grants"]["identity"], "ann@example.com");
    assert_eq!(claims["grants"]["chat"]["service_sid"], SERVICE_SID);
    assert_eq!(claims["sub"], ACCOUNT_SID);
    assert_eq!(claims["exp"], body.expires_at);
    assert_eq!(claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(), 900);
    // A standard JWT decoder verifies it with the configured secret.
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_required_spec_claims(&["exp"]);
    let decoded = jsonwebtoken::decode::<Value>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(SECRET.as_bytes()),
        &validation,
    )
    .expect("verifies");
    assert_eq!(decoded.header.cty.as_deref(), Some("twilio-fpa;v=1"));
    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap()).unwrap();
    assert_eq!(header["twr"], "ie1");
}

#[tokio::test]
async fn a_forged_identity_in_the_request_is_ignored() {
    let app = live_app().await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    let response = app.post_form("/api/chat_token", &[("identity", "boss@example.com")]).await;
    let body: IssuedChatToken = common::answer(response, 200).await;
    assert_eq!(body.identity, "ann@example.com");
    assert_eq!(claims(&body.token)["grants"]["identity"], "ann@example.com");
    let json = app
        .client
        .post(app.url("/api/chat_token"))
        .header("origin", format!("http://{}", app.addr))
        .header("content-type", "application/json")
        .body(r#"{"identity":"boss@example.com"}"#)
        .send()
        .await
        .unwrap();
    if json.status() == 200 {
        let body: IssuedChatToken = common::answer(json, 200).await;
        assert_eq!(body.identity, "ann@example.com");
    } else {
        assert_eq!(json.status().as_u16() / 100, 4, "a client error, never a 5xx");
    }
}

#[tokio::test]
async fn no_session_or_a_logged_out_cookie_gets_401_and_no_token() {
    let app = live_app().await;
    let response = app.post_form("/api/chat_token", &[]).await;
    assert_eq!(response.status(), 401);
    let text = response.text().await.unwrap();
    assert_eq!(serde_json::from_str::<AppError>(&text).unwrap(), AppError::NotSignedIn);
    assert!(serde_json::from_str::<Value>(&text).unwrap().get("token").is_none());

    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    let cookie = app
        .client
        .post(app.url("/api/login"))
        .header("origin", format!("http://{}", app.addr))
        .header("accept", "application/json")
        .form(&[("email", "ann@example.com"), ("password", GOOD)])
        .send()
        .await
        .unwrap()
        .headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(app.post_form("/api/logout", &[]).await.status(), 200);
    let response = reqwest::Client::new()
        .post(app.url("/api/chat_token"))
        .header("cookie", cookie)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn demo_mode_says_so() {
    let app = TestApp::spawn().await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    let body = app.chat_token().await;
    assert!(body.demo);
    assert_eq!(body.ttl, 3600);
    assert_eq!(body.identity, "ann@example.com");
    assert_eq!(claims(&body.token)["sub"], "AC00000000000000000000000000000000");
}

const WEB_PUSH: &str = "CR0123456789abcdef0123456789abcdef";
const IOS_PUSH: &str = "CRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const ANDROID_PUSH: &str = "CRbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

/// A live app with push credentials for ios and android, and `web`'s when given.
async fn push_app(web: Option<&str>) -> TestApp {
    let mut builder = TestApp::builder()
        .env("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
        .env("TWILIO_API_KEY", API_KEY)
        .env("TWILIO_API_SECRET", SECRET)
        .env("TWILIO_CHAT_SERVICE_SID", SERVICE_SID)
        .env("TWILIO_PUSH_CREDENTIALS", &format!("ios={IOS_PUSH},android={ANDROID_PUSH}"));
    if let Some(sid) = web {
        builder = builder.env("TWILIO_PUSH_CREDENTIAL_SID", sid);
    }
    builder.spawn().await
}

/// The token's `grants.chat` for a request with this form.
async fn chat_grant(app: &TestApp, form: &[(&str, &str)]) -> Value {
    let body: IssuedChatToken = common::answer(app.post_form("/api/chat_token", form).await, 200).await;
    assert_eq!(body.identity, "ann@example.com");
    assert_eq!(body.service_sid, SERVICE_SID);
    claims(&body.token)["grants"]["chat"].clone()
}

#[tokio::test]
async fn a_named_platform_gets_its_push_credential_and_web_or_none_the_default() {
    let app = push_app(Some(WEB_PUSH)).await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    for (form, sid) in [
        (&[("platform", "ios")][..], IOS_PUSH),
        (&[("platform", "android")], ANDROID_PUSH),
        (&[("platform", "web")], WEB_PUSH),
        (&[], WEB_PUSH),
    ] {
        let chat = chat_grant(&app, form).await;
        assert_eq!(chat["push_credential_sid"], sid, "{form:?}");
        assert_eq!(chat["service_sid"], SERVICE_SID);
    }
    // Without TWILIO_PUSH_CREDENTIAL_SID, web and no platform carry no push credential at all.
    let app = push_app(None).await;
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    for form in [&[("platform", "web")][..], &[]] {
        let chat = chat_grant(&app, form).await;
        assert!(chat.get("push_credential_sid").is_none(), "{form:?}: {chat}");
    }
    assert_eq!(chat_grant(&app, &[("platform", "ios")]).await["push_credential_sid"], IOS_PUSH);
}

#[tokio::test]
async fn an_unknown_empty_or_huge_platform_is_400_on_platform_and_gets_no_token() {
    let app = push_app(Some(WEB_PUSH)).await;
    let huge = "i".repeat(10 * 1024);
    // Parsed before anything else: signed out, a bad platform is still a 400.
    let (field, _) = common::bad_input(app.post_form("/api/chat_token", &[("platform", "IOS")]).await).await;
    assert_eq!(field, "platform");
    assert_eq!(app.register("ann@example.com", GOOD).await.status(), 200);
    for bad in ["ios-sandbox", "windows", "", "iOS", " ios", "ios\u{0}", huge.as_str()] {
        let response = app.post_form("/api/chat_token", &[("platform", bad)]).await;
        assert_eq!(response.status(), 400, "{:?}", &bad[..bad.len().min(16)]);
        let (field, reason) = common::bad_input(response).await;
        assert_eq!(field, "platform");
        assert!(reason.len() < 100 && (bad.is_empty() || !reason.contains(bad)), "{reason}");
    }
    let (_, unknown) =
        common::bad_input(app.post_form("/api/chat_token", &[("platform", "windows")]).await).await;
    assert!(unknown.contains("No push credential"), "{unknown}");
    // Demo mode has no named platforms: web is the only one.
    let demo = TestApp::spawn().await;
    assert_eq!(demo.register("ann@example.com", GOOD).await.status(), 200);
    let (field, _) = common::bad_input(demo.post_form("/api/chat_token", &[("platform", "ios")]).await).await;
    assert_eq!(field, "platform");
    let body: IssuedChatToken =
        common::answer(demo.post_form("/api/chat_token", &[("platform", "web")]).await, 200).await;
    assert!(body.demo);
}
