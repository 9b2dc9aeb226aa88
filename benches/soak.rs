//! Load soak: `serve` in front of a stub Step Functions on loopback, driven
//! at a steady rate for a bounded time. It passes with no errors and with
//! the server's resident set at the end no more than 10% above what it was
//! after the warm-up.
//!
//! Open loop: request i is due at t0 + i/rate whether or not earlier ones
//! have answered, and its latency counts from that due time, so a stall
//! shows up in the latency of every request it delays. At most `IN_FLIGHT`
//! requests are out at once; one that finds no free slot is an error, not a
//! wait.
//!
//! The requests share `CONNECTIONS` keep-alive connections, used in turn, as
//! behind a proxy; a request waits for a free one, and the wait counts in its
//! latency. With a client that opens a connection whenever it has none idle,
//! one 300 ms pause of the server (a busy shared machine) left it holding 200
//! more connections and 5 MiB more memory for the rest of the run: growth
//! that says nothing about leaks, and a flaky result.
//!
//! Settings from the environment: `SOAK_SECONDS` (measured part, default
//! 120), `SOAK_RATE` (requests per second, default 500),
//! `SOAK_WARMUP_SECONDS` (default 20). Run through `scripts/soak.sh`, which
//! builds the release binary and passes its path in `SFN_CALLBACKS_BIN`.
//! Prints a Markdown section on stdout and exits non-zero if the run failed.

mod common;

use std::collections::{BTreeMap, VecDeque};
use std::io::Write as _;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use common::{create_request, mib, rss_kib, start_server, stub_sfn};
use serde_json::Value;
use tokio::sync::Semaphore;

/// Requests in flight at most.
const IN_FLIGHT: u32 = 512;
/// Connections to the server, each carrying one request at a time.
const CONNECTIONS: usize = 16;
/// Links made before the run (half success, half heartbeat); GET and POST
/// `/respond` go round them.
const LINKS: usize = 32;
/// One request's limit, from sending to its last body byte.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How far RSS at the end may be above RSS after warm-up.
const RSS_GROWTH_LIMIT_PERCENT: f64 = 10.0;
/// RSS readings spread over the measured part, to show a trend.
const RSS_SAMPLES: u64 = 10;

/// A whole number from the environment, or the default; 1 to `max`.
fn setting(name: &str, default: u64, max: u64) -> u64 {
    let value = std::env::var(name).map_or(default, |v| {
        v.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v}: expected a whole number"))
    });
    assert!(
        (1..=max).contains(&value),
        "{name}={value}: expected 1 to {max}"
    );
    value
}

#[derive(Clone, Copy)]
struct Settings {
    seconds: u64,
    rate: u64,
    warmup: u64,
}

impl Settings {
    fn from_env() -> Self {
        let settings = Self {
            seconds: setting("SOAK_SECONDS", 120, 86_400),
            rate: setting("SOAK_RATE", 500, 20_000),
            warmup: setting("SOAK_WARMUP_SECONDS", 20, 3_600),
        };
        assert!(
            settings.total() <= 100_000_000,
            "SOAK_RATE x (SOAK_SECONDS + SOAK_WARMUP_SECONDS) is over 100 million requests"
        );
        settings
    }

    fn warmup_requests(self) -> u64 {
        self.rate * self.warmup
    }

    fn total(self) -> u64 {
        self.rate * (self.warmup + self.seconds)
    }

    /// When request `i` is due, counted from the start of the run.
    fn due(self, i: u64) -> Duration {
        Duration::from_nanos(i * 1_000_000_000 / self.rate)
    }
}

/// The mix: the three kinds in turn.
#[derive(Clone, Copy)]
enum Kind {
    Create,
    Page,
    Callback,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::Create, Kind::Page, Kind::Callback];

    fn label(self) -> &'static str {
        match self {
            Kind::Create => "POST /urls",
            Kind::Page => "GET /respond",
            Kind::Callback => "POST /respond",
        }
    }
}

/// What the run counted.
#[derive(Default)]
struct Tally {
    /// Requests due in the warm-up and in the measured part.
    due: [u64; 2],
    /// Latency in microseconds of every answered or failed request of the
    /// measured part, by kind.
    latency_us: [Vec<u32>; 3],
    /// 2xx answers in the measured part, and when the last one came.
    measured_ok: u64,
    last_answer: Option<Instant>,
    /// Accepted `POST /respond`s over the whole run.
    callbacks_ok: u64,
    /// Errors over the whole run, by request and kind of error.
    errors: BTreeMap<String, u64>,
}

impl Tally {
    fn error(&mut self, what: String, count: u64) {
        *self.errors.entry(what).or_default() += count;
    }
}

/// What every request needs.
struct Load {
    /// One client a connection; the idle ones, in the order they came back.
    idle: Mutex<VecDeque<reqwest::Client>>,
    /// As many permits as idle connections.
    connections: Semaphore,
    create_url: String,
    create_body: String,
    links: Vec<String>,
    slots: Arc<Semaphore>,
    tally: Mutex<Tally>,
}

impl Load {
    fn tally(&self) -> std::sync::MutexGuard<'_, Tally> {
        self.tally.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends one request on a free connection and reads the whole answer.
    async fn send(&self, kind: Kind, link: &str) -> Result<(), String> {
        let _permit = self.connections.acquire().await.expect("never closed");
        let client = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front()
            .expect("a permit means an idle connection");
        let outcome = self.request(&client, kind, link).await;
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back(client);
        outcome
    }

    /// Sends one request with `client` and reads the whole answer.
    async fn request(
        &self,
        client: &reqwest::Client,
        kind: Kind,
        link: &str,
    ) -> Result<(), String> {
        let request = match kind {
            Kind::Create => client
                .post(&self.create_url)
                .header("content-type", "application/json")
                .body(self.create_body.clone()),
            Kind::Page => client.get(link).header("accept", "text/html"),
            Kind::Callback => client.post(link),
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        response.bytes().await.map_err(transport)?;
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("HTTP {}", status.as_u16()))
        }
    }

    async fn one(&self, kind: Kind, link: &str, due: Instant, measured: bool) {
        let outcome = self.send(kind, link).await;
        let done = Instant::now();
        let micros = u32::try_from(done.duration_since(due).as_micros()).unwrap_or(u32::MAX);
        let mut tally = self.tally();
        if measured {
            tally.latency_us[kind as usize].push(micros);
        }
        match outcome {
            Ok(()) => {
                if measured {
                    tally.measured_ok += 1;
                    tally.last_answer = Some(done);
                }
                if matches!(kind, Kind::Callback) {
                    tally.callbacks_ok += 1;
                }
            }
            Err(what) => tally.error(format!("{}: {what}", kind.label()), 1),
        }
    }
}

/// A transport error by kind; never with the URL, which carries a link.
fn transport(error: reqwest::Error) -> String {
    let what = if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connect error"
    } else if error.is_body() || error.is_decode() {
        "error reading the body"
    } else if error.is_request() {
        "error sending the request"
    } else {
        "transport error"
    };
    what.to_owned()
}

/// What the scheduler saw of the server's memory, in KiB.
struct Memory {
    after_warmup: u64,
    samples: Vec<u64>,
    end: u64,
}

/// Sends every request at its due time, on this (blocking) thread; the
/// requests themselves run on the runtime. Bounded by the request count,
/// and by time since it never waits for an answer.
fn schedule(
    load: &Arc<Load>,
    runtime: &tokio::runtime::Handle,
    settings: Settings,
    pid: u32,
    t0: Instant,
) -> Memory {
    let warm = settings.warmup_requests();
    let measured_requests = settings.total() - warm;
    let sample_every = (measured_requests / RSS_SAMPLES).max(1);
    let mut memory = Memory {
        after_warmup: 0,
        samples: Vec::new(),
        end: 0,
    };
    for i in 0..settings.total() {
        let due = t0 + settings.due(i);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        if i == warm {
            memory.after_warmup = rss_kib(pid, "VmRSS:");
        } else if i > warm && (i - warm).is_multiple_of(sample_every) {
            memory.samples.push(rss_kib(pid, "VmRSS:"));
        }
        let measured = i >= warm;
        let kind = Kind::ALL[(i % 3) as usize];
        load.tally().due[usize::from(measured)] += 1;
        let Ok(slot) = load.slots.clone().try_acquire_owned() else {
            let what = format!("{}: no free slot ({IN_FLIGHT} in flight)", kind.label());
            load.tally().error(what, 1);
            continue;
        };
        let load = load.clone();
        runtime.spawn(async move {
            let link = &load.links[(i / 3) as usize % load.links.len()];
            load.one(kind, link, due, measured).await;
            drop(slot);
        });
    }
    memory.end = rss_kib(pid, "VmRSS:");
    memory
}

async fn make_links(client: &reqwest::Client, create_url: &str, body: &str) -> Vec<String> {
    let mut links = Vec::with_capacity(LINKS);
    for _ in 0..LINKS / 2 {
        let created: Value = client
            .post(create_url)
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .expect("CreateUrls")
            .json()
            .await
            .expect("CreateUrls answers JSON");
        for action in ["approve", "ping"] {
            links.push(created["urls"][action].as_str().expect("a link").to_owned());
        }
    }
    links
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0 * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(micros: u32) -> String {
    format!("{:.2} ms", f64::from(micros) / 1000.0)
}

fn latency_row(label: &str, sorted: &[u32]) -> String {
    format!(
        "| {label} | {} | {} | {} | {} | {} |\n",
        sorted.len(),
        ms(percentile(sorted, 50.0)),
        ms(percentile(sorted, 99.0)),
        ms(percentile(sorted, 99.9)),
        ms(sorted.last().copied().unwrap_or(0)),
    )
}

/// Runs the soak and prints its section; true if it passed.
async fn soak(settings: Settings) -> bool {
    let (sfn_port, sfn_calls) = stub_sfn().await;
    let (server, _) = start_server(sfn_port);
    let pid = server.child.id();
    let clients: VecDeque<reqwest::Client> = (0..CONNECTIONS)
        .map(|_| {
            reqwest::Client::builder()
                .no_proxy()
                .timeout(REQUEST_TIMEOUT)
                .pool_max_idle_per_host(1)
                .build()
                .expect("client")
        })
        .collect();
    let create_url = format!("{}/urls", server.base);
    let create_body = create_request().to_string();
    let links = make_links(&clients[0], &create_url, &create_body).await;
    let load = Arc::new(Load {
        idle: Mutex::new(clients),
        connections: Semaphore::new(CONNECTIONS),
        create_url,
        create_body,
        links,
        slots: Arc::new(Semaphore::new(IN_FLIGHT as usize)),
        tally: Mutex::new(Tally::default()),
    });

    let t0 = Instant::now();
    let memory = {
        let load = load.clone();
        let runtime = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || schedule(&load, &runtime, settings, pid, t0))
            .await
            .expect("scheduler")
    };
    // Every request has a timeout, so this wait is short; what is still out
    // after it counts as errors.
    let drained = tokio::time::timeout(
        REQUEST_TIMEOUT + Duration::from_secs(5),
        load.slots.acquire_many(IN_FLIGHT),
    )
    .await;
    if drained.is_err() {
        let unfinished = IN_FLIGHT as usize - load.slots.available_permits();
        load.tally()
            .error("unfinished at the end".to_owned(), unfinished as u64);
    }
    let peak = rss_kib(pid, "VmHWM:");
    let stub_calls = sfn_calls.load(Ordering::Relaxed);
    drop(server);

    let mut tally = std::mem::take(&mut *load.tally());
    let errors: u64 = tally.errors.values().sum();
    let measured_start = t0 + settings.due(settings.warmup_requests());
    let achieved = tally.last_answer.map_or(0.0, |last| {
        tally.measured_ok as f64 / last.duration_since(measured_start).as_secs_f64()
    });
    let growth = if memory.after_warmup == 0 {
        f64::INFINITY
    } else {
        (memory.end as f64 / memory.after_warmup as f64 - 1.0) * 100.0
    };
    let passed = errors == 0 && growth <= RSS_GROWTH_LIMIT_PERCENT;

    let Settings {
        seconds,
        rate,
        warmup,
    } = settings;
    let mut out = format!(
        "## Load soak (open loop, {rate} requests/s for {seconds} s after {warmup} s of warm-up, loopback)\n\n"
    );
    out.push_str(&format!(
        "`serve` in front of the stub Step Functions. The requests take turns: `POST /urls` \
         (712-character token, 2 actions), `GET /respond` (the confirmation page) and \
         `POST /respond`, on {LINKS} success and heartbeat links made first (the stub answers \
         every SendTask* with 200 `{{}}`). Request i is due at t0 + i/rate whether or not \
         earlier ones have answered, with at most {IN_FLIGHT} in flight (one that finds no free \
         slot is an error); the requests share {CONNECTIONS} keep-alive connections, used in \
         turn, and a request's latency counts from its due time, wait for a connection \
         included. Latency covers the \
         measured part; errors count over the whole run. Reproduce with `scripts/soak.sh`.\n\n"
    ));
    out.push_str("| measure | value | target |\n|---|---|---|\n");
    out.push_str(&format!(
        "| requests (warm-up + measured) | {} + {} | |\n",
        tally.due[0], tally.due[1]
    ));
    out.push_str(&format!("| errors | {errors} | 0 |\n"));
    out.push_str(&format!(
        "| achieved rate, measured part | {achieved:.1} requests/s | {rate} requests/s |\n"
    ));
    out.push_str(&format!(
        "| SendTask* calls the stub answered | {stub_calls} (accepted `POST /respond`: {}; the rest are the probes of the GETs of success links) | |\n",
        tally.callbacks_ok
    ));
    out.push_str(&format!(
        "| server RSS after warm-up | {} | |\n",
        mib(memory.after_warmup)
    ));
    out.push_str(&format!(
        "| server RSS at the end | {} ({growth:+.1}%) | ≤ {RSS_GROWTH_LIMIT_PERCENT:.0}% above after warm-up |\n",
        mib(memory.end)
    ));
    out.push_str(&format!(
        "| server peak RSS (VmHWM) | {} | |\n\n",
        mib(peak)
    ));
    let trend: Vec<String> = memory
        .samples
        .iter()
        .map(|&kib| format!("{:.1}", kib as f64 / 1024.0))
        .collect();
    out.push_str(&format!(
        "Server RSS through the measured part, MiB: {}.\n\n",
        trend.join(", ")
    ));

    out.push_str("| requests | count | p50 | p99 | p99.9 | max |\n|---|---|---|---|---|---|\n");
    let mut all = Vec::new();
    for values in &mut tally.latency_us {
        values.sort_unstable();
        all.extend_from_slice(values);
    }
    all.sort_unstable();
    out.push_str(&latency_row("all", &all));
    for kind in Kind::ALL {
        out.push_str(&latency_row(
            &format!("`{}`", kind.label()),
            &tally.latency_us[kind as usize],
        ));
    }
    out.push('\n');
    if errors > 0 {
        out.push_str("Errors by kind:\n\n");
        for (what, count) in &tally.errors {
            out.push_str(&format!("- {what}: {count}\n"));
        }
        out.push('\n');
    }
    out.push_str(if passed {
        "Result: pass.\n\n"
    } else {
        "Result: **fail**.\n\n"
    });
    print!("{out}");
    let _ = std::io::stdout().flush();
    passed
}

fn main() {
    // `cargo bench` passes --bench; nothing else is expected.
    let settings = Settings::from_env();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    // The server is dropped (killed and reaped) inside `soak`.
    let passed = runtime.block_on(soak(settings));
    drop(runtime);
    if !passed {
        eprintln!("soak failed: errors, or RSS grew more than {RSS_GROWTH_LIMIT_PERCENT}%");
        std::process::exit(1);
    }
}
