//! The `sfn-callbacks` binary: `serve`, `keygen`, `create` and `inspect`.

use std::io::Read as _;

use anyhow::{Context as _, bail};
use clap::Parser as _;
use serde_json::{Value, json};
use sfn_callbacks::aws::{CallBudget, SdkActivities, load_sdk_config, region_of};
use sfn_callbacks::config::{
    self, Cli, Command, CreateArgs, InspectArgs, KeygenArgs, ServeArgs, WorkerArgs,
};
use sfn_callbacks::core::action::{
    Action, ActionEffect, FieldSource, OutcomeEffect, OutcomeOutput,
};
use sfn_callbacks::core::approvers::Gate;
use sfn_callbacks::core::callback::format_millis;
use sfn_callbacks::core::create::{CreateRequest, make_urls};
use sfn_callbacks::core::keyring::{KeyId, SecretKey};
use sfn_callbacks::core::payload::{Opened, TransactionId};
use sfn_callbacks::core::token::EngineKind;
use sfn_callbacks::http;
use sfn_callbacks::keys::{encrypt_keyring, read_keyring};
use sfn_callbacks::lambda::Handler;
use sfn_callbacks::ports::{Keys as _, UnsealError};
use sfn_callbacks::startup;
use sfn_callbacks::system::random_bytes;
use sfn_callbacks::telemetry;
use sfn_callbacks::worker::{self, Activity};
use tokio::net::TcpListener;

fn init_tracing() {
    // The SDK's runtime traces each request's URI, and a durable callback's
    // URI holds its callback ID: whatever RUST_LOG asks, it logs at `info`
    // at most.
    let asked = config::log_filter();
    let mut filter = asked
        .as_deref()
        .and_then(|asked| tracing_subscriber::EnvFilter::try_new(asked).ok())
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new("info"))
        .add_directive(
            "aws_smithy_runtime=info"
                .parse()
                .expect("a valid directive"),
        );
    if let Some(quiet) =
        sfn_callbacks::aws::quiet_credential_chain(asked.as_deref().unwrap_or_default())
    {
        filter = filter.add_directive(quiet.parse().expect("a valid directive"));
    }
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// mimalloc: the AWS SDK makes many small allocations per call, often freed
/// on another worker thread, where glibc's malloc takes locks (BENCHMARKS.md,
/// "Changes measured one at a time"). Built without transparent huge pages,
/// which would make each touched 2 MiB of its arena resident.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Serve(args)) => {
            init_tracing();
            serve(*args).await
        }
        Some(Command::Keygen(args)) => keygen(args).await,
        Some(Command::Create(args)) => create(args).await,
        Some(Command::Inspect(args)) => inspect(args).await,
        Some(Command::ActivityWorker(args)) => {
            init_tracing();
            activity_worker(args).await
        }
        Some(Command::EngineLimit(args)) => {
            init_tracing();
            engine_limit(*args).await
        }
        None if config::in_lambda() => {
            init_tracing();
            lambda().await
        }
        None => {
            Cli::parse_from(["sfn-callbacks", "--help"]);
            Ok(())
        }
    }
}

async fn lambda() -> anyhow::Result<()> {
    let args = config::LambdaArgs::from_env()?;
    let sdk = load_sdk_config(config::call_budget(&args.serve)).await;
    let settings = config::lambda_settings(&args.serve, &region_of(&sdk))?;
    let app = startup::service(&sdk, &settings, false).await?;
    let handler = Handler::new(app, settings.http, args.direct_errors.into());
    if args.serve.metrics.metrics_addr.is_some() {
        tracing::warn!(
            "METRICS_ADDR is for serve; in Lambda the metrics go to CloudWatch as Embedded Metric Format on stdout"
        );
    }
    let metrics = telemetry::emf::Emf::new(args.serve.metrics.metrics_deployment.clone());
    metrics
        .install()
        .map_err(|_| anyhow::anyhow!("a metrics recorder is already installed"))?;
    sfn_callbacks::lambda::run(handler, metrics)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
}

async fn activity_worker(args: WorkerArgs) -> anyhow::Result<()> {
    let sdk = load_sdk_config(CallBudget::default()).await;
    let settings = args.settings(&region_of(&sdk))?;
    // The links must open where they are answered: never a new keyring.
    let slack = args.features.slack.settings()?;
    // The worker's links are answered by `serve` or the Lambda handler,
    // where approvers sign in: it needs no OpenID Provider of its own.
    let app = startup::app(&sdk, settings, &args.keys.settings()?, slack, None, false).await?;
    let activity = Activity {
        arn: args.activity_arn.clone(),
        worker_name: args
            .worker_name
            .clone()
            .unwrap_or_else(|| format!("sfn-callbacks-{}", std::process::id())),
        first_backoff: std::time::Duration::from_secs(1),
    };
    serve_metrics(&args.metrics).await?;
    let activities = std::sync::Arc::new(SdkActivities::from_config(&sdk));
    worker::run(app, activities, activity, shutdown_signal()).await
}

/// The benchmarks' limit: `serve`'s engine, built as `serve` builds it,
/// sending `SendTaskHeartbeat` for a made-up token from `concurrency` tasks
/// back to back, with no HTTP server in front. Prints one JSON line: the
/// calls made in the measured seconds, their rate and latency, and the
/// process's CPU time per call. It refuses any endpoint off loopback, so it
/// can only ever load a stub.
async fn engine_limit(args: config::EngineLimitArgs) -> anyhow::Result<()> {
    use std::time::{Duration, Instant};
    if !config::sfn_endpoint_is_loopback() {
        bail!(
            "engine-limit only loads a stub on loopback: set AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_SFN) to http://127.0.0.1:<port>"
        );
    }
    // The engine as `serve` builds it: the same checked settings first.
    let sdk = load_sdk_config(config::call_budget(&args.serve)).await;
    config::settings(&args.serve, &region_of(&sdk))?;
    let engine = startup::engine(&sdk);
    let made_up: String =
        "AQID".repeat(args.token_chars.div_ceil(4))[..args.token_chars].to_owned();
    let token = std::sync::Arc::new(sfn_callbacks::core::token::Token::Task(
        sfn_callbacks::core::token::TaskToken::parse(made_up).map_err(anyhow::Error::msg)?,
    ));
    let measured_from = Instant::now() + Duration::from_secs(1);
    let until = measured_from + Duration::from_secs(args.seconds);
    let tasks: Vec<_> = (0..args.concurrency.max(1))
        .map(|_| {
            let engine = engine.clone();
            let token = token.clone();
            tokio::spawn(async move {
                // Room for every latency, so the loop allocates nothing.
                let mut micros: Vec<u32> = Vec::with_capacity(50_000);
                let mut errors = 0u64;
                loop {
                    let started = Instant::now();
                    if started >= until {
                        break;
                    }
                    let answered = engine.heartbeat(&token).await;
                    if started >= measured_from {
                        match answered {
                            Ok(()) => micros.push(
                                u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX),
                            ),
                            Err(_) => errors += 1,
                        }
                    }
                }
                (micros, errors)
            })
        })
        .collect();
    tokio::time::sleep_until(measured_from.into()).await;
    let cpu_from = own_cpu_ticks()?;
    tokio::time::sleep_until(until.into()).await;
    let cpu_ticks = own_cpu_ticks()? - cpu_from;
    let mut micros = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (m, e) = task.await?;
        micros.extend(m);
        errors += e;
    }
    micros.sort_unstable();
    let at = |q: f64| {
        micros
            .get(((micros.len() as f64 * q) as usize).min(micros.len().saturating_sub(1)))
            .map_or(0.0, |&m| f64::from(m) / 1000.0)
    };
    let calls = micros.len() as u64;
    println!(
        "{}",
        json!({
            "calls": calls,
            "errors": errors,
            "seconds": args.seconds,
            "per_sec": calls as f64 / args.seconds as f64,
            "p50_ms": at(0.50),
            "p99_ms": at(0.99),
            // /proc counts in USER_HZ, 100 a second on Linux.
            "cpu_us_per_call": cpu_ticks as f64 * 10_000.0 / calls.max(1) as f64,
        })
    );
    if errors > 0 {
        bail!("{errors} engine calls failed");
    }
    Ok(())
}

/// This process's user and system CPU time so far, in USER_HZ ticks.
fn own_cpu_ticks() -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").context("read /proc/self/stat")?;
    // After the command name, in parentheses: state is field 3, utime 14,
    // stime 15.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    match (tick(11), tick(12)) {
        (Some(user), Some(system)) => Ok(user + system),
        _ => bail!("unexpected /proc/self/stat"),
    }
}

/// Starts the Prometheus listener when `METRICS_ADDR` is set.
async fn serve_metrics(args: &config::MetricsArgs) -> anyhow::Result<()> {
    if let Some(addr) = args.metrics_addr {
        let metrics = startup::serve_metrics(addr, args.metrics_deployment.as_deref()).await?;
        tracing::info!(metrics = %metrics, "serving metrics on /metrics");
    }
    Ok(())
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let sdk = load_sdk_config(config::call_budget(&args)).await;
    let settings = config::settings(&args, &region_of(&sdk))?;
    let app = startup::service(&sdk, &settings, true).await?;
    let listener = TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    serve_metrics(&args.metrics).await?;
    tracing::info!(
        listen = %listener.local_addr()?,
        key_mode = app.key_mode(),
        get_acts = settings.app.get_acts,
        get_probe = settings.app.get_probe,
        post_actions = settings.app.features.post_actions,
        output_parameters = settings.app.features.output_parameters,
        "serving"
    );
    startup::warn_without_credentials(&sdk);
    http::server::run(
        listener,
        http::router(app, settings.http),
        settings.conn,
        shutdown_signal(),
    )
    .await?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

async fn keygen(args: KeygenArgs) -> anyhow::Result<()> {
    let kms = match &args.kms_key_id {
        Some(_) => Some(startup::kms().await),
        None => None,
    };
    let existing = if args.stdout && !args.add && args.retire.is_none() {
        None
    } else {
        match std::fs::read_to_string(&args.keyring_file).map(zeroize::Zeroizing::new) {
            Ok(text) => {
                Some(read_keyring(&text, kms.as_deref(), args.kms_key_id.as_deref()).await?)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("cannot read {}", args.keyring_file.display()));
            }
        }
    };
    let ring = match (existing, args.add, args.retire) {
        (None, false, None) => startup::new_keyring(),
        (None, _, _) => bail!(
            "{} does not exist; run keygen without --add or --retire to make it",
            args.keyring_file.display()
        ),
        (Some(_), false, None) => bail!(
            "{} already exists; use --add to add a key or --retire ID to retire one",
            args.keyring_file.display()
        ),
        (Some(mut ring), add, retire) => {
            if add {
                let id = ring.add(SecretKey::from_bytes(random_bytes()), startup::now_text())?;
                eprintln!("added key {id}; it seals new links from now on");
            }
            if let Some(id) = retire {
                ring.retire(KeyId(id))?;
                eprintln!("retired key {id}; links made with it no longer open");
            }
            ring
        }
    };
    let text = zeroize::Zeroizing::new(match (&args.kms_key_id, &kms) {
        (Some(key_id), Some(kms)) => encrypt_keyring(&ring, kms.as_ref(), key_id).await?,
        _ => ring.to_json(),
    });
    if args.stdout {
        print!("{}", text.as_str());
    } else {
        startup::write_private(&args.keyring_file, &text)?;
        eprintln!(
            "wrote {} (active keys: {:?})",
            args.keyring_file.display(),
            ring.active_ids().iter().map(|k| k.0).collect::<Vec<_>>()
        );
    }
    Ok(())
}

async fn create(args: CreateArgs) -> anyhow::Result<()> {
    let body = if args.request == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        s
    } else {
        args.request.clone()
    };
    let keys = startup::load_keys(&args.keys.settings()?).await?;
    let now = time::OffsetDateTime::now_utc();
    let request = CreateRequest::parse(body.as_bytes(), args.features.features(), now)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if request.notify.is_some() {
        bail!("notify is sent by the service (serve or Lambda), not by `create`; remove it");
    }
    let key = keys.sealing_key().await?;
    let base = request
        .base_url
        .as_ref()
        .map_or_else(|| args.base_url.clone(), |b| b.resolve("us-east-1"));
    let output = make_urls(
        &request,
        TransactionId(random_bytes()),
        now,
        &base,
        |what| what.seal(key.as_seal_with(), &random_bytes()),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("{}", serde_json::to_string_pretty(&output)?);
    Ok(())
}

/// What an action does, as JSON in CreateUrls' own words: a success's
/// `output`, a failure's `error` and `cause`, a POST action's `outcomes`.
fn effect_json(effect: &ActionEffect) -> Value {
    fn source(out: &mut serde_json::Map<String, Value>, field: &str, from: &FieldSource) {
        match from {
            FieldSource::Unset => {}
            FieldSource::Fixed(text) => {
                out.insert(field.to_owned(), json!(text));
            }
            FieldSource::Path(path) => {
                out.insert(format!("{field}_path"), json!(path));
            }
        }
    }
    match effect {
        ActionEffect::Success { output } => json!({"output": output}),
        ActionEffect::Failure { error, cause } => {
            let mut out = serde_json::Map::new();
            if let Some(error) = error {
                out.insert("error".into(), json!(error));
            }
            if let Some(cause) = cause {
                out.insert("cause".into(), json!(cause));
            }
            Value::Object(out)
        }
        ActionEffect::Heartbeat => json!({}),
        ActionEffect::Post { outcomes } => {
            let outcomes: Vec<Value> = outcomes
                .iter()
                .map(|outcome| {
                    let mut out = serde_json::Map::new();
                    out.insert("name".into(), json!(outcome.name.as_str()));
                    out.insert("schema".into(), outcome.schema.clone());
                    let kind = match &outcome.effect {
                        OutcomeEffect::Success(OutcomeOutput::Body) => {
                            out.insert("output_body".into(), json!(true));
                            "success"
                        }
                        OutcomeEffect::Success(OutcomeOutput::Path(path)) => {
                            out.insert("output_path".into(), json!(path));
                            "success"
                        }
                        OutcomeEffect::Success(OutcomeOutput::Fixed(output)) => {
                            out.insert("output".into(), output.clone());
                            "success"
                        }
                        OutcomeEffect::Failure { error, cause } => {
                            source(&mut out, "error", error);
                            source(&mut out, "cause", cause);
                            "failure"
                        }
                        OutcomeEffect::Heartbeat => "heartbeat",
                    };
                    out.insert("type".into(), json!(kind));
                    Value::Object(out)
                })
                .collect();
            json!({"outcomes": outcomes})
        }
    }
}

async fn inspect(args: InspectArgs) -> anyhow::Result<()> {
    let data = match url::Url::parse(&args.url) {
        Ok(u) => u
            .query_pairs()
            .find(|(k, _)| k == "data")
            .map(|(_, v)| v.into_owned())
            .context("the URL has no data parameter")?,
        Err(_) => args.url.clone(),
    };
    let keys = startup::load_keys(&args.keys.settings()?).await?;
    let opened = match keys.open(&data).await {
        Ok(opened) => opened,
        Err(UnsealError::Payload(e)) => bail!("{} ({e:?})", e.rejection().message),
        Err(UnsealError::KmsUnavailable) => bail!("KMS is unavailable"),
        Err(UnsealError::KmsRefused) => bail!("KMS refused to unwrap the link's key"),
    };
    let (review, claims) = match opened {
        Opened::Link(claims) => (None, claims),
        Opened::Review(review) => {
            let first = review.claims_of(&review.choices[0]);
            (Some(review), first)
        }
    };
    let now_ms = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
    let token = if args.show_token {
        json!(claims.token.expose())
    } else {
        json!(format!(
            "<redacted, {} chars; --show-token to print>",
            claims.token.len()
        ))
    };
    let field = match claims.token.engine() {
        EngineKind::StepFunctions => "token",
        EngineKind::Durable => "callback_id",
    };
    let mut out = json!({
        "transaction_id": claims.transaction_id.to_hex(),
        field: token,
        "issued_at": format_millis(claims.issued_at_secs * 1000),
        "expiration": claims.expires_at_millis.map(format_millis),
        "expired": claims.expires_at_millis.is_some_and(|e| e <= now_ms),
        "output_parameters": claims.output_parameters,
        "locale": claims.locale.map(sfn_callbacks::core::locale::Locale::tag),
    });
    let action = |action: &Action, gate: Option<&Gate>| {
        let mut shown = json!({
            "action": {"name": action.name.as_str(), "type": action.kind().as_str()},
            "effect": effect_json(&action.effect),
        });
        if let Some(form) = &action.page.form {
            shown["form"] = form.schema.clone();
        }
        if let Some(gate) = gate {
            shown["approvers"] = json!({
                "emails": gate.approvers.emails,
                "domains": gate.approvers.domains,
                "groups": gate.approvers.groups,
            });
            shown["requester"] = json!(gate.requester);
        }
        shown
    };
    match &review {
        Some(review) => {
            out["review"] = review
                .choices
                .iter()
                .map(|c| action(&c.action, c.gate.as_ref()))
                .collect();
        }
        None => {
            if let (Some(out), Value::Object(shown)) = (
                out.as_object_mut(),
                action(&claims.action, claims.gate.as_ref()),
            ) {
                out.extend(shown);
            }
        }
    }
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}
