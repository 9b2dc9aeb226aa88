//! `examples/durable-approval`: a Lambda durable function waits on
//! `wait_for_callback`; its submitter invokes CreateUrls with the callback
//! ID and `notify` email; the approver's press resumes it.
//!
//! Real parts: the durable-execution runtime is the testing SDK's
//! `dex-local-runner` on loopback; `tests/durable/lambda_endpoint.py` is
//! the Lambda API in front of it (it runs the example's handler in its own
//! process, passes the example's CreateUrls invoke to `serve`, and relays
//! the rest to the runner, counting callback calls); mail goes through
//! moto's SES. `serve` reaches Lambda only through `AWS_ENDPOINT_URL_LAMBDA`.
//!
//! The runner comes from the venv the test command makes (beside
//! moto_server). Without it the test says so and passes, unless
//! `SFN_CALLBACKS_REQUIRE_DURABLE=1` (set by the test command).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{NOTIFY_ENVS, link_in_html, verify_example_com};
use crate::it::moto::{
    Moto, Proc, Server, call, create, expiring_in, free_port, http, moto_binary, sent_mail,
    serve_on, wait_until_up,
};

/// The function the runner invokes (any name: the endpoint runs the one
/// example handler).
const FUNCTION: &str = "durable-approval";

/// The venv's `dex-local-runner` and `python`, or `None` (after saying
/// so) when the test command did not ask for them.
fn tools() -> Option<(PathBuf, PathBuf)> {
    let bin = moto_binary()
        .and_then(|moto| moto.parent().map(Path::to_path_buf))
        .filter(|bin| bin.join("dex-local-runner").exists());
    match bin {
        Some(bin) => Some((bin.join("dex-local-runner"), bin.join("python"))),
        None => {
            assert!(
                std::env::var("SFN_CALLBACKS_REQUIRE_DURABLE").is_err(),
                "dex-local-runner is required: run the README's test command, which installs it beside moto_server"
            );
            eprintln!(
                "SKIPPED: dex-local-runner not found (the README's test command installs it)"
            );
            None
        }
    }
}

/// moto, the runner, the Lambda endpoint and `serve`, stopped when
/// dropped.
struct Durable {
    moto: Moto,
    server: Server,
    runner: String,
    endpoint: String,
    _runner: Proc,
    _endpoint: Proc,
}

/// Dummy credentials and a region: the runner and the SDK need them, and
/// without them the runner's invokes fail.
const DUMMY_AWS: [(&str, &str); 5] = [
    ("AWS_ACCESS_KEY_ID", "testing"),
    ("AWS_SECRET_ACCESS_KEY", "testing"),
    ("AWS_DEFAULT_REGION", "us-west-2"),
    ("AWS_REGION", "us-west-2"),
    ("AWS_EC2_METADATA_DISABLED", "true"),
];

impl Durable {
    async fn start() -> Option<Self> {
        let (runner_bin, python) = tools()?;
        let moto = Moto::start().await?;
        verify_example_com(&moto).await;
        let dir = moto.dir.path();
        let (runner_port, endpoint_port, serve_port) = (free_port(), free_port(), free_port());
        let runner = format!("http://127.0.0.1:{runner_port}");
        let endpoint = format!("http://127.0.0.1:{endpoint_port}");
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));

        let mut child = Command::new(&python)
            .arg(root.join("tests/durable/lambda_endpoint.py"))
            .args([
                &endpoint_port.to_string(),
                &runner,
                &format!("http://127.0.0.1:{serve_port}"),
            ])
            .arg(root.join("examples/durable-approval"))
            .envs(DUMMY_AWS)
            .env("AWS_ENDPOINT_URL_LAMBDA", &endpoint)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("lambda-endpoint.log")).expect("log"))
            .spawn()
            .expect("spawn the Lambda endpoint");
        wait_until_up(
            &format!("{endpoint}/calls"),
            "the Lambda endpoint",
            &mut child,
        )
        .await;
        let endpoint_proc = Proc {
            child,
            name: "lambda endpoint",
        };

        let mut child = Command::new(&runner_bin)
            .args(["start-server", "--host", "127.0.0.1", "--port"])
            .arg(runner_port.to_string())
            .args(["--lambda-endpoint", &endpoint])
            .envs(DUMMY_AWS)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("runner.log")).expect("log"))
            .spawn()
            .expect("spawn dex-local-runner");
        wait_until_up(&format!("{runner}/health"), "dex-local-runner", &mut child).await;
        let runner_proc = Proc {
            child,
            name: "dex-local-runner",
        };

        let mut envs = NOTIFY_ENVS.to_vec();
        envs.push(("AWS_ENDPOINT_URL_LAMBDA", &endpoint));
        let server = serve_on(serve_port, &moto.aws.endpoint, dir, "serve", &envs).await;
        Some(Self {
            moto,
            server,
            runner,
            endpoint,
            _runner: runner_proc,
            _endpoint: endpoint_proc,
        })
    }

    /// Starts an execution of the example for `order`, approved by
    /// `approver`; its ARN.
    async fn start_execution(&self, order: &str, approver: &str) -> String {
        let input = json!({"order": order, "approver": approver});
        let reply = http()
            .post(format!("{}/start-durable-execution", self.runner))
            .json(&json!({
                "AccountId": "123456789012",
                "FunctionName": FUNCTION,
                "FunctionQualifier": "$LATEST",
                "ExecutionName": order,
                "ExecutionTimeoutSeconds": 300,
                "ExecutionRetentionPeriodDays": 1,
                "Input": input.to_string(),
            }))
            .send()
            .await
            .expect("start");
        assert_eq!(reply.status(), StatusCode::CREATED);
        let started: Value = reply.json().await.expect("json");
        started["ExecutionArn"].as_str().expect("arn").to_owned()
    }

    async fn runner_get(&self, arn: &str, tail: &str) -> Value {
        let arn = arn.replace('/', "%2F");
        let reply = http()
            .get(format!(
                "{}/2025-12-01/durable-executions/{arn}{tail}",
                self.runner
            ))
            .send()
            .await
            .expect("runner");
        assert_eq!(reply.status(), StatusCode::OK);
        reply.json().await.expect("json")
    }

    async fn execution(&self, arn: &str) -> Value {
        self.runner_get(arn, "").await
    }

    /// The execution's history events.
    async fn history(&self, arn: &str) -> Vec<Value> {
        let history = self
            .runner_get(arn, "/history?IncludeExecutionData=true")
            .await;
        history["Events"].as_array().expect("events").clone()
    }

    /// The callback ID the runner issued to the execution's
    /// `wait_for_callback`.
    async fn callback_id(&self, arn: &str) -> String {
        let events = self.history(arn).await;
        let started = events
            .iter()
            .find(|e| e["EventType"] == "CallbackStarted")
            .unwrap_or_else(|| panic!("no CallbackStarted in {events:?}"));
        started["CallbackStartedDetails"]["CallbackId"]
            .as_str()
            .expect("callback id")
            .to_owned()
    }

    /// Waits until the execution is no longer running.
    async fn finished(&self, arn: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let execution = self.execution(arn).await;
            if execution["Status"] != "RUNNING" {
                return execution;
            }
            assert!(Instant::now() < deadline, "still running: {execution}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn assert_running(&self, arn: &str, why: &str) {
        // Long enough for a wrongly delivered callback to have resumed it.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let execution = self.execution(arn).await;
        assert_eq!(execution["Status"], "RUNNING", "{why}: {execution}");
    }

    /// The one mail the example sent to `approver` (waiting for it).
    async fn mail_to(&self, approver: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mail = sent_mail(&self.moto.aws.endpoint, Some(approver)).await;
            match mail.as_slice() {
                [] => {}
                [one] => return one.clone(),
                more => panic!("one mail to {approver}: {more:?}"),
            }
            assert!(Instant::now() < deadline, "no mail to {approver}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The callback calls (`succeed`, `fail`, `heartbeat`) that reached
    /// the durable API.
    async fn callback_calls(&self) -> Vec<String> {
        let calls: Value = reqwest::get(format!("{}/calls", self.endpoint))
            .await
            .expect("calls")
            .json()
            .await
            .expect("json");
        serde_json::from_value(calls).expect("names")
    }
}

/// The link of `action` in the example's mail.
async fn link(lab: &Durable, approver: &str, action: &str) -> String {
    let mail = lab.mail_to(approver).await;
    assert_eq!(
        mail["subject"]
            .as_str()
            .map(|s| s.ends_with("approve or reject?")),
        Some(true)
    );
    lab.server
        .link(&link_in_html(mail["body"].as_str().expect("html"), action))
}

async fn press(url: &str, body: Option<&Value>) -> crate::it::moto::Reply {
    call(Method::POST, url, Some("application/json"), body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_durable_function_waits_for_the_approvers_press() {
    let Some(lab) = Durable::start().await else {
        return;
    };

    // Approve with a comment: the execution resumes with exactly the
    // action's output and the comment, and ships.
    let approved = lab.start_execution("order-1", "ann@corp.example").await;
    let approve = link(&lab, "ann@corp.example", "approve").await;
    lab.assert_running(&approved, "the mail alone decides nothing")
        .await;
    // Opening the page probes with a heartbeat and decides nothing.
    let page = call(Method::GET, &approve, Some("text/html"), None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("<form"), "{}", page.text);
    assert_eq!(lab.callback_calls().await, ["heartbeat"]);
    lab.assert_running(&approved, "a page's probe decides nothing")
        .await;
    lab.moto.record().await;
    let pressed = press(&approve, Some(&json!({"comment": "ship it"}))).await;
    assert_eq!(pressed.status, StatusCode::OK, "{}", pressed.text);
    let done = lab.finished(&approved).await;
    assert_eq!(done["Status"], "SUCCEEDED", "{done}");
    let result: Value =
        serde_json::from_str(done["Result"].as_str().expect("result")).expect("json");
    let decision = json!({"approved": true, "order": "order-1", "comment": "ship it"});
    assert_eq!(
        result,
        json!({
            "status": "approved",
            "decision": decision,
            "shipment": {"order": "order-1", "shipped": true}
        })
    );
    assert_eq!(lab.callback_calls().await, ["heartbeat", "succeed"]);
    // A durable link never calls Step Functions.
    assert_eq!(lab.moto.sfn_calls().await, Vec::<String>::new());

    // A second press: the 410 page, and the execution is as it was.
    let events = lab.history(&approved).await.len();
    let again = call(Method::POST, &approve, Some("text/html"), None).await;
    assert_eq!(again.status, StatusCode::GONE, "{}", again.text);
    assert!(again.text.contains("already"), "{}", again.text);
    assert_eq!(lab.history(&approved).await.len(), events);
    assert_eq!(lab.execution(&approved).await["Status"], "SUCCEEDED");

    // Reject: the callback fails with the action's error and cause, and so
    // does the execution.
    let rejected = lab.start_execution("order-2", "bob@corp.example").await;
    let reject = link(&lab, "bob@corp.example", "reject").await;
    let pressed = press(&reject, None).await;
    assert_eq!(pressed.status, StatusCode::OK, "{}", pressed.text);
    let done = lab.finished(&rejected).await;
    assert_eq!(done["Status"], "FAILED", "{done}");
    assert_eq!(
        done["Error"]["ErrorMessage"], "Order order-2 was rejected",
        "{done}"
    );
    let failed = lab
        .history(&rejected)
        .await
        .into_iter()
        .find(|e| e["EventType"] == "CallbackFailed")
        .expect("a CallbackFailed event");
    let error = &failed["CallbackFailedDetails"]["Error"]["Payload"];
    assert_eq!(error["ErrorType"], "Rejected", "{failed}");
    assert_eq!(
        error["ErrorMessage"], "Order order-2 was rejected",
        "{failed}"
    );

    // Heartbeat: a link of the request's own callback keeps it running,
    // and the approve link still works after it.
    let waiting = lab.start_execution("order-3", "cat@corp.example").await;
    let approve = link(&lab, "cat@corp.example", "approve").await;
    let callback_id = lab.callback_id(&waiting).await;
    let created = create(
        &lab.server,
        &json!({
            "callback_id": callback_id,
            "actions": [{"name": "still_working", "type": "heartbeat"}],
        }),
    )
    .await;
    let heartbeat = lab
        .server
        .link(created["urls"]["still_working"].as_str().expect("url"));
    let before = lab.callback_calls().await.len();
    let beat = press(&heartbeat, None).await;
    assert_eq!(beat.status, StatusCode::OK, "{}", beat.text);
    assert_eq!(lab.callback_calls().await[before..], ["heartbeat"]);
    lab.assert_running(&waiting, "a heartbeat keeps it waiting")
        .await;

    // An expired link sends nothing at all.
    let created = create(
        &lab.server,
        &json!({
            "callback_id": callback_id,
            "expiration": expiring_in(1500),
            "actions": [{"name": "approve", "type": "success", "output": {"late": true}}],
        }),
    )
    .await;
    let late = lab
        .server
        .link(created["urls"]["approve"].as_str().expect("url"));
    tokio::time::sleep(Duration::from_millis(1700)).await;
    let before = lab.callback_calls().await.len();
    let expired = press(&late, None).await;
    assert_eq!(expired.status, StatusCode::GONE, "{}", expired.text);
    assert_eq!(expired.json()["error"], "ExpiredPayload");
    assert_eq!(lab.callback_calls().await.len(), before, "nothing sent");
    lab.assert_running(&waiting, "an expired link decides nothing")
        .await;

    let pressed = press(&approve, None).await;
    assert_eq!(pressed.status, StatusCode::OK, "{}", pressed.text);
    let done = lab.finished(&waiting).await;
    assert_eq!(done["Status"], "SUCCEEDED", "{done}");

    // The runner's answer to a closed callback (404, no error type
    // header) is the 410 of a closed task, for every action.
    let before = lab.callback_calls().await.len();
    let again = press(&heartbeat, None).await;
    assert_eq!(again.status, StatusCode::GONE, "{}", again.text);
    assert_eq!(again.json()["error"], "StepFunctionsError");
    assert_eq!(lab.callback_calls().await[before..], ["heartbeat"]);

    // A Step Functions link never calls the Lambda API.
    let before = lab.callback_calls().await.len();
    let created = create(
        &lab.server,
        &json!({"token": "QUJDREVG", "actions": [{"name": "go", "type": "success", "output": {}}]}),
    )
    .await;
    let task = lab
        .server
        .link(created["urls"]["go"].as_str().expect("url"));
    let answered = press(&task, None).await;
    assert_eq!(
        answered.status,
        StatusCode::GONE,
        "moto: no such task; {}",
        answered.text
    );
    assert_eq!(lab.callback_calls().await.len(), before);
}
