//! Twilio's Conversations REST API, the calls chatpass makes: a service's Users created,
//! renamed, deleted and listed. HTTP Basic auth with the API key SID and secret; form
//! bodies; the identity percent-encoded as one path segment, so `@ + / ? # %` survive.

use std::time::Duration;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::config::TwilioAccount;

/// How long one call may take, connecting included. A hung call is retried later.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Every byte but RFC 3986's unreserved ones is encoded: the identity stays one segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Why a call did not do what it asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The network failed, the call timed out, or Twilio said 429 or 5xx: try again
    /// (after `retry_after` when Twilio said how long).
    #[error("{reason}")]
    Transient { reason: String, retry_after: Option<Duration> },
    /// 404: no such User.
    #[error("404: no such User")]
    NotFound,
    /// 409: the User exists already.
    #[error("409: the User exists already")]
    Conflict,
    /// Any other 4xx: Twilio refuses it, and will again. `code` is Twilio's error code.
    #[error("{status} (Twilio error {}): {message}", code.map_or("none".to_string(), |c| c.to_string()))]
    Refused { status: u16, code: Option<i64>, message: String },
}

/// A service's User as the API lists it (what `chatpass twilio sync` compares).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct ListedUser {
    pub identity: String,
    #[serde(default)]
    pub friendly_name: Option<String>,
}

#[derive(Deserialize)]
struct UsersPage {
    users: Vec<ListedUser>,
    meta: PageMeta,
}

#[derive(Deserialize)]
struct PageMeta {
    next_page_url: Option<String>,
}

/// Twilio's error body: `{"code": 50201, "message": "…", "more_info": "…", "status": 409}`.
#[derive(Deserialize)]
struct TwilioError {
    code: Option<i64>,
    message: Option<String>,
}

/// The Users of one Conversations service.
pub struct UsersApi {
    http: reqwest::Client,
    /// `{api_url}/v1/Services/{service SID}/Users`
    users_url: String,
    origin: String,
    key_sid: String,
    secret: SecretString,
}

impl UsersApi {
    pub fn new(api_url: &str, account: &TwilioAccount) -> Result<UsersApi, String> {
        let http = reqwest::Client::builder()
            .timeout(CALL_TIMEOUT)
            .user_agent(concat!("chatpass/", env!("CARGO_PKG_VERSION")))
            // Basic credentials must not follow a redirect anywhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot make an HTTP client: {e}"))?;
        Ok(UsersApi {
            http,
            users_url: format!("{api_url}/v1/Services/{}/Users", account.chat_service_sid),
            origin: api_url.to_string(),
            key_sid: account.api_key_sid.clone(),
            secret: SecretString::from(account.secret().to_string()),
        })
    }

    /// `…/Users/{identity}`. Not for `.`, `..` or an empty identity: every URL parser reads
    /// those (encoded or not) as a step within the path, so the request would reach another
    /// resource (`…/Users`, or the service itself); Twilio addresses such a User by its SID.
    fn user_url(&self, identity: &str) -> Result<String, CallError> {
        if matches!(identity, "" | "." | "..") {
            return Err(CallError::Refused {
                status: 0,
                code: None,
                message: format!("the identity {identity:?} cannot be a URL path segment"),
            });
        }
        Ok(format!("{}/{}", self.users_url, utf8_percent_encode(identity, SEGMENT)))
    }

    /// `POST …/Users` with `Identity` and `FriendlyName`.
    pub async fn create(&self, identity: &str, friendly_name: &str) -> Result<(), CallError> {
        let form = [("Identity", identity), ("FriendlyName", friendly_name)];
        self.send(self.http.post(&self.users_url).form(&form)).await.map(drop)
    }

    /// `POST …/Users/{identity}` with `FriendlyName`.
    pub async fn rename(&self, identity: &str, friendly_name: &str) -> Result<(), CallError> {
        let form = [("FriendlyName", friendly_name)];
        self.send(self.http.post(self.user_url(identity)?).form(&form)).await.map(drop)
    }

    /// `DELETE …/Users/{identity}`.
    pub async fn delete(&self, identity: &str) -> Result<(), CallError> {
        self.send(self.http.delete(self.user_url(identity)?)).await.map(drop)
    }

    /// One page of the service's Users: the first (`None`) or the one a page named next.
    /// Returns the Users and the next page's URL, if any.
    pub async fn list_page(
        &self,
        page: Option<&str>,
    ) -> Result<(Vec<ListedUser>, Option<String>), CallError> {
        let url = match page {
            None => format!("{}?PageSize=1000", self.users_url),
            // Twilio names the next page by an absolute URL; credentials go only to our origin.
            Some(next) if next.starts_with(&format!("{}/", self.origin)) => next.to_string(),
            Some(next) if next.starts_with('/') => format!("{}{next}", self.origin),
            Some(_) => {
                return Err(CallError::Refused {
                    status: 0,
                    code: None,
                    message: "the next page is on another origin".into(),
                })
            }
        };
        let body = self.send(self.http.get(url)).await?;
        let page: UsersPage = serde_json::from_slice(&body).map_err(|e| CallError::Transient {
            reason: format!("the Users page is not what Twilio sends: {e}"),
            retry_after: None,
        })?;
        Ok((page.users, page.meta.next_page_url))
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Vec<u8>, CallError> {
        let request = request
            .basic_auth(&self.key_sid, Some(self.secret.expose_secret()))
            .header(reqwest::header::ACCEPT, "application/json");
        let answer = request.send().await.map_err(|e| CallError::Transient {
            // Without the URL: it holds an identity (an email, by default).
            reason: if e.is_timeout() {
                "timed out".to_string()
            } else {
                format!("network: {}", e.without_url())
            },
            retry_after: None,
        })?;
        let status = answer.status().as_u16();
        let retry_after = answer
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = answer.bytes().await.map_err(|e| CallError::Transient {
            reason: format!("the answer broke off: {}", e.without_url()),
            retry_after: None,
        })?;
        match status {
            200..=299 => Ok(body.to_vec()),
            404 => Err(CallError::NotFound),
            409 => Err(CallError::Conflict),
            429 | 500..=599 => {
                Err(CallError::Transient { reason: format!("Twilio answered {status}"), retry_after })
            }
            _ => {
                let error: Option<TwilioError> = serde_json::from_slice(&body).ok();
                let code = error.as_ref().and_then(|e| e.code);
                let message = error.and_then(|e| e.message).unwrap_or_default().chars().take(300).collect();
                Err(CallError::Refused { status, code, message })
            }
        }
    }
}
