//! Typed forms on actions, through the router with fakes: what CreateUrls
//! refuses, how the page renders a form, and what a submission sends.

use axum::http::Method;
use serde_json::{Value, json};
use sfn_callbacks::core::callback::EngineCall;

use super::support::{App, Reply, data_of};

const TOKEN: &str = "QUJDREVGR0hJSktMTU5PUA==";
const HTML: (&str, &str) = ("accept", "text/html");
const JSON: (&str, &str) = ("content-type", "application/json");
const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

/// An environment from a list, a bounded count, a date, a box to tick and
/// a long optional note.
fn release_form() -> Value {
    json!({
        "type": "object",
        "required": ["env", "count", "when"],
        "properties": {
            "env": {"type": "string", "title": "Environment", "enum": ["staging", "production"]},
            "count": {"type": "integer", "title": "Instances", "minimum": 1, "maximum": 5},
            "when": {"type": "string", "title": "Go-live date", "format": "date"},
            "notify": {"type": "boolean", "title": "Tell the team", "default": true},
            "note": {"type": "string", "title": "Note", "description": "For the change log."}
        }
    })
}

fn approve_with_form() -> Value {
    json!({"name": "approve", "type": "success", "output": {"approved": true},
           "label": "Approve", "comment": true, "form": release_form()})
}

async fn url_of(app: &App, action: Value) -> String {
    let urls = app
        .urls(&json!({"token": TOKEN, "actions": [action]}))
        .await;
    urls.values()
        .next()
        .and_then(Value::as_str)
        .expect("one url")
        .to_owned()
}

/// A person pressing the page's button with these fields filled in.
async fn press(app: &App, url: &str, fields: &str) -> Reply {
    app.follow(Method::POST, url, &[FORM, HTML], fields.to_owned())
        .await
}

fn only_output(app: &App) -> Value {
    match &app.sfn.decisions()[..] {
        [EngineCall::Success { output, .. }] => serde_json::from_str(output).expect("JSON output"),
        other => panic!("one success expected: {other:?}"),
    }
}

#[tokio::test]
async fn creation_refuses_forms_that_do_not_fit_naming_the_problem() {
    let app = App::new(|_| {});
    let with = |action: Value| json!({"token": TOKEN, "actions": [action]});
    let form = release_form();
    let cases = [
        (
            json!({"name": "ping", "type": "heartbeat", "form": form}),
            "only success and failure actions take a form",
        ),
        (
            json!({"name": "go", "type": "success", "output": {}, "one_click": true, "form": form}),
            "one_click action cannot take a form",
        ),
        (
            json!({"name": "go", "type": "success", "output": "yes", "form": form}),
            "object output without a \"form\" field",
        ),
        (
            json!({"name": "go", "type": "success", "output": {"form": 1}, "form": form}),
            "object output without a \"form\" field",
        ),
        (
            json!({"name": "go", "type": "failure", "form": {"type": "array"}}),
            "form: must have \"type\": \"object\"",
        ),
        (
            json!({"name": "go", "type": "failure", "form": {"type": "object", "allOf": [],
                   "properties": {"a": {"type": "string"}}}}),
            "form: the keyword \"allOf\" is not supported in a form",
        ),
        (
            json!({"name": "go", "type": "failure", "form": {"type": "object", "properties": {"a": {"type": "string", "oneOf": []}}}}),
            "form.properties.a: the keyword \"oneOf\" is not supported",
        ),
        (
            json!({"name": "go", "type": "failure", "form": {"type": "object", "properties": {"a": {"type": "array"}}}}),
            "form.properties.a.type: \"array\" is not supported",
        ),
        (
            json!({"name": "go", "type": "failure", "form": {"type": "object", "properties": {"n": {"type": "integer", "maximum": 3, "default": 9}}}}),
            "form.properties.n.default: breaks its own field's schema",
        ),
        (
            json!({"name": "go", "type": "failure", "comment": true, "form": {"type": "object", "properties": {"comment": {"type": "string"}}}}),
            "the comment box's",
        ),
        (
            json!({"name": "go", "type": "failure", "form": {"type": "object", "properties":
                (0..21).map(|i| (format!("f{i}"), json!({"type": "boolean"}))).collect::<serde_json::Map<_, _>>()}}),
            "must hold 1 to 20 fields, not 21",
        ),
        (
            json!({"name": "go", "type": "failure", "form": {"type": "object", "properties": {"t": {"type": "string", "maxLength": 4001}}}}),
            "form.properties.t.maxLength: may be at most 4000",
        ),
    ];
    for (action, needle) in cases {
        let reply = app.create(&with(action.clone())).await;
        reply.assert_error(400, "InvalidAction");
        let message = reply.json()["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(message.contains(needle), "{action}: {message}");
        assert!(message.contains("action \""), "names the action: {message}");
    }
    assert!(app.sfn.calls().is_empty());
}

#[tokio::test]
async fn a_form_link_is_an_extended_link_and_its_page_renders_every_field() {
    let app = App::new(|_| {});
    let url = url_of(&app, approve_with_form()).await;
    let plain = url_of(
        &app,
        json!({"name": "approve", "type": "success", "output": {"approved": true}}),
    )
    .await;
    assert!(
        data_of(&url).starts_with('Y') && data_of(&plain).starts_with('E'),
        "purpose 6 only with a form: {url} {plain}"
    );
    let page = app.follow(Method::GET, &url, &[HTML], "").await;
    assert_eq!(page.status, 200, "{}", page.text);
    let html = &page.text;
    for needle in [
        // Two choices: radio buttons in a labelled group.
        "<fieldset class=\"field\" role=\"radiogroup\" id=\"f-env\"><legend>Environment</legend>",
        "<input type=\"radio\" id=\"f-env-0\" name=\"env\" value=\"staging\" required>staging</label>",
        // A bounded whole number.
        "<label for=\"f-count\">Instances</label>",
        "<input type=\"number\" id=\"f-count\" name=\"count\" value=\"\" step=\"1\" inputmode=\"numeric\" min=\"1\" max=\"5\" required>",
        // A date.
        "<input type=\"date\" id=\"f-when\" name=\"when\" value=\"\" maxlength=\"4000\" required>",
        // A box, ticked by its default.
        "<input type=\"checkbox\" id=\"f-notify\" name=\"notify\" value=\"true\" checked>Tell the team</label>",
        // A long optional string: a text area, its description tied to it.
        "<label for=\"f-note\">Note <span class=\"note\">(optional)</span></label><p class=\"note help\" id=\"f-note-help\">For the change log.</p><textarea id=\"f-note\" name=\"note\" rows=\"4\" maxlength=\"4000\" aria-describedby=\"f-note-help\">",
        "<label for=\"comment\">Comment (optional)",
    ] {
        assert!(html.contains(needle), "{needle}\n{html}");
    }
    assert!(app.sfn.decisions().is_empty(), "a GET decides nothing");
}

#[tokio::test]
async fn many_choices_make_a_select_and_strings_keep_their_constraints() {
    let app = App::new(|_| {});
    let url = url_of(
        &app,
        json!({"name": "go", "type": "failure", "form": {"type": "object", "properties": {
            "region": {"type": "string", "enum": ["eu-west-1", "eu-central-1", "us-east-1", "us-west-2", "ap-south-1"], "default": "us-east-1"},
            "ticket": {"type": "string", "pattern": "^[A-Z]+-[0-9]+$", "minLength": 3, "maxLength": 20},
            "owner": {"type": "string", "format": "email"},
            "ratio": {"type": "number", "minimum": 0, "maximum": 1, "multipleOf": 0.25}
        }}}),
    )
    .await;
    let html = app.follow(Method::GET, &url, &[HTML], "").await.text;
    for needle in [
        "<select id=\"f-region\" name=\"region\"><option value=\"\">Choose…</option><option>eu-west-1</option>",
        "<option selected>us-east-1</option>",
        "<input type=\"text\" id=\"f-ticket\" name=\"ticket\" value=\"\" maxlength=\"20\" minlength=\"3\" pattern=\"(?:[A-Z]+-[0-9]+)\">",
        "<input type=\"email\" id=\"f-owner\"",
        "step=\"0.25\" inputmode=\"decimal\" min=\"0\" max=\"1\">",
    ] {
        assert!(html.contains(needle), "{needle}\n{html}");
    }
}

#[tokio::test]
async fn a_bad_value_shows_the_form_again_keeping_the_others_and_sends_nothing() {
    let app = App::new(|_| {});
    let url = url_of(&app, approve_with_form()).await;
    let reply = press(
        &app,
        &url,
        "env=production&count=9&when=2030-01-31&note=Big+%3Cday%3E&comment=Looks+fine",
    )
    .await;
    assert_eq!(reply.status, 400, "{}", reply.text);
    let html = &reply.text;
    for needle in [
        "Not sent",
        "1 field needs a change.",
        // The error, beside its field and tied to it.
        "aria-invalid=\"true\">",
        "aria-describedby=\"f-count-error\"",
        "<p class=\"error\" id=\"f-count-error\">must be at most 5</p>",
        // What the person entered stays, escaped.
        "value=\"9\"",
        "value=\"production\" checked required>",
        "name=\"when\" value=\"2030-01-31\"",
        ">\nBig &lt;day&gt;</textarea>",
        ">Looks fine</textarea>",
        // An unticked box stays unticked, though its default is true.
        "name=\"notify\" value=\"true\">",
        // It posts back to the same link.
        "<form method=\"post\">",
    ] {
        assert!(html.contains(needle), "{needle}\n{html}");
    }
    assert!(app.sfn.decisions().is_empty(), "nothing sent");

    let json = app
        .follow(Method::POST, &url, &[FORM], "env=staging&count=x&when=soon")
        .await;
    json.assert_error(400, "InvalidForm");
    assert_eq!(
        json.json()["fields"],
        json!({"count": "must be a whole number", "when": "must be a date (YYYY-MM-DD)"})
    );
    assert!(app.sfn.decisions().is_empty(), "nothing sent");
}

#[tokio::test]
async fn a_good_page_submission_sends_typed_values_and_leaves_empty_ones_out() {
    let app = App::new(|_| {});
    let url = url_of(&app, approve_with_form()).await;
    let reply = press(
        &app,
        &url,
        "env=production&count=3&when=2030-01-31&notify=true&note=&comment=ok",
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        only_output(&app),
        json!({"approved": true, "comment": "ok",
               "form": {"env": "production", "count": 3, "when": "2030-01-31", "notify": true}})
    );
}

#[tokio::test]
async fn programs_post_the_form_as_json_and_get_each_error_by_name() {
    let app = App::new(|_| {});
    let url = url_of(&app, approve_with_form()).await;
    let cases = [
        (
            json!({"form": {"env": "prod", "count": "3", "when": "2030-01-31"}}),
            json!({"env": "must be one of the choices", "count": "must be a whole number"}),
        ),
        (
            json!({"comment": "no form"}),
            json!({"env": "is required", "count": "is required", "when": "is required"}),
        ),
        (
            json!({"form": {"env": "staging", "count": 1, "when": "2030-01-31", "note": "x".repeat(4001)}}),
            json!({"note": "must be at most 4000 characters"}),
        ),
    ];
    for (body, fields) in cases {
        let reply = app
            .follow(Method::POST, &url, &[JSON], body.to_string())
            .await;
        reply.assert_error(400, "InvalidForm");
        assert_eq!(reply.json()["fields"], fields, "{body}");
    }
    let unknown = app
        .follow(
            Method::POST,
            &url,
            &[JSON],
            json!({"form": {"env": "staging", "count": 1, "when": "2030-01-31", "extra": 1}})
                .to_string(),
        )
        .await;
    unknown.assert_error(400, "InvalidForm");
    assert!(
        unknown.json()["message"]
            .as_str()
            .is_some_and(|m| m.contains("\"extra\" is not a field of this form")),
        "{}",
        unknown.text
    );
    assert!(app.sfn.decisions().is_empty(), "nothing sent");

    let good =
        json!({"form": {"env": "staging", "count": 2, "when": "2030-02-01", "notify": false}});
    let reply = app
        .follow(Method::POST, &url, &[JSON], good.to_string())
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        only_output(&app),
        json!({"approved": true, "form": good["form"]})
    );

    // A link without a form refuses a program's form values.
    let plain = url_of(
        &app,
        json!({"name": "approve", "type": "success", "output": {}}),
    )
    .await;
    app.follow(Method::POST, &plain, &[JSON], good.to_string())
        .await
        .assert_error(400, "InvalidForm");
    assert_eq!(app.sfn.decisions().len(), 1, "nothing more sent");
}

#[tokio::test]
async fn a_failure_puts_the_values_in_its_cause() {
    let app = App::new(|_| {});
    let url = url_of(
        &app,
        json!({"name": "reject", "type": "failure", "error": "Rejected", "cause": "said no",
               "comment": true,
               "form": {"type": "object", "required": ["reason"], "properties": {
                   "reason": {"type": "string", "enum": ["budget", "timing"]},
                   "retry": {"type": "boolean"}}}}),
    )
    .await;
    let reply = app
        .follow(
            Method::POST,
            &url,
            &[FORM],
            "reason=timing&comment=next+week",
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let calls = app.sfn.decisions();
    assert!(
        matches!(&calls[..], [EngineCall::Failure { error, cause, .. }]
            if error.as_deref() == Some("Rejected")
            && cause.as_deref() == Some("said no\n\nnext week\n\n{\"reason\":\"timing\",\"retry\":false}")),
        "{calls:?}"
    );
}

#[tokio::test]
async fn a_form_never_acts_on_get_even_where_get_acts() {
    let app = App::new(|d| d.app.get_acts = true);
    let url = url_of(&app, approve_with_form()).await;
    let page = app.follow(Method::GET, &url, &[HTML], "").await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("name=\"count\""), "{}", page.text);
    assert!(app.sfn.decisions().is_empty());
    // A link without a form still acts on GET there.
    let plain = url_of(
        &app,
        json!({"name": "approve", "type": "success", "output": {}}),
    )
    .await;
    app.follow(Method::GET, &plain, &[], "").await;
    assert_eq!(app.sfn.decisions().len(), 1);
}

#[tokio::test]
async fn a_review_choice_carries_its_form_and_a_refusal_shows_that_choice_again() {
    let app = App::new(|_| {});
    let answer = app
        .create(&json!({"token": TOKEN, "review": true, "actions": [
            approve_with_form(),
            {"name": "reject", "type": "failure", "error": "Rejected", "comment": true}
        ]}))
        .await
        .json();
    let review = answer["review_url"]
        .as_str()
        .expect("review_url")
        .to_owned();
    let page = app.follow(Method::GET, &review, &[HTML], "").await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(
        page.text
            .contains("<input type=\"number\" id=\"c0-count\" name=\"count\""),
        "{}",
        page.text
    );
    assert!(!page.text.contains("id=\"c1-"), "reject has no form");
    let approve = format!("{review}&action=approve&type=success");
    let refused = press(&app, &approve, "env=staging&count=0&when=2030-01-31").await;
    assert_eq!(refused.status, 400, "{}", refused.text);
    assert!(
        refused
            .text
            .contains("<p class=\"error\" id=\"f-count-error\">must be at least 1</p>")
            && refused.text.contains("<form method=\"post\">"),
        "{}",
        refused.text
    );
    let done = app
        .follow(
            Method::POST,
            &approve,
            &[FORM],
            "env=staging&count=1&when=2030-01-31",
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(only_output(&app)["form"]["count"], json!(1));
}
