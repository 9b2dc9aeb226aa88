//! The command line: keygen, rotation, create and inspect.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};

fn run(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_sfn-callbacks"))
        .args(args)
        .current_dir(dir)
        .env_remove("KEYRING")
        .env_remove("KEYRING_FILE")
        .env_remove("KEY_MODE")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("wait")
}

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).expect("utf-8")
}

const TOKEN: &str = "c2VjcmV0LXRhc2stdG9rZW4tZm9yLXRoZS1jbGktdGVzdA==";

fn create(dir: &Path, keyring: &str) -> String {
    let request = json!({"token": TOKEN, "actions": [{"name": "approve", "type": "success", "output": {"ok": true}}]});
    let out = ok(&run(
        dir,
        &[
            "create",
            "--keyring-file",
            keyring,
            "--base-url",
            "https://x.example",
        ],
        Some(&request.to_string()),
    ));
    let created: Value = serde_json::from_str(&out).expect("json");
    created["urls"]["approve"].as_str().expect("url").to_owned()
}

#[test]
fn keygen_rotation_create_and_inspect() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path();
    ok(&run(dir, &["keygen", "--keyring-file", "ring.json"], None));
    let refused = run(dir, &["keygen", "--keyring-file", "ring.json"], None);
    assert!(
        !refused.status.success(),
        "keygen must not overwrite a keyring"
    );

    let old_url = create(dir, "ring.json");
    assert!(old_url.starts_with("https://x.example/respond?action=approve&type=success&data=E"));

    let inspected = ok(&run(
        dir,
        &["inspect", "--keyring-file", "ring.json", &old_url],
        None,
    ));
    let claims: Value = serde_json::from_str(&inspected).expect("json");
    assert_eq!(
        claims["action"],
        json!({"name": "approve", "type": "success"})
    );
    // What the action does, as JSON in CreateUrls' own words.
    assert_eq!(
        claims["effect"],
        json!({"output": {"ok": true}}),
        "{inspected}"
    );
    assert!(
        !inspected.contains(TOKEN),
        "inspect redacts the token by default"
    );
    let shown = ok(&run(
        dir,
        &[
            "inspect",
            "--show-token",
            "--keyring-file",
            "ring.json",
            &old_url,
        ],
        None,
    ));
    assert!(shown.contains(TOKEN));

    // A review link made by `create` shows every choice.
    let request = json!({"token": TOKEN, "review": true, "actions": [
        {"name": "approve", "type": "success", "output": {"ok": true}},
        {"name": "reject", "type": "failure", "error": "No"}
    ]});
    let out = ok(&run(
        dir,
        &[
            "create",
            "--keyring-file",
            "ring.json",
            "--base-url",
            "https://x.example",
        ],
        Some(&request.to_string()),
    ));
    let created: Value = serde_json::from_str(&out).expect("json");
    let review = created["review_url"].as_str().expect("review_url");
    let inspected = ok(&run(
        dir,
        &["inspect", "--keyring-file", "ring.json", review],
        None,
    ));
    let claims: Value = serde_json::from_str(&inspected).expect("json");
    let names: Vec<&Value> = claims["review"]
        .as_array()
        .unwrap_or_else(|| panic!("choices: {claims}"))
        .iter()
        .map(|c| &c["action"]["name"])
        .collect();
    assert_eq!(names, [&json!("approve"), &json!("reject")]);
    assert_eq!(
        claims["review"][1]["effect"],
        json!({"error": "No"}),
        "{inspected}"
    );
    assert!(!inspected.contains(TOKEN), "redacted here too");

    // Rotation: a new key seals new links; old links still open.
    ok(&run(
        dir,
        &["keygen", "--keyring-file", "ring.json", "--add"],
        None,
    ));
    let new_url = create(dir, "ring.json");
    ok(&run(
        dir,
        &["inspect", "--keyring-file", "ring.json", &old_url],
        None,
    ));
    ok(&run(
        dir,
        &["inspect", "--keyring-file", "ring.json", &new_url],
        None,
    ));

    // Retiring the old key ends its links with a clear message.
    ok(&run(
        dir,
        &["keygen", "--keyring-file", "ring.json", "--retire", "1"],
        None,
    ));
    let retired = run(
        dir,
        &["inspect", "--keyring-file", "ring.json", &old_url],
        None,
    );
    assert!(!retired.status.success());
    let message = String::from_utf8_lossy(&retired.stderr);
    assert!(message.contains("no longer valid"), "{message}");
    ok(&run(
        dir,
        &["inspect", "--keyring-file", "ring.json", &new_url],
        None,
    ));
    let last = run(
        dir,
        &["keygen", "--keyring-file", "ring.json", "--retire", "2"],
        None,
    );
    assert!(
        !last.status.success(),
        "the last active key cannot be retired"
    );
}

#[test]
fn serve_refuses_to_expose_create_urls_without_api_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run(dir.path(), &["serve", "--listen", "0.0.0.0:0"], None);
    assert!(!out.status.success());
    let message = String::from_utf8_lossy(&out.stderr);
    assert!(message.contains("API_KEYS"), "{message}");
    // On loopback behind a proxy on the same host: the settings say the
    // service is public, and it refuses the same way, naming the setting.
    for (args, says) in [
        (
            &["--base-url", "https://approvals.example.com"][..],
            "BASE_URL (approvals.example.com) says the service is public",
        ),
        (
            &["--client-ip-header", "x-forwarded-for"][..],
            "CLIENT_IP_HEADER (x-forwarded-for)",
        ),
    ] {
        let out = run(
            dir.path(),
            &[&["serve", "--listen", "127.0.0.1:0"][..], args].concat(),
            None,
        );
        assert!(!out.status.success(), "{args:?}");
        let message = String::from_utf8_lossy(&out.stderr);
        assert!(
            message.contains(says)
                && message.contains("API_KEYS")
                && message.contains("CREATE_URLS_OPEN=true"),
            "{args:?}: {message}"
        );
        assert!(
            !dir.path().join("sfn-callbacks-keyring.json").exists(),
            "refused before anything was made"
        );
    }
}

#[test]
fn engine_limit_refuses_any_endpoint_off_loopback() {
    let dir = tempfile::tempdir().expect("tempdir");
    for endpoint in [None, Some("https://states.us-east-1.amazonaws.com")] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sfn-callbacks"));
        command
            .args(["engine-limit", "--seconds", "1"])
            .current_dir(dir.path())
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("AWS_ENDPOINT_URL_SFN");
        if let Some(endpoint) = endpoint {
            command.env("AWS_ENDPOINT_URL", endpoint);
        }
        let out = command.output().expect("run");
        assert!(!out.status.success(), "{endpoint:?}");
        let message = String::from_utf8_lossy(&out.stderr);
        assert!(
            message.contains("only loads a stub on loopback"),
            "{message}"
        );
        assert!(out.stdout.is_empty(), "{endpoint:?}: nothing measured");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_limit_measures_calls_to_a_stub() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    let dir = tempfile::tempdir().expect("tempdir");
    ok(&run(dir.path(), &["keygen"], None));
    let calls = Arc::new(AtomicU64::new(0));
    let counter = calls.clone();
    let stub = axum::Router::new().route(
        "/",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let heartbeat = headers
                .get("x-amz-target")
                .is_some_and(|t| t == "AWSStepFunctions.SendTaskHeartbeat");
            if heartbeat {
                counter.fetch_add(1, Ordering::Relaxed);
            }
            async move {
                let status = if heartbeat { 200 } else { 400 };
                (
                    axum::http::StatusCode::from_u16(status).expect("status"),
                    [("content-type", "application/x-amz-json-1.0")],
                    "{}",
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move { axum::serve(listener, stub).await });
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_sfn-callbacks"))
        .args(["engine-limit", "--seconds", "1", "--concurrency", "2"])
        .current_dir(dir.path())
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"))
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env_remove("KEYRING")
        .env_remove("KEY_MODE")
        .output()
        .await
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line: Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    let measured = line["calls"].as_u64().expect("calls");
    assert!(measured > 0, "{line}");
    assert_eq!(line["errors"], 0);
    // The warm-up's calls are made but not counted.
    assert!(calls.load(Ordering::Relaxed) > measured, "{line}");
    assert!(line["p99_ms"].as_f64() >= line["p50_ms"].as_f64(), "{line}");
    assert!(
        line["cpu_us_per_call"].as_f64().is_some_and(|c| c > 0.0),
        "{line}"
    );
}
