//! The OpenID Provider adapter: discovery, the JWKS cache, the code
//! exchange and ID token verification, by the `openidconnect` crate over
//! the AWS SDK's HTTP and TLS stack (hyper, rustls with aws-lc).
//!
//! Discovery happens on first use, not at start, so the service starts
//! while the provider is down. The discovery document and the JWKS are
//! kept for [`MAX_AGE`]; a token signed with a key the JWKS does not hold
//! refetches the JWKS, at most once per [`KID_REFRESH`]. Verification once
//! cached calls the provider not at all.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreClientAuthMethod, CoreGenderClaim, CoreIdTokenVerifier,
    CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreProviderMetadata,
};
use openidconnect::{
    AdditionalClaims, AuthType, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IdToken,
    IdTokenClaims, IssuerUrl, JsonWebKeySet, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, RequestTokenError, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::{Mutex, RwLock};

use crate::core::approvers::Identity;
use crate::ports::{AuthRequest, IdentityProvider, IdpError};

/// How long the discovery document and the JWKS are trusted.
pub const MAX_AGE: Duration = Duration::from_secs(3600);
/// The least time between two JWKS fetches for an unknown key id.
pub const KID_REFRESH: Duration = Duration::from_secs(60);
/// The longest one call to the provider may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest answer read from the provider.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// The client secret: never shown by `Debug`, wiped on drop.
#[derive(Clone)]
pub struct ClientSecretText(zeroize::Zeroizing<String>);

impl ClientSecretText {
    /// Wraps the secret.
    pub fn new(secret: String) -> Self {
        Self(zeroize::Zeroizing::new(secret))
    }
}

impl std::fmt::Debug for ClientSecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The OpenID Connect client settings (`OIDC_*`).
#[derive(Debug, Clone)]
pub struct OidcSettings {
    /// The issuer, without a trailing slash.
    pub issuer: String,
    /// The client id.
    pub client_id: String,
    /// The client secret.
    pub client_secret: ClientSecretText,
    /// The scopes asked for.
    pub scopes: Vec<String>,
    /// The ID token claim that lists groups.
    pub groups_claim: String,
}

/// The claims beyond the standard ones, kept to read the groups claim.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct OtherClaims {
    #[serde(flatten)]
    rest: Map<String, Value>,
}

impl AdditionalClaims for OtherClaims {}

type Claims = IdTokenClaims<OtherClaims, CoreGenderClaim>;
type Token = IdToken<
    OtherClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

/// Signature algorithms accepted: asymmetric only. `none` and the HMAC
/// algorithms (which a public key could be abused to "verify") never are.
const ALGORITHMS: [CoreJwsSigningAlgorithm; 9] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EdDsa,
];

type Https = hyper_rustls::HttpsConnector<HttpConnector>;

/// A failed HTTP call to the provider.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CallError(String);

/// The HTTP client the crate calls, over hyper and rustls.
#[derive(Clone)]
struct ProviderHttp(HyperClient<Https, Full<Bytes>>);

type CallFuture<'c> = std::pin::Pin<
    Box<
        dyn std::future::Future<Output = Result<openidconnect::HttpResponse, CallError>>
            + Send
            + 'c,
    >,
>;

impl<'c> openidconnect::AsyncHttpClient<'c> for ProviderHttp {
    type Error = CallError;
    type Future = CallFuture<'c>;

    fn call(&'c self, request: openidconnect::HttpRequest) -> Self::Future {
        Box::pin(self.exchange(request))
    }
}

impl ProviderHttp {
    /// One HTTP exchange, as the crate asks for it. A 5xx answer is an
    /// error, so that an outage is told apart from a refusal.
    async fn exchange(
        &self,
        request: openidconnect::HttpRequest,
    ) -> Result<openidconnect::HttpResponse, CallError> {
        let (parts, body) = request.into_parts();
        let request = hyper::Request::from_parts(parts, Full::new(Bytes::from(body)));
        let exchange = async {
            let response = self
                .0
                .request(request)
                .await
                .map_err(|e| CallError(format!("request failed: {e}")))?;
            let (parts, body) = response.into_parts();
            if parts.status.is_server_error() {
                return Err(CallError(format!("answered {}", parts.status)));
            }
            let body = http_body_util::Limited::new(body, MAX_ANSWER_BYTES)
                .collect()
                .await
                .map_err(|e| CallError(format!("answer unreadable: {e}")))?
                .to_bytes();
            Ok(openidconnect::HttpResponse::from_parts(
                parts,
                body.to_vec(),
            ))
        };
        tokio::time::timeout(CALL_TIMEOUT, exchange)
            .await
            .map_err(|_| CallError(format!("no answer within {CALL_TIMEOUT:?}")))?
    }
}

/// What discovery found, and when; the ID token verifier is built once
/// per key set, not per token.
struct Discovered {
    metadata: CoreProviderMetadata,
    verifier: CoreIdTokenVerifier<'static>,
    fetched: Instant,
    jwks_fetched: Instant,
}

impl Discovered {
    /// Whether neither the document nor the keys are older than [`MAX_AGE`].
    fn is_fresh(&self) -> bool {
        self.fetched.elapsed() < MAX_AGE && self.jwks_fetched.elapsed() < MAX_AGE
    }
}

/// The OAuth client discovery makes: authorization and token endpoints.
type Client = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

/// The OpenID Provider over HTTP.
pub struct OidcProvider {
    settings: OidcSettings,
    issuer: IssuerUrl,
    http: ProviderHttp,
    cache: RwLock<Option<Arc<Discovered>>>,
    /// Serialises fetches, so a burst of requests makes one.
    fetching: Mutex<()>,
    /// When an unknown key id last refetched the JWKS.
    last_kid_refresh: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for OidcProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcProvider")
            .field("issuer", &self.settings.issuer)
            .finish_non_exhaustive()
    }
}

fn unavailable(what: &str, e: impl std::fmt::Display) -> IdpError {
    IdpError::Unavailable(format!("{what}: {e}"))
}

/// Why a token did not verify, in words that quote no part of it.
fn refusal(e: &openidconnect::ClaimsVerificationError) -> IdpError {
    use openidconnect::ClaimsVerificationError as E;
    let why = match e {
        E::Expired(_) => "the token has expired",
        E::InvalidAudience(_) => "the token is for another client (aud)",
        E::InvalidIssuer(_) => "the token is from another issuer (iss)",
        E::InvalidNonce(_) => "the token's nonce is not this sign-in's",
        E::SignatureVerification(_) => "the token's signature did not verify",
        E::Unsupported(_) => "the token uses an unsupported form",
        _ => "the token's claims did not verify",
    };
    IdpError::Rejected(why.to_owned())
}

fn is_unknown_key(e: &openidconnect::ClaimsVerificationError) -> bool {
    matches!(
        e,
        openidconnect::ClaimsVerificationError::SignatureVerification(
            openidconnect::SignatureVerificationError::NoMatchingKey
        )
    )
}

impl OidcProvider {
    /// A provider client; nothing is fetched until first use.
    pub fn new(settings: OidcSettings) -> anyhow::Result<Self> {
        let issuer = IssuerUrl::new(settings.issuer.clone())?;
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()?
            .https_or_http()
            .enable_http1()
            .build();
        let http = ProviderHttp(HyperClient::builder(TokioExecutor::new()).build(https));
        Ok(Self {
            settings,
            issuer,
            http,
            cache: RwLock::new(None),
            fetching: Mutex::new(()),
            last_kid_refresh: Mutex::new(None),
        })
    }

    /// The discovery document and JWKS, fetched when missing or stale. A
    /// stale copy is still used when the provider cannot be reached.
    async fn discovered(&self) -> Result<Arc<Discovered>, IdpError> {
        if let Some(d) = self.cache.read().await.as_ref()
            && d.is_fresh()
        {
            return Ok(Arc::clone(d));
        }
        let _one = self.fetching.lock().await;
        let current = self.cache.read().await.clone();
        if let Some(d) = &current
            && d.is_fresh()
        {
            return Ok(Arc::clone(d));
        }
        match CoreProviderMetadata::discover_async(self.issuer.clone(), &self.http).await {
            Ok(metadata) => {
                let jwks = metadata.jwks().clone();
                let fresh = Arc::new(self.discovered_with(metadata, jwks, Instant::now()));
                *self.cache.write().await = Some(Arc::clone(&fresh));
                Ok(fresh)
            }
            Err(e) => match current {
                Some(stale) => {
                    tracing::warn!(error = %e, "OpenID Provider discovery failed; using the cached copy");
                    Ok(stale)
                }
                None => Err(unavailable("discovery failed", e)),
            },
        }
    }

    /// Refetches the JWKS for an unknown key id, unless that happened
    /// within [`KID_REFRESH`]; whether a new set was fetched.
    async fn refresh_keys(&self, known: &Discovered) -> Result<bool, IdpError> {
        {
            let mut last = self.last_kid_refresh.lock().await;
            if last.is_some_and(|at| at.elapsed() < KID_REFRESH) {
                return Ok(false);
            }
            *last = Some(Instant::now());
        }
        let jwks = JsonWebKeySet::fetch_async(known.metadata.jwks_uri(), &self.http)
            .await
            .map_err(|e| unavailable("the JWKS could not be fetched", e))?;
        let fresh = Arc::new(self.discovered_with(known.metadata.clone(), jwks, known.fetched));
        *self.cache.write().await = Some(fresh);
        Ok(true)
    }

    /// A discovery result with its verifier; the keys are fetched now.
    fn discovered_with(
        &self,
        metadata: CoreProviderMetadata,
        jwks: CoreJsonWebKeySet,
        fetched: Instant,
    ) -> Discovered {
        let verifier = CoreIdTokenVerifier::new_public_client(
            ClientId::new(self.settings.client_id.clone()),
            self.issuer.clone(),
            jwks,
        )
        .set_allowed_algs(ALGORITHMS);
        Discovered {
            metadata,
            verifier,
            fetched,
            jwks_fetched: Instant::now(),
        }
    }

    /// Verifies an ID token: with the cached keys, then once more after a
    /// JWKS refresh if its key is unknown.
    async fn verify(&self, jwt: &str, nonce: Option<&str>) -> Result<Identity, IdpError> {
        let token: Token = jwt
            .parse()
            .map_err(|_| IdpError::Rejected("the token is not a JWT".to_owned()))?;
        let discovered = self.discovered().await?;
        match self.check(&token, nonce, &discovered) {
            Err(e) if is_unknown_key(&e) => {
                if !self.refresh_keys(&discovered).await? {
                    return Err(refusal(&e));
                }
                let refreshed = self.discovered().await?;
                self.check(&token, nonce, &refreshed)
                    .map_err(|e| refusal(&e))
            }
            checked => checked.map_err(|e| refusal(&e)),
        }
    }

    fn check(
        &self,
        token: &Token,
        nonce: Option<&str>,
        d: &Discovered,
    ) -> Result<Identity, openidconnect::ClaimsVerificationError> {
        let claims = match nonce {
            Some(expected) => token.claims(&d.verifier, &Nonce::new(expected.to_owned()))?,
            None => token.claims(&d.verifier, |_: Option<&Nonce>| Ok(()))?,
        };
        Ok(self.identity(claims))
    }

    fn identity(&self, claims: &Claims) -> Identity {
        let groups = match claims
            .additional_claims()
            .rest
            .get(&self.settings.groups_claim)
        {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            Some(Value::String(one)) => vec![one.clone()],
            _ => Vec::new(),
        };
        Identity {
            issuer: claims.issuer().as_str().to_owned(),
            subject: claims.subject().as_str().to_owned(),
            email: claims.email().map(|e| e.as_str().to_owned()),
            email_verified: claims.email_verified().unwrap_or(false),
            name: claims
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str().to_owned()),
            groups,
            slack_user: None,
        }
    }

    fn client(&self, d: &Discovered) -> Client {
        let client = CoreClient::from_provider_metadata(
            d.metadata.clone(),
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(self.settings.client_secret.0.to_string())),
        );
        // client_secret_basic unless discovery offers only client_secret_post.
        let methods = d.metadata.token_endpoint_auth_methods_supported();
        let post_only = methods.is_some_and(|m| {
            !m.contains(&CoreClientAuthMethod::ClientSecretBasic)
                && m.contains(&CoreClientAuthMethod::ClientSecretPost)
        });
        if post_only {
            client.set_auth_type(AuthType::RequestBody)
        } else {
            client.set_auth_type(AuthType::BasicAuth)
        }
    }
}

fn redirect(uri: &str) -> Result<RedirectUrl, IdpError> {
    RedirectUrl::new(uri.to_owned())
        .map_err(|_| IdpError::Rejected("the redirect URI is not a URL".to_owned()))
}

#[async_trait]
impl IdentityProvider for OidcProvider {
    fn issuer(&self) -> &str {
        &self.settings.issuer
    }

    async fn authorize_url(&self, request: AuthRequest<'_>) -> Result<String, IdpError> {
        let discovered = self.discovered().await?;
        let client = self.client(&discovered);
        let challenge = PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(
            request.verifier.to_owned(),
        ));
        let state = request.state.to_owned();
        let nonce = request.nonce.to_owned();
        let redirect_uri = redirect(request.redirect_uri)?;
        let (url, _, _) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                move || CsrfToken::new(state),
                move || Nonce::new(nonce),
            )
            .add_scopes(
                self.settings
                    .scopes
                    .iter()
                    .filter(|s| *s != "openid")
                    .map(|s| Scope::new(s.clone())),
            )
            .set_pkce_challenge(challenge)
            .set_redirect_uri(std::borrow::Cow::Owned(redirect_uri))
            .url();
        Ok(url.into())
    }

    async fn redeem(
        &self,
        code: &str,
        verifier: &str,
        nonce: &str,
        redirect_uri: &str,
    ) -> Result<Identity, IdpError> {
        let discovered = self.discovered().await?;
        let client = self.client(&discovered);
        let answer = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| IdpError::Rejected(format!("the provider has no token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.to_owned()))
            .set_redirect_uri(std::borrow::Cow::Owned(redirect(redirect_uri)?))
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(answer) => IdpError::Rejected(format!(
                    "the provider refused the code ({})",
                    answer.error()
                )),
                RequestTokenError::Request(e) => unavailable("the token endpoint failed", e),
                RequestTokenError::Parse(_, _) => IdpError::Rejected(
                    "the token endpoint's answer is not a token response".to_owned(),
                ),
                RequestTokenError::Other(why) => {
                    IdpError::Rejected(format!("the token endpoint failed: {why}"))
                }
            })?;
        let id_token = answer
            .id_token()
            .ok_or_else(|| IdpError::Rejected("the provider returned no ID token".to_owned()))?;
        self.verify(&id_token.to_string(), Some(nonce)).await
    }

    async fn verify_bearer(&self, token: &str) -> Result<Identity, IdpError> {
        self.verify(token, None).await
    }
}
