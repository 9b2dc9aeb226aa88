//! The binary in Lambda mode: a fake of the Lambda Runtime API that hands
//! it one event at a time and collects its answers, and the recorded event
//! shapes in `tests/data/`.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path as UrlPath, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::oneshot;

use super::moto::Proc;

/// An event from `tests/data/`.
pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture")).expect("json")
}

/// What the function answered to one invocation.
#[derive(Debug)]
pub enum Answer {
    /// `POST …/invocation/{id}/response`: the result.
    Response(Value),
    /// `POST …/invocation/{id}/error`: a function error
    /// (`{"errorType", "errorMessage"}`).
    Error(Value),
}

#[derive(Clone)]
struct Runtime {
    function_arn: String,
    events: Arc<Mutex<VecDeque<(String, Value)>>>,
    waiting: Arc<Mutex<HashMap<String, oneshot::Sender<Answer>>>>,
}

/// `GET /2018-06-01/runtime/invocation/next`: waits for an event.
async fn next(State(rt): State<Runtime>) -> impl axum::response::IntoResponse {
    loop {
        let event = rt.events.lock().expect("lock").pop_front();
        if let Some((id, event)) = event {
            let deadline = (time::OffsetDateTime::now_utc() + time::Duration::minutes(1))
                .unix_timestamp()
                * 1000;
            let mut headers = HeaderMap::new();
            headers.insert("lambda-runtime-aws-request-id", id.parse().expect("id"));
            headers.insert(
                "lambda-runtime-deadline-ms",
                deadline.to_string().parse().expect("deadline"),
            );
            headers.insert(
                "lambda-runtime-invoked-function-arn",
                rt.function_arn.parse().expect("arn"),
            );
            headers.insert(
                "lambda-runtime-trace-id",
                "Root=1-00000000-000000000000000000000000"
                    .parse()
                    .expect("trace"),
            );
            return (headers, axum::Json(event));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `POST /2018-06-01/runtime/invocation/{id}/{response|error}`.
async fn answer(
    State(rt): State<Runtime>,
    UrlPath((id, kind)): UrlPath<(String, String)>,
    body: String,
) -> &'static str {
    let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
    let answer = if kind == "response" {
        Answer::Response(value)
    } else {
        Answer::Error(value)
    };
    if let Some(waiter) = rt.waiting.lock().expect("lock").remove(&id) {
        let _ = waiter.send(answer);
    }
    "{}"
}

/// The `sfn-callbacks` binary running as the Lambda function `name`,
/// polling a fake Runtime API of its own; stopped when dropped.
pub struct LambdaFunction {
    pub name: &'static str,
    runtime: Runtime,
    ids: AtomicU64,
    process: Mutex<Proc>,
    stdout: Mutex<Option<std::thread::JoinHandle<Vec<String>>>>,
}

impl LambdaFunction {
    /// Starts the binary with a clean environment: the Lambda variables,
    /// us-east-1, test credentials and `envs`; its log goes to `log`, or
    /// nowhere.
    pub async fn start(name: &'static str, envs: &[(&str, &str)], log: Option<&Path>) -> Self {
        let runtime = Runtime {
            function_arn: format!("arn:aws:lambda:us-east-1:123456789012:function:{name}"),
            events: Arc::default(),
            waiting: Arc::default(),
        };
        let app = axum::Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/{kind}", post(answer))
            .with_state(runtime.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });

        let mut command = Command::new(env!("CARGO_BIN_EXE_sfn-callbacks"));
        command
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .stdout(Stdio::piped())
            .stderr(log.map_or_else(Stdio::null, |path| {
                std::fs::File::create(path).expect("log file").into()
            }));
        for (k, v) in envs {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("spawn the function");
        let out = child.stdout.take().expect("piped stdout");
        let stdout = std::thread::spawn(move || {
            use std::io::BufRead as _;
            std::io::BufReader::new(out)
                .lines()
                .map_while(Result::ok)
                .collect()
        });
        Self {
            name,
            runtime,
            ids: AtomicU64::new(1),
            process: Mutex::new(Proc { child, name }),
            stdout: Mutex::new(Some(stdout)),
        }
    }

    /// The invocation id [`Self::invoke`] gives the next event.
    pub fn next_request_id(&self) -> String {
        format!("{}-{}", self.name, self.ids.load(Ordering::Relaxed))
    }

    /// Stops the process and returns every line it wrote to stdout.
    pub fn stop(&self) -> Vec<String> {
        {
            let mut process = self.process.lock().expect("lock");
            let _ = process.child.kill();
            let _ = process.child.wait();
        }
        self.stdout
            .lock()
            .expect("lock")
            .take()
            .expect("stopped once")
            .join()
            .expect("the stdout reader")
    }

    /// Invokes the function with `event` and waits for its answer (30 s at
    /// most; at once if the process has exited).
    pub async fn invoke(&self, event: Value) -> Answer {
        let id = format!("{}-{}", self.name, self.ids.fetch_add(1, Ordering::Relaxed));
        let (tx, mut rx) = oneshot::channel();
        self.runtime
            .waiting
            .lock()
            .expect("lock")
            .insert(id.clone(), tx);
        self.runtime
            .events
            .lock()
            .expect("lock")
            .push_back((id.clone(), event));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(answer) = tokio::time::timeout(Duration::from_millis(100), &mut rx).await {
                return answer.expect("the runtime keeps the sender");
            }
            let exited = self
                .process
                .lock()
                .expect("lock")
                .child
                .try_wait()
                .expect("try_wait");
            assert!(exited.is_none(), "{}: exited ({exited:?})", self.name);
            assert!(
                Instant::now() < deadline,
                "{}: no answer to {id}",
                self.name
            );
        }
    }
}
