//! The notification as sent: an email, an SNS message, a Slack message
//! with one button per action or a Teams Adaptive Card, rendered from the
//! request's templates (or the defaults, in the link's language) with the
//! links CreateUrls just made.
//!
//! Templates see `urls` (action name to URL), `actions` (a list of
//! `{name, type, label, description, url}`), `transaction_id`,
//! `expiration` (the caller's text, or none), `context`, and `review_url`
//! when the request asked for a review link (undefined otherwise). Undefined
//! variables are errors, HTML templates escape what they print, and
//! rendering has a fuel limit. What the request may ask is the core's
//! (`sfn_callbacks_core::notify`).

mod chat;
mod links;
mod render;

use serde_json::Value;
use sfn_callbacks_core::error::{ErrorCode, Rejection};
use sfn_callbacks_core::notify::SlackPosted;

pub use chat::{ADAPTIVE_CARD_VERSION, MAX_SLACK_VALUE_CHARS, SLACK_ACTION_PREFIX};
pub use links::Links;
pub use render::render;

/// A rendered notification, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notification {
    /// An email.
    Email(Email),
    /// An SNS message.
    Sns(SnsMessage),
    /// A Slack message.
    Slack(SlackMessage),
    /// A Teams card.
    Teams(TeamsMessage),
}

impl Notification {
    /// `email`, `sns`, `slack` or `teams`.
    pub fn channel(&self) -> &'static str {
        match self {
            Self::Email(_) => "email",
            Self::Sns(_) => "sns",
            Self::Slack(_) => "slack",
            Self::Teams(_) => "teams",
        }
    }
}

/// A rendered Slack message (`chat.postMessage`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackMessage {
    /// The channel (or user) ID.
    pub channel: String,
    /// The notification text (shown where blocks are not).
    pub text: String,
    /// The Block Kit blocks.
    pub blocks: Value,
}

/// A rendered Teams message: the webhook and the body to post.
#[derive(Clone, PartialEq, Eq)]
pub struct TeamsMessage {
    /// The Workflows webhook URL (a credential: never logged).
    pub webhook: String,
    /// `{"type": "message", "attachments": [the Adaptive Card]}`.
    pub body: Value,
}

impl std::fmt::Debug for TeamsMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TeamsMessage")
            .field("webhook", &"<redacted>")
            .field("body", &self.body)
            .finish()
    }
}

/// A rendered email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// The sender.
    pub from: String,
    /// Recipients.
    pub to: Vec<String>,
    /// Copied recipients.
    pub cc: Vec<String>,
    /// Blind-copied recipients.
    pub bcc: Vec<String>,
    /// The subject.
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
}

/// A rendered SNS message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnsMessage {
    /// The topic.
    pub topic_arn: String,
    /// The subject, if any.
    pub subject: Option<String>,
    /// The message.
    pub message: String,
}

/// What sending a notification reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The SES or SNS message id, or the Slack `ts`.
    pub message_id: Option<String>,
    /// Where the Slack message is.
    pub slack: Option<SlackPosted>,
}

fn invalid(message: impl Into<String>) -> Rejection {
    Rejection::new(ErrorCode::InvalidNotify, message)
}
