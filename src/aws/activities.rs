//! Step Functions' activity API (the [`Activities`] port).

use std::time::Duration;

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_sfn::error::{ProvideErrorMetadata, SdkError};

use super::retry::is_retryable_code;
use super::sfn::send_once_sfn_client;
use crate::core::token::TaskToken;
use crate::ports::{Activities, ActivityTask, EngineError};

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
    ) -> Result<Option<ActivityTask>, EngineError> {
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
                        EngineError::Unavailable(code.unwrap_or_default().to_owned())
                    } else {
                        EngineError::Refused(code.unwrap_or("an error without a code").to_owned())
                    }
                }
                SdkError::TimeoutError(_) => {
                    EngineError::Unconfirmed("no answer in time".to_owned())
                }
                _ => EngineError::Unavailable("the request failed".to_owned()),
            })?;
        let token = out.task_token.filter(|t| !t.is_empty());
        match token {
            None => Ok(None),
            Some(token) => Ok(Some(ActivityTask {
                token: TaskToken::parse(token).map_err(|e| {
                    EngineError::Refused(format!("a task token we cannot use: {e}"))
                })?,
                input: out.input.unwrap_or_default(),
            })),
        }
    }
}
