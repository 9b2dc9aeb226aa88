//! The contract, row by row, through the router with a fake Step Functions.

use axum::http::Method;
use serde_json::{Value, json};
use sfn_callbacks::core::callback::EngineCall;
use sfn_callbacks::http::HttpSettings;
use sfn_callbacks::ports::EngineError;

use super::support::{App, data_of, one_char_changed, with_data};

const TOKEN: &str = "AAAAKgAAAAIAAAAAAAAAAQ+token/with+slashes==";

fn request(actions: Value) -> Value {
    json!({"token": TOKEN, "actions": actions})
}

fn approve_reject() -> Value {
    request(json!([
        {"name": "approve", "type": "success", "output": {"approved": true}},
        {"name": "reject", "type": "failure", "error": "Rejected", "cause": "said no"},
        {"name": "ping", "type": "heartbeat"}
    ]))
}

fn token_of(call: &EngineCall) -> &str {
    match call {
        EngineCall::Success { token, .. }
        | EngineCall::Failure { token, .. }
        | EngineCall::Heartbeat { token } => token.expose(),
    }
}

#[tokio::test]
async fn create_urls_answers_in_the_old_shape() {
    let app = App::new(|_| {});
    let mut body = approve_reject();
    body["expiration"] = json!("2030-06-02T00:00:00+02:00");
    let reply = app.create(&body).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let out = reply.json();
    let tid = out["transaction_id"].as_str().expect("tid");
    assert_eq!(tid.len(), 32);
    assert!(tid.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(out["expiration"], "2030-06-02T00:00:00+02:00");
    let urls = out["urls"].as_object().expect("urls");
    assert_eq!(urls.len(), 3);
    let approve = urls["approve"].as_str().expect("url");
    assert!(
        approve
            .starts_with("https://cb.example.com/prod/respond?action=approve&type=success&data=E"),
        "{approve}"
    );
    assert!(
        urls["reject"]
            .as_str()
            .expect("url")
            .contains("?action=reject&type=failure&data=")
    );
    assert!(
        !reply.text.contains(TOKEN),
        "the token must not appear in the output"
    );
    assert!(app.sfn.calls().is_empty());
}

#[tokio::test]
async fn create_urls_refuses_bad_input_with_named_errors_and_no_call() {
    let app = App::new(|s| s.http.max_body_bytes = 4096);
    let reply = app.request(Method::GET, "/urls", &[], "").await;
    reply.assert_error(405, "InvalidRequest");
    assert_eq!(reply.header("allow"), Some("POST"));

    let reply = app
        .request(
            Method::POST,
            "/urls",
            &[("content-type", "text/plain")],
            approve_reject().to_string(),
        )
        .await;
    reply.assert_error(415, "InvalidRequest");

    let reply = app
        .request(
            Method::POST,
            "/urls",
            &[("content-type", "application/json; charset=utf-8")],
            "{nope",
        )
        .await;
    reply.assert_error(400, "InvalidJSON");

    let cases = [
        (
            json!({"token": TOKEN, "actions": [], "extra": 1}),
            "InvalidJSON",
            "extra",
        ),
        (request(json!([])), "InvalidJSON", "at least one"),
        (
            json!({"token": TOKEN, "actions": approve_reject()["actions"], "locale": "xx"}),
            "InvalidJSON",
            "locale \"xx\" is not supported (supported: en, de, fr, es, ja, pt-BR)",
        ),
        (
            request(json!([{"name": "bad name", "type": "heartbeat"}])),
            "InvalidJSON",
            "bad name",
        ),
        (
            request(json!([{"name": "a", "type": "explode"}])),
            "InvalidJSON",
            "explode",
        ),
        (
            request(
                json!([{"name": "a", "type": "heartbeat"}, {"name": "a", "type": "heartbeat"}]),
            ),
            "DuplicateActionName",
            "\"a\"",
        ),
        (
            json!({"token": TOKEN, "actions": [{"name": "a", "type": "heartbeat"}], "expiration": "2030-05-01T00:00:00Z"}),
            "InvalidDate",
            "past",
        ),
        (
            json!({"token": TOKEN, "actions": [{"name": "a", "type": "heartbeat"}], "expiration": "soon"}),
            "InvalidDate",
            "soon",
        ),
        (
            request(
                json!([{"name": "p", "type": "post", "outcomes": [{"name": "o", "type": "heartbeat", "schema": {}}]}]),
            ),
            "PostActionsDisabled",
            "ENABLE_POST_ACTIONS",
        ),
        (
            json!({"token": TOKEN, "actions": [{"name": "a", "type": "heartbeat"}], "enable_output_parameters": true}),
            "ParametersDisabled",
            "ENABLE_OUTPUT_PARAMETERS",
        ),
        (
            request(json!([{"name": "a", "type": "success"}])),
            "InvalidAction",
            "output",
        ),
    ];
    for (body, error, needle) in cases {
        let reply = app.create(&body).await;
        reply.assert_error(400, error);
        let message = reply.json()["message"]
            .as_str()
            .expect("message")
            .to_owned();
        assert!(message.contains(needle), "{body}: {message}");
        assert!(!reply.text.contains(TOKEN), "token leaked: {}", reply.text);
    }

    let big = request(json!([{"name": "a", "type": "success", "output": "x".repeat(8000)}]));
    app.create(&big).await.assert_error(413, "InvalidRequest");
    assert!(
        app.sfn.calls().is_empty(),
        "bad input must never reach Step Functions"
    );
}

#[tokio::test]
async fn create_urls_needs_an_api_key_when_keys_are_configured() {
    let app = App::new(|s| s.http.api_key_digests = vec![HttpSettings::api_key_digest("s3cret")]);
    app.create(&approve_reject())
        .await
        .assert_error(401, "Unauthorized");
    let with_key = |key: &'static str| {
        let header = format!("Bearer {key}");
        let app = &app;
        async move {
            app.request(
                Method::POST,
                "/urls",
                &[
                    ("content-type", "application/json"),
                    ("authorization", &header),
                ],
                approve_reject().to_string(),
            )
            .await
        }
    };
    let wrong = with_key("s3cre").await;
    wrong.assert_error(401, "Unauthorized");
    assert_eq!(wrong.header("www-authenticate"), Some("Bearer"));
    let right = with_key("s3cret").await;
    assert_eq!(right.status, 200, "{}", right.text);
}

#[tokio::test]
async fn get_probes_once_and_shows_the_action_head_never_calls() {
    let app = App::new(|_| {});
    let urls = app.urls(&approve_reject()).await;
    let approve = urls["approve"].as_str().expect("url");

    let reply = app.follow(Method::GET, approve, &[], "").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["status"], "pending");
    assert_eq!(reply.json()["task"], "open", "{}", reply.text);
    assert!(
        matches!(&app.sfn.calls()[..], [EngineCall::Heartbeat { token }] if token.expose() == TOKEN),
        "one probe, a heartbeat with the link's token: {:?}",
        app.sfn.calls()
    );
    assert_eq!(
        reply.json()["action"],
        json!({"name": "approve", "type": "success"})
    );

    let page = app
        .follow(
            Method::GET,
            approve,
            &[("accept", "text/html,application/xhtml+xml,*/*;q=0.8")],
            "",
        )
        .await;
    assert_eq!(page.status, 200);
    assert!(
        page.text.contains("<form method=\"post\">"),
        "{}",
        page.text
    );
    assert!(!page.text.to_lowercase().contains("<script"));
    assert!(
        page.text.contains("still waiting for an answer"),
        "the probe found it open: {}",
        page.text
    );
    let csp = page.header("content-security-policy").expect("csp");
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );

    assert_eq!(app.sfn.heartbeats(), 2, "one probe per GET");
    let head = app.follow(Method::HEAD, approve, &[], "").await;
    assert_eq!(head.status, 200);
    assert!(head.text.is_empty());
    for reply in [&reply, &page, &head] {
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        assert_eq!(reply.header("referrer-policy"), Some("no-referrer"));
    }
    assert!(app.sfn.decisions().is_empty(), "GET and HEAD must not act");
    assert_eq!(app.sfn.heartbeats(), 2, "HEAD never probes");
}

/// The three answers of Step Functions that mean the task is closed.
fn closed_answers() -> [EngineError; 3] {
    ["TaskTimedOut", "InvalidToken", "TaskDoesNotExist"].map(|c| EngineError::TaskClosed(c.into()))
}

#[tokio::test]
async fn a_get_of_a_closed_task_says_already_answered_at_once() {
    for closed in closed_answers() {
        let app = App::new(|_| {});
        let urls = app.urls(&approve_reject()).await;
        for action in ["approve", "reject"] {
            let url = urls[action].as_str().expect("url");
            app.sfn.fail_next(closed.clone());
            let page = app.follow(Method::GET, url, &[HTML], "").await;
            assert_eq!(page.status, 410, "{closed:?} {action}: {}", page.text);
            assert!(
                page.text.contains("This request was already answered"),
                "{}",
                page.text
            );
            assert!(!page.text.contains("press the button"), "{}", page.text);
            app.sfn.fail_next(closed.clone());
            app.follow(Method::GET, url, &[], "")
                .await
                .assert_error(410, "StepFunctionsError");
        }
        assert!(app.sfn.calls().is_empty(), "only the refused probes");
    }
}

#[tokio::test]
async fn when_step_functions_cannot_say_the_page_claims_nothing() {
    let app = App::new(|_| {});
    let urls = app.urls(&approve_reject()).await;
    let approve = urls["approve"].as_str().expect("url");
    for outage in [
        EngineError::Unavailable("ThrottlingException".into()),
        EngineError::Unconfirmed("no answer in time".into()),
        EngineError::NoCredentials,
        EngineError::Refused("AccessDeniedException".into()),
    ] {
        app.sfn.fail_next(outage.clone());
        let page = app.follow(Method::GET, approve, &[HTML], "").await;
        assert_eq!(page.status, 200, "{outage:?}: {}", page.text);
        assert!(
            page.text
                .contains("If the request was already answered or has closed"),
            "{outage:?}: {}",
            page.text
        );
        assert!(!page.text.contains("still waiting"), "{}", page.text);
        assert!(
            !page.text.contains("Nothing has been sent"),
            "{}",
            page.text
        );
        app.sfn.fail_next(outage);
        let json = app.follow(Method::GET, approve, &[], "").await;
        assert_eq!(json.json()["task"], "unknown", "{}", json.text);
    }
    // The link still works.
    let sent = app.follow(Method::POST, approve, &[], "").await;
    assert_eq!(sent.status, 200, "{}", sent.text);
    assert_eq!(app.sfn.decisions().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_slow_probe_is_not_waited_for() {
    let app = App::new(|_| {});
    let urls = app.urls(&approve_reject()).await;
    *app.sfn.heartbeat_delay.lock().expect("lock") = Some(sfn_callbacks::app::PROBE_WAIT * 5);
    let started = tokio::time::Instant::now();
    let reply = app
        .follow(Method::GET, urls["approve"].as_str().expect("url"), &[], "")
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json()["task"], "unknown");
    assert_eq!(started.elapsed(), sfn_callbacks::app::PROBE_WAIT);
}

#[tokio::test]
async fn heartbeat_links_and_get_probe_false_never_probe() {
    let app = App::new(|_| {});
    let urls = app.urls(&approve_reject()).await;
    let ping = app
        .follow(
            Method::GET,
            urls["ping"].as_str().expect("url"),
            &[HTML],
            "",
        )
        .await;
    assert_eq!(ping.status, 200, "{}", ping.text);
    assert!(
        ping.text.contains("If the request was already answered"),
        "{}",
        ping.text
    );
    assert!(
        app.sfn.calls().is_empty(),
        "the probe would be the action itself"
    );

    let app = App::new(|s| s.app.get_probe = false);
    let urls = app.urls(&approve_reject()).await;
    for action in ["approve", "reject"] {
        let reply = app
            .follow(Method::GET, urls[action].as_str().expect("url"), &[], "")
            .await;
        assert_eq!(reply.json()["task"], "unknown", "{}", reply.text);
    }
    assert!(app.sfn.calls().is_empty(), "GET_PROBE=false");
}

#[tokio::test]
async fn post_performs_success_failure_and_repeatable_heartbeat() {
    let app = App::new(|_| {});
    let urls = app.urls(&approve_reject()).await;

    let reply = app
        .follow(
            Method::POST,
            urls["approve"].as_str().expect("url"),
            &[],
            "",
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        reply.json()["action"],
        json!({"name": "approve", "type": "success"})
    );
    assert_eq!(
        reply.json()["transaction_id"].as_str().map(str::len),
        Some(32)
    );

    let reply = app
        .follow(Method::POST, urls["reject"].as_str().expect("url"), &[], "")
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    for _ in 0..2 {
        let reply = app
            .follow(Method::POST, urls["ping"].as_str().expect("url"), &[], "")
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
    }
    let calls = app.sfn.calls();
    assert_eq!(calls.len(), 4);
    assert!(
        calls.iter().all(|c| token_of(c) == TOKEN),
        "the token must survive sealing exactly"
    );
    assert!(
        matches!(&calls[0], EngineCall::Success { output, .. } if output == r#"{"approved":true}"#)
    );
    assert!(matches!(&calls[1], EngineCall::Failure { error, cause, .. }
        if error.as_deref() == Some("Rejected") && cause.as_deref() == Some("said no")));
    assert!(matches!(calls[2], EngineCall::Heartbeat { .. }));
    assert!(matches!(calls[3], EngineCall::Heartbeat { .. }));
}

#[tokio::test]
async fn get_acts_restores_one_click_but_head_still_does_not_act() {
    let app = App::new(|s| s.app.get_acts = true);
    let urls = app.urls(&approve_reject()).await;
    let approve = urls["approve"].as_str().expect("url");
    let head = app.follow(Method::HEAD, approve, &[], "").await;
    assert_eq!(head.status, 200);
    assert!(app.sfn.calls().is_empty());
    let reply = app.follow(Method::GET, approve, &[], "").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(app.sfn.calls().len(), 1);
}

#[tokio::test]
async fn broken_links_get_coarse_client_errors_and_no_call() {
    let app = App::new(|_| {});
    let urls = app.urls(&approve_reject()).await;
    let approve = urls["approve"].as_str().expect("url");
    let data = data_of(approve);

    app.request(
        Method::POST,
        "/respond?action=approve&type=success",
        &[],
        "",
    )
    .await
    .assert_error(400, "InvalidPayload");
    app.request(Method::POST, "/respond", &[], "")
        .await
        .assert_error(400, "InvalidPayload");
    app.follow(Method::POST, &with_data(approve, "garbage!"), &[], "")
        .await
        .assert_error(400, "InvalidPayload");

    let tampered = one_char_changed(&data, data.len() / 2);
    let altered = app
        .follow(Method::POST, &with_data(approve, &tampered), &[], "")
        .await;
    altered.assert_error(400, "InvalidPayload");
    let truncated = app
        .follow(
            Method::POST,
            &with_data(approve, &data[..data.len() - 3]),
            &[],
            "",
        )
        .await;
    truncated.assert_error(400, "InvalidPayload");
    assert_eq!(
        altered.json()["message"],
        truncated.json()["message"],
        "failures must read the same"
    );

    app.follow(
        Method::POST,
        &with_data(approve, "1-eyJ0b2tlbiI6ICJ4In0"),
        &[],
        "",
    )
    .await
    .assert_error(400, "EncryptionRequired");

    let renamed = approve.replace("action=approve", "action=reject");
    app.follow(Method::POST, &renamed, &[], "")
        .await
        .assert_error(400, "ActionMismatched");
    let retyped = approve.replace("type=success", "type=failure");
    app.follow(Method::POST, &retyped, &[], "")
        .await
        .assert_error(400, "ActionMismatched");

    app.follow(Method::PUT, approve, &[], "")
        .await
        .assert_error(405, "InvalidRequest");

    for reply in [&altered, &truncated] {
        assert!(
            !reply.text.contains(&data),
            "the payload must not be echoed"
        );
    }
    assert!(app.sfn.calls().is_empty());
}

#[tokio::test]
async fn expired_links_are_refused_with_410() {
    let app = App::new(|_| {});
    let mut body = approve_reject();
    body["expiration"] = json!("2030-06-01T12:05:00Z");
    let urls = app.urls(&body).await;
    app.clock.advance(time::Duration::minutes(5));
    let reply = app
        .follow(
            Method::POST,
            urls["approve"].as_str().expect("url"),
            &[],
            "",
        )
        .await;
    reply.assert_error(410, "ExpiredPayload");
    assert!(
        reply.json()["message"]
            .as_str()
            .expect("m")
            .contains("2030-06-01T12:05:00Z")
    );
    assert!(app.sfn.calls().is_empty());
}

#[tokio::test]
async fn step_functions_outcomes_map_to_clear_statuses_and_links_survive_outages() {
    let app = App::new(|_| {});
    let urls = app.urls(&approve_reject()).await;
    let approve = urls["approve"].as_str().expect("url");

    app.sfn
        .fail_next(EngineError::Unavailable("throttled".into()));
    let reply = app.follow(Method::POST, approve, &[], "").await;
    reply.assert_error(503, "ServiceError");
    assert_eq!(reply.header("retry-after"), Some("5"));
    assert_eq!(
        reply.json()["transaction_id"].as_str().map(str::len),
        Some(32)
    );

    let again = app.follow(Method::POST, approve, &[], "").await;
    assert_eq!(
        again.status, 200,
        "the same link works once Step Functions is back: {}",
        again.text
    );

    app.sfn
        .fail_next(EngineError::TaskClosed("TaskTimedOut".into()));
    let reply = app.follow(Method::POST, approve, &[], "").await;
    reply.assert_error(410, "StepFunctionsError");
    assert!(
        reply.json()["message"]
            .as_str()
            .expect("m")
            .contains("already used")
    );

    app.sfn.fail_next(EngineError::InvalidOutput);
    app.follow(Method::POST, approve, &[], "")
        .await
        .assert_error(400, "StepFunctionsError");
}

#[tokio::test]
async fn response_specs_and_accept_negotiation() {
    let app = App::new(|_| {});
    let urls = app
        .urls(&request(json!([
            {"name": "go", "type": "success", "output": 1, "response": {"redirect": "https://example.com/thanks"}},
            {"name": "custom", "type": "heartbeat", "response": {"json": {"ok": 1}, "html": "<p>done</p>", "text": "done"}},
            {"name": "plain", "type": "heartbeat"}
        ])))
        .await;
    let go = app
        .follow(Method::POST, urls["go"].as_str().expect("url"), &[], "")
        .await;
    assert_eq!(go.status, 303);
    assert_eq!(go.header("location"), Some("https://example.com/thanks"));

    let custom = urls["custom"].as_str().expect("url");
    let json_reply = app
        .follow(Method::POST, custom, &[("accept", "application/json")], "")
        .await;
    assert_eq!(json_reply.json(), json!({"ok": 1}));
    let html = app
        .follow(Method::POST, custom, &[("accept", "text/html")], "")
        .await;
    assert_eq!(html.text, "<p>done</p>");
    assert!(
        html.header("content-type")
            .expect("ct")
            .starts_with("text/html")
    );
    let text = app
        .follow(Method::POST, custom, &[("accept", "text/plain")], "")
        .await;
    assert_eq!(text.text, "done");

    let plain = urls["plain"].as_str().expect("url");
    let html = app
        .follow(Method::POST, plain, &[("accept", "text/html")], "")
        .await;
    assert!(html.text.contains("Response accepted!"), "{}", html.text);
    let text = app
        .follow(Method::POST, plain, &[("accept", "text/plain")], "")
        .await;
    assert!(text.text.starts_with("Response accepted"), "{}", text.text);
    let error_page = app
        .follow(
            Method::POST,
            &with_data(plain, "EAAA"),
            &[("accept", "text/html")],
            "",
        )
        .await;
    assert_eq!(error_page.status, 400);
    assert!(
        error_page.text.contains("This link is not valid"),
        "{}",
        error_page.text
    );
    assert_eq!(app.sfn.calls().len(), 6);
}

#[tokio::test]
async fn output_parameters_fill_in_query_values() {
    let app = App::new(|s| s.app.features.output_parameters = true);
    let mut body = request(json!([
        {"name": "approve", "type": "success", "output": {"by": "$who", "action": "${action}", "cost": "$$5"}}
    ]));
    body["enable_output_parameters"] = json!(true);
    let urls = app.urls(&body).await;
    let approve = urls["approve"].as_str().expect("url");

    let missing = app.follow(Method::POST, approve, &[], "").await;
    missing.assert_error(400, "OutputFormatting");
    assert!(app.sfn.calls().is_empty());

    let reply = app
        .follow(Method::POST, &format!("{approve}&who=carol%20c"), &[], "")
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(
        matches!(&app.sfn.calls()[0], EngineCall::Success { output, .. }
        if output == r#"{"by":"carol c","action":"approve","cost":"$5"}"#)
    );

    let off = App::new(|s| s.app.features.output_parameters = false);
    let shared_state_url = approve.to_owned();
    let off_state = off.variant(|_, ports| ports.keys = app.ports.keys.clone());
    let off = super::support::App {
        state: off_state,
        ..off
    };
    off.follow(Method::POST, &format!("{shared_state_url}&who=x"), &[], "")
        .await
        .assert_error(400, "ParametersDisabled");
}

fn webhook() -> Value {
    request(json!([{
        "name": "hook",
        "type": "post",
        "outcomes": [
            {"name": "done", "type": "success", "output_path": "$.result.id",
             "schema": {"type": "object", "properties": {"status": {"const": "done"}}, "required": ["status"]}},
            {"name": "failed", "type": "failure", "error_path": "$.code", "cause": "the job failed",
             "schema": {"type": "object", "properties": {"status": {"const": "failed"}}, "required": ["status"]}},
            {"name": "raw", "type": "success", "output_body": true, "schema": {"type": "array"}}
        ]
    }]))
}

#[tokio::test]
async fn post_actions_pick_outcomes_from_the_json_body() {
    let app = App::new(|s| s.app.features.post_actions = true);
    let urls = app.urls(&webhook()).await;
    let hook = urls["hook"].as_str().expect("url");
    let json_ct = [("content-type", "application/json")];

    let get = app.follow(Method::GET, hook, &[], "").await;
    get.assert_error(405, "InvalidRequest");
    assert_eq!(get.header("allow"), Some("POST"));
    let page = app
        .follow(Method::GET, hook, &[("accept", "text/html")], "")
        .await;
    assert_eq!(page.status, 405);
    assert!(page.text.contains("POST with a JSON body"), "{}", page.text);

    app.follow(Method::POST, hook, &[("content-type", "text/plain")], "{}")
        .await
        .assert_error(415, "InvalidRequest");
    app.follow(Method::POST, hook, &json_ct, "{oops")
        .await
        .assert_error(400, "InvalidJSON");
    app.follow(Method::POST, hook, &json_ct, r#"{"status":"odd"}"#)
        .await
        .assert_error(400, "InvalidPostActionBody");
    assert!(app.sfn.calls().is_empty());

    let done = app
        .follow(
            Method::POST,
            hook,
            &[("content-type", "application/json; charset=utf-8")],
            r#"{"status":"done","result":{"id":"j-1"}}"#,
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(done.json()["outcome"], "done");
    let failed = app
        .follow(
            Method::POST,
            hook,
            &json_ct,
            r#"{"status":"failed","code":"E42"}"#,
        )
        .await;
    assert_eq!(failed.status, 200, "{}", failed.text);
    let raw = app.follow(Method::POST, hook, &json_ct, "[1,2,3]").await;
    assert_eq!(raw.status, 200, "{}", raw.text);

    let calls = app.sfn.calls();
    assert!(matches!(&calls[0], EngineCall::Success { output, .. } if output == r#"["j-1"]"#));
    assert!(matches!(&calls[1], EngineCall::Failure { error, cause, .. }
        if error.as_deref() == Some("E42") && cause.as_deref() == Some("the job failed")));
    assert!(matches!(&calls[2], EngineCall::Success { output, .. } if output == "[1,2,3]"));
}

#[tokio::test]
async fn create_urls_can_be_left_to_direct_invokes() {
    let app = App::new(|s| s.http.create_urls_over_http = false);
    let reply = app.create(&approve_reject()).await;
    reply.assert_error(404, "InvalidRequest");
    assert!(
        reply.json()["message"]
            .as_str()
            .expect("m")
            .contains("directly")
    );
}

fn envelope_app(kms: std::sync::Arc<super::support::FakeKms>) -> App {
    let keys = sfn_callbacks::keys::KeySource::envelope(
        kms,
        super::support::FAKE_KMS_KEY.into(),
        sfn_callbacks::keys::EnvelopeLimits::default(),
    );
    App::with_keys(keys, |_| {})
}

#[tokio::test]
async fn envelope_links_open_and_forged_envelopes_do_not() {
    use std::sync::atomic::Ordering;
    let kms = std::sync::Arc::new(super::support::FakeKms::default());
    let app = envelope_app(kms.clone());
    let urls = app.urls(&approve_reject()).await;
    let approve = urls["approve"].as_str().expect("url");
    assert_eq!(
        kms.generate_calls.load(Ordering::SeqCst),
        1,
        "one data key for the batch"
    );
    let reply = app.follow(Method::POST, approve, &[], "").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        kms.decrypt_calls.load(Ordering::SeqCst),
        0,
        "our own data key is cached"
    );

    // Another deployment's instance (same KMS key) must ask KMS once, then cache.
    let other = envelope_app(kms.clone());
    for _ in 0..3 {
        let reply = other
            .follow(Method::POST, urls["ping"].as_str().expect("url"), &[], "")
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
    }
    assert_eq!(kms.decrypt_calls.load(Ordering::SeqCst), 1);

    // An envelope whose wrapped key was swapped for one the attacker made
    // (same key, no context) does not open, and the refusal is remembered.
    let data = data_of(approve);
    let mut raw = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &data)
        .expect("b64");
    raw[3] ^= 0xFF;
    let forged = with_data(
        approve,
        &base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &raw),
    );
    for _ in 0..2 {
        other
            .follow(Method::POST, &forged, &[], "")
            .await
            .assert_error(400, "InvalidPayload");
    }
    assert_eq!(
        kms.decrypt_calls.load(Ordering::SeqCst),
        2,
        "a refused blob is asked about once"
    );
    assert_eq!(app.sfn.calls().len(), 1);
}

#[tokio::test]
async fn kms_outages_and_refusals_are_503_and_502() {
    let kms = std::sync::Arc::new(super::support::FakeKms::default());
    let maker = envelope_app(kms.clone());
    let urls = maker.urls(&approve_reject()).await;
    let fresh = envelope_app(kms.clone());

    *kms.failing.lock().expect("lock") = Some(sfn_callbacks::ports::KmsError::Unavailable(
        "throttled".into(),
    ));
    let reply = fresh
        .follow(
            Method::POST,
            urls["approve"].as_str().expect("url"),
            &[],
            "",
        )
        .await;
    reply.assert_error(503, "ServiceError");
    assert_eq!(reply.header("retry-after"), Some("5"));
    envelope_app(kms.clone())
        .create(&approve_reject())
        .await
        .assert_error(503, "ServiceError");

    *kms.failing.lock().expect("lock") = Some(sfn_callbacks::ports::KmsError::Refused(
        "DisabledException".into(),
    ));
    fresh
        .follow(
            Method::POST,
            urls["approve"].as_str().expect("url"),
            &[],
            "",
        )
        .await
        .assert_error(502, "ServiceError");
    envelope_app(kms.clone())
        .create(&approve_reject())
        .await
        .assert_error(502, "ServiceError");

    *kms.failing.lock().expect("lock") = None;
    let reply = fresh
        .follow(
            Method::POST,
            urls["approve"].as_str().expect("url"),
            &[],
            "",
        )
        .await;
    assert_eq!(
        reply.status, 200,
        "the link works once KMS is back: {}",
        reply.text
    );
}

fn with_comments() -> Value {
    request(json!([
        {"name": "approve", "type": "success", "output": {"approved": true},
         "label": "Approve release 1.2", "description": "Ships to production tonight.",
         "comment": {"max_length": 20}},
        {"name": "reject", "type": "failure", "error": "Rejected", "cause": "said no",
         "comment": {"max_length": 50, "required": true}},
        {"name": "quiet", "type": "success", "output": {"approved": true}}
    ]))
}

const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");
const HTML: (&str, &str) = ("accept", "text/html");

#[tokio::test]
async fn comments_reach_step_functions_in_the_documented_places() {
    let app = App::new(|_| {});
    let urls = app.urls(&with_comments()).await;
    let approve = urls["approve"].as_str().expect("url");
    let page = app
        .follow(Method::GET, approve, &[("accept", "text/html")], "")
        .await;
    assert!(
        page.text.contains("Approve release 1.2") && page.text.contains("Ships to production"),
        "{}",
        page.text
    );
    assert!(
        page.text
            .contains("<textarea id=\"comment\" name=\"comment\" rows=\"4\" maxlength=\"20\">"),
        "{}",
        page.text
    );

    let ok = app
        .follow(
            Method::POST,
            approve,
            &[FORM],
            "comment=Looks+good%21%0D%0A",
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    let reject = urls["reject"].as_str().expect("url");
    let ok = app
        .follow(
            Method::POST,
            reject,
            &[("content-type", "application/json")],
            r#"{"comment":"<b>not yet</b>"}"#,
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    let calls = app.sfn.decisions();
    assert!(
        matches!(&calls[0], EngineCall::Success { output, .. } if output == r#"{"approved":true,"comment":"Looks good!"}"#),
        "{calls:?}"
    );
    assert!(
        matches!(&calls[1], EngineCall::Failure { cause, .. } if cause.as_deref() == Some("said no\n\n<b>not yet</b>"))
    );
}

#[tokio::test]
async fn comments_are_checked_on_the_server() {
    let app = App::new(|_| {});
    let urls = app.urls(&with_comments()).await;
    let cases = [
        (
            "approve",
            "comment=".to_owned() + &"x".repeat(21),
            "at most 20",
        ),
        ("reject", "comment=+++".to_owned(), "needs a comment"),
        ("reject", String::new(), "needs a comment"),
        ("quiet", "comment=hi".to_owned(), "takes no comment"),
        ("approve", "comment=a%00b".to_owned(), "control characters"),
    ];
    for (action, body, needle) in cases {
        let reply = app
            .follow(
                Method::POST,
                urls[action].as_str().expect("url"),
                &[FORM],
                body.clone(),
            )
            .await;
        reply.assert_error(400, "InvalidComment");
        assert!(
            reply.json()["message"]
                .as_str()
                .expect("m")
                .contains(needle),
            "{action} {body}: {}",
            reply.text
        );
    }
    let page = app
        .follow(
            Method::POST,
            urls["reject"].as_str().expect("url"),
            &[FORM, ("accept", "text/html")],
            "",
        )
        .await;
    assert_eq!(page.status, 400);
    assert!(
        page.text.contains("Please check your comment"),
        "{}",
        page.text
    );
    assert!(app.sfn.calls().is_empty());
}

#[tokio::test]
async fn page_fields_are_checked_at_creation() {
    let app = App::new(|_| {});
    let cases = [
        (
            json!({"name": "a", "type": "heartbeat", "comment": true}),
            "only success and failure",
        ),
        (
            json!({"name": "a", "type": "success", "output": 1, "comment": true}),
            "object output",
        ),
        (
            json!({"name": "a", "type": "success", "output": {"comment": 1}, "comment": true}),
            "object output",
        ),
        (
            json!({"name": "a", "type": "failure", "comment": {"max_length": 0}}),
            "max_length",
        ),
        (
            json!({"name": "a", "type": "failure", "label": "x".repeat(201)}),
            "label is longer",
        ),
        (
            json!({"name": "a", "type": "failure", "label": "a\u{7}b"}),
            "control characters",
        ),
        (
            json!({"name": "a", "type": "failure", "one_click": true, "comment": {"required": true}}),
            "one_click",
        ),
    ];
    for (action, needle) in cases {
        let reply = app.create(&request(json!([action.clone()]))).await;
        reply.assert_error(400, "InvalidAction");
        assert!(
            reply.json()["message"]
                .as_str()
                .expect("m")
                .contains(needle),
            "{action}: {}",
            reply.text
        );
    }
}

#[tokio::test]
async fn one_click_acts_on_get_for_that_action_only() {
    let app = App::new(|_| {});
    let urls = app
        .urls(&request(json!([
            {"name": "ack", "type": "heartbeat", "one_click": true},
            {"name": "approve", "type": "success", "output": {}}
        ])))
        .await;
    let ack = urls["ack"].as_str().expect("url");
    assert_eq!(app.follow(Method::HEAD, ack, &[], "").await.status, 200);
    assert!(app.sfn.calls().is_empty(), "HEAD never acts");
    let reply = app.follow(Method::GET, ack, &[], "").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(app.sfn.calls().len(), 1);
    let reply = app
        .follow(Method::GET, urls["approve"].as_str().expect("url"), &[], "")
        .await;
    assert_eq!(reply.json()["status"], "pending");
    assert!(app.sfn.decisions().is_empty(), "approve is not one-click");
    assert_eq!(app.sfn.heartbeats(), 2, "the ack, and approve's probe");
}

#[tokio::test]
async fn unknown_paths_get_json_404() {
    let app = App::new(|_| {});
    app.request(Method::GET, "/nope", &[], "")
        .await
        .assert_error(404, "InvalidRequest");
    let health = app.request(Method::GET, "/health", &[], "").await;
    assert_eq!(health.json()["status"], "ok");
}
