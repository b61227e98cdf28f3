//! Device tokens as an app uses them: a client with no cookies and no `Origin`, the three
//! requests it sends, and ways to send what a well-behaved HTTP client refuses to.

use chatpass::{
    db::Pool,
    devices::{Devices, NewDevice},
    error::AppError,
};
use reqwest::header::HeaderValue;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{answer, app_error, user::TestUser, TestApp};

/// What an app sends from: no cookie jar, no `Origin`, and the harness's bound on a request.
pub fn app_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .expect("client")
}

/// The `Authorization` value that carries `token` as a bearer.
pub fn bearer(token: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("Bearer {token}")).expect("a visible-ASCII header")
}

/// The random part of a device token (after its `cpd_` prefix).
pub fn random_part(token: &str) -> &str {
    token.strip_prefix(chatpass::db::device_tokens::PREFIX).expect("a device token")
}

/// `token` with the character at `at` replaced by another token character.
pub fn changed_at(token: &str, at: usize) -> String {
    let mut bytes = token.as_bytes().to_vec();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

impl TestApp {
    /// `POST /api/device_tokens` as an app sends it (JSON); the answer as it came.
    pub async fn create_device(&self, email: &str, password: &str, name: &str) -> reqwest::Response {
        self.create_device_with(&app_client(), email, password, name).await
    }

    pub async fn create_device_with(
        &self,
        client: &reqwest::Client,
        email: &str,
        password: &str,
        name: &str,
    ) -> reqwest::Response {
        let body = serde_json::json!({"email": email, "password": password, "device_name": name});
        client.post(self.url("/api/device_tokens")).json(&body).send().await.expect("request")
    }

    /// A device of `user`, signed in with their email and password: it must get one.
    pub async fn device_of(&self, user: &TestUser, name: &str) -> NewDevice {
        answer(self.create_device(&user.email, &user.password, name).await, 201).await
    }

    /// "Connect a device" from `user`'s signed-in browser: it must get one.
    pub async fn connect_device(&self, user: &TestUser, name: &str) -> NewDevice {
        let response =
            self.post_form_with(&user.client, "/api/connect_device", &[("device_name", name)]).await;
        answer(response, 201).await
    }

    /// `POST /api/chat_token` from an app with these `Authorization` values (each its own
    /// header, in order); the answer as it came.
    pub async fn chat_token_authorized(&self, authorization: &[HeaderValue]) -> reqwest::Response {
        let mut request = app_client().post(self.url("/api/chat_token"));
        for value in authorization {
            request = request.header(reqwest::header::AUTHORIZATION, value.clone());
        }
        request.send().await.expect("request")
    }

    /// `POST /api/chat_token` with `token` as the bearer; the answer as it came.
    pub async fn chat_token_with_bearer(&self, token: &str) -> reqwest::Response {
        self.chat_token_authorized(&[bearer(token)]).await
    }

    /// The status of `POST /api/chat_token` with `token` as the bearer.
    pub async fn bearer_status(&self, token: &str) -> u16 {
        self.chat_token_with_bearer(token).await.status().as_u16()
    }

    /// `GET /api/device_tokens` with `token` as the bearer, which must be live.
    pub async fn devices_with_bearer(&self, token: &str) -> Devices {
        let response = app_client()
            .get(self.url("/api/device_tokens"))
            .header(reqwest::header::AUTHORIZATION, bearer(token))
            .send()
            .await
            .expect("request");
        answer(response, 200).await
    }

    /// `GET /api/device_tokens` from a signed-in browser.
    pub async fn devices_with(&self, client: &reqwest::Client) -> Devices {
        let response = client.get(self.url("/api/device_tokens")).send().await.expect("request");
        answer(response, 200).await
    }

    /// `POST /api/revoke_device_token` of `id` from a signed-in browser; the answer as it came.
    pub async fn revoke_device_with(&self, client: &reqwest::Client, id: &str) -> reqwest::Response {
        self.post_form_with(client, "/api/revoke_device_token", &[("id", id)]).await
    }

    /// How many device tokens are stored, of every account.
    pub async fn device_count(&self) -> i64 {
        super::count(&self.pool, "SELECT COUNT(*) FROM device_tokens").await
    }

    /// The stored `last_used_at` of device `id`.
    pub async fn last_used_at(&self, id: &str) -> Option<i64> {
        let sql = "SELECT last_used_at FROM device_tokens WHERE id = $1";
        match &self.pool {
            Pool::Sqlite(p) => sqlx::query_scalar(sql).bind(id).fetch_one(p).await.unwrap(),
            Pool::Postgres(p) => sqlx::query_scalar(sql).bind(id).fetch_one(p).await.unwrap(),
        }
    }

    /// Every value of every column of every table of the app's database, as bytes (text as
    /// UTF-8, numbers as their digits, blobs as they are), each with where it was found.
    pub async fn every_stored_value(&self) -> Vec<(String, Vec<u8>)> {
        let mut found = Vec::new();
        match &self.pool {
            Pool::Sqlite(p) => {
                let tables: Vec<String> =
                    sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
                        .fetch_all(p)
                        .await
                        .unwrap();
                for table in tables {
                    let columns: Vec<String> =
                        sqlx::query_scalar(&format!(r#"SELECT name FROM pragma_table_info('{table}')"#))
                            .fetch_all(p)
                            .await
                            .unwrap();
                    for column in columns {
                        let sql = format!(r#"SELECT CAST("{column}" AS BLOB) FROM "{table}""#);
                        let values: Vec<Option<Vec<u8>>> =
                            sqlx::query_scalar(&sql).fetch_all(p).await.unwrap();
                        found.extend(values.into_iter().flatten().map(|v| (format!("{table}.{column}"), v)));
                    }
                }
            }
            Pool::Postgres(p) => {
                let columns: Vec<(String, String, String, String)> = sqlx::query_as(
                    "SELECT table_schema::text, table_name::text, column_name::text, data_type::text \
                     FROM information_schema.columns \
                     WHERE table_schema NOT IN ('pg_catalog', 'information_schema')",
                )
                .fetch_all(p)
                .await
                .unwrap();
                for (schema, table, column, data_type) in columns {
                    let place = format!("{schema}.{table}.{column}");
                    if data_type == "bytea" {
                        let sql = format!(r#"SELECT "{column}" FROM "{schema}"."{table}""#);
                        let values: Vec<Option<Vec<u8>>> =
                            sqlx::query_scalar(&sql).fetch_all(p).await.unwrap();
                        found.extend(values.into_iter().flatten().map(|v| (place.clone(), v)));
                    } else {
                        let sql = format!(r#"SELECT "{column}"::text FROM "{schema}"."{table}""#);
                        let values: Vec<Option<String>> =
                            sqlx::query_scalar(&sql).fetch_all(p).await.unwrap();
                        found.extend(values.into_iter().flatten().map(|v| (place.clone(), v.into_bytes())));
                    }
                }
            }
        }
        found
    }
}

/// Asserts that `response` is the refusal of a bad bearer: 401 `invalid_token` with RFC
/// 6750's `WWW-Authenticate`; `what` says which bearer, in the failure.
pub async fn assert_invalid_token(response: reqwest::Response, what: &str) {
    assert_eq!(response.status(), 401, "{what}");
    assert_eq!(
        response.headers().get("www-authenticate").and_then(|v| v.to_str().ok()),
        Some(r#"Bearer error="invalid_token""#),
        "{what}"
    );
    assert_eq!(app_error(response).await, AppError::InvalidToken, "{what}");
}

/// Sends `head` (a request's head, each line ending in CRLF, without the blank line) over a
/// connection of its own, with `Connection: close`; the status code of the answer. For what
/// reqwest and the `http` crate refuse to send (a NUL in a header).
pub async fn raw_status(app: &TestApp, head: &[u8]) -> u16 {
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    stream.write_all(head).await.unwrap();
    stream.write_all(b"Connection: close\r\n\r\n").await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    status_of(&answer)
}

fn status_of(answer: &[u8]) -> u16 {
    let text = String::from_utf8_lossy(answer);
    let line = text.lines().next().unwrap_or_default();
    line.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or_else(|| panic!("no status: {text}"))
}

/// A `POST /api/chat_token` with `token` as the bearer that is in flight: its head is sent
/// with `Expect: 100-continue` and its body held back. It is returned once the server has
/// asked for the body ("100 Continue"): the request is being served, and everything after
/// the body-reading layer (the outermost) waits for [`HeldRequest::finish`].
pub struct HeldRequest {
    stream: tokio::net::TcpStream,
}

impl HeldRequest {
    pub async fn chat_token(app: &TestApp, token: &str) -> HeldRequest {
        let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
        let head = format!(
            "POST /api/chat_token HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\n\
             Expect: 100-continue\r\nConnection: close\r\n\r\n",
            app.addr
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        super::until_asked_for_the_body(&mut stream).await;
        HeldRequest { stream }
    }

    /// Sends the body; the status of the answer.
    pub async fn finish(mut self) -> u16 {
        self.stream.write_all(b"x=1").await.unwrap();
        let mut answer = Vec::new();
        self.stream.read_to_end(&mut answer).await.unwrap();
        status_of(&answer)
    }
}
