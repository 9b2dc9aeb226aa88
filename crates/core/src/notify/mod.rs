//! Notifications CreateUrls sends with the links: one email (through SES),
//! one message to an SNS topic, one Slack message with a button per
//! action, or one Microsoft Teams card, rendered from Jinja templates
//! (minijinja) with the links and the caller's `context`.
//!
//! Everything here is pure: parsing the request's `notify`, checking it
//! against the deployment's allow-lists ([`NotifyPolicy`]), and rendering
//! the message. Sending is the application's `Notifier` port. This file
//! holds the types; `spec` parses and checks, `render` renders.
//!
//! Templates see `urls` (action name to URL), `actions` (a list of
//! `{name, type, label, description, url}`), `transaction_id`,
//! `expiration` (the caller's text, or none), `context`, and `review_url`
//! when the request asked for a review link (undefined otherwise). Undefined
//! variables are errors, HTML templates escape what they print, and
//! rendering has a fuel limit.

mod chat;
mod render;
mod spec;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::{ErrorCode, Rejection};
pub use chat::{
    MAX_SLACK_VALUE_CHARS, SLACK_ACTION_PREFIX, is_slack_conversation, teams_webhook_allowed,
};
pub use render::Links;

/// The longest template, in bytes.
pub const MAX_TEMPLATE_BYTES: usize = 32 * 1024;
/// The most recipients of one email (SES's limit).
pub const MAX_RECIPIENTS: usize = 50;
/// The longest SNS subject (SNS's limit).
pub const MAX_SNS_SUBJECT_CHARS: usize = 100;
/// The longest rendered subject of an email.
pub const MAX_EMAIL_SUBJECT_CHARS: usize = 998;

/// What the deployment lets callers notify.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotifyPolicy {
    /// Allowed senders: an address, or `@domain` for any address there.
    /// The first address is the default sender. Empty: no email.
    pub email_from: Vec<String>,
    /// Allowed recipient domains, or `*` for any. Empty: no email.
    pub email_to_domains: Vec<String>,
    /// Allowed SNS topic ARNs, or `*` for any. Empty: no SNS.
    pub sns_topics: Vec<String>,
    /// Allowed Slack channel IDs, or `*` for any. Empty (or no bot
    /// token): no Slack.
    pub slack_channels: Vec<String>,
    /// Allowed Teams webhook URL prefixes (`https://host/path`, the host
    /// may start with `*.`). Empty: no Teams.
    pub teams_webhooks: Vec<String>,
}

/// A checked `notify`.
#[derive(Debug, Clone, PartialEq)]
pub struct NotifySpec {
    /// Where it goes.
    pub channel: Channel,
    /// The caller's data for the templates.
    pub context: Value,
}

/// The one channel of a notification.
#[derive(Debug, Clone, PartialEq)]
pub enum Channel {
    /// An email through SES.
    Email(EmailSpec),
    /// A message to an SNS topic.
    Sns(SnsSpec),
    /// A Slack message with one button per action.
    Slack(SlackSpec),
    /// A Microsoft Teams card posted to a Workflows webhook.
    Teams(TeamsSpec),
}

/// An email's addresses and templates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailSpec {
    /// Recipients.
    pub to: Vec<String>,
    /// Copied recipients.
    pub cc: Vec<String>,
    /// Blind-copied recipients.
    pub bcc: Vec<String>,
    /// The sender, else the deployment's default.
    pub from: Option<String>,
    /// Subject template.
    pub subject: Option<String>,
    /// Plain-text body template.
    pub text: Option<String>,
    /// HTML body template.
    pub html: Option<String>,
}

/// An SNS message's topic and templates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnsSpec {
    /// The topic.
    pub topic_arn: String,
    /// Subject template (email subscribers see it).
    pub subject: Option<String>,
    /// Message template.
    pub message: Option<String>,
}

/// A Slack message's conversation and templates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackSpec {
    /// The channel (or user) ID to post to.
    pub channel: String,
    /// The header's template (plain text).
    pub header: Option<String>,
    /// The message's template (Slack `mrkdwn`; what it prints is escaped).
    pub text: Option<String>,
}

/// A Teams card's webhook and templates.
#[derive(Clone, PartialEq, Eq)]
pub struct TeamsSpec {
    /// The Workflows webhook URL (its `sig` is a credential).
    pub webhook: String,
    /// The card's title template.
    pub title: Option<String>,
    /// The card's text template.
    pub text: Option<String>,
}

impl std::fmt::Debug for TeamsSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TeamsSpec")
            .field("webhook", &"<redacted>")
            .field("title", &self.title)
            .field("text", &self.text)
            .finish()
    }
}

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

/// What CreateUrls reports of a notification it sent.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Notified {
    /// `email`, `sns`, `slack` or `teams`.
    pub channel: String,
    /// The SES or SNS message id, or the Slack message's `ts`; none for
    /// Teams, whose webhook names no message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// Where the Slack message is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack: Option<SlackPosted>,
}

/// A posted Slack message: its conversation and `ts`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SlackPosted {
    /// The conversation ID Slack posted in.
    pub channel: String,
    /// The message's timestamp (its ID).
    pub ts: String,
}

/// What sending a notification reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The SES or SNS message id, or the Slack `ts`.
    pub message_id: Option<String>,
    /// Where the Slack message is.
    pub slack: Option<SlackPosted>,
}

// `invalid` and `sender` serve both parsing (`spec`) and rendering (`render`).

fn invalid(message: impl Into<String>) -> Rejection {
    Rejection::new(ErrorCode::InvalidNotify, message)
}

/// The sender of an email: the one asked for, else the deployment's first
/// full address.
fn sender(email: &EmailSpec, policy: &NotifyPolicy) -> Result<String, Rejection> {
    match &email.from {
        Some(from) => Ok(from.clone()),
        None => policy
            .email_from
            .iter()
            .find(|a| !a.starts_with('@'))
            .cloned()
            .ok_or_else(|| {
                invalid("notify.email.from is needed: this deployment has no default sender")
            }),
    }
}

#[cfg(test)]
mod tests {
    //! Fixtures the parsing and rendering tests share.

    use super::*;
    use serde_json::json;

    pub(super) fn policy() -> NotifyPolicy {
        NotifyPolicy {
            email_from: vec!["approvals@example.com".into(), "@ops.example.com".into()],
            email_to_domains: vec!["corp.example".into()],
            sns_topics: vec!["arn:aws:sns:us-east-1:123456789012:approvals".into()],
            slack_channels: vec!["C0APPROVALS".into()],
            teams_webhooks: vec![
                "https://*.environment.api.powerplatform.com/powerautomate/".into(),
            ],
        }
    }

    pub(super) fn email(extra: Value) -> NotifySpec {
        let mut spec =
            json!({"email": {"to": "boss@corp.example"}, "context": {"release": "v2 <b>"}});
        for (k, v) in extra.as_object().expect("object") {
            spec["email"][k] = v.clone();
        }
        NotifySpec::parse(spec).expect("parses")
    }
}
