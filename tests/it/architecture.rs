//! The dependency rule of ARCHITECTURE.md, checked on the source where
//! Cargo cannot: the core and presentation crates (`crates/`, whose
//! manifests name no tokio, no HTTP crate and no rand, so Cargo refuses
//! those) read no environment, no file, no clock and touch no socket of
//! `std`; the application crate (whose manifest names no HTTP, Lambda or
//! AWS crate) reads no environment, file or time of day; the front doors and adapters import
//! `app`, never each other (`lambda` hands HTTP events to the `http`
//! router).

use std::path::{Path, PathBuf};

use regex_lite::Regex;

/// One rule: the files under `dir` (a file or a folder of `src/`, or a
/// crate's `crates/*/src`) must not match `forbidden`.
struct Rule {
    dir: &'static str,
    forbidden: &'static [(&'static str, &'static str)],
}

/// The core crate's sources, from the workspace root.
const CORE: &str = "crates/core/src";
/// The presentation crate's sources, from the workspace root.
const PRESENTATION: &str = "crates/presentation/src";
/// The application crate's sources, from the workspace root: it may time
/// what it does (`Instant`), but the time of day comes from its `Clock`
/// port, and everything else from the outside through its ports.
const APPLICATION: &str = "crates/application/src";

/// What neither pure crate may use of `std`: the environment, files, the
/// clock, sockets, processes and threads.
const PURE: &[(&str, &str)] = &[
    (r"std::env\b|std::\{[^}]*\benv\b", "std::env"),
    (r"std::fs\b|std::\{[^}]*\bfs\b", "std::fs"),
    (r"\bSystemTime\b", "SystemTime"),
    (r"\bInstant\b", "Instant"),
    (r"std::(?:net|process|io|thread)\b", "I/O"),
];

const RULES: &[Rule] = &[
    Rule {
        dir: CORE,
        forbidden: PURE,
    },
    Rule {
        dir: PRESENTATION,
        forbidden: PURE,
    },
    Rule {
        dir: APPLICATION,
        forbidden: &[
            (r"std::env\b|std::\{[^}]*\benv\b", "std::env"),
            (r"std::fs\b|std::\{[^}]*\bfs\b", "std::fs"),
            (r"\bSystemTime\b", "SystemTime"),
            (r"std::(?:net|process|io|thread)\b", "I/O"),
        ],
    },
    Rule {
        dir: "http",
        forbidden: &[
            (
                r"\bcrate::(?:lambda|worker|aws|keys|oidc|startup|config)\b",
                "another edge module",
            ),
            (r"\baws_sdk_[a-z]+", "aws_sdk_*"),
        ],
    },
    Rule {
        dir: "lambda.rs",
        forbidden: &[
            (
                r"\bcrate::(?:worker|aws|keys|oidc|startup|config)\b",
                "another edge module",
            ),
            (r"\baws_sdk_[a-z]+", "aws_sdk_*"),
        ],
    },
    Rule {
        dir: "worker.rs",
        forbidden: &[
            (
                r"\bcrate::(?:http|lambda|aws|keys|oidc|startup|config)\b",
                "another edge module",
            ),
            (r"\baws_sdk_[a-z]+", "aws_sdk_*"),
        ],
    },
    Rule {
        dir: "keys.rs",
        forbidden: &[
            (
                r"\bcrate::(?:http|lambda|worker|aws|oidc|startup|config|app)\b",
                "another edge module",
            ),
            (r"\baws_sdk_[a-z]+", "aws_sdk_*"),
        ],
    },
    Rule {
        dir: "oidc.rs",
        forbidden: &[
            (
                r"\bcrate::(?:http|lambda|worker|aws|keys|startup|config|app)\b",
                "another edge module",
            ),
            (r"\baws_sdk_[a-z]+", "aws_sdk_*"),
        ],
    },
    Rule {
        dir: "aws",
        forbidden: &[(
            r"\bcrate::(?:http|lambda|worker|keys|oidc|startup|config|app)\b",
            "another edge module",
        )],
    },
];

/// The source with comments taken out (line comments, doc comments and
/// block comments), so prose may name what code may not use.
fn code_only(source: &str) -> String {
    let without_blocks = Regex::new(r"(?s)/\*.*?\*/")
        .expect("regex")
        .replace_all(source, "");
    without_blocks
        .lines()
        .map(|line| match line.find("//") {
            // `//` inside a string (a URL) is rare in these folders, and a
            // cut there only hides text, never adds a finding.
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The findings of `rule` in `source`: `(line, what)`.
fn findings(rule: &Rule, source: &str) -> Vec<(usize, &'static str)> {
    let code = code_only(source);
    let mut found = Vec::new();
    for (pattern, what) in rule.forbidden {
        let regex = Regex::new(pattern).expect("regex");
        for (number, line) in code.lines().enumerate() {
            for _ in regex.find_iter(line) {
                found.push((number + 1, *what));
            }
        }
    }
    found
}

fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_file() {
        out.push(path.to_owned());
        return;
    }
    let mut entries: Vec<_> = std::fs::read_dir(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            rust_files(&entry, out);
        } else if entry.extension().is_some_and(|e| e == "rs") {
            out.push(entry);
        }
    }
}

#[test]
fn the_dependency_rule_holds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let src = root.join("src");
    let mut violations = Vec::new();
    for rule in RULES {
        let mut files = Vec::new();
        let dir = if rule.dir.starts_with("crates/") {
            root.join(rule.dir)
        } else {
            src.join(rule.dir)
        };
        rust_files(&dir, &mut files);
        assert!(!files.is_empty(), "no files under {}", dir.display());
        for file in files {
            let source = std::fs::read_to_string(&file).expect("read");
            for (line, what) in findings(rule, &source) {
                violations.push(format!(
                    "{}:{line} uses {what}",
                    file.strip_prefix(root).unwrap_or(&file).display()
                ));
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

/// Findings of `pattern` in every file of `src/` but those `exempt`
/// (paths relative to `src/`, a folder ending in `/`).
fn crate_wide(pattern: &str, exempt: &[&str]) -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let regex = Regex::new(pattern).expect("regex");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut found = Vec::new();
    for file in files {
        let name = file
            .strip_prefix(&src)
            .expect("under src")
            .to_string_lossy()
            .replace('\\', "/");
        if exempt
            .iter()
            .any(|e| name == *e || (e.ends_with('/') && name.starts_with(e)))
        {
            continue;
        }
        let code = code_only(&std::fs::read_to_string(&file).expect("read"));
        for (number, line) in code.lines().enumerate() {
            if regex.is_match(line) {
                found.push(format!("{name}:{}: {}", number + 1, line.trim()));
            }
        }
    }
    found
}

#[test]
fn only_aws_names_the_aws_sdk() {
    let found = crate_wide(r"\baws_sdk_[a-z]+|\baws_config\b", &["aws/"]);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// A status as a constant, or written out in a raw HTTP/1.1 response.
const STATUSES: &str = r"\bStatusCode::[A-Z]|HTTP/1\.[01] [0-9]{3}";

/// A read of the environment: `std::env`'s, or a tracing filter's own.
const ENV_READS: &str =
    r"\benv::(?:var|var_os|vars|vars_os)\b|\bvar_os\(|try_from_default_env|from_default_env";

#[test]
fn only_the_http_error_mapping_and_the_page_responses_pick_statuses() {
    let found = crate_wide(STATUSES, &["http/error.rs", "http/html.rs"]);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn only_config_reads_the_environment() {
    // What the AWS SDK reads for itself (credentials, region, endpoints)
    // is its own; everything this service reads goes through `config`.
    let found = crate_wide(ENV_READS, &["config.rs"]);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// The scanner itself finds what it must, so a passing scan means
/// something.
#[test]
fn the_scan_finds_each_forbidden_use() {
    let rule = |dir: &str| RULES.iter().find(|r| r.dir == dir).expect("a rule");
    let (core, app) = (rule(CORE), rule(APPLICATION));
    let cases: &[(&Rule, &str, &str)] = &[
        (core, "use std::env;", "std::env"),
        (core, "use std::{collections::HashMap, fs};", "std::fs"),
        (core, "let t = std::time::SystemTime::now();", "SystemTime"),
        (core, "let t = Instant::now();", "Instant"),
        (core, "let s = std::net::TcpStream::connect(a);", "I/O"),
        (core, "std::io::stdin().read_line(&mut s);", "I/O"),
        (app, "let v = std::env::var(\"X\");", "std::env"),
        (app, "let now = SystemTime::now();", "SystemTime"),
        (app, "let f = std::fs::read(p);", "std::fs"),
    ];
    for (rule, source, what) in cases {
        let found = findings(rule, source);
        assert!(
            found.iter().any(|(_, w)| w == what),
            "{source:?} should be found as {what}: {found:?}"
        );
    }
    let statuses = Regex::new(STATUSES).expect("regex");
    assert!(statuses.is_match("let s = StatusCode::GONE;"));
    assert!(statuses.is_match(r#"format!("HTTP/1.1 408 Request Timeout\r\n")"#));
    let env_reads = Regex::new(ENV_READS).expect("regex");
    for read in [
        r#"let a = std::env::var("RUST_LOG");"#,
        r#"env::var_os("HOME")"#,
        "EnvFilter::try_from_default_env()",
    ] {
        assert!(env_reads.is_match(read), "{read}");
    }
    // Comments and allowed paths are not findings.
    assert!(
        findings(
            core,
            "/// Reads no std::env, no std::fs.\nuse crate::token;"
        )
        .is_empty()
    );
    assert!(
        findings(
            app,
            "let started = Instant::now();\nuse crate::ports::Engine;"
        )
        .is_empty()
    );
}

/// The crate graph: each workspace crate and the workspace crates it
/// depends on (normal dependencies), as sorted names.
type Graph = std::collections::BTreeMap<String, std::collections::BTreeSet<String>>;

/// The graph ARCHITECTURE.md draws, from its `crates` block.
fn drawn_graph() -> Graph {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let block = text
        .split("```crates\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("ARCHITECTURE.md has a ```crates block");
    block
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let (name, deps) = line.split_once("->").expect("`crate -> deps`");
            let deps = deps
                .split(',')
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .map(str::to_owned)
                .collect();
            (name.trim().to_owned(), deps)
        })
        .collect()
}

/// The graph Cargo knows, from `cargo metadata`.
fn cargo_graph() -> Graph {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = std::process::Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let packages = metadata["packages"].as_array().expect("packages");
    let members: std::collections::BTreeSet<&str> =
        packages.iter().filter_map(|p| p["name"].as_str()).collect();
    packages
        .iter()
        .map(|package| {
            let deps = package["dependencies"]
                .as_array()
                .expect("dependencies")
                .iter()
                .filter(|d| d["kind"].is_null())
                .filter_map(|d| d["name"].as_str())
                .filter(|name| members.contains(name))
                .map(str::to_owned)
                .collect();
            (package["name"].as_str().expect("name").to_owned(), deps)
        })
        .collect()
}

#[test]
fn the_crate_graph_in_architecture_md_is_cargo_s() {
    let cargo = cargo_graph();
    assert_eq!(cargo.len(), 4, "four crates: {cargo:?}");
    assert_eq!(drawn_graph(), cargo);
}
