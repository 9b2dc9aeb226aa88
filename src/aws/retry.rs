//! The retry rule for calls that must not be sent twice, and what an SDK
//! error says about whether anything was sent.

use aws_sdk_sfn::config::interceptors::InterceptorContext;
use aws_sdk_sfn::config::retry::{ClassifyRetry, RetryAction};
use aws_sdk_sfn::error::SdkError;

use crate::ports::EngineError;

/// Whether an AWS error code says the service did not act and the call may
/// be tried again (throttling, internal errors).
pub(super) fn is_retryable_code(code: Option<&str>) -> bool {
    matches!(
        code,
        Some(
            "ThrottlingException"
                | "Throttling"
                | "TooManyRequestsException"
                | "RequestLimitExceeded"
                | "KmsThrottlingException"
                | "ServiceUnavailable"
                | "ServiceUnavailableException"
                | "InternalFailure"
                | "InternalServerError"
        )
    )
}

/// The retry rule for calls that must not be sent twice (SendTask*, and
/// notifications): it
/// forbids a retry whenever the request may have reached Step Functions
/// without an answer coming back (a forbidden retry overrides every other
/// classifier, whatever their order).
/// Throttling and 5xx answers stay retryable (Step Functions said it did
/// not apply the call), and so does a refused connection (nothing was
/// sent).
#[derive(Debug, Clone, Copy)]
pub struct RetryUnsentOnly;

impl ClassifyRetry for RetryUnsentOnly {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        match ctx.output_or_error() {
            Some(Err(err)) if err.is_timeout_error() || err.is_response_error() => {
                RetryAction::RetryForbidden
            }
            Some(Err(err)) => match err.as_connector_error() {
                Some(connector) if !connection_refused(connector) => RetryAction::RetryForbidden,
                _ => RetryAction::NoActionIndicated,
            },
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "no retry once sent"
    }
}

/// What an engine call's error says when it is not the service's own
/// answer (the callers classify `ServiceError` themselves): no answer in
/// time or a broken connection may have delivered the call
/// (`Unconfirmed`); a refused connection or missing credentials sent
/// nothing.
pub(super) fn unanswered<E, R>(err: &SdkError<E, R>) -> EngineError {
    match err {
        SdkError::TimeoutError(_) => EngineError::Unconfirmed("no answer in time".to_owned()),
        SdkError::DispatchFailure(failure) => match failure.as_connector_error() {
            Some(connector) if no_credentials(connector) => EngineError::NoCredentials,
            Some(connector) if connection_refused(connector) => {
                EngineError::Unavailable("connection refused".to_owned())
            }
            _ => EngineError::Unconfirmed("the connection failed".to_owned()),
        },
        SdkError::ResponseError(_) => EngineError::Unconfirmed("unreadable answer".to_owned()),
        _ => EngineError::Unavailable("the request could not be made".to_owned()),
    }
}

type ErrorRef<'e> = &'e (dyn std::error::Error + 'static);

/// Whether `err` or any error in its source chain is a `T` for which
/// `matches` holds.
fn chain_has<T: std::error::Error + 'static>(
    err: ErrorRef<'_>,
    matches: impl Fn(&T) -> bool,
) -> bool {
    std::iter::successors(Some(err), |e| e.source())
        .any(|e| e.downcast_ref::<T>().is_some_and(&matches))
}

/// Whether the error chain holds a refused connection: the request was
/// never sent.
fn connection_refused(err: ErrorRef<'_>) -> bool {
    chain_has(err, |io: &std::io::Error| {
        io.kind() == std::io::ErrorKind::ConnectionRefused
    })
}

/// Whether the error chain holds a failure to find AWS credentials: the
/// request was never signed, so nothing was sent.
fn no_credentials(err: ErrorRef<'_>) -> bool {
    chain_has(
        err,
        |_: &aws_credential_types::provider::error::CredentialsError| true,
    )
}
