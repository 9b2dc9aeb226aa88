//! The application layer: the use cases, free of HTTP, Lambda and AWS
//! types.
//!
//! [`App::create`] makes the links of a CreateUrls request (parse, seal,
//! notify); [`App::answer`] answers one (open, verify, decide, call the
//! engine). Every front door (the HTTP router, the Lambda handler's direct
//! invokes, the activity worker) translates its input, calls these, and
//! renders the typed outcome or [`AppError`]. The outside world comes in
//! through the traits of [`crate::ports`], held in [`App`].

pub mod activity;
pub mod answer;
pub mod create;
pub mod error;
pub mod measure;
pub mod ports;
pub mod sign_in;
pub mod slack;

use std::sync::Arc;
use std::time::Duration;

pub use answer::{
    Input, Link, Needs, Outcome, PROBE_WAIT, Probed, Standing, Trace, Via, call_engine,
};
pub use error::{AppError, RETRY_AFTER_SECS, Refused, Unavailable};
pub use sign_in::{Credential, SignInStart, SignedIn, sign_in_required};

use crate::ports::{Clock, Engine, Entropy, IdentityProvider, Keys, Notifier, SlackApi};
use sfn_callbacks_core::Features;
use sfn_callbacks_core::notify::NotifyPolicy;

/// What the use cases need to know about the deployment.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Public base URL of callback links; when unset, the front door's
    /// (derived from `Host`, or from the Lambda event).
    pub base_url: Option<String>,
    /// Region for `base_url: {api_id, stage}` without a region.
    pub default_region: String,
    /// The optional CreateUrls features this deployment enables.
    pub features: Features,
    /// `GET_ACTS`: act on GET, as sfn-callback-urls did.
    pub get_acts: bool,
    /// `GET_PROBE`: before a GET shows a success or failure link's page,
    /// ask Step Functions (by a heartbeat) whether the task is still open.
    pub get_probe: bool,
    /// Who CreateUrls may notify.
    pub notify: NotifyPolicy,
    /// How long a sign-in session lasts (`SESSION_TTL`).
    pub session_ttl: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            base_url: None,
            default_region: "us-east-1".to_owned(),
            features: Features::default(),
            get_acts: false,
            get_probe: true,
            notify: NotifyPolicy::default(),
            session_ttl: Duration::from_secs(8 * 3600),
        }
    }
}

/// The outside world as the use cases need it, handed to [`App::new`].
#[derive(Clone)]
pub struct Ports {
    /// Sealing and opening.
    pub keys: Arc<dyn Keys>,
    /// The workflow engine the links answer.
    pub engine: Arc<dyn Engine>,
    /// Email, SNS, Slack and Teams, for CreateUrls' `notify`.
    pub notifier: Arc<dyn Notifier>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Nonces and transaction ids.
    pub entropy: Arc<dyn Entropy>,
    /// The OpenID Provider approvers sign in with, when configured.
    pub identity: Option<Arc<dyn IdentityProvider>>,
    /// Slack, for presses of the buttons of a Slack message, when
    /// configured.
    pub slack: Option<Arc<dyn SlackApi>>,
}

impl std::fmt::Debug for Ports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ports")
            .field("key_mode", &self.keys.mode_name())
            .field("identity", &self.identity.is_some())
            .field("slack", &self.slack.is_some())
            .finish_non_exhaustive()
    }
}

/// The settings and the ports every use case shares. Cloning is cheap.
/// The ports are its own: a front door hands a use case its input and
/// renders the outcome, and never calls a port itself.
#[derive(Clone)]
pub struct App {
    settings: Arc<Settings>,
    ports: Ports,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("settings", &self.settings)
            .field("key_mode", &self.ports.keys.mode_name())
            .finish_non_exhaustive()
    }
}

impl App {
    /// The application of a deployment: its settings and its ports.
    pub fn new(settings: Settings, ports: Ports) -> Self {
        Self {
            settings: Arc::new(settings),
            ports,
        }
    }

    /// The deployment's settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The key mode's name, for logs.
    pub fn key_mode(&self) -> &'static str {
        self.ports.keys.mode_name()
    }

    /// Now, by the application's clock: what a front door checks a
    /// request's own time against (a Slack signature's timestamp).
    pub fn now(&self) -> time::OffsetDateTime {
        self.ports.clock.now()
    }

    /// Whether presses in Slack can be answered here (a Slack client is
    /// configured).
    pub fn takes_slack(&self) -> bool {
        self.ports.slack.is_some()
    }

    fn random<const N: usize>(&self) -> [u8; N] {
        let mut out = [0u8; N];
        self.ports.entropy.fill(&mut out);
        out
    }
}
