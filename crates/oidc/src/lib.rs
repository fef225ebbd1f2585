//! OpenID Connect sign-in for people (the console's "sign in with your company's identity
//! provider"): the relying party's half of the authorization code flow with PKCE (RFC 7636,
//! S256 only). [`RelyingParty`] reads the issuer's discovery document, builds the
//! authorization URL, exchanges the code and checks the ID token strictly (signature from
//! the issuer's JWKS with RS256 or ES256, issuer, audience, authorized party, expiry,
//! nonce). Mapping the person's claims to roles is the caller's business.
//!
//! Nothing here keeps per-sign-in state: the caller holds the [`LoginRequest`] (state,
//! nonce, verifier) between the redirect and the callback, e.g. derived from a cookie.

mod error;
mod id_token;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use url::Url;

pub use error::OidcError;
use id_token::{Expected, JwkSet};

/// How long the discovery document and the keys are reused before they are read again.
const METADATA_TTL: Duration = Duration::from_secs(3600);
/// An unknown key id makes the keys be read again, at most this often (key rotation
/// without letting every forged token trigger a fetch).
const KEYS_REFRESH_MIN: Duration = Duration::from_secs(10);
/// The most a provider answer may weigh.
const MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// How to reach the identity provider, and who we are to it.
#[derive(Clone)]
pub struct OidcConfig {
    /// The issuer identifier, exactly as the provider's ID tokens carry it
    /// (`https://id.example.com` or `https://id.example.com/realms/x`).
    pub issuer: String,
    /// This gateway's client id at the provider.
    pub client_id: String,
    /// The client secret of a confidential client (sent with HTTP Basic), `None` for a
    /// public client (PKCE alone).
    pub client_secret: Option<SecretString>,
    /// Where the provider sends the browser back (registered there exactly).
    pub redirect_uri: String,
    /// Scopes asked for besides `openid`.
    pub scopes: Vec<String>,
    /// Allow `http://` to a loopback issuer (tests and the demo against the simulator).
    pub allow_loopback_http: bool,
    /// Connect-and-answer timeout of each call to the provider.
    pub timeout: Duration,
}

impl std::fmt::Debug for OidcConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("confidential", &self.client_secret.is_some())
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// One sign-in's secrets, kept by the caller from the redirect to the callback.
pub struct LoginRequest {
    /// Sent as `state` and compared on the callback (login CSRF).
    pub state: String,
    /// Sent as `nonce`; the ID token must carry it (token replay).
    pub nonce: String,
    /// The PKCE verifier: 43–128 characters of `[A-Za-z0-9-._~]`.
    pub code_verifier: SecretString,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest").finish_non_exhaustive()
    }
}

impl LoginRequest {
    /// The S256 code challenge of the verifier.
    pub fn code_challenge(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(
            self.code_verifier.expose_secret().as_bytes(),
        ))
    }
}

/// Who signed in, as the verified ID token says.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    /// `sub`: the provider's stable id of the person.
    pub subject: String,
    /// `email`, if the token has one.
    pub email: Option<String>,
    /// `name`, if the token has one.
    pub name: Option<String>,
    /// Every claim of the token (for role mapping).
    pub claims: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
struct ProviderMetadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    #[serde(default)]
    code_challenge_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    token_endpoint_auth_methods_supported: Option<Vec<String>>,
}

/// Endpoints read from discovery, each checked.
#[derive(Debug)]
struct Endpoints {
    authorization: Url,
    token: Url,
    jwks: Url,
    /// The provider takes the secret only in the body (`client_secret_post`).
    secret_in_body: bool,
}

type Cached<T> = Mutex<Option<(Instant, Arc<T>)>>;

/// The gateway as an OIDC relying party of one issuer. Cheap to share behind an `Arc`.
pub struct RelyingParty {
    config: OidcConfig,
    http: reqwest::Client,
    endpoints: Cached<Endpoints>,
    keys: Cached<JwkSet>,
}

impl std::fmt::Debug for RelyingParty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelyingParty")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl RelyingParty {
    /// Checks the configuration and builds the HTTP client (no call is made yet). A
    /// rustls crypto provider must be installed.
    pub fn new(config: OidcConfig) -> Result<Self, OidcError> {
        let issuer = checked_url(&config.issuer, "issuer", config.allow_loopback_http)?;
        if issuer.query().is_some() || issuer.fragment().is_some() {
            return Err(OidcError::Config(
                "issuer: an issuer has no query or fragment".into(),
            ));
        }
        checked_url(
            &config.redirect_uri,
            "redirect_uri",
            config.allow_loopback_http,
        )?;
        if config.client_id.trim().is_empty() {
            return Err(OidcError::Config("client_id is empty".into()));
        }
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.timeout)
            .timeout(config.timeout)
            .user_agent(concat!("passgate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| OidcError::Config(format!("HTTP client: {}", e.without_url())))?;
        Ok(Self {
            config,
            http,
            endpoints: Mutex::new(None),
            keys: Mutex::new(None),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &OidcConfig {
        &self.config
    }

    /// Where to send the browser to sign in.
    pub async fn authorization_url(&self, login: &LoginRequest) -> Result<String, OidcError> {
        let endpoints = self.endpoints().await?;
        let mut scopes = vec!["openid".to_owned()];
        scopes.extend(
            self.config
                .scopes
                .iter()
                .filter(|s| s.as_str() != "openid")
                .cloned(),
        );
        let mut url = endpoints.authorization.clone();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.config.client_id)
            .append_pair("redirect_uri", &self.config.redirect_uri)
            .append_pair("scope", &scopes.join(" "))
            .append_pair("state", &login.state)
            .append_pair("nonce", &login.nonce)
            .append_pair("code_challenge", &login.code_challenge())
            .append_pair("code_challenge_method", "S256");
        Ok(url.into())
    }

    /// Exchanges the callback's `code` and checks the ID token against `login`.
    pub async fn sign_in(
        &self,
        code: &str,
        login: &LoginRequest,
        now: DateTime<Utc>,
    ) -> Result<Identity, OidcError> {
        let endpoints = self.endpoints().await?;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.config.redirect_uri.as_str()),
            ("code_verifier", login.code_verifier.expose_secret()),
        ];
        let mut request = self.http.post(endpoints.token.clone());
        match &self.config.client_secret {
            Some(secret) if endpoints.secret_in_body => {
                form.push(("client_id", self.config.client_id.as_str()));
                form.push(("client_secret", secret.expose_secret()));
            }
            // RFC 6749 §2.3.1: id and secret are form-encoded before Basic encoding.
            Some(secret) => {
                request = request.basic_auth(
                    form_encode(&self.config.client_id),
                    Some(form_encode(secret.expose_secret())),
                );
            }
            None => form.push(("client_id", self.config.client_id.as_str())),
        }
        let response = request
            .header("accept", "application/json")
            .form(&form)
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status();
        let body = read_limited(response).await?;
        if !status.is_success() {
            let error = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
            return Err(OidcError::TokenRefused {
                error: error.chars().take(64).collect(),
            });
        }
        #[derive(Deserialize)]
        struct TokenResponse {
            id_token: Option<String>,
        }
        let token: TokenResponse = serde_json::from_slice(&body)
            .map_err(|_| OidcError::BadResponse("token response is not JSON".into()))?;
        let id_token = token
            .id_token
            .ok_or_else(|| OidcError::BadResponse("token response has no id_token".into()))?;
        self.check_id_token(&id_token, &login.nonce, now).await
    }

    async fn check_id_token(
        &self,
        token: &str,
        nonce: &str,
        now: DateTime<Utc>,
    ) -> Result<Identity, OidcError> {
        let parsed = id_token::parse(token)?;
        let mut keys = self.keys(false).await?;
        if parsed.key(&keys.keys).is_none() {
            // Perhaps the provider rotated its keys since we read them.
            keys = self.keys(true).await?;
        }
        let key = parsed.key(&keys.keys).ok_or(OidcError::InvalidIdToken(
            "signed with a key the issuer does not publish",
        ))?;
        parsed.verify_signature(key)?;
        let claims = parsed.check_claims(
            &Expected {
                issuer: &self.config.issuer,
                client_id: &self.config.client_id,
                nonce,
            },
            now,
        )?;
        let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
        Ok(Identity {
            subject: text("sub").unwrap_or_default(),
            email: text("email"),
            name: text("name"),
            claims,
        })
    }

    async fn endpoints(&self) -> Result<Arc<Endpoints>, OidcError> {
        if let Some(fresh) = fresh(&self.endpoints, METADATA_TTL) {
            return Ok(fresh);
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.config.issuer.trim_end_matches('/')
        );
        let metadata: ProviderMetadata = self.get_json(&url, "discovery document").await?;
        // OpenID Connect Discovery §4.3: the document's issuer is exactly the one asked.
        if metadata.issuer != self.config.issuer {
            return Err(OidcError::BadResponse(format!(
                "the discovery document names issuer {:?}, not the configured {:?}",
                metadata.issuer, self.config.issuer
            )));
        }
        if let Some(methods) = &metadata.code_challenge_methods_supported
            && !methods.iter().any(|m| m == "S256")
        {
            return Err(OidcError::BadResponse(
                "the provider does not offer PKCE with S256".into(),
            ));
        }
        let loopback = self.config.allow_loopback_http;
        let endpoint = |raw: &str, what: &str| {
            checked_url(raw, what, loopback).map_err(|e| OidcError::BadResponse(e.to_string()))
        };
        let secret_in_body = metadata
            .token_endpoint_auth_methods_supported
            .as_ref()
            .is_some_and(|m| {
                !m.iter().any(|m| m == "client_secret_basic")
                    && m.iter().any(|m| m == "client_secret_post")
            });
        let endpoints = Arc::new(Endpoints {
            authorization: endpoint(&metadata.authorization_endpoint, "authorization_endpoint")?,
            token: endpoint(&metadata.token_endpoint, "token_endpoint")?,
            jwks: endpoint(&metadata.jwks_uri, "jwks_uri")?,
            secret_in_body,
        });
        store(&self.endpoints, &endpoints);
        Ok(endpoints)
    }

    async fn keys(&self, refresh: bool) -> Result<Arc<JwkSet>, OidcError> {
        let max_age = if refresh {
            KEYS_REFRESH_MIN
        } else {
            METADATA_TTL
        };
        if let Some(fresh) = fresh(&self.keys, max_age) {
            return Ok(fresh);
        }
        let endpoints = self.endpoints().await?;
        let keys: Arc<JwkSet> = Arc::new(self.get_json(endpoints.jwks.as_str(), "JWKS").await?);
        store(&self.keys, &keys);
        Ok(keys)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
        what: &str,
    ) -> Result<T, OidcError> {
        let response = self
            .http
            .get(url)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status();
        if !status.is_success() {
            return Err(OidcError::BadResponse(format!(
                "{what}: HTTP {}",
                status.as_u16()
            )));
        }
        let body = read_limited(response).await?;
        serde_json::from_slice(&body)
            .map_err(|e| OidcError::BadResponse(format!("{what}: not the expected JSON: {e}")))
    }
}

fn fresh<T>(cache: &Cached<T>, max_age: Duration) -> Option<Arc<T>> {
    let guard = cache.lock().ok()?;
    let (at, value) = guard.as_ref()?;
    (at.elapsed() < max_age).then(|| Arc::clone(value))
}

fn store<T>(cache: &Cached<T>, value: &Arc<T>) {
    if let Ok(mut guard) = cache.lock() {
        *guard = Some((Instant::now(), Arc::clone(value)));
    }
}

fn unreachable(err: reqwest::Error) -> OidcError {
    OidcError::Unreachable(err.without_url().to_string())
}

async fn read_limited(mut response: reqwest::Response) -> Result<Vec<u8>, OidcError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(OidcError::BadResponse("answer too large".into()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `application/x-www-form-urlencoded` of one value.
fn form_encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// `raw` as an `https` URL (or `http` to a loopback host when allowed).
fn checked_url(raw: &str, what: &str, allow_loopback_http: bool) -> Result<Url, OidcError> {
    let url = Url::parse(raw).map_err(|e| OidcError::Config(format!("{what}: {raw:?}: {e}")))?;
    let loopback = matches!(
        url.host(),
        Some(url::Host::Ipv4(ip)) if ip.is_loopback()
    ) || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
        || url.host_str() == Some("localhost");
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback && allow_loopback_http => Ok(url),
        "http" if loopback => Err(OidcError::Config(format!(
            "{what}: {raw:?} is plain HTTP; allowed to a loopback address only with \
             provider_allow_loopback_http"
        ))),
        _ => Err(OidcError::Config(format!("{what}: {raw:?} must be https"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_allowed_loopback_http_is_accepted() {
        assert!(checked_url("https://id.example.com", "issuer", false).is_ok());
        assert!(checked_url("http://id.example.com", "issuer", true).is_err());
        assert!(checked_url("http://127.0.0.1:9/oidc", "issuer", false).is_err());
        assert!(checked_url("http://127.0.0.1:9/oidc", "issuer", true).is_ok());
        assert!(checked_url("ftp://id.example.com", "issuer", true).is_err());
    }

    #[test]
    fn the_challenge_is_rfc_7636_s256() {
        // RFC 7636 appendix B.
        let login = LoginRequest {
            state: String::new(),
            nonce: String::new(),
            code_verifier: SecretString::from("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        };
        assert_eq!(
            login.code_challenge(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
