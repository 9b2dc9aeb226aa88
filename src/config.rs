//! Configuration: flags and environment, read in this one place.
//!
//! Every option of `serve` has an environment variable of the same meaning
//! (the table in the README lists them). The old service's names
//! (`ENABLE_OUTPUT_PARAMETERS`, `ENABLE_POST_ACTIONS`, `KEY_ID`) still work.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};
use axum::http::HeaderName;
use clap::{Args, Parser, Subcommand};

use crate::app;
use crate::aws::CallBudget;
use crate::chat::slack::{BotToken, SlackSettings};
use crate::core::Features;
use crate::core::notify::NotifyPolicy;
use crate::http::HttpSettings;
use crate::http::limits::RespondLimit;
use crate::http::server::ConnLimits;
use crate::http::slack::SigningSecret;
use crate::keys::KeyMode;
use crate::lambda::DirectErrors;
use crate::oidc::{ClientSecretText, OidcSettings};

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
    pub direct_errors: DirectErrorsFlag,
}

/// `--key-mode`'s values: the flag's own, mapped to the key sources'
/// [`KeyMode`], so that no adapter needs to know clap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KeyModeFlag {
    /// Keyring file, payloads encrypted.
    Local,
    /// KMS-encrypted keyring, payloads encrypted.
    Kms,
    /// A KMS data key in every payload.
    KmsEnvelope,
    /// Keyring file, payloads signed but readable.
    Signed,
}

impl From<KeyModeFlag> for KeyMode {
    fn from(flag: KeyModeFlag) -> Self {
        match flag {
            KeyModeFlag::Local => Self::Local,
            KeyModeFlag::Kms => Self::Kms,
            KeyModeFlag::KmsEnvelope => Self::KmsEnvelope,
            KeyModeFlag::Signed => Self::Signed,
        }
    }
}

/// `--direct-errors`' values, mapped to the Lambda front door's
/// [`DirectErrors`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DirectErrorsFlag {
    /// As a function error (`errorType` is the error name): a state machine
    /// Task fails and can catch it by name; `InvokeFunction` callers see
    /// `FunctionError`.
    Function,
    /// As a successful result `{error, message}`, as sfn-callback-urls did.
    Result,
}

impl From<DirectErrorsFlag> for DirectErrors {
    fn from(flag: DirectErrorsFlag) -> Self {
        match flag {
            DirectErrorsFlag::Function => Self::Function,
            DirectErrorsFlag::Result => Self::Result,
        }
    }
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
    Serve(Box<ServeArgs>),
    /// Make a keyring, or add or retire a key in one.
    Keygen(KeygenArgs),
    /// Make callback URLs from a CreateUrls request, without a server.
    Create(CreateArgs),
    /// Open a callback URL and print what it holds.
    Inspect(InspectArgs),
    /// Poll a Step Functions activity: make each task's links and send its
    /// notification.
    ActivityWorker(WorkerArgs),
    /// For the benchmarks only: the engine calls of `serve` with no HTTP
    /// server in front (the limit a callback's cost is measured against),
    /// against a stub Step Functions on loopback.
    #[command(hide = true)]
    EngineLimit(Box<EngineLimitArgs>),
}

/// `engine-limit` options: `serve`'s, so the Step Functions client is built
/// exactly as `serve` builds it, and the load's shape.
#[derive(Debug, Clone, Args)]
pub struct EngineLimitArgs {
    /// `serve`'s settings (the SDK budget, keys, endpoint).
    #[command(flatten)]
    pub serve: ServeArgs,
    /// Calls in flight at once (as wrk's connections).
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Seconds of measured load, after a second of warm-up.
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    /// The length of the made-up task token (as the benchmark's links').
    #[arg(long, default_value_t = 712)]
    pub token_chars: usize,
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

/// A listening address: an IP address and port (`127.0.0.1:8080`,
/// `[::1]:8080`, `0.0.0.0:8080`), or `localhost:PORT` for the IPv4
/// loopback. Other host names are refused rather than looked up: which of
/// their addresses would be meant is not the service's to guess.
fn parse_listen(raw: &str) -> Result<SocketAddr, String> {
    let raw = raw.trim();
    if let Ok(addr) = raw.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if let Some((host, port)) = raw.rsplit_once(':')
        && host.eq_ignore_ascii_case("localhost")
    {
        let port: u16 = port
            .parse()
            .map_err(|_| format!("{port:?} is not a port number (0 to 65535)"))?;
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    Err(format!(
        "{raw:?} is not an address to listen on: give an IP address and port \
         (127.0.0.1:8080, [::1]:8080, 0.0.0.0:8080) or localhost:PORT"
    ))
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
    pub key_mode: KeyModeFlag,
    /// Keyring file (plain for local and signed, KMS-encrypted for kms)
    /// [default: sfn-callbacks-keyring.json in the working directory, which
    /// serve creates, mode 0600, when it is missing].
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
    /// The checked key settings: the KMS modes need the KMS key, so KMS is
    /// always called with the key pinned.
    pub fn settings(&self) -> anyhow::Result<KeySettings> {
        let kms_key_id = self
            .kms_key_id
            .clone()
            .or_else(|| std::env::var("KEY_ID").ok())
            .filter(|k| !k.is_empty());
        let key_mode = KeyMode::from(self.key_mode);
        if key_mode.needs_kms() && kms_key_id.is_none() {
            bail!(
                "key mode {} needs KMS_KEY_ID (or --kms-key-id): the KMS key the keyring or data keys are under",
                key_mode.as_str()
            );
        }
        let keyring = match (&self.keyring, &self.keyring_file) {
            (Some(text), _) => KeyringSource::Text(text.clone()),
            (None, Some(path)) => KeyringSource::File(path.clone()),
            (None, None) => KeyringSource::DefaultFile,
        };
        Ok(KeySettings {
            mode: key_mode,
            keyring,
            kms_key_id,
        })
    }
}

/// Where the keyring comes from.
#[derive(Debug, Clone)]
pub enum KeyringSource {
    /// `KEYRING`: the keyring itself.
    Text(Redacted),
    /// `KEYRING_FILE`.
    File(PathBuf),
    /// Neither: [`DEFAULT_KEYRING_FILE`] in the working directory, which
    /// `serve` makes when it is missing.
    DefaultFile,
}

/// The key settings, checked.
#[derive(Debug, Clone)]
pub struct KeySettings {
    /// The key mode.
    pub mode: KeyMode,
    /// The keyring (unused in `kms-envelope`).
    pub keyring: KeyringSource,
    /// The KMS key; always set in the KMS modes.
    pub kms_key_id: Option<String>,
}

/// `serve` options.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "LISTEN_ADDR", default_value = "127.0.0.1:8080", value_parser = parse_listen)]
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
    /// Before a GET shows a success or failure link's page, ask Step
    /// Functions (or Lambda, for a durable callback) by a heartbeat whether
    /// the task is still open.
    #[arg(long, env = "GET_PROBE", num_args = 0..=1, default_value = "true", default_missing_value = "true", value_parser = parse_bool)]
    pub get_probe: bool,
    /// Comma-separated API keys for CreateUrls (required unless the service is private: listening on loopback, with a loopback BASE_URL and no CLIENT_IP_HEADER).
    #[arg(long, env = "API_KEYS", hide_env_values = true, value_delimiter = ',')]
    pub api_keys: Vec<Redacted>,
    /// Serve `POST /urls` without API keys on a public deployment, because
    /// something in front (a proxy, a firewall) protects it.
    #[arg(long, env = "CREATE_URLS_OPEN", num_args = 0..=1, default_value = "false", default_missing_value = "true", value_parser = parse_bool)]
    pub create_urls_open: bool,
    /// Deadline for one Step Functions or Lambda callback call, retries included, in milliseconds.
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
    /// Sign-in.
    #[command(flatten)]
    pub oidc: OidcArgs,
    /// Keys.
    #[command(flatten)]
    pub keys: KeyArgs,
    /// Metrics.
    #[command(flatten)]
    pub metrics: MetricsArgs,
}

/// Where the metrics go (`serve` and `activity-worker`; Lambda takes the
/// deployment only).
#[derive(Debug, Clone, Args)]
pub struct MetricsArgs {
    /// Serve Prometheus metrics on `GET /metrics` at this address, apart
    /// from the public port (`serve` and `activity-worker`; Lambda writes
    /// CloudWatch Embedded Metric Format instead). Unset: no metrics
    /// listener.
    #[arg(long, env = "METRICS_ADDR", value_parser = parse_listen)]
    pub metrics_addr: Option<SocketAddr>,
    /// A name for this deployment, on every metric as its `deployment`
    /// label (letters, digits, `-`, `_`, `.`; at most 128).
    #[arg(long, env = "METRICS_DEPLOYMENT", value_parser = parse_deployment)]
    pub metrics_deployment: Option<String>,
}

/// A `METRICS_DEPLOYMENT`: a short name, safe as a label and a dimension.
fn parse_deployment(raw: &str) -> Result<String, String> {
    let fits = !raw.is_empty()
        && raw.len() <= 128
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if fits {
        Ok(raw.to_owned())
    } else {
        Err("a deployment name is 1 to 128 letters, digits, '-', '_' or '.'".to_owned())
    }
}

/// The OpenID Connect client that approvers sign in through (the issuer is
/// among the [`FeatureArgs`]).
#[derive(Debug, Clone, Args)]
pub struct OidcArgs {
    /// The client id registered with the provider.
    #[arg(long, env = "OIDC_CLIENT_ID")]
    pub oidc_client_id: Option<String>,
    /// The client secret.
    #[arg(long, env = "OIDC_CLIENT_SECRET", hide_env_values = true)]
    pub oidc_client_secret: Option<Redacted>,
    /// The scopes to ask for, space-separated.
    #[arg(long, env = "OIDC_SCOPES", default_value = "openid email profile")]
    pub oidc_scopes: String,
    /// The ID token claim that lists the person's groups.
    #[arg(long, env = "OIDC_GROUPS_CLAIM", default_value = "groups")]
    pub oidc_groups_claim: String,
    /// How long a sign-in lasts: seconds, or with s, m or h (at most 24h).
    #[arg(long, env = "SESSION_TTL", default_value = "8h", value_parser = parse_session_ttl)]
    pub session_ttl: Duration,
}

/// `8h`, `90m`, `3600s` or `3600`, from a minute to 24 hours.
fn parse_session_ttl(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim().to_ascii_lowercase();
    let (number, unit) = match raw.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => raw.split_at(at),
        None => (raw.as_str(), "s"),
    };
    let scale = match unit.trim() {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => return Err(format!("{raw:?} is not a duration like 8h, 90m or 3600s")),
    };
    let secs = number
        .parse::<u64>()
        .map_err(|_| format!("{raw:?} is not a duration like 8h, 90m or 3600s"))?
        .saturating_mul(scale);
    let max = u64::try_from(crate::core::session::MAX_SESSION_SECS).unwrap_or(u64::MAX);
    if !(60..=max).contains(&secs) {
        return Err(format!("{raw:?} is outside 1 minute to 24 hours"));
    }
    Ok(Duration::from_secs(secs))
}

/// Whether an issuer may be used: `https`, or `http` on a loopback host
/// (tests and local runs).
fn issuer_is_acceptable(issuer: &url::Url) -> bool {
    match issuer.scheme() {
        "https" => issuer.host().is_some(),
        "http" => is_loopback_url(issuer),
        _ => false,
    }
}

impl ServeArgs {
    /// The checked OpenID Connect settings, when an issuer is set.
    pub fn oidc_settings(&self) -> anyhow::Result<Option<OidcSettings>> {
        let Some(issuer) = self
            .features
            .oidc_issuer
            .as_deref()
            .map(str::trim)
            .filter(|i| !i.is_empty())
        else {
            return Ok(None);
        };
        let parsed = url::Url::parse(issuer)
            .ok()
            .filter(|u| u.query().is_none() && u.fragment().is_none());
        if !parsed.as_ref().is_some_and(issuer_is_acceptable) {
            bail!("OIDC_ISSUER must be an https URL (http only on a loopback host)");
        }
        let args = &self.oidc;
        let client_id = args.oidc_client_id.clone().filter(|c| !c.trim().is_empty());
        let client_secret = args
            .oidc_client_secret
            .as_ref()
            .filter(|c| !c.expose().is_empty());
        let (client_id, client_secret) = match (client_id, client_secret) {
            (Some(id), Some(secret)) => (id, secret),
            // The issuer alone: links bound to approvers may be made here
            // (a CreateUrls-only function), but nobody signs in here.
            (None, None) => return Ok(None),
            (None, Some(_)) => bail!("OIDC_CLIENT_SECRET is set, so OIDC_CLIENT_ID is needed too"),
            (Some(_), None) => bail!("OIDC_CLIENT_ID is set, so OIDC_CLIENT_SECRET is needed too"),
        };
        let scopes: Vec<String> = args
            .oidc_scopes
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        if !scopes.iter().any(|s| s == "openid") {
            bail!("OIDC_SCOPES must include openid");
        }
        if args.oidc_groups_claim.trim().is_empty() {
            bail!("OIDC_GROUPS_CLAIM may not be empty");
        }
        Ok(Some(OidcSettings {
            // As given: `iss` must equal it exactly, trailing slash and all.
            issuer: issuer.to_owned(),
            client_id: client_id.trim().to_owned(),
            client_secret: ClientSecretText::new(client_secret.expose().to_owned()),
            scopes,
            groups_claim: args.oidc_groups_claim.trim().to_owned(),
        }))
    }
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
    /// The OpenID Provider approvers sign in with; links may then be bound
    /// to approvers.
    #[arg(long, env = "OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,
    /// The Slack app.
    #[command(flatten)]
    pub slack: SlackArgs,
}

/// The Slack app a deployment posts as and takes presses from.
#[derive(Debug, Clone, Args)]
pub struct SlackArgs {
    /// The app's bot token (`xoxb-…`): posts messages, opens modals,
    /// reads the email of who pressed.
    #[arg(long, env = "SLACK_BOT_TOKEN", hide_env_values = true)]
    pub slack_bot_token: Option<Redacted>,
    /// The app's signing secret: proves a press came from Slack.
    #[arg(long, env = "SLACK_SIGNING_SECRET", hide_env_values = true)]
    pub slack_signing_secret: Option<Redacted>,
    /// Slack's Web API base URL.
    #[arg(long, env = "SLACK_API_URL", default_value = "https://slack.com/api/")]
    pub slack_api_url: String,
}

impl SlackArgs {
    /// The settings, when a bot token is set.
    pub fn settings(&self) -> anyhow::Result<Option<SlackSettings>> {
        let Some(bot_token) = self
            .slack_bot_token
            .clone()
            .filter(|t| !t.expose().trim().is_empty())
        else {
            if self.slack_signing_secret.is_some() {
                bail!("SLACK_SIGNING_SECRET is set, so SLACK_BOT_TOKEN is needed too");
            }
            return Ok(None);
        };
        let mut api_url = url::Url::parse(self.slack_api_url.trim())
            .ok()
            .filter(|u| u.query().is_none() && u.fragment().is_none())
            .filter(issuer_is_acceptable)
            .context("SLACK_API_URL must be an https URL (http only on a loopback host)")?;
        if !api_url.path().ends_with('/') {
            let path = format!("{}/", api_url.path());
            api_url.set_path(&path);
        }
        Ok(Some(SlackSettings {
            bot_token: BotToken::new(bot_token.expose().trim().to_owned()),
            api_url,
        }))
    }

    /// The signing secret presses are checked with, when a bot token is
    /// set too.
    pub fn signing_secret(&self) -> Option<SigningSecret> {
        self.slack_bot_token.as_ref()?;
        self.slack_signing_secret
            .as_ref()
            .filter(|s| !s.expose().is_empty())
            .map(|s| SigningSecret::new(s.expose()))
    }
}

impl FeatureArgs {
    /// As the core's feature set.
    pub fn features(&self) -> Features {
        Features {
            output_parameters: self.enable_output_parameters,
            post_actions: self.enable_post_actions,
            sign_in: self.oidc_issuer.as_deref().is_some_and(|i| !i.is_empty()),
            slack: self
                .slack
                .slack_bot_token
                .as_ref()
                .is_some_and(|t| !t.expose().trim().is_empty()),
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
    /// Slack channel IDs CreateUrls may post to (`*`: any; needs
    /// SLACK_BOT_TOKEN).
    #[arg(long, env = "NOTIFY_SLACK_CHANNELS", value_delimiter = ',')]
    pub notify_slack_channels: Vec<String>,
    /// Teams Workflows webhook URL prefixes CreateUrls may post to
    /// (`https://host/path`; the host may start with `*.`).
    #[arg(long, env = "NOTIFY_TEAMS_WEBHOOKS", value_delimiter = ',')]
    pub notify_teams_webhooks: Vec<String>,
}

impl NotifyArgs {
    /// The allow-lists, without blanks; Slack's only with a bot token.
    pub fn policy(&self, slack: bool) -> NotifyPolicy {
        NotifyPolicy {
            email_from: cleaned(&self.notify_email_from),
            email_to_domains: cleaned(&self.notify_email_to_domains),
            sns_topics: cleaned(&self.notify_sns_topics),
            slack_channels: if slack {
                cleaned(&self.notify_slack_channels)
            } else {
                Vec::new()
            },
            teams_webhooks: cleaned(&self.notify_teams_webhooks),
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
    /// Metrics.
    #[command(flatten)]
    pub metrics: MetricsArgs,
}

impl WorkerArgs {
    /// The use cases' settings for the links the worker makes.
    pub fn settings(&self, region: &str) -> anyhow::Result<app::Settings> {
        let base_url = crate::core::create::normalise_base_url(&self.base_url)
            .context("BASE_URL must be an absolute http or https URL")?;
        Ok(app::Settings {
            base_url: Some(base_url),
            default_region: region.to_owned(),
            features: self.features.features(),
            notify: self.notify.policy(self.features.features().slack),
            ..app::Settings::default()
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

/// The SDK budget `serve` uses for Step Functions.
pub fn call_budget(args: &ServeArgs) -> CallBudget {
    let deadline = Duration::from_millis(args.sfn_deadline_ms.max(100));
    CallBudget {
        deadline,
        attempt_timeout: deadline.min(CallBudget::default().attempt_timeout),
        ..CallBudget::default()
    }
}

/// Everything `serve` and the Lambda handler run with, checked.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where `serve` listens.
    pub listen: SocketAddr,
    /// What the use cases need.
    pub app: app::Settings,
    /// What the HTTP router needs.
    pub http: HttpSettings,
    /// The connection limits of `serve`.
    pub conn: ConnLimits,
    /// The AWS SDK's budget for one call.
    pub budget: CallBudget,
    /// Where the keys come from.
    pub keys: KeySettings,
    /// The OpenID Provider, when sign-in is configured.
    pub oidc: Option<OidcSettings>,
    /// Slack's Web API, when a bot token is configured.
    pub slack: Option<SlackSettings>,
}

/// Checks the `serve` options, refusing to expose an open CreateUrls.
pub fn settings(args: &ServeArgs, region: &str) -> anyhow::Result<Settings> {
    refuse_open_create_urls(args)?;
    checked(args, region)
}

fn api_keys(args: &ServeArgs) -> Vec<&str> {
    args.api_keys
        .iter()
        .map(|k| k.expose().trim())
        .filter(|k| !k.is_empty())
        .collect()
}

/// `RUST_LOG`, as the operator asked (`None` when unset).
pub fn log_filter() -> Option<String> {
    std::env::var("RUST_LOG").ok()
}

/// Whether the Step Functions endpoint the AWS SDK will call
/// (`AWS_ENDPOINT_URL_SFN`, else `AWS_ENDPOINT_URL`) is on loopback: the
/// only place `engine-limit` may send its load.
pub fn sfn_endpoint_is_loopback() -> bool {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_SFN")
        .or_else(|_| std::env::var("AWS_ENDPOINT_URL"))
        .unwrap_or_default();
    url::Url::parse(&endpoint).is_ok_and(|url| is_loopback_url(&url))
}

/// Whether a URL's host is this machine's loopback (`localhost`,
/// `127.0.0.0/8`, `::1`).
fn is_loopback_url(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// `serve` with `POST /urls` and no API keys must be private: listening on
/// loopback, and with nothing in its settings saying that the public
/// reaches it through a proxy on the same host (a non-loopback
/// `BASE_URL`, a client-IP header). `CREATE_URLS_OPEN=true` says that
/// something in front protects `/urls`; without `/urls` there is nothing
/// to protect. (Lambda is not checked here: IAM protects CreateUrls.)
fn refuse_open_create_urls(args: &ServeArgs) -> anyhow::Result<()> {
    if !api_keys(args).is_empty() || !args.create_urls_over_http || args.create_urls_open {
        return Ok(());
    }
    const CHOICE: &str = "Set API_KEYS (comma-separated), or CREATE_URLS_OPEN=true if something in front of this service protects POST /urls";
    if !args.listen.ip().is_loopback() {
        bail!(
            "refusing to listen on {} without API keys: CreateUrls would be open to anyone who can reach it. \
             {CHOICE}, or listen on a loopback address",
            args.listen
        );
    }
    if let Some(base) = args
        .base_url
        .as_deref()
        .and_then(|b| url::Url::parse(b).ok())
        && !is_loopback_url(&base)
    {
        bail!(
            "refusing to serve CreateUrls without API keys: BASE_URL ({}) says the service is public, \
             and a proxy on this host would forward POST /urls to anyone. {CHOICE}",
            base.host_str().unwrap_or_default()
        );
    }
    if let Some(header) = &args.client_ip_header {
        bail!(
            "refusing to serve CreateUrls without API keys: CLIENT_IP_HEADER ({header}) says a proxy forwards \
             clients to this service, and it would forward POST /urls to anyone. {CHOICE}"
        );
    }
    Ok(())
}

/// Checks the options both runtimes share.
fn checked(args: &ServeArgs, region: &str) -> anyhow::Result<Settings> {
    let api_keys = api_keys(args);
    if let Some(metrics) = args.metrics.metrics_addr
        && metrics.port() == args.listen.port()
        && metrics.port() != 0
    {
        bail!(
            "METRICS_ADDR {metrics} is the public port ({}): metrics are served on a port of their own",
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
    let budget = call_budget(args);
    if request_timeout < budget.deadline + Duration::from_secs(1) {
        bail!(
            "REQUEST_TIMEOUT_MS ({} ms) must be at least a second longer than SFN_DEADLINE_MS ({} ms)",
            request_timeout.as_millis(),
            budget.deadline.as_millis()
        );
    }
    Ok(Settings {
        listen: args.listen,
        app: app::Settings {
            base_url: Some(
                args.base_url
                    .clone()
                    .unwrap_or_else(|| format!("http://{}", args.listen)),
            ),
            default_region: region.to_owned(),
            features: args.features.features(),
            get_acts: args.get_acts,
            get_probe: args.get_probe,
            notify: args.notify.policy(args.features.features().slack),
            session_ttl: args.oidc.session_ttl,
        },
        http: HttpSettings {
            api_key_digests: api_keys
                .iter()
                .map(|k| HttpSettings::api_key_digest(k))
                .collect(),
            max_body_bytes: args.max_body_bytes,
            create_urls_over_http: args.create_urls_over_http,
            request_timeout,
            max_uri_bytes: args.max_uri_bytes,
            max_header_bytes: args.max_header_bytes,
            respond_limit: NonZeroU32::new(args.respond_rate_limit).map(RespondLimit::per_minute),
            client_ip_header: args.client_ip_header.clone(),
            slack_signing_secret: args.features.slack.signing_secret(),
        },
        conn: ConnLimits {
            header_read_timeout: Duration::from_millis(args.header_read_timeout_ms.max(1)),
            // Room for the router's own header limit to answer first.
            max_head_bytes: (args.max_header_bytes + args.max_uri_bytes).saturating_mul(2),
            ..ConnLimits::default()
        },
        budget,
        keys: args.keys.settings()?,
        oidc: args.oidc_settings()?,
        slack: args.features.slack.settings()?,
    })
}

/// A list setting without blanks or surrounding spaces.
fn cleaned(list: &[String]) -> Vec<String> {
    list.iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The settings inside Lambda: CreateUrls is protected by IAM (API keys
/// still apply when given), and without `BASE_URL` the links' base is
/// derived from each event's domain and stage.
pub fn lambda_settings(args: &ServeArgs, region: &str) -> anyhow::Result<Settings> {
    let mut settings = checked(
        &ServeArgs {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            ..args.clone()
        },
        region,
    )?;
    settings.app.base_url.clone_from(&args.base_url);
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve(args: &[&str]) -> ServeArgs {
        let mut full = vec!["sfn-callbacks", "serve"];
        full.extend_from_slice(args);
        match Cli::try_parse_from(full).expect("parses").command {
            Some(Command::Serve(s)) => *s,
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
    fn refuses_an_open_create_urls_behind_a_same_host_proxy() {
        let public_base = serve(&["--base-url", "https://approvals.example.com"]);
        let err = settings(&public_base, "r").expect_err("refused");
        let text = err.to_string();
        assert!(text.contains("BASE_URL (approvals.example.com)"), "{text}");
        assert!(
            text.contains("API_KEYS") && text.contains("CREATE_URLS_OPEN=true"),
            "{text}"
        );
        let proxied = serve(&["--client-ip-header", "x-forwarded-for"]);
        let err = settings(&proxied, "r").expect_err("refused");
        assert!(
            err.to_string()
                .contains("CLIENT_IP_HEADER (x-forwarded-for)"),
            "{err}"
        );
        // Each way out: keys, saying that /urls is protected in front, or
        // not serving /urls at all.
        for way_out in [
            &["--api-keys", "k1"][..],
            &["--create-urls-open"][..],
            &["--create-urls-over-http", "false"][..],
        ] {
            for public in [
                &["--base-url", "https://approvals.example.com"][..],
                &["--client-ip-header", "x-forwarded-for"][..],
                &["--listen", "0.0.0.0:8080"][..],
            ] {
                let args = serve(&[public, way_out].concat());
                assert!(settings(&args, "r").is_ok(), "{public:?} {way_out:?}");
            }
        }
        // Private settings need nothing.
        for base in [
            "http://localhost:8080",
            "http://127.0.0.1:9000",
            "http://[::1]:8080",
        ] {
            assert!(
                settings(&serve(&["--base-url", base]), "r").is_ok(),
                "{base}"
            );
        }
        // Lambda is IAM's: not refused.
        assert!(lambda_settings(&public_base, "r").is_ok());
        assert!(lambda_settings(&proxied, "r").is_ok());
    }

    #[test]
    fn serve_help_names_the_default_keyring_file() {
        use clap::CommandFactory as _;
        let mut cli = Cli::command();
        let serve = cli.find_subcommand_mut("serve").expect("serve");
        let help = serve.render_help().to_string();
        let at = help.find("--keyring-file").expect("the flag is listed");
        assert!(
            help[at..].contains(&format!("default: {DEFAULT_KEYRING_FILE}")),
            "{help}"
        );
    }

    #[test]
    fn listens_on_localhost_and_names_what_it_takes() {
        let s = serve(&["--listen", "localhost:8090"]);
        assert_eq!(s.listen, SocketAddr::from(([127, 0, 0, 1], 8090)));
        assert_eq!(
            serve(&["--listen", "LOCALHOST:1"]).listen,
            SocketAddr::from(([127, 0, 0, 1], 1))
        );
        assert_eq!(
            serve(&["--listen", "[::1]:80"]).listen.to_string(),
            "[::1]:80"
        );
        for bad in ["example.com:80", "localhost", "localhost:99999"] {
            let err = Cli::try_parse_from(["sfn-callbacks", "serve", "--listen", bad])
                .expect_err(bad)
                .to_string();
            assert!(err.contains("--listen"), "{err}");
            assert!(
                err.contains("localhost:PORT") || err.contains("not a port number"),
                "{err}"
            );
        }
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
        assert_eq!(st.app.base_url.as_deref(), Some("http://127.0.0.1:8080"));
    }

    #[test]
    fn the_probe_is_on_unless_turned_off() {
        let on = settings(&serve(&[]), "r").expect("ok");
        assert!(on.app.get_probe);
        let off = settings(&serve(&["--get-probe", "false"]), "r").expect("ok");
        assert!(!off.app.get_probe);
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
    fn api_keys_match_only_exactly() {
        let st = settings(&serve(&["--api-keys", "alpha,beta"]), "r").expect("ok");
        assert!(st.http.api_key_matches("alpha") && st.http.api_key_matches("beta"));
        assert!(!st.http.api_key_matches("alph") && !st.http.api_key_matches(""));
    }

    #[test]
    fn sign_in_settings_are_checked() {
        let base = ["--oidc-client-id", "c", "--oidc-client-secret", "s"];
        let with = |extra: &[&str]| {
            let mut all: Vec<&str> = base.to_vec();
            all.extend_from_slice(extra);
            settings(&serve(&all), "r")
        };
        let ok = with(&["--oidc-issuer", "https://idp.example.com/"]).expect("https");
        let oidc = ok.oidc.expect("oidc");
        assert_eq!(oidc.issuer, "https://idp.example.com/", "kept as given");
        assert_eq!(oidc.scopes, ["openid", "email", "profile"]);
        assert_eq!(oidc.groups_claim, "groups");
        assert!(ok.app.features.sign_in);
        assert_eq!(ok.app.session_ttl, Duration::from_secs(8 * 3600));
        assert!(
            !format!("{oidc:?}").contains("\"s\""),
            "the secret is redacted"
        );
        for issuer in [
            "http://127.0.0.1:9000",
            "http://localhost:9000",
            "http://[::1]:1",
        ] {
            assert!(with(&["--oidc-issuer", issuer]).is_ok(), "{issuer}");
        }
        for issuer in [
            "http://idp.example.com",
            "ftp://x",
            "not a url",
            "https://x/?q=1",
        ] {
            let err = with(&["--oidc-issuer", issuer]).expect_err(issuer);
            assert!(err.to_string().contains("OIDC_ISSUER"), "{issuer}: {err}");
        }
        let err =
            with(&["--oidc-issuer", "https://i", "--oidc-scopes", "email"]).expect_err("scopes");
        assert!(err.to_string().contains("openid"), "{err}");
        let only_id = settings(
            &serve(&["--oidc-issuer", "https://i", "--oidc-client-id", "c"]),
            "r",
        )
        .expect_err("no secret");
        assert!(
            only_id.to_string().contains("OIDC_CLIENT_SECRET"),
            "{only_id}"
        );
        // The issuer alone: bound links can be made, nobody signs in here.
        let create_only = settings(&serve(&["--oidc-issuer", "https://i"]), "r").expect("ok");
        assert!(create_only.app.features.sign_in && create_only.oidc.is_none());
        let off = settings(&serve(&[]), "r").expect("ok");
        assert!(!off.app.features.sign_in && off.oidc.is_none());
        for (ttl, secs) in [("90m", 5400), ("3600", 3600), ("24h", 86_400), ("60s", 60)] {
            let s = settings(&serve(&["--session-ttl", ttl]), "r").expect(ttl);
            assert_eq!(s.app.session_ttl, Duration::from_secs(secs), "{ttl}");
        }
        for ttl in ["25h", "59s", "8d", "h", ""] {
            let mut full = vec!["sfn-callbacks", "serve", "--session-ttl", ttl];
            full.retain(|a| !a.is_empty() || ttl.is_empty());
            assert!(Cli::try_parse_from(full).is_err(), "{ttl:?} is refused");
        }
    }

    #[test]
    fn kms_modes_need_the_kms_key() {
        for mode in ["kms", "kms-envelope"] {
            let err = settings(&serve(&["--key-mode", mode]), "r").expect_err("refused");
            assert!(err.to_string().contains("KMS_KEY_ID"), "{mode}: {err}");
            let ok = settings(
                &serve(&["--key-mode", mode, "--kms-key-id", "alias/k"]),
                "r",
            )
            .expect("accepted");
            assert_eq!(ok.keys.kms_key_id.as_deref(), Some("alias/k"));
        }
        assert!(settings(&serve(&["--key-mode", "local"]), "r").is_ok());
    }
}
