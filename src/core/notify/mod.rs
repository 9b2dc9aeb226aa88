//! Notifications CreateUrls sends with the links: one email (through SES)
//! or one message to an SNS topic, rendered from Jinja templates
//! (minijinja) with the links and the caller's `context`.
//!
//! Everything here is pure: parsing the request's `notify`, checking it
//! against the deployment's allow-lists ([`NotifyPolicy`]), and rendering
//! the message. Sending is the [`crate::ports::Notifier`] port. This file
//! holds the types; `spec` parses and checks, `render` renders.
//!
//! Templates see `urls` (action name to URL), `actions` (a list of
//! `{name, type, label, description, url}`), `transaction_id`,
//! `expiration` (the caller's text, or none), `context`, and `review_url`
//! when the request asked for a review link (undefined otherwise). Undefined
//! variables are errors, HTML templates escape what they print, and
//! rendering has a fuel limit.

mod render;
mod spec;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::{ErrorCode, Rejection};
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

/// A rendered notification, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notification {
    /// An email.
    Email(Email),
    /// An SNS message.
    Sns(SnsMessage),
}

impl Notification {
    /// `email` or `sns`.
    pub fn channel(&self) -> &'static str {
        match self {
            Self::Email(_) => "email",
            Self::Sns(_) => "sns",
        }
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
    /// `email` or `sns`.
    pub channel: String,
    /// The SES or SNS message id.
    pub message_id: String,
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
