//! AWS adapters: Step Functions, Lambda's durable execution callbacks, KMS,
//! SES and SNS through the AWS SDK.
//!
//! This is the only module that names `aws_sdk_*`. Retries (standard mode:
//! exponential backoff with jitter, throttling and 5xx retried) and the
//! per-call deadline are SDK configuration, set in [`load_sdk_config`].
//!
//! Calls that must not happen twice (SendTask*,
//! SendDurableExecutionCallback*, GetActivityTask, SES, SNS)
//! are retried only when the service answered that it did not act, or the
//! connection was refused before anything was sent (see
//! [`retry::RetryUnsentOnly`]). A call that may have arrived without an
//! answer is not sent again; the caller hears that the outcome is
//! unconfirmed.

mod activities;
mod durable;
mod engines;
mod kms;
mod notify;
pub mod retry;
mod sfn;

use std::time::Duration;

use aws_config::BehaviorVersion;
pub use aws_config::SdkConfig;
use aws_config::environment::EnvironmentVariableRegionProvider;
use aws_config::meta::region::RegionProviderChain;
use aws_config::profile::ProfileFileRegionProvider;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;

pub use activities::{ACTIVITY_POLL_DEADLINE, SdkActivities};
pub use durable::{SdkDurableCallbacks, send_once as send_once_lambda};
pub use engines::SdkEngines;
pub use kms::SdkKms;
pub use notify::SdkNotifier;
pub use retry::RetryUnsentOnly;
pub use sfn::SdkStepFunctions;

/// The connect timeout of every AWS client.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

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

/// The region the SDK configuration names, else `us-east-1`.
pub fn region_of(sdk: &SdkConfig) -> String {
    sdk.region()
        .map_or_else(|| "us-east-1".to_owned(), ToString::to_string)
}

/// The log directive that keeps the SDK's credential provider chain to
/// its errors, unless the operator's `RUST_LOG` names the SDK's config
/// crate. Without credentials the chain warns, with about 1 KB of debug
/// text, at start and on every click; `serve` says it once in a line of
/// its own (`startup::warn_without_credentials`).
pub fn quiet_credential_chain(rust_log: &str) -> Option<&'static str> {
    (!rust_log.contains("aws_config")).then_some("aws_config::meta::credentials::chain=error")
}

/// Whether the default credential chain finds credentials (within
/// `within`). Links can be made without them; answering needs them.
pub async fn has_credentials(sdk: &SdkConfig, within: Duration) -> bool {
    use aws_credential_types::provider::ProvideCredentials as _;
    let Some(provider) = sdk.credentials_provider() else {
        return false;
    };
    matches!(
        tokio::time::timeout(within, provider.provide_credentials()).await,
        Ok(Ok(_))
    )
}
