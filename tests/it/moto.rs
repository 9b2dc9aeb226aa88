//! The moto_server harness: a real Step Functions emulator, a state machine
//! whose Task waits on an SQS message (so tests get real task tokens), and
//! the `sfn-callbacks` binary as a process.
//!
//! moto_server comes from the venv the test command makes (`.venv`), or
//! from `MOTO_SERVER`. Without it a test says so and passes, unless
//! `SFN_CALLBACKS_REQUIRE_MOTO=1` (set by the test command), when it fails.

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_sfn::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sfn::types::ExecutionStatus;
use reqwest::StatusCode;
use serde_json::{Value, json};

pub const REGION: &str = "us-east-1";

/// A child process killed when dropped.
pub struct Proc {
    pub child: Child,
    pub name: &'static str,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        eprintln!("stopped {}", self.name);
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

pub fn moto_binary() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("MOTO_SERVER") {
        return Some(PathBuf::from(path));
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server");
    venv.exists().then_some(venv)
}

pub async fn wait_until_up(url: &str, what: &str, child: &mut Child) {
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

pub struct Aws {
    pub endpoint: String,
    pub config: aws_config::SdkConfig,
    pub sfn: aws_sdk_sfn::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub kms: aws_sdk_kms::Client,
    pub queue_url: String,
    pub state_machine: String,
    pub kms_key: String,
    pub tokens: HashMap<String, String>,
}

impl Aws {
    pub async fn new(endpoint: String) -> Self {
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
            config,
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
    pub async fn start(&mut self, case: &str) -> (String, String) {
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

    pub async fn execution(
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
    pub async fn finished(
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

    /// The types of the execution's history events, in order.
    pub async fn history(&self, arn: &str) -> Vec<String> {
        self.sfn
            .get_execution_history()
            .execution_arn(arn)
            .send()
            .await
            .expect("history")
            .events
            .iter()
            .map(|e| e.r#type.as_str().to_owned())
            .collect()
    }

    pub async fn assert_running(&self, arn: &str, why: &str) {
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert_eq!(
            self.execution(arn).await.status,
            ExecutionStatus::Running,
            "{why}"
        );
    }
}

/// Runs `sfn-callbacks keygen --keyring-file <keyring> <args>` with moto's
/// endpoint and test credentials, so `--kms-key-id` reaches moto's KMS.
pub fn keygen(aws: &Aws, keyring: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sfn-callbacks"))
        .args(["keygen", "--keyring-file"])
        .arg(keyring)
        .args(args)
        .env_remove("KEYRING_FILE")
        .env_remove("KMS_KEY_ID")
        .env("AWS_ENDPOINT_URL", &aws.endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", REGION)
        .output()
        .expect("keygen")
}

/// Asserts that a command succeeded, and returns what it wrote to stderr.
pub fn succeeded(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stderr}");
    stderr
}

/// Asserts that only the owner can read or write the file.
pub fn assert_private(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", path.display());
    }
}

pub struct Server {
    pub base: String,
    pub log: PathBuf,
    pub _proc: Proc,
}

impl Server {
    /// The same callback link on this server (links do not depend on the
    /// server that made them, only on its keys).
    pub fn link(&self, url: &str) -> String {
        let path = url.find("/respond").expect("a callback URL");
        format!("{}{}", self.base, &url[path..])
    }
}

pub async fn serve(aws: &Aws, dir: &Path, name: &'static str, envs: &[(&str, &str)]) -> Server {
    serve_at(&aws.endpoint, dir, name, envs).await
}

/// [`serve_at`] with the tests' keyring ([`super::support::keyring`]).
pub async fn serve_keyed(endpoint: &str, dir: &Path, envs: &[(&str, &str)]) -> Server {
    let keyring = super::support::keyring().to_json();
    let mut all = vec![("KEYRING", keyring.as_str())];
    all.extend_from_slice(envs);
    serve_at(endpoint, dir, "serve", &all).await
}

/// `serve` with its AWS calls going to `endpoint`, its log in `dir`.
pub async fn serve_at(
    endpoint: &str,
    dir: &Path,
    name: &'static str,
    envs: &[(&str, &str)],
) -> Server {
    serve_on(free_port(), endpoint, dir, name, envs).await
}

/// [`serve_at`] on a given port (for settings that must name it first).
pub async fn serve_on(
    port: u16,
    endpoint: &str,
    dir: &Path,
    name: &'static str,
    envs: &[(&str, &str)],
) -> Server {
    let log = dir.join(format!("{name}.log"));
    let mut command = Command::new(env!("CARGO_BIN_EXE_sfn-callbacks"));
    command
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_ENDPOINT_URL", endpoint)
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
        // An empty value takes the variable away (the AWS credentials, say).
        if v.is_empty() {
            command.env_remove(k);
        } else {
            command.env(k, v);
        }
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

/// The mail moto's SES was asked to send (to `address`, when given).
pub async fn sent_mail(endpoint: &str, address: Option<&str>) -> Vec<Value> {
    let data: Value = reqwest::get(format!("{endpoint}/moto-api/data.json"))
        .await
        .expect("moto data")
        .json()
        .await
        .expect("json");
    data["ses"]["Message"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| {
            address.is_none_or(|a| {
                m["destinations"]["ToAddresses"]
                    .as_array()
                    .is_some_and(|to| to.iter().any(|t| t == a))
            })
        })
        .cloned()
        .collect()
}

/// Takes the next message off an SQS queue (waiting up to 10 s): its body
/// as JSON (an SNS envelope, for a subscribed queue).
pub async fn next_message(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let received = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(1)
            .wait_time_seconds(1)
            .send()
            .await
            .expect("receive");
        if let Some(message) = received.messages.unwrap_or_default().pop() {
            sqs.delete_message()
                .queue_url(queue_url)
                .receipt_handle(message.receipt_handle.expect("receipt handle"))
                .send()
                .await
                .expect("delete");
            let body = message.body.expect("body");
            return serde_json::from_str(&body)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {body}"));
        }
        assert!(Instant::now() < deadline, "nothing arrived on {queue_url}");
    }
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

pub async fn create(server: &Server, body: &Value) -> Value {
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

pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|_| panic!("not JSON: {}", self.text))
    }
}

pub async fn call(
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

pub fn url_of(created: &Value, action: &str) -> String {
    created["urls"][action].as_str().expect("url").to_owned()
}

pub fn output_of(
    out: &aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput,
) -> Value {
    let text = out.output.as_deref().expect("output");
    serde_json::from_str(text).unwrap_or_else(|e| panic!("output {text:?} is not JSON: {e}"))
}

pub fn approval(token: &str) -> Value {
    json!({
        "token": token,
        "actions": [
            {"name": "approve", "type": "success", "output": {"approved": true, "by": "alice@example.com"}},
            {"name": "reject", "type": "failure", "error": "Rejected", "cause": "not this time"},
            {"name": "ping", "type": "heartbeat"}
        ]
    })
}

/// An RFC 3339 expiration `ms` milliseconds from now, for links that must
/// expire during a test. Long enough that a busy machine still makes the
/// link before it expires.
pub fn expiring_in(ms: i64) -> String {
    (time::OffsetDateTime::now_utc() + time::Duration::milliseconds(ms))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("formats")
}

/// The link with one character of its sealed payload changed.
pub fn tampered(url: &str) -> String {
    let cut = url.find("data=").expect("data") + 5 + 30;
    let flipped = if &url[cut..=cut] == "A" { "B" } else { "A" };
    format!("{}{flipped}{}", &url[..cut], &url[cut + 1..])
}

/// A running moto_server, stopped when dropped, with the AWS resources the
/// tests use. `None` (after saying so) when moto_server is not installed and
/// the test command did not require it.
pub struct Moto {
    pub aws: Aws,
    pub dir: tempfile::TempDir,
    _proc: Proc,
}

impl Moto {
    pub async fn start() -> Option<Self> {
        let Some(moto) = moto_binary() else {
            assert!(
                std::env::var("SFN_CALLBACKS_REQUIRE_MOTO").is_err(),
                "moto_server is required: run the README's test command, which installs it"
            );
            eprintln!("SKIPPED: moto_server not found (the README's test command installs it)");
            return None;
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let mut child = Command::new(&moto)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            // Where [`Moto::record`] keeps what moto is asked.
            .env("MOTO_RECORDER_FILEPATH", dir.path().join("recording.jsonl"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("moto.log")).expect("log"))
            .spawn()
            .expect("spawn moto_server");
        let endpoint = format!("http://127.0.0.1:{port}");
        wait_until_up(&format!("{endpoint}/moto-api/"), "moto_server", &mut child).await;
        let proc = Proc {
            child,
            name: "moto_server",
        };
        let configured = http()
            .post(format!("{endpoint}/moto-api/config"))
            .json(&json!({
                "stepfunctions": {"execute_state_machine": true},
                // Lambda tasks "invoke" without running anything (no Docker
                // here); the examples harness plays the function.
                "lambda": {"use_docker": false}
            }))
            .send()
            .await
            .expect("moto config");
        assert!(configured.status().is_success());
        Some(Self {
            aws: Aws::new(endpoint).await,
            dir,
            _proc: proc,
        })
    }

    /// Starts recording the requests moto gets, forgetting earlier ones.
    pub async fn record(&self) {
        for step in ["reset-recording", "start-recording"] {
            let reply = http()
                .post(format!("{}/moto-api/recorder/{step}", self.aws.endpoint))
                .send()
                .await
                .expect("moto recorder");
            assert!(reply.status().is_success(), "{step}: {}", reply.status());
        }
    }

    /// The Step Functions operations (`SendTaskHeartbeat`, ...) moto got
    /// since [`Self::record`], in order.
    pub async fn sfn_calls(&self) -> Vec<String> {
        let reply = http()
            .get(format!(
                "{}/moto-api/recorder/download-recording",
                self.aws.endpoint
            ))
            .send()
            .await
            .expect("moto recording");
        assert!(reply.status().is_success(), "{}", reply.status());
        let text = reply.text().await.expect("recording");
        text.lines()
            .filter(|line| !line.trim().is_empty())
            .filter_map(|line| {
                let entry: Value = serde_json::from_str(line).expect("a recorded request");
                let headers = entry["headers"].as_object().expect("headers");
                headers
                    .iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case("x-amz-target"))
                    .and_then(|(_, target)| target.as_str())
                    .and_then(|t| t.strip_prefix("AWSStepFunctions."))
                    .map(str::to_owned)
            })
            .collect()
    }
}
