//! The errors a form posted without JavaScript carries back to its page in the URL
//! (`?__path=…&__err=…&__t=…&__sig=…`): the page shows one only when this server signed it,
//! in its error redirect, for that page, and not long ago. No link can put words on a page.

use crate::common;

use base64::{engine::general_purpose::URL_SAFE, Engine};
use common::fixtures::GOOD;
use common::TestApp;

const LOCKED: &str = "Your account was locked. Call +1-555-0100 to unlock it.";

/// An error as server_fn writes it into a URL, with someone else's words in it.
fn forged_error() -> String {
    let json = serde_json::json!({"error": "bad_input", "field": "email", "reason": LOCKED});
    URL_SAFE.encode(json.to_string())
}

fn location(response: &reqwest::Response) -> String {
    assert_eq!(response.status(), 302, "a redirect");
    response.headers()["location"].to_str().unwrap().to_string()
}

/// The page a redirect leads to, as a visitor with no cookies sees it.
async fn page_at(app: &TestApp, location: &str) -> String {
    let url = if location.starts_with('/') { app.url(location) } else { location.to_string() };
    let response = common::client().get(url).send().await.unwrap();
    assert_eq!(response.status(), 200, "{location}");
    response.text().await.unwrap()
}

/// A signed-up account (without the mail round trip), for logging in.
async fn account(email: &str) -> TestApp {
    let app = TestApp::builder().env("CHATPASS_EMAIL_VERIFICATION", "off").spawn().await;
    assert_eq!(app.signup(email, GOOD).await.status(), 200);
    app
}

/// A login with the right password and an error in `next` (in any spelling of its keys)
/// leads to a page that shows none of it: a success redirect is never signed, and `next`
/// loses the keys only the server may write.
#[tokio::test]
async fn a_login_whose_next_carries_an_error_leads_to_a_page_without_its_words() {
    let app = account("eve@example.com").await;
    let err = forged_error();
    let nexts = [
        (format!("/login?__err={err}&__path=/api/login"), "/login"),
        (format!("/login?%5F%5Ferr={err}&%5f%5Fpath=%2Fapi%2Flogin&__sig=00&__t=1"), "/login"),
        (
            format!("/login?next=/chat&__path=/api/login&__err={err}&room=a%20b"),
            "/login?next=/chat&room=a%20b",
        ),
    ];
    for (next, expected) in &nexts {
        let response = app
            .post_plain_form(
                "/api/login",
                "/login",
                &[("email", "eve@example.com"), ("password", GOOD), ("next", next)],
            )
            .await;
        let location = location(&response);
        let html = page_at(&app, &location).await;
        assert!(html.contains("<form"), "{location}");
        assert!(!html.contains("555-0100"), "{location}: the words from `next` are not shown");
        assert_eq!(&location, expected, "{next}");
    }
}

/// An error signed for one page is not shown on another, even one whose form would take it.
#[tokio::test]
async fn a_signed_error_moved_to_another_page_is_not_shown() {
    let app = TestApp::spawn().await;
    let bad = [("email", "not an email")];
    const NOT_AN_EMAIL: &str = "That is not an email address.";

    let on_signup = location(&app.post_plain_form("/api/signup", "/signup", &bad).await);
    assert!(page_at(&app, &on_signup).await.contains(NOT_AN_EMAIL), "shown on the page it was signed for");

    let on_forgot = location(&app.post_plain_form("/api/signup", "/forgot", &bad).await);
    assert!(on_forgot.contains("/forgot?") && on_forgot.contains("__sig="), "{on_forgot}");
    let moved = on_forgot.replacen("/forgot?", "/signup?", 1);
    assert!(!page_at(&app, &moved).await.contains(NOT_AN_EMAIL), "{moved}: not shown on another page");
}

/// The signing time is part of the signature: a link cannot be made to look recent.
#[tokio::test]
async fn a_signed_error_with_another_time_is_not_shown() {
    let app = TestApp::spawn().await;
    let wrong = [("email", "ann@example.com"), ("password", "not the password")];
    let location = location(&app.post_plain_form("/api/login", "/login", &wrong).await);
    assert!(page_at(&app, &location).await.contains("Wrong email or password."));
    let (before, rest) = location.split_once("__t=").expect("a signing time");
    let (t, after) = rest.split_once('&').expect("the signature after it");
    let later = format!("{before}__t={}&{after}", t.parse::<u64>().unwrap() + 60);
    assert!(!page_at(&app, &later).await.contains("Wrong email or password."), "{later}");
}

/// A wrong password on the login page without JavaScript: back to the same page (its other
/// query kept) with the error shown, even when that page's address carried a forged one.
#[tokio::test]
async fn a_form_error_without_javascript_is_shown_on_its_page() {
    let app = account("ann@example.com").await;
    let wrong = [("email", "ann@example.com"), ("password", "not the password")];
    let forged = format!("/login?next=/account&__path=/api/login&__err={}&__sig=00", forged_error());
    for from in ["/login?next=/account", forged.as_str()] {
        let location = location(&app.post_plain_form("/api/login", from, &wrong).await);
        let html = page_at(&app, &location).await;
        assert!(html.contains("Wrong email or password."), "{from}: the error is shown");
        assert!(!html.contains("555-0100"), "{from}: the forged one is not");
        assert!(html.contains("/account"), "{from}: `next` is still in the form");
        assert!(location.starts_with(&app.url("/login?next=/account&__path=")), "{from}: {location}");
        for key in ["__path=", "__err=", "__t=", "__sig="] {
            assert_eq!(location.matches(key).count(), 1, "{from}: one {key} in {location}");
        }
    }
}

/// The one error whose text the server does not choose (a request it could not read, in
/// the decoder's words, which can quote the request) is shown in the page's own words.
#[tokio::test]
async fn an_error_quoting_the_request_is_shown_in_the_pages_own_words() {
    let app = TestApp::spawn().await;
    let quoted = [(LOCKED, "1"), (LOCKED, "2"), ("email", "ann@example.com"), ("password", GOOD)];
    let location = location(&app.post_plain_form("/api/login", "/login", &quoted).await);
    assert!(location.contains("__sig="), "the server's own error redirect: {location}");
    let html = page_at(&app, &location).await;
    assert!(!html.contains("555-0100"), "{location}: the request's words are not shown");
    assert!(html.contains("The form could not be read."), "{location}: the page's own words are");
}
