//! The ports: what the application needs from the outside world, as traits.
//!
//! The real implementations live at the edge, in the binary (`aws` for the
//! AWS services, `keys` for the key sources, `oidc` for the OpenID
//! Provider, `system` for the clock and randomness); tests
//! use fakes.

use async_trait::async_trait;
use time::OffsetDateTime;

use sfn_callbacks_core::approvers::Identity;
use sfn_callbacks_core::keyring::SecretKey;
use sfn_callbacks_core::payload::{Opened, PayloadError, Purpose, SealingKey, WrappedKeyLength};
use sfn_callbacks_core::token::{TaskToken, Token};
use sfn_callbacks_presentation::notify::{Notification, Sent};

/// How a call to the workflow engine can fail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// The task is already closed: answered, timed out, or unknown
    /// (`TaskTimedOut`, `InvalidToken`, `TaskDoesNotExist`; for a durable
    /// callback `CallbackTimeoutException`, `ResourceNotFoundException`).
    #[error("the task is closed ({0})")]
    TaskClosed(String),
    /// The engine refused the output (`InvalidOutput`; Lambda's
    /// `InvalidParameterValueException`). Its message is dropped: it may
    /// quote the output, which the caller may not see.
    #[error("the engine refused the output")]
    InvalidOutput,
    /// Throttling, 5xx or refused connections that outlasted the retries:
    /// the call was not applied, and the link stays valid.
    #[error("the engine is unavailable: {0}")]
    Unavailable(String),
    /// No AWS credentials could be found, so nothing was sent.
    #[error("no AWS credentials could be found; nothing was sent")]
    NoCredentials,
    /// The call may have reached the engine, but no answer came back (no
    /// answer before the deadline, a reset connection). It is not sent
    /// again; the link stays valid, and using it again tells whether the
    /// first call was applied.
    #[error("the engine did not confirm the call: {0}")]
    Unconfirmed(String),
    /// Anything else the engine refused (permissions, KMS state): a
    /// deployment problem, not the caller's. Holds the error code only.
    #[error("the engine refused the call: {0}")]
    Refused(String),
}

/// The workflow engines whose paused tasks the links answer: Step
/// Functions' task-token API for a [`Token::Task`], Lambda's durable
/// execution callback API for a [`Token::Callback`]. Each method is one
/// call to the engine the token names, never repeated once it may have
/// arrived.
#[async_trait]
pub trait Engine: Send + Sync {
    /// Completes the task with `output` (JSON text).
    async fn succeed(&self, token: &Token, output: &str) -> Result<(), EngineError>;
    /// Fails the task.
    async fn fail(
        &self,
        token: &Token,
        error: Option<&str>,
        cause: Option<&str>,
    ) -> Result<(), EngineError>;
    /// Tells the engine the task is still being worked on.
    async fn heartbeat(&self, token: &Token) -> Result<(), EngineError>;
}

/// A task an activity worker took from Step Functions.
#[derive(Debug, Clone)]
pub struct ActivityTask {
    /// The task's token.
    pub token: TaskToken,
    /// The task's input, as Step Functions gave it.
    pub input: String,
}

/// Step Functions' activity API.
#[async_trait]
pub trait Activities: Send + Sync {
    /// Long-polls for the next task (`None` when the poll ends empty).
    async fn next_task(
        &self,
        activity_arn: &str,
        worker_name: &str,
    ) -> Result<Option<ActivityTask>, EngineError>;
}

/// How sending a notification can fail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    /// Throttling, 5xx, timeouts or connection failures.
    #[error("{service} is unavailable: {reason}")]
    Unavailable {
        /// `SES`, `SNS`, `Slack` or `Teams`.
        service: &'static str,
        /// What happened, without the service's message.
        reason: String,
    },
    /// The service refused the message (an unverified sender, a missing
    /// permission, a topic that does not exist). Holds the error code.
    #[error("{service} refused the message ({code})")]
    Refused {
        /// `SES`, `SNS`, `Slack` or `Teams`.
        service: &'static str,
        /// The service's error code (Slack's `error`, Teams' HTTP status).
        code: String,
    },
}

/// Sends the notification CreateUrls was asked for.
#[async_trait]
pub trait Notifier: Send + Sync {
    /// Sends one email, SNS message, Slack message or Teams card; what the
    /// service said of it.
    async fn send(&self, notification: &Notification) -> Result<Sent, NotifyError>;
}

/// How a KMS call can fail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KmsError {
    /// Throttling, 5xx, timeouts or connection failures.
    #[error("KMS is unavailable: {0}")]
    Unavailable(String),
    /// The ciphertext is not one this key made with this context: forged,
    /// altered, or made for another key or purpose.
    #[error("KMS did not accept the ciphertext")]
    InvalidCiphertext,
    /// KMS refused for a deployment reason (access denied, key disabled or
    /// missing). Holds the error code.
    #[error("KMS refused the request: {0}")]
    Refused(String),
    /// KMS made a data key whose wrapped form no link can carry.
    #[error(transparent)]
    UnusableDataKey(#[from] WrappedKeyLength),
}

/// An encryption context: KMS binds every ciphertext to it, so a blob made
/// for one purpose never decrypts for another.
pub type KmsContext = &'static [(&'static str, &'static str)];

/// The KMS operations the key sources use.
#[async_trait]
pub trait Kms: Send + Sync {
    /// Encrypts a small secret (a keyring) under a KMS key.
    async fn encrypt(
        &self,
        key_id: &str,
        plaintext: &[u8],
        context: KmsContext,
    ) -> Result<Vec<u8>, KmsError>;
    /// Decrypts a ciphertext blob made by [`Kms::encrypt`] or
    /// [`Kms::generate_data_key`] with the same context, under `key_id` when
    /// given (so a blob made under any other key is refused).
    async fn decrypt(
        &self,
        key_id: Option<&str>,
        blob: &[u8],
        context: KmsContext,
    ) -> Result<zeroize::Zeroizing<Vec<u8>>, KmsError>;
    /// A fresh 256-bit data key and its wrapped form.
    async fn generate_data_key(
        &self,
        key_id: &str,
        context: KmsContext,
    ) -> Result<(SecretKey, Vec<u8>), KmsError>;
}

/// Why a sealed payload did not open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnsealError {
    /// The payload itself is at fault (client error).
    Payload(PayloadError),
    /// KMS could not unwrap the data key right now (try again later).
    KmsUnavailable,
    /// KMS refused for a deployment reason (access, key state).
    KmsRefused,
}

/// The keys links are sealed with and opened by, whichever the key mode.
#[async_trait]
pub trait Keys: Send + Sync {
    /// The key mode's name, for logs.
    fn mode_name(&self) -> &'static str;
    /// The key for the next CreateUrls call.
    async fn sealing_key(&self) -> Result<SealingKey, KmsError>;
    /// Authenticates and opens a link's `data` value (an action's link or
    /// a review link).
    async fn open(&self, data: &str) -> Result<Opened, UnsealError>;
    /// The key sessions and sign-in states are sealed with: always an
    /// encryption key, also in the `signed` mode (they carry the PKCE
    /// verifier and the person's details).
    async fn private_key(&self) -> Result<SealingKey, KmsError>;
    /// Authenticates and opens a session or sign-in state sealed for
    /// `purpose`, returning its plaintext.
    async fn open_private(&self, purpose: Purpose, sealed: &str) -> Result<Vec<u8>, UnsealError>;
}

/// One sign-in's request to the provider.
#[derive(Debug, Clone, Copy)]
pub struct AuthRequest<'a> {
    /// The OAuth `state`.
    pub state: &'a str,
    /// The nonce the ID token must carry.
    pub nonce: &'a str,
    /// The PKCE code verifier (the provider sees only its S256 challenge).
    pub verifier: &'a str,
    /// Where the provider sends the person back (`{base}/auth/callback`).
    pub redirect_uri: &'a str,
}

/// How the OpenID Provider can fail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdpError {
    /// Discovery, the JWKS or the token endpoint could not be reached or
    /// answered 5xx: try again later.
    #[error("the OpenID Provider is unavailable: {0}")]
    Unavailable(String),
    /// The provider refused (a used or unknown code), or a token did not
    /// verify. Holds the reason for the operator's log: never a token.
    #[error("{0}")]
    Rejected(String),
}

/// The OpenID Provider: sign-in and token verification.
#[async_trait]
pub trait IdentityProvider: Send + Sync {
    /// The provider's issuer, as configured.
    fn issuer(&self) -> &str;
    /// Where to send the person to sign in.
    async fn authorize_url(&self, request: AuthRequest<'_>) -> Result<String, IdpError>;
    /// Redeems an authorization code and verifies the ID token it brings
    /// (signature, `iss`, `aud`, `exp`, `nonce`, algorithm).
    async fn redeem(
        &self,
        code: &str,
        verifier: &str,
        nonce: &str,
        redirect_uri: &str,
    ) -> Result<Identity, IdpError>;
    /// Verifies a JWT a program presents as `Authorization: Bearer`: an ID
    /// token of this provider for this client, verified the same way (no
    /// nonce: the program did not sign in through us).
    async fn verify_bearer(&self, token: &str) -> Result<Identity, IdpError>;
}

/// The time of day, read only at the edge.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> OffsetDateTime;
}

/// Fresh random bytes: nonces and transaction ids.
pub trait Entropy: Send + Sync {
    /// Fills `out` from a cryptographically secure generator.
    fn fill(&self, out: &mut [u8]);
}

/// What Slack says of a user (`users.info`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SlackProfile {
    /// Their profile email (Slack confirms it; needs `users:read.email`).
    pub email: Option<String>,
    /// Their real or display name.
    pub name: Option<String>,
    /// Whether they are a person: not deleted, not a bot.
    pub is_person: bool,
}

/// How a call to Slack can fail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlackError {
    /// No answer in time, rate limited, or a 5xx.
    #[error("Slack is unavailable: {0}")]
    Unavailable(String),
    /// Slack refused (its `error`, such as `user_not_found` or
    /// `expired_trigger_id`).
    #[error("Slack refused the call: {0}")]
    Refused(String),
}

/// What a press in Slack needs from Slack itself.
#[async_trait]
pub trait SlackApi: Send + Sync {
    /// Who a user is: their profile email and name (cached for a bounded
    /// time).
    async fn profile(&self, user: &str) -> Result<SlackProfile, SlackError>;
    /// Opens a modal for the press whose `trigger_id` is given.
    async fn open_view(&self, trigger_id: &str, view: &serde_json::Value)
    -> Result<(), SlackError>;
    /// Answers a press through its `response_url`: replaces the message,
    /// or tells the person alone.
    async fn reply(
        &self,
        response_url: &str,
        message: &serde_json::Value,
    ) -> Result<(), SlackError>;
}
