//! An activity task (the activity worker's): its input is a CreateUrls
//! request without `token` (`{"actions": [...], "notify": {...},
//! "expiration": ...}`), and its links answer the task itself. A task is
//! never dropped silently: input that cannot be used fails the task with
//! the error CreateUrls would have given (`SendTaskFailure`), and a
//! notification service that stays unavailable fails it with
//! `ServiceError` after a few tries.

use std::time::Duration;

use serde_json::Value;
use sfn_callbacks_core::ErrorCode;
use sfn_callbacks_core::callback::EngineCall;
use sfn_callbacks_core::create::CreateRequest;
use sfn_callbacks_core::error::Rejection;
use sfn_callbacks_core::token::Token;

use tokio::sync::watch;

use crate::ports::{Activities, ActivityTask, EngineError};
use crate::{App, AppError, measure};

/// The longest wait between tries, of a task or of a poll.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Tries at making a task's links while a service is unavailable, and at
/// failing it while Step Functions is.
const ATTEMPTS: u32 = 5;

/// The activity a worker takes tasks from.
#[derive(Debug, Clone)]
pub struct Activity {
    /// The activity's ARN.
    pub arn: String,
    /// The name Step Functions records for this worker.
    pub worker_name: String,
    /// The first wait after a failed poll; it doubles up to
    /// [`MAX_BACKOFF`].
    pub first_backoff: Duration,
}

/// How an activity task ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskEnd {
    /// The links were made and the notification sent.
    Created {
        /// The CreateUrls transaction.
        transaction_id: String,
        /// The channel notified, if any.
        notified: Option<String>,
    },
    /// The task was failed with this error name, so the execution sees why.
    Failed(ErrorCode),
    /// The task could not be failed either; it ends at its own timeout.
    Abandoned {
        /// The error the task would have been failed with.
        code: ErrorCode,
        /// Why failing it did not work (the engine's error, no token).
        reason: String,
    },
}

/// A wait of about `first * 2^(failures-1)`, at most [`MAX_BACKOFF`], with
/// full jitter (`random`, any 16 bits) so that many workers do not try in
/// step.
pub fn backoff(first: Duration, failures: u32, random: u16) -> Duration {
    let ceiling = first
        .saturating_mul(1 << failures.saturating_sub(1).min(16))
        .min(MAX_BACKOFF);
    let fraction = f64::from(random) / f64::from(u16::MAX);
    ceiling.mul_f64(0.5 + fraction / 2.0)
}

impl App {
    /// Works `activity`: takes its tasks one at a time and answers each
    /// ([`App::activity_task`]) until `stop` turns true (the poll in flight,
    /// and the task it may bring, are finished first: Step Functions may
    /// already have handed it out). Failed polls back off (jittered, up to
    /// [`MAX_BACKOFF`]) and polling goes on; a refused poll (no such
    /// activity, no permission) ends it with Step Functions' error code.
    pub async fn work_activity(
        &self,
        activities: &dyn Activities,
        activity: &Activity,
        mut stop: watch::Receiver<bool>,
    ) -> Result<(), String> {
        let mut failures = 0u32;
        while !*stop.borrow() {
            match activities
                .next_task(&activity.arn, &activity.worker_name)
                .await
            {
                Ok(Some(task)) => {
                    failures = 0;
                    log_end(&self.activity_task(&task).await);
                }
                Ok(None) => failures = 0,
                Err(EngineError::Refused(code)) => return Err(code),
                Err(e) => {
                    failures += 1;
                    let wait = backoff(
                        activity.first_backoff,
                        failures,
                        u16::from_ne_bytes(self.random()),
                    );
                    tracing::warn!(error = %e, failures, wait_ms = wait.as_millis() as u64, "poll failed; backing off");
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        _ = stop.wait_for(|s| *s) => {}
                    }
                }
            }
        }
        Ok(())
    }

    /// Makes one activity task's links and sends its notification, trying
    /// again while a service is unavailable; otherwise fails the task with
    /// the error CreateUrls would have answered.
    pub async fn activity_task(&self, task: &ActivityTask) -> TaskEnd {
        let request = match self.activity_request(task) {
            Ok(request) => request,
            Err(refused) => {
                // `create` counts the requests it sees; this one never
                // reached it.
                measure::create_request(self.ports.keys.mode_name(), Err(&refused));
                return self.fail_task(task, &refused).await;
            }
        };
        let mut attempt = 1;
        loop {
            let now = self.ports.clock.now();
            match self.create(&request, now, None).await {
                Ok(output) => {
                    return TaskEnd::Created {
                        transaction_id: output.transaction_id,
                        notified: output.notified.map(|n| n.channel),
                    };
                }
                Err(e @ AppError::Unavailable(_)) if attempt < ATTEMPTS => {
                    tracing::warn!(
                        error = e.code().as_str(),
                        attempt,
                        "a service is unavailable; trying the task again"
                    );
                    tokio::time::sleep(self.backoff(attempt)).await;
                    attempt += 1;
                }
                Err(e) => return self.fail_task(task, &e).await,
            }
        }
    }

    /// The CreateUrls request a task's input makes, with the task's token.
    fn activity_request(&self, task: &ActivityTask) -> Result<CreateRequest, AppError> {
        let Ok(Value::Object(mut input)) = serde_json::from_str::<Value>(&task.input) else {
            return Err(AppError::from(Rejection::new(
                ErrorCode::InvalidJson,
                "the activity task's input must be a JSON object: a CreateUrls request without token",
            )));
        };
        if input.contains_key("token") {
            return Err(AppError::from(Rejection::new(
                ErrorCode::InvalidJson,
                "the activity task's input must not hold a token: the worker uses the task's own",
            )));
        }
        if input.contains_key("callback_id") {
            return Err(AppError::from(Rejection::new(
                ErrorCode::InvalidJson,
                "the activity task's input must not hold a callback_id: the worker's links answer the activity task itself",
            )));
        }
        input.insert(
            "token".to_owned(),
            Value::String(task.token.expose().to_owned()),
        );
        Ok(CreateRequest::from_value(
            Value::Object(input),
            self.settings.features,
            self.ports.clock.now(),
        )?)
    }

    /// Fails the task with `error`, trying again while Step Functions is
    /// unavailable.
    async fn fail_task(&self, task: &ActivityTask, error: &AppError) -> TaskEnd {
        let code = error.code();
        let command = EngineCall::Failure {
            token: Token::Task(task.token.clone()),
            error: Some(code.as_str().to_owned()),
            cause: Some(error.message()),
        };
        let mut attempt = 1;
        loop {
            match self.send(&command).await {
                Ok(()) => return TaskEnd::Failed(code),
                Err(EngineError::Unavailable(_)) if attempt < ATTEMPTS => {
                    tokio::time::sleep(self.backoff(attempt)).await;
                    attempt += 1;
                }
                Err(e) => {
                    return TaskEnd::Abandoned {
                        code,
                        reason: e.to_string(),
                    };
                }
            }
        }
    }

    /// The wait before try `attempt + 1`, from one second up.
    fn backoff(&self, attempt: u32) -> Duration {
        backoff(
            Duration::from_secs(1),
            attempt,
            u16::from_ne_bytes(self.random()),
        )
    }
}

/// The log line of how a task ended: the request log's, for a task made.
fn log_end(end: &TaskEnd) {
    match end {
        TaskEnd::Created {
            transaction_id,
            notified,
        } => tracing::info!(
            target: "sfn_callbacks::request",
            transaction_id,
            notified,
            result = "created",
            "activity task"
        ),
        TaskEnd::Failed(code) => tracing::warn!(error = code.as_str(), "activity task failed"),
        TaskEnd::Abandoned { code, reason } => tracing::error!(
            error = code.as_str(),
            reason,
            "activity task failed, and could not be failed; it ends at its own timeout"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_the_cap_with_jitter() {
        let first = Duration::from_millis(100);
        for failures in 1..40 {
            for random in [0, 1, u16::MAX / 2, u16::MAX] {
                let wait = backoff(first, failures, random);
                let ceiling = (first * 2u32.pow((failures - 1).min(16))).min(MAX_BACKOFF);
                assert!(
                    wait <= ceiling && wait >= ceiling / 2,
                    "{failures}: {wait:?}"
                );
            }
        }
        assert_eq!(backoff(first, 30, u16::MAX), MAX_BACKOFF);
        assert_eq!(backoff(first, 30, 0), MAX_BACKOFF / 2);
    }
}
