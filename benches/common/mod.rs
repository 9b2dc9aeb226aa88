//! What the whole-system benches share: the release binary started as
//! `serve` on loopback, a stub Step Functions, memory readings from /proc and
//! a CreateUrls body like a real one.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::routing::post;
use base64::Engine as _;
use serde_json::{Value, json};
use sfn_callbacks::core::keyring::{Keyring, SecretKey};

/// The release binary, from `SFN_CALLBACKS_BIN` (the scripts set it).
pub fn binary() -> PathBuf {
    PathBuf::from(
        std::env::var("SFN_CALLBACKS_BIN")
            .expect("SFN_CALLBACKS_BIN: run scripts/bench.sh or scripts/soak.sh"),
    )
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Standard base64 of the right length, like real tokens.
pub fn token(chars: usize) -> String {
    let bytes: Vec<u8> = (0..chars * 3 / 4).map(|i| (i * 7 + 3) as u8).collect();
    let t = base64::engine::general_purpose::STANDARD.encode(bytes);
    t[..chars.min(t.len())].to_owned()
}

/// A CreateUrls body: a 712-character token, one success action with an
/// output and one heartbeat action.
pub fn create_request() -> Value {
    json!({
        "token": token(712),
        "actions": [
            {"name": "approve", "type": "success", "output": {"approved": true, "by": "alice@example.com"}},
            {"name": "ping", "type": "heartbeat"}
        ]
    })
}

/// A Step Functions stand-in that answers every SendTask* at once with 200
/// `{}`, and counts them. It runs on a runtime of its own (two workers on
/// a thread of its own), so a bench task blocked on wrk never slows it.
pub async fn stub_sfn() -> (u16, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    listener.set_nonblocking(true).expect("nonblocking");
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("the stub's runtime");
        runtime.block_on(async move {
            let app = axum::Router::new().route(
                "/",
                post(move || {
                    counter.fetch_add(1, Ordering::Relaxed);
                    async { ([("content-type", "application/x-amz-json-1.0")], "{}") }
                }),
            );
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            axum::serve(listener, app).await
        })
    });
    (port, calls)
}

/// `serve` as a child process, killed and reaped on drop.
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn keyring_json() -> String {
    Keyring::new(SecretKey::from_bytes([7; 32]), "bench".into()).to_json()
}

/// Starts `serve` on a free loopback port in front of the stub on
/// `sfn_port`, and waits (10 s at most) for `GET /health` to answer 200.
/// Returns the server and the time from exec to that answer.
pub fn start_server(sfn_port: u16) -> (Server, Duration) {
    start_server_with(sfn_port, free_port(), &[])
}

/// [`start_server`] on `port`, with more environment.
pub fn start_server_with(sfn_port: u16, port: u16, envs: &[(&str, &str)]) -> (Server, Duration) {
    start_binary_with(&binary(), sfn_port, port, envs)
}

/// [`start_server_with`] from another build of the binary (`bin`), for a
/// before-and-after comparison in one run.
pub fn start_binary_with(
    bin: &std::path::Path,
    sfn_port: u16,
    port: u16,
    envs: &[(&str, &str)],
) -> (Server, Duration) {
    let started = Instant::now();
    let child = configured(bin, sfn_port, port)
        .arg("serve")
        .envs(envs.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    finish_start(child, port, started)
}

/// `bin` with `serve`'s benchmark environment: the stub on `sfn_port`, the
/// bench keyring, listening on `port`.
pub fn configured(bin: &std::path::Path, sfn_port: u16, port: u16) -> Command {
    let mut command = Command::new(bin);
    command
        .env_clear()
        .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("KEYRING", keyring_json())
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{sfn_port}"))
        .env("AWS_ACCESS_KEY_ID", "bench")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("AWS_REGION", "us-east-1")
        .env("RUST_LOG", "warn")
        // The per-client rate limit runs (its cost is measured) but never
        // refuses: one client makes all of the load here.
        .env("RESPOND_RATE_LIMIT", "1000000000");
    command
}

/// Waits for the `serve` just spawned on `port` to answer `GET /health`.
fn finish_start(child: std::process::Child, port: u16, started: Instant) -> (Server, Duration) {
    // Killed and reaped on drop, whatever happens below.
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let deadline = started + Duration::from_secs(10);
    loop {
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::{Read as _, Write as _};
            let _ =
                stream.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
            let mut answer = [0u8; 12];
            if stream.read_exact(&mut answer).is_ok() && answer.starts_with(b"HTTP/1.1 200") {
                return (server, started.elapsed());
            }
        }
        assert!(Instant::now() < deadline, "serve did not start");
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// The CPU time process `pid` has used (user and system), from
/// /proc/{pid}/stat, in clock ticks (1/100 s on Linux); 0 if unread.
#[allow(
    dead_code,
    reason = "the soak bench shares this module and reads no CPU time"
)]
pub fn cpu_ticks(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            // The fields after the command name, which is in parentheses
            // and may hold spaces: utime and stime are the 14th and 15th.
            let rest = s.rsplit_once(')')?.1;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0)
}

/// A KiB figure from /proc/{pid}/status (`VmRSS:`, `VmHWM:`); 0 if unread.
pub fn rss_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// KiB as MiB, one decimal.
pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}
