//! The one place where errors become status codes and bodies: the
//! application's [`AppError`] and the router's own refusals (named
//! constructors, so no other file in `http/` picks a status).

use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::app::AppError;
use crate::app::error::page_of_code;
use crate::core::error::{ErrorCode, Rejection};
use crate::core::form::FormErrors;
use crate::core::locale::Locale;
use crate::core::payload::PayloadError;
use crate::http::html;
use crate::http::negotiate::Format;
use crate::presentation::pages::{self, ErrorPage};

/// An error answer: status, the old contract's `{error, message}`, and the
/// headers some statuses need.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The error name.
    pub code: ErrorCode,
    /// What went wrong, for the client.
    pub message: String,
    /// The transaction, once the payload opened.
    pub transaction_id: Option<String>,
    /// `Retry-After` seconds, for 503 and 429.
    pub retry_after: Option<u32>,
    /// `Allow`, for 405.
    pub allow: Option<&'static str>,
    /// How to render it (JSON unless negotiated otherwise).
    pub format: Format,
    /// The language of its page (English unless negotiated otherwise).
    pub locale: Locale,
    /// The HTML page, when the status and name alone do not tell it.
    page: Option<ErrorPage>,
    /// For `InvalidForm`: each field's problem, by field name.
    fields: Option<Box<serde_json::Map<String, serde_json::Value>>>,
}

impl ApiError {
    fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            transaction_id: None,
            retry_after: None,
            allow: None,
            format: Format::Json,
            locale: Locale::En,
            page: None,
            fields: None,
        }
    }

    /// 400 `InvalidForm`: what is wrong with each field, and with the
    /// values as a whole.
    pub fn invalid_form(errors: &FormErrors) -> Self {
        let mut e = Self::from(errors.rejection());
        e.fields = Some(Box::new(
            errors
                .fields
                .iter()
                .map(|(name, error)| (name.clone(), json!(error.as_str())))
                .collect(),
        ));
        e
    }

    /// Answers with `html`, one of our pages, in place of the error page
    /// (a form shown again with its errors), keeping the status and the
    /// error name for the request log.
    pub fn page_response(self, html: String) -> Response {
        let mut response = html::html_response(self.status, html);
        response.extensions_mut().insert(LoggedError(self.code));
        response
    }

    /// 400 for a request this service cannot read at all.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest, message)
    }

    /// 400 for a query or form body that names a parameter twice or is not
    /// UTF-8: ambiguous input is refused, never guessed, and nothing is
    /// sent.
    pub fn bad_pairs(where_: &str, error: &crate::core::query::PairsError) -> Self {
        Self::bad_request(format!("{error} in the {where_}; nothing was sent"))
    }

    /// 400 for a body that is not the JSON it should be.
    pub fn invalid_json(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidJson, message)
    }

    /// 400 for a link whose `data` parameter is missing or repeated.
    pub fn invalid_payload(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidPayload, message)
    }

    /// 400 for a comment that is not a string.
    pub fn invalid_comment(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidComment, message)
    }

    /// 401 for CreateUrls without a valid API key.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::InvalidRequest, message)
    }

    /// 401: a request to `/slack/interactions` without Slack's signature.
    pub fn not_from_slack(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, message)
    }

    /// 400: a signed Slack request that is not an interaction this
    /// service takes.
    pub fn bad_interaction(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest, message)
    }

    /// 405 with `Allow`.
    pub fn method_not_allowed(allow: &'static str) -> Self {
        let mut e = Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::InvalidRequest,
            format!("this endpoint takes {allow}"),
        );
        e.allow = Some(allow);
        e
    }

    /// 405 for a look at a POST action's link: a system must POST JSON.
    pub fn post_only(action: &str) -> Self {
        let mut e = Self::method_not_allowed("POST");
        e.message = "this link is answered by a POST with a JSON body".to_owned();
        e.page = Some(ErrorPage::ForSystems(action.to_owned()));
        e
    }

    /// 408 on a connection whose request head never arrived in time.
    pub fn head_too_slow() -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            ErrorCode::InvalidRequest,
            "the request head did not arrive in time",
        )
    }

    /// This error as the raw bytes of an HTTP/1.1 response (JSON, the
    /// connection closed), for a connection no request was read from.
    pub fn raw_response(&self) -> Vec<u8> {
        let body = self.json_body().to_string();
        format!(
            "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncache-control: no-store\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
            self.status.as_u16(),
            self.status.canonical_reason().unwrap_or_default(),
            body.len()
        )
        .into_bytes()
    }

    /// 408: the request took longer than the deployment allows.
    pub fn request_timeout() -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            ErrorCode::InvalidRequest,
            "the request took too long",
        )
    }

    /// 414.
    pub fn uri_too_long(message: impl Into<String>) -> Self {
        Self::new(StatusCode::URI_TOO_LONG, ErrorCode::InvalidRequest, message)
    }

    /// 415.
    pub fn unsupported_media_type(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::InvalidRequest,
            message,
        )
    }

    /// 429 with `Retry-After`.
    pub fn too_many_requests(message: impl Into<String>, retry_after_secs: u32) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::TooManyRequests,
            message,
        );
        e.retry_after = Some(retry_after_secs);
        e
    }

    /// 431.
    pub fn headers_too_large(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ErrorCode::InvalidRequest,
            message,
        )
    }

    /// A body the extractor could not read: too large (413) or unreadable.
    pub fn unreadable_body(rejection: BytesRejection) -> Self {
        let status = rejection.status();
        let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "the request body is larger than this service accepts".to_owned()
        } else {
            format!(
                "the request body could not be read: {}",
                rejection.body_text()
            )
        };
        Self::new(status, ErrorCode::InvalidRequest, message)
    }

    /// Renders as `format`.
    #[must_use]
    pub fn with_format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }

    /// Renders its page in `locale`; JSON and text answers stay English.
    #[must_use]
    pub fn with_locale(mut self, locale: Locale) -> Self {
        self.locale = locale;
        self
    }

    /// Offers a signed-in person who may not act a way to sign out, at
    /// `href()` (relative to the link); other errors are left as they are.
    #[must_use]
    pub fn with_sign_out(mut self, href: impl FnOnce() -> String) -> Self {
        if self.code == ErrorCode::NotAnApprover {
            self.page = Some(ErrorPage::NotAnApprover(Some(href())));
        }
        self
    }

    /// Says on an expired link's page when it expired (as the page's
    /// language writes it).
    #[must_use]
    pub fn with_expiry(mut self, when: Option<String>) -> Self {
        if self.code == ErrorCode::ExpiredPayload && when.is_some() {
            self.page = Some(ErrorPage::Expired(when));
        }
        self
    }

    /// Names the transaction in the body.
    #[must_use]
    pub fn with_transaction(mut self, transaction_id: Option<String>) -> Self {
        self.transaction_id = transaction_id;
        self
    }

    /// The JSON answer: `{error, message}`, with the transaction and the
    /// fields' errors when there are.
    fn json_body(&self) -> serde_json::Value {
        let mut body = json!({"error": self.code.as_str(), "message": self.message});
        if let Some(tid) = &self.transaction_id {
            body["transaction_id"] = json!(tid);
        }
        if let Some(fields) = &self.fields {
            body["fields"] = json!(fields);
        }
        body
    }

    /// The page: the one chosen for the error, else its name's.
    fn page(&self) -> ErrorPage {
        self.page.clone().unwrap_or_else(|| page_of_code(self.code))
    }
}

/// The status for each core error code.
fn status_for(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::ExpiredPayload => StatusCode::GONE,
        ErrorCode::Unauthorized | ErrorCode::SignInRequired => StatusCode::UNAUTHORIZED,
        ErrorCode::NotAnApprover => StatusCode::FORBIDDEN,
        ErrorCode::ServiceError => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::NotifyNotAllowed => StatusCode::FORBIDDEN,
        ErrorCode::NotifyFailed => StatusCode::BAD_GATEWAY,
        ErrorCode::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::BAD_REQUEST,
    }
}

impl From<Rejection> for ApiError {
    fn from(r: Rejection) -> Self {
        Self::new(status_for(r.code), r.code, r.message)
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        let status = match &e {
            AppError::Rejected(r) => status_for(r.code),
            // It was a good link; it is gone, like an expired one.
            AppError::BadLink(PayloadError::RetiredKey) | AppError::Closed => StatusCode::GONE,
            AppError::BadLink(reason) => status_for(reason.rejection().code),
            AppError::OutputRefused(_) => StatusCode::BAD_REQUEST,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Refused(_) | AppError::NotifyFailed { .. } => StatusCode::BAD_GATEWAY,
        };
        let mut error = Self::new(status, e.code(), e.message());
        error.retry_after = e.retry_after_secs();
        error.page = Some(e.page());
        error
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = match self.format {
            Format::Json => (self.status, axum::Json(self.json_body())).into_response(),
            Format::Html => html::html_response(
                self.status,
                pages::error_page(
                    self.locale,
                    &self.page(),
                    self.code,
                    &self.message,
                    self.status.as_u16(),
                ),
            ),
            Format::Text => (
                self.status,
                format!("Response rejected: {} ({})\n", self.message, self.code),
            )
                .into_response(),
        };
        let headers = response.headers_mut();
        if let Some(allow) = self.allow {
            headers.insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response.extensions_mut().insert(LoggedError(self.code));
        response
    }
}

/// The error name, left in the response for the request log.
#[derive(Debug, Clone, Copy)]
pub struct LoggedError(pub ErrorCode);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::Unavailable;
    use crate::core::token::EngineKind;

    #[test]
    fn error_pages_say_what_happened() {
        let cases = [
            (AppError::Closed, "already answered"),
            (
                AppError::Rejected(Rejection::new(ErrorCode::ExpiredPayload, "m")),
                "has expired",
            ),
            (AppError::BadLink(PayloadError::Forged), "not valid"),
            (
                AppError::Unavailable(Unavailable::Engine(EngineKind::Durable)),
                "try again",
            ),
        ];
        for (error, needle) in cases {
            let api = ApiError::from(error).with_format(Format::Html);
            let html =
                pages::error_page(Locale::En, &api.page(), api.code, "m", api.status.as_u16());
            assert!(html.contains(needle), "{}: {html}", api.code);
        }
    }

    #[test]
    fn retired_keys_and_closed_tasks_are_gone() {
        for error in [
            AppError::BadLink(PayloadError::RetiredKey),
            AppError::Closed,
        ] {
            assert_eq!(ApiError::from(error).status, StatusCode::GONE);
        }
        assert_eq!(
            ApiError::from(AppError::BadLink(PayloadError::Forged)).status,
            StatusCode::BAD_REQUEST
        );
    }
}
