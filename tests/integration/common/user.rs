//! A test user: an email proven by its owner, the password they chose, and a browser of
//! their own (a cookie jar) that is signed in. One way to get one, so tests say who acts.

use super::{client, fixtures::GOOD, TestApp};

pub struct TestUser {
    /// As signed up; the server stores it trimmed and lowercase.
    pub email: String,
    pub password: String,
    /// This user's browser: signed in, with its own cookies.
    pub client: reqwest::Client,
}

impl TestApp {
    /// Signs `email` up from a new browser and uses the mailed link there, choosing
    /// [`GOOD`]: that browser is signed in with a proven email.
    pub async fn proven_user(&self, email: &str) -> TestUser {
        let user = TestUser { email: email.to_string(), password: GOOD.to_string(), client: client() };
        let token = self.signup_link(email).await;
        let proof = self.verify_with(&user.client, &token, &user.password).await;
        assert_eq!(proof.status(), 200, "proof of {email}: {}", proof.text().await.unwrap_or_default());
        user
    }

    /// [`TestApp::register`] with this app's own client, choosing [`GOOD`]: the user whose
    /// browser is `app.client` (`client` is a clone of it: the same cookie jar).
    pub async fn register_user(&self, email: &str) -> TestUser {
        let proof = self.register(email, GOOD).await;
        assert_eq!(proof.status(), 200, "proof of {email}: {}", proof.text().await.unwrap_or_default());
        TestUser { email: email.to_string(), password: GOOD.to_string(), client: self.client.clone() }
    }

    /// A new browser that logs in with `email` and `password`, sending `user_agent` when
    /// there is one; the login must succeed.
    pub async fn logged_in_browser(
        &self,
        email: &str,
        password: &str,
        user_agent: Option<&str>,
    ) -> reqwest::Client {
        let browser = client();
        let mut request = browser
            .post(self.url("/api/login"))
            .header("origin", format!("http://{}", self.addr))
            .header("accept", "application/json")
            .form(&[("email", email), ("password", password)]);
        if let Some(user_agent) = user_agent {
            request = request.header("user-agent", user_agent);
        }
        let response = request.send().await.expect("request");
        assert_eq!(response.status(), 200, "login of {email}");
        browser
    }
}

impl TestUser {
    /// Another browser of this user, signed in with its password.
    pub async fn new_browser(&self, app: &TestApp, user_agent: Option<&str>) -> reqwest::Client {
        app.logged_in_browser(&self.email, &self.password, user_agent).await
    }
}
