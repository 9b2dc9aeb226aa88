//! The ports: what the service needs from the outside world, as traits.
//!
//! Real implementations live in [`crate::aws`] (and the system clock here);
//! tests use fakes.

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::core::callback::SendTask;
use crate::core::keyring::SecretKey;
use crate::core::notify::Notification;
use crate::core::token::TaskToken;

/// How a Step Functions call can fail, in the words the HTTP layer needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SfnError {
    /// The task is already closed: answered, timed out, or unknown
    /// (`TaskTimedOut`, `InvalidToken`, `TaskDoesNotExist`).
    #[error("the task is closed ({0})")]
    TaskClosed(String),
    /// Step Functions refused the output (`InvalidOutput`). AWS's message
    /// is dropped: it may quote the output, which the caller may not see.
    #[error("Step Functions refused the output")]
    InvalidOutput,
    /// Throttling, 5xx or refused connections that outlasted the retries:
    /// the call was not applied, and the link stays valid.
    #[error("Step Functions is unavailable: {0}")]
    Unavailable(String),
    /// The call may have reached Step Functions, but no answer came back
    /// (no answer before the deadline, a reset connection). It is not sent
    /// again; the link stays valid, and using it again tells whether the
    /// first call was applied.
    #[error("Step Functions did not confirm the call: {0}")]
    Unconfirmed(String),
    /// Anything else Step Functions refused (permissions, KMS state): a
    /// deployment problem, not the caller's. Holds the error code only.
    #[error("Step Functions refused the call: {0}")]
    Refused(String),
}

/// Step Functions' task-token API.
#[async_trait]
pub trait StepFunctions: Send + Sync {
    /// Makes one SendTaskSuccess, SendTaskFailure or SendTaskHeartbeat call.
    async fn send(&self, command: &SendTask) -> Result<(), SfnError>;
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
    ) -> Result<Option<ActivityTask>, SfnError>;
}

/// How sending a notification can fail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    /// Throttling, 5xx, timeouts or connection failures.
    #[error("{service} is unavailable: {reason}")]
    Unavailable {
        /// `SES` or `SNS`.
        service: &'static str,
        /// What happened, without AWS's message.
        reason: String,
    },
    /// The service refused the message (an unverified sender, a missing
    /// permission, a topic that does not exist). Holds the error code.
    #[error("{service} refused the message ({code})")]
    Refused {
        /// `SES` or `SNS`.
        service: &'static str,
        /// The AWS error code.
        code: String,
    },
}

/// Sends the notification CreateUrls was asked for.
#[async_trait]
pub trait Notifier: Send + Sync {
    /// Sends one email or SNS message; its message id.
    async fn send(&self, notification: &Notification) -> Result<String, NotifyError>;
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
    UnusableDataKey(#[from] crate::core::payload::WrappedKeyLength),
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

/// Fresh random bytes from the thread's CSPRNG (ChaCha, seeded and
/// reseeded from the operating system): nonces, key material, ids.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    use rand::Rng as _;
    let mut out = [0u8; N];
    rand::rng().fill_bytes(&mut out);
    out
}

/// The time of day, read only at the edge.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> OffsetDateTime;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}
