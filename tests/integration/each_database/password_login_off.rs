//! `CHATPASS_PASSWORD_LOGIN=off` (accounts only through the provider) and logout of a
//! provider's session, through the real router and a real provider.

use super::oidc::with_provider;
use crate::common;

use chatpass::error::AppError;

#[tokio::test]
async fn with_password_login_off_every_password_route_is_403_and_the_pages_show_only_the_button() {
    let (app, _provider) = with_provider(|c| c, &[("CHATPASS_PASSWORD_LOGIN", "off")]).await;
    for (path, form) in [
        ("/api/login", &[("email", "ann@example.com"), ("password", common::fixtures::GOOD)][..]),
        ("/api/signup", &[("email", "ann@example.com")]),
        ("/api/forgot_password", &[("email", "ann@example.com")]),
        ("/api/device_tokens", &[("email", "ann@example.com"), ("password", "x"), ("device_name", "p")]),
    ] {
        let response = app.post_form(path, form).await;
        assert_eq!(response.status(), 403, "{path}");
        assert_eq!(common::app_error(response).await, AppError::PasswordLoginOff, "{path}");
    }
    assert_eq!(app.user_count().await, 0);
    let login = app.get("/login").await.text().await.unwrap();
    assert!(login.contains("Sign in with Acme SSO"), "{login}");
    assert!(!login.contains("name=\"password\""), "{login}");
}

#[tokio::test]
async fn logout_of_a_provider_session_goes_on_to_the_providers_logout_and_back_home() {
    let (app, provider) = with_provider(|c| c.verified_account("u-ann", "ann@example.com"), &[]).await;
    let browser = common::client();
    assert_eq!(app.oidc_sign_in(&provider, &browser, "u-ann", "/chat").await.status(), 303);
    let out = browser
        .post(app.url("/api/logout"))
        .header("origin", format!("http://{}", app.addr))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    let location = out.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(provider.issuer()), "{location}");
    let url = url::Url::parse(&location).unwrap();
    let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert!(query.contains_key("id_token_hint"));
    assert_eq!(query["post_logout_redirect_uri"], format!("http://{}/", app.addr));
    // chatpass's own session is over whatever the provider does next.
    assert_eq!(app.whoami_with(&browser).await, None);
}

#[tokio::test]
async fn a_refused_sign_in_is_explained_in_words_on_the_login_page_beside_the_button() {
    let (app, _provider) = with_provider(|c| c, &[]).await;
    let page = app.get("/login?sso=email_not_verified").await.text().await.unwrap();
    assert!(page.contains("does not say your email address is verified"), "{page}");
    assert!(page.contains("Sign in with Acme SSO"));
    assert!(page.contains("name=\"password\""), "password login stays on by default");
    // An unknown code shows nothing, not the code itself.
    let page = app.get("/login?sso=%3Cscript%3E").await.text().await.unwrap();
    assert!(!page.contains("&lt;script&gt;") && !page.contains("sign-in provider"), "{page}");
}
