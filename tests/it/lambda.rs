//! The Lambda front doors, fed real event shapes from `tests/data/`, and the
//! binary in Lambda mode against a fake Runtime API.

use std::num::NonZeroU32;

use serde_json::{Value, json};
use sfn_callbacks::core::callback::EngineCall;
use sfn_callbacks::core::token::EngineKind;
use sfn_callbacks::http::limits::RespondLimit;
use sfn_callbacks::lambda::DirectErrors;
use sfn_callbacks::ports::EngineError;

use super::lambda_runtime::{Answer, LambdaFunction, fixture};
use super::support::{App, data_of};

fn lambda_app() -> App {
    App::new(|s| s.app.base_url = None)
}

fn body_json(response: &Value) -> Value {
    let body = response["body"].as_str().expect("body");
    serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body}"))
}

async fn invoke(app: &App, event: Value) -> Value {
    app.lambda(DirectErrors::Function)
        .handle(event)
        .await
        .expect("handled")
}

#[tokio::test]
async fn rest_api_events_derive_the_stage_url_and_use_multi_value_headers() {
    let app = lambda_app();
    let response = invoke(&app, fixture("apigw_rest_post_urls.json")).await;
    assert_eq!(response["statusCode"], 200, "{response}");
    assert_eq!(response["isBase64Encoded"], false);
    assert_eq!(
        response["multiValueHeaders"]["content-type"],
        json!(["application/json"])
    );
    let approve = body_json(&response)["urls"]["approve"]
        .as_str()
        .expect("url")
        .to_owned();
    assert!(
        approve.starts_with("https://abc123defg.execute-api.us-east-1.amazonaws.com/prod/respond?action=approve&type=success&data=E"),
        "{approve}"
    );

    // The link comes back through the same front door, stage and all.
    let mut get = fixture("apigw_rest_get_respond.json");
    let data = data_of(&approve);
    get["queryStringParameters"]["data"] = json!(data);
    get["multiValueQueryStringParameters"]["data"] = json!([data]);
    let response = invoke(&app, get).await;
    assert_eq!(response["statusCode"], 200, "{response}");
    assert_eq!(body_json(&response)["status"], "pending");
    assert_eq!(body_json(&response)["task"], "open", "{response}");
    assert!(app.sfn.decisions().is_empty(), "GET must not act");
    assert_eq!(app.sfn.heartbeats(), 1, "the GET's one probe");
}

#[tokio::test]
async fn http_api_events_with_a_named_stage_and_a_base64_body() {
    let app = lambda_app();
    let response = invoke(&app, fixture("apigw_http_post_urls_stage.json")).await;
    assert_eq!(response["statusCode"], 200, "{response}");
    assert_eq!(response["headers"]["content-type"], "application/json");
    let reject = body_json(&response)["urls"]["reject"]
        .as_str()
        .expect("url")
        .to_owned();
    assert!(
        reject.starts_with("https://h7tp9api42.execute-api.eu-west-1.amazonaws.com/live/respond?action=reject&type=failure&data=E"),
        "{reject}"
    );
}

#[tokio::test]
async fn function_url_events_create_and_answer_links() {
    let app = lambda_app();
    let response = invoke(&app, fixture("function_url_post_urls.json")).await;
    assert_eq!(response["statusCode"], 200, "{response}");
    let approve = body_json(&response)["urls"]["approve"]
        .as_str()
        .expect("url")
        .to_owned();
    let base = "https://q2w3e4r5t6y7u8i9o0p1a2s3d4f5g6h7.lambda-url.us-east-1.on.aws/respond?";
    assert!(approve.starts_with(base), "{approve}");

    let mut post = fixture("function_url_post_respond.json");
    let data = data_of(&approve);
    post["rawQueryString"] = json!(format!("action=approve&type=success&data={data}"));
    post["queryStringParameters"]["data"] = json!(data);
    let response = invoke(&app, post).await;
    assert_eq!(response["statusCode"], 200, "{response}");
    assert_eq!(
        body_json(&response)["action"],
        json!({"name": "approve", "type": "success"})
    );
    assert!(
        matches!(&app.sfn.calls()[..], [EngineCall::Success { output, .. }] if output == r#"{"approved":true}"#)
    );
}

#[tokio::test]
async fn a_repeated_parameter_is_refused_through_every_lambda_front_door() {
    let app = lambda_app();
    let response = invoke(&app, fixture("apigw_rest_post_urls.json")).await;
    let approve = body_json(&response)["urls"]["approve"]
        .as_str()
        .expect("url")
        .to_owned();
    let data = data_of(&approve);

    // API Gateway's REST API hands every value of a repeated parameter
    // in multiValueQueryStringParameters (its single-value map keeps the
    // last one).
    let mut get = fixture("apigw_rest_get_respond.json");
    get["httpMethod"] = json!("POST");
    get["queryStringParameters"] = json!({"action": "approve", "type": "success", "data": data});
    get["multiValueQueryStringParameters"] =
        json!({"action": ["reject", "approve"], "type": ["success"], "data": [data]});
    let response = invoke(&app, get).await;
    assert_eq!(response["statusCode"], 400, "{response}");
    assert_eq!(
        body_json(&response)["error"],
        "InvalidRequest",
        "{response}"
    );
    assert!(
        body_json(&response)["message"]
            .as_str()
            .is_some_and(|m| m.contains("\"action\" is given more than once")),
        "{response}"
    );

    // A Function URL (and an HTTP API) passes the query as sent.
    let mut post = fixture("function_url_post_respond.json");
    post["rawQueryString"] = json!(format!(
        "action=reject&type=failure&action=approve&type=success&data={data}"
    ));
    post["queryStringParameters"] =
        json!({"action": "reject,approve", "type": "failure,success", "data": data});
    let response = invoke(&app, post).await;
    assert_eq!(response["statusCode"], 400, "{response}");
    assert_eq!(
        body_json(&response)["error"],
        "InvalidRequest",
        "{response}"
    );
    assert!(app.sfn.calls().is_empty(), "{:?}", app.sfn.calls());
}

#[tokio::test]
async fn a_body_flagged_base64_that_is_not_base64_is_a_clear_400() {
    let app = lambda_app();
    for name in ["function_url_post_urls.json", "apigw_rest_post_urls.json"] {
        let mut event = fixture(name);
        event["isBase64Encoded"] = json!(true);
        event["body"] = json!("{not base64!}");
        let response = invoke(&app, event).await;
        assert_eq!(response["statusCode"], 400, "{response}");
        let body = body_json(&response);
        assert_eq!(body["error"], "InvalidRequest");
        assert!(
            body["message"].as_str().expect("m").contains("base64"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_direct_invoke_takes_a_callback_id_and_its_links_answer_that_callback() {
    let app = App::new(|_| {});
    let request = json!({
        "callback_id": "Q0FMTEJBQ0s=",
        "actions": [{"name": "ok", "type": "success", "output": {"approved": true}}]
    });
    let output = invoke(&app, request).await;
    let url = output["urls"]["ok"].as_str().expect("url");
    let path = &url[url.find("/respond").expect("a callback URL")..];
    let press = async || {
        app.request(
            axum::http::Method::POST,
            path,
            &[("accept", "application/json")],
            "",
        )
        .await
    };
    // No permission for the function: a 502 naming it; an outage: a 503
    // with Retry-After; the link works afterwards.
    app.sfn
        .fail_next(EngineError::Refused("AccessDeniedException".into()));
    let refused = press().await;
    assert_eq!(refused.status, 502, "{}", refused.text);
    let message = refused.json()["message"]
        .as_str()
        .expect("message")
        .to_owned();
    assert!(
        message.contains("lambda:SendDurableExecutionCallbackSuccess")
            && message.contains("DurableFunctionArns"),
        "{message}"
    );
    app.sfn
        .fail_next(EngineError::Unavailable("TooManyRequestsException".into()));
    let busy = press().await;
    assert_eq!(busy.status, 503, "{}", busy.text);
    assert_eq!(busy.headers["retry-after"], "5");
    assert!(busy.text.contains("Lambda is unavailable"), "{}", busy.text);
    let reply = press().await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let decisions = app.sfn.decisions();
    let [EngineCall::Success { token, output }] = decisions.as_slice() else {
        panic!("one success: {:?}", app.sfn.calls());
    };
    assert_eq!(token.engine(), EngineKind::Durable);
    assert_eq!(token.expose(), "Q0FMTEJBQ0s=");
    assert_eq!(output, r#"{"approved":true}"#);

    // Both, or an ID that is not base64: the named error, nothing made.
    for (bad, needle) in [
        (json!({"token": "QUJD", "callback_id": "QUJD"}), "not both"),
        (
            json!({"callback_id": "no*base64"}),
            "callback_id is not standard base64",
        ),
    ] {
        let mut bad = bad;
        bad["actions"] = json!([{"name": "ok", "type": "heartbeat"}]);
        let err = app
            .lambda(DirectErrors::Function)
            .handle(bad)
            .await
            .expect_err("refused");
        assert_eq!(err.error_type, "InvalidJSON");
        assert!(err.error_message.contains(needle), "{}", err.error_message);
    }
}

#[tokio::test]
async fn direct_invokes_return_the_output_or_a_named_error() {
    let app = App::new(|_| {});
    let request = json!({"token": "QUJD", "actions": [{"name": "ok", "type": "heartbeat"}]});
    let output = invoke(&app, request).await;
    assert_eq!(output["transaction_id"].as_str().map(str::len), Some(32));
    assert!(
        output["urls"]["ok"]
            .as_str()
            .expect("url")
            .starts_with("https://cb.example.com/prod/respond?action=ok&type=heartbeat&data=")
    );
    assert!(
        output.get("statusCode").is_none(),
        "no HTTP envelope for direct invokes"
    );

    let bad = json!({"token": "QUJD", "actions": [], "bogus": 1});
    let err = app
        .lambda(DirectErrors::Function)
        .handle(bad.clone())
        .await
        .expect_err("function error");
    assert_eq!(err.error_type, "InvalidJSON");
    assert!(err.error_message.contains("bogus"), "{}", err.error_message);
    let old_style = app
        .lambda(DirectErrors::Result)
        .handle(bad)
        .await
        .expect("result");
    assert_eq!(old_style["error"], "InvalidJSON");

    for event in [
        json!([1, 2]),
        json!("text"),
        json!({"requestContext": {}, "body": "x"}),
    ] {
        let err = app
            .lambda(DirectErrors::Function)
            .handle(event.clone())
            .await
            .expect_err("refused");
        assert_eq!(err.error_type, "InvalidEvent", "{event}");
    }

    let no_base = lambda_app();
    let request = json!({"token": "QUJD", "actions": [{"name": "ok", "type": "heartbeat"}]});
    let err = no_base
        .lambda(DirectErrors::Function)
        .handle(request.clone())
        .await
        .expect_err("no base");
    assert!(
        err.error_message.contains("base URL"),
        "{}",
        err.error_message
    );
    let mut with_base = request;
    with_base["base_url"] = json!({"api_id": "abc123defg", "stage": "prod"});
    let output = invoke(&no_base, with_base).await;
    assert!(
        output["urls"]["ok"]
            .as_str()
            .expect("url")
            .starts_with("https://abc123defg.execute-api.us-east-1.amazonaws.com/prod/respond?")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_answers_a_fake_lambda_runtime() {
    let keyring = super::support::keyring().to_json();
    let function = LambdaFunction::start(
        "sfn-callbacks",
        &[
            ("BASE_URL", "https://callbacks.example.com"),
            ("KEYRING", &keyring),
        ],
        None,
    )
    .await;

    let direct =
        json!({"token": "QUJD", "actions": [{"name": "approve", "type": "success", "output": 1}]});
    let Answer::Response(direct) = function.invoke(direct).await else {
        panic!("a direct invoke is answered");
    };
    assert!(
        direct["urls"]["approve"]
            .as_str()
            .expect("url")
            .starts_with("https://callbacks.example.com/respond?action=approve")
    );

    let Answer::Response(http) = function.invoke(fixture("apigw_rest_post_urls.json")).await else {
        panic!("an HTTP event is answered");
    };
    assert_eq!(http["statusCode"], 200, "{http}");
    let body: Value = serde_json::from_str(http["body"].as_str().expect("body")).expect("json");
    // BASE_URL wins over the event's domain when it is set.
    assert!(
        body["urls"]["approve"]
            .as_str()
            .expect("url")
            .starts_with("https://callbacks.example.com/respond?")
    );

    let bad = function
        .invoke(json!({"token": "QUJD", "actions": []}))
        .await;
    let Answer::Error(error) = bad else {
        panic!("a function error: {bad:?}");
    };
    assert_eq!(error["errorType"], "InvalidJSON", "{error}");
}

#[tokio::test]
async fn the_respond_rate_limit_counts_the_events_source_ip() {
    let app = App::new(|s| {
        s.app.base_url = None;
        s.http.respond_limit = Some(RespondLimit::per_minute(NonZeroU32::new(2).expect("2")));
    });
    let created = invoke(&app, fixture("apigw_rest_post_urls.json")).await;
    let approve = body_json(&created)["urls"]["approve"]
        .as_str()
        .expect("url")
        .to_owned();
    let data = data_of(&approve);
    let from = |ip: &str| {
        let mut get = fixture("apigw_rest_get_respond.json");
        get["queryStringParameters"]["data"] = json!(data);
        get["multiValueQueryStringParameters"]["data"] = json!([data]);
        get["requestContext"]["identity"]["sourceIp"] = json!(ip);
        get
    };
    for _ in 0..2 {
        let response = invoke(&app, from("198.51.100.7")).await;
        assert_eq!(response["statusCode"], 200, "{response}");
    }
    let refused = invoke(&app, from("198.51.100.7")).await;
    assert_eq!(refused["statusCode"], 429, "{refused}");
    assert_eq!(body_json(&refused)["error"], "TooManyRequests");
    assert!(
        refused["multiValueHeaders"]["retry-after"][0].is_string(),
        "{refused}"
    );
    let other = invoke(&app, from("198.51.100.99")).await;
    assert_eq!(other["statusCode"], 200, "another client: {other}");
}
