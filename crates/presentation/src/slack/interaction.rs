//! The interaction payloads Slack posts to the app's Request URL: an
//! `application/x-www-form-urlencoded` body whose one field, `payload`,
//! is JSON. Only what the service uses is read; Slack adds fields freely.

use serde::Deserialize;
use serde_json::Value;

/// Why a signed request is not an interaction this service takes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InteractionError {
    /// No `payload` field, or one that is not JSON of a known shape.
    #[error("the request has no valid payload: {0}")]
    Malformed(String),
    /// A kind of interaction the service does not answer.
    #[error("interactions of type {0:?} are not taken here")]
    Unknown(String),
}

/// The person who pressed or submitted.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct User {
    /// Their user ID.
    pub id: String,
    /// Their workspace.
    #[serde(default)]
    pub team_id: Option<String>,
}

/// One pressed element.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct PressedAction {
    /// The element's `action_id`.
    pub action_id: String,
    /// A button's `value`.
    #[serde(default)]
    pub value: Option<String>,
}

/// The message a button was in.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Default)]
pub struct Message {
    /// Its blocks.
    #[serde(default)]
    pub blocks: Vec<Value>,
}

/// A modal as it was submitted.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct View {
    /// The modal's `callback_id`.
    #[serde(default)]
    pub callback_id: String,
    /// What the service put in it.
    #[serde(default)]
    pub private_metadata: String,
    /// The inputs' values.
    #[serde(default)]
    pub state: ViewState,
}

/// The inputs' values: by `block_id`, then by `action_id`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Default)]
pub struct ViewState {
    /// The values.
    #[serde(default)]
    pub values: serde_json::Map<String, Value>,
}

/// An interaction the service answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Interaction {
    /// A press on a button of a message.
    BlockActions {
        /// Who pressed.
        user: User,
        /// Valid for 3 seconds, once: opens a modal.
        trigger_id: String,
        /// Where to answer: replace the message, or tell the person.
        response_url: Option<String>,
        /// What was pressed (one element for a button).
        actions: Vec<PressedAction>,
        /// The message the button was in.
        message: Message,
    },
    /// A modal submitted.
    ViewSubmission {
        /// Who submitted.
        user: User,
        /// The modal.
        view: View,
    },
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Raw {
    BlockActions {
        user: User,
        trigger_id: String,
        #[serde(default)]
        response_url: Option<String>,
        #[serde(default)]
        actions: Vec<PressedAction>,
        #[serde(default)]
        message: Option<Message>,
    },
    ViewSubmission {
        user: User,
        view: View,
    },
}

/// Reads an interaction from the raw body of a signed request.
pub fn parse(body: &[u8]) -> Result<Interaction, InteractionError> {
    let payload = sfn_callbacks_core::query::parse_unique(body)
        .map_err(|e| InteractionError::Malformed(e.to_string()))?
        .into_iter()
        .find(|(k, _)| k == "payload")
        .map(|(_, v)| v)
        .ok_or_else(|| InteractionError::Malformed("no payload field".into()))?;
    let value: Value = serde_json::from_str(&payload)
        .map_err(|e| InteractionError::Malformed(format!("payload is not JSON: {e}")))?;
    let kind = value
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if kind != "block_actions" && kind != "view_submission" {
        return Err(InteractionError::Unknown(kind));
    }
    let raw: Raw = serde_json::from_value(value)
        .map_err(|e| InteractionError::Malformed(format!("{kind}: {e}")))?;
    Ok(match raw {
        Raw::BlockActions {
            user,
            trigger_id,
            response_url,
            actions,
            message,
        } => Interaction::BlockActions {
            user,
            trigger_id,
            response_url,
            actions,
            message: message.unwrap_or_default(),
        },
        Raw::ViewSubmission { user, view } => Interaction::ViewSubmission { user, view },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(payload: &Value) -> Vec<u8> {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("payload", &payload.to_string())
            .finish()
            .into_bytes()
    }

    #[test]
    fn reads_a_press_and_a_submission() {
        let press = parse(&body(&json!({
            "type": "block_actions", "user": {"id": "U0AAA", "team_id": "T0"},
            "trigger_id": "1.2.3", "response_url": "https://hooks.slack.com/actions/T0/1/x",
            "actions": [{"action_id": "sfn-callbacks:approve", "value": "EAAA", "type": "button"}],
            "message": {"ts": "1.2", "blocks": [{"type": "header"}]},
            "team": {"id": "T0"}, "api_app_id": "A0"
        })))
        .expect("press");
        let Interaction::BlockActions {
            user,
            actions,
            message,
            ..
        } = press
        else {
            panic!("a press")
        };
        assert_eq!(user.id, "U0AAA");
        assert_eq!(actions[0].value.as_deref(), Some("EAAA"));
        assert_eq!(message.blocks.len(), 1);

        let submitted = parse(&body(&json!({
            "type": "view_submission", "user": {"id": "U0AAA"},
            "view": {"callback_id": "sfn-callbacks", "private_metadata": "{}",
                     "state": {"values": {"comment": {"comment": {"type": "plain_text_input", "value": "ok"}}}}}
        })))
        .expect("submission");
        assert!(matches!(submitted, Interaction::ViewSubmission { .. }));
    }

    #[test]
    fn refuses_what_it_does_not_take() {
        assert!(matches!(
            parse(b"token=x"),
            Err(InteractionError::Malformed(_))
        ));
        assert!(matches!(
            parse(b"payload=%7Bnot"),
            Err(InteractionError::Malformed(_))
        ));
        assert_eq!(
            parse(&body(&json!({"type": "shortcut", "user": {"id": "U0"}}))),
            Err(InteractionError::Unknown("shortcut".into()))
        );
        assert!(matches!(
            parse(&body(
                &json!({"type": "block_actions", "user": {"id": "U0"}})
            )),
            Err(InteractionError::Malformed(_))
        ));
    }
}
