//! The HTML pages: confirmation before acting, and the results.
//!
//! Pages carry no script and load nothing external; every value that came
//! from a request or a payload is escaped.

use std::sync::LazyLock;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::core::ErrorCode;
use crate::core::template::escape_html as escape;

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1b1b1b;background:#fff}h1{font-size:1.5rem}dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:600}button{font-size:1.1rem;padding:.6rem 1.4rem;border-radius:.4rem;border:2px solid #0b57d0;background:#0b57d0;color:#fff;cursor:pointer}button:focus{outline:3px solid #f9ab00;outline-offset:2px}.note{color:#444}";

/// The Content-Security-Policy of our pages: nothing but our own inline
/// style (by hash), no frames. (No `form-action`: browsers apply it to the
/// redirect that follows a form post, which would block `redirect` specs.)
static CSP: LazyLock<HeaderValue> = LazyLock::new(|| {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE.as_bytes()));
    HeaderValue::from_str(&format!(
        "default-src 'none'; style-src 'sha256-{hash}'; base-uri 'none'; frame-ancestors 'none'"
    ))
    .expect("an ASCII header value")
});

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><meta name=\"referrer\" content=\"no-referrer\"><title>{title}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>",
        title = escape(title)
    )
}

/// Wraps one of our pages with the page security headers.
pub fn html_response(status: StatusCode, html: String) -> Response {
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, CSP.clone());
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// The Content-Security-Policy of a custom `html` response: its own styles
/// and images may load, scripts and frames may not.
const CUSTOM_CSP: HeaderValue = HeaderValue::from_static(
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; base-uri 'none'; frame-ancestors 'none'",
);

/// A custom `html` response spec's body, with its own policy.
pub fn custom_html_response(html: String) -> Response {
    let mut response = (StatusCode::OK, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, CUSTOM_CSP);
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// What the confirmation page shows.
#[derive(Debug)]
pub struct Pending<'a> {
    /// Action name.
    pub name: &'a str,
    /// Action type.
    pub kind: &'a str,
    /// RFC 3339 expiry, if any.
    pub expires: Option<String>,
}

/// The page a GET shows: nothing has happened yet; one button POSTs.
pub fn confirm_page(pending: &Pending<'_>) -> String {
    let expires = pending.expires.as_deref().map_or_else(String::new, |e| {
        format!("<dt>Link expires</dt><dd>{}</dd>", escape(e))
    });
    let verb = match pending.kind {
        "heartbeat" => "Send heartbeat",
        _ => "Confirm",
    };
    // No `action` attribute: the form posts back to this very URL.
    page(
        "Confirm your response",
        &format!(
            "<h1>Confirm your response</h1><p>Nothing has been sent yet. Press the button to send <strong>{name}</strong>.</p><dl><dt>Action</dt><dd>{name}</dd><dt>Type</dt><dd>{kind}</dd>{expires}</dl><form method=\"post\"><button type=\"submit\">{verb}: {name}</button></form>",
            name = escape(pending.name),
            kind = escape(pending.kind),
        ),
    )
}

/// The page for a POST-action URL opened in a browser.
pub fn post_only_page(name: &str) -> String {
    page(
        "This link is for systems",
        &format!(
            "<h1>This link is for systems</h1><p>The action <strong>{}</strong> is answered by a program that sends a POST with a JSON body to this URL. Opening it in a browser does nothing.</p>",
            escape(name)
        ),
    )
}

/// The default page after a successful callback.
pub fn accepted_page(name: &str, kind: &str, transaction_id: &str) -> String {
    page(
        "Response accepted",
        &format!(
            "<h1>Response accepted!</h1><p>Your response <strong>{}</strong> ({}) was sent.</p><p class=\"note\">Transaction {}</p>",
            escape(name),
            escape(kind),
            escape(transaction_id)
        ),
    )
}

/// The page for any error.
pub fn error_page(status: StatusCode, code: ErrorCode, message: &str) -> String {
    let title = match status {
        StatusCode::GONE => "This link can no longer be used",
        StatusCode::SERVICE_UNAVAILABLE => "Please try again in a moment",
        _ => "Response rejected",
    };
    page(
        title,
        &format!(
            "<h1>{}</h1><p>{}</p><p class=\"note\">{}</p>",
            escape(title),
            escape(message),
            code.as_str()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_values_renders_as_text() {
        let html = confirm_page(&Pending {
            name: "<script>x</script>",
            kind: "\"success\"",
            expires: Some("<b>".into()),
        });
        assert!(!html.contains("<script>x"), "{html}");
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"));
        assert!(html.contains("&quot;success&quot;"));
        assert!(html.contains("&lt;b&gt;"));
    }

    #[test]
    fn the_confirmation_page_has_a_post_form_and_no_script() {
        let html = confirm_page(&Pending {
            name: "approve",
            kind: "success",
            expires: None,
        });
        assert!(html.contains("<form method=\"post\">"));
        assert!(!html.to_lowercase().contains("<script"));
    }
}
