//! The notification CreateUrls is asked to send with the links: one email
//! (through SES), one message to an SNS topic, one Slack message with a
//! button per action, or one Microsoft Teams card, each from Jinja
//! templates (minijinja) and the caller's `context`.
//!
//! Here is what the request asks: parsing `notify` (templates that parse,
//! addresses that are addresses), checking it against the deployment's
//! allow-lists ([`NotifyPolicy`]), and what CreateUrls reports of it
//! ([`Notified`]). Rendering the message is the presentation crate's;
//! sending it is the application's `Notifier` port.

mod destination;
mod spec;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{ErrorCode, Rejection};
pub use destination::{is_slack_conversation, teams_webhook_allowed, teams_webhook_shape};

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

/// The syntax of `notify`'s templates (minijinja's, unchanged): the
/// templates are parsed with it when `notify` is, and the presentation's
/// rendering environment starts from it, so both read them alike.
pub fn template_syntax() -> minijinja::Environment<'static> {
    minijinja::Environment::new()
}

fn invalid(message: impl Into<String>) -> Rejection {
    Rejection::new(ErrorCode::InvalidNotify, message)
}

/// The sender of an email: the one asked for, else the deployment's first
/// full address.
pub fn sender(email: &EmailSpec, policy: &NotifyPolicy) -> Result<String, Rejection> {
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

    pub(crate) fn policy() -> NotifyPolicy {
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

    pub(crate) fn email(extra: Value) -> NotifySpec {
        let mut spec =
            json!({"email": {"to": "boss@corp.example"}, "context": {"release": "v2 <b>"}});
        for (k, v) in extra.as_object().expect("object") {
            spec["email"][k] = v.clone();
        }
        NotifySpec::parse(spec).expect("parses")
    }
}
