//! From CreateUrls' raw action JSON to checked [`Action`]s: the serde
//! shapes a caller may send, and every check an action must pass before it
//! is sealed.

use std::fmt;

use serde::Deserialize;
use serde_json::Value;
use serde_json_path::JsonPath;

use super::{
    Action, ActionEffect, ActionKind, ActionName, CommentRule, DEFAULT_COMMENT_CHARS, FieldSource,
    MAX_CAUSE_CHARS, MAX_COMMENT_CHARS, MAX_DESCRIPTION_CHARS, MAX_ERROR_CHARS, MAX_LABEL_CHARS,
    MAX_OUTPUT_BYTES, Outcome, OutcomeEffect, OutcomeOutput, PageOptions, ResponseSpec,
};
use crate::error::{ErrorCode, Rejection};
use crate::form::Form;

/// Deserialises a field that may be present with a `null` value, keeping
/// "present and null" apart from "absent".
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawResponse {
    redirect: Option<String>,
    json: Option<Value>,
    html: Option<String>,
    text: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAction {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, deserialize_with = "present")]
    output: Option<Value>,
    error: Option<String>,
    cause: Option<String>,
    outcomes: Option<Vec<RawOutcome>>,
    response: Option<RawResponse>,
    label: Option<String>,
    description: Option<String>,
    comment: Option<RawComment>,
    form: Option<Value>,
    one_click: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    approvers: Option<Value>,
}

impl RawAction {
    /// The action's own approver rules, taken out before it is parsed
    /// (CreateUrls checks them against the request's); `Some(Null)` when
    /// given as `null`.
    pub(crate) fn take_approvers(&mut self) -> Option<Value> {
        self.approvers.take()
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum RawComment {
    Allowed(bool),
    Rule(RawCommentRule),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCommentRule {
    max_length: Option<u16>,
    required: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOutcome {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    schema: Value,
    response: Option<RawResponse>,
    output_body: Option<bool>,
    output_path: Option<String>,
    #[serde(default, deserialize_with = "present")]
    output: Option<Value>,
    error: Option<String>,
    error_path: Option<String>,
    cause: Option<String>,
    cause_path: Option<String>,
}

fn invalid_action(name: &str, message: impl fmt::Display) -> Rejection {
    Rejection::new(
        ErrorCode::InvalidAction,
        format!("action {name:?}: {message}"),
    )
}

/// An absolute http(s) URL in its normalised, ASCII-only form (fit for a
/// `Location` header), or `None`.
pub fn checked_redirect(raw: &str) -> Option<String> {
    let url = url::Url::parse(raw).ok()?;
    (matches!(url.scheme(), "http" | "https") && url.host().is_some()).then(|| url.to_string())
}

/// The scheme and authority of a redirect template: the part a parameter
/// must never reach.
pub fn redirect_origin(template: &str) -> &str {
    let after_scheme = template.find("://").map_or(0, |i| i + 3);
    let end = template[after_scheme..]
        .find(['/', '?', '#'])
        .map_or(template.len(), |i| after_scheme + i);
    &template[..end]
}

/// Checks a response spec: `redirect` must be an absolute http(s) URL and
/// `json` an object.
pub(crate) fn parse_response(raw: RawResponse, owner: &str) -> Result<ResponseSpec, Rejection> {
    if raw
        .redirect
        .as_deref()
        .is_some_and(|r| checked_redirect(r).is_none())
    {
        return Err(invalid_action(
            owner,
            "response.redirect must be an absolute http or https URL",
        ));
    }
    if raw.json.as_ref().is_some_and(|j| !j.is_object()) {
        return Err(invalid_action(owner, "response.json must be a JSON object"));
    }
    Ok(ResponseSpec {
        redirect: raw.redirect,
        json: raw.json,
        html: raw.html,
        text: raw.text,
    })
}

fn check_failure_fields(
    owner: &str,
    error: Option<&str>,
    cause: Option<&str>,
) -> Result<(), Rejection> {
    if error.is_some_and(|e| e.chars().count() > MAX_ERROR_CHARS) {
        return Err(invalid_action(
            owner,
            format!("error is longer than {MAX_ERROR_CHARS} characters"),
        ));
    }
    if cause.is_some_and(|c| c.chars().count() > MAX_CAUSE_CHARS) {
        return Err(invalid_action(
            owner,
            format!("cause is longer than {MAX_CAUSE_CHARS} characters"),
        ));
    }
    Ok(())
}

/// Turns one raw action into a checked [`Action`].
pub(crate) fn parse_action(
    raw: RawAction,
    post_actions_enabled: bool,
) -> Result<Action, Rejection> {
    let name = ActionName::parse(&raw.name)?;
    let owner = name.as_str();
    let all = [
        ActionKind::Success,
        ActionKind::Failure,
        ActionKind::Heartbeat,
        ActionKind::Post,
    ];
    let kind = ActionKind::parse(&raw.kind, &all).ok_or_else(|| {
        Rejection::new(
            ErrorCode::InvalidJson,
            format!(
                "action {owner:?} has unknown type {:?}; use success, failure, heartbeat or post",
                raw.kind
            ),
        )
    })?;
    let mut extra = Vec::new();
    if raw.output.is_some() && kind != ActionKind::Success {
        extra.push("output");
    }
    if raw.error.is_some() && kind != ActionKind::Failure {
        extra.push("error");
    }
    if raw.cause.is_some() && kind != ActionKind::Failure {
        extra.push("cause");
    }
    if raw.outcomes.is_some() && kind != ActionKind::Post {
        extra.push("outcomes");
    }
    if !extra.is_empty() {
        return Err(invalid_action(
            owner,
            format!("a {kind} action takes no {}", extra.join(", ")),
        ));
    }
    let effect = match kind {
        ActionKind::Success => ActionEffect::Success {
            output: raw
                .output
                .ok_or_else(|| invalid_action(owner, "a success action needs an output"))?,
        },
        ActionKind::Failure => {
            check_failure_fields(owner, raw.error.as_deref(), raw.cause.as_deref())?;
            ActionEffect::Failure {
                error: raw.error,
                cause: raw.cause,
            }
        }
        ActionKind::Heartbeat => ActionEffect::Heartbeat,
        ActionKind::Post => {
            if !post_actions_enabled {
                return Err(Rejection::new(
                    ErrorCode::PostActionsDisabled,
                    format!(
                        "action {owner:?}: POST actions are not enabled in this deployment (ENABLE_POST_ACTIONS)"
                    ),
                ));
            }
            let raw_outcomes = raw.outcomes.unwrap_or_default();
            if raw_outcomes.is_empty() {
                return Err(invalid_action(
                    owner,
                    "a post action needs at least one outcome",
                ));
            }
            let outcomes = raw_outcomes
                .into_iter()
                .map(|o| parse_outcome(owner, o))
                .collect::<Result<Vec<_>, _>>()?;
            ActionEffect::Post { outcomes }
        }
    };
    if let ActionEffect::Success { output } = &effect {
        let size = serde_json::to_string(output).map_or(0, |s| s.len());
        if size > MAX_OUTPUT_BYTES {
            return Err(invalid_action(
                owner,
                format!(
                    "output is {size} bytes; at most {MAX_OUTPUT_BYTES} are taken (Step Functions' limit, applied to Lambda's too)"
                ),
            ));
        }
    }
    let response = raw.response.map(|r| parse_response(r, owner)).transpose()?;
    let page = parse_page(
        owner,
        kind,
        &effect,
        RawPage {
            label: raw.label,
            description: raw.description,
            comment: raw.comment,
            form: raw.form,
            one_click: raw.one_click,
        },
    )?;
    Ok(Action {
        name,
        effect,
        response,
        page,
    })
}

fn check_text(
    owner: &str,
    field: &str,
    text: &str,
    max: usize,
    newlines: bool,
) -> Result<(), Rejection> {
    if text.chars().count() > max {
        return Err(invalid_action(
            owner,
            format!("{field} is longer than {max} characters"),
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !(newlines && (c == '\n' || c == '\t')))
    {
        return Err(invalid_action(
            owner,
            format!("{field} contains control characters"),
        ));
    }
    Ok(())
}

/// The fields of a raw action that shape its page.
struct RawPage {
    label: Option<String>,
    description: Option<String>,
    comment: Option<RawComment>,
    form: Option<Value>,
    one_click: Option<bool>,
}

fn parse_page(
    owner: &str,
    kind: ActionKind,
    effect: &ActionEffect,
    raw: RawPage,
) -> Result<PageOptions, Rejection> {
    let RawPage {
        label,
        description,
        comment,
        form,
        one_click,
    } = raw;
    if let Some(label) = &label {
        check_text(owner, "label", label, MAX_LABEL_CHARS, false)?;
    }
    if let Some(description) = &description {
        check_text(
            owner,
            "description",
            description,
            MAX_DESCRIPTION_CHARS,
            true,
        )?;
    }
    let comment = match comment {
        None | Some(RawComment::Allowed(false)) => None,
        Some(RawComment::Allowed(true)) => Some(CommentRule {
            max_chars: DEFAULT_COMMENT_CHARS,
            required: false,
        }),
        Some(RawComment::Rule(rule)) => Some(CommentRule {
            max_chars: rule.max_length.unwrap_or(DEFAULT_COMMENT_CHARS),
            required: rule.required.unwrap_or(false),
        }),
    };
    if let Some(rule) = comment {
        if !matches!(kind, ActionKind::Success | ActionKind::Failure) {
            return Err(invalid_action(
                owner,
                "only success and failure actions take a comment",
            ));
        }
        if rule.max_chars == 0 || rule.max_chars > MAX_COMMENT_CHARS {
            return Err(invalid_action(
                owner,
                format!("comment.max_length must be 1 to {MAX_COMMENT_CHARS}"),
            ));
        }
        if let ActionEffect::Success { output } = effect {
            let fits = output
                .as_object()
                .is_some_and(|o| !o.contains_key("comment"));
            if !fits {
                return Err(invalid_action(
                    owner,
                    "a success action that takes a comment needs an object output without a \"comment\" field (the comment is added there)",
                ));
            }
        }
    }
    let one_click = one_click.unwrap_or(false);
    if one_click && kind == ActionKind::Post {
        return Err(invalid_action(owner, "a post action cannot be one_click"));
    }
    if one_click && comment.is_some_and(|c| c.required) {
        return Err(invalid_action(
            owner,
            "a one_click action cannot require a comment",
        ));
    }
    let form = form
        .map(|schema| parse_form(owner, kind, effect, one_click, &schema))
        .transpose()?;
    Ok(PageOptions {
        label,
        description,
        comment,
        form,
        one_click,
    })
}

/// Checks an action's `form`: success and failure actions only, never
/// one-click (a GET carries no values), and a success's output must be an
/// object without a `"form"` field, where the values go.
fn parse_form(
    owner: &str,
    kind: ActionKind,
    effect: &ActionEffect,
    one_click: bool,
    schema: &Value,
) -> Result<Form, Rejection> {
    if !matches!(kind, ActionKind::Success | ActionKind::Failure) {
        return Err(invalid_action(
            owner,
            "only success and failure actions take a form",
        ));
    }
    if one_click {
        return Err(invalid_action(
            owner,
            "a one_click action cannot take a form (opening a link carries no values)",
        ));
    }
    if let ActionEffect::Success { output } = effect {
        let fits = output.as_object().is_some_and(|o| !o.contains_key("form"));
        if !fits {
            return Err(invalid_action(
                owner,
                "a success action with a form needs an object output without a \"form\" field (the values are added there)",
            ));
        }
    }
    Form::parse(&format!("action {owner:?}: form"), schema)
}

fn outcome_error(action: &str, outcome: &str, message: impl fmt::Display) -> Rejection {
    Rejection::new(
        ErrorCode::InvalidPostActionOutcome,
        format!("action {action:?}, outcome {outcome:?}: {message}"),
    )
}

/// Parses a JSONPath per RFC 9535, or says why it is not one.
pub fn compile_path(path: &str) -> Result<JsonPath, String> {
    JsonPath::parse(path).map_err(|e| e.to_string())
}

fn check_path(action: &str, outcome: &str, field: &str, path: &str) -> Result<(), Rejection> {
    compile_path(path).map(drop).map_err(|e| {
        Rejection::new(
            ErrorCode::InvalidJsonPath,
            format!("action {action:?}, outcome {outcome:?}: {field} {path:?} is not a valid JSONPath: {e}"),
        )
    })
}

fn field_source(
    action: &str,
    outcome: &str,
    field: &str,
    fixed: Option<String>,
    path: Option<String>,
) -> Result<FieldSource, Rejection> {
    match (fixed, path) {
        (Some(_), Some(_)) => Err(outcome_error(
            action,
            outcome,
            format!("give {field} or {field}_path, not both"),
        )),
        (Some(value), None) => Ok(FieldSource::Fixed(value)),
        (None, Some(path)) => {
            check_path(action, outcome, &format!("{field}_path"), &path)?;
            Ok(FieldSource::Path(path))
        }
        (None, None) => Ok(FieldSource::Unset),
    }
}

fn parse_outcome(action: &str, raw: RawOutcome) -> Result<Outcome, Rejection> {
    let name =
        ActionName::parse(&raw.name).map_err(|e| outcome_error(action, &raw.name, e.message))?;
    let owner = name.as_str();
    let kinds = [
        ActionKind::Success,
        ActionKind::Failure,
        ActionKind::Heartbeat,
    ];
    let kind = ActionKind::parse(&raw.kind, &kinds).ok_or_else(|| {
        outcome_error(
            action,
            owner,
            format!(
                "unknown type {:?}; use success, failure or heartbeat",
                raw.kind
            ),
        )
    })?;
    if let Err(e) = jsonschema::validator_for(&raw.schema) {
        return Err(outcome_error(
            action,
            owner,
            format!("schema is not valid: {e}"),
        ));
    }
    let has_output = raw.output_body.is_some() || raw.output_path.is_some() || raw.output.is_some();
    let has_failure = raw.error.is_some()
        || raw.error_path.is_some()
        || raw.cause.is_some()
        || raw.cause_path.is_some();
    let effect = match kind {
        ActionKind::Success => {
            if has_failure {
                return Err(outcome_error(
                    action,
                    owner,
                    "a success outcome takes no error or cause",
                ));
            }
            let chosen = [
                raw.output_body == Some(true),
                raw.output_path.is_some(),
                raw.output.is_some(),
            ];
            if chosen.iter().filter(|c| **c).count() != 1 || raw.output_body == Some(false) {
                return Err(outcome_error(
                    action,
                    owner,
                    "a success outcome needs exactly one of output_body: true, output_path or output",
                ));
            }
            if let Some(path) = raw.output_path {
                check_path(action, owner, "output_path", &path)?;
                OutcomeEffect::Success(OutcomeOutput::Path(path))
            } else if let Some(output) = raw.output {
                OutcomeEffect::Success(OutcomeOutput::Fixed(output))
            } else {
                OutcomeEffect::Success(OutcomeOutput::Body)
            }
        }
        ActionKind::Failure => {
            if has_output {
                return Err(outcome_error(
                    action,
                    owner,
                    "a failure outcome takes no output",
                ));
            }
            check_failure_fields(owner, raw.error.as_deref(), raw.cause.as_deref())?;
            OutcomeEffect::Failure {
                error: field_source(action, owner, "error", raw.error, raw.error_path)?,
                cause: field_source(action, owner, "cause", raw.cause, raw.cause_path)?,
            }
        }
        ActionKind::Heartbeat | ActionKind::Post => {
            if has_output || has_failure {
                return Err(outcome_error(
                    action,
                    owner,
                    "a heartbeat outcome takes no output, error or cause",
                ));
            }
            OutcomeEffect::Heartbeat
        }
    };
    let response = raw
        .response
        .map(|r| parse_response(r, action))
        .transpose()?;
    Ok(Outcome {
        name,
        schema: raw.schema,
        effect,
        response,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: Value) -> Result<Action, Rejection> {
        let raw: RawAction = serde_json::from_value(value)
            .map_err(|e| Rejection::new(ErrorCode::InvalidJson, e.to_string()))?;
        parse_action(raw, true)
    }

    fn check(value: Value, code: ErrorCode, needle: &str) {
        let err = parse(value.clone()).expect_err(&value.to_string());
        assert_eq!(err.code, code, "{value}: {err}");
        assert!(err.message.contains(needle), "{value}: {}", err.message);
    }

    #[test]
    fn success_keeps_a_null_output() {
        let action =
            parse(json!({"name": "ok", "type": "success", "output": null})).expect("valid");
        assert_eq!(
            action.effect,
            ActionEffect::Success {
                output: Value::Null
            }
        );
    }

    #[test]
    fn actions_are_checked_against_their_type() {
        check(
            json!({"name": "ok", "type": "success"}),
            ErrorCode::InvalidAction,
            "needs an output",
        );
        check(
            json!({"name": "no", "type": "failure", "output": 1}),
            ErrorCode::InvalidAction,
            "takes no output",
        );
        check(
            json!({"name": "x", "type": "bogus"}),
            ErrorCode::InvalidJson,
            "unknown type",
        );
        check(
            json!({"name": "a-b", "type": "heartbeat"}),
            ErrorCode::InvalidJson,
            "not valid",
        );
        check(
            json!({"name": "no", "type": "failure", "error": "e".repeat(257)}),
            ErrorCode::InvalidAction,
            "longer than 256",
        );
        check(
            json!({"name": "go", "type": "success", "output": 1, "response": {"redirect": "javascript:alert(1)"}}),
            ErrorCode::InvalidAction,
            "redirect",
        );
        check(
            json!({"name": "go", "type": "success", "output": 1, "response": {"json": [1]}}),
            ErrorCode::InvalidAction,
            "response.json",
        );
        check(
            json!({"name": "p", "type": "post", "outcomes": []}),
            ErrorCode::InvalidAction,
            "at least one",
        );
    }

    #[test]
    fn post_outcomes_are_checked_at_creation() {
        let outcome = |extra: Value| {
            let mut o = json!({"name": "o", "type": "success", "schema": {"type": "object"}});
            o.as_object_mut()
                .expect("object")
                .extend(extra.as_object().expect("object").clone());
            json!({"name": "p", "type": "post", "outcomes": [o]})
        };
        check(
            outcome(json!({})),
            ErrorCode::InvalidPostActionOutcome,
            "exactly one",
        );
        check(
            outcome(json!({"output_body": true, "output": 1})),
            ErrorCode::InvalidPostActionOutcome,
            "exactly one",
        );
        check(
            outcome(json!({"output_path": "$[["})),
            ErrorCode::InvalidJsonPath,
            "not a valid JSONPath",
        );
        check(
            outcome(json!({"output_body": true, "schema": {"type": 12}})),
            ErrorCode::InvalidPostActionOutcome,
            "schema is not valid",
        );
        let action = parse(outcome(json!({"output_path": "$.a"}))).expect("valid");
        assert_eq!(action.kind(), ActionKind::Post);
    }

    #[test]
    fn post_actions_can_be_disabled() {
        let raw: RawAction = serde_json::from_value(json!({
            "name": "p", "type": "post",
            "outcomes": [{"name": "o", "type": "heartbeat", "schema": {}}]
        }))
        .expect("shape");
        let err = parse_action(raw, false).expect_err("disabled");
        assert_eq!(err.code, ErrorCode::PostActionsDisabled);
    }
}
