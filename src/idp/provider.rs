//! The team's OpenID Connect provider as chatpass knows it: its discovery document (found
//! at start, retried until it answers, so a provider that is down does not stop chatpass)
//! and its signing keys, fetched again for a key id not seen yet, at most once per
//! [`REFETCH_AT_MOST_EVERY`], so a flood of bogus key ids cannot make chatpass hammer it.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex, RwLock,
    },
    time::{Duration, Instant},
};

use jsonwebtoken::jwk::JwkSet;
use openidconnect::{IssuerUrl, ProviderMetadataWithLogout};

use crate::config::OidcSettings;

/// The fewest seconds between two fetches of the provider's keys or discovery document.
pub const REFETCH_AT_MOST_EVERY: Duration = Duration::from_secs(5);
/// How long one request to the provider may take.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(5);

/// The provider, shared by every request (feature state).
pub struct Provider {
    pub settings: OidcSettings,
    http: openidconnect::reqwest::Client,
    metadata: RwLock<Option<Arc<ProviderMetadataWithLogout>>>,
    keys: RwLock<Option<Arc<JwkSet>>>,
    last_fetch: Mutex<Option<Instant>>,
    /// The last fetch of the discovery document and keys failed (the provider is down).
    last_fetch_failed: AtomicBool,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider").field("issuer", &self.settings.issuer).finish_non_exhaustive()
    }
}

impl Provider {
    /// The provider of `settings`, not discovered yet; [`Provider::discover_until_found`] does that.
    pub fn new(settings: OidcSettings) -> Arc<Self> {
        let http = openidconnect::reqwest::Client::builder()
            // A provider's redirect could send chatpass's requests anywhere (SSRF).
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(PROVIDER_TIMEOUT)
            .build()
            .unwrap_or_default();
        Arc::new(Provider {
            settings,
            http,
            metadata: RwLock::new(None),
            keys: RwLock::new(None),
            last_fetch: Mutex::new(None),
            last_fetch_failed: AtomicBool::new(false),
        })
    }

    pub fn http(&self) -> &openidconnect::reqwest::Client {
        &self.http
    }

    /// Discovers the provider, retrying with a doubling delay (at most a minute) until it
    /// answers. `/readyz` says `oidc` meanwhile.
    pub async fn discover_until_found(self: Arc<Self>) {
        let mut delay = Duration::from_secs(1);
        while let Err(e) = self.discover().await {
            tracing::warn!(issuer = %self.settings.issuer, error = %e, retry_in_s = delay.as_secs(), "OpenID provider not discovered yet");
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(60));
        }
        tracing::info!(issuer = %self.settings.issuer, "OpenID provider discovered");
    }

    async fn discover(&self) -> Result<(), String> {
        let found = self.fetch_all().await;
        self.last_fetch_failed.store(found.is_err(), Ordering::Relaxed);
        found
    }

    /// Whether the last fetch of the provider's keys failed: a key id not in the cached
    /// keys may then be one chatpass could not see.
    pub fn last_fetch_failed(&self) -> bool {
        self.last_fetch_failed.load(Ordering::Relaxed)
    }

    async fn fetch_all(&self) -> Result<(), String> {
        let issuer = IssuerUrl::new(self.settings.issuer.clone()).map_err(|e| e.to_string())?;
        let metadata = ProviderMetadataWithLogout::discover_async(issuer, &self.http)
            .await
            .map_err(|e| e.to_string())?;
        let keys = self.fetch_keys(metadata.jwks_uri().url().as_str()).await?;
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(keys));
        *self.metadata.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(metadata));
        *self.last_fetch.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
        Ok(())
    }

    async fn fetch_keys(&self, url: &str) -> Result<JwkSet, String> {
        let response = self.http.get(url).send().await.map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("the provider's keys answered {}", response.status()));
        }
        let body = response.bytes().await.map_err(|e| e.to_string())?;
        serde_json::from_slice::<JwkSet>(&body)
            .map_err(|e| format!("the provider's keys are not a JWK set: {e}"))
    }

    /// The discovery document, once found.
    pub fn metadata(&self) -> Option<Arc<ProviderMetadataWithLogout>> {
        self.metadata.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn is_discovered(&self) -> bool {
        self.metadata().is_some()
    }

    /// The provider's keys as last fetched.
    pub fn keys(&self) -> Option<Arc<JwkSet>> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Fetches the discovery document and keys again (a key id not seen yet: the provider
    /// may have rotated its keys), unless that was done less than [`REFETCH_AT_MOST_EVERY`]
    /// ago. True when a fetch happened and succeeded.
    pub async fn refetch(&self) -> bool {
        {
            let mut last = self.last_fetch.lock().unwrap_or_else(|e| e.into_inner());
            if last.is_some_and(|at| at.elapsed() < REFETCH_AT_MOST_EVERY) {
                return false;
            }
            *last = Some(Instant::now());
        }
        match self.discover().await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(issuer = %self.settings.issuer, error = %e, "could not fetch the OpenID provider's keys again");
                false
            }
        }
    }
}
