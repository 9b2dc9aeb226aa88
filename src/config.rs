//! Configuration: flags and environment, read in this one place.
//!
//! Every option of `serve` has an environment variable of the same meaning
//! (the table in the README lists them). The old service's names
//! (`ENABLE_OUTPUT_PARAMETERS`, `ENABLE_POST_ACTIONS`, `KEY_ID`) still work.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use axum::http::HeaderName;
use clap::{Args, Parser, Subcommand};

use crate::aws::{CallBudget, SdkKms};
use crate::core::Features;
use crate::core::keyring::{Keyring, SecretKey};
use crate::core::notify::NotifyPolicy;
use crate::http::limits::RespondLimit;
use crate::http::server::ConnLimits;
use crate::http::{Settings, api_key_digest};
use crate::keys::{EnvelopeLimits, KeyMode, KeySource, read_keyring};
use crate::lambda::DirectErrors;
use crate::ports::Kms;
use crate::ports::random_bytes;

/// A secret from the command line or environment: never shown by `Debug`,
/// wiped on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct Redacted(zeroize::Zeroizing<String>);

impl Redacted {
    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for Redacted {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(zeroize::Zeroizing::new(s.to_owned())))
    }
}

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The keyring file `serve` uses, and creates, when none is named.
pub const DEFAULT_KEYRING_FILE: &str = "sfn-callbacks-keyring.json";

/// Stateless callback URLs for AWS Step Functions task tokens.
#[derive(Debug, Parser)]
#[command(name = "sfn-callbacks", version, about)]
pub struct Cli {
    /// What to do. Without a subcommand inside AWS Lambda
    /// (`AWS_LAMBDA_RUNTIME_API` set), the binary runs the Lambda handler.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The Lambda handler's configuration: the `serve` settings, from the
/// environment only.
#[derive(Debug, Parser)]
#[command(name = "bootstrap")]
pub struct LambdaArgs {
    /// The settings shared with `serve`.
    #[command(flatten)]
    pub serve: ServeArgs,
    /// How direct-invoke errors are returned: `function` (a function error
    /// whose type is the error name) or `result` (`{error, message}`).
    #[arg(
        long,
        env = "DIRECT_INVOKE_ERRORS",
        value_enum,
        default_value = "function"
    )]
    pub direct_errors: DirectErrors,
}

impl LambdaArgs {
    /// Reads the environment.
    pub fn from_env() -> Result<Self, clap::Error> {
        Self::try_parse_from(["bootstrap"])
    }
}

/// Whether this process was started by the Lambda service.
pub fn in_lambda() -> bool {
    std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some()
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service.
    Serve(ServeArgs),
    /// Make a keyring, or add or retire a key in one.
    Keygen(KeygenArgs),
    /// Make callback URLs from a CreateUrls request, without a server.
    Create(CreateArgs),
    /// Open a callback URL and print what it holds.
    Inspect(InspectArgs),
    /// Poll a Step Functions activity: make each task's links and send its
    /// notification.
    ActivityWorker(WorkerArgs),
}

/// Requests a minute, `600/min` or `off` (0).
fn parse_rate(raw: &str) -> Result<u32, String> {
    let raw = raw.trim().to_ascii_lowercase();
    if raw == "off" {
        return Ok(0);
    }
    let count = raw.strip_suffix("/min").unwrap_or(&raw);
    count
        .trim()
        .parse::<u32>()
        .map_err(|_| format!("{raw:?} is not a number of requests a minute, or off"))
}

fn parse_bool(raw: &str) -> Result<bool, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" | "" => Ok(false),
        other => Err(format!("{other:?} is not true or false")),
    }
}

/// Where the keys come from.
#[derive(Debug, Clone, Args)]
pub struct KeyArgs {
    /// Key mode: local, kms, kms-envelope or signed.
    #[arg(long, env = "KEY_MODE", value_enum, default_value = "local")]
    pub key_mode: KeyMode,
    /// Keyring file (plain for local and signed, KMS-encrypted for kms).
    #[arg(long, env = "KEYRING_FILE")]
    pub keyring_file: Option<PathBuf>,
    /// The keyring itself, instead of a file (for Lambda environments).
    #[arg(long, env = "KEYRING", hide_env_values = true)]
    pub keyring: Option<Redacted>,
    /// KMS key id or ARN (`KEY_ID` is read too, as before).
    #[arg(long, env = "KMS_KEY_ID")]
    pub kms_key_id: Option<String>,
}

impl KeyArgs {
    fn kms_key_id(&self) -> Option<String> {
        self.kms_key_id
            .clone()
            .or_else(|| std::env::var("KEY_ID").ok())
            .filter(|k| !k.is_empty())
    }

    fn needs_kms(&self) -> bool {
        matches!(self.key_mode, KeyMode::Kms | KeyMode::KmsEnvelope)
    }
}

/// `serve` options.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "LISTEN_ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Public base URL of the links (default: `http://` and the listen address).
    #[arg(long, env = "BASE_URL")]
    pub base_url: Option<String>,
    /// What CreateUrls requests may use.
    #[command(flatten)]
    pub features: FeatureArgs,
    /// Act on GET, as sfn-callback-urls did (mail scanners will click).
    #[arg(long, env = "GET_ACTS", num_args = 0..=1, default_value = "false", default_missing_value = "true", value_parser = parse_bool)]
    pub get_acts: bool,
    /// Comma-separated API keys for CreateUrls (required unless listening on loopback).
    #[arg(long, env = "API_KEYS", hide_env_values = true, value_delimiter = ',')]
    pub api_keys: Vec<Redacted>,
    /// Deadline for one Step Functions call, retries included, in milliseconds.
    #[arg(long, env = "SFN_DEADLINE_MS", default_value_t = 10_000)]
    pub sfn_deadline_ms: u64,
    /// Largest request body in bytes.
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = 300 * 1024)]
    pub max_body_bytes: usize,
    /// Longest URL (path and query) in bytes.
    #[arg(long, env = "MAX_URI_BYTES", default_value_t = 16 * 1024)]
    pub max_uri_bytes: usize,
    /// Largest header section in bytes.
    #[arg(long, env = "MAX_HEADER_BYTES", default_value_t = 16 * 1024)]
    pub max_header_bytes: usize,
    /// Longest a request may take, body reading and the Step Functions call
    /// included, in milliseconds (more than SFN_DEADLINE_MS).
    #[arg(long, env = "REQUEST_TIMEOUT_MS", default_value_t = 30_000)]
    pub request_timeout_ms: u64,
    /// Longest wait for a request's head after connecting, in milliseconds
    /// (`serve` only).
    #[arg(long, env = "HEADER_READ_TIMEOUT_MS", default_value_t = 10_000)]
    pub header_read_timeout_ms: u64,
    /// Requests a minute each client may make to /respond (`off` or 0: no limit).
    #[arg(long, env = "RESPOND_RATE_LIMIT", default_value = "600", value_parser = parse_rate)]
    pub respond_rate_limit: u32,
    /// Who `notify` may reach.
    #[command(flatten)]
    pub notify: NotifyArgs,
    /// A header whose last address is the client, set by a trusted proxy
    /// in front (for example x-forwarded-for behind a load balancer).
    #[arg(long, env = "CLIENT_IP_HEADER")]
    pub client_ip_header: Option<HeaderName>,
    /// Serve CreateUrls on `POST /urls` (off for a public Function URL).
    #[arg(long, env = "CREATE_URLS_OVER_HTTP", num_args = 0..=1, default_value = "true", default_missing_value = "true", value_parser = parse_bool)]
    pub create_urls_over_http: bool,
    /// Keys.
    #[command(flatten)]
    pub keys: KeyArgs,
}

/// The optional CreateUrls features a deployment enables.
#[derive(Debug, Clone, Args)]
pub struct FeatureArgs {
    /// Allow `$name` output parameters.
    #[arg(long, env = "ENABLE_OUTPUT_PARAMETERS", num_args = 0..=1, default_value = "false", default_missing_value = "true", value_parser = parse_bool)]
    pub enable_output_parameters: bool,
    /// Allow POST actions.
    #[arg(long, env = "ENABLE_POST_ACTIONS", num_args = 0..=1, default_value = "false", default_missing_value = "true", value_parser = parse_bool)]
    pub enable_post_actions: bool,
}

impl FeatureArgs {
    /// As a CreateUrls policy.
    pub fn policy(&self) -> Features {
        Features {
            output_parameters: self.enable_output_parameters,
            post_actions: self.enable_post_actions,
        }
    }
}

/// Who CreateUrls' `notify` may reach.
#[derive(Debug, Clone, Args)]
pub struct NotifyArgs {
    /// Senders CreateUrls may mail as: addresses, or `@domain` for any
    /// address there (the first address is the default sender).
    #[arg(long, env = "NOTIFY_EMAIL_FROM", value_delimiter = ',')]
    pub notify_email_from: Vec<String>,
    /// Recipient domains CreateUrls may mail (`*`: any).
    #[arg(long, env = "NOTIFY_EMAIL_TO_DOMAINS", value_delimiter = ',')]
    pub notify_email_to_domains: Vec<String>,
    /// SNS topic ARNs CreateUrls may publish to (`*`: any).
    #[arg(long, env = "NOTIFY_SNS_TOPICS", value_delimiter = ',')]
    pub notify_sns_topics: Vec<String>,
}

impl NotifyArgs {
    /// The allow-lists, without blanks.
    pub fn policy(&self) -> NotifyPolicy {
        NotifyPolicy {
            email_from: cleaned(&self.notify_email_from),
            email_to_domains: cleaned(&self.notify_email_to_domains),
            sns_topics: cleaned(&self.notify_sns_topics),
        }
    }
}

/// `activity-worker` options.
#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    /// The activity to poll.
    #[arg(long, env = "ACTIVITY_ARN")]
    pub activity_arn: String,
    /// The worker name Step Functions records (default: `sfn-callbacks-<pid>`).
    #[arg(long, env = "WORKER_NAME")]
    pub worker_name: Option<String>,
    /// Public base URL of the links (where `serve` or the Lambda answers them).
    #[arg(long, env = "BASE_URL")]
    pub base_url: String,
    /// What CreateUrls requests may use.
    #[command(flatten)]
    pub features: FeatureArgs,
    /// Who `notify` may reach.
    #[command(flatten)]
    pub notify: NotifyArgs,
    /// Keys.
    #[command(flatten)]
    pub keys: KeyArgs,
}

impl WorkerArgs {
    /// Handler settings for the links the worker makes.
    pub fn settings(&self, region: &str) -> anyhow::Result<Settings> {
        let base_url = crate::core::create::normalise_base_url(&self.base_url)
            .context("BASE_URL must be an absolute http or https URL")?;
        Ok(Settings {
            base_url: Some(base_url),
            default_region: region.to_owned(),
            output_parameters: self.features.enable_output_parameters,
            post_actions: self.features.enable_post_actions,
            notify: self.notify.policy(),
            ..Settings::default()
        })
    }
}

/// `keygen` options.
#[derive(Debug, Clone, Args)]
pub struct KeygenArgs {
    /// The keyring file to create or change.
    #[arg(long, env = "KEYRING_FILE", default_value = DEFAULT_KEYRING_FILE)]
    pub keyring_file: PathBuf,
    /// Add a new key to an existing keyring; it seals new links from now on.
    #[arg(long)]
    pub add: bool,
    /// Retire a key by id: links made with it stop working.
    #[arg(long, value_name = "ID")]
    pub retire: Option<u16>,
    /// Store the keyring encrypted under this KMS key (for key mode kms).
    #[arg(long, env = "KMS_KEY_ID")]
    pub kms_key_id: Option<String>,
    /// Print the keyring instead of writing the file (for an environment variable).
    #[arg(long)]
    pub stdout: bool,
}

/// `create` options.
#[derive(Debug, Clone, Args)]
pub struct CreateArgs {
    /// The CreateUrls request as JSON, or - for standard input.
    #[arg(long, default_value = "-")]
    pub request: String,
    /// Base URL of the links.
    #[arg(long, env = "BASE_URL", default_value = "http://127.0.0.1:8080")]
    pub base_url: String,
    /// What CreateUrls requests may use.
    #[command(flatten)]
    pub features: FeatureArgs,
    /// Keys.
    #[command(flatten)]
    pub keys: KeyArgs,
}

/// `inspect` options.
#[derive(Debug, Clone, Args)]
pub struct InspectArgs {
    /// A callback URL, or just its data value.
    pub url: String,
    /// Print the task token too (it is a secret).
    #[arg(long)]
    pub show_token: bool,
    /// Keys.
    #[command(flatten)]
    pub keys: KeyArgs,
}

/// Writes a file readable only by its owner: a fresh temporary file
/// (created with mode 0600, never reused) renamed into place.
pub fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt as _;
    let suffix = u64::from_ne_bytes(random_bytes());
    let tmp = path.with_extension(format!("tmp-{suffix:016x}"));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let written = options
        .open(&tmp)
        .and_then(|mut file| {
            file.write_all(contents.as_bytes())?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write {}", path.display()));
    }
    Ok(())
}

/// A new keyring with one random key.
pub fn new_keyring() -> Keyring {
    Keyring::new(SecretKey::from_bytes(random_bytes()), now_text())
}

/// Now, as RFC 3339, for key creation stamps.
pub fn now_text() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Builds the key source. `kms` is required for the kms modes.
pub async fn key_source(
    args: &KeyArgs,
    kms: Option<Arc<dyn Kms>>,
    create_default: bool,
) -> anyhow::Result<KeySource> {
    if args.key_mode == KeyMode::KmsEnvelope {
        let key_id = args
            .kms_key_id()
            .context("key mode kms-envelope needs KMS_KEY_ID (or --kms-key-id)")?;
        let kms = kms.context("key mode kms-envelope needs KMS")?;
        return Ok(KeySource::envelope(kms, key_id, EnvelopeLimits::default()));
    }
    let text = match (&args.keyring, &args.keyring_file) {
        (Some(text), _) => zeroize::Zeroizing::new(text.expose().to_owned()),
        (None, Some(path)) => zeroize::Zeroizing::new(
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the keyring file {}", path.display()))?,
        ),
        (None, None) => {
            let path = Path::new(DEFAULT_KEYRING_FILE);
            if !path.exists() {
                if !create_default || args.key_mode == KeyMode::Kms {
                    bail!(
                        "no keyring: make one with `sfn-callbacks keygen`{} and name it with KEYRING_FILE or KEYRING",
                        if args.key_mode == KeyMode::Kms {
                            " --kms-key-id <key>"
                        } else {
                            ""
                        }
                    );
                }
                write_private(path, &new_keyring().to_json())?;
                tracing::info!(file = DEFAULT_KEYRING_FILE, "created a new local keyring");
            }
            zeroize::Zeroizing::new(
                std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the keyring file {}", path.display()))?,
            )
        }
    };
    let kms_ref = if args.needs_kms() {
        kms.as_deref()
    } else {
        None
    };
    if args.key_mode == KeyMode::Kms && kms_ref.is_none() {
        bail!("key mode kms needs KMS");
    }
    let ring = read_keyring(&text, kms_ref, args.kms_key_id().as_deref())
        .await
        .context("cannot load the keyring")?;
    if args.key_mode == KeyMode::Kms && !text.trim().starts_with(crate::keys::KMS_KEYRING_PREFIX) {
        bail!(
            "key mode kms needs a KMS-encrypted keyring (sfn-callbacks keygen --kms-key-id <key>)"
        );
    }
    Ok(KeySource::keyring(args.key_mode, ring))
}

/// The SDK budget `serve` uses for Step Functions.
pub fn call_budget(args: &ServeArgs) -> CallBudget {
    let deadline = Duration::from_millis(args.sfn_deadline_ms.max(100));
    CallBudget {
        deadline,
        attempt_timeout: deadline.min(CallBudget::default().attempt_timeout),
        ..CallBudget::default()
    }
}

/// Builds handler settings from `serve` options, refusing to expose an
/// open CreateUrls beyond loopback.
pub fn settings(args: &ServeArgs, region: &str) -> anyhow::Result<Settings> {
    let api_keys: Vec<&str> = args
        .api_keys
        .iter()
        .map(|k| k.expose().trim())
        .filter(|k| !k.is_empty())
        .collect();
    if api_keys.is_empty() && !args.listen.ip().is_loopback() {
        bail!(
            "refusing to listen on {} without API keys: CreateUrls would be open to anyone who can reach it. \
             Set API_KEYS (comma-separated) or listen on a loopback address",
            args.listen
        );
    }
    if let Some(base) = &args.base_url {
        let ok = url::Url::parse(base).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
        if !ok {
            bail!("BASE_URL must be an absolute http or https URL");
        }
    }
    // A request must outlive its Step Functions call, retries included,
    // or a decision could be made and its answer lost.
    let request_timeout = Duration::from_millis(args.request_timeout_ms);
    let deadline = call_budget(args).deadline;
    if request_timeout < deadline + Duration::from_secs(1) {
        bail!(
            "REQUEST_TIMEOUT_MS ({} ms) must be at least a second longer than SFN_DEADLINE_MS ({} ms)",
            request_timeout.as_millis(),
            deadline.as_millis()
        );
    }
    Ok(Settings {
        base_url: Some(
            args.base_url
                .clone()
                .unwrap_or_else(|| format!("http://{}", args.listen)),
        ),
        default_region: region.to_owned(),
        output_parameters: args.features.enable_output_parameters,
        post_actions: args.features.enable_post_actions,
        get_acts: args.get_acts,
        api_key_digests: api_keys.iter().map(|k| api_key_digest(k)).collect(),
        max_body_bytes: args.max_body_bytes,
        create_urls_over_http: args.create_urls_over_http,
        request_timeout,
        max_uri_bytes: args.max_uri_bytes,
        max_header_bytes: args.max_header_bytes,
        respond_limit: NonZeroU32::new(args.respond_rate_limit).map(RespondLimit::per_minute),
        client_ip_header: args.client_ip_header.clone(),
        notify: args.notify.policy(),
    })
}

/// A list setting without blanks or surrounding spaces.
fn cleaned(list: &[String]) -> Vec<String> {
    list.iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Handler settings inside Lambda: CreateUrls is protected by IAM (API
/// keys still apply when given), and without `BASE_URL` the links' base is
/// derived from each event's domain and stage.
pub fn lambda_settings(args: &ServeArgs, region: &str) -> anyhow::Result<Settings> {
    let mut settings = settings(
        &ServeArgs {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            ..args.clone()
        },
        region,
    )?;
    settings.base_url.clone_from(&args.base_url);
    Ok(settings)
}

/// The connection limits of `serve`.
pub fn conn_limits(args: &ServeArgs) -> ConnLimits {
    ConnLimits {
        header_read_timeout: Duration::from_millis(args.header_read_timeout_ms.max(1)),
        // Room for the router's own header limit to answer first.
        max_head_bytes: (args.max_header_bytes + args.max_uri_bytes).saturating_mul(2),
        ..ConnLimits::default()
    }
}

/// KMS, when the key mode needs it.
pub fn kms_for(args: &KeyArgs, config: &aws_config::SdkConfig) -> Option<Arc<dyn Kms>> {
    args.needs_kms()
        .then(|| Arc::new(SdkKms::from_config(config)) as Arc<dyn Kms>)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve(args: &[&str]) -> ServeArgs {
        let mut full = vec!["sfn-callbacks", "serve"];
        full.extend_from_slice(args);
        match Cli::try_parse_from(full).expect("parses").command {
            Some(Command::Serve(s)) => s,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn refuses_public_listeners_without_api_keys() {
        let err =
            settings(&serve(&["--listen", "0.0.0.0:8080"]), "us-east-1").expect_err("refused");
        assert!(err.to_string().contains("API_KEYS"), "{err}");
        assert!(
            settings(
                &serve(&["--listen", "0.0.0.0:8080", "--api-keys", "k1,k2"]),
                "us-east-1"
            )
            .is_ok()
        );
        assert!(settings(&serve(&["--listen", "[::1]:8080"]), "us-east-1").is_ok());
    }

    #[test]
    fn flags_take_old_style_booleans() {
        let s = serve(&[
            "--get-acts",
            "--enable-post-actions",
            "true",
            "--enable-output-parameters=false",
        ]);
        assert!(
            s.get_acts && s.features.enable_post_actions && !s.features.enable_output_parameters
        );
        let st = settings(&s, "eu-west-1").expect("ok");
        assert_eq!(st.base_url.as_deref(), Some("http://127.0.0.1:8080"));
    }

    #[test]
    fn debug_output_hides_keyrings_and_api_keys() {
        let s = serve(&[
            "--api-keys",
            "topsecretkey",
            "--keyring",
            "{\"keys\":\"hidden\"}",
        ]);
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("topsecretkey") && !shown.contains("hidden"),
            "{shown}"
        );
        assert!(shown.contains("<redacted>"));
    }

    #[test]
    fn write_private_makes_owner_only_files_and_replaces_atomically() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ring.json");
        write_private(&path, "one").expect("write");
        write_private(&path, "two").expect("rewrite");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let leftovers = std::fs::read_dir(dir.path()).expect("dir").count();
        assert_eq!(leftovers, 1, "no temporary files are left behind");
    }

    #[test]
    fn api_keys_match_only_exactly() {
        let st = settings(&serve(&["--api-keys", "alpha,beta"]), "r").expect("ok");
        assert!(st.api_key_matches("alpha") && st.api_key_matches("beta"));
        assert!(!st.api_key_matches("alph") && !st.api_key_matches(""));
    }
}
