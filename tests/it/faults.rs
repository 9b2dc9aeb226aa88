//! Fault injection: `serve` in front of a Step Functions stand-in on
//! loopback that throttles, fails with 500s and resets connections. Shows
//! retries, a 503 with `Retry-After` when they run out, and that every link
//! used during a fault works once the fault clears (no lost decisions).

use std::collections::VecDeque;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Answer,
    Throttle,
    ServerError,
    Reset,
}

#[derive(Default)]
struct StandIn {
    script: Mutex<VecDeque<Fault>>,
    default: Mutex<Option<Fault>>,
    attempts: Mutex<Vec<String>>,
    applied: Mutex<Vec<(String, String)>>,
}

impl StandIn {
    fn next_fault(&self) -> Fault {
        self.script
            .lock()
            .expect("lock")
            .pop_front()
            .unwrap_or_else(|| self.default.lock().expect("lock").unwrap_or(Fault::Answer))
    }

    fn set_default(&self, fault: Fault) {
        *self.default.lock().expect("lock") = Some(fault);
    }

    fn attempts(&self) -> usize {
        self.attempts.lock().expect("lock").len()
    }

    fn applied(&self) -> Vec<(String, String)> {
        self.applied.lock().expect("lock").clone()
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
        let operation = head
            .lines()
            .find_map(|l| l.strip_prefix("x-amz-target:"))
            .map(|t| t.trim().trim_start_matches("awsstepfunctions.").to_owned())
            .unwrap_or_default();
        standin
            .attempts
            .lock()
            .expect("lock")
            .push(operation.clone());
        let (status, payload) = match standin.next_fault() {
            Fault::Answer => {
                let token = serde_json::from_slice::<Value>(&body)
                    .ok()
                    .and_then(|v| v["taskToken"].as_str().map(str::to_owned))
                    .unwrap_or_default();
                standin
                    .applied
                    .lock()
                    .expect("lock")
                    .push((operation, token));
                ("200 OK", "{}".to_owned())
            }
            Fault::Throttle => (
                "400 Bad Request",
                json!({"__type": "ThrottlingException", "message": "Rate exceeded"}).to_string(),
            ),
            Fault::ServerError => (
                "500 Internal Server Error",
                json!({"__type": "InternalFailure", "message": "injected"}).to_string(),
            ),
            Fault::Reset => {
                // Linger 0: closing sends a TCP reset instead of a FIN.
                let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
                return;
            }
        };
        let response = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: {}\r\n\r\n{payload}",
            payload.len()
        );
        if stream.write_all(response.as_bytes()).await.is_err() {
            return;
        }
    }
}

async fn start_standin() -> (u16, Arc<StandIn>) {
    let standin = Arc::new(StandIn::default());
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let shared = standin.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve_connection(stream, shared.clone()));
        }
    });
    (port, standin)
}

struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start_serve(sfn_port: u16) -> (Served, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let child = Command::new(env!("CARGO_BIN_EXE_sfn-callbacks"))
        .arg("serve")
        .env_clear()
        .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("KEYRING", super::support::keyring().to_json())
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{sfn_port}"))
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("SFN_DEADLINE_MS", "4000")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let served = Served(child);
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while reqwest::get(format!("{base}/health")).await.is_err() {
        assert!(Instant::now() < deadline, "serve did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (served, base)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_are_retried_then_503_and_no_decision_is_lost() {
    let (sfn_port, standin) = start_standin().await;
    let (_served, base) = start_serve(sfn_port).await;
    let http = reqwest::Client::new();
    let created: Value = http
        .post(format!("{base}/urls"))
        .json(&json!({"token": "QUJD", "actions": [
            {"name": "approve", "type": "success", "output": {"ok": true}},
            {"name": "ping", "type": "heartbeat"},
            {"name": "reject", "type": "failure"}
        ]}))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let url = |name: &str| created["urls"][name].as_str().expect("url").to_owned();
    let post = |target: String| {
        let http = http.clone();
        async move { http.post(target).send().await.expect("callback") }
    };

    // Throttled twice: the retries carry the click through, and Step
    // Functions applies it once.
    standin
        .script
        .lock()
        .expect("lock")
        .extend([Fault::Throttle, Fault::Throttle]);
    let reply = post(url("approve")).await;
    assert_eq!(reply.status(), 200);
    assert_eq!(standin.attempts(), 3);
    assert_eq!(
        standin.applied(),
        vec![("sendtasksuccess".to_owned(), "QUJD".to_owned())]
    );

    // Persistent 500s, then connection resets: a 503 with Retry-After once
    // the retries are spent, and nothing applied.
    let mut failed_during_fault = Vec::new();
    for (fault, name) in [(Fault::ServerError, "ping"), (Fault::Reset, "reject")] {
        standin.set_default(fault);
        let before = standin.attempts();
        let reply = post(url(name)).await;
        assert_eq!(reply.status(), 503, "{fault:?}");
        assert_eq!(reply.headers()["retry-after"], "5");
        // Retried, and within the budget: at most 4 attempts, fewer when the
        // jittered backoff reaches the 4 s deadline first.
        let attempts = standin.attempts() - before;
        assert!(
            (2..=4).contains(&attempts),
            "{fault:?}: {attempts} attempts"
        );
        let body: Value = reply.json().await.expect("json");
        assert_eq!(body["error"], "ServiceError");
        failed_during_fault.push(name);
    }
    assert_eq!(
        standin.applied().len(),
        1,
        "nothing applied during the faults"
    );

    // The fault clears: every link used during it works now.
    standin.set_default(Fault::Answer);
    for name in &failed_during_fault {
        let reply = post(url(name)).await;
        assert_eq!(reply.status(), 200, "{name} after the fault");
    }
    let applied = standin.applied();
    assert_eq!(applied.len(), 3, "lost decisions: {}", 3 - applied.len());
    assert!(applied.iter().any(|(op, _)| op == "sendtaskheartbeat"));
    assert!(applied.iter().any(|(op, _)| op == "sendtaskfailure"));
}
