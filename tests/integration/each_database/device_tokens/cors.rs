//! CORS for a web app on another origin (`CHATPASS_CORS_ORIGINS`): a listed origin's
//! preflight to the app routes is allowed for `Authorization` and `Content-Type`, never
//! with credentials; any other origin, `null` included, gets no CORS header; and a
//! cross-origin request is never signed in by a cookie.

use crate::common;

use chatpass::{error::AppError, security::APP_ROUTES, token::IssuedChatToken};
use common::{devices::bearer, TestApp};
use reqwest::header::AUTHORIZATION;

const LISTED: &str = "https://app.example.com";

async fn cors_app() -> TestApp {
    TestApp::builder().env("CHATPASS_CORS_ORIGINS", LISTED).spawn().await
}

async fn preflight(app: &TestApp, path: &str, origin: &str) -> reqwest::Response {
    common::devices::app_client()
        .request(reqwest::Method::OPTIONS, app.url(path))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization,content-type")
        .send()
        .await
        .unwrap()
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).map(|v| v.to_str().unwrap())
}

fn assert_no_cors(response: &reqwest::Response, what: &str) {
    for name in ["access-control-allow-origin", "access-control-allow-credentials"] {
        assert_eq!(header(response, name), None, "{what}: {name}");
    }
}

#[tokio::test]
async fn a_listed_origins_preflight_is_allowed_without_credentials() {
    let app = cors_app().await;
    for path in APP_ROUTES {
        let response = preflight(&app, path, LISTED).await;
        assert!(response.status().is_success(), "{path}: {}", response.status());
        assert_eq!(header(&response, "access-control-allow-origin"), Some(LISTED), "{path}");
        assert_eq!(header(&response, "access-control-allow-credentials"), None, "{path}: never credentials");
        let allowed =
            header(&response, "access-control-allow-headers").unwrap_or_default().to_ascii_lowercase();
        for wanted in ["authorization", "content-type"] {
            assert!(allowed.split(',').any(|h| h.trim() == wanted), "{path}: {wanted} in {allowed:?}");
        }
        let methods = header(&response, "access-control-allow-methods").unwrap_or_default();
        assert!(methods.split(',').any(|m| m.trim() == "POST"), "{path}: {methods:?}");
    }
}

#[tokio::test]
async fn a_preflight_from_an_unlisted_origin_or_null_gets_no_cors_headers() {
    let app = cors_app().await;
    for origin in [
        "null",
        "https://evil.example.com",
        "http://app.example.com",
        "https://app.example.com.evil.example",
        "https://evil.app.example.com",
        "https://app.example.co",
        "",
    ] {
        for path in APP_ROUTES {
            assert_no_cors(&preflight(&app, path, origin).await, &format!("{origin:?} to {path}"));
        }
    }
    // A listed origin gets nothing on the other routes: they stay same-site.
    for path in ["/api/login", "/api/connect_device", "/api/change_password", "/"] {
        assert_no_cors(&preflight(&app, path, LISTED).await, &format!("the listed origin to {path}"));
    }
    // Without the setting, no origin gets any.
    let plain = TestApp::spawn().await;
    for path in APP_ROUTES {
        assert_no_cors(&preflight(&plain, path, LISTED).await, &format!("no setting, {path}"));
    }
}

#[tokio::test]
async fn a_listed_origins_request_is_never_signed_in_by_a_cookie() {
    let app = cors_app().await;
    let ann = app.proven_user("ann@example.com").await;
    // Ann's browser, cookie and all, from the other origin's page: not signed in.
    let token = ann.client.post(app.url("/api/chat_token")).header("origin", LISTED).send().await.unwrap();
    assert_eq!(token.status(), 401);
    assert_eq!(header(&token, "access-control-allow-origin"), Some(LISTED));
    assert_eq!(header(&token, "access-control-allow-credentials"), None);
    assert_eq!(common::app_error(token).await, AppError::NotSignedIn);
    let list = ann.client.get(app.url("/api/device_tokens")).header("origin", LISTED).send().await.unwrap();
    assert_eq!(list.status(), 401);
    // With a device token it is answered, and the page may read the answer.
    let device = app.device_of(&ann, "web app").await;
    let token = ann
        .client
        .post(app.url("/api/chat_token"))
        .header("origin", LISTED)
        .header(AUTHORIZATION, bearer(&device.device_token))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&token, "access-control-allow-origin"), Some(LISTED));
    assert_eq!(header(&token, "access-control-allow-credentials"), None);
    let token: IssuedChatToken = common::answer(token, 200).await;
    assert_eq!(token.identity, "ann@example.com");
}

#[tokio::test]
async fn an_unlisted_origins_request_is_refused_or_unreadable() {
    let app = cors_app().await;
    let ann = app.proven_user("ann@example.com").await;
    for origin in ["https://evil.example.com", "null"] {
        // With the cookie: a cross-site request, refused before anything runs.
        let token =
            ann.client.post(app.url("/api/chat_token")).header("origin", origin).send().await.unwrap();
        assert_eq!(token.status(), 403, "{origin}");
        assert_no_cors(&token, origin);
    }
    // With a device token an app's request needs no origin; a page elsewhere cannot read it.
    let device = app.device_of(&ann, "phone").await;
    let token = common::devices::app_client()
        .post(app.url("/api/chat_token"))
        .header("origin", "https://evil.example.com")
        .header(AUTHORIZATION, bearer(&device.device_token))
        .send()
        .await
        .unwrap();
    assert_no_cors(&token, "a bearer from an unlisted origin");
    assert_eq!(token.status(), 200);
}
