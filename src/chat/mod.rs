//! The chat adapters: Slack's Web API and `response_url`, and Teams'
//! Workflows webhooks, over the same hyper and rustls (aws-lc) stack as
//! the AWS SDK. [`Notifiers`] sends each notification through the
//! adapter of its channel.

pub mod slack;
pub mod teams;
mod web;

use std::sync::Arc;

use async_trait::async_trait;

use crate::ports::{Notifier, NotifyError};
use crate::presentation::notify::{Notification, Sent};
pub use slack::SlackClient;
pub use teams::TeamsClient;
pub use web::WebClient;

/// Every channel's sender: email and SNS through AWS, Slack and Teams
/// through their own adapters.
pub struct Notifiers {
    /// SES and SNS.
    pub aws: Arc<dyn Notifier>,
    /// Slack, when a bot token is set.
    pub slack: Option<Arc<SlackClient>>,
    /// Teams webhooks.
    pub teams: TeamsClient,
}

impl std::fmt::Debug for Notifiers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifiers")
            .field("slack", &self.slack.is_some())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Notifier for Notifiers {
    async fn send(&self, notification: &Notification) -> Result<Sent, NotifyError> {
        match notification {
            Notification::Email(_) | Notification::Sns(_) => self.aws.send(notification).await,
            Notification::Slack(message) => match &self.slack {
                Some(slack) => slack.post_message(message).await,
                None => Err(NotifyError::Refused {
                    service: "Slack",
                    code: "not_configured".into(),
                }),
            },
            Notification::Teams(message) => self.teams.post(message).await,
        }
    }
}
