//! Callbacks: from opened claims and the request to one `SendTask*` call.
//!
//! The HTTP layer parses and opens; [`verify`] checks expiry and that the
//! query was not altered; [`decide`] builds the call. Nothing here talks to
//! Step Functions, so every refusal happens before any call is made.

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::action::{
    Action, ActionEffect, ActionName, CommentRule, FieldSource, MAX_CAUSE_CHARS, MAX_ERROR_CHARS,
    MAX_OUTPUT_BYTES, OutcomeEffect, OutcomeOutput, ResponseSpec, checked_redirect, compile_path,
};
use super::approvers::Identity;
use super::error::{ErrorCode, Rejection};
use super::features::Features;
use super::form::{FormErrors, Problem, Submitted};
use super::payload::Claims;
use super::template::{Embed, Params, expand_str, expand_str_as, expand_value};
use super::token::{EngineKind, Token};

/// The engine call to make: Step Functions' `SendTask*` for a task
/// token, Lambda's `SendDurableExecutionCallback*` for a callback ID.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineCall {
    /// SendTaskSuccess (SendDurableExecutionCallbackSuccess).
    Success {
        /// The task token or callback ID.
        token: Token,
        /// JSON text.
        output: String,
    },
    /// SendTaskFailure (SendDurableExecutionCallbackFailure).
    Failure {
        /// The task token or callback ID.
        token: Token,
        /// Error name.
        error: Option<String>,
        /// Cause.
        cause: Option<String>,
    },
    /// SendTaskHeartbeat (SendDurableExecutionCallbackHeartbeat).
    Heartbeat {
        /// The task token or callback ID.
        token: Token,
    },
}

/// The API operation of a heartbeat for this token (the page probe's).
pub fn heartbeat_operation(token: &Token) -> &'static str {
    match token.engine() {
        EngineKind::StepFunctions => "SendTaskHeartbeat",
        EngineKind::Durable => "SendDurableExecutionCallbackHeartbeat",
    }
}

impl EngineCall {
    /// The API operation's name, for logs and for naming the permission
    /// it needs.
    pub fn operation(&self) -> &'static str {
        let durable = self.token().engine() == EngineKind::Durable;
        match (self, durable) {
            (Self::Success { .. }, false) => "SendTaskSuccess",
            (Self::Failure { .. }, false) => "SendTaskFailure",
            (Self::Heartbeat { token }, _) => heartbeat_operation(token),
            (Self::Success { .. }, true) => "SendDurableExecutionCallbackSuccess",
            (Self::Failure { .. }, true) => "SendDurableExecutionCallbackFailure",
        }
    }

    /// What the call answers.
    pub fn token(&self) -> &Token {
        match self {
            Self::Success { token, .. }
            | Self::Failure { token, .. }
            | Self::Heartbeat { token } => token,
        }
    }
}

/// The call, and how to answer the caller once it succeeds.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The call to make.
    pub command: EngineCall,
    /// The response spec to use (outcome's, else action's), expanded.
    pub response: Option<ResponseSpec>,
    /// The POST outcome that matched, if any.
    pub outcome: Option<ActionName>,
    /// The person's comment as sent, if any.
    pub comment: Option<String>,
}

/// Formats Unix milliseconds as RFC 3339 (UTC).
pub fn format_millis(millis: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| millis.to_string())
}

/// Refuses a link whose expiry (Unix milliseconds) has come.
pub fn check_expiry(expires_at_millis: Option<i64>, now: OffsetDateTime) -> Result<(), Rejection> {
    if let Some(expires) = expires_at_millis {
        let now_ms = now.unix_timestamp_nanos() / 1_000_000;
        if now_ms >= i128::from(expires) {
            return Err(Rejection::new(
                ErrorCode::ExpiredPayload,
                format!("this link expired at {}", format_millis(expires)),
            ));
        }
    }
    Ok(())
}

/// Checks expiry, then that the query's `action` and `type` (when present)
/// match the sealed action.
pub fn verify(
    claims: &Claims,
    query_action: Option<&str>,
    query_type: Option<&str>,
    now: OffsetDateTime,
) -> Result<(), Rejection> {
    check_expiry(claims.expires_at_millis, now)?;
    let name = claims.action.name.as_str();
    if query_action.is_some_and(|q| q != name) {
        return Err(Rejection::new(
            ErrorCode::ActionMismatched,
            "the action in the URL does not match the link's sealed action",
        ));
    }
    let kind = claims.action.kind();
    if query_type.is_some_and(|q| q != kind.as_str()) {
        return Err(Rejection::new(
            ErrorCode::ActionMismatched,
            "the type in the URL does not match the link's sealed action",
        ));
    }
    Ok(())
}

/// Adds the record of who decided to an object output.
fn with_approver(output: &Value, approver: Option<&Identity>) -> Value {
    let mut output = output.clone();
    if let (Some(who), Value::Object(fields)) = (approver, &mut output) {
        fields.insert("approver".to_owned(), who.record());
    }
    output
}

/// Ends a failure's cause with who decided.
fn cause_with_approver(cause: Option<String>, approver: Option<&Identity>) -> Option<String> {
    match (cause, approver) {
        (Some(cause), Some(who)) => Some(format!("{cause}\n\nDecided by {}", who.display())),
        (None, Some(who)) => Some(format!("Decided by {}", who.display())),
        (cause, None) => cause,
    }
}

fn invalid_output(message: String) -> Rejection {
    Rejection::new(ErrorCode::InvalidOutput, message)
}

fn success(token: &Token, output: &Value) -> Result<EngineCall, Rejection> {
    let output = serde_json::to_string(output).expect("a JSON value serialises");
    if output.len() > MAX_OUTPUT_BYTES {
        return Err(invalid_output(format!(
            "the output is {} bytes; {} takes at most {MAX_OUTPUT_BYTES}",
            output.len(),
            token.engine().service()
        )));
    }
    Ok(EngineCall::Success {
        token: token.clone(),
        output,
    })
}

fn failure(
    token: &Token,
    error: Option<String>,
    cause: Option<String>,
) -> Result<EngineCall, Rejection> {
    if error
        .as_ref()
        .is_some_and(|e| e.chars().count() > MAX_ERROR_CHARS)
    {
        return Err(invalid_output(format!(
            "the error is longer than {MAX_ERROR_CHARS} characters"
        )));
    }
    if cause
        .as_ref()
        .is_some_and(|c| c.chars().count() > MAX_CAUSE_CHARS)
    {
        return Err(invalid_output(format!(
            "the cause is longer than {MAX_CAUSE_CHARS} characters"
        )));
    }
    Ok(EngineCall::Failure {
        token: token.clone(),
        error,
        cause,
    })
}

fn expand_response(spec: &ResponseSpec, params: &Params) -> Result<ResponseSpec, Rejection> {
    let expand = |s: &Option<String>, embed| {
        s.as_deref()
            .map(|s| expand_str_as(s, params, embed))
            .transpose()
    };
    Ok(ResponseSpec {
        redirect: expand(&spec.redirect, Embed::UrlComponent)?,
        json: spec
            .json
            .as_ref()
            .map(|j| expand_value(j, params))
            .transpose()?,
        html: expand(&spec.html, Embed::Html)?,
        text: expand(&spec.text, Embed::Plain)?,
    })
}

/// Puts the redirect in the normalised form a `Location` header takes,
/// before anything is sent to Step Functions.
fn finish_response(spec: Option<ResponseSpec>) -> Result<Option<ResponseSpec>, Rejection> {
    let Some(mut spec) = spec else {
        return Ok(None);
    };
    if let Some(redirect) = spec.redirect.take() {
        spec.redirect = Some(checked_redirect(&redirect).ok_or_else(|| {
            Rejection::new(
                ErrorCode::OutputFormatting,
                "the redirect is not an absolute http or https URL once the parameters are filled in",
            )
        })?);
    }
    Ok(Some(spec))
}

fn query_path<'v>(path: &str, body: &'v Value) -> Result<Vec<&'v Value>, Rejection> {
    let compiled = compile_path(path).map_err(|e| {
        Rejection::new(
            ErrorCode::InvalidJsonPath,
            format!("JSONPath {path:?}: {e}"),
        )
    })?;
    Ok(compiled.query(body).all())
}

/// A failure field from a path: no match leaves it unset, one string is
/// used as is, anything else becomes the JSON text of the array of matches.
fn field_value(source: &FieldSource, body: &Value) -> Result<Option<String>, Rejection> {
    Ok(match source {
        FieldSource::Unset => None,
        FieldSource::Fixed(value) => Some(value.clone()),
        FieldSource::Path(path) => match query_path(path, body)?.as_slice() {
            [] => None,
            [Value::String(s)] => Some(s.clone()),
            matches => Some(serde_json::to_string(matches).expect("JSON serialises")),
        },
    })
}

fn invalid_comment(message: impl Into<String>) -> Rejection {
    Rejection::new(ErrorCode::InvalidComment, message)
}

/// Checks the person's comment against the action's rule: line endings
/// made `\n`, surrounding white space trimmed, empty meaning none.
fn checked_comment(
    rule: Option<CommentRule>,
    comment: Option<&str>,
) -> Result<Option<String>, Rejection> {
    let text = comment
        .map(|c| c.replace("\r\n", "\n").trim().to_owned())
        .filter(|c| !c.is_empty());
    match (rule, text) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err(invalid_comment("this action takes no comment")),
        (Some(rule), None) if rule.required => Err(invalid_comment("this action needs a comment")),
        (Some(_), None) => Ok(None),
        (Some(rule), Some(text)) => {
            let chars = text.chars().count();
            if chars > usize::from(rule.max_chars) {
                return Err(invalid_comment(format!(
                    "the comment is {chars} characters; this action takes at most {}",
                    rule.max_chars
                )));
            }
            if text
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t')
            {
                return Err(invalid_comment("the comment contains control characters"));
            }
            Ok(Some(text))
        }
    }
}

/// What the person sent with a success or failure decision.
#[derive(Debug, Clone, Copy, Default)]
pub struct Answer<'a> {
    /// Their comment, as sent.
    pub comment: Option<&'a str>,
    /// The form's values, as [`form_values`] made and checked them.
    pub form: Option<&'a Value>,
}

/// The form values a submission carries, read and checked against the
/// action's form: a page's fields ([`Submitted::Page`]) are converted to
/// typed JSON; a program's `{"form": ...}` is checked as it is (absent
/// counts as `{}`, so required fields are named). An action without a
/// form ignores a page's other fields (as before forms), and refuses a
/// program's `form`.
pub fn form_values(action: &Action, submitted: Submitted) -> Result<Option<Value>, FormErrors> {
    match (&action.page.form, submitted) {
        (None, Submitted::Page(_) | Submitted::Json(None)) => Ok(None),
        (None, Submitted::Json(Some(_))) => Err(FormErrors::whole(Problem::NoForm)),
        (Some(form), Submitted::Page(pairs)) => form.read(&pairs).map(Some),
        (Some(form), Submitted::Json(values)) => {
            let values = values.unwrap_or_else(|| Value::Object(serde_json::Map::new()));
            form.check(&values).map(|()| Some(values))
        }
    }
}

/// Builds the Step Functions call for an opened, verified link.
///
/// `params` are the query parameters except `data`; `body` is the parsed
/// JSON body of a POST (required for POST actions, ignored otherwise).
pub fn decide(
    claims: &Claims,
    params: &Params,
    body: Option<&Value>,
    comment: Option<&str>,
    policy: Features,
) -> Result<Decision, Rejection> {
    let answer = Answer {
        comment,
        form: None,
    };
    decide_as(claims, params, body, answer, None, policy)
}

/// [`decide`] for a verified person, with the answer's form values: a
/// success's object output gains `"approver"` (its `sub`, `email`, `name`
/// and `iss`) and `"form"`, and a failure's cause ends with the values'
/// JSON and their email.
pub fn decide_as(
    claims: &Claims,
    params: &Params,
    body: Option<&Value>,
    answer: Answer<'_>,
    approver: Option<&Identity>,
    policy: Features,
) -> Result<Decision, Rejection> {
    let token = &claims.token;
    let action = &claims.action;
    let comment = checked_comment(action.page.comment, answer.comment)?;
    let form = match (&action.page.form, answer.form) {
        (None, None) => None,
        (Some(_), Some(values)) => Some(values),
        (None, Some(_)) => {
            return Err(Rejection::new(
                ErrorCode::InvalidForm,
                "this action takes no form",
            ));
        }
        (Some(_), None) => {
            return Err(Rejection::new(
                ErrorCode::InvalidForm,
                "this action needs its form's values",
            ));
        }
    };
    if let ActionEffect::Post { outcomes } = &action.effect {
        if !policy.post_actions {
            return Err(Rejection::new(
                ErrorCode::PostActionsDisabled,
                "POST actions are not enabled in this deployment",
            ));
        }
        let body = body.ok_or_else(|| {
            Rejection::new(
                ErrorCode::InvalidPostActionBody,
                "this link needs a POST with a JSON body",
            )
        })?;
        for outcome in outcomes {
            let validator = jsonschema::validator_for(&outcome.schema).map_err(|e| {
                Rejection::new(
                    ErrorCode::InvalidPostActionOutcome,
                    format!(
                        "outcome {:?}: schema is not valid: {e}",
                        outcome.name.as_str()
                    ),
                )
            })?;
            if !validator.is_valid(body) {
                continue;
            }
            let command = match &outcome.effect {
                OutcomeEffect::Success(OutcomeOutput::Body) => {
                    success(token, &with_approver(body, approver))?
                }
                OutcomeEffect::Success(OutcomeOutput::Fixed(value)) => {
                    success(token, &with_approver(value, approver))?
                }
                OutcomeEffect::Success(OutcomeOutput::Path(path)) => {
                    let matches: Vec<Value> =
                        query_path(path, body)?.into_iter().cloned().collect();
                    success(token, &Value::Array(matches))?
                }
                OutcomeEffect::Failure { error, cause } => failure(
                    token,
                    field_value(error, body)?,
                    cause_with_approver(field_value(cause, body)?, approver),
                )?,
                OutcomeEffect::Heartbeat => EngineCall::Heartbeat {
                    token: token.clone(),
                },
            };
            return Ok(Decision {
                command,
                response: finish_response(
                    outcome.response.clone().or_else(|| action.response.clone()),
                )?,
                outcome: Some(outcome.name.clone()),
                comment: None,
            });
        }
        return Err(Rejection::new(
            ErrorCode::InvalidPostActionBody,
            format!(
                "the body matches none of the outcomes' schemas ({})",
                outcomes
                    .iter()
                    .map(|o| o.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }

    let expanding = claims.output_parameters;
    if expanding && !policy.output_parameters {
        return Err(Rejection::new(
            ErrorCode::ParametersDisabled,
            "this link uses output parameters, which this deployment no longer enables",
        ));
    }
    let text = |s: &Option<String>| -> Result<Option<String>, Rejection> {
        match s {
            Some(s) if expanding => expand_str(s, params).map(Some),
            other => Ok(other.clone()),
        }
    };
    let command = match &action.effect {
        ActionEffect::Success { output } => {
            let mut output = if expanding {
                expand_value(output, params)?
            } else {
                output.clone()
            };
            if let Value::Object(fields) = &mut output {
                if let Some(comment) = &comment {
                    fields.insert("comment".to_owned(), Value::String(comment.clone()));
                }
                if let Some(values) = form {
                    fields.insert("form".to_owned(), values.clone());
                }
            }
            success(token, &with_approver(&output, approver))?
        }
        ActionEffect::Failure { error, cause } => {
            let values = form.map(|v| serde_json::to_string(v).expect("JSON serialises"));
            let parts: Vec<String> = [text(cause)?, comment.clone(), values]
                .into_iter()
                .flatten()
                .collect();
            let cause = (!parts.is_empty()).then(|| parts.join("\n\n"));
            failure(token, text(error)?, cause_with_approver(cause, approver))?
        }
        ActionEffect::Heartbeat | ActionEffect::Post { .. } => EngineCall::Heartbeat {
            token: token.clone(),
        },
    };
    let response = match &action.response {
        Some(spec) if expanding => Some(expand_response(spec, params)?),
        other => other.clone(),
    };
    Ok(Decision {
        command,
        response: finish_response(response)?,
        outcome: None,
        comment,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::{Action, Outcome};
    use crate::payload::TransactionId;
    use serde_json::json;
    use time::macros::datetime;

    const POLICY: Features = Features {
        output_parameters: true,
        post_actions: true,
        sign_in: true,
        slack: false,
    };

    fn claims(effect: ActionEffect) -> Claims {
        Claims {
            token: Token::Task(crate::token::TaskToken::parse("QUJD".into()).expect("token")),
            transaction_id: TransactionId([0; 16]),
            issued_at_secs: 0,
            expires_at_millis: Some(datetime!(2030-01-01 0:00 UTC).unix_timestamp() * 1000),
            output_parameters: false,
            action: Action {
                name: ActionName::parse("go").expect("name"),
                effect,
                response: None,
                page: crate::action::PageOptions::default(),
            },
            gate: None,
            locale: None,
            requested_by: None,
        }
    }

    fn params(pairs: &[(&str, &str)]) -> Params {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn outcome(name: &str, schema: Value, effect: OutcomeEffect) -> Outcome {
        Outcome {
            name: ActionName::parse(name).expect("name"),
            schema,
            effect,
            response: None,
        }
    }

    fn post_claims() -> Claims {
        claims(ActionEffect::Post {
            outcomes: vec![
                outcome(
                    "done",
                    json!({"type": "object", "properties": {"status": {"const": "done"}}, "required": ["status"]}),
                    OutcomeEffect::Success(OutcomeOutput::Path("$.result.*".into())),
                ),
                outcome(
                    "failed",
                    json!({"type": "object", "properties": {"status": {"const": "failed"}}, "required": ["status"]}),
                    OutcomeEffect::Failure {
                        error: FieldSource::Path("$.code".into()),
                        cause: FieldSource::Path("$.details[*]".into()),
                    },
                ),
                outcome(
                    "raw",
                    json!({"type": "array"}),
                    OutcomeEffect::Success(OutcomeOutput::Body),
                ),
            ],
        })
    }

    fn decide_post(body: Value) -> Result<Decision, Rejection> {
        decide(&post_claims(), &Params::new(), Some(&body), None, POLICY)
    }

    #[test]
    fn expiry_and_mismatch_are_checked_in_order() {
        let c = claims(ActionEffect::Heartbeat);
        let before = datetime!(2029-12-31 23:59:59 UTC);
        let after = datetime!(2030-01-01 0:00 UTC);
        assert!(verify(&c, Some("go"), Some("heartbeat"), before).is_ok());
        assert!(verify(&c, None, None, before).is_ok());
        let expired = verify(&c, Some("other"), None, after).expect_err("expired");
        assert_eq!(expired.code, ErrorCode::ExpiredPayload);
        assert!(
            expired.message.contains("2030-01-01T00:00:00Z"),
            "{}",
            expired.message
        );
        assert_eq!(
            verify(&c, Some("other"), None, before)
                .expect_err("name")
                .code,
            ErrorCode::ActionMismatched
        );
        assert_eq!(
            verify(&c, None, Some("success"), before)
                .expect_err("type")
                .code,
            ErrorCode::ActionMismatched
        );
    }

    #[test]
    fn output_parameters_expand_output_error_cause_and_response() {
        let mut c = claims(ActionEffect::Success {
            output: json!({"by": "$who", "$who": "${action}"}),
        });
        c.output_parameters = true;
        c.action.response = Some(ResponseSpec {
            redirect: Some("https://example.com/done?u=$who".into()),
            ..ResponseSpec::default()
        });
        let p = params(&[("who", "bob"), ("action", "go")]);
        let d = decide(&c, &p, None, None, POLICY).expect("decides");
        assert_eq!(
            d.command,
            EngineCall::Success {
                token: c.token.clone(),
                output: r#"{"by":"bob","bob":"go"}"#.into()
            }
        );
        assert_eq!(
            d.response.and_then(|r| r.redirect).as_deref(),
            Some("https://example.com/done?u=bob")
        );

        let err = decide(&c, &Params::new(), None, None, POLICY).expect_err("missing");
        assert_eq!(err.code, ErrorCode::OutputFormatting);
        let off = Features {
            output_parameters: false,
            post_actions: true,
            sign_in: true,
            slack: false,
        };
        assert_eq!(
            decide(&c, &p, None, None, off).expect_err("disabled").code,
            ErrorCode::ParametersDisabled
        );

        let mut f = claims(ActionEffect::Failure {
            error: Some("E_$who".into()),
            cause: Some("$$ by $who".into()),
        });
        f.output_parameters = true;
        let d = decide(&f, &p, None, None, POLICY).expect("decides");
        assert_eq!(
            d.command,
            EngineCall::Failure {
                token: f.token.clone(),
                error: Some("E_bob".into()),
                cause: Some("$ by bob".into())
            }
        );
    }

    #[test]
    fn parameters_cannot_inject_markup_or_move_a_redirect() {
        let mut c = claims(ActionEffect::Heartbeat);
        c.output_parameters = true;
        c.action.response = Some(ResponseSpec {
            redirect: Some("https://example.com/done/$page".into()),
            html: Some("<p>Thanks $who</p>".into()),
            ..ResponseSpec::default()
        });
        let p = params(&[
            ("who", "<script>alert(1)</script>"),
            ("page", "x/../../@evil.example?a=b#c"),
        ]);
        let spec = decide(&c, &p, None, None, POLICY)
            .expect("decides")
            .response
            .expect("spec");
        assert_eq!(
            spec.html.as_deref(),
            Some("<p>Thanks &lt;script&gt;alert(1)&lt;/script&gt;</p>")
        );
        let redirect = spec.redirect.expect("redirect");
        assert_eq!(
            url::Url::parse(&redirect).expect("url").host_str(),
            Some("example.com"),
            "{redirect}"
        );
        assert!(
            redirect
                .starts_with("https://example.com/done/x%2F..%2F..%2F%40evil.example%3Fa%3Db%23c"),
            "{redirect}"
        );
    }

    #[test]
    fn redirects_are_normalised_for_the_location_header() {
        let mut c = claims(ActionEffect::Heartbeat);
        c.action.response = Some(ResponseSpec {
            redirect: Some("https://example.com/ä ö".into()),
            ..ResponseSpec::default()
        });
        let spec = decide(&c, &Params::new(), None, None, POLICY)
            .expect("decides")
            .response
            .expect("spec");
        assert_eq!(
            spec.redirect.as_deref(),
            Some("https://example.com/%C3%A4%20%C3%B6")
        );
    }

    #[test]
    fn without_output_parameters_dollars_are_left_alone() {
        let c = claims(ActionEffect::Success {
            output: json!("$who costs $$"),
        });
        let d = decide(&c, &Params::new(), None, None, POLICY).expect("decides");
        assert!(
            matches!(d.command, EngineCall::Success { ref output, .. } if output == r#""$who costs $$""#)
        );
    }

    #[test]
    fn post_bodies_pick_the_first_matching_outcome() {
        let d = decide_post(json!({"status": "done", "result": {"a": 1, "b": [2]}})).expect("done");
        assert_eq!(d.outcome.as_ref().map(ActionName::as_str), Some("done"));
        assert!(matches!(d.command, EngineCall::Success { ref output, .. } if output == "[1,[2]]"));

        let d = decide_post(json!({"status": "failed", "code": "Boom", "details": ["x", "y"]}))
            .expect("failed");
        assert!(
            matches!(d.command, EngineCall::Failure { ref error, ref cause, .. }
            if error.as_deref() == Some("Boom") && cause.as_deref() == Some(r#"["x","y"]"#))
        );

        let d = decide_post(json!({"status": "failed"})).expect("no matches leaves fields unset");
        assert!(matches!(
            d.command,
            EngineCall::Failure {
                error: None,
                cause: None,
                ..
            }
        ));

        let d = decide_post(json!({"status": "failed", "code": 42})).expect("non-string");
        assert!(
            matches!(d.command, EngineCall::Failure { ref error, .. } if error.as_deref() == Some("[42]"))
        );

        let d = decide_post(json!([1, 2])).expect("raw");
        assert!(matches!(d.command, EngineCall::Success { ref output, .. } if output == "[1,2]"));

        let err = decide_post(json!({"status": "unknown"})).expect_err("no outcome");
        assert_eq!(err.code, ErrorCode::InvalidPostActionBody);
        assert!(err.message.contains("done, failed, raw"), "{}", err.message);
    }

    #[test]
    fn post_actions_need_a_body_and_the_deployment() {
        let c = post_claims();
        assert_eq!(
            decide(&c, &Params::new(), None, None, POLICY)
                .expect_err("no body")
                .code,
            ErrorCode::InvalidPostActionBody
        );
        let off = Features {
            output_parameters: true,
            post_actions: false,
            sign_in: true,
            slack: false,
        };
        assert_eq!(
            decide(&c, &Params::new(), Some(&json!({})), None, off)
                .expect_err("off")
                .code,
            ErrorCode::PostActionsDisabled
        );
    }

    #[test]
    fn outputs_over_the_step_functions_limits_are_refused_before_the_call() {
        let c = claims(ActionEffect::Post {
            outcomes: vec![outcome(
                "any",
                json!({}),
                OutcomeEffect::Success(OutcomeOutput::Body),
            )],
        });
        let big = json!("x".repeat(MAX_OUTPUT_BYTES));
        let err = decide(&c, &Params::new(), Some(&big), None, POLICY).expect_err("too big");
        assert_eq!(err.code, ErrorCode::InvalidOutput);
        let mut f = claims(ActionEffect::Failure {
            error: Some("$e".into()),
            cause: None,
        });
        f.output_parameters = true;
        let long = "e".repeat(300);
        let err = decide(&f, &params(&[("e", &long)]), None, None, POLICY).expect_err("long error");
        assert_eq!(err.code, ErrorCode::InvalidOutput);
    }
}
