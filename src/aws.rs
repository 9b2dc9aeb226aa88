//! AWS adapters: Step Functions and KMS through the AWS SDK.
//!
//! This is the only module that names `aws_sdk_*`. Retries (standard mode:
//! exponential backoff with jitter, throttling and 5xx retried) and the
//! per-call deadline are SDK configuration, set in [`load_sdk_config`].
//!
//! Step Functions calls are never sent twice for one click: a SendTask*
//! call is retried only when Step Functions answered that it did not apply
//! it (throttling, 5xx) or the connection was refused before anything was
//! sent. A call that may have reached it (no answer in time, a connection
//! reset, an unreadable answer) is not retried; the caller hears that the
//! outcome is unconfirmed (see [`RetryUnsentOnly`]).

use std::time::Duration;

use async_trait::async_trait;
use aws_config::environment::EnvironmentVariableRegionProvider;
use aws_config::meta::region::RegionProviderChain;
use aws_config::profile::ProfileFileRegionProvider;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_sfn::config::interceptors::InterceptorContext;
use aws_sdk_sfn::config::retry::{ClassifyRetry, RetryAction};
use aws_sdk_sfn::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sfn::operation::send_task_failure::SendTaskFailureError;
use aws_sdk_sfn::operation::send_task_heartbeat::SendTaskHeartbeatError;
use aws_sdk_sfn::operation::send_task_success::SendTaskSuccessError;

use crate::core::callback::SendTask;
use crate::core::keyring::SecretKey;
use crate::core::notify::{Email, Notification, SnsMessage};
use crate::core::token::TaskToken;
use crate::ports::{
    Activities, ActivityTask, Kms, KmsContext, KmsError, Notifier, NotifyError, SfnError,
    StepFunctions,
};

/// How long one AWS call may take, retries included, and how many
/// attempts it may make.
#[derive(Debug, Clone, Copy)]
pub struct CallBudget {
    /// The whole operation, retries included.
    pub deadline: Duration,
    /// One attempt of an idempotent call (KMS). Step Functions calls have
    /// no attempt timeout: a slow answer is waited for until the deadline
    /// rather than sent again.
    pub attempt_timeout: Duration,
    /// Attempts in all.
    pub max_attempts: u32,
}

impl Default for CallBudget {
    fn default() -> Self {
        Self {
            deadline: Duration::from_secs(10),
            attempt_timeout: Duration::from_secs(3),
            max_attempts: 4,
        }
    }
}

/// Loads the default credential chain (so `AWS_ENDPOINT_URL` and the
/// usual credential variables work) with our retry and timeout budget.
///
/// The region comes from the environment, then the profile, then
/// `us-east-1`: never from the instance metadata service, so starting
/// outside AWS makes no network call.
pub async fn load_sdk_config(budget: CallBudget) -> SdkConfig {
    let region = RegionProviderChain::first_try(EnvironmentVariableRegionProvider::new())
        .or_else(ProfileFileRegionProvider::new())
        .or_else("us-east-1");
    aws_config::defaults(BehaviorVersion::latest())
        .region(region)
        .retry_config(RetryConfig::standard().with_max_attempts(budget.max_attempts))
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(budget.deadline)
                .operation_attempt_timeout(budget.attempt_timeout)
                .connect_timeout(CONNECT_TIMEOUT)
                .build(),
        )
        .load()
        .await
}

fn is_retryable_code(code: Option<&str>) -> bool {
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
fn classify_sfn<E, R>(err: &SdkError<E, R>) -> SfnError
where
    E: TaskTokenError,
    R: std::fmt::Debug,
{
    match err {
        SdkError::ServiceError(service) => {
            let inner = service.err();
            let code = inner.code();
            if let Some(closed) = inner.closed() {
                SfnError::TaskClosed(closed.to_owned())
            } else if inner.invalid_output() {
                SfnError::InvalidOutput
            } else if inner.kms_throttled() || is_retryable_code(code) {
                SfnError::Unavailable(code.unwrap_or("throttled").to_owned())
            } else if let Some(refused) = inner.kms_refused() {
                SfnError::Refused(refused.to_owned())
            } else if let Some(code) = code {
                SfnError::Refused(code.to_owned())
            } else {
                SfnError::Unavailable("an error without a code".to_owned())
            }
        }
        SdkError::TimeoutError(_) => SfnError::Unconfirmed("no answer in time".to_owned()),
        SdkError::DispatchFailure(failure) => match failure.as_connector_error() {
            Some(connector) if connection_refused(connector) => {
                SfnError::Unavailable("connection refused".to_owned())
            }
            _ => SfnError::Unconfirmed("the connection failed".to_owned()),
        },
        SdkError::ResponseError(_) => SfnError::Unconfirmed("unreadable answer".to_owned()),
        _ => SfnError::Unavailable("the request could not be made".to_owned()),
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
fn send_once_sfn_client(
    config: &SdkConfig,
    timeouts: aws_config::timeout::TimeoutConfigBuilder,
) -> aws_sdk_sfn::Client {
    let sfn = aws_sdk_sfn::config::Builder::from(config)
        .timeout_config(timeouts.disable_operation_attempt_timeout().build())
        .retry_classifier(RetryUnsentOnly)
        .build();
    aws_sdk_sfn::Client::from_conf(sfn)
}

/// The activity API through `aws_sdk_sfn`, with a deadline that outlasts
/// Step Functions' 60-second long poll.
#[derive(Debug, Clone)]
pub struct SdkActivities {
    client: aws_sdk_sfn::Client,
}

/// How long one GetActivityTask may take: the long poll and a margin.
pub const ACTIVITY_POLL_DEADLINE: Duration = Duration::from_secs(75);

impl SdkActivities {
    /// A client from shared SDK configuration. A poll that may have taken
    /// a task is never repeated (the task would be lost to the first one).
    pub fn from_config(config: &SdkConfig) -> Self {
        let timeouts = TimeoutConfig::builder().operation_timeout(ACTIVITY_POLL_DEADLINE);
        Self {
            client: send_once_sfn_client(config, timeouts),
        }
    }
}

#[async_trait]
impl Activities for SdkActivities {
    async fn next_task(
        &self,
        activity_arn: &str,
        worker_name: &str,
    ) -> Result<Option<ActivityTask>, SfnError> {
        let out = self
            .client
            .get_activity_task()
            .activity_arn(activity_arn)
            .worker_name(worker_name)
            .send()
            .await
            .map_err(|e| match &e {
                SdkError::ServiceError(inner) => {
                    let code = inner.err().code();
                    if is_retryable_code(code) {
                        SfnError::Unavailable(code.unwrap_or_default().to_owned())
                    } else {
                        SfnError::Refused(code.unwrap_or("an error without a code").to_owned())
                    }
                }
                SdkError::TimeoutError(_) => SfnError::Unconfirmed("no answer in time".to_owned()),
                _ => SfnError::Unavailable("the request failed".to_owned()),
            })?;
        let token = out.task_token.filter(|t| !t.is_empty());
        match token {
            None => Ok(None),
            Some(token) => Ok(Some(ActivityTask {
                token: TaskToken::parse(token)
                    .map_err(|e| SfnError::Refused(format!("a task token we cannot use: {e}")))?,
                input: out.input.unwrap_or_default(),
            })),
        }
    }
}

/// Email through SES (v2) and messages through SNS.
#[derive(Debug, Clone)]
pub struct SdkNotifier {
    ses: aws_sdk_sesv2::Client,
    sns: aws_sdk_sns::Client,
}

impl SdkNotifier {
    /// Clients from shared SDK configuration. Like SendTask calls, a send
    /// is never repeated once it may have gone out (a duplicate mail).
    pub fn from_config(config: &SdkConfig) -> Self {
        let ses = aws_sdk_sesv2::config::Builder::from(config)
            .retry_classifier(RetryUnsentOnly)
            .build();
        let sns = aws_sdk_sns::config::Builder::from(config)
            .retry_classifier(RetryUnsentOnly)
            .build();
        Self {
            ses: aws_sdk_sesv2::Client::from_conf(ses),
            sns: aws_sdk_sns::Client::from_conf(sns),
        }
    }

    async fn email(&self, email: &Email) -> Result<String, NotifyError> {
        use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
        let content = |data: &str| {
            Content::builder()
                .data(data)
                .charset("UTF-8")
                .build()
                .map_err(|_| NotifyError::Refused {
                    service: "SES",
                    code: "the message could not be built".to_owned(),
                })
        };
        let message = Message::builder()
            .subject(content(&email.subject)?)
            .body(
                Body::builder()
                    .text(content(&email.text)?)
                    .html(content(&email.html)?)
                    .build(),
            )
            .build();
        let destination = Destination::builder()
            .set_to_addresses(Some(email.to.clone()))
            .set_cc_addresses((!email.cc.is_empty()).then(|| email.cc.clone()))
            .set_bcc_addresses((!email.bcc.is_empty()).then(|| email.bcc.clone()))
            .build();
        let sent = self
            .ses
            .send_email()
            .from_email_address(&email.from)
            .destination(destination)
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|e| classify_notify("SES", &e))?;
        Ok(sent.message_id.unwrap_or_default())
    }

    async fn publish(&self, message: &SnsMessage) -> Result<String, NotifyError> {
        let sent = self
            .sns
            .publish()
            .topic_arn(&message.topic_arn)
            .set_subject(message.subject.clone())
            .message(&message.message)
            .send()
            .await
            .map_err(|e| classify_notify("SNS", &e))?;
        Ok(sent.message_id.unwrap_or_default())
    }
}

#[async_trait]
impl Notifier for SdkNotifier {
    async fn send(&self, notification: &Notification) -> Result<String, NotifyError> {
        match notification {
            Notification::Email(email) => self.email(email).await,
            Notification::Sns(message) => self.publish(message).await,
        }
    }
}

fn classify_notify<E, R>(service: &'static str, err: &SdkError<E, R>) -> NotifyError
where
    E: ProvideErrorMetadata + std::error::Error,
    R: std::fmt::Debug,
{
    let unavailable = |reason: &str| NotifyError::Unavailable {
        service,
        reason: reason.to_owned(),
    };
    match err {
        SdkError::ServiceError(inner) => match inner.err().code() {
            Some(code) if is_retryable_code(Some(code)) => unavailable(code),
            Some(code) => NotifyError::Refused {
                service,
                code: code.to_owned(),
            },
            None => unavailable("an error without a code"),
        },
        SdkError::TimeoutError(_) => unavailable("no answer in time"),
        SdkError::DispatchFailure(_) => unavailable("the connection failed"),
        _ => unavailable("the request failed"),
    }
}

/// The connect timeout of every AWS client.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

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

/// Whether the error chain holds a refused connection: the request was
/// never sent.
fn connection_refused(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(err);
    while let Some(err) = next {
        if err
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
        {
            return true;
        }
        next = err.source();
    }
    false
}

#[async_trait]
impl StepFunctions for SdkStepFunctions {
    async fn send(&self, command: &SendTask) -> Result<(), SfnError> {
        match command {
            SendTask::Success { token, output } => self
                .client
                .send_task_success()
                .task_token(token.expose())
                .output(output)
                .send()
                .await
                .map(drop)
                .map_err(|e| classify_sfn(&e)),
            SendTask::Failure {
                token,
                error,
                cause,
            } => self
                .client
                .send_task_failure()
                .task_token(token.expose())
                .set_error(error.clone())
                .set_cause(cause.clone())
                .send()
                .await
                .map(drop)
                .map_err(|e| classify_sfn(&e)),
            SendTask::Heartbeat { token } => self
                .client
                .send_task_heartbeat()
                .task_token(token.expose())
                .send()
                .await
                .map(drop)
                .map_err(|e| classify_sfn(&e)),
        }
    }
}

fn classify_kms<E, R>(err: &SdkError<E, R>) -> KmsError
where
    E: aws_sdk_kms::error::ProvideErrorMetadata + std::error::Error,
    R: std::fmt::Debug,
{
    match err {
        SdkError::ServiceError(service) => match service.err().code() {
            Some("InvalidCiphertextException" | "IncorrectKeyException") => {
                KmsError::InvalidCiphertext
            }
            Some(
                "KMSInternalException" | "DependencyTimeoutException" | "KeyUnavailableException",
            ) => KmsError::Unavailable(service.err().code().unwrap_or_default().to_owned()),
            None => KmsError::Unavailable("an error without a code".to_owned()),
            Some(code) if is_retryable_code(Some(code)) => KmsError::Unavailable(code.to_owned()),
            Some(code) => KmsError::Refused(code.to_owned()),
        },
        SdkError::TimeoutError(_) => KmsError::Unavailable("timed out".to_owned()),
        SdkError::DispatchFailure(_) => KmsError::Unavailable("could not connect".to_owned()),
        _ => KmsError::Unavailable("the request failed".to_owned()),
    }
}

fn context_map(context: KmsContext) -> std::collections::HashMap<String, String> {
    context
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// KMS through `aws_sdk_kms`.
#[derive(Debug, Clone)]
pub struct SdkKms {
    client: aws_sdk_kms::Client,
}

impl SdkKms {
    /// Wraps a configured client.
    pub fn new(client: aws_sdk_kms::Client) -> Self {
        Self { client }
    }

    /// A client from shared SDK configuration.
    pub fn from_config(config: &SdkConfig) -> Self {
        Self::new(aws_sdk_kms::Client::new(config))
    }
}

#[async_trait]
impl Kms for SdkKms {
    async fn encrypt(
        &self,
        key_id: &str,
        plaintext: &[u8],
        context: KmsContext,
    ) -> Result<Vec<u8>, KmsError> {
        let out = self
            .client
            .encrypt()
            .key_id(key_id)
            .plaintext(Blob::new(plaintext))
            .set_encryption_context(Some(context_map(context)))
            .send()
            .await
            .map_err(|e| classify_kms(&e))?;
        out.ciphertext_blob
            .map(Blob::into_inner)
            .ok_or_else(|| KmsError::Refused("Encrypt returned no ciphertext".to_owned()))
    }

    async fn decrypt(
        &self,
        key_id: Option<&str>,
        blob: &[u8],
        context: KmsContext,
    ) -> Result<zeroize::Zeroizing<Vec<u8>>, KmsError> {
        let out = self
            .client
            .decrypt()
            .set_key_id(key_id.map(str::to_owned))
            .ciphertext_blob(Blob::new(blob))
            .set_encryption_context(Some(context_map(context)))
            .send()
            .await
            .map_err(|e| classify_kms(&e))?;
        out.plaintext
            .map(|b| zeroize::Zeroizing::new(b.into_inner()))
            .ok_or_else(|| KmsError::Refused("Decrypt returned no plaintext".to_owned()))
    }

    async fn generate_data_key(
        &self,
        key_id: &str,
        context: KmsContext,
    ) -> Result<(SecretKey, Vec<u8>), KmsError> {
        let out = self
            .client
            .generate_data_key()
            .key_id(key_id)
            .set_encryption_context(Some(context_map(context)))
            .key_spec(aws_sdk_kms::types::DataKeySpec::Aes256)
            .send()
            .await
            .map_err(|e| classify_kms(&e))?;
        let plain = out
            .plaintext
            .map(|b| zeroize::Zeroizing::new(b.into_inner()))
            .ok_or_else(|| KmsError::Refused("GenerateDataKey returned no key".to_owned()))?;
        let key = SecretKey::from_slice(&plain).ok_or_else(|| {
            KmsError::Refused("GenerateDataKey returned a key of the wrong size".to_owned())
        })?;
        let wrapped = out.ciphertext_blob.map(Blob::into_inner).ok_or_else(|| {
            KmsError::Refused("GenerateDataKey returned no ciphertext".to_owned())
        })?;
        Ok((key, wrapped))
    }
}
