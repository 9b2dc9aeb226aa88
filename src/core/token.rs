//! The Step Functions task token: validated once, redacted everywhere.

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
    fn debug_does_not_show_the_token() {
        let token = TaskToken::parse("SECRETTOKEN".into()).expect("valid");
        let shown = format!("{token:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains("11 chars"));
    }
}
