//! The app's answers read into the app's own types, so a test names fields
//! (`token.identity`) and a change of shape fails to deserialize instead of comparing `null`.

use chatpass::{
    auth::{sessions_list::SessionInfo, AccountInfo, UserInfo},
    error::AppError,
    token::IssuedChatToken,
};
use serde::de::DeserializeOwned;

use super::TestApp;

/// The body of `response`, which must have `status`, as `T`; the text is in the failure.
pub async fn answer<T: DeserializeOwned>(response: reqwest::Response, status: u16) -> T {
    let got = response.status();
    let text = response.text().await.expect("an answer");
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("not a {}: {e}: {text}", std::any::type_name::<T>()))
}

/// The error a refused request answers with (any 4xx or 5xx status).
pub async fn app_error(response: reqwest::Response) -> AppError {
    let status = response.status();
    let text = response.text().await.expect("an answer");
    assert!(status.is_client_error() || status.is_server_error(), "{status}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not an AppError: {e}: {text}"))
}

/// The field a `bad_input` error names, and its reason; any other answer fails.
pub async fn bad_input(response: reqwest::Response) -> (String, String) {
    match app_error(response).await {
        AppError::BadInput { field, reason } => (field, reason),
        other => panic!("not bad_input: {other:?}"),
    }
}

impl TestApp {
    /// `POST /api/chat_token` from `client`, which must get one.
    pub async fn chat_token_with(&self, client: &reqwest::Client) -> IssuedChatToken {
        answer(self.post_form_with(client, "/api/chat_token", &[]).await, 200).await
    }

    pub async fn chat_token(&self) -> IssuedChatToken {
        self.chat_token_with(&self.client).await
    }

    /// `POST /api/current_user` from `client`: the signed-in user, or `None`.
    pub async fn current_user_with(&self, client: &reqwest::Client) -> Option<UserInfo> {
        answer(self.post_form_with(client, "/api/current_user", &[]).await, 200).await
    }

    /// `POST /api/account` from `client`, which must be signed in.
    pub async fn account_with(&self, client: &reqwest::Client) -> AccountInfo {
        answer(self.post_form_with(client, "/api/account", &[]).await, 200).await
    }

    /// `POST /api/sessions` from `client`, which must be signed in: the list, and the
    /// answer's text as it came (to look for what must not be in it).
    pub async fn sessions_with(&self, client: &reqwest::Client) -> (Vec<SessionInfo>, String) {
        let response = self.post_form_with(client, "/api/sessions", &[]).await;
        assert_eq!(response.status(), 200);
        let text = response.text().await.unwrap();
        (serde_json::from_str(&text).expect("a list of sessions"), text)
    }
}
