//! A small JSON-over-HTTPS client for the chat services: one call, with a
//! deadline, never retried once it may have arrived, its answer read up
//! to a size.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode, header};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// The largest answer read.
const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// How a call failed. Never holds the URL (a webhook's is a credential)
/// or a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebError {
    /// No connection, or it broke before the request was sent.
    #[error("the connection failed")]
    Connect,
    /// No answer before the deadline; the request may have arrived.
    #[error("no answer in time")]
    Timeout,
    /// The answer could not be read (too large, cut short).
    #[error("the answer could not be read")]
    Answer,
}

/// An answer: its status, `Retry-After` seconds if any, and its body.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The HTTP status.
    pub status: StatusCode,
    /// `Retry-After`, in seconds.
    pub retry_after: Option<u64>,
    /// The body.
    pub body: Bytes,
}

type Https = HyperClient<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// The client; cloning shares its connections. It is built on first use:
/// reading the system's trust store costs milliseconds at start, and a
/// deployment without Slack or Teams never needs it.
#[derive(Clone, Default)]
pub struct WebClient {
    client: Arc<OnceLock<Option<Https>>>,
}

impl std::fmt::Debug for WebClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebClient")
    }
}

impl WebClient {
    /// A client with the system's roots (https, and http for loopback
    /// stand-ins), made when first called.
    pub fn new() -> Self {
        Self::default()
    }

    fn client(&self) -> Result<&Https, WebError> {
        self.client
            .get_or_init(|| {
                let https = hyper_rustls::HttpsConnectorBuilder::new()
                    .with_native_roots()
                    .map_err(
                        |e| tracing::warn!(error = %e, "no TLS trust store for Slack and Teams"),
                    )
                    .ok()?
                    .https_or_http()
                    .enable_http1()
                    .build();
                Some(HyperClient::builder(TokioExecutor::new()).build(https))
            })
            .as_ref()
            .ok_or(WebError::Connect)
    }

    /// Sends one request and reads its answer, within `deadline`.
    pub async fn call(
        &self,
        method: Method,
        url: &str,
        bearer: Option<&str>,
        content_type: Option<&str>,
        body: Vec<u8>,
        deadline: Duration,
    ) -> Result<Answer, WebError> {
        let mut request = Request::builder().method(method).uri(url);
        if let Some(token) = bearer {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        if let Some(kind) = content_type {
            request = request.header(header::CONTENT_TYPE, kind);
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|_| WebError::Connect)?;
        let call = async {
            let response = self.client()?.request(request).await.map_err(|e| {
                // A failure to connect sent nothing; anything later may
                // have arrived.
                if e.is_connect() {
                    WebError::Connect
                } else {
                    WebError::Timeout
                }
            })?;
            let status = response.status();
            let retry_after = response
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok());
            let body = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
                .collect()
                .await
                .map_err(|_| WebError::Answer)?
                .to_bytes();
            Ok(Answer {
                status,
                retry_after,
                body,
            })
        };
        tokio::time::timeout(deadline, call)
            .await
            .unwrap_or(Err(WebError::Timeout))
    }
}
