//! A valid link with random query parameters and a random body: the
//! callback decision never panics, form values (the query's pairs as a
//! page's fields, or the body's `form`) are read or refused with named
//! errors, and any call it builds carries the token that was sealed.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use sfn_callbacks_core::Features;
use sfn_callbacks_core::callback::{Answer, EngineCall, decide_as, form_values, verify};
use sfn_callbacks_core::create::{CreateRequest, claims_for};
use sfn_callbacks_core::form::Submitted;
use sfn_callbacks_core::payload::TransactionId;
use sfn_callbacks_core::template::Params;

const REQUEST: &str = r#"{"token": "QUJD", "enable_output_parameters": true, "actions": [
  {"name": "approve", "type": "success", "output": {"by": "$who", "n": ["${n}", "$$"]},
   "comment": {"max_length": 50}, "response": {"redirect": "https://example.com/x/$page", "html": "<p>$who</p>"}},
  {"name": "reject", "type": "failure", "error": "E_$who", "cause": "$why", "comment": true},
  {"name": "release", "type": "success", "output": {"ok": true}, "form": {"type": "object",
   "required": ["env", "count"], "properties": {
    "env": {"type": "string", "enum": ["staging", "production"]},
    "count": {"type": "integer", "minimum": 1, "maximum": 5, "multipleOf": 1},
    "ratio": {"type": "number", "multipleOf": 0.25},
    "when": {"type": "string", "format": "date-time"},
    "ticket": {"type": "string", "pattern": "^[A-Z]+-[0-9]+$", "maxLength": 20},
    "notify": {"type": "boolean"}}}},
  {"name": "hook", "type": "post", "outcomes": [
    {"name": "done", "type": "success", "output_path": "$.a[*].b", "schema": {"type": "object", "required": ["a"]}},
    {"name": "failed", "type": "failure", "error_path": "$..code", "cause_path": "$.why", "schema": {"type": "object"}},
    {"name": "beat", "type": "heartbeat", "schema": {"type": "array"}}]}
]}"#;

fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(1_900_000_000).expect("time")
}

/// Parsed once: the request is the same for every input, and parsing it
/// per input compiled its form schema and JSONPaths every time. (Each
/// input still checks a form submission, which builds the form's
/// validator, as a submission does in the service.)
static PARSED: LazyLock<CreateRequest> = LazyLock::new(|| {
    let policy = Features {
        output_parameters: true,
        post_actions: true,
        sign_in: true,
        slack: false,
    };
    CreateRequest::parse(REQUEST.as_bytes(), policy, now()).expect("valid")
});

fuzz_target!(|data: &[u8]| {
    let now = now();
    let request = &*PARSED;
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(2, '\n');
    let query = parts.next().unwrap_or_default();
    let body_text = parts.next().unwrap_or_default();
    let mut params = Params::new();
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        params.insert(k.to_owned(), v.to_owned());
    }
    let body: Option<serde_json::Value> = serde_json::from_str(body_text).ok();
    for claims in claims_for(request, TransactionId([0; 16]), now) {
        let _ = verify(
            &claims,
            params.get("action").map(String::as_str),
            params.get("type").map(String::as_str),
            now,
        );
        let submitted = match &body {
            Some(body) => Submitted::Json(body.get("form").cloned()),
            None => Submitted::Page(params.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
        };
        let values = match form_values(&claims.action, submitted) {
            Ok(values) => values,
            Err(errors) => {
                assert!(!errors.is_empty() && !errors.summary().is_empty());
                continue;
            }
        };
        let answer = Answer {
            comment: params.get("comment").map(String::as_str),
            form: values.as_ref(),
        };
        let decided = decide_as(
            &claims,
            &params,
            body.as_ref(),
            answer,
            None,
            Features {
                output_parameters: true,
                post_actions: true,
                sign_in: true,
                slack: false,
            },
        );
        if let Ok(decision) = decided {
            let token = match &decision.command {
                EngineCall::Success { token, .. }
                | EngineCall::Failure { token, .. }
                | EngineCall::Heartbeat { token } => token,
            };
            assert_eq!(token.expose(), "QUJD");
        }
    }
});
