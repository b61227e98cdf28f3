//! The client secret stays between chatpass and the provider: no answer, redirect or page
//! of chatpass shows it, whatever happens in the sign-in.

use serde_json::json;

use super::with_provider;
use crate::common::{self, oidc::SignedBy};

/// A response's headers as text.
fn headers(response: &reqwest::Response) -> String {
    let lines: Vec<String> = response
        .headers()
        .iter()
        .map(|(k, v)| format!("{k}: {}", String::from_utf8_lossy(v.as_bytes())))
        .collect();
    lines.join("\n")
}

#[tokio::test]
async fn the_client_secret_is_in_no_answer() {
    let (app, provider) = with_provider(
        |c| {
            c.verified_account("u-ann", "ann@example.com")
                .account(json!({"sub": "u-x", "email": "x@example.com"}))
        },
        &[],
    )
    .await;
    let secret = provider.client_secret().to_string();
    let mut seen: Vec<(String, String)> = Vec::new();
    let browser = common::client();
    let start = browser.get(app.url("/auth/oidc/start?next=/chat")).send().await.unwrap();
    seen.push((format!("{} headers", "start"), headers(&start)));
    let authorize = start.headers()["location"].to_str().unwrap().to_string();
    seen.push(("start body".into(), start.text().await.unwrap()));
    let back = provider.sign_in(&authorize, "u-ann").await;
    seen.push(("the provider's redirect".into(), back.clone()));
    let done = browser.get(&back).send().await.unwrap();
    seen.push((format!("{} headers", "callback"), headers(&done)));
    seen.push(("callback body".into(), done.text().await.unwrap()));
    let again = browser.get(&back).send().await.unwrap();
    seen.push((format!("{} headers", "callback again"), headers(&again)));
    seen.push(("callback again body".into(), again.text().await.unwrap()));
    let refused = app.oidc_sign_in(&provider, &common::client(), "u-x", "/chat").await;
    seen.push((format!("{} headers", "refused"), headers(&refused)));
    seen.push(("refused body".into(), refused.text().await.unwrap()));
    let bad = provider.sign(provider.access_claims("u-ann"), SignedBy::Hs256ClientSecret).await;
    let bearer = app.chat_token_with_bearer(&bad).await;
    seen.push((format!("{} headers", "bearer"), headers(&bearer)));
    seen.push(("bearer body".into(), bearer.text().await.unwrap()));
    for path in ["/readyz", "/healthz", "/login", "/", "/chat", "/account"] {
        let page = browser.get(app.url(path)).send().await.unwrap();
        seen.push((format!("{} headers", path), headers(&page)));
        seen.push((format!("{path} body"), page.text().await.unwrap()));
    }
    for (what, text) in &seen {
        assert!(!text.contains(&secret), "the client secret in {what}");
    }
}
