//! The application's one error type: what went wrong, in the words a
//! front door needs to answer (each front door maps it once: HTTP to
//! statuses and pages, Lambda to function errors, the worker to retries).

use std::fmt;

use crate::ports::{EngineError, KmsError, NotifyError, UnsealError};
use sfn_callbacks_core::ErrorCode;
use sfn_callbacks_core::callback::EngineCall;
use sfn_callbacks_core::error::Rejection;
use sfn_callbacks_core::payload::{PayloadError, WrappedKeyLength};
use sfn_callbacks_core::token::EngineKind;
use sfn_callbacks_presentation::pages::ErrorPage;

/// Seconds a client should wait before trying an unavailable service again.
pub const RETRY_AFTER_SECS: u32 = 5;

/// Why a use case did not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppError {
    /// The request is wrong (the core's refusal, with the old contract's
    /// error name).
    Rejected(Rejection),
    /// The link did not open: malformed, altered, forged, of an old format,
    /// or made with a retired key.
    BadLink(PayloadError),
    /// The task is closed: the link was used already, or the task finished
    /// or timed out.
    Closed,
    /// The engine refused the output.
    OutputRefused(EngineKind),
    /// A service is unavailable; the same request may work later, and the
    /// link stays valid.
    Unavailable(Unavailable),
    /// A service refused for a reason the operator has to fix.
    Refused(Refused),
    /// The notification service refused the message, so no links were made.
    NotifyFailed {
        /// `SES` or `SNS`.
        service: &'static str,
        /// The service's error code.
        code: String,
    },
}

/// Which service was unavailable, and what that means for the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unavailable {
    /// KMS could not unwrap a link's key: the link is still valid.
    KeyServiceOpening,
    /// KMS could not make a key for new links.
    KeyServiceSealing,
    /// The engine did not take the call (throttling, 5xx, refused
    /// connections); nothing was applied.
    Engine(EngineKind),
    /// No AWS credentials were found, so nothing was sent.
    NoCredentials(EngineKind),
    /// The call may have arrived without an answer coming back; it is not
    /// sent again. `None` when the answer did not come in time for a
    /// front door that cannot wait (Slack), before knowing the engine.
    EngineUnconfirmed(Option<EngineKind>),
    /// The notification service (`SES` or `SNS`).
    Notify(&'static str),
    /// The OpenID Provider: sign-in or token verification could not be
    /// done; nothing was sent.
    IdentityProvider,
    /// Slack could not say who pressed; nothing was sent.
    Slack,
}

/// Which service refused for a deployment reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// KMS (access, key state).
    KeyService,
    /// KMS made a data key no link can carry.
    UnusableDataKey(WrappedKeyLength),
    /// The engine (permissions, the state machine's or function's KMS
    /// key).
    Engine {
        /// Which one.
        engine: EngineKind,
        /// The API operation refused (its IAM action is `states:` or
        /// `lambda:` and this name).
        operation: &'static str,
        /// The engine's error code.
        code: String,
    },
}

impl AppError {
    /// The old contract's error name.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Rejected(r) => r.code,
            Self::BadLink(e) => e.rejection().code,
            Self::Closed | Self::OutputRefused(_) => ErrorCode::StepFunctionsError,
            Self::Unavailable(_) | Self::Refused(_) => ErrorCode::ServiceError,
            Self::NotifyFailed { .. } => ErrorCode::NotifyFailed,
        }
    }

    /// Seconds to wait before trying again, for an unavailable service.
    pub fn retry_after_secs(&self) -> Option<u32> {
        matches!(self, Self::Unavailable(_)).then_some(RETRY_AFTER_SECS)
    }

    /// What went wrong, for the client: never a secret, never an AWS
    /// message.
    pub fn message(&self) -> String {
        self.to_string()
    }
    /// The page that explains this error to a person (in a browser, or as
    /// its title and advice in a chat message): what happened, in their
    /// terms.
    pub fn page(&self) -> ErrorPage {
        match self {
            Self::Unavailable(Unavailable::Slack) => ErrorPage::SlackBusy,
            Self::Unavailable(Unavailable::IdentityProvider) => ErrorPage::ProviderBusy,
            Self::Unavailable(_) => ErrorPage::Busy,
            Self::Closed => ErrorPage::AlreadyAnswered,
            // A refusal in the service's name (502) is not a busy service.
            Self::Refused(_) | Self::NotifyFailed { .. } => ErrorPage::Rejected,
            Self::Rejected(_) | Self::BadLink(_) | Self::OutputRefused(_) => {
                page_of_code(self.code())
            }
        }
    }
}

/// The page of a refusal with this error name: a rejection, a link that
/// does not open, or a front door's own refusal.
pub fn page_of_code(code: ErrorCode) -> ErrorPage {
    match code {
        ErrorCode::ExpiredPayload => ErrorPage::Expired(None),
        ErrorCode::InvalidPayload
        | ErrorCode::ActionMismatched
        | ErrorCode::EncryptionRequired
        | ErrorCode::DecryptionUnsupported => ErrorPage::InvalidLink,
        ErrorCode::ServiceError => ErrorPage::Busy,
        ErrorCode::TooManyRequests => ErrorPage::TooMany,
        ErrorCode::InvalidComment => ErrorPage::BadComment,
        ErrorCode::NotAnApprover => ErrorPage::NotAnApprover(None),
        ErrorCode::SignInRequired => ErrorPage::SignInRequired,
        ErrorCode::SignInFailed => ErrorPage::SignInFailed,
        _ => ErrorPage::Rejected,
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rejected(r) => f.write_str(&r.message),
            Self::BadLink(e) => f.write_str(&e.rejection().message),
            Self::Closed => f.write_str("this link was already used, or the task has finished or timed out"),
            Self::OutputRefused(EngineKind::StepFunctions) => {
                f.write_str("Step Functions refused the output (InvalidOutput)")
            }
            Self::OutputRefused(EngineKind::Durable) => f.write_str(
                "Lambda refused the call's parameters (InvalidParameterValueException): the callback ID, the result or the error",
            ),
            Self::Unavailable(Unavailable::KeyServiceOpening) => f.write_str(
                "the key service is unavailable; the link is still valid, try again shortly",
            ),
            Self::Unavailable(Unavailable::KeyServiceSealing) => {
                f.write_str("the key service (KMS) is unavailable; try again shortly")
            }
            Self::Unavailable(Unavailable::Engine(engine)) => write!(
                f,
                "{} is unavailable right now; the link is still valid, try again shortly",
                engine.service()
            ),
            Self::Unavailable(Unavailable::NoCredentials(engine)) => write!(
                f,
                "no AWS credentials: nothing was sent; the link is still valid once this deployment has credentials for {}",
                engine.service()
            ),
            Self::Unavailable(Unavailable::EngineUnconfirmed(engine)) => write!(
                f,
                "{} did not confirm the answer in time, so it may or may not have been recorded; the link is still valid: use it again shortly, and if it then says it was already used, the answer was recorded",
                engine.map_or("The workflow engine", EngineKind::service)
            ),
            Self::Unavailable(Unavailable::Notify(service)) => write!(
                f,
                "{service} is unavailable, so the notification was not sent and no links were made; try again shortly"
            ),
            Self::Unavailable(Unavailable::IdentityProvider) => f.write_str(
                "the sign-in service (the OpenID Provider) is unavailable, so nothing was sent; the link is still valid, try again shortly",
            ),
            Self::Unavailable(Unavailable::Slack) => f.write_str(
                "Slack could not say who pressed, so nothing was sent; press again shortly",
            ),
            Self::Refused(Refused::KeyService) => f.write_str(
                "the key service (KMS) refused the request; the operator has to check the KMS key and this deployment's permissions to it",
            ),
            Self::Refused(Refused::UnusableDataKey(e)) => write!(
                f,
                "{e}, so no links were made; the operator has to check the KMS key"
            ),
            Self::Refused(Refused::Engine {
                engine,
                operation,
                code,
            }) => {
                let service = engine.service();
                if code == "AccessDeniedException" || code == "AccessDenied" {
                    let (prefix, resource) = match engine {
                        EngineKind::StepFunctions => ("states", "the state machine"),
                        EngineKind::Durable => (
                            "lambda",
                            "the durable function (add its ARN to DurableFunctionArns)",
                        ),
                    };
                    write!(
                        f,
                        "{service} refused the call ({code}): this deployment lacks the permission {prefix}:{operation} on {resource}; nothing was recorded and the link is still valid"
                    )
                } else {
                    write!(
                        f,
                        "{service} refused the call ({code}); the operator has to check this deployment's permissions; the link is still valid"
                    )
                }
            }
            Self::NotifyFailed { service, code } => write!(
                f,
                "{service} refused the notification ({code}), so no links were made; check that the sender is verified, the topic exists, and this deployment may use them"
            ),
        }
    }
}

impl std::error::Error for AppError {}

impl From<Rejection> for AppError {
    fn from(r: Rejection) -> Self {
        Self::Rejected(r)
    }
}

impl AppError {
    /// What an engine call's failure means for the caller: `call` names
    /// the engine and the operation (for a missing permission).
    pub fn engine(e: EngineError, call: &EngineCall) -> Self {
        let engine = call.token().engine();
        match e {
            EngineError::TaskClosed(_) => Self::Closed,
            EngineError::InvalidOutput => Self::OutputRefused(engine),
            EngineError::Unavailable(_) => Self::Unavailable(Unavailable::Engine(engine)),
            EngineError::NoCredentials => Self::Unavailable(Unavailable::NoCredentials(engine)),
            EngineError::Unconfirmed(_) => {
                Self::Unavailable(Unavailable::EngineUnconfirmed(Some(engine)))
            }
            EngineError::Refused(code) => Self::Refused(Refused::Engine {
                engine,
                operation: call.operation(),
                code,
            }),
        }
    }
}

impl From<NotifyError> for AppError {
    fn from(e: NotifyError) -> Self {
        match e {
            NotifyError::Unavailable { service, .. } => {
                Self::Unavailable(Unavailable::Notify(service))
            }
            NotifyError::Refused { service, code } => Self::NotifyFailed { service, code },
        }
    }
}

/// KMS failing while sealing new links.
impl From<KmsError> for AppError {
    fn from(e: KmsError) -> Self {
        match e {
            KmsError::Unavailable(_) => Self::Unavailable(Unavailable::KeyServiceSealing),
            KmsError::InvalidCiphertext | KmsError::Refused(_) => {
                Self::Refused(Refused::KeyService)
            }
            KmsError::UnusableDataKey(e) => Self::Refused(Refused::UnusableDataKey(e)),
        }
    }
}

impl From<UnsealError> for AppError {
    fn from(e: UnsealError) -> Self {
        match e {
            UnsealError::Payload(reason) => Self::BadLink(reason),
            UnsealError::KmsUnavailable => Self::Unavailable(Unavailable::KeyServiceOpening),
            UnsealError::KmsRefused => Self::Refused(Refused::KeyService),
        }
    }
}
