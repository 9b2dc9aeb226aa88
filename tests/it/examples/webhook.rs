//! `examples/webhook`: another system (a CI server) learns the callback URL
//! from a JSON message on an SNS topic and POSTs its result there; JSON
//! Schema picks success or failure, and a body no schema accepts is refused
//! while the run keeps waiting.

use aws_sdk_sfn::types::ExecutionStatus;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{Lab, assert_status, output};
use crate::it::moto::{Reply, call, url_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_posted_result_passes_or_fails_the_run() {
    let Some(lab) = Lab::start_with_topics(&["ci-jobs"], &[]).await else {
        return;
    };
    let topic = lab.topic("ci-jobs").to_owned();
    let ci = lab.subscribe_queue(&topic, "ci-server").await;
    let machine = lab
        .state_machine("webhook", &[("WebhookTopicArn", &topic)])
        .await;

    // Passed: bodies that fit no outcome are refused, then a report decides.
    let job = json!({"id": "build-451", "commit": "3f9c2e1", "suite": "integration"});
    let passing = lab
        .run(&machine, "build-451", &json!({"job": job.clone()}))
        .await;
    let created = lab.invoke_create_urls_once(&passing).await;
    assert_eq!(created["notified"]["channel"], "sns", "{created}");
    let message = lab.next_message(&ci).await;
    assert_eq!(message["MessageId"], created["notified"]["message_id"]);
    assert!(message.get("Subject").is_none(), "{message}");
    let raw = message["Message"].as_str().expect("message");
    // `tojson` escapes `&` (and `<`, `>`, `'`) as \u00XX: still JSON.
    assert!(
        !raw.contains('&') && raw.contains(r"\u0026type=post\u0026data="),
        "{raw}"
    );
    let request: Value = serde_json::from_str(raw).expect("the message is JSON");
    assert_eq!(
        request,
        json!({
            "callback": url_of(&created, "result"),
            "transaction_id": created["transaction_id"],
            "job": job
        })
    );
    let callback = request["callback"].as_str().expect("callback");

    for unfit in [
        json!({"status": "passed"}),
        json!({"status": "passed", "report": {"tests": 0}}),
        json!({"status": "flaky", "reason": "retry"}),
        json!(["passed"]),
    ] {
        let reply = post(callback, &unfit).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{unfit}");
        let body = reply.json();
        assert_eq!(body["error"], "InvalidPostActionBody", "{body}");
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.contains("passed, failed")),
            "{body}"
        );
    }
    lab.assert_running(&passing, "a refused body decides nothing")
        .await;

    let report = json!({"status": "passed", "report": {"tests": 120, "seconds": 312}});
    let reply = post(callback, &report).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json()["outcome"], "passed");
    let done = lab.finished(&passing).await;
    assert_status(&done, ExecutionStatus::Succeeded);
    let result = output(&done);
    assert_eq!(result["tests"], report, "output_body: the body as posted");
    assert_eq!(
        result["promoted"],
        json!({"commit": "3f9c2e1", "tests": 120})
    );
    let again = post(callback, &report).await;
    assert_eq!(again.status, StatusCode::GONE, "{}", again.text);

    // Failed: the failure outcome fails the Task, so the run.
    let failing = lab
        .run(
            &machine,
            "build-452",
            &json!({"job": {"id": "build-452", "commit": "a41d07c", "suite": "integration"}}),
        )
        .await;
    let created = lab.invoke_create_urls_once(&failing).await;
    let message = lab.next_message(&ci).await;
    let request: Value =
        serde_json::from_str(message["Message"].as_str().expect("message")).expect("JSON");
    assert_eq!(request["job"]["id"], "build-452");
    assert_eq!(request["callback"], created["urls"]["result"]);
    let reply = post(
        request["callback"].as_str().expect("callback"),
        &json!({"status": "failed", "reason": "3 of 120 tests failed"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json()["outcome"], "failed");
    let done = lab.finished(&failing).await;
    assert_status(&done, ExecutionStatus::Failed);
    assert_eq!(done.error.as_deref(), Some("TestsFailed"));
    // The cause (`cause_path`, "3 of 120 tests failed") is not checked:
    // moto drops the cause of SendTaskFailure.
}

/// The other system's POST, as JSON.
async fn post(url: &str, body: &Value) -> Reply {
    call(Method::POST, url, None, Some(body)).await
}
