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

use super::moto::{
    Moto, Server, create, expiring_in, free_port, output_of, serve, serve_at, tampered, url_of,
};

fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

pub fn tools_present() -> bool {
    let modules = browser_dir().join("node_modules");
    let present = chromium().exists()
        && modules.join("playwright-core").exists()
        && modules.join("axe-core").exists();
    if !present {
        assert!(
            std::env::var("SFN_CALLBACKS_REQUIRE_BROWSER").is_err(),
            "Chromium, playwright-core and axe-core are required: run the README's test command, which installs them"
        );
        eprintln!(
            "SKIPPED: Chromium, playwright-core or axe-core not installed (the README's test command installs them)"
        );
    }
    present
}

/// Asserts that axe-core found no WCAG 2.1 A or AA violation on the page a
/// step with `"axe": true` ended on, in the light and the dark colour
/// scheme, and that the page needs no sideways scrolling at 320 and 640
/// pixels; prints the counts.
pub fn assert_accessible(page: &str, seen: &Value) {
    let axe = &seen["axe"];
    let count = |scheme: &str| {
        axe[scheme]
            .as_array()
            .unwrap_or_else(|| panic!("{page}: no axe-core result for {scheme}: {seen}"))
            .len()
    };
    let (light, dark) = (count("light"), count("dark"));
    eprintln!("axe-core: {page}: {light} violations (light), {dark} (dark)");
    assert_eq!(
        (light, dark),
        (0, 0),
        "{page}: axe-core found violations: {axe}"
    );
    for width in ["320", "640"] {
        assert_eq!(
            axe["overflow"][width], 0,
            "{page}: wider than {width} pixels: {axe}"
        );
    }
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
    // A GET's probe is a heartbeat; a HEAD calls nothing.
    let (arn, token) = moto.aws.start("browser-scanned").await;
    let mut body = approval(&token);
    body["review"] = json!(true);
    let created = create(&server, &body).await;
    let links = [
        url_of(&created, "approve"),
        url_of(&created, "reject"),
        created["review_url"]
            .as_str()
            .expect("review_url")
            .to_owned(),
    ];
    let http = reqwest::Client::new();
    let scan = |method: reqwest::Method, url: String| {
        http.request(method, url)
            .header("user-agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 (compatible; Microsoft Safe Links scanner)")
            .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
            .header("x-forwarded-for", "40.94.0.1")
            .send()
    };
    moto.record().await;
    for url in &links {
        for _ in 0..10 {
            let reply = scan(reqwest::Method::HEAD, url.clone())
                .await
                .expect("scan");
            assert_eq!(reply.status(), 200);
        }
    }
    assert_eq!(
        moto.sfn_calls().await,
        Vec::<String>::new(),
        "a HEAD calls nothing"
    );
    for url in &links {
        for _ in 0..10 {
            for method in [reqwest::Method::GET, reqwest::Method::HEAD] {
                let reply = scan(method, url.clone()).await.expect("scan");
                assert_eq!(reply.status(), 200);
                let page = reply.text().await.expect("page");
                assert!(!page.contains("Nothing has been sent"), "{page}");
            }
        }
    }
    // Slack's unfurler fetches every link posted in a channel.
    for url in &links {
        let reply = http
            .get(url.clone())
            .header(
                "user-agent",
                "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
            )
            .header("accept", "*/*")
            .send()
            .await
            .expect("unfurl");
        assert_eq!(reply.status(), 200, "an unfurl sees the page");
    }
    let scans = drive(&[
        json!({"do": "scan", "url": links[0]}),
        json!({"do": "scan", "url": links[1]}),
        json!({"do": "scan", "url": links[2]}),
    ]);
    for seen in &scans {
        assert_eq!(seen["status"], 200, "{seen}");
        assert_eq!(
            seen["badge"], "Awaiting answer",
            "the probe found it open: {seen}"
        );
    }
    assert_eq!(
        moto.sfn_calls().await,
        vec!["SendTaskHeartbeat".to_owned(); links.len() * 11 + scans.len()],
        "one heartbeat per GET (the unfurls' too), none per HEAD"
    );
    moto.aws
        .assert_running(&arn, "scanners must not decide the task")
        .await;
    let history = moto.aws.history(&arn).await;
    assert!(
        !history
            .iter()
            .any(|event| event.starts_with("TaskSucceeded")
                || event.starts_with("TaskFailed")
                || event.starts_with("TaskTimedOut")),
        "no decision in the history: {history:?}"
    );

    // A person: the confirmation page, a comment, the button, the result;
    // the same link opened again says at once that it was answered.
    let (arn, token) = moto.aws.start("browser-approve").await;
    let created = create(&server, &approval(&token)).await;
    let approve = url_of(&created, "approve");
    let seen = drive(&[
        json!({"do": "visit", "url": approve, "shot": "01-confirm"}),
        json!({"do": "approve", "url": approve, "comment": "Ship it <b>now</b> & then", "shot": "02-accepted"}),
        json!({"do": "visit", "url": approve, "shot": "03-already-answered"}),
    ]);
    for page in &seen {
        assert!(
            !text(page).contains("Nothing has been sent"),
            "never claimed: {page}"
        );
    }
    let confirm = &seen[0];
    assert_eq!(confirm["status"], 200);
    assert_eq!(confirm["heading"], "Confirm: Approve <release> 1.2");
    assert_eq!(confirm["badge"], "Awaiting answer", "{confirm}");
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
    let decided = json!({"approved": true, "comment": "Ship it <b>now</b> & then"});
    assert_eq!(output_of(&out), decided);
    let again = &seen[2];
    assert_eq!(again["status"], 410, "the GET itself says so: {again}");
    assert_eq!(again["heading"], "This request was already answered");
    assert_eq!(output_of(&moto.aws.execution(&arn).await), decided);

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_axe_core_in_both_schemes_and_fits_a_phone() {
    if !tools_present() {
        return;
    }
    let Some(mut moto) = Moto::start().await else {
        return;
    };
    let server = local_server(&moto).await;
    // The same keys in front of a Step Functions that is not there: the
    // probe cannot ask, and the button's call is refused.
    let keyring = super::support::keyring().to_json();
    let down = serve_at(
        &format!("http://127.0.0.1:{}", free_port()),
        moto.dir.path(),
        "serve-no-sfn",
        &[("KEYRING", keyring.as_str()), ("SFN_DEADLINE_MS", "1500")],
    )
    .await;

    let (_, token) = moto.aws.start("axe").await;
    let mut body = approval(&token);
    body["actions"].as_array_mut().expect("actions").extend([
        json!({"name": "ping", "type": "heartbeat"}),
        json!({"name": "hook", "type": "post", "outcomes": [
            {"name": "done", "type": "success", "schema": {}, "output_body": true}
        ]}),
    ]);
    let created = create(&server, &body).await;
    let (_, token) = moto.aws.start("axe-expired").await;
    let mut expiring = approval(&token);
    expiring["expiration"] = json!(expiring_in(2000));
    let expired = create(&server, &expiring).await;
    tokio::time::sleep(Duration::from_millis(2300)).await;
    let (_, token) = moto.aws.start("axe-down").await;
    let unreachable = create(&server, &approval(&token)).await;
    // One request a minute: the second visit is over the limit.
    let limited = serve_at(
        &moto.aws.endpoint,
        moto.dir.path(),
        "serve-limited",
        &[("KEYRING", keyring.as_str()), ("RESPOND_RATE_LIMIT", "1")],
    )
    .await;
    let (_, token) = moto.aws.start("axe-limited").await;
    let over = url_of(&create(&limited, &approval(&token)).await, "approve");

    let approve = url_of(&created, "approve");
    // approve takes a comment of up to 200 characters.
    let pages = [
        ("confirm", json!({"do": "visit", "url": approve})),
        (
            "confirm-reject",
            json!({"do": "visit", "url": url_of(&created, "reject")}),
        ),
        (
            "confirm-heartbeat",
            json!({"do": "visit", "url": url_of(&created, "ping")}),
        ),
        (
            "for-systems",
            json!({"do": "visit", "url": url_of(&created, "hook")}),
        ),
        (
            "bad-comment",
            json!({"do": "approve", "url": approve, "before": "unrequire", "comment": "x".repeat(201)}),
        ),
        (
            "accepted",
            json!({"do": "approve", "url": approve, "comment": "Looks good"}),
        ),
        ("already-answered", json!({"do": "visit", "url": approve})),
        (
            "expired",
            json!({"do": "visit", "url": url_of(&expired, "approve")}),
        ),
        ("invalid", json!({"do": "visit", "url": tampered(&approve)})),
        (
            "confirm-unknown",
            json!({"do": "visit", "url": down.link(&url_of(&unreachable, "approve"))}),
        ),
        (
            "busy",
            json!({"do": "approve", "url": down.link(&url_of(&unreachable, "approve"))}),
        ),
        ("under-the-limit", json!({"do": "visit", "url": over})),
        ("too-many", json!({"do": "visit", "url": over})),
    ];
    let steps: Vec<Value> = pages
        .iter()
        .map(|(name, step)| {
            let mut step = step.clone();
            step["axe"] = json!(true);
            step["shot"] = json!(format!("axe-{name}"));
            step
        })
        .collect();
    let seen = drive(&steps);
    let expected = [
        ("confirm", 200, "Awaiting answer"),
        ("confirm-reject", 200, "Awaiting answer"),
        ("confirm-heartbeat", 200, "Please confirm"),
        ("for-systems", 405, "For systems"),
        ("bad-comment", 400, "Not sent"),
        ("accepted", 200, "Done"),
        ("already-answered", 410, "Already answered"),
        ("expired", 410, "Expired"),
        ("invalid", 400, "Invalid link"),
        ("confirm-unknown", 200, "Please confirm"),
        ("busy", 503, "Busy"),
        ("under-the-limit", 200, "Awaiting answer"),
        ("too-many", 429, "Busy"),
    ];
    assert_eq!(seen.len(), expected.len());
    for ((name, status, badge), page) in expected.iter().zip(&seen) {
        assert_eq!(page["status"], *status, "{name}: {page}");
        assert_eq!(page["badge"], *badge, "{name}: {page}");
        assert!(
            !text(page).contains("Nothing has been sent"),
            "{name}: {page}"
        );
        assert_accessible(name, page);
    }
    let page = |name: &str| {
        let at = expected
            .iter()
            .position(|(n, _, _)| *n == name)
            .expect("a page");
        &seen[at]
    };
    // The person reads labels; the technical names are small print for
    // support, on every page that has them.
    for name in ["confirm", "confirm-reject", "accepted", "expired", "busy"] {
        let text = text(page(name));
        assert!(!text.contains("Type:"), "{name}: {text}");
        assert!(text.contains("For support:"), "{name}: {text}");
    }
    for (name, line) in [
        ("confirm", "For support: action approve (success)"),
        ("confirm-reject", "For support: action reject (failure)"),
    ] {
        assert!(
            text(page(name)).contains(line),
            "{name}: {}",
            text(page(name))
        );
    }
    // Reject does not look like Approve.
    let background = |name: &str| page(name)["buttons"][0]["background"].clone();
    assert!(background("confirm").is_string(), "{}", page("confirm"));
    assert_ne!(
        background("confirm"),
        background("confirm-reject"),
        "{}",
        page("confirm-reject")
    );
    // The expired page says when in words, not as a raw timestamp.
    let expired_text = text(page("expired"));
    assert!(expired_text.contains("It expired on "), "{expired_text}");
    let raw = regex_lite::Regex::new(r"\d{4}-\d{2}-\d{2}T\d{2}:").expect("regex");
    assert!(!raw.is_match(expired_text), "{expired_text}");
    // Over the rate limit, a browser gets a page, not JSON.
    let too_many = text(page("too-many"));
    assert!(too_many.contains("Too many requests"), "{too_many}");
    assert!(!too_many.contains("{\"error\""), "{too_many}");

    // The check itself: a creator's own html response with an image
    // without text, no language and no title is found out.
    let (_, token) = moto.aws.start("axe-control").await;
    let control = create(
        &server,
        &json!({"token": token, "actions": [{
            "name": "approve", "type": "success", "output": {},
            "response": {"html": "<!doctype html><html><body><img src=\"data:,x\"><p>Thanks</p></body></html>"}
        }]}),
    )
    .await;
    let seen = drive(&[json!({"do": "approve", "url": url_of(&control, "approve"), "axe": true})]);
    let found: Vec<&str> = seen[0]["axe"]["light"]
        .as_array()
        .expect("axe-core result")
        .iter()
        .filter_map(|v| v["id"].as_str())
        .collect();
    for rule in ["image-alt", "html-has-lang", "document-title"] {
        assert!(found.contains(&rule), "axe-core missed {rule}: {found:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_review_link_offers_every_choice_and_each_button_decides_once() {
    if !tools_present() {
        return;
    }
    let Some(mut moto) = Moto::start().await else {
        return;
    };
    let server = local_server(&moto).await;
    let (arn, token) = moto.aws.start("browser-review").await;
    let mut body = approval(&token);
    body["review"] = json!(true);
    let created = create(&server, &body).await;
    let review = created["review_url"]
        .as_str()
        .expect("review_url")
        .to_owned();
    let seen = drive(&[json!({
        "do": "review", "url": review, "shot": "06-review", "axe": true,
        "press": [
            {"choice": "reject", "comment": "Not this week", "shot": "07-review-rejected"},
            {"choice": "Approve <release> 1.2", "shot": "08-review-approve-after"}
        ]
    })]);
    let page = &seen[0];
    assert_eq!(page["status"], 200, "{page}");
    assert_eq!(page["heading"], "Review and decide", "{page}");
    assert_eq!(page["badge"], "Awaiting answer", "{page}");
    assert_eq!(
        page["choices"],
        json!(["Approve <release> 1.2", "reject"]),
        "both choices: {page}"
    );
    assert!(!text(page).contains("Nothing has been sent"), "{page}");
    assert_accessible("review", page);
    let rejected = &page["presses"][0];
    assert_eq!(rejected["status"], 200, "{rejected}");
    assert_eq!(rejected["heading"], "Response accepted!", "{rejected}");
    let out = moto.aws.finished(&arn).await;
    assert_eq!(out.status, ExecutionStatus::Failed);
    assert_eq!(out.error.as_deref(), Some("Rejected"));
    let approve_after = &page["presses"][1];
    assert_eq!(approve_after["status"], 410, "{approve_after}");
    assert_eq!(
        approve_after["heading"], "This request was already answered",
        "{approve_after}"
    );
    assert_eq!(
        moto.aws.execution(&arn).await.status,
        ExecutionStatus::Failed,
        "unchanged"
    );
    // Opened again, the review page itself says so.
    let again = drive(&[json!({"do": "visit", "url": review})]);
    assert_eq!(again[0]["status"], 410, "{}", again[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_typed_form_keeps_good_values_beside_an_error_and_sends_typed_json() {
    if !tools_present() {
        return;
    }
    let Some(mut moto) = Moto::start().await else {
        return;
    };
    let server = local_server(&moto).await;
    let (arn, token) = moto.aws.start("browser-form").await;
    let created = create(
        &server,
        &json!({"token": token, "actions": [{
            "name": "approve", "type": "success", "output": {"approved": true},
            "label": "Approve the release",
            "form": {"type": "object", "required": ["env", "count", "when"], "properties": {
                "env": {"type": "string", "title": "Environment", "enum": ["staging", "production"]},
                "count": {"type": "integer", "title": "Instances", "minimum": 1, "maximum": 5},
                "when": {"type": "string", "title": "Go-live date", "format": "date"},
                "notify": {"type": "boolean", "title": "Tell the team", "default": true}
            }}
        }]}),
    )
    .await;
    let fill = json!([
        {"label": "production", "check": true},
        {"label": "Instances", "value": "9"},
        {"label": "Go-live date", "value": "2030-01-31"},
        {"label": "Tell the team", "check": false}
    ]);
    moto.record().await;
    let seen = drive(&[json!({
        "do": "form", "url": url_of(&created, "approve"),
        "rounds": [
            // The browser would refuse 9 itself: without its checks, as an
            // old browser, the service's own check answers.
            {"fill": fill, "unrequire": true, "shot": "09-form-errors", "axe": true},
            {"fill": [{"label": "Instances", "value": "3"}], "shot": "10-form-accepted"}
        ]
    })]);
    let refused = &seen[0]["rounds"][0];
    assert_eq!(refused["status"], 400, "{refused}");
    assert_eq!(refused["badge"], "Not sent", "{refused}");
    assert_eq!(
        refused["errors"],
        json!([{"text": "must be at most 5", "field": "count"}]),
        "the error beside its field: {refused}"
    );
    assert_eq!(
        refused["values"],
        json!({"env": "production", "count": "9", "when": "2030-01-31", "notify": false}),
        "what was entered stays: {refused}"
    );
    assert_accessible("form-with-errors", refused);
    assert_eq!(
        moto.sfn_calls().await,
        ["SendTaskHeartbeat", "SendTaskSuccess"],
        "the page's probe, then one decision: the refused round sent nothing"
    );

    let accepted = &seen[0]["rounds"][1];
    assert_eq!(accepted["status"], 200, "{accepted}");
    assert_eq!(accepted["heading"], "Response accepted!", "{accepted}");
    let out = moto.aws.finished(&arn).await;
    assert_eq!(out.status, ExecutionStatus::Succeeded);
    let output = output_of(&out);
    assert_eq!(
        output,
        json!({"approved": true,
               "form": {"env": "production", "count": 3, "when": "2030-01-31", "notify": false}}),
        "typed values: {output}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_german_browser_gets_the_german_page_a_sealed_japanese_link_beats_it_and_both_pass_axe_core()
 {
    if !tools_present() {
        return;
    }
    let Some(mut moto) = Moto::start().await else {
        return;
    };
    let server = local_server(&moto).await;
    let (arn, token) = moto.aws.start("browser-de").await;
    let created = create(&server, &approval(&token)).await;
    let mut japanese = approval(&token);
    japanese["locale"] = json!("ja");
    japanese["expiration"] = json!("2031-01-31T17:00:00Z");
    let sealed_ja = create(&server, &japanese).await;
    let seen = drive(&[
        json!({
            "do": "visit", "url": url_of(&created, "approve"),
            "accept_language": "de-DE,de;q=0.9,en;q=0.5",
            "shot": "11-confirm-de", "axe": true
        }),
        json!({
            "do": "visit", "url": url_of(&sealed_ja, "reject"),
            "accept_language": "de-DE,de;q=0.9,en;q=0.5",
            "shot": "12-confirm-ja", "axe": true
        }),
    ]);
    let page = &seen[0];
    assert_eq!(page["status"], 200, "{page}");
    assert_eq!(page["lang"], "de", "{page}");
    assert_eq!(
        page["heading"], "Bestätigen: Approve <release> 1.2",
        "{page}"
    );
    assert_eq!(page["badge"], "Antwort ausstehend", "{page}");
    assert!(
        text(page).contains("(höchstens 200 Zeichen)")
            && text(page).contains("Deploys <b>everything</b> & more."),
        "German words, the creator's own as given: {page}"
    );
    assert!(!text(page).contains("Check the details"), "{page}");
    assert_accessible("confirm-de", page);

    // The creator sealed Japanese: the German browser reads Japanese.
    let page = &seen[1];
    assert_eq!(page["status"], 200, "{page}");
    assert_eq!(page["lang"], "ja", "{page}");
    assert_eq!(page["heading"], "確認：reject", "{page}");
    assert_eq!(page["badge"], "回答待ち", "{page}");
    assert!(
        text(page).contains("リンクの有効期限\n2031/01/31 17:00 UTC"),
        "the expiry in Japanese, its zone named: {page}"
    );
    assert!(!text(page).contains("Bestätigen"), "{page}");
    assert_accessible("confirm-ja", page);

    for shot in ["11-confirm-de.png", "12-confirm-ja.png"] {
        let shot = artifacts().join(shot);
        assert!(
            std::fs::metadata(&shot).is_ok_and(|m| m.len() > 1000),
            "no screenshot {}",
            shot.display()
        );
    }
    moto.aws
        .assert_running(&arn, "a page in German or Japanese decides nothing either")
        .await;
}
