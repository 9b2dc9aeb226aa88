//! Fault injection: `serve` in front of a stand-in for Step Functions and
//! KMS on loopback that throttles, fails with 500s, answers slowly and
//! resets connections. Shows retries, a 503 with `Retry-After` when they
//! run out, that one click never sends two EngineCall calls, that every link
//! used during a fault works once it clears (no lost decisions), and what
//! an unavailable KMS does at start and during requests.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

use super::moto::{Server, free_port, http, serve_at, serve_keyed};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Answer,
    Throttle,
    ServerError,
    Reset,
    /// Answers (and applies the call) after this long.
    Slow(Duration),
}

/// What one service does next: a script, then a default.
#[derive(Default)]
struct Faults {
    script: Mutex<VecDeque<Fault>>,
    default: Mutex<Option<Fault>>,
}

impl Faults {
    fn next(&self) -> Fault {
        self.script
            .lock()
            .expect("lock")
            .pop_front()
            .unwrap_or_else(|| self.default.lock().expect("lock").unwrap_or(Fault::Answer))
    }

    fn set_default(&self, fault: Fault) {
        *self.default.lock().expect("lock") = Some(fault);
    }

    fn queue(&self, faults: impl IntoIterator<Item = Fault>) {
        self.script.lock().expect("lock").extend(faults);
    }
}

/// Step Functions (each token can be used once, as in AWS) and the KMS
/// calls the key modes make, with faults on either.
#[derive(Default)]
struct StandIn {
    sfn: Faults,
    kms: Faults,
    /// Every request, as `sfn:<operation>` or `kms:<operation>`.
    attempts: Mutex<Vec<String>>,
    /// The SendTask* calls applied: (operation, token).
    applied: Mutex<Vec<(String, String)>>,
    /// KMS ciphertext blobs and their plaintexts.
    blobs: Mutex<HashMap<Vec<u8>, Vec<u8>>>,
}

impl StandIn {
    fn attempts(&self, service: &str) -> usize {
        let prefix = format!("{service}:");
        self.attempts
            .lock()
            .expect("lock")
            .iter()
            .filter(|a| a.starts_with(&prefix))
            .count()
    }

    fn applied(&self) -> Vec<(String, String)> {
        self.applied.lock().expect("lock").clone()
    }

    /// Registers a KMS blob (as if `Encrypt` had made it).
    fn add_blob(&self, blob: &[u8], plaintext: &[u8]) {
        self.blobs
            .lock()
            .expect("lock")
            .insert(blob.to_vec(), plaintext.to_vec());
    }

    /// Applies a SendTask* call. A success or failure closes the task;
    /// a closed task's token is refused, as Step Functions does.
    fn answer_sfn(&self, operation: &str, body: &Value) -> (&'static str, Value) {
        let token = body["taskToken"].as_str().unwrap_or_default().to_owned();
        let mut applied = self.applied.lock().expect("lock");
        let closed = applied
            .iter()
            .any(|(op, t)| *t == token && op != "sendtaskheartbeat");
        if closed {
            return (
                "400 Bad Request",
                json!({"__type": "TaskTimedOut", "message": "Task Timed Out"}),
            );
        }
        applied.push((operation.to_owned(), token));
        ("200 OK", json!({}))
    }

    fn answer_kms(&self, operation: &str, body: &Value) -> (&'static str, Value) {
        let mut blobs = self.blobs.lock().expect("lock");
        match operation {
            "generatedatakey" => {
                let n = blobs.len();
                let plaintext: Vec<u8> = (0..32).map(|i| (i * 7 + n) as u8).collect();
                let blob = format!("data-key-{n}").into_bytes();
                blobs.insert(blob.clone(), plaintext.clone());
                (
                    "200 OK",
                    json!({"KeyId": "k", "CiphertextBlob": STANDARD.encode(blob), "Plaintext": STANDARD.encode(plaintext)}),
                )
            }
            "decrypt" => {
                let blob = STANDARD
                    .decode(body["CiphertextBlob"].as_str().unwrap_or_default())
                    .unwrap_or_default();
                match blobs.get(&blob) {
                    Some(plaintext) => (
                        "200 OK",
                        json!({"KeyId": "k", "Plaintext": STANDARD.encode(plaintext)}),
                    ),
                    None => (
                        "400 Bad Request",
                        json!({"__type": "InvalidCiphertextException"}),
                    ),
                }
            }
            _ => (
                "400 Bad Request",
                json!({"__type": "UnsupportedOperationException"}),
            ),
        }
    }
}

/// Reads one HTTP/1.1 request (headers and a Content-Length body).
async fn read_request(stream: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < header_end + length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some((head, buf[header_end..header_end + length].to_vec()))
}

async fn serve_connection(mut stream: TcpStream, standin: Arc<StandIn>) {
    while let Some((head, body)) = read_request(&mut stream).await {
        let target = head
            .lines()
            .find_map(|l| l.strip_prefix("x-amz-target:"))
            .map(|t| t.trim().to_owned())
            .unwrap_or_default();
        let (service, operation) = match target.split_once('.') {
            Some(("trentservice", op)) => ("kms", op.to_owned()),
            Some((_, op)) => ("sfn", op.to_owned()),
            None => ("sfn", target.clone()),
        };
        standin
            .attempts
            .lock()
            .expect("lock")
            .push(format!("{service}:{operation}"));
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let faults = if service == "kms" {
            &standin.kms
        } else {
            &standin.sfn
        };
        let (status, payload) = match faults.next() {
            Fault::Answer | Fault::Slow(_) if service == "kms" => {
                standin.answer_kms(&operation, &body)
            }
            Fault::Slow(delay) => {
                // Step Functions applies the call whether or not the
                // caller is still waiting for the answer.
                tokio::time::sleep(delay).await;
                standin.answer_sfn(&operation, &body)
            }
            Fault::Answer => standin.answer_sfn(&operation, &body),
            Fault::Throttle => (
                "400 Bad Request",
                json!({"__type": "ThrottlingException", "message": "Rate exceeded"}),
            ),
            Fault::ServerError => (
                "500 Internal Server Error",
                json!({"__type": "InternalFailure", "message": "injected"}),
            ),
            Fault::Reset => {
                // Linger 0: closing sends a TCP reset instead of a FIN.
                let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
                return;
            }
        };
        let payload = payload.to_string();
        let response = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: {}\r\n\r\n{payload}",
            payload.len()
        );
        if stream.write_all(response.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// The stand-in on a loopback port; its endpoint URL.
async fn start_standin() -> (String, Arc<StandIn>) {
    let standin = Arc::new(StandIn::default());
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let shared = standin.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve_connection(stream, shared.clone()));
        }
    });
    (format!("http://127.0.0.1:{port}"), standin)
}

/// `serve` against the stand-in with a keyring and a short deadline.
async fn start_serve(endpoint: &str, dir: &Path, extra: &[(&str, &str)]) -> Server {
    let mut envs = vec![("SFN_DEADLINE_MS", "4000")];
    envs.extend_from_slice(extra);
    serve_keyed(endpoint, dir, &envs).await
}

async fn create_links(server: &Server, token: &str) -> Value {
    let reply = http()
        .post(format!("{}/urls", server.base))
        .json(&json!({"token": token, "actions": [
            {"name": "approve", "type": "success", "output": {"ok": true}},
            {"name": "ping", "type": "heartbeat"},
            {"name": "reject", "type": "failure"}
        ]}))
        .send()
        .await
        .expect("create");
    assert_eq!(reply.status(), StatusCode::OK);
    reply.json().await.expect("json")
}

fn url(created: &Value, name: &str) -> String {
    created["urls"][name].as_str().expect("url").to_owned()
}

/// A program's click: a POST to the link.
async fn click(url: &str) -> (StatusCode, Option<String>, Value) {
    let reply = http().post(url).send().await.expect("callback");
    let status = reply.status();
    let retry_after = reply
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (status, retry_after, reply.json().await.expect("json"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_are_retried_then_503_and_no_decision_is_lost() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (endpoint, standin) = start_standin().await;
    let server = start_serve(&endpoint, dir.path(), &[]).await;
    let created = create_links(&server, "QUJD").await;
    let during = create_links(&server, "REVG").await;

    // Throttled twice: the retries carry the click through, and Step
    // Functions applies it once.
    standin.sfn.queue([Fault::Throttle, Fault::Throttle]);
    let (status, _, _) = click(&url(&created, "approve")).await;
    assert_eq!(status, 200);
    assert_eq!(standin.attempts("sfn"), 3);
    assert_eq!(
        standin.applied(),
        vec![("sendtasksuccess".to_owned(), "QUJD".to_owned())]
    );

    // Persistent 500s: Step Functions says it did not apply the call, so it
    // is retried, then a 503 with Retry-After once the budget is spent.
    standin.sfn.set_default(Fault::ServerError);
    let before = standin.attempts("sfn");
    let (status, retry_after, body) = click(&url(&during, "ping")).await;
    assert_eq!(status, 503);
    assert_eq!(retry_after.as_deref(), Some("5"));
    assert_eq!(body["error"], "ServiceError");
    // At most 4 attempts, fewer when the jittered backoff reaches the 4 s
    // deadline first.
    let attempts = standin.attempts("sfn") - before;
    assert!((2..=4).contains(&attempts), "500s: {attempts} attempts");

    // A reset after the request went out: it may have been applied, so it
    // is not sent again; the 503 says the answer is unconfirmed.
    standin.sfn.set_default(Fault::Reset);
    let before = standin.attempts("sfn");
    let (status, retry_after, body) = click(&url(&during, "reject")).await;
    assert_eq!(status, 503);
    assert_eq!(retry_after.as_deref(), Some("5"));
    assert_eq!(standin.attempts("sfn") - before, 1, "sent once");
    let message = body["message"].as_str().expect("message");
    assert!(
        message.contains("may or may not have been recorded"),
        "{message}"
    );
    assert_eq!(
        standin.applied().len(),
        1,
        "nothing applied during the faults"
    );

    // The fault clears: every link used during it works now.
    standin.sfn.set_default(Fault::Answer);
    for name in ["ping", "reject"] {
        let (status, _, body) = click(&url(&during, name)).await;
        assert_eq!(status, 200, "{name} after the fault: {body}");
    }
    let applied = standin.applied();
    assert_eq!(applied.len(), 3, "lost decisions: {}", 3 - applied.len());
    assert!(applied.iter().any(|(op, _)| op == "sendtaskheartbeat"));
    assert!(applied.iter().any(|(op, _)| op == "sendtaskfailure"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_answer_is_waited_for_and_one_click_never_sends_twice() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (endpoint, standin) = start_standin().await;
    let server = start_serve(&endpoint, dir.path(), &[("SFN_DEADLINE_MS", "6000")]).await;

    // Slower than the SDK's usual attempt timeout, inside the deadline: the
    // answer is waited for, and the call is made once.
    let first = create_links(&server, "Rmlyc3Q=").await;
    standin.sfn.queue([Fault::Slow(Duration::from_secs(4))]);
    let (status, _, body) = click(&url(&first, "approve")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(standin.attempts("sfn"), 1);

    // Slower than the deadline: a 503 that says the outcome is unknown, and
    // still one call. Step Functions applies it after the caller gave up.
    let second = create_links(&server, "U2Vjb25k").await;
    standin.sfn.queue([Fault::Slow(Duration::from_secs(9))]);
    let (status, retry_after, body) = click(&url(&second, "approve")).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(retry_after.as_deref(), Some("5"));
    let message = body["message"].as_str().expect("message");
    assert!(
        message.contains("may or may not have been recorded"),
        "{message}"
    );
    assert_eq!(standin.attempts("sfn"), 2, "one call per click");

    let deadline = Instant::now() + Duration::from_secs(20);
    while standin.applied().len() < 2 {
        assert!(Instant::now() < deadline, "the slow call was never applied");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Using the link again tells the clicker the answer was recorded.
    let (status, _, body) = click(&url(&second, "approve")).await;
    assert_eq!(status, 410, "{body}");
    assert_eq!(standin.attempts("sfn"), 3, "one call per click");
    let applied = standin.applied();
    assert_eq!(
        applied,
        vec![
            ("sendtasksuccess".to_owned(), "Rmlyc3Q=".to_owned()),
            ("sendtasksuccess".to_owned(), "U2Vjb25k".to_owned()),
        ],
        "each decision applied once"
    );
}

/// Runs `serve` until it exits (it must, within 60 s); its status and
/// standard error.
fn serve_until_exit(endpoint: &str, envs: &[(&str, &str)]) -> (std::process::ExitStatus, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut command = Command::new(env!("CARGO_BIN_EXE_sfn-callbacks"));
    command
        .arg("serve")
        .env_clear()
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("LISTEN_ADDR", format!("127.0.0.1:{}", free_port()))
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        command.env(k, v);
    }
    let mut child = command.spawn().expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("serve kept running without its keyring");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr)
        .expect("stderr");
    (status, stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kms_unavailable_at_start_is_a_clear_start_up_error() {
    let (endpoint, standin) = start_standin().await;
    let keyring = super::support::keyring().to_json();
    standin.add_blob(b"wrapped keyring", keyring.as_bytes());
    let wrapped = format!(
        "{}{}",
        sfn_callbacks::keys::KMS_KEYRING_PREFIX,
        STANDARD.encode(b"wrapped keyring")
    );
    let envs = [
        ("KEY_MODE", "kms"),
        ("KMS_KEY_ID", "k"),
        ("KEYRING", wrapped.as_str()),
    ];

    // KMS answers 500s; then nothing listens at all.
    standin.kms.set_default(Fault::ServerError);
    let closed = format!("http://127.0.0.1:{}", free_port());
    for (what, endpoint) in [("500s", endpoint.as_str()), ("closed port", &closed)] {
        let (status, stderr) = tokio::task::block_in_place(|| serve_until_exit(endpoint, &envs));
        assert!(!status.success(), "{what}: exit status {status}");
        assert!(
            stderr.contains("cannot load the keyring") && stderr.contains("KMS is unavailable"),
            "{what}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    }
    assert!(
        standin.attempts("kms") >= 2,
        "the start-up Decrypt is retried"
    );

    // The same settings start once KMS answers.
    standin.kms.set_default(Fault::Answer);
    let dir = tempfile::tempdir().expect("tempdir");
    let server = serve_at(&endpoint, dir.path(), "serve", &envs).await;
    create_links(&server, "QUJD").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kms_unavailable_during_requests_is_503_and_links_work_after() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (endpoint, standin) = start_standin().await;
    let envs = [("KEY_MODE", "kms-envelope"), ("KMS_KEY_ID", "k")];
    let (first_base, created) = {
        let server = start_serve(&endpoint, dir.path(), &envs).await;
        (server.base.clone(), create_links(&server, "QUJD").await)
    };
    // A fresh instance has no data key cached: opening the link needs KMS.
    let server = start_serve(&endpoint, dir.path(), &envs).await;
    let link = url(&created, "approve").replacen(&first_base, &server.base, 1);
    standin.kms.set_default(Fault::ServerError);
    let (status, retry_after, body) = click(&link).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(retry_after.as_deref(), Some("5"));
    assert_eq!(body["error"], "ServiceError");
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .contains("key service is unavailable"),
        "{body}"
    );
    let reply = http()
        .post(format!("{}/urls", server.base))
        .json(
            &json!({"token": "REVG", "actions": [{"name": "ok", "type": "success", "output": {}}]}),
        )
        .send()
        .await
        .expect("create");
    assert_eq!(
        reply.status(),
        503,
        "CreateUrls needs a data key: {}",
        reply.text().await.unwrap_or_default()
    );
    assert_eq!(standin.attempts("sfn"), 0, "no Step Functions call");

    standin.kms.set_default(Fault::Answer);
    let (status, _, body) = click(&link).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        standin.applied(),
        vec![("sendtasksuccess".to_owned(), "QUJD".to_owned())]
    );
}

/// A newcomer's `serve` without AWS credentials: it says so once at start,
/// links can still be made, and a click says that nothing was sent (it
/// never reaches Step Functions) instead of an unconfirmed answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_aws_credentials_a_click_says_nothing_was_sent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (endpoint, standin) = start_standin().await;
    // The instance metadata service is asked, as on a newcomer's machine,
    // and refuses, as one off EC2 does (a loopback stand-in answering 403).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let imds = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let refuse = axum::Router::new().fallback(|| async { axum::http::StatusCode::FORBIDDEN });
        axum::serve(listener, refuse).await.expect("stand-in");
    });
    let server = start_serve(
        &endpoint,
        dir.path(),
        &[
            ("AWS_ACCESS_KEY_ID", ""),
            ("AWS_SECRET_ACCESS_KEY", ""),
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds),
        ],
    )
    .await;
    let created = create_links(&server, "QUJD").await;
    let (status, retry_after, body) = click(&url(&created, "approve")).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(retry_after.as_deref(), Some("5"));
    assert_eq!(body["error"], "ServiceError");
    let message = body["message"].as_str().expect("message");
    assert!(
        message.starts_with("no AWS credentials: nothing was sent"),
        "{message}"
    );
    assert_eq!(standin.attempts("sfn"), 0, "nothing reached Step Functions");
    let log = std::fs::read_to_string(&server.log).expect("log");
    let warnings = log
        .lines()
        .filter(|l| l.contains("no AWS credentials found"))
        .count();
    assert_eq!(warnings, 1, "one warning at start: {log}");
    // And nothing else about credentials: not the SDK's provider chain, at
    // start or on the click.
    let chain: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("aws_config") || l.contains("Ec2InstanceMetadata"))
        .collect();
    assert!(chain.is_empty(), "{chain:#?}");
}
