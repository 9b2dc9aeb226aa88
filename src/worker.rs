//! The activity worker (`sfn-callbacks activity-worker`): long-polls a Step
//! Functions activity and, for each task, makes the links and sends the
//! notification exactly as CreateUrls does, with the task's own token.
//!
//! The task's input is a CreateUrls request without `token`:
//! `{"actions": [...], "notify": {...}, "expiration": ...}`. The worker
//! never drops a task silently: input it cannot use fails the task with
//! the error CreateUrls would have given (`SendTaskFailure`), and a
//! notification service that stays unavailable fails it with
//! `ServiceError` after a few tries. Poll errors back off (jittered,
//! up to [`MAX_BACKOFF`]) and polling goes on; a refused poll (no such
//! activity, no permission) stops the worker with the reason.
//!
//! On a shutdown signal the worker finishes the poll in flight and the
//! task it may bring (Step Functions may already have handed it out), then
//! stops; it never abandons a poll midway.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;
use serde_json::Value;
use tokio::sync::watch;

use crate::app::{App, AppError, measure};
use crate::core::ErrorCode;
use crate::core::callback::SendTask;
use crate::core::create::CreateRequest;
use crate::core::error::Rejection;
use crate::core::token::Token;
use crate::ports::{Activities, ActivityTask, EngineError};
use crate::system::random_bytes;

/// The longest wait between failed polls.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Tries at making a task's links while a service is unavailable.
const MAKE_ATTEMPTS: u32 = 5;

/// Where the worker polls.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// The activity.
    pub activity_arn: String,
    /// The name Step Functions records for this worker.
    pub worker_name: String,
    /// The first wait after a failure; it doubles up to [`MAX_BACKOFF`].
    pub first_backoff: Duration,
}

/// A wait of about `first * 2^(failures-1)`, at most [`MAX_BACKOFF`], with
/// full jitter so that many workers do not poll in step.
fn backoff(first: Duration, failures: u32) -> Duration {
    let ceiling = first
        .saturating_mul(1 << failures.saturating_sub(1).min(16))
        .min(MAX_BACKOFF);
    let fraction = f64::from(u16::from_ne_bytes(random_bytes())) / f64::from(u16::MAX);
    ceiling.mul_f64(0.5 + fraction / 2.0)
}

/// Polls until `shutdown` completes (then finishes the poll in flight) or
/// Step Functions refuses the poll.
pub async fn run(
    app: App,
    activities: Arc<dyn Activities>,
    config: WorkerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (stop, stopped) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutdown requested; finishing the poll in flight");
        let _ = stop.send(true);
    });
    let mut failures = 0u32;
    tracing::info!(
        activity = config.activity_arn,
        worker = config.worker_name,
        "polling"
    );
    while !*stopped.borrow() {
        match activities
            .next_task(&config.activity_arn, &config.worker_name)
            .await
        {
            Ok(Some(task)) => {
                failures = 0;
                handle(&app, task).await;
            }
            Ok(None) => failures = 0,
            Err(EngineError::Refused(code)) => bail!(
                "Step Functions refused to give this worker tasks ({code}): check the activity ARN and the states:GetActivityTask permission"
            ),
            Err(e) => {
                failures += 1;
                let wait = backoff(config.first_backoff, failures);
                tracing::warn!(error = %e, failures, wait_ms = wait.as_millis() as u64, "poll failed; backing off");
                let mut stopped = stopped.clone();
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    _ = stopped.wait_for(|s| *s) => {}
                }
            }
        }
    }
    tracing::info!("stopped");
    Ok(())
}

/// Makes one task's links and sends its notification, or fails the task.
async fn handle(app: &App, task: ActivityTask) {
    let request = match request_of(app, &task) {
        Ok(request) => request,
        Err(refused) => {
            // `App::create` counts the requests it sees; this one never
            // reached it.
            measure::create_request(app.keys.mode_name(), Err(&refused));
            return fail(app, &task, &refused).await;
        }
    };
    for attempt in 1..=MAKE_ATTEMPTS {
        let now = app.clock.now();
        match app.create(&request, now, None).await {
            Ok(output) => {
                tracing::info!(
                    target: "sfn_callbacks::request",
                    transaction_id = output.transaction_id,
                    notified = output.notified.as_ref().map(|n| n.channel.as_str()),
                    result = "created",
                    "activity task"
                );
                return;
            }
            Err(e @ AppError::Unavailable(_)) if attempt < MAKE_ATTEMPTS => {
                let wait = backoff(Duration::from_secs(1), attempt);
                tracing::warn!(
                    error = e.code().as_str(),
                    attempt,
                    "a service is unavailable; trying the task again"
                );
                tokio::time::sleep(wait).await;
            }
            Err(e) => return fail(app, &task, &e).await,
        }
    }
}

/// The CreateUrls request a task's input makes, with the task's token.
fn request_of(app: &App, task: &ActivityTask) -> Result<CreateRequest, AppError> {
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
        app.settings.features,
        app.clock.now(),
    )?)
}

/// Fails the task with the error CreateUrls would have answered, so the
/// execution sees why instead of waiting for a mail that never comes.
async fn fail(app: &App, task: &ActivityTask, error: &AppError) {
    tracing::warn!(error = error.code().as_str(), "activity task failed");
    let command = SendTask::Failure {
        token: Token::Task(task.token.clone()),
        error: Some(error.code().as_str().to_owned()),
        cause: Some(error.message()),
    };
    for attempt in 1..=MAKE_ATTEMPTS {
        match app.send(&command).await {
            Ok(()) => return,
            Err(EngineError::Unavailable(_)) if attempt < MAKE_ATTEMPTS => {
                tokio::time::sleep(backoff(Duration::from_secs(1), attempt)).await;
            }
            Err(e) => {
                tracing::error!(error = %e, "could not fail the activity task; it ends at its own timeout");
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_the_cap_with_jitter() {
        let first = Duration::from_millis(100);
        for failures in 1..40 {
            let wait = backoff(first, failures);
            let ceiling = (first * 2u32.pow((failures - 1).min(16))).min(MAX_BACKOFF);
            assert!(
                wait <= ceiling && wait >= ceiling / 2,
                "{failures}: {wait:?}"
            );
        }
        assert!(backoff(first, 30) >= MAX_BACKOFF / 2);
    }
}
