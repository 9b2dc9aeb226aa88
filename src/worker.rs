//! The activity worker (`sfn-callbacks activity-worker`): long-polls a Step
//! Functions activity and hands each task to the application
//! ([`App::activity_task`]: the links made and the notification sent
//! exactly as CreateUrls does, with the task's own token, or the task
//! failed with the reason), then logs how it ended. Poll errors back off
//! (jittered, up to [`MAX_BACKOFF`]) and polling goes on; a refused poll
//! (no such activity, no permission) stops the worker with the reason.
//!
//! On a shutdown signal the worker finishes the poll in flight and the
//! task it may bring (Step Functions may already have handed it out), then
//! stops; it never abandons a poll midway.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;
use tokio::sync::watch;

use crate::app::App;
use crate::app::activity::{TaskEnd, backoff};
use crate::ports::{Activities, ActivityTask, EngineError};
use crate::system::random_bytes;

pub use crate::app::activity::MAX_BACKOFF;

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
                let wait = backoff(
                    config.first_backoff,
                    failures,
                    u16::from_ne_bytes(random_bytes()),
                );
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

/// Hands one task to the application and logs how it ended.
async fn handle(app: &App, task: ActivityTask) {
    match app.activity_task(&task).await {
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
