//! The two redirects of the web sign-in.

use std::sync::Arc;

use axum::{
    extract::{Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    Extension,
};
use openidconnect::{
    core::{CoreAuthenticationFlow, CoreClient, CoreIdTokenVerifier, CoreJwsSigningAlgorithm},
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    SignatureVerificationError, TokenResponse as _,
};
use serde::{Deserialize, Serialize};

use crate::{
    auth::safe_next,
    idp::{self, Provider, Refusal},
    sessions::AuthSession,
    state::AppState,
};

/// What the two routes need: the provider, and the origin browsers use (`None`: the
/// request's `Host`), which the redirect URI is built on.
#[derive(Clone, Debug)]
pub struct OidcRoutes {
    pub provider: Arc<Provider>,
    pub public_origin: Option<String>,
}

/// The session key of a sign-in under way: what the callback must find again.
pub const PENDING_KEY: &str = "oidc.pending";
/// How long the provider may take to send the browser back.
const PENDING_FOR_SECS: u64 = 600;
/// The algorithms an ID token may be signed with: the provider's public keys, never `none`
/// or an HMAC (which would be keyed by the client secret, or by a public key passed off as one).
const ID_TOKEN_ALGS: [CoreJwsSigningAlgorithm; 7] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EdDsa,
];

#[derive(Serialize, Deserialize)]
struct Pending {
    state: String,
    nonce: String,
    verifier: String,
    next: String,
    at: u64,
}

/// Why a sign-in came back refused: the `sso` query key of `/login`, which says it in words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The sign-in was not started here, was finished already, or took too long.
    Expired,
    /// The provider said no, or its answer did not verify.
    Provider,
    /// The provider does not say it has verified the email.
    EmailNotVerified,
    /// The provider's email is not one an account can have.
    EmailRefused,
    /// The account with that email belongs to another user of the provider.
    LinkedToAnother,
}

impl Refused {
    pub fn code(self) -> &'static str {
        match self {
            Refused::Expired => "expired",
            Refused::Provider => "provider",
            Refused::EmailNotVerified => "email_not_verified",
            Refused::EmailRefused => "email_refused",
            Refused::LinkedToAnother => "linked_to_another",
        }
    }
}

fn refused(why: Refused) -> Response {
    Redirect::to(&format!("/login?sso={}", why.code())).into_response()
}

fn unavailable(name: &str) -> Response {
    let words = format!(
        "Sign-in with {name} is not available right now: chatpass cannot reach it. Try again in a minute."
    );
    (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "30")], words).into_response()
}

fn now() -> u64 {
    std::time::UNIX_EPOCH.elapsed().map_or(0, |d| d.as_secs())
}

/// The callback's URL, as registered at the provider.
fn redirect_uri(oidc: &OidcRoutes, headers: &HeaderMap) -> Option<RedirectUrl> {
    let origin = match &oidc.public_origin {
        Some(origin) => origin.clone(),
        None => format!("http://{}", headers.get(header::HOST)?.to_str().ok()?),
    };
    RedirectUrl::new(format!("{origin}/auth/oidc/callback")).ok()
}

#[derive(Deserialize)]
pub(super) struct StartQuery {
    next: Option<String>,
}

/// The relying party as the provider's discovery document makes it: authorization and token
/// endpoints, the client's credentials, the callback URL.
type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The client for this request; `None` before the provider is discovered.
fn client(oidc: &OidcRoutes, headers: &HeaderMap) -> Option<Client> {
    let settings = &oidc.provider.settings;
    let (metadata, redirect) = (oidc.provider.metadata()?, redirect_uri(oidc, headers)?);
    Some(
        CoreClient::from_provider_metadata(
            (*metadata).clone(),
            ClientId::new(settings.client_id.clone()),
            Some(ClientSecret::new(settings.client_secret().to_string())),
        )
        .set_redirect_uri(redirect),
    )
}

pub(super) async fn start(
    Extension(oidc): Extension<OidcRoutes>,
    auth: AuthSession,
    headers: HeaderMap,
    Query(query): Query<StartQuery>,
) -> Response {
    let Some(client) = client(&oidc, &headers) else {
        return unavailable(&oidc.provider.settings.name);
    };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    let pending = Pending {
        state: state.secret().clone(),
        nonce: nonce.secret().clone(),
        verifier: verifier.secret().clone(),
        next: safe_next(query.next.as_deref()).into_owned(),
        at: now(),
    };
    if auth.session.insert(PENDING_KEY, pending).await.is_err() {
        return (StatusCode::SERVICE_UNAVAILABLE, "The session store is unavailable. Try again shortly.")
            .into_response();
    }
    Redirect::to(url.as_str()).into_response()
}

#[derive(Deserialize)]
pub(super) struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
}

/// Compares two secrets in time that does not depend on where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(super) async fn callback(
    Extension(oidc): Extension<OidcRoutes>,
    State(state): State<AppState>,
    mut auth: AuthSession,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Response {
    // Single use: whatever happens next, this sign-in cannot be finished twice.
    let pending: Option<Pending> = auth.session.remove(PENDING_KEY).await.ok().flatten();
    let Some(pending) = pending.filter(|p| now().saturating_sub(p.at) <= PENDING_FOR_SECS) else {
        tracing::info!("OpenID sign-in refused: no sign-in under way in this session, or too old");
        return refused(Refused::Expired);
    };
    if !query.state.as_deref().is_some_and(|s| same_secret(s, &pending.state)) {
        tracing::info!("OpenID sign-in refused: state does not match");
        return refused(Refused::Expired);
    }
    let Some(code) = query.code else {
        tracing::info!("OpenID sign-in refused by the provider (no code)");
        return refused(Refused::Provider);
    };
    let settings = &oidc.provider.settings;
    let Some(client) = client(&oidc, &headers) else {
        return unavailable(&oidc.provider.settings.name);
    };
    let exchanged = match client.exchange_code(AuthorizationCode::new(code)) {
        Ok(request) => {
            request
                .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier))
                .request_async(oidc.provider.http())
                .await
        }
        Err(_) => return unavailable(&settings.name),
    };
    let response = match exchanged {
        Ok(response) => response,
        Err(e) => {
            tracing::info!(error = %e, "OpenID sign-in refused: the code exchange failed");
            return refused(Refused::Provider);
        }
    };
    let Some(id_token) = response.id_token() else {
        tracing::info!("OpenID sign-in refused: no ID token");
        return refused(Refused::Provider);
    };
    let nonce = Nonce::new(pending.nonce);
    let verifier = client.id_token_verifier().set_allowed_algs(ID_TOKEN_ALGS);
    let mut verified = id_token.claims(&verifier, &nonce).cloned();
    if matches!(
        verified,
        Err(ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoMatchingKey))
    ) {
        // A key id not seen yet: the provider may have rotated its keys (fetched again at
        // most every few seconds).
        if let Some(metadata) = oidc.provider.refetch().await.then(|| oidc.provider.metadata()).flatten() {
            let verifier = CoreIdTokenVerifier::new_confidential_client(
                ClientId::new(settings.client_id.clone()),
                ClientSecret::new(settings.client_secret().to_string()),
                metadata.issuer().clone(),
                metadata.jwks().clone(),
            )
            .set_allowed_algs(ID_TOKEN_ALGS);
            verified = id_token.claims(&verifier, &nonce).cloned();
        }
    }
    let claims = match verified {
        Ok(claims) => claims,
        Err(e) => {
            tracing::info!(error = %e, "OpenID sign-in refused: the ID token did not verify");
            return refused(Refused::Provider);
        }
    };
    let who = idp::ProviderUser {
        issuer: &settings.issuer,
        subject: claims.subject().as_str(),
        email: claims.email().map(|e| e.as_str()),
        email_verified: claims.email_verified(),
    };
    let user = match idp::account_for(&state.pool, &who, now() as i64).await {
        Ok(user) => user,
        Err(refusal) => {
            tracing::info!(?refusal, "OpenID sign-in refused");
            return match refusal {
                Refusal::EmailNotVerified => refused(Refused::EmailNotVerified),
                Refusal::EmailRefused(_) => refused(Refused::EmailRefused),
                Refusal::LinkedToAnother => refused(Refused::LinkedToAnother),
                Refusal::Failed(e) => (
                    StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                    e.to_string(),
                )
                    .into_response(),
            };
        }
    };
    let agent = headers.get(header::USER_AGENT).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    if let Err(e) =
        crate::auth::start_session_with(&mut auth, &user, &state.pool, &agent.unwrap_or_default()).await
    {
        return (
            StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            e.to_string(),
        )
            .into_response();
    }
    let _ = auth.session.insert(crate::sessions::OIDC_ID_TOKEN_KEY, id_token.to_string()).await;
    crate::metrics::login("ok");
    tracing::info!(user.id = user.id, "signed in with the OpenID provider");
    Redirect::to(&pending.next).into_response()
}
