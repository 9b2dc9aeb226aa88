//! End to end: the `sfn-callbacks` binary against moto_server, with real
//! task tokens from a state machine whose Task waits on an SQS message.
//!
//! moto_server comes from the venv the test command makes (`.venv`), or
//! from `MOTO_SERVER`. Without it the test says so and passes, unless
//! `SFN_CALLBACKS_REQUIRE_MOTO=1` (set by the test command), when it fails.

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_sfn::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sfn::types::ExecutionStatus;
use reqwest::StatusCode;
use serde_json::{Value, json};

const REGION: &str = "us-east-1";

/// A child process killed when dropped.
struct Proc {
    child: Child,
    name: &'static str,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        eprintln!("stopped {}", self.name);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn moto_binary() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("MOTO_SERVER") {
        return Some(PathBuf::from(path));
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server");
    venv.exists().then_some(venv)
}

async fn wait_until_up(url: &str, what: &str, child: &mut Child) {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if http.get(url).send().await.is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited early: {status}");
        }
        assert!(Instant::now() < deadline, "{what} did not start in 30 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

struct Aws {
    endpoint: String,
    sfn: aws_sdk_sfn::Client,
    sqs: aws_sdk_sqs::Client,
    kms: aws_sdk_kms::Client,
    queue_url: String,
    state_machine: String,
    kms_key: String,
    tokens: HashMap<String, String>,
}

impl Aws {
    async fn new(endpoint: String) -> Self {
        let config = aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(&endpoint)
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
            .load()
            .await;
        let sfn = aws_sdk_sfn::Client::new(&config);
        let sqs = aws_sdk_sqs::Client::new(&config);
        let kms = aws_sdk_kms::Client::new(&config);
        let queue_url = sqs
            .create_queue()
            .queue_name("tokens")
            .send()
            .await
            .expect("queue")
            .queue_url
            .expect("queue url");
        let definition = json!({
            "StartAt": "Wait",
            "States": {"Wait": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "HeartbeatSeconds": 600,
                "Parameters": {"QueueUrl": queue_url, "MessageBody": {"token.$": "$$.Task.Token", "case.$": "$.case"}},
                "End": true
            }}
        });
        let state_machine = sfn
            .create_state_machine()
            .name("approval")
            .role_arn("arn:aws:iam::123456789012:role/sfn")
            .definition(definition.to_string())
            .send()
            .await
            .expect("state machine")
            .state_machine_arn;
        let kms_key = kms
            .create_key()
            .send()
            .await
            .expect("kms key")
            .key_metadata
            .expect("metadata")
            .key_id;
        Self {
            endpoint,
            sfn,
            sqs,
            kms,
            queue_url,
            state_machine,
            kms_key,
            tokens: HashMap::new(),
        }
    }

    /// Starts an execution for `case` and returns its ARN and real token.
    async fn start(&mut self, case: &str) -> (String, String) {
        let arn = self
            .sfn
            .start_execution()
            .state_machine_arn(&self.state_machine)
            .name(case)
            .input(json!({"case": case}).to_string())
            .send()
            .await
            .expect("start")
            .execution_arn;
        let deadline = Instant::now() + Duration::from_secs(15);
        while !self.tokens.contains_key(case) {
            assert!(Instant::now() < deadline, "no token for {case}");
            let received = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await
                .expect("receive");
            for message in received.messages.unwrap_or_default() {
                let body: Value =
                    serde_json::from_str(message.body.as_deref().unwrap_or("{}")).expect("json");
                self.tokens.insert(
                    body["case"].as_str().expect("case").to_owned(),
                    body["token"].as_str().expect("token").to_owned(),
                );
                if let Some(handle) = message.receipt_handle {
                    let _ = self
                        .sqs
                        .delete_message()
                        .queue_url(&self.queue_url)
                        .receipt_handle(handle)
                        .send()
                        .await;
                }
            }
        }
        (arn, self.tokens[case].clone())
    }

    async fn execution(
        &self,
        arn: &str,
    ) -> aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput {
        self.sfn
            .describe_execution()
            .execution_arn(arn)
            .send()
            .await
            .expect("describe")
    }

    /// Waits for the execution to leave RUNNING.
    async fn finished(
        &self,
        arn: &str,
    ) -> aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let out = self.execution(arn).await;
            if out.status != ExecutionStatus::Running {
                return out;
            }
            assert!(Instant::now() < deadline, "{arn} still RUNNING");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    async fn assert_running(&self, arn: &str, why: &str) {
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert_eq!(
            self.execution(arn).await.status,
            ExecutionStatus::Running,
            "{why}"
        );
    }
}

struct Server {
    base: String,
    log: PathBuf,
    _proc: Proc,
}

async fn serve(aws: &Aws, dir: &Path, name: &'static str, envs: &[(&str, &str)]) -> Server {
    let port = free_port();
    let log = dir.join(format!("{name}.log"));
    let mut command = Command::new(env!("CARGO_BIN_EXE_sfn-callbacks"));
    command
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_ENDPOINT_URL", &aws.endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", REGION)
        .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("ENABLE_POST_ACTIONS", "true")
        .env("ENABLE_OUTPUT_PARAMETERS", "true")
        .env("RUST_LOG", "info")
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log file"));
    for (k, v) in envs {
        command.env(k, v);
    }
    let mut child = command.spawn().expect("spawn sfn-callbacks");
    let base = format!("http://127.0.0.1:{port}");
    wait_until_up(&format!("{base}/health"), name, &mut child).await;
    Server {
        base,
        log,
        _proc: Proc { child, name },
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn create(server: &Server, body: &Value) -> Value {
    let reply = http()
        .post(format!("{}/urls", server.base))
        .json(body)
        .send()
        .await
        .expect("create");
    let status = reply.status();
    let text = reply.text().await.expect("text");
    assert_eq!(status, StatusCode::OK, "{text}");
    serde_json::from_str(&text).expect("json")
}

struct Reply {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|_| panic!("not JSON: {}", self.text))
    }
}

async fn call(
    method: reqwest::Method,
    url: &str,
    accept: Option<&str>,
    json_body: Option<&Value>,
) -> Reply {
    let mut request = http().request(method, url);
    if let Some(a) = accept {
        request = request.header("accept", a);
    }
    if let Some(b) = json_body {
        request = request.json(b);
    }
    let reply = request.send().await.expect("callback");
    Reply {
        status: reply.status(),
        headers: reply.headers().clone(),
        text: reply.text().await.expect("text"),
    }
}

fn url_of(created: &Value, action: &str) -> String {
    created["urls"][action].as_str().expect("url").to_owned()
}

fn output_of(out: &aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput) -> Value {
    let text = out.output.as_deref().expect("output");
    serde_json::from_str(text).unwrap_or_else(|e| panic!("output {text:?} is not JSON: {e}"))
}

fn approval(token: &str) -> Value {
    json!({
        "token": token,
        "actions": [
            {"name": "approve", "type": "success", "output": {"approved": true, "by": "alice@example.com"}},
            {"name": "reject", "type": "failure", "error": "Rejected", "cause": "not this time"},
            {"name": "ping", "type": "heartbeat"}
        ]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_to_end_against_moto() {
    let Some(moto) = moto_binary() else {
        assert!(
            std::env::var("SFN_CALLBACKS_REQUIRE_MOTO").is_err(),
            "moto_server is required: run the README's test command, which installs it"
        );
        eprintln!("SKIPPED: moto_server not found (the README's test command installs it)");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let mut child = Command::new(&moto)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("moto.log")).expect("log"))
        .spawn()
        .expect("spawn moto_server");
    let endpoint = format!("http://127.0.0.1:{port}");
    wait_until_up(&format!("{endpoint}/moto-api/"), "moto_server", &mut child).await;
    let _moto = Proc {
        child,
        name: "moto_server",
    };
    let configured = http()
        .post(format!("{endpoint}/moto-api/config"))
        .json(&json!({"stepfunctions": {"execute_state_machine": true}}))
        .send()
        .await
        .expect("moto config");
    assert!(configured.status().is_success());
    let mut aws = Aws::new(endpoint).await;

    // The keyring, encrypted under a moto KMS key by the real keygen.
    let keyring = dir.path().join("keyring.kms");
    let keygen = Command::new(env!("CARGO_BIN_EXE_sfn-callbacks"))
        .args(["keygen", "--keyring-file"])
        .arg(&keyring)
        .args(["--kms-key-id", &aws.kms_key])
        .env("AWS_ENDPOINT_URL", &aws.endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", REGION)
        .output()
        .expect("keygen");
    assert!(
        keygen.status.success(),
        "{}",
        String::from_utf8_lossy(&keygen.stderr)
    );
    let text = std::fs::read_to_string(&keyring).expect("keyring");
    assert!(
        text.starts_with("sfn-callbacks-kms-keyring-v1:"),
        "the keyring must be stored encrypted"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&keyring)
            .expect("meta")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
    }
    let keyring_path = keyring.to_str().expect("utf-8 path").to_owned();
    let kms_env = [("KEY_MODE", "kms"), ("KEYRING_FILE", keyring_path.as_str())];
    let server = serve(&aws, dir.path(), "serve-kms", &kms_env).await;
    let mut secrets: Vec<String> = Vec::new();

    // Success: GET and HEAD leave the task alone, POST decides it.
    let (arn, token) = aws.start("success").await;
    secrets.push(token.clone());
    let created = create(&server, &approval(&token)).await;
    let approve = url_of(&created, "approve");
    secrets.push(approve.clone());
    let page = call(reqwest::Method::GET, &approve, Some("text/html"), None).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("<form method=\"post\">"));
    assert_eq!(
        call(reqwest::Method::HEAD, &approve, None, None)
            .await
            .status,
        200
    );
    aws.assert_running(&arn, "GET and HEAD must not act").await;
    let done = call(reqwest::Method::POST, &approve, None, None).await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(done.headers["cache-control"], "no-store");
    assert_eq!(done.headers["referrer-policy"], "no-referrer");
    let out = aws.finished(&arn).await;
    assert_eq!(out.status, ExecutionStatus::Succeeded);
    assert_eq!(
        output_of(&out),
        json!({"approved": true, "by": "alice@example.com"})
    );

    // A second use is a clear 4xx, and the execution is untouched.
    let again = call(reqwest::Method::POST, &approve, None, None).await;
    assert_eq!(again.status, 410, "{}", again.text);
    assert_eq!(again.json()["error"], "StepFunctionsError");
    assert_eq!(
        output_of(&aws.execution(&arn).await),
        json!({"approved": true, "by": "alice@example.com"})
    );

    // Failure (moto keeps the error but drops the cause).
    let (arn, token) = aws.start("failure").await;
    secrets.push(token.clone());
    let created = create(&server, &approval(&token)).await;
    let reject = call(
        reqwest::Method::POST,
        &url_of(&created, "reject"),
        None,
        None,
    )
    .await;
    assert_eq!(reject.status, 200, "{}", reject.text);
    let out = aws.finished(&arn).await;
    assert_eq!(out.status, ExecutionStatus::Failed);
    assert_eq!(out.error.as_deref(), Some("Rejected"));

    // Heartbeat links can be used again and again.
    let (arn, token) = aws.start("heartbeat").await;
    secrets.push(token.clone());
    let created = create(&server, &approval(&token)).await;
    for _ in 0..2 {
        let beat = call(reqwest::Method::POST, &url_of(&created, "ping"), None, None).await;
        assert_eq!(beat.status, 200, "{}", beat.text);
    }
    aws.assert_running(&arn, "heartbeats keep the task waiting")
        .await;

    // A tampered link and a renamed link are refused; the task still waits.
    let approve = url_of(&created, "approve");
    let cut = approve.find("data=").expect("data") + 5 + 40;
    let flipped = if &approve[cut..=cut] == "A" { "B" } else { "A" };
    let tampered = format!("{}{flipped}{}", &approve[..cut], &approve[cut + 1..]);
    let bad = call(reqwest::Method::POST, &tampered, None, None).await;
    assert_eq!(bad.status, 400, "{}", bad.text);
    assert_eq!(bad.json()["error"], "InvalidPayload");
    let renamed = approve.replace("action=approve", "action=reject");
    assert_eq!(
        call(reqwest::Method::POST, &renamed, None, None)
            .await
            .json()["error"],
        "ActionMismatched"
    );
    aws.assert_running(&arn, "bad links must not act").await;

    // A URL made by one server process opens on another with the same keys.
    let second = serve(&aws, dir.path(), "serve-kms-2", &kms_env).await;
    let moved = approve.replace(&server.base, &second.base);
    let done = call(reqwest::Method::POST, &moved, None, None).await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(aws.finished(&arn).await.status, ExecutionStatus::Succeeded);

    // Expired links.
    let (arn, token) = aws.start("expired").await;
    secrets.push(token.clone());
    let mut body = approval(&token);
    let expires = time::OffsetDateTime::now_utc() + time::Duration::milliseconds(1500);
    body["expiration"] = json!(
        expires
            .format(&time::format_description::well_known::Rfc3339)
            .expect("fmt")
    );
    let created = create(&server, &body).await;
    tokio::time::sleep(Duration::from_millis(1700)).await;
    let late = call(
        reqwest::Method::POST,
        &url_of(&created, "approve"),
        None,
        None,
    )
    .await;
    assert_eq!(late.status, 410, "{}", late.text);
    assert_eq!(late.json()["error"], "ExpiredPayload");
    aws.assert_running(&arn, "expired links must not act").await;

    // Output parameters.
    let (arn, token) = aws.start("parameters").await;
    secrets.push(token.clone());
    let created = create(
        &server,
        &json!({
            "token": token,
            "enable_output_parameters": true,
            "actions": [{"name": "approve", "type": "success", "output": {"by": "$who", "via": "${action}"}}]
        }),
    )
    .await;
    let done = call(
        reqwest::Method::POST,
        &format!("{}&who=bob", url_of(&created, "approve")),
        None,
        None,
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(
        output_of(&aws.finished(&arn).await),
        json!({"by": "bob", "via": "approve"})
    );

    // POST actions: outcome selection, output_path, error_path, output_body.
    let webhook = |token: &str| {
        json!({
            "token": token,
            "actions": [{"name": "hook", "type": "post", "outcomes": [
                {"name": "done", "type": "success", "output_path": "$.result.id",
                 "schema": {"type": "object", "properties": {"status": {"const": "done"}}, "required": ["status"]}},
                {"name": "failed", "type": "failure", "error_path": "$.code",
                 "schema": {"type": "object", "properties": {"status": {"const": "failed"}}, "required": ["status"]}},
                {"name": "raw", "type": "success", "output_body": true, "schema": {"type": "array"}}
            ]}]
        })
    };
    let (arn, token) = aws.start("post-done").await;
    secrets.push(token.clone());
    let hook = url_of(&create(&server, &webhook(&token)).await, "hook");
    let nomatch = call(
        reqwest::Method::POST,
        &hook,
        None,
        Some(&json!({"status": "??"})),
    )
    .await;
    assert_eq!(nomatch.json()["error"], "InvalidPostActionBody");
    aws.assert_running(&arn, "a body no outcome accepts must not act")
        .await;
    let done = call(
        reqwest::Method::POST,
        &hook,
        None,
        Some(&json!({"status": "done", "result": {"id": "j-1"}})),
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(output_of(&aws.finished(&arn).await), json!(["j-1"]));

    let (arn, token) = aws.start("post-failed").await;
    secrets.push(token.clone());
    let hook = url_of(&create(&server, &webhook(&token)).await, "hook");
    let failed = call(
        reqwest::Method::POST,
        &hook,
        None,
        Some(&json!({"status": "failed", "code": "E42"})),
    )
    .await;
    assert_eq!(failed.status, 200, "{}", failed.text);
    let out = aws.finished(&arn).await;
    assert_eq!(
        (out.status, out.error.as_deref()),
        (ExecutionStatus::Failed, Some("E42"))
    );

    let (arn, token) = aws.start("post-raw").await;
    secrets.push(token.clone());
    let hook = url_of(&create(&server, &webhook(&token)).await, "hook");
    let raw = call(
        reqwest::Method::POST,
        &hook,
        None,
        Some(&json!([1, {"a": "b"}])),
    )
    .await;
    assert_eq!(raw.status, 200, "{}", raw.text);
    assert_eq!(output_of(&aws.finished(&arn).await), json!([1, {"a": "b"}]));

    // Response specs: redirect, json, html, text.
    let mut responses = Vec::new();
    for (case, response, accept) in [
        (
            "resp-redirect",
            json!({"redirect": "https://example.com/thanks"}),
            None,
        ),
        (
            "resp-json",
            json!({"json": {"thanks": true}}),
            Some("application/json"),
        ),
        (
            "resp-html",
            json!({"html": "<p>Thanks!</p>"}),
            Some("text/html"),
        ),
        ("resp-text", json!({"text": "Thanks."}), Some("text/plain")),
    ] {
        let (arn, token) = aws.start(case).await;
        secrets.push(token.clone());
        let created = create(
            &server,
            &json!({"token": token, "actions": [{"name": "ok", "type": "success", "output": {"case": case}, "response": response}]}),
        )
        .await;
        let reply = call(reqwest::Method::POST, &url_of(&created, "ok"), accept, None).await;
        assert_eq!(output_of(&aws.finished(&arn).await), json!({"case": case}));
        responses.push(reply);
    }
    assert_eq!(responses[0].status, 303);
    assert_eq!(
        responses[0].headers["location"],
        "https://example.com/thanks"
    );
    assert_eq!(responses[1].json(), json!({"thanks": true}));
    assert_eq!(responses[2].text, "<p>Thanks!</p>");
    assert_eq!(responses[3].text, "Thanks.");

    // kms-envelope: a data key from KMS per batch, unwrapped on open.
    let envelope = serve(
        &aws,
        dir.path(),
        "serve-envelope",
        &[("KEY_MODE", "kms-envelope"), ("KMS_KEY_ID", &aws.kms_key)],
    )
    .await;
    let (arn, token) = aws.start("envelope").await;
    secrets.push(token.clone());
    let created = create(&envelope, &approval(&token)).await;
    let done = call(
        reqwest::Method::POST,
        &url_of(&created, "approve"),
        None,
        None,
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(aws.finished(&arn).await.status, ExecutionStatus::Succeeded);
    // An envelope link does not open on a keyring deployment.
    let foreign = url_of(&created, "reject").replace(&envelope.base, &server.base);
    let refused = call(reqwest::Method::POST, &foreign, None, None).await;
    assert_eq!(refused.json()["error"], "DecryptionUnsupported");

    // No task token, payload or URL in any log line.
    let _ = aws.kms.list_keys().send().await;
    for log in [&server.log, &second.log, &envelope.log] {
        let text = std::fs::read_to_string(log).expect("log");
        assert!(
            text.contains(r#""path":"/respond""#),
            "{} logged no callback",
            log.display()
        );
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "a secret leaked into {}",
                log.display()
            );
            if let Some(data) = secret.split("data=").nth(1) {
                assert!(
                    !text.contains(data),
                    "a payload leaked into {}",
                    log.display()
                );
            }
        }
    }
}
