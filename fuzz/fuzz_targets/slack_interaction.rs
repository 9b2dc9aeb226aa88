//! What Slack (or anyone) posts to `/slack/interactions`: the signature
//! check never panics and accepts only the body it signed; an interaction
//! is read or refused with a named error; a modal's values, however
//! shaped, read into page fields the form then reads or refuses.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use sfn_callbacks_core::Features;
use sfn_callbacks_core::callback::form_values;
use sfn_callbacks_core::create::CreateRequest;
use sfn_callbacks_core::slack_signature::{sign, verify};
use sfn_callbacks_presentation::slack::interaction::{self, Interaction};
use sfn_callbacks_presentation::slack::modal;

const REQUEST: &str = r#"{"token": "QUJD", "actions": [
  {"name": "release", "type": "success", "output": {"ok": true}, "comment": {"max_length": 20},
   "form": {"type": "object", "required": ["env"], "properties": {
    "env": {"type": "string", "enum": ["staging", "production"]},
    "count": {"type": "integer", "minimum": 1, "maximum": 5},
    "when": {"type": "string", "format": "date-time"},
    "day": {"type": "string", "format": "date"},
    "notify": {"type": "boolean"}}}}
]}"#;

/// Parsed once: the request is the same for every input (parsing it per
/// input compiled its form schema each time).
static PARSED: LazyLock<CreateRequest> = LazyLock::new(|| {
    let time = time::OffsetDateTime::from_unix_timestamp(1_900_000_000).expect("time");
    CreateRequest::parse(REQUEST.as_bytes(), Features::default(), time).expect("valid")
});

fuzz_target!(|data: &[u8]| {
    let secret = b"fuzz-secret";
    let now = 1_900_000_000;
    let ts = now.to_string();
    let signature = sign(secret, &ts, data);
    assert_eq!(
        verify(secret, Some(&ts), Some(&signature), data, now),
        Ok(())
    );
    if let Some((head, tail)) = data.split_first() {
        let mut other = tail.to_vec();
        other.insert(0, head.wrapping_add(1));
        assert!(verify(secret, Some(&ts), Some(&signature), &other, now).is_err());
    }
    let text = String::from_utf8_lossy(data);
    let _ = verify(secret, Some(&text), Some(&text), data, now);

    match interaction::parse(data) {
        Ok(Interaction::ViewSubmission { view, .. }) => {
            let action = &PARSED.actions[0];
            let (comment, submitted) = modal::read(action, &view.state.values);
            let _ = modal::comment_problem(action, comment.as_deref());
            if let Err(errors) = form_values(action, submitted) {
                let answer = modal::errors(action, Default::default(), Some(&errors), None);
                assert_eq!(answer["response_action"], "errors");
            }
            let _ = modal::Metadata::decode(&view.private_metadata);
        }
        Ok(Interaction::BlockActions { .. }) => {}
        Err(e) => assert!(!e.to_string().is_empty()),
    }
    // The values as a modal would carry them, straight from the input.
    if let Ok(values) = serde_json::from_slice::<serde_json::Value>(data)
        && let Some(values) = values.as_object()
    {
        let request = &*PARSED;
        let (_, submitted) = modal::read(&request.actions[0], values);
        let _ = form_values(&request.actions[0], submitted);
    }
});
