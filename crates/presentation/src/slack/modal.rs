//! The modal a press opens for an action with a comment or a form: one
//! input block per field (the same kinds of control as the page), and
//! reading its submission back into the page's own terms, so the form's
//! checks and conversions are the page's.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use sfn_callbacks_core::action::Action;
use sfn_callbacks_core::form::{Field, FieldKind, FormErrors, Problem, Submitted, TextFormat};
use sfn_callbacks_core::locale::Locale;

use super::clip;
use crate::form::ProblemText;
use crate::text::text;

/// The modal's `callback_id`.
pub const CALLBACK_ID: &str = "sfn-callbacks";
/// The comment's block and action.
const COMMENT: &str = "comment";
/// What a field's `block_id` starts with, before its name.
const FIELD_PREFIX: &str = "f:";
/// The action of every field's element.
const VALUE: &str = "v";
/// Slack's limits: a modal's title and buttons, a label or hint, a
/// select's options, a text input.
const MAX_TITLE_CHARS: usize = 24;
const MAX_LABEL_CHARS: usize = 2000;
const MAX_OPTIONS: usize = 100;
const MAX_OPTION_CHARS: usize = 75;
const MAX_INPUT_CHARS: u64 = 3000;
/// The most characters of `private_metadata`.
pub const MAX_METADATA_CHARS: usize = 3000;

/// What the modal carries back to the submission: the action's sealed
/// link, where to answer, and the message's blocks to keep when it is
/// replaced (left out when they do not fit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// The sealed link's `data`.
    #[serde(rename = "d")]
    pub data: String,
    /// The press's `response_url`.
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    pub response_url: Option<String>,
    /// The message's blocks but its buttons.
    #[serde(rename = "k", default, skip_serializing_if = "Vec::is_empty")]
    pub kept: Vec<Value>,
}

impl Metadata {
    /// As `private_metadata`: when the whole would not fit, the kept
    /// blocks are cut to the header, then dropped.
    pub fn encode(mut self) -> Option<String> {
        self.kept.retain(|b| b["type"] != "actions");
        let fits = |m: &Self| {
            serde_json::to_string(m)
                .ok()
                .filter(|t| t.chars().count() <= MAX_METADATA_CHARS)
        };
        if let Some(text) = fits(&self) {
            return Some(text);
        }
        self.kept.retain(|b| b["type"] == "header");
        if let Some(text) = fits(&self) {
            return Some(text);
        }
        self.kept.clear();
        fits(&self)
    }

    /// From `private_metadata`.
    pub fn decode(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }
}

/// Whether a press on this action opens a modal first.
pub fn needs_modal(action: &Action) -> bool {
    action.page.comment.is_some() || action.page.form.is_some()
}

fn plain(text: &str, max: usize) -> Value {
    json!({"type": "plain_text", "text": clip(text, max)})
}

/// The modal for `action`, carrying `metadata`.
pub fn view(action: &Action, locale: Locale, metadata: &str) -> Value {
    let label = action
        .page
        .label
        .as_deref()
        .unwrap_or_else(|| action.name.as_str());
    let mut blocks = Vec::new();
    if let Some(description) = &action.page.description {
        blocks.push(json!({
            "type": "section",
            "text": plain(description, MAX_LABEL_CHARS),
        }));
    }
    if let Some(form) = &action.page.form {
        for field in &form.fields {
            blocks.push(field_block(field, locale));
        }
    }
    if let Some(rule) = action.page.comment {
        let label = if rule.required {
            text(locale, "page-comment", &[])
        } else {
            text(locale, "page-comment-optional", &[])
        };
        blocks.push(json!({
            "type": "input",
            "block_id": COMMENT,
            "optional": !rule.required,
            "label": plain(&label, MAX_LABEL_CHARS),
            "element": {
                "type": "plain_text_input",
                "action_id": COMMENT,
                "multiline": true,
                "max_length": u64::from(rule.max_chars).min(MAX_INPUT_CHARS),
            },
        }));
    }
    json!({
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "title": plain(&text(locale, "slack-modal-title", &[]), MAX_TITLE_CHARS),
        "submit": plain(label, MAX_TITLE_CHARS),
        "close": plain(&text(locale, "slack-modal-cancel", &[]), MAX_TITLE_CHARS),
        "private_metadata": metadata,
        "blocks": blocks,
    })
}

fn field_block(field: &Field, locale: Locale) -> Value {
    let title = field.title.as_deref().unwrap_or(&field.name);
    let default = field.default.as_ref();
    let element = match &field.kind {
        FieldKind::Boolean => {
            let mut element = json!({
                "type": "checkboxes",
                "action_id": VALUE,
                "options": [{"text": plain(title, MAX_OPTION_CHARS), "value": "true"}],
            });
            if default == Some(&Value::Bool(true)) {
                element["initial_options"] = element["options"].clone();
            }
            element
        }
        FieldKind::Number {
            integer,
            minimum,
            maximum,
            ..
        } => {
            let mut element = json!({
                "type": "number_input",
                "action_id": VALUE,
                "is_decimal_allowed": !integer,
            });
            // Slack takes a whole-number field's bounds as whole numbers.
            let shown = |n: &serde_json::Number, up: bool| match (integer, n.as_f64()) {
                (true, Some(f)) if n.as_i64().is_none() => {
                    let whole = if up { f.ceil() } else { f.floor() };
                    format!("{whole:.0}")
                }
                _ => n.to_string(),
            };
            if let Some(min) = minimum {
                element["min_value"] = json!(shown(min, true));
            }
            if let Some(max) = maximum {
                element["max_value"] = json!(shown(max, false));
            }
            if let Some(Value::Number(n)) = default {
                element["initial_value"] = json!(shown(n, false));
            }
            element
        }
        FieldKind::Text {
            choices: Some(choices),
            ..
        } if choices.len() <= MAX_OPTIONS => {
            // The option's value is its index: a choice may be longer than
            // an option's value may be.
            let options: Vec<Value> = choices
                .iter()
                .enumerate()
                .map(|(i, c)| json!({"text": plain(c, MAX_OPTION_CHARS), "value": i.to_string()}))
                .collect();
            let mut element = json!({
                "type": "static_select",
                "action_id": VALUE,
                "placeholder": plain(&text(locale, "form-choose", &[]), 150),
                "options": options,
            });
            if let Some(i) = default
                .and_then(Value::as_str)
                .and_then(|d| choices.iter().position(|c| c == d))
            {
                element["initial_option"] = element["options"][i].clone();
            }
            element
        }
        FieldKind::Text {
            format: Some(TextFormat::Date),
            ..
        } => {
            let mut element = json!({"type": "datepicker", "action_id": VALUE});
            if let Some(d) = default.and_then(Value::as_str) {
                element["initial_date"] = json!(d);
            }
            element
        }
        FieldKind::Text {
            format: Some(TextFormat::DateTime),
            ..
        } => json!({"type": "datetimepicker", "action_id": VALUE}),
        FieldKind::Text {
            format: Some(format @ (TextFormat::Email | TextFormat::Uri)),
            ..
        } => {
            let kind = if *format == TextFormat::Email {
                "email_text_input"
            } else {
                "url_text_input"
            };
            let mut element = json!({"type": kind, "action_id": VALUE});
            if let Some(d) = default.and_then(Value::as_str) {
                element["initial_value"] = json!(d);
            }
            element
        }
        FieldKind::Text {
            min_length,
            max_length,
            ..
        } => {
            let mut element = json!({
                "type": "plain_text_input",
                "action_id": VALUE,
                "multiline": *max_length > 200,
                "max_length": (*max_length).min(MAX_INPUT_CHARS),
            });
            if let Some(min) = min_length {
                element["min_length"] = json!((*min).min(MAX_INPUT_CHARS));
            }
            if let Some(d) = default.and_then(Value::as_str) {
                element["initial_value"] = json!(d);
            }
            element
        }
    };
    let mut block = json!({
        "type": "input",
        "block_id": format!("{FIELD_PREFIX}{}", field.name),
        "label": plain(title, MAX_LABEL_CHARS),
        // A checkbox left unticked is an answer (false), never missing.
        "optional": !field.required || field.kind == FieldKind::Boolean,
        "element": element,
    });
    if let Some(description) = &field.description {
        block["hint"] = plain(description, MAX_LABEL_CHARS);
    }
    block
}

/// A submitted modal's answer: the comment, and the form's fields as the
/// page would have posted them. Comment problems are found here (the
/// form's by the form).
pub fn read(action: &Action, values: &Map<String, Value>) -> (Option<String>, Submitted) {
    let comment = values
        .get(COMMENT)
        .and_then(|b| b.get(COMMENT))
        .and_then(|e| e.get("value"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let Some(form) = &action.page.form else {
        return (comment, Submitted::Page(Vec::new()));
    };
    let mut pairs = Vec::new();
    for field in &form.fields {
        let Some(element) = values
            .get(&format!("{FIELD_PREFIX}{}", field.name))
            .and_then(|b| b.get(VALUE))
        else {
            continue;
        };
        let value = match element.get("type").and_then(Value::as_str) {
            Some("checkboxes") => element["selected_options"]
                .as_array()
                .is_some_and(|o| !o.is_empty())
                .then(|| "on".to_owned()),
            Some("static_select") => {
                let index = element["selected_option"]["value"]
                    .as_str()
                    .and_then(|i| i.parse::<usize>().ok());
                match (&field.kind, index) {
                    (
                        FieldKind::Text {
                            choices: Some(c), ..
                        },
                        Some(i),
                    ) => c.get(i).cloned(),
                    _ => None,
                }
            }
            Some("datepicker") => element["selected_date"].as_str().map(str::to_owned),
            Some("datetimepicker") => element["selected_date_time"]
                .as_i64()
                .and_then(|secs| time::OffsetDateTime::from_unix_timestamp(secs).ok())
                .and_then(|at| {
                    at.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                }),
            _ => element["value"].as_str().map(str::to_owned),
        };
        if let Some(value) = value {
            pairs.push((field.name.clone(), value));
        }
    }
    (comment, Submitted::Page(pairs))
}

/// What is wrong with a comment, as the page's form would say it.
pub fn comment_problem(action: &Action, comment: Option<&str>) -> Option<Problem> {
    let rule = action.page.comment?;
    let chars = comment.map_or(0, |c| c.trim().chars().count());
    if rule.required && chars == 0 {
        return Some(Problem::Required);
    }
    let given = comment.map_or(0, |c| c.chars().count());
    (given > usize::from(rule.max_chars)).then(|| Problem::MaxLength(rule.max_chars.into()))
}

/// The `response_action: errors` answer: each problem under its input, in
/// the person's language. Problems of the form as a whole go under the
/// first field.
pub fn errors(
    action: &Action,
    locale: Locale,
    form: Option<&FormErrors>,
    comment: Option<&Problem>,
) -> Value {
    let mut errors = Map::new();
    if let Some(form) = form {
        for (name, error) in &form.fields {
            errors.insert(
                format!("{FIELD_PREFIX}{name}"),
                Value::from(error.problem().text(locale)),
            );
        }
        let first = action
            .page
            .form
            .as_ref()
            .and_then(|f| f.fields.first())
            .map(|f| format!("{FIELD_PREFIX}{}", f.name));
        if let (Some(whole), Some(first)) = (form.form.first(), first) {
            errors
                .entry(first)
                .or_insert_with(|| Value::from(whole.problem().text(locale)));
        }
    }
    if let Some(problem) = comment {
        errors.insert(COMMENT.to_owned(), Value::from(problem.text(locale)));
    }
    json!({"response_action": "errors", "errors": errors})
}

#[cfg(test)]
mod tests {
    use super::*;
    use sfn_callbacks_core::callback::form_values;

    fn action(extra: Value) -> Action {
        let mut raw = json!({"name": "approve", "type": "success", "output": {"ok": true},
                             "label": "Approve the release now please"});
        for (k, v) in extra.as_object().expect("object") {
            raw[k] = v.clone();
        }
        Action::from_json(raw, false).expect("action")
    }

    fn form() -> Value {
        json!({"type": "object", "required": ["count", "env"], "properties": {
            "env": {"type": "string", "title": "Environment", "enum": ["staging", "production"]},
            "count": {"type": "integer", "title": "Instances", "minimum": 1, "maximum": 5, "default": 2},
            "when": {"type": "string", "format": "date"},
            "at": {"type": "string", "format": "date-time"},
            "notify": {"type": "boolean", "title": "Tell the team", "default": true},
            "why": {"type": "string", "maxLength": 500, "description": "For the log"}
        }})
    }

    #[test]
    fn the_modal_has_an_input_per_field_and_the_comment() {
        let action =
            action(json!({"form": form(), "comment": {"max_length": 300, "required": true}}));
        assert!(needs_modal(&action));
        let view = view(&action, Locale::En, "{\"d\":\"x\"}");
        assert_eq!(view["title"]["text"], "Your answer");
        assert_eq!(
            view["submit"]["text"], "Approve the release now…",
            "24 characters at most"
        );
        let blocks = view["blocks"].as_array().expect("blocks");
        let kinds: Vec<&str> = blocks
            .iter()
            .map(|b| b["element"]["type"].as_str().unwrap_or("-"))
            .collect();
        assert_eq!(
            kinds,
            [
                "static_select",
                "number_input",
                "datepicker",
                "datetimepicker",
                "checkboxes",
                "plain_text_input",
                "plain_text_input"
            ]
        );
        assert_eq!(blocks[0]["optional"], false);
        assert_eq!(blocks[1]["element"]["min_value"], "1");
        assert_eq!(blocks[1]["element"]["initial_value"], "2");
        assert_eq!(blocks[1]["element"]["is_decimal_allowed"], false);
        assert_eq!(blocks[4]["optional"], true, "a checkbox is never missing");
        assert_eq!(
            blocks[4]["element"]["initial_options"][0]["value"], "true",
            "the default ticks it"
        );
        assert_eq!(blocks[5]["element"]["multiline"], true);
        assert_eq!(blocks[5]["hint"]["text"], "For the log");
        assert_eq!(blocks[6]["block_id"], "comment");
        assert_eq!(blocks[6]["element"]["max_length"], 300);
        assert!(!needs_modal(&super::tests::action(json!({}))));
    }

    #[test]
    fn a_submission_reads_as_the_page_would_post_it() {
        let action = action(json!({"form": form()}));
        let values = json!({
            "f:env": {"v": {"type": "static_select", "selected_option": {"value": "1"}}},
            "f:count": {"v": {"type": "number_input", "value": "3"}},
            "f:when": {"v": {"type": "datepicker", "selected_date": "2030-01-31"}},
            "f:at": {"v": {"type": "datetimepicker", "selected_date_time": 1_900_000_000}},
            "f:notify": {"v": {"type": "checkboxes", "selected_options": []}},
            "f:why": {"v": {"type": "plain_text_input", "value": null}}
        });
        let (comment, submitted) = read(&action, values.as_object().expect("object"));
        assert_eq!(comment, None);
        let typed = form_values(&action, submitted).expect("valid");
        assert_eq!(
            typed,
            Some(
                json!({"env": "production", "count": 3, "when": "2030-01-31",
                        "at": "2030-03-17T17:46:40Z", "notify": false})
            )
        );

        let bad = json!({
            "f:env": {"v": {"type": "static_select", "selected_option": null}},
            "f:count": {"v": {"type": "number_input", "value": "9"}}
        });
        let (_, submitted) = read(&action, bad.as_object().expect("object"));
        let refused = form_values(&action, submitted).expect_err("refused");
        let answer = errors(&action, Locale::De, Some(&refused), None);
        assert_eq!(answer["response_action"], "errors");
        assert_eq!(answer["errors"]["f:count"], "Darf höchstens 5 sein.");
        assert!(answer["errors"]["f:env"].is_string(), "{answer}");
    }

    #[test]
    fn comments_are_checked_like_the_pages() {
        let required = action(json!({"comment": {"max_length": 5, "required": true}}));
        assert_eq!(comment_problem(&required, None), Some(Problem::Required));
        assert_eq!(
            comment_problem(&required, Some("  ")),
            Some(Problem::Required)
        );
        assert_eq!(
            comment_problem(&required, Some("123456")),
            Some(Problem::MaxLength(5))
        );
        assert_eq!(comment_problem(&required, Some("12345")), None);
        let answer = errors(&required, Locale::En, None, Some(&Problem::Required));
        assert_eq!(answer["errors"]["comment"], "is required");
    }

    #[test]
    fn metadata_drops_the_kept_blocks_rather_than_overflow() {
        let small = Metadata {
            data: "x".repeat(100),
            response_url: Some("https://hooks.slack.com/actions/T/1/y".into()),
            kept: vec![json!({"type": "header"}), json!({"type": "actions"})],
        };
        let text = small.clone().encode().expect("fits");
        let back = Metadata::decode(&text).expect("reads");
        assert_eq!(back.kept, [json!({"type": "header"})], "no buttons kept");
        let header = json!({"type": "header", "text": {"type": "plain_text", "text": "Deploy?"}});
        let big = Metadata {
            kept: vec![
                header.clone(),
                json!({"type": "section", "text": "y".repeat(3000)}),
            ],
            ..small.clone()
        };
        let text = big.encode().expect("fits with the header alone");
        assert_eq!(Metadata::decode(&text).expect("reads").kept, [header]);
        let huge = Metadata {
            kept: vec![json!({"type": "header", "text": "z".repeat(3000)})],
            ..small
        };
        let text = huge.encode().expect("fits without the blocks");
        assert!(Metadata::decode(&text).expect("reads").kept.is_empty());
    }
}
