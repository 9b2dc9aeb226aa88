//! Abuse limits against the real listener of `serve`: each test crosses
//! one limit and gets a clean 4xx (URL and header size, slow request heads
//! and bodies, the per-client rate limit on `/respond` and sign-in).

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use super::moto::{Server, free_port, http, serve_keyed};

/// `serve` with Step Functions nowhere (these tests never click).
async fn start(dir: &std::path::Path, envs: &[(&str, &str)]) -> Server {
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    serve_keyed(&nowhere, dir, envs).await
}

async fn link(server: &Server) -> String {
    let created: Value = http()
        .post(format!("{}/urls", server.base))
        .json(&json!({"token": "QUJD", "actions": [{"name": "ok", "type": "heartbeat"}]}))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    created["urls"]["ok"].as_str().expect("url").to_owned()
}

/// Sends raw bytes, then reads the answer until the server closes.
fn raw(server: &Server, send: &[u8], then_wait: Duration) -> String {
    let address = server.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    stream.write_all(send).expect("send");
    std::thread::sleep(then_wait);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

fn json_body(answer: &str) -> Value {
    let body = answer.split("\r\n\r\n").nth(1).expect("a body");
    serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {answer}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_urls_and_large_headers_get_clean_4xx() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path(), &[]).await;
    let url = link(&server).await;

    // Over the 16 KiB URL limit.
    let long = format!("{url}&pad={}", "a".repeat(17 * 1024));
    let reply = http().get(&long).send().await.expect("get");
    assert_eq!(reply.status(), 414);
    let body: Value = reply.json().await.expect("json");
    assert_eq!(body["error"], "InvalidRequest");
    assert!(
        body["message"].as_str().expect("message").contains("URL"),
        "{body}"
    );

    // Over the 16 KiB header limit: our answer, with a body.
    let reply = http()
        .get(&url)
        .header("x-padding", "b".repeat(20 * 1024))
        .send()
        .await
        .expect("get");
    assert_eq!(reply.status(), 431);
    let body: Value = reply.json().await.expect("json");
    assert_eq!(body["error"], "InvalidRequest");
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .contains("headers"),
        "{body}"
    );

    // Far over it, or too many fields: the listener refuses before reading
    // further, still with a 431.
    for (what, headers) in [
        (
            "a huge header",
            format!("x-padding: {}\r\n", "c".repeat(200 * 1024)),
        ),
        (
            "150 fields",
            (0..150).map(|i| format!("x-h{i}: v\r\n")).collect(),
        ),
    ] {
        let request = format!("GET /health HTTP/1.1\r\nhost: x\r\n{headers}\r\n");
        let answer =
            tokio::task::block_in_place(|| raw(&server, request.as_bytes(), Duration::ZERO));
        assert!(
            answer.starts_with("HTTP/1.1 431"),
            "{what}: {}",
            &answer[..answer.len().min(200)]
        );
    }

    // Within the limits, the same link answers.
    let reply = http().get(&url).send().await.expect("get");
    assert_eq!(reply.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_get_a_408() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(
        dir.path(),
        &[
            ("HEADER_READ_TIMEOUT_MS", "1000"),
            ("SFN_DEADLINE_MS", "1000"),
            ("REQUEST_TIMEOUT_MS", "2000"),
        ],
    )
    .await;

    // Half a request head, then nothing.
    let answer = tokio::task::block_in_place(|| {
        raw(
            &server,
            b"GET /health HTTP/1.1\r\nhost: x\r\n",
            Duration::ZERO,
        )
    });
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert_eq!(json_body(&answer)["error"], "InvalidRequest");

    // A whole head, then a tenth of the body it announced.
    let answer = tokio::task::block_in_place(|| {
        raw(
            &server,
            b"POST /urls HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"token\":",
            Duration::ZERO,
        )
    });
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let body = json_body(&answer);
    assert_eq!(body["error"], "InvalidRequest");
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .contains("too long"),
        "{body}"
    );

    // A prompt client on the same server is served.
    let reply = http()
        .get(format!("{}/health", server.base))
        .send()
        .await
        .expect("health");
    assert_eq!(reply.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn respond_is_rate_limited_per_client() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path(), &[("RESPOND_RATE_LIMIT", "5")]).await;
    let url = link(&server).await;
    for i in 0..5 {
        let reply = http().get(&url).send().await.expect("get");
        assert_eq!(reply.status(), 200, "request {i}");
    }
    let reply = http().get(&url).send().await.expect("get");
    assert_eq!(reply.status(), 429);
    let retry_after: u64 = reply.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=13).contains(&retry_after), "{retry_after}");
    let body: Value = reply.json().await.expect("json");
    assert_eq!(body["error"], "TooManyRequests");
    // A browser gets a page like the other errors, in its language, with
    // the same Retry-After.
    let page = http()
        .get(&url)
        .header("accept", "text/html")
        .header("accept-language", "de")
        .send()
        .await
        .expect("get");
    assert_eq!(page.status(), 429);
    assert!(page.headers().contains_key("retry-after"));
    assert!(
        page.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/html"),
        "{:?}",
        page.headers()
    );
    let html = page.text().await.expect("text");
    assert!(html.contains("<html lang=\"de\""), "{html}");
    assert!(html.contains("Zu viele Anfragen"), "{html}");
    assert!(html.contains("TooManyRequests"), "{html}");
    // The sign-in endpoints share the budget.
    for path in ["/auth/login", "/auth/callback"] {
        let reply = http()
            .get(format!("{}{path}", server.base))
            .send()
            .await
            .expect("get");
        assert_eq!(reply.status(), 429, "{path}");
    }
    // CreateUrls is not /respond: not limited.
    for _ in 0..6 {
        link(&server).await;
    }

    // Behind a trusted proxy, its header names the client.
    let proxied = start(
        dir.path(),
        &[
            ("RESPOND_RATE_LIMIT", "2"),
            ("CLIENT_IP_HEADER", "x-forwarded-for"),
            // A proxy in front: CreateUrls is open only when said so.
            ("CREATE_URLS_OPEN", "true"),
        ],
    )
    .await;
    let url = link(&proxied).await;
    let from = |ip: &'static str| {
        http()
            .get(&url)
            .header("x-forwarded-for", format!("192.0.2.200, {ip}"))
            .send()
    };
    for _ in 0..2 {
        assert_eq!(from("198.51.100.1").await.expect("get").status(), 200);
    }
    assert_eq!(from("198.51.100.1").await.expect("get").status(), 429);
    assert_eq!(
        from("198.51.100.2").await.expect("get").status(),
        200,
        "another client has its own budget"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_finishes_the_requests_in_flight() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = start(dir.path(), &[]).await;
    let address = server.base.trim_start_matches("http://").to_owned();
    let body =
        json!({"token": "QUJD", "actions": [{"name": "ok", "type": "heartbeat"}]}).to_string();
    let (first, rest) = body.split_at(body.len() / 2);
    let mut stream = TcpStream::connect(&address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    // A connection the kernel has queued but the server has not yet taken is
    // not in flight; `100 Continue` comes once the handler reads the body, so
    // the signal waits for it.
    write!(
        stream,
        "POST /urls HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\nexpect: 100-continue\r\n\r\n",
        body.len()
    )
    .expect("send");
    let mut interim = Vec::new();
    let mut byte = [0u8; 1];
    while !interim.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).expect("read 100 Continue");
        interim.push(byte[0]);
    }
    let interim = String::from_utf8_lossy(&interim);
    assert!(interim.starts_with("HTTP/1.1 100"), "{interim}");
    stream.write_all(first.as_bytes()).expect("send half");

    // The signal comes while the request is half sent.
    let pid = server._proc.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill")
            .success()
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(&address).is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "still taking new connections"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    // The request in flight is still answered, then the process ends well.
    stream.write_all(rest.as_bytes()).expect("send the rest");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(json_body(&answer)["urls"]["ok"].is_string(), "{answer}");
    let status = loop {
        if let Some(status) = server._proc.child.try_wait().expect("wait") {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "serve did not stop");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
}
