//! Step Functions' task-token API through `aws_sdk_sfn`, with the error
//! classification the application needs. [`super::SdkEngines`] makes it
//! (with Lambda's durable callbacks) the [`crate::ports::Engine`].

use aws_config::SdkConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_sfn::config::StalledStreamProtectionConfig;
use aws_sdk_sfn::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sfn::operation::send_task_failure::SendTaskFailureError;
use aws_sdk_sfn::operation::send_task_heartbeat::SendTaskHeartbeatError;
use aws_sdk_sfn::operation::send_task_success::SendTaskSuccessError;

use super::retry::{RetryUnsentOnly, is_retryable_code, unanswered};
use crate::core::token::TaskToken;
use crate::ports::EngineError;

/// The modelled errors the three task-token operations share. Matching the
/// variants (not only the error code) also covers errors built without
/// metadata.
trait TaskTokenError: ProvideErrorMetadata + std::error::Error {
    fn closed(&self) -> Option<&'static str>;
    /// Whether it is an `InvalidOutput` error.
    fn invalid_output(&self) -> bool {
        false
    }
    fn kms_throttled(&self) -> bool {
        false
    }
    /// Step Functions could not use the state machine's KMS key.
    fn kms_refused(&self) -> Option<&'static str> {
        None
    }
}

macro_rules! task_token_error {
    () => {
        fn closed(&self) -> Option<&'static str> {
            if self.is_task_timed_out() {
                Some("TaskTimedOut")
            } else if self.is_invalid_token() {
                Some("InvalidToken")
            } else if self.is_task_does_not_exist() {
                Some("TaskDoesNotExist")
            } else {
                None
            }
        }
    };
}

/// The KMS errors SendTaskSuccess and SendTaskFailure share (Step Functions
/// decrypts the task's payload with the state machine's KMS key).
macro_rules! kms_errors {
    () => {
        fn kms_throttled(&self) -> bool {
            self.is_kms_throttling_exception()
        }
        fn kms_refused(&self) -> Option<&'static str> {
            if self.is_kms_access_denied_exception() {
                Some("KmsAccessDeniedException")
            } else if self.is_kms_invalid_state_exception() {
                Some("KmsInvalidStateException")
            } else {
                None
            }
        }
    };
}

impl TaskTokenError for SendTaskSuccessError {
    task_token_error!();
    fn invalid_output(&self) -> bool {
        self.is_invalid_output()
    }
    kms_errors!();
}

impl TaskTokenError for SendTaskFailureError {
    task_token_error!();
    kms_errors!();
}

impl TaskTokenError for SendTaskHeartbeatError {
    task_token_error!();
}

/// Classifies an SDK error from any Step Functions task-token operation.
fn classify_sfn<E, R>(err: &SdkError<E, R>) -> EngineError
where
    E: TaskTokenError,
    R: std::fmt::Debug,
{
    match err {
        SdkError::ServiceError(service) => {
            let inner = service.err();
            let code = inner.code();
            if let Some(closed) = inner.closed() {
                EngineError::TaskClosed(closed.to_owned())
            } else if inner.invalid_output() {
                EngineError::InvalidOutput
            } else if inner.kms_throttled() || is_retryable_code(code) {
                EngineError::Unavailable(code.unwrap_or("throttled").to_owned())
            } else if let Some(refused) = inner.kms_refused() {
                EngineError::Refused(refused.to_owned())
            } else if let Some(code) = code {
                EngineError::Refused(code.to_owned())
            } else {
                EngineError::Unavailable("an error without a code".to_owned())
            }
        }
        other => unanswered(other),
    }
}

/// Step Functions through `aws_sdk_sfn`.
#[derive(Debug, Clone)]
pub struct SdkStepFunctions {
    client: aws_sdk_sfn::Client,
}

impl SdkStepFunctions {
    /// Wraps a configured client.
    pub fn new(client: aws_sdk_sfn::Client) -> Self {
        Self { client }
    }

    /// A client from shared SDK configuration: the same deadline, no
    /// attempt timeout, and [`RetryUnsentOnly`].
    pub fn from_config(config: &SdkConfig) -> Self {
        // The deadline and connect timeout come from `config`.
        Self::new(send_once_sfn_client(config, TimeoutConfig::builder()))
    }
}

/// A Step Functions client whose calls are never repeated once they may
/// have arrived: no attempt timeout and [`RetryUnsentOnly`]; `timeouts`
/// adds to the shared configuration's.
///
/// Stalled-stream protection is off: the answers are a few bytes, and a
/// stalled one ends at the deadline, unconfirmed and not sent again, as a
/// slow one does; the protection's timers cost every call.
pub(super) fn send_once_sfn_client(
    config: &SdkConfig,
    timeouts: aws_config::timeout::TimeoutConfigBuilder,
) -> aws_sdk_sfn::Client {
    let sfn = aws_sdk_sfn::config::Builder::from(config)
        .timeout_config(timeouts.disable_operation_attempt_timeout().build())
        .retry_classifier(RetryUnsentOnly)
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        .build();
    aws_sdk_sfn::Client::from_conf(sfn)
}

impl SdkStepFunctions {
    /// `SendTaskSuccess`.
    pub async fn succeed(&self, token: &TaskToken, output: &str) -> Result<(), EngineError> {
        self.client
            .send_task_success()
            .task_token(token.expose())
            .output(output)
            .send()
            .await
            .map(drop)
            .map_err(|e| classify_sfn(&e))
    }

    /// `SendTaskFailure`.
    pub async fn fail(
        &self,
        token: &TaskToken,
        error: Option<&str>,
        cause: Option<&str>,
    ) -> Result<(), EngineError> {
        self.client
            .send_task_failure()
            .task_token(token.expose())
            .set_error(error.map(str::to_owned))
            .set_cause(cause.map(str::to_owned))
            .send()
            .await
            .map(drop)
            .map_err(|e| classify_sfn(&e))
    }

    /// `SendTaskHeartbeat`.
    pub async fn heartbeat(&self, token: &TaskToken) -> Result<(), EngineError> {
        self.client
            .send_task_heartbeat()
            .task_token(token.expose())
            .send()
            .await
            .map(drop)
            .map_err(|e| classify_sfn(&e))
    }
}

#[cfg(test)]
mod tests {
    use aws_config::BehaviorVersion;

    use super::*;

    #[test]
    fn the_send_once_client_has_no_stalled_stream_protection() {
        let shared = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .build();
        let client = send_once_sfn_client(&shared, TimeoutConfig::builder());
        let protection = client
            .config()
            .stalled_stream_protection()
            .expect("set on the client");
        assert!(!protection.is_enabled());
    }
}
