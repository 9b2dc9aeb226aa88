//! The error vocabulary shared with sfn-callback-urls v1.1.
//!
//! Core functions fail with a [`Rejection`]: an [`ErrorCode`] from the old
//! contract plus a message that names the problem. Only the HTTP layer turns
//! codes into status codes.

use std::fmt;

/// Error names, spelled as sfn-callback-urls spelled them, so existing
/// callers that branch on `error` keep working.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The request body is not JSON, or not of the expected shape.
    InvalidJson,
    /// An expiration that cannot be parsed, has no offset, or is past.
    InvalidDate,
    /// Two actions with one name.
    DuplicateActionName,
    /// An action whose fields do not fit its type.
    InvalidAction,
    /// POST actions are not enabled in this deployment.
    PostActionsDisabled,
    /// A POST action outcome that is not valid (schema, output choice).
    InvalidPostActionOutcome,
    /// A JSONPath that does not parse.
    InvalidJsonPath,
    /// A POST callback body that no outcome accepts.
    InvalidPostActionBody,
    /// The `data` of a callback is missing, malformed, forged or altered.
    InvalidPayload,
    /// A payload in the old unencrypted format.
    EncryptionRequired,
    /// A payload this deployment cannot open (old KMS format, or KMS
    /// envelope payloads without KMS configured).
    DecryptionUnsupported,
    /// The link's expiration has passed.
    ExpiredPayload,
    /// The query's `action` or `type` differs from the sealed action.
    ActionMismatched,
    /// An output parameter placeholder without a query parameter.
    OutputFormatting,
    /// Output parameters were used but the deployment disabled them.
    ParametersDisabled,
    /// A comment the action does not take, or that breaks its rule.
    InvalidComment,
    /// Form values that do not fit the action's form.
    InvalidForm,
    /// An output, error or cause over the Step Functions limits.
    InvalidOutput,
    /// Step Functions refused the call (task closed, bad output).
    StepFunctionsError,
    /// The request was refused before reaching the service: method, media
    /// type, size or credentials.
    InvalidRequest,
    /// Missing or wrong API key on CreateUrls.
    Unauthorized,
    /// The client made more requests than the deployment's rate limit.
    TooManyRequests,
    /// A CreateUrls `notify` that is malformed or whose templates fail.
    InvalidNotify,
    /// A `notify` sender, recipient domain or topic the deployment does not
    /// allow, or a channel it has not enabled.
    NotifyNotAllowed,
    /// SES or SNS refused the notification; no links were returned.
    NotifyFailed,
    /// A CreateUrls `approvers` or `requester` that is malformed.
    InvalidApprovers,
    /// Approvers asked of a deployment that has no OpenID Provider, or a
    /// bound link reaching one.
    SignInNotConfigured,
    /// A bound link acted on without a signed-in person.
    SignInRequired,
    /// The signed-in person may not act on this link (not listed, or the
    /// requester).
    NotAnApprover,
    /// Sign-in did not finish: a bad callback, or the provider refused.
    SignInFailed,
    /// A dependency (Step Functions, KMS) is unavailable; try again.
    ServiceError,
}

impl ErrorCode {
    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidJson => "InvalidJSON",
            Self::InvalidDate => "InvalidDate",
            Self::DuplicateActionName => "DuplicateActionName",
            Self::InvalidAction => "InvalidAction",
            Self::PostActionsDisabled => "PostActionsDisabled",
            Self::InvalidPostActionOutcome => "InvalidPostActionOutcome",
            Self::InvalidJsonPath => "InvalidJsonPath",
            Self::InvalidPostActionBody => "InvalidPostActionBody",
            Self::InvalidPayload => "InvalidPayload",
            Self::EncryptionRequired => "EncryptionRequired",
            Self::DecryptionUnsupported => "DecryptionUnsupported",
            Self::ExpiredPayload => "ExpiredPayload",
            Self::ActionMismatched => "ActionMismatched",
            Self::OutputFormatting => "OutputFormatting",
            Self::ParametersDisabled => "ParametersDisabled",
            Self::InvalidComment => "InvalidComment",
            Self::InvalidForm => "InvalidForm",
            Self::InvalidOutput => "InvalidOutput",
            Self::StepFunctionsError => "StepFunctionsError",
            Self::InvalidRequest => "InvalidRequest",
            Self::Unauthorized => "Unauthorized",
            Self::TooManyRequests => "TooManyRequests",
            Self::InvalidNotify => "InvalidNotify",
            Self::NotifyNotAllowed => "NotifyNotAllowed",
            Self::NotifyFailed => "NotifyFailed",
            Self::InvalidApprovers => "InvalidApprovers",
            Self::SignInNotConfigured => "SignInNotConfigured",
            Self::SignInRequired => "SignInRequired",
            Self::NotAnApprover => "NotAnApprover",
            Self::SignInFailed => "SignInFailed",
            Self::ServiceError => "ServiceError",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refusal with a message fit to show the client.
///
/// Messages never contain a task token, a sealed payload or a callback URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Rejection {
    /// The error name.
    pub code: ErrorCode,
    /// What went wrong, in words that help the caller fix it.
    pub message: String,
}

impl Rejection {
    /// A rejection with the given code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}
