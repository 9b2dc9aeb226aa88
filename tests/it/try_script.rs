//! `scripts/try.sh` end to end: the newcomer's way to a real approval with
//! no AWS account. It starts moto_server from `.venv` and the test build of
//! `sfn-callbacks serve`, makes a waiting execution and its links, presses
//! the approve link itself (`TRY_CLICK=approve`), and reports the outcome.
//!
//! The script takes moto_server from the project's `.venv` (which the test
//! command makes). Without it this test says so and passes, unless
//! `SFN_CALLBACKS_REQUIRE_MOTO=1` (set by the test command), when it fails.

use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use regex_lite::Regex;
use serde_json::Value;

/// Longest the whole script may take (it waits 60 s at most for the
/// decision; the rest is starting two servers and a few AWS calls).
const SCRIPT_DEADLINE: Duration = Duration::from_secs(240);

#[test]
fn try_script_approves_a_real_execution_on_moto() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if !root.join(".venv/bin/moto_server").exists() {
        assert!(
            std::env::var("SFN_CALLBACKS_REQUIRE_MOTO").is_err(),
            "moto_server is required in .venv (scripts/try.sh runs it from there): \
             run the README's test command, which installs it"
        );
        eprintln!(
            "SKIPPED: .venv/bin/moto_server not found (the README's test command installs it)"
        );
        return;
    }
    let keyring_in_checkout = root.join("sfn-callbacks-keyring.json");
    let keyring_was_there = keyring_in_checkout.exists();

    // The script's scratch directory goes under `tmp` (TMPDIR), so the test
    // sees that it is gone afterwards; what it prints goes to files.
    let dir = tempfile::tempdir().expect("tempdir");
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).expect("tmp");
    let stdout_path = dir.path().join("stdout");
    let stderr_path = dir.path().join("stderr");
    let mut child = Command::new("bash")
        .arg(root.join("scripts/try.sh"))
        .current_dir(dir.path())
        .env("SFN_CALLBACKS_BIN", env!("CARGO_BIN_EXE_sfn-callbacks"))
        .env("TRY_CLICK", "approve")
        .env("TRY_WAIT_SECS", "60")
        .env("TMPDIR", &tmp)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).expect("stdout file"))
        .stderr(std::fs::File::create(&stderr_path).expect("stderr file"))
        .spawn()
        .expect("run scripts/try.sh");

    let deadline = Instant::now() + SCRIPT_DEADLINE;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for try.sh") {
            break status;
        }
        if Instant::now() > deadline {
            // SIGTERM first, so the script's trap stops the servers it started.
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            std::thread::sleep(Duration::from_secs(10));
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "scripts/try.sh took over {SCRIPT_DEADLINE:?}:\n{}\n{}",
                read(&stdout_path),
                read(&stderr_path)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let stdout = read(&stdout_path);
    let stderr = read(&stderr_path);
    eprintln!("--- try.sh stdout:\n{stdout}--- try.sh stderr:\n{stderr}");
    assert!(status.success(), "scripts/try.sh failed: {status}");

    let approve = Regex::new(
        r"(?m)^Approve: http://127\.0\.0\.1:(\d+)/respond\?action=approve&type=success&data=\S+$",
    )
    .expect("regex");
    let serve_port = &approve
        .captures(&stdout)
        .unwrap_or_else(|| panic!("no approve link on 127.0.0.1 in:\n{stdout}"))[1];
    assert!(
        Regex::new(
            r"(?m)^Reject:  http://127\.0\.0\.1:\d+/respond\?action=reject&type=failure&data=\S+$"
        )
        .expect("regex")
        .is_match(&stdout),
        "no reject link in:\n{stdout}"
    );
    assert!(
        stdout.lines().any(|l| l == "execution: SUCCEEDED"),
        "the execution did not succeed:\n{stdout}"
    );
    let output = stdout
        .lines()
        .find_map(|l| l.strip_prefix("output: "))
        .unwrap_or_else(|| panic!("no output printed:\n{stdout}"));
    assert!(output.contains("\"approved\": true"), "{output}");
    let output: Value = serde_json::from_str(output).expect("the output is JSON");
    assert_eq!(output["approved"], true, "{output}");

    // Both servers are gone, and so is the scratch directory with the demo
    // keyring; no keyring landed in the checkout.
    let moto_port = Regex::new(r"moto_server on http://127\.0\.0\.1:(\d+)")
        .expect("regex")
        .captures(&stderr)
        .unwrap_or_else(|| panic!("moto's address not said:\n{stderr}"))[1]
        .to_owned();
    for (what, port) in [("serve", serve_port), ("moto_server", moto_port.as_str())] {
        assert!(
            TcpStream::connect(format!("127.0.0.1:{port}")).is_err(),
            "{what} still listens on {port} after the script ended"
        );
    }
    let left: Vec<_> = std::fs::read_dir(&tmp)
        .expect("tmp")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert!(left.is_empty(), "the script left {left:?} behind");
    if !keyring_was_there {
        assert!(
            !keyring_in_checkout.exists(),
            "the script made a keyring in the checkout"
        );
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}
