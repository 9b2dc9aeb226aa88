//! Lambda's durable execution callback API through `aws_sdk_lambda`:
//! `SendDurableExecutionCallbackSuccess`, `…Failure` and `…Heartbeat`,
//! with the error classification the application needs. The client is set
//! up like the Step Functions one: the same deadline, no attempt timeout,
//! and [`RetryUnsentOnly`].

use aws_config::SdkConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_lambda::config::StalledStreamProtectionConfig;
use aws_sdk_lambda::config::http::HttpResponse;
use aws_sdk_lambda::config::interceptors::InterceptorContext;
use aws_sdk_lambda::config::retry::{ClassifyRetry, RetryAction};
use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::operation::send_durable_execution_callback_failure::SendDurableExecutionCallbackFailureError;
use aws_sdk_lambda::operation::send_durable_execution_callback_heartbeat::SendDurableExecutionCallbackHeartbeatError;
use aws_sdk_lambda::operation::send_durable_execution_callback_success::SendDurableExecutionCallbackSuccessError;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::ErrorObject;

use super::retry::{RetryUnsentOnly, is_retryable_code, unanswered};
use crate::core::token::CallbackId;
use crate::ports::EngineError;

/// The modelled errors the three callback operations share. Matching the
/// variants (not only the error code) also covers errors built without
/// metadata.
trait CallbackError: ProvideErrorMetadata + std::error::Error {
    /// `CallbackTimeoutException` (closed or timed out) or
    /// `ResourceNotFoundException` (no such callback).
    fn closed(&self) -> Option<&'static str>;
    fn invalid_parameter(&self) -> bool;
    fn unavailable(&self) -> bool;
    /// Lambda could not use the function's KMS key.
    fn kms_refused(&self) -> Option<&'static str> {
        None
    }
}

macro_rules! callback_error {
    () => {
        fn closed(&self) -> Option<&'static str> {
            if self.is_callback_timeout_exception() {
                Some("CallbackTimeoutException")
            } else if self.is_resource_not_found_exception() {
                Some("ResourceNotFoundException")
            } else {
                None
            }
        }
        fn invalid_parameter(&self) -> bool {
            self.is_invalid_parameter_value_exception()
        }
        fn unavailable(&self) -> bool {
            self.is_too_many_requests_exception() || self.is_service_exception()
        }
    };
}

/// The KMS errors SendDurableExecutionCallbackSuccess and …Failure share.
macro_rules! kms_errors {
    () => {
        fn kms_refused(&self) -> Option<&'static str> {
            if self.is_kms_access_denied_exception() {
                Some("KMSAccessDeniedException")
            } else if self.is_kms_disabled_exception() {
                Some("KMSDisabledException")
            } else if self.is_kms_invalid_state_exception() {
                Some("KMSInvalidStateException")
            } else if self.is_kms_not_found_exception() {
                Some("KMSNotFoundException")
            } else {
                None
            }
        }
    };
}

impl CallbackError for SendDurableExecutionCallbackSuccessError {
    callback_error!();
    kms_errors!();
}

impl CallbackError for SendDurableExecutionCallbackFailureError {
    callback_error!();
    kms_errors!();
}

impl CallbackError for SendDurableExecutionCallbackHeartbeatError {
    callback_error!();
}

/// The local durable-execution runner's "no such callback": a 404 whose
/// JSON body's `Type` (there is no `x-amzn-errortype`) says so. Any other
/// bare 404 (an endpoint without the durable API, say) is not taken for a
/// closed callback, which would call a valid link used.
fn runner_not_found(raw: &HttpResponse) -> bool {
    #[derive(serde::Deserialize)]
    struct Body<'a> {
        #[serde(rename = "Type", borrow)]
        kind: Option<&'a str>,
    }
    raw.status().as_u16() == 404
        && raw
            .body()
            .bytes()
            .and_then(|bytes| serde_json::from_slice::<Body<'_>>(bytes).ok())
            .is_some_and(|body| body.kind == Some("ResourceNotFoundException"))
}

/// Lambda answers a KMS refusal with a 502, which the standard retry rule
/// would send again; it will not change, so it is not retried.
#[derive(Debug, Clone, Copy)]
struct NoRetryOnKms;

impl ClassifyRetry for NoRetryOnKms {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let Some(Err(err)) = ctx.output_or_error() else {
            return RetryAction::NoActionIndicated;
        };
        let code = err.as_operation_error().and_then(|e| {
            e.downcast_ref::<SendDurableExecutionCallbackSuccessError>()
                .and_then(ProvideErrorMetadata::code)
                .or_else(|| {
                    e.downcast_ref::<SendDurableExecutionCallbackFailureError>()
                        .and_then(ProvideErrorMetadata::code)
                })
        });
        if code.is_some_and(|c| c.starts_with("KMS")) {
            RetryAction::RetryForbidden
        } else {
            RetryAction::NoActionIndicated
        }
    }

    fn name(&self) -> &'static str {
        "no retry of a KMS refusal"
    }
}

/// Classifies an SDK error from any durable callback operation.
///
/// AWS answers a closed callback with `CallbackTimeoutException` (400); a
/// runtime that answers with a bare 404 and no error type (the local
/// durable-execution runner does) is taken at its word: no such callback.
fn classify_lambda<E: CallbackError>(err: &SdkError<E, HttpResponse>) -> EngineError {
    match err {
        SdkError::ServiceError(service) => {
            let inner = service.err();
            let code = inner.code();
            if let Some(closed) = inner.closed() {
                EngineError::TaskClosed(closed.to_owned())
            } else if code.is_none() && runner_not_found(service.raw()) {
                EngineError::TaskClosed("ResourceNotFoundException".to_owned())
            } else if inner.invalid_parameter() {
                EngineError::InvalidOutput
            } else if inner.unavailable() || is_retryable_code(code) {
                EngineError::Unavailable(code.unwrap_or("throttled").to_owned())
            } else if let Some(refused) = inner.kms_refused() {
                EngineError::Refused(refused.to_owned())
            } else if let Some(code) = code {
                EngineError::Refused(code.to_owned())
            } else if service.raw().status().is_server_error() {
                EngineError::Unavailable("a server error without a code".to_owned())
            } else {
                EngineError::Refused(format!("HTTP {}", service.raw().status().as_u16()))
            }
        }
        other => unanswered(other),
    }
}

/// What makes a Lambda client send each callback call once, as the Step
/// Functions client does: the configuration's deadline and connect
/// timeout, no attempt timeout (a slow answer is waited for, not sent
/// again), [`RetryUnsentOnly`], no retry of a KMS refusal, and no
/// stalled-stream protection (the answer is a few bytes; a stalled one ends
/// at the deadline, unconfirmed and not sent again, as a slow one does).
pub fn send_once(builder: aws_sdk_lambda::config::Builder) -> aws_sdk_lambda::config::Builder {
    builder
        .timeout_config(
            TimeoutConfig::builder()
                .disable_operation_attempt_timeout()
                .build(),
        )
        .retry_classifier(RetryUnsentOnly)
        .retry_classifier(NoRetryOnKms)
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
}

/// Lambda durable execution callbacks through `aws_sdk_lambda`.
#[derive(Debug, Clone)]
pub struct SdkDurableCallbacks {
    client: aws_sdk_lambda::Client,
}

impl SdkDurableCallbacks {
    /// Wraps a configured client.
    pub fn new(client: aws_sdk_lambda::Client) -> Self {
        Self { client }
    }

    /// A client from shared SDK configuration (`AWS_ENDPOINT_URL_LAMBDA`
    /// points it elsewhere), set up by [`send_once`].
    pub fn from_config(config: &SdkConfig) -> Self {
        let lambda = send_once(aws_sdk_lambda::config::Builder::from(config)).build();
        Self::new(aws_sdk_lambda::Client::from_conf(lambda))
    }

    /// `SendDurableExecutionCallbackSuccess`: `Result` is the output's
    /// JSON bytes.
    pub async fn succeed(&self, id: &CallbackId, output: &str) -> Result<(), EngineError> {
        self.client
            .send_durable_execution_callback_success()
            .callback_id(id.expose())
            .result(Blob::new(output.as_bytes()))
            .send()
            .await
            .map(drop)
            .map_err(|e| classify_lambda(&e))
    }

    /// `SendDurableExecutionCallbackFailure`: the error is the
    /// `ErrorType`, the cause the `ErrorMessage`.
    pub async fn fail(
        &self,
        id: &CallbackId,
        error: Option<&str>,
        cause: Option<&str>,
    ) -> Result<(), EngineError> {
        let object = ErrorObject::builder()
            .set_error_type(error.map(str::to_owned))
            .set_error_message(cause.map(str::to_owned))
            .build();
        self.client
            .send_durable_execution_callback_failure()
            .callback_id(id.expose())
            .error(object)
            .send()
            .await
            .map(drop)
            .map_err(|e| classify_lambda(&e))
    }

    /// `SendDurableExecutionCallbackHeartbeat`.
    pub async fn heartbeat(&self, id: &CallbackId) -> Result<(), EngineError> {
        self.client
            .send_durable_execution_callback_heartbeat()
            .callback_id(id.expose())
            .send()
            .await
            .map(drop)
            .map_err(|e| classify_lambda(&e))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use aws_config::BehaviorVersion;

    use super::*;

    #[test]
    fn the_client_keeps_the_deadline_and_has_no_attempt_timeout() {
        let shared = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_timeout(Duration::from_secs(7))
                    .operation_attempt_timeout(Duration::from_secs(3))
                    .connect_timeout(Duration::from_secs(2))
                    .build(),
            )
            .build();
        let client = SdkDurableCallbacks::from_config(&shared).client;
        let timeouts = client.config().timeout_config().expect("timeouts");
        assert_eq!(timeouts.operation_timeout(), Some(Duration::from_secs(7)));
        assert_eq!(timeouts.operation_attempt_timeout(), None);
        assert_eq!(timeouts.connect_timeout(), Some(Duration::from_secs(2)));
    }

    #[test]
    fn the_client_has_no_stalled_stream_protection() {
        let shared = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .build();
        let client = SdkDurableCallbacks::from_config(&shared).client;
        let protection = client
            .config()
            .stalled_stream_protection()
            .expect("set on the client");
        assert!(!protection.is_enabled());
    }
}
