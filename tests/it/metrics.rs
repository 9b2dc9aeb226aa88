//! The metrics both runtimes publish: Prometheus text on `serve`'s
//! `METRICS_ADDR` after a flow on moto, CloudWatch Embedded Metric Format
//! lines on the Lambda binary's stdout, and the listener's bad input.

use std::collections::{BTreeMap, HashSet};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use prometheus_parse::{Scrape, Value as Sample};
use serde_json::{Value, json};

use super::lambda_runtime::{Answer, LambdaFunction, fixture};
use super::moto::{Moto, call, create, free_port, serve, serve_keyed, tampered, url_of};
use super::support::data_of;

/// A scrape of `url`, parsed.
pub(super) async fn scrape(url: &str) -> (String, Scrape) {
    let text = reqwest::get(url)
        .await
        .expect("scrape")
        .error_for_status()
        .expect("200")
        .text()
        .await
        .expect("text");
    let parsed =
        Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).expect("Prometheus text format");
    (text, parsed)
}

/// Each sample of the counter `metric`, by its `label`'s value.
pub(super) fn counts(scrape: &Scrape, metric: &str, label: &str) -> BTreeMap<String, f64> {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == metric)
        .map(|s| {
            let Sample::Counter(v) = s.value else {
                panic!("{metric} is a counter: {s:?}");
            };
            (s.labels.get(label).unwrap_or_default().to_owned(), v)
        })
        .collect()
}

pub(super) fn map(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_shows_exactly_what_happened_on_moto() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    let mut aws = moto.aws;
    let metrics_port = free_port();
    let metrics_addr = format!("127.0.0.1:{metrics_port}");
    let server = serve(
        &aws,
        moto.dir.path(),
        "serve-metrics",
        &[
            ("METRICS_ADDR", metrics_addr.as_str()),
            ("METRICS_DEPLOYMENT", "it-prod"),
        ],
    )
    .await;
    let metrics_url = format!("http://{metrics_addr}/metrics");

    // One link pair, one success, one closed, one rejected.
    let (arn, token) = aws.start("metrics").await;
    let created = create(
        &server,
        &json!({"token": token, "actions": [
            {"name": "approve", "type": "success", "output": {"ok": true}},
            {"name": "reject", "type": "failure", "error": "No"}
        ]}),
    )
    .await;
    let approve = url_of(&created, "approve");
    let done = call(reqwest::Method::POST, &approve, None, None).await;
    assert_eq!(done.status, 200, "{}", done.text);
    // moto closes the task when its execution moves on, a moment later:
    // the second press must come after that to be refused.
    aws.finished(&arn).await;
    let again = call(reqwest::Method::POST, &approve, None, None).await;
    assert_eq!(again.status, 410, "{}", again.text);
    let forged = call(reqwest::Method::POST, &tampered(&approve), None, None).await;
    assert_eq!(forged.status, 400, "{}", forged.text);

    let (text, scrape) = scrape(&metrics_url).await;
    assert_eq!(
        counts(&scrape, "sfn_callbacks_create_requests_total", "result"),
        map(&[("created", 1.0)]),
        "{text}"
    );
    assert_eq!(
        counts(&scrape, "sfn_callbacks_links_created_total", "key_mode"),
        map(&[("local", 2.0)]),
        "{text}"
    );
    assert_eq!(
        counts(&scrape, "sfn_callbacks_callbacks_total", "result"),
        map(&[("closed", 1.0), ("rejected", 1.0), ("succeeded", 1.0)]),
        "{text}"
    );
    // Two SendTaskSuccess calls: the success, and the one Step Functions
    // answered with a closed task. The forged link called nothing.
    let timing = scrape
        .samples
        .iter()
        .find(|s| s.metric == "sfn_callbacks_engine_call_seconds")
        .expect("the engine call histogram");
    assert_eq!(timing.labels.get("operation"), Some("SendTaskSuccess"));
    let Sample::Histogram(buckets) = &timing.value else {
        panic!("a histogram: {timing:?}");
    };
    let infinite = buckets.iter().find(|b| b.less_than.is_infinite());
    assert_eq!(infinite.map(|b| b.count), Some(2.0), "{text}");
    assert!(
        scrape
            .samples
            .iter()
            .all(|s| s.labels.get("deployment") == Some("it-prod")),
        "{text}"
    );
    for secret in [token.as_str(), data_of(&approve).as_str(), approve.as_str()] {
        assert!(!text.contains(secret), "the exposition holds a secret");
    }
    // Never on the public port.
    let public = reqwest::get(format!("{}/metrics", server.base))
        .await
        .expect("public");
    assert_eq!(public.status(), 404);
}

/// The TCP ports `pid` listens on.
fn listening_ports(pid: u32) -> HashSet<u16> {
    let inodes: HashSet<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("the process's descriptors")
        .filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
        .filter_map(|target| {
            let target = target.to_string_lossy().into_owned();
            let inode = target.strip_prefix("socket:[")?.strip_suffix(']')?;
            Some(inode.to_owned())
        })
        .collect();
    let mut ports = HashSet::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // local_address, state (0A: LISTEN), inode.
            if fields.len() > 9 && fields[3] == "0A" && inodes.contains(fields[9]) {
                let port = fields[1].rsplit(':').next().expect("a port");
                ports.insert(u16::from_str_radix(port, 16).expect("hex port"));
            }
        }
    }
    ports
}

/// The port of a `http://127.0.0.1:port` base.
fn port_of(base: &str) -> u16 {
    base.rsplit(':')
        .next()
        .expect("port")
        .parse()
        .expect("port")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_metrics_addr_opens_a_second_port() {
    let dir = tempfile::tempdir().expect("tempdir");
    let unreachable = format!("http://127.0.0.1:{}", free_port());
    let plain = serve_keyed(&unreachable, dir.path(), &[]).await;
    let public = port_of(&plain.base);
    assert_eq!(
        listening_ports(plain._proc.child.id()),
        HashSet::from([public]),
        "METRICS_ADDR unset: the public port only"
    );

    let metrics_port = free_port();
    let addr = format!("127.0.0.1:{metrics_port}");
    let with = serve_keyed(&unreachable, dir.path(), &[("METRICS_ADDR", addr.as_str())]).await;
    let public = port_of(&with.base);
    assert_eq!(
        listening_ports(with._proc.child.id()),
        HashSet::from([public, metrics_port])
    );
}

/// `serve` with `envs`, which must exit on its own; its status and stderr.
fn serve_refuses(envs: &[(&str, &str)]) -> (std::process::ExitStatus, String) {
    let keyring = super::support::keyring().to_json();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sfn-callbacks"))
        .arg("serve")
        .env_clear()
        .env("KEYRING", keyring)
        .env("AWS_REGION", "us-east-1")
        .envs(envs.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("serve started with {envs:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    use std::io::Read as _;
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("read");
    (status, stderr)
}

/// `serve` with `envs` stops with a failure whose message says `says`.
fn assert_serve_refuses(envs: &[(&str, &str)], says: &str) {
    let (status, stderr) = serve_refuses(envs);
    assert!(!status.success(), "{envs:?}");
    assert!(
        stderr.contains(says),
        "{envs:?} must say {says:?}: {stderr}"
    );
}

#[test]
fn a_metrics_addr_that_cannot_be_bound_stops_serve_naming_it() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let listen = format!("127.0.0.1:{}", free_port());
    assert_serve_refuses(
        &[("LISTEN_ADDR", &listen), ("METRICS_ADDR", &addr)],
        &format!("METRICS_ADDR {addr}"),
    );
    assert_serve_refuses(
        &[("LISTEN_ADDR", &listen), ("METRICS_ADDR", &listen)],
        &format!("METRICS_ADDR {listen} is the public port"),
    );
    assert_serve_refuses(&[("METRICS_ADDR", "localhost:metrics")], "METRICS_ADDR");
}

/// Checks one EMF document: the directive names exactly the metrics the
/// document carries, each dimension is a string member, and the values are
/// numbers (or up to 100 of them).
fn check_emf(doc: &Value) -> BTreeMap<String, Value> {
    let aws = &doc["_aws"];
    assert!(aws["Timestamp"].as_i64().is_some(), "{doc}");
    let directives = aws["CloudWatchMetrics"].as_array().expect("directives");
    let mut carried = BTreeMap::new();
    for directive in directives {
        assert_eq!(directive["Namespace"], "SfnCallbacks", "{doc}");
        for set in directive["Dimensions"].as_array().expect("dimension sets") {
            for dimension in set.as_array().expect("a set") {
                let name = dimension.as_str().expect("a dimension name");
                assert!(doc[name].is_string(), "dimension {name} in {doc}");
            }
        }
        for metric in directive["Metrics"].as_array().expect("metrics") {
            let name = metric["Name"].as_str().expect("a name");
            let value = &doc[name];
            let numbers = match value {
                Value::Array(values) => values.len() <= 100 && values.iter().all(Value::is_number),
                other => other.is_number(),
            };
            assert!(numbers, "{name} in {doc}");
            assert!(["Count", "Seconds"].contains(&metric["Unit"].as_str().expect("unit")));
            carried.insert(name.to_owned(), value.clone());
        }
    }
    // Nothing numeric at the top that no directive names.
    for (key, value) in doc.as_object().expect("an object") {
        if value.is_number() || value.is_array() {
            assert!(carried.contains_key(key), "{key} is not named in {doc}");
        }
    }
    carried
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_lambda_invocation_prints_one_emf_line() {
    let keyring = super::support::keyring().to_json();
    let unreachable = format!("http://127.0.0.1:{}", free_port());
    let function = LambdaFunction::start(
        "sfn-callbacks",
        &[
            ("BASE_URL", "https://callbacks.example.com"),
            ("KEYRING", &keyring),
            ("GET_PROBE", "false"),
            ("AWS_ENDPOINT_URL", &unreachable),
            ("SFN_DEADLINE_MS", "300"),
            ("METRICS_DEPLOYMENT", "it-lambda"),
        ],
        None,
    )
    .await;
    // Each invocation's id, the metrics its line must carry (a null value:
    // any), and the dimensions it must name.
    type Expected = (
        String,
        BTreeMap<&'static str, Value>,
        Vec<(&'static str, &'static str)>,
    );
    let mut expected: Vec<Expected> = Vec::new();
    let mut expect =
        |id: String, metrics: &[(&'static str, Value)], labels: &[(&'static str, &'static str)]| {
            expected.push((id, metrics.iter().cloned().collect(), labels.to_vec()));
        };

    let token = "QUJDREVGR0hJSktMTU5PUA";
    let id = function.next_request_id();
    let answer = function
        .invoke(json!({"token": token, "actions": [
            {"name": "approve", "type": "success", "output": {"ok": true}},
            {"name": "reject", "type": "failure"}
        ]}))
        .await;
    let Answer::Response(created) = answer else {
        panic!("links: {answer:?}");
    };
    expect(
        id,
        &[("create_requests", json!(1)), ("links_created", json!(2))],
        &[("result", "created"), ("key_mode", "local")],
    );
    let approve = url_of(&created, "approve");

    let id = function.next_request_id();
    let refused = function
        .invoke(json!({"token": token, "actions": []}))
        .await;
    assert!(matches!(refused, Answer::Error(_)), "{refused:?}");
    expect(
        id,
        &[("create_requests", json!(1))],
        &[("result", "rejected")],
    );

    let data = data_of(&approve);
    let mut get = fixture("apigw_rest_get_respond.json");
    get["queryStringParameters"]["data"] = json!(data);
    get["multiValueQueryStringParameters"]["data"] = json!([data]);
    let id = function.next_request_id();
    let Answer::Response(page) = function.invoke(get.clone()).await else {
        panic!("a page");
    };
    assert_eq!(page["statusCode"], 200, "{page}");
    expect(id, &[("links_opened", json!(1))], &[("view", "page")]);

    // Nothing answers at the engine's address: unavailable, and timed.
    let mut post = get.clone();
    post["httpMethod"] = json!("POST");
    let id = function.next_request_id();
    let Answer::Response(down) = function.invoke(post.clone()).await else {
        panic!("an HTTP answer");
    };
    assert_eq!(down["statusCode"], 503, "{down}");
    expect(
        id,
        &[
            ("callbacks", json!(1)),
            ("engine_call_seconds", Value::Null),
        ],
        &[("result", "unavailable"), ("operation", "SendTaskSuccess")],
    );

    let forged = tampered(&approve);
    let forged_data = data_of(&forged);
    post["queryStringParameters"]["data"] = json!(forged_data);
    post["multiValueQueryStringParameters"]["data"] = json!([forged_data]);
    let id = function.next_request_id();
    let Answer::Response(bad) = function.invoke(post).await else {
        panic!("an HTTP answer");
    };
    assert_eq!(bad["statusCode"], 400, "{bad}");
    expect(id, &[("callbacks", json!(1))], &[("result", "rejected")]);

    let lines = function.stop();
    let mut by_request: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for line in &lines {
        for secret in [token, data.as_str(), approve.as_str(), keyring.as_str()] {
            assert!(!line.contains(secret), "a secret on stdout: {line}");
        }
        let doc: Value = serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        let id = doc["request_id"].as_str().expect("request_id").to_owned();
        by_request.entry(id).or_default().push(doc);
    }
    assert_eq!(by_request.len(), expected.len(), "{lines:#?}");
    for (id, metrics, labels) in expected {
        let docs = by_request.get(&id).map(Vec::as_slice).unwrap_or_default();
        assert_eq!(docs.len(), 1, "{id}: exactly one line: {docs:?}");
        let doc = &docs[0];
        assert_eq!(doc["deployment"], "it-lambda", "{doc}");
        let carried = check_emf(doc);
        let names: Vec<&str> = carried.keys().map(String::as_str).collect();
        let wanted: Vec<&str> = metrics.keys().copied().collect();
        assert_eq!(names, wanted, "{id}: {doc}");
        for (name, value) in metrics {
            if !value.is_null() {
                assert_eq!(carried[name], value, "{id}: {name} in {doc}");
            }
        }
        for (label, value) in labels {
            assert_eq!(doc[label], value, "{id}: {label} in {doc}");
        }
    }
}
