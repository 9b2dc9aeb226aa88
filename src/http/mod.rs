//! The HTTP adapter: one axum [`Router`] for `serve` and for Lambda.
//!
//! Handlers translate the request, call the use cases of [`crate::app`],
//! and render the outcome. [`error`] maps the application's errors to
//! statuses and bodies once; only it and [`html`] name status codes.

pub mod auth;
pub mod create;
pub mod error;
pub mod html;
pub mod limits;
pub mod negotiate;
pub mod respond;
pub mod server;
pub mod slack;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::HeaderMap;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::app::{App, Trace};
use crate::system::random_bytes;
use error::{ApiError, LoggedError};

/// What the router needs beyond the use cases: who may call CreateUrls,
/// and the limits of a request.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// SHA-256 digests of the accepted CreateUrls API keys; empty means
    /// CreateUrls is open (only allowed on loopback).
    pub api_key_digests: Vec<[u8; 32]>,
    /// Whether `POST /urls` is served (a public Function URL turns it off and
    /// leaves CreateUrls to IAM-authorised direct invokes).
    pub create_urls_over_http: bool,
    /// Largest request body.
    pub max_body_bytes: usize,
    /// Longest a request may take, body reading included.
    pub request_timeout: Duration,
    /// Longest URL (path and query), in bytes.
    pub max_uri_bytes: usize,
    /// Largest header section, in bytes.
    pub max_header_bytes: usize,
    /// The per-client rate limit on `/respond`, if any.
    pub respond_limit: Option<limits::RespondLimit>,
    /// A header whose last address is the client (set by a trusted proxy),
    /// for the rate limit; unset, the connection's peer or the Lambda
    /// event's source IP counts.
    pub client_ip_header: Option<HeaderName>,
    /// The Slack app's signing secret: `POST /slack/interactions` is
    /// served only with it.
    pub slack_signing_secret: Option<slack::SigningSecret>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            api_key_digests: Vec::new(),
            create_urls_over_http: true,
            max_body_bytes: 300 * 1024,
            request_timeout: Duration::from_secs(30),
            max_uri_bytes: 16 * 1024,
            max_header_bytes: 16 * 1024,
            respond_limit: None,
            client_ip_header: None,
            slack_signing_secret: None,
        }
    }
}

impl HttpSettings {
    /// Hashes an API key for [`HttpSettings::api_key_digests`].
    pub fn api_key_digest(key: &str) -> [u8; 32] {
        Sha256::digest(key.as_bytes()).into()
    }

    /// Checks a presented key against every configured one in constant time.
    pub fn api_key_matches(&self, presented: &str) -> bool {
        let digest = Self::api_key_digest(presented);
        self.api_key_digests
            .iter()
            .fold(subtle::Choice::from(0), |acc, k| acc | k.ct_eq(&digest))
            .into()
    }
}

/// What every handler shares: the application and the HTTP settings.
#[derive(Debug, Clone)]
pub struct HttpState {
    /// The use cases.
    pub app: App,
    /// The HTTP settings.
    pub settings: Arc<HttpSettings>,
}

/// The public base URL of the links, when a front door (Lambda behind API
/// Gateway or a Function URL) knows it better than the `Host` header.
#[derive(Debug, Clone)]
pub struct PublicBase(pub String);

const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");
const NO_REFERRER: HeaderValue = HeaderValue::from_static("no-referrer");
const NOSNIFF: HeaderValue = HeaderValue::from_static("nosniff");
static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Times the request out, adds the headers every response carries, and
/// writes one JSON log line per request. The log line never holds the
/// query string: it carries the sealed payload.
async fn observe(
    State(settings): State<Arc<HttpSettings>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let request_id = format!("{:016x}", u64::from_ne_bytes(random_bytes()));
    let mut response = match tokio::time::timeout(settings.request_timeout, next.run(request)).await
    {
        Ok(response) => response,
        Err(_) => ApiError::request_timeout().into_response(),
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, NO_STORE);
    headers.insert(header::REFERRER_POLICY, NO_REFERRER);
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, NOSNIFF);
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        headers.insert(REQUEST_ID.clone(), v);
    }
    let fields = response
        .extensions()
        .get::<Trace>()
        .cloned()
        .unwrap_or_default();
    let error = response
        .extensions()
        .get::<LoggedError>()
        .map(|e| e.0.as_str());
    let status = response.status().as_u16();
    let latency_ms =
        u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX) as f64 / 1000.0;
    tracing::info!(
        target: "sfn_callbacks::request",
        request_id,
        method = %method,
        path,
        status,
        latency_ms,
        transaction_id = fields.transaction_id,
        action = fields.action,
        action_type = fields.action_type,
        outcome = fields.outcome,
        result = fields.result,
        sfn_ms = fields.engine_ms,
        error,
        open_error = fields.open_error,
        approver = fields.approver,
        probe = fields.probe,
        "request"
    );
    response
}

/// The base URL derived from the request's `Host`, when none is configured.
pub fn base_from_host(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .filter(|p| matches!(*p, "http" | "https"))
        .unwrap_or("http");
    Some(format!("{proto}://{host}"))
}

/// Reads the body, turning extractor failures (too large, unreadable)
/// into our error format.
pub fn body_or_error(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(ApiError::unreadable_body)
}

/// The credentials of an `Authorization: Bearer …` header. The scheme is
/// case-insensitive (RFC 9110 §11.1: `bearer`, `BEARER` and `Bearer` are
/// one scheme); the credentials are trimmed, and empty ones are none.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, credentials) = value.trim_start().split_once(' ')?;
    let credentials = credentials.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !credentials.is_empty()).then_some(credentials)
}

/// Whether the `Content-Type` is JSON (`application/json`, parameters
/// such as `; charset=utf-8` allowed).
pub fn is_json(headers: &HeaderMap) -> bool {
    has_media_type(headers, "application/json")
}

/// Whether the `Content-Type` is `essence`, parameters allowed.
pub fn has_media_type(headers: &HeaderMap, essence: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|given| given.trim().eq_ignore_ascii_case(essence))
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint; use POST /urls or /respond")
}

async fn health() -> impl IntoResponse {
    axum::Json(serde_json::json!({"status": "ok"}))
}

/// The service's routes: `POST /urls`, `GET|HEAD|POST /respond`,
/// `GET /auth/login`, `GET /auth/callback`, `POST /auth/logout`,
/// `GET /health`.
pub fn router(app: App, settings: HttpSettings) -> Router {
    let settings = Arc::new(settings);
    let state = HttpState {
        app,
        settings: Arc::clone(&settings),
    };
    // The endpoints a link's holder reaches share the per-client limit.
    let limited = Router::new()
        .route(
            "/respond",
            get(respond::respond)
                .post(respond::respond)
                .fallback(|| async { ApiError::method_not_allowed("GET, HEAD, POST") }),
        )
        .route(
            "/auth/login",
            get(auth::login).fallback(|| async { ApiError::method_not_allowed("GET, HEAD") }),
        )
        .route(
            "/auth/logout",
            post(auth::logout).fallback(|| async { ApiError::method_not_allowed("POST") }),
        )
        .route(
            "/auth/callback",
            get(auth::callback).fallback(|| async { ApiError::method_not_allowed("GET, HEAD") }),
        )
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&settings),
            limits::respond_rate_limit,
        ));
    Router::new()
        .route(
            "/urls",
            post(create::create_urls).fallback(|| async { ApiError::method_not_allowed("POST") }),
        )
        .merge(limited)
        .route(
            "/slack/interactions",
            post(slack::interactions).fallback(|| async { ApiError::method_not_allowed("POST") }),
        )
        .route("/health", get(health))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(settings.max_body_bytes))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&settings),
            limits::request_limits,
        ))
        .layer(middleware::from_fn_with_state(settings, observe))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_authorization(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(value).expect("header"),
        );
        headers
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        for value in ["Bearer k1", "bearer k1", "BEARER k1", "bEaReR  k1 "] {
            assert_eq!(bearer(&with_authorization(value)), Some("k1"), "{value}");
        }
        for value in ["Basic azE=", "Bearer", "Bearer ", "Bearerk1", "Token k1"] {
            assert_eq!(bearer(&with_authorization(value)), None, "{value}");
        }
        assert_eq!(bearer(&HeaderMap::new()), None);
    }
}
