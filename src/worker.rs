//! The activity worker (`sfn-callbacks activity-worker`): hands a Step
//! Functions activity to the application ([`App::work_activity`]: each
//! task's links made and its notification sent exactly as CreateUrls does,
//! with the task's own token, or the task failed with the reason), stops
//! it on a shutdown signal, and turns a refused poll into the reason the
//! worker stops.
//!
//! On a shutdown signal the worker finishes the poll in flight and the
//! task it may bring (Step Functions may already have handed it out), then
//! stops; it never abandons a poll midway.

use std::future::Future;
use std::sync::Arc;

use anyhow::bail;
use tokio::sync::watch;

use crate::app::App;
use crate::ports::Activities;

pub use crate::app::activity::Activity;

/// Works `activity` until `shutdown` completes (then finishes the poll in
/// flight) or Step Functions refuses the poll.
pub async fn run(
    app: App,
    activities: Arc<dyn Activities>,
    activity: Activity,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (stop, stopped) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutdown requested; finishing the poll in flight");
        let _ = stop.send(true);
    });
    tracing::info!(
        activity = activity.arn,
        worker = activity.worker_name,
        "polling"
    );
    if let Err(code) = app
        .work_activity(activities.as_ref(), &activity, stopped)
        .await
    {
        bail!(
            "Step Functions refused to give this worker tasks ({code}): check the activity ARN and the states:GetActivityTask permission"
        );
    }
    tracing::info!("stopped");
    Ok(())
}
