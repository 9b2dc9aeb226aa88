//! The one place where errors become status codes and bodies.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::core::error::{ErrorCode, Rejection};
use crate::http::negotiate::Format;
use crate::http::pages;
use crate::ports::{KmsError, NotifyError, SfnError};

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
    /// `Retry-After` seconds, for 503.
    pub retry_after: Option<u32>,
    /// `Allow`, for 405.
    pub allow: Option<&'static str>,
    /// How to render it (JSON unless negotiated otherwise).
    pub format: Format,
}

/// Seconds a client should wait after a 503.
pub const RETRY_AFTER_SECS: u32 = 5;

impl ApiError {
    /// An error with an explicit status.
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            transaction_id: None,
            retry_after: None,
            allow: None,
            format: Format::Json,
        }
    }

    /// 400 for a request this service cannot read at all.
    pub fn bad_request(message: impl Into<String>) -> Self {
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

    /// 503 with `Retry-After`.
    pub fn unavailable(message: impl Into<String>) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::ServiceError,
            message,
        );
        e.retry_after = Some(RETRY_AFTER_SECS);
        e
    }

    /// Whether it is a 503: a dependency was unavailable, and the same
    /// request may work later.
    pub fn is_unavailable(&self) -> bool {
        self.status == StatusCode::SERVICE_UNAVAILABLE
    }

    /// Renders as `format`.
    #[must_use]
    pub fn with_format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }

    /// Names the transaction in the body.
    #[must_use]
    pub fn with_transaction(mut self, transaction_id: Option<String>) -> Self {
        self.transaction_id = transaction_id;
        self
    }
}

/// The status for each core error code.
fn status_for(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::ExpiredPayload => StatusCode::GONE,
        ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
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

impl From<SfnError> for ApiError {
    fn from(e: SfnError) -> Self {
        match e {
            SfnError::TaskClosed(_) => Self::new(
                StatusCode::GONE,
                ErrorCode::StepFunctionsError,
                "this link was already used, or the task has finished or timed out",
            ),
            SfnError::InvalidOutput => Self::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::StepFunctionsError,
                "Step Functions refused the output (InvalidOutput)",
            ),
            SfnError::Unavailable(_) => Self::unavailable(
                "Step Functions is unavailable right now; the link is still valid, try again shortly",
            ),
            SfnError::Unconfirmed(_) => Self::unavailable(
                "Step Functions did not confirm the answer in time, so it may or may not have been recorded; the link is still valid: use it again shortly, and if it then says it was already used, the answer was recorded",
            ),
            SfnError::Refused(_) => Self::new(
                StatusCode::BAD_GATEWAY,
                ErrorCode::ServiceError,
                "Step Functions refused the call; the operator has to check this deployment's permissions",
            ),
        }
    }
}

impl ApiError {
    /// 502: KMS refused for a reason the operator has to fix.
    pub fn kms_refused() -> Self {
        Self::new(
            StatusCode::BAD_GATEWAY,
            ErrorCode::ServiceError,
            "the key service (KMS) refused the request; the operator has to check the KMS key and this deployment's permissions to it",
        )
    }
}

impl From<NotifyError> for ApiError {
    fn from(e: NotifyError) -> Self {
        match e {
            NotifyError::Unavailable { service, .. } => Self::unavailable(format!(
                "{service} is unavailable, so the notification was not sent and no links were made; try again shortly"
            )),
            NotifyError::Refused { service, code } => Self::new(
                StatusCode::BAD_GATEWAY,
                ErrorCode::NotifyFailed,
                format!(
                    "{service} refused the notification ({code}), so no links were made; check that the sender is verified, the topic exists, and this deployment may use them"
                ),
            ),
        }
    }
}

impl From<KmsError> for ApiError {
    fn from(e: KmsError) -> Self {
        match e {
            KmsError::Unavailable(_) => {
                Self::unavailable("the key service (KMS) is unavailable; try again shortly")
            }
            KmsError::InvalidCiphertext | KmsError::Refused(_) => Self::kms_refused(),
            KmsError::UnusableDataKey(e) => Self::new(
                StatusCode::BAD_GATEWAY,
                ErrorCode::ServiceError,
                format!("{e}, so no links were made; the operator has to check the KMS key"),
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = match self.format {
            Format::Json => {
                let mut body = json!({"error": self.code.as_str(), "message": self.message});
                if let Some(tid) = &self.transaction_id {
                    body["transaction_id"] = json!(tid);
                }
                (self.status, axum::Json(body)).into_response()
            }
            Format::Html => pages::html_response(
                self.status,
                pages::error_page(self.status, self.code, &self.message),
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
