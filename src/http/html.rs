//! Our pages as HTTP responses: the security headers every page carries
//! (the presentation's Content-Security-Policy, no framing), a custom
//! `html` response's own policy, and the redirect of a `redirect` spec.

use std::sync::LazyLock;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::presentation::pages::content_security_policy;

/// The Content-Security-Policy of our pages, as a header value.
static CSP: LazyLock<HeaderValue> = LazyLock::new(|| {
    HeaderValue::from_str(&content_security_policy()).expect("an ASCII header value")
});

/// Wraps one of our pages with the page security headers.
pub fn html_response(status: StatusCode, html: String) -> Response {
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, CSP.clone());
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// One of our pages, 200.
pub fn html_ok(html: String) -> Response {
    html_response(StatusCode::OK, html)
}

/// 303 to `location` (a checked `redirect` spec).
pub fn see_other(location: HeaderValue) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

/// The Content-Security-Policy of a custom `html` response: its own styles
/// and images may load, scripts and frames may not.
const CUSTOM_CSP: HeaderValue = HeaderValue::from_static(
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; base-uri 'none'; frame-ancestors 'none'",
);

/// A custom `html` response spec's body, with its own policy.
pub fn custom_html_response(html: String) -> Response {
    let mut response = Html(html).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, CUSTOM_CSP);
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}
