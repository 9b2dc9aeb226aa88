//! The approver's side in a real browser: Debian's Chromium, driven by
//! playwright-core (`tests/browser/drive.mjs`), against the binary and
//! moto_server. Screenshots go to `target/browser-artifacts/`.
//!
//! Needs `chromium` and `npm ci` in `tests/browser` (the test command does
//! both). Without them the test says so and passes, unless
//! `SFN_CALLBACKS_REQUIRE_BROWSER=1`, when it fails.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use aws_sdk_sfn::types::ExecutionStatus;
use serde_json::{Value, json};

use super::moto::{Moto, Server, create, expiring_in, output_of, serve, tampered, url_of};

fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

pub fn tools_present() -> bool {
    let present =
        chromium().exists() && browser_dir().join("node_modules/playwright-core").exists();
    if !present {
        assert!(
            std::env::var("SFN_CALLBACKS_REQUIRE_BROWSER").is_err(),
            "Chromium and playwright-core are required: run the README's test command, which installs them"
        );
        eprintln!(
            "SKIPPED: Chromium or playwright-core not installed (the README's test command installs them)"
        );
    }
    present
}

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser-artifacts");
    std::fs::create_dir_all(&dir).expect("artifact dir");
    dir
}

/// Runs the steps in one browser and returns what each step saw.
pub fn drive(steps: &[Value]) -> Vec<Value> {
    let plan = tempfile::NamedTempFile::new().expect("plan file");
    let body = json!({"screenshots": artifacts(), "steps": steps});
    std::fs::write(plan.path(), body.to_string()).expect("write plan");
    let out = Command::new("node")
        .arg(browser_dir().join("drive.mjs"))
        .arg(plan.path())
        .env("CHROMIUM", chromium())
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "the browser driver failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(results.len(), steps.len(), "one result per step");
    results
}

pub fn text(seen: &Value) -> &str {
    seen["text"].as_str().unwrap_or_default()
}

fn approval(token: &str) -> Value {
    json!({
        "token": token,
        "actions": [
            {"name": "approve", "type": "success", "output": {"approved": true},
             "label": "Approve <release> 1.2",
             "description": "Deploys <b>everything</b> & more.\nReply by Friday.",
             "comment": {"max_length": 200}},
            {"name": "reject", "type": "failure", "error": "Rejected", "comment": true}
        ]
    })
}

async fn local_server(moto: &Moto) -> Server {
    let keyring = super::support::keyring().to_json();
    serve(
        &moto.aws,
        moto.dir.path(),
        "serve-browser",
        &[("KEYRING", keyring.as_str())],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_approves_in_a_browser_and_scanners_change_nothing() {
    if !tools_present() {
        return;
    }
    let Some(mut moto) = Moto::start().await else {
        return;
    };
    let server = local_server(&moto).await;

    // Mail scanners: many GETs and HEADs with scanner-like headers, and a
    // browser that loads the pages and runs their scripts without clicking.
    let (arn, token) = moto.aws.start("browser-scanned").await;
    let created = create(&server, &approval(&token)).await;
    let http = reqwest::Client::new();
    for url in [url_of(&created, "approve"), url_of(&created, "reject")] {
        for _ in 0..15 {
            for method in [reqwest::Method::GET, reqwest::Method::HEAD] {
                let reply = http
                    .request(method, &url)
                    .header("user-agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 (compatible; Microsoft Safe Links scanner)")
                    .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
                    .header("x-forwarded-for", "40.94.0.1")
                    .send()
                    .await
                    .expect("scan");
                assert_eq!(reply.status(), 200);
            }
        }
    }
    let scans = drive(&[
        json!({"do": "scan", "url": url_of(&created, "approve")}),
        json!({"do": "scan", "url": url_of(&created, "reject")}),
    ]);
    for seen in &scans {
        assert_eq!(seen["badge"], "Not sent yet", "{seen}");
    }
    moto.aws
        .assert_running(&arn, "scanners must not decide the task")
        .await;

    // A person: the confirmation page, a comment, the button, the result.
    let (arn, token) = moto.aws.start("browser-approve").await;
    let created = create(&server, &approval(&token)).await;
    let approve = url_of(&created, "approve");
    let seen = drive(&[
        json!({"do": "visit", "url": approve, "shot": "01-confirm"}),
        json!({"do": "approve", "url": approve, "comment": "Ship it <b>now</b> & then", "shot": "02-accepted"}),
        json!({"do": "approve", "url": approve, "shot": "03-already-answered"}),
    ]);
    let confirm = &seen[0];
    assert_eq!(confirm["status"], 200);
    assert_eq!(confirm["heading"], "Confirm: Approve <release> 1.2");
    assert!(
        text(confirm).contains("Deploys <b>everything</b> & more."),
        "markup renders as text: {confirm}"
    );
    let accepted = &seen[1];
    assert_eq!(accepted["status"], 200, "{accepted}");
    assert_eq!(accepted["heading"], "Response accepted!");
    assert!(
        text(accepted).contains("Ship it <b>now</b> & then"),
        "{accepted}"
    );
    let out = moto.aws.finished(&arn).await;
    assert_eq!(out.status, ExecutionStatus::Succeeded);
    assert_eq!(
        output_of(&out),
        json!({"approved": true, "comment": "Ship it <b>now</b> & then"})
    );
    let again = &seen[2];
    assert_eq!(again["status"], 410, "{again}");
    assert_eq!(again["heading"], "This request was already answered");
    assert_eq!(
        output_of(&moto.aws.execution(&arn).await),
        json!({"approved": true, "comment": "Ship it <b>now</b> & then"})
    );

    // An expired link and an altered link get their own pages.
    let (arn, token) = moto.aws.start("browser-expired").await;
    let mut body = approval(&token);
    body["expiration"] = json!(expiring_in(3000));
    let created = create(&server, &body).await;
    tokio::time::sleep(Duration::from_millis(3300)).await;
    let approve = url_of(&created, "approve");
    let altered = tampered(&approve);
    let seen = drive(&[
        json!({"do": "visit", "url": approve, "shot": "04-expired"}),
        json!({"do": "visit", "url": altered, "shot": "05-invalid"}),
    ]);
    assert_eq!(seen[0]["status"], 410, "{}", seen[0]);
    assert_eq!(seen[0]["heading"], "This link has expired");
    assert_eq!(seen[1]["status"], 400, "{}", seen[1]);
    assert_eq!(seen[1]["heading"], "This link is not valid");
    moto.aws
        .assert_running(&arn, "expired and altered links change nothing")
        .await;

    for shot in [
        "01-confirm",
        "02-accepted-confirm",
        "02-accepted",
        "03-already-answered",
        "04-expired",
        "05-invalid",
    ] {
        let path = artifacts().join(format!("{shot}.png"));
        assert!(
            std::fs::metadata(&path).is_ok_and(|m| m.len() > 1000),
            "no screenshot {}",
            path.display()
        );
    }
    eprintln!("screenshots in {}", artifacts().display());
}
