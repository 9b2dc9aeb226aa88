//! What a link answers: a Step Functions task token or a Lambda durable
//! execution's callback ID, each validated once and redacted everywhere.

use std::fmt;

/// The longest task token Step Functions accepts.
pub const MAX_TOKEN_CHARS: usize = 2048;

/// A task token as handed to us by the caller of CreateUrls.
///
/// It is a secret: whoever holds it can decide the task. `Debug` never shows
/// it, and nothing in this crate formats it into a log line or error message.
#[derive(Clone, PartialEq, Eq)]
pub struct TaskToken(String);

impl TaskToken {
    /// Accepts any token of 1 to 2048 characters without control characters,
    /// which is what Step Functions accepts.
    pub fn parse(raw: String) -> Result<Self, &'static str> {
        let chars = raw.chars().count();
        if chars == 0 {
            return Err("the task token is empty");
        }
        if chars > MAX_TOKEN_CHARS {
            return Err("the task token is longer than 2048 characters");
        }
        if raw.chars().any(char::is_control) {
            return Err("the task token contains control characters");
        }
        Ok(Self(raw))
    }

    /// The token itself, for the Step Functions call and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Its length in characters, which is safe to log.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Never true for a parsed token; here for the `len` convention.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for TaskToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TaskToken(<redacted, {} chars>)", self.0.len())
    }
}

/// The longest callback ID Lambda accepts.
pub const MAX_CALLBACK_ID_CHARS: usize = 1024;

/// A Lambda durable execution's callback ID, as `create_callback` or
/// `wait_for_callback` handed it out: 1 to 1,024 characters of standard
/// base64 (`A-Z a-z 0-9 + /`, padded with at most two `=`).
///
/// A secret like a task token: `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct CallbackId(String);

impl CallbackId {
    /// Accepts standard base64 as Lambda hands callback IDs out (padded
    /// to whole groups of four when padded at all: a little stricter than
    /// the API's own pattern); each refusal names the field.
    pub fn parse(raw: String) -> Result<Self, &'static str> {
        if raw.is_empty() {
            return Err("callback_id is empty");
        }
        if raw.len() > MAX_CALLBACK_ID_CHARS {
            return Err("callback_id is longer than 1024 characters");
        }
        if !is_standard_base64(&raw) {
            return Err(
                "callback_id is not standard base64 (A-Z, a-z, 0-9, '+' and '/', with at most two '=' at the end)",
            );
        }
        Ok(Self(raw))
    }

    /// The callback ID itself, for the Lambda call and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for CallbackId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CallbackId(<redacted, {} chars>)", self.0.len())
    }
}

/// Standard base64's alphabet, with padding only at the end: at most two
/// `=`, and then only to make the length a multiple of four.
fn is_standard_base64(text: &str) -> bool {
    let body = text.trim_end_matches('=');
    let padding = text.len() - body.len();
    let alphabet = body
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/');
    alphabet && !body.is_empty() && (padding == 0 || (padding <= 2 && text.len().is_multiple_of(4)))
}

/// The workflow engine a link answers. It is sealed with the token, so a
/// link never reaches the other engine's API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineKind {
    /// AWS Step Functions: `SendTaskSuccess`, `SendTaskFailure`,
    /// `SendTaskHeartbeat`.
    StepFunctions,
    /// AWS Lambda durable functions: `SendDurableExecutionCallbackSuccess`,
    /// `…Failure`, `…Heartbeat`.
    Durable,
}

impl EngineKind {
    /// The service's name, for messages.
    pub fn service(self) -> &'static str {
        match self {
            Self::StepFunctions => "Step Functions",
            Self::Durable => "Lambda",
        }
    }
}

/// What a link answers, and so which engine it calls.
#[derive(Clone, PartialEq, Eq)]
pub enum Token {
    /// A Step Functions task token.
    Task(TaskToken),
    /// A Lambda durable execution callback ID.
    Callback(CallbackId),
}

impl Token {
    /// The engine this token belongs to.
    pub fn engine(&self) -> EngineKind {
        match self {
            Self::Task(_) => EngineKind::StepFunctions,
            Self::Callback(_) => EngineKind::Durable,
        }
    }

    /// The secret itself, for the engine call (and the CLI's explicit
    /// `--show-token`) only.
    pub fn expose(&self) -> &str {
        match self {
            Self::Task(token) => token.expose(),
            Self::Callback(id) => id.expose(),
        }
    }

    /// Its length in characters, which is safe to log.
    pub fn len(&self) -> usize {
        self.expose().len()
    }

    /// Never true for a parsed token; here for the `len` convention.
    pub fn is_empty(&self) -> bool {
        self.expose().is_empty()
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Task(token) => token.fmt(f),
            Self::Callback(id) => id.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_empty_long_and_control_tokens() {
        assert!(TaskToken::parse(String::new()).is_err());
        assert!(TaskToken::parse("a".repeat(2049)).is_err());
        assert!(TaskToken::parse("ab\ncd".into()).is_err());
        assert!(TaskToken::parse("a".repeat(2048)).is_ok());
    }

    #[test]
    fn callback_ids_are_standard_base64_of_1_to_1024_characters() {
        for good in ["QUJD", "QUI=", "QQ==", "a+b/", "abc", &"A".repeat(1024)] {
            assert!(CallbackId::parse(good.to_owned()).is_ok(), "{good}");
        }
        let refusals = [
            (String::new(), "empty"),
            ("A".repeat(1025), "longer than 1024"),
            ("ab-c".to_owned(), "not standard base64"),
            ("ab_c".to_owned(), "not standard base64"),
            ("ab c".to_owned(), "not standard base64"),
            ("QQ=A".to_owned(), "not standard base64"),
            ("Q===".to_owned(), "not standard base64"),
            ("QUJ=D".to_owned(), "not standard base64"),
            ("QQ=".to_owned(), "not standard base64"),
            ("====".to_owned(), "not standard base64"),
        ];
        for (bad, why) in refusals {
            let refused = CallbackId::parse(bad.clone()).expect_err(&bad);
            assert!(refused.starts_with("callback_id"), "{refused}");
            assert!(refused.contains(why), "{bad:?}: {refused}");
        }
    }

    #[test]
    fn a_token_names_its_engine_and_hides_its_secret() {
        let task = Token::Task(TaskToken::parse("SECRETTOKEN".into()).expect("valid"));
        let callback = Token::Callback(CallbackId::parse("SECRETID".into()).expect("valid"));
        assert_eq!(task.engine(), EngineKind::StepFunctions);
        assert_eq!(callback.engine(), EngineKind::Durable);
        assert_ne!(task, callback);
        for token in [task, callback] {
            let shown = format!("{token:?}");
            assert!(!shown.contains("SECRET"), "{shown}");
        }
    }

    #[test]
    fn debug_does_not_show_the_token() {
        let token = TaskToken::parse("SECRETTOKEN".into()).expect("valid");
        let shown = format!("{token:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains("11 chars"));
    }
}
