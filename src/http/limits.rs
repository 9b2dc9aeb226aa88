//! Abuse limits every front door shares: the size of the URL and of the
//! headers, and a per-client rate limit on `/respond`. (Body size is
//! axum's `DefaultBodyLimit`; slow clients meet the request timeout in
//! `observe` and the connection limits in [`super::server`].)

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::HttpSettings;
use super::error::ApiError;
use super::negotiate::{negotiate, page_locale};

/// The client's address as the front door saw it: the TCP peer in `serve`,
/// the event's source IP in Lambda.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// Clients tracked at most before idle ones are forgotten.
const TRACKED_CLIENTS: usize = 100_000;

/// A per-client rate limit on `/respond`: a token bucket per client
/// address, `per_minute` requests a minute with bursts of as many.
#[derive(Clone)]
pub struct RespondLimit {
    limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    per_minute: NonZeroU32,
}

impl std::fmt::Debug for RespondLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RespondLimit")
            .field("per_minute", &self.per_minute)
            .finish_non_exhaustive()
    }
}

impl RespondLimit {
    /// `per_minute` requests a minute per client.
    pub fn per_minute(per_minute: NonZeroU32) -> Self {
        Self {
            limiter: Arc::new(RateLimiter::keyed(Quota::per_minute(per_minute))),
            per_minute,
        }
    }

    /// `Ok`, or how long the client must wait.
    fn check(&self, client: IpAddr) -> Result<(), Duration> {
        if self.limiter.len() > TRACKED_CLIENTS {
            self.limiter.retain_recent();
        }
        self.limiter
            .check_key(&client)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

/// The client a rate limit counts against: the last address in
/// `client_ip_header` when the deployment names one (the address the
/// nearest trusted proxy appended), else the front door's [`ClientIp`].
fn client_of(settings: &HttpSettings, request: &Request) -> Option<IpAddr> {
    match &settings.client_ip_header {
        Some(name) => last_address(request.headers(), name),
        None => request.extensions().get::<ClientIp>().map(|c| c.0),
    }
}

fn last_address(headers: &HeaderMap, name: &HeaderName) -> Option<IpAddr> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .next_back()
}

/// Refuses URLs and header sections over the deployment's limits, before
/// anything reads them.
pub async fn request_limits(
    State(settings): State<Arc<HttpSettings>>,
    request: Request,
    next: Next,
) -> Response {
    let uri_len = request
        .uri()
        .path_and_query()
        .map_or(0, |p| p.as_str().len());
    if uri_len > settings.max_uri_bytes {
        return ApiError::uri_too_long(format!(
            "the URL is {uri_len} bytes; this service accepts at most {}",
            settings.max_uri_bytes
        ))
        .into_response();
    }
    let header_bytes: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if header_bytes > settings.max_header_bytes {
        return ApiError::headers_too_large(format!(
            "the request headers are {header_bytes} bytes; this service accepts at most {}",
            settings.max_header_bytes
        ))
        .into_response();
    }
    next.run(request).await
}

/// The per-client rate limit on `/respond`: 429 with `Retry-After` once a
/// client has used its requests. A request whose client is unknown is not
/// limited.
pub async fn respond_rate_limit(
    State(settings): State<Arc<HttpSettings>>,
    request: Request,
    next: Next,
) -> Response {
    if let (Some(limit), Some(client)) = (&settings.respond_limit, client_of(&settings, &request))
        && let Err(wait) = limit.check(client)
    {
        let secs = u32::try_from(wait.as_secs())
            .unwrap_or(u32::MAX)
            .saturating_add(1);
        return ApiError::too_many_requests(
            format!(
                "too many requests from this client (at most {} a minute); try again in {secs} s",
                limit.per_minute
            ),
            secs,
        )
        // A browser gets a page like the other errors, in its language.
        .with_format(negotiate(request.headers()))
        .with_locale(page_locale(None, request.headers()))
        .into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_last_forwarded_address_is_the_client() {
        let name = HeaderName::from_static("x-forwarded-for");
        let mut headers = HeaderMap::new();
        headers.append(&name, HeaderValue::from_static("203.0.113.9, 10.0.0.1"));
        headers.append(&name, HeaderValue::from_static("198.51.100.7"));
        assert_eq!(
            last_address(&headers, &name),
            Some("198.51.100.7".parse().expect("ip"))
        );
        headers.insert(&name, HeaderValue::from_static("not an address"));
        assert_eq!(last_address(&headers, &name), None);
    }

    #[test]
    fn each_client_has_its_own_budget() {
        let limit = RespondLimit::per_minute(NonZeroU32::new(2).expect("non-zero"));
        let a: IpAddr = "192.0.2.1".parse().expect("ip");
        let b: IpAddr = "192.0.2.2".parse().expect("ip");
        assert!(limit.check(a).is_ok());
        assert!(limit.check(a).is_ok());
        let wait = limit.check(a).expect_err("third request in a minute");
        assert!(wait <= Duration::from_secs(30), "{wait:?}");
        assert!(limit.check(b).is_ok(), "another client is not affected");
    }
}
