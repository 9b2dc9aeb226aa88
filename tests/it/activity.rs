//! `sfn-callbacks activity-worker` and `examples/activity-promotion`.
//!
//! moto has activities but not GetActivityTask (it answers 500, not
//! implemented), so the activity API here is a loopback stand-in with
//! Step Functions' semantics: a queue, long polls that return a task or
//! nothing, a task handed to exactly one poll. Everything else is real:
//! moto's SES receives the mail; moto itself evaluates the example's Task
//! Parameters into each task's input; `serve` answers the links and calls
//! the stand-in's SendTaskSuccess.

use std::collections::VecDeque;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::{Value, json};

use super::examples::{link_in_html, state_machine_definition};
use super::metrics;
use super::moto::{Moto, Server, call, free_port, sent_mail, serve_at};

const ACTIVITY: &str = "arn:aws:states:us-east-1:123456789012:activity:promotion";
/// How long an empty poll is held open (AWS holds it for 60 s).
const HOLD: Duration = Duration::from_secs(8);

#[derive(Default)]
struct Activity {
    queue: Mutex<VecDeque<(String, String)>>,
    arrived: tokio::sync::Notify,
    /// Polls waiting right now.
    waiting: AtomicUsize,
    /// Polls to answer with a 500 before answering again.
    failing_polls: AtomicUsize,
    polls: AtomicUsize,
    /// SendTask* calls: (operation, token, body).
    answers: Mutex<Vec<(String, String, Value)>>,
}

impl Activity {
    fn enqueue(&self, token: &str, input: &Value) {
        self.queue
            .lock()
            .expect("lock")
            .push_back((token.to_owned(), input.to_string()));
        self.arrived.notify_waiters();
    }

    fn answers(&self) -> Vec<(String, String, Value)> {
        self.answers.lock().expect("lock").clone()
    }

    async fn poll(&self) -> Value {
        let deadline = tokio::time::Instant::now() + HOLD;
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let task = loop {
            let arrived = self.arrived.notified();
            if let Some(task) = self.queue.lock().expect("lock").pop_front() {
                break Some(task);
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                break None;
            }
        };
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        match task {
            Some((token, input)) => json!({"taskToken": token, "input": input}),
            None => json!({}),
        }
    }
}

async fn answer(
    State(activity): State<Arc<Activity>>,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, [(&'static str, &'static str); 1], String) {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .trim_start_matches("AWSStepFunctions.")
        .to_owned();
    let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let json = [("content-type", "application/x-amz-json-1.0")];
    if target == "GetActivityTask" {
        assert_eq!(body["activityArn"], ACTIVITY);
        activity.polls.fetch_add(1, Ordering::SeqCst);
        let failing = activity.failing_polls.load(Ordering::SeqCst);
        if failing > 0 {
            activity.failing_polls.store(failing - 1, Ordering::SeqCst);
            let error = json!({"__type": "InternalFailure", "message": "injected"});
            return (StatusCode::INTERNAL_SERVER_ERROR, json, error.to_string());
        }
        return (StatusCode::OK, json, activity.poll().await.to_string());
    }
    let token = body["taskToken"].as_str().unwrap_or_default().to_owned();
    activity
        .answers
        .lock()
        .expect("lock")
        .push((target, token, body));
    (StatusCode::OK, json, "{}".to_owned())
}

async fn start_activity() -> (String, Arc<Activity>) {
    let activity = Arc::new(Activity::default());
    let app = axum::Router::new()
        .route("/", post(answer))
        .with_state(activity.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (endpoint, activity)
}

struct Worker(Child);

impl Worker {
    fn start(
        moto: &Moto,
        activity: &str,
        server: &Server,
        log: &Path,
        env: &[(&str, &str)],
    ) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_sfn-callbacks"))
            .args(["activity-worker", "--activity-arn", ACTIVITY])
            .args(["--base-url", &server.base])
            .env_clear()
            .env("AWS_ENDPOINT_URL", &moto.aws.endpoint)
            .env("AWS_ENDPOINT_URL_SFN", activity)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .env("NOTIFY_EMAIL_FROM", "hr@example.com")
            .env("NOTIFY_EMAIL_TO_DOMAINS", "corp.example")
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            // The keyring `serve` made there: its links must open.
            .current_dir(moto.dir.path())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).expect("log"))
            .spawn()
            .expect("spawn the worker");
        Self(child)
    }

    /// SIGTERM, then waits for the exit.
    fn stop(mut self) -> ExitStatus {
        let sent = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status()
            .expect("kill");
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.0.try_wait().expect("wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "the worker did not stop");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The task input Step Functions gives the activity: the example's Task
/// Parameters, evaluated by moto against `input` in a Pass state.
async fn task_input(moto: &Moto, input: &Value) -> Value {
    let definition: Value = serde_json::from_str(&state_machine_definition(
        "activity-promotion",
        &[("PromotionActivityArn", ACTIVITY)],
    ))
    .expect("json");
    let parameters = definition["States"]["Ask the manager"]["Parameters"].clone();
    let pass = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": parameters, "End": true}}});
    let sfn = &moto.aws.sfn;
    let manager = input["manager"].as_str().expect("manager");
    let name = format!("params-{}", manager.split('@').next().expect("local part"));
    let machine = sfn
        .create_state_machine()
        .name(&name)
        .role_arn("arn:aws:iam::123456789012:role/example")
        .definition(pass.to_string())
        .send()
        .await
        .expect("pass machine")
        .state_machine_arn;
    let run = sfn
        .start_execution()
        .state_machine_arn(machine)
        .name(&name)
        .input(input.to_string())
        .send()
        .await
        .expect("start")
        .execution_arn;
    super::moto::output_of(&moto.aws.finished(&run).await)
}

fn candidate(n: usize) -> Value {
    json!({"employee": format!("Dana {n} <dev>"), "title": "Staff Engineer", "manager": format!("manager{n}@corp.example")})
}

async fn mails_to(moto: &Moto, address: &str) -> Vec<Value> {
    sent_mail(&moto.aws.endpoint, Some(address)).await
}

async fn wait_for_mail(moto: &Moto, address: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(mail) = mails_to(moto, address).await.into_iter().next() {
            return mail;
        }
        assert!(Instant::now() < deadline, "no mail to {address}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_mails_every_task_once_across_a_restart() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    aws_sdk_sesv2::Client::new(&moto.aws.config)
        .create_email_identity()
        .email_identity("example.com")
        .send()
        .await
        .expect("identity");
    let (endpoint, activity) = start_activity().await;
    let server = serve_at(
        &moto.aws.endpoint,
        moto.dir.path(),
        "serve",
        &[("AWS_ENDPOINT_URL_SFN", &endpoint)],
    )
    .await;
    let log = moto.dir.path().join("worker.log");

    // Two tasks queued, a worker takes both.
    for n in [1, 2] {
        activity.enqueue(
            &format!("token-{n}"),
            &task_input(&moto, &candidate(n)).await,
        );
    }
    let worker = Worker::start(&moto, &endpoint, &server, &log, &[]);
    let first = wait_for_mail(&moto, "manager1@corp.example").await;
    wait_for_mail(&moto, "manager2@corp.example").await;

    // Stopped while its next poll is open: the task that poll brings is
    // still mailed before the worker exits.
    wait_until("the worker polls again", || {
        activity.waiting.load(Ordering::SeqCst) > 0
    })
    .await;
    let third = task_input(&moto, &candidate(3)).await;
    let stopping = std::thread::spawn(move || worker.stop());
    wait_until("the worker hears the signal", || {
        std::fs::read_to_string(&log).is_ok_and(|l| l.contains("shutdown requested"))
    })
    .await;
    assert!(activity.waiting.load(Ordering::SeqCst) > 0, "still polling");
    activity.enqueue("token-3", &third);
    let status = tokio::task::spawn_blocking(move || stopping.join().expect("join"))
        .await
        .expect("stop");
    assert!(status.success(), "{status}");
    wait_for_mail(&moto, "manager3@corp.example").await;
    assert!(activity.queue.lock().expect("lock").is_empty());

    // Restarted after a task arrived and while polls fail: it backs off,
    // keeps polling, mails the task, and fails one it cannot use.
    activity.enqueue("token-4", &task_input(&moto, &candidate(4)).await);
    activity.enqueue("token-bad", &json!({"actions": []}));
    activity.failing_polls.store(2, Ordering::SeqCst);
    let polls_before = activity.polls.load(Ordering::SeqCst);
    // This run also serves its metrics.
    let metrics_addr = format!("127.0.0.1:{}", free_port());
    let worker = Worker::start(
        &moto,
        &endpoint,
        &server,
        &log,
        &[
            ("METRICS_ADDR", &metrics_addr),
            ("METRICS_DEPLOYMENT", "it-worker"),
        ],
    );
    wait_for_mail(&moto, "manager4@corp.example").await;
    wait_until("the bad task is failed", || {
        activity
            .answers()
            .iter()
            .any(|(op, token, _)| op == "SendTaskFailure" && token == "token-bad")
    })
    .await;
    assert!(
        activity.polls.load(Ordering::SeqCst) - polls_before >= 4,
        "failed polls were retried"
    );
    let failure = activity
        .answers()
        .into_iter()
        .find(|(_, token, _)| token == "token-bad")
        .expect("answer")
        .2;
    assert_eq!(failure["error"], "InvalidJSON");

    // The metrics of this run: one task made its two links and mailed
    // them, one was refused.
    let (_, scrape) = metrics::scrape(&format!("http://{metrics_addr}/metrics")).await;
    let total = |metric: &str, label: &str| metrics::counts(&scrape, metric, label);
    assert_eq!(
        total("sfn_callbacks_create_requests_total", "result"),
        metrics::map(&[("created", 1.0), ("rejected", 1.0)])
    );
    assert_eq!(
        total("sfn_callbacks_links_created_total", "key_mode"),
        metrics::map(&[("local", 2.0)])
    );
    assert_eq!(
        total("sfn_callbacks_notifications_sent_total", "channel"),
        metrics::map(&[("email", 1.0)])
    );
    assert!(
        scrape
            .samples
            .iter()
            .all(|s| s.labels.get("deployment") == Some("it-worker")),
        "every sample carries the deployment"
    );
    assert!(
        failure["cause"]
            .as_str()
            .expect("cause")
            .contains("at least one action")
    );
    assert!(
        tokio::task::spawn_blocking(move || worker.stop())
            .await
            .expect("stop")
            .success()
    );

    // Every task mailed exactly once, with its own content.
    for n in 1..=4 {
        let mails = mails_to(&moto, &format!("manager{n}@corp.example")).await;
        assert_eq!(mails.len(), 1, "task {n}: {mails:?}");
        assert_eq!(
            mails[0]["subject"],
            format!("Promote Dana {n} <dev> to Staff Engineer?")
        );
        let html = mails[0]["body"].as_str().expect("html");
        assert!(html.contains("Approve the promotion"), "{html}");
    }

    // The manager's click answers the activity task through `serve`.
    let approve = link_in_html(first["body"].as_str().expect("html"), "approve");
    let reply = call(reqwest::Method::POST, &approve, None, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let answers = activity.answers();
    let success = answers
        .iter()
        .find(|(op, token, _)| op == "SendTaskSuccess" && token == "token-1")
        .expect("the approval reached Step Functions");
    let output: Value =
        serde_json::from_str(success.2["output"].as_str().expect("output")).expect("json");
    assert_eq!(output, json!({"promoted": true}));
    let log = std::fs::read_to_string(&log).expect("log");
    assert!(!log.contains("token-"), "no task token in the worker's log");
}
