//! Actions: what a callback URL does when it is used.
//!
//! Raw JSON from CreateUrls becomes these types once, in `parse_action`;
//! afterwards an [`ActionName`] is always valid and a POST outcome's schema
//! and JSONPaths are known to compile.

mod parse;

use std::fmt;

use serde_json::Value;

use super::error::{ErrorCode, Rejection};
use super::form::Form;
pub(crate) use parse::{RawAction, parse_action};
pub use parse::{checked_redirect, compile_path, redirect_origin};

/// Step Functions' limit on SendTaskSuccess output, in bytes.
pub const MAX_OUTPUT_BYTES: usize = 262_144;
/// Step Functions' limit on SendTaskFailure error, in characters.
pub const MAX_ERROR_CHARS: usize = 256;
/// Step Functions' limit on SendTaskFailure cause, in characters.
pub const MAX_CAUSE_CHARS: usize = 32_768;
/// The longest action or outcome name we accept.
pub const MAX_NAME_CHARS: usize = 64;
/// The longest `label`, in characters.
pub const MAX_LABEL_CHARS: usize = 200;
/// The longest `description`, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 2_000;
/// The longest comment an action may allow, in characters.
pub const MAX_COMMENT_CHARS: u16 = 4_000;
/// The comment length an action allows when it does not say.
pub const DEFAULT_COMMENT_CHARS: u16 = 1_000;

/// An action name: one or more word characters (`^\w+$`), as before.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ActionName(String);

impl ActionName {
    /// Checks the `^\w+$` rule (Unicode word characters, as Python's `\w`).
    pub fn parse(raw: &str) -> Result<Self, Rejection> {
        let valid = !raw.is_empty()
            && raw.chars().count() <= MAX_NAME_CHARS
            && raw.chars().all(|c| c.is_alphanumeric() || c == '_');
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(Rejection::new(
                ErrorCode::InvalidJson,
                format!(
                    "action name {raw:?} is not valid: use 1 to {MAX_NAME_CHARS} letters, digits or underscores"
                ),
            ))
        }
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ActionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for ActionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The four action types, named as on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    /// SendTaskSuccess.
    Success,
    /// SendTaskFailure.
    Failure,
    /// SendTaskHeartbeat.
    Heartbeat,
    /// A JSON body chooses the outcome.
    Post,
}

impl ActionKind {
    /// The `type` value on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Heartbeat => "heartbeat",
            Self::Post => "post",
        }
    }

    fn parse(raw: &str, allowed: &[ActionKind]) -> Option<Self> {
        allowed.iter().copied().find(|k| k.as_str() == raw)
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the callback answers when it succeeds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResponseSpec {
    /// 303 to this absolute http(s) URL; wins over the rest.
    pub redirect: Option<String>,
    /// Body for JSON clients (an object).
    pub json: Option<Value>,
    /// Body for browsers.
    pub html: Option<String>,
    /// Body for plain-text clients.
    pub text: Option<String>,
}

/// What a success outcome of a POST action sends as output.
#[derive(Debug, Clone, PartialEq)]
pub enum OutcomeOutput {
    /// The request body itself.
    Body,
    /// The array of all matches of a JSONPath in the body.
    Path(String),
    /// A fixed value.
    Fixed(Value),
}

/// Where a failure outcome's `error` or `cause` comes from.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum FieldSource {
    /// Not set.
    #[default]
    Unset,
    /// A fixed string.
    Fixed(String),
    /// A JSONPath into the body.
    Path(String),
}

/// What an outcome of a POST action does.
#[derive(Debug, Clone, PartialEq)]
pub enum OutcomeEffect {
    /// SendTaskSuccess with this output.
    Success(OutcomeOutput),
    /// SendTaskFailure with these fields.
    Failure {
        /// The `error` field.
        error: FieldSource,
        /// The `cause` field.
        cause: FieldSource,
    },
    /// SendTaskHeartbeat.
    Heartbeat,
}

/// One candidate result of a POST action, picked by its JSON Schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Its name, for logs and responses.
    pub name: ActionName,
    /// The schema the body must match (known to compile).
    pub schema: Value,
    /// What it does.
    pub effect: OutcomeEffect,
    /// Replaces the action's response spec when this outcome is used.
    pub response: Option<ResponseSpec>,
}

/// What an action does.
#[derive(Debug, Clone, PartialEq)]
pub enum ActionEffect {
    /// SendTaskSuccess with this output.
    Success {
        /// Any JSON value.
        output: Value,
    },
    /// SendTaskFailure.
    Failure {
        /// Optional error name.
        error: Option<String>,
        /// Optional cause.
        cause: Option<String>,
    },
    /// SendTaskHeartbeat; the URL can be used many times.
    Heartbeat,
    /// A JSON body picks one of the outcomes.
    Post {
        /// At least one outcome, tried in order.
        outcomes: Vec<Outcome>,
    },
}

/// A named action, as sealed into a callback URL.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    /// Its name (the key of `urls` in the CreateUrls output).
    pub name: ActionName,
    /// What it does.
    pub effect: ActionEffect,
    /// How a successful callback answers.
    pub response: Option<ResponseSpec>,
    /// How the person at the other end sees it.
    pub page: PageOptions,
}

/// What the confirmation page shows and asks, and whether one click acts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PageOptions {
    /// A human label for the button and headings ("Approve the release").
    pub label: Option<String>,
    /// What is being decided, shown above the button.
    pub description: Option<String>,
    /// Whether the person may (or must) add a comment.
    pub comment: Option<CommentRule>,
    /// The typed fields the person fills in, if any.
    pub form: Option<Form>,
    /// Act on GET for this action (channels where no scanner clicks).
    pub one_click: bool,
}

/// An action's comment box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommentRule {
    /// The most characters accepted.
    pub max_chars: u16,
    /// Whether an empty comment is refused.
    pub required: bool,
}

impl Action {
    /// One action from its CreateUrls JSON (an element of `actions`),
    /// checked as CreateUrls checks it; `post_actions` says whether the
    /// deployment takes `post` actions.
    pub fn from_json(value: serde_json::Value, post_actions: bool) -> Result<Self, Rejection> {
        let raw: RawAction = serde_json::from_value(value)
            .map_err(|e| Rejection::new(ErrorCode::InvalidJson, format!("an action: {e}")))?;
        parse_action(raw, post_actions)
    }

    /// The action's type.
    pub fn kind(&self) -> ActionKind {
        match self.effect {
            ActionEffect::Success { .. } => ActionKind::Success,
            ActionEffect::Failure { .. } => ActionKind::Failure,
            ActionEffect::Heartbeat => ActionKind::Heartbeat,
            ActionEffect::Post { .. } => ActionKind::Post,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_word_rule() {
        assert!(ActionName::parse("approve_2").is_ok());
        assert!(ActionName::parse("größe").is_ok());
        for bad in ["", "a-b", "a b", "x/y", &"a".repeat(65)] {
            assert!(ActionName::parse(bad).is_err(), "{bad}");
        }
    }
}
