//! Fakes behind the ports and a helper that drives the router.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt as _;
use serde_json::Value;
use sfn_callbacks::app::{self, Settings};
use sfn_callbacks::core::callback::EngineCall;
use sfn_callbacks::core::keyring::{Keyring, SecretKey};
use sfn_callbacks::core::notify::SlackPosted;
use sfn_callbacks::core::token::Token;
use sfn_callbacks::http::{HttpSettings, router};
use sfn_callbacks::keys::{KeyMode, KeySource};
use sfn_callbacks::lambda::{DirectErrors, Handler};
use sfn_callbacks::ports::{
    Clock, Engine, EngineError, IdentityProvider, Notifier, NotifyError, SlackApi,
};
use sfn_callbacks::presentation::notify::{Notification, Sent};
use sfn_callbacks::system::SystemRandom;
use time::OffsetDateTime;
use tower::ServiceExt as _;

/// A workflow engine stand-in (Step Functions and Lambda's durable
/// callbacks alike: each call keeps its token, which names the engine)
/// that records calls and answers from a script (errors first in, first
/// out).
#[derive(Default)]
pub struct FakeSfn {
    pub calls: Mutex<Vec<EngineCall>>,
    pub next_errors: Mutex<VecDeque<EngineError>>,
    /// How long each heartbeat takes to answer (the probe's wait).
    pub heartbeat_delay: Mutex<Option<std::time::Duration>>,
}

impl FakeSfn {
    pub fn calls(&self) -> Vec<EngineCall> {
        self.calls.lock().expect("lock").clone()
    }

    /// The calls that answered a task (SendTaskSuccess, SendTaskFailure).
    pub fn decisions(&self) -> Vec<EngineCall> {
        self.calls()
            .into_iter()
            .filter(|c| !matches!(c, EngineCall::Heartbeat { .. }))
            .collect()
    }

    /// How many heartbeats arrived: a GET's probes and heartbeat actions.
    pub fn heartbeats(&self) -> usize {
        self.calls().len() - self.decisions().len()
    }

    pub fn fail_next(&self, error: EngineError) {
        self.next_errors.lock().expect("lock").push_back(error);
    }

    fn record(&self, command: EngineCall) -> Result<(), EngineError> {
        if let Some(e) = self.next_errors.lock().expect("lock").pop_front() {
            return Err(e);
        }
        self.calls.lock().expect("lock").push(command);
        Ok(())
    }
}

#[async_trait]
impl Engine for FakeSfn {
    async fn succeed(&self, token: &Token, output: &str) -> Result<(), EngineError> {
        self.record(EngineCall::Success {
            token: token.clone(),
            output: output.to_owned(),
        })
    }

    async fn fail(
        &self,
        token: &Token,
        error: Option<&str>,
        cause: Option<&str>,
    ) -> Result<(), EngineError> {
        self.record(EngineCall::Failure {
            token: token.clone(),
            error: error.map(str::to_owned),
            cause: cause.map(str::to_owned),
        })
    }

    async fn heartbeat(&self, token: &Token) -> Result<(), EngineError> {
        let delay = *self.heartbeat_delay.lock().expect("lock");
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
        self.record(EngineCall::Heartbeat {
            token: token.clone(),
        })
    }
}

/// A notifier that records what it was asked to send, or fails.
#[derive(Default)]
pub struct FakeNotifier {
    pub sent: Mutex<Vec<Notification>>,
    pub next_error: Mutex<Option<NotifyError>>,
}

impl FakeNotifier {
    pub fn sent(&self) -> Vec<Notification> {
        self.sent.lock().expect("lock").clone()
    }

    pub fn fail_next(&self, error: NotifyError) {
        *self.next_error.lock().expect("lock") = Some(error);
    }
}

#[async_trait]
impl Notifier for FakeNotifier {
    async fn send(&self, notification: &Notification) -> Result<Sent, NotifyError> {
        if let Some(e) = self.next_error.lock().expect("lock").take() {
            return Err(e);
        }
        let mut sent = self.sent.lock().expect("lock");
        sent.push(notification.clone());
        let id = format!("message-{}", sent.len());
        Ok(Sent {
            slack: match notification {
                Notification::Slack(m) => Some(SlackPosted {
                    channel: m.channel.clone(),
                    ts: id.clone(),
                }),
                _ => None,
            },
            message_id: Some(id),
        })
    }
}

/// A clock the test moves.
pub struct FakeClock(pub Mutex<OffsetDateTime>);

impl FakeClock {
    pub fn advance(&self, by: time::Duration) {
        *self.0.lock().expect("lock") += by;
    }
}

impl Clock for FakeClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().expect("lock")
    }
}

pub const START: OffsetDateTime = time::macros::datetime!(2030-06-01 12:00 UTC);

pub fn keyring() -> Keyring {
    Keyring::new(
        SecretKey::from_bytes([42; 32]),
        "2030-01-01T00:00:00Z".into(),
    )
}

/// What a test deployment may adjust: the use cases' and the router's
/// settings.
pub struct Deployment {
    pub app: Settings,
    pub http: HttpSettings,
    /// The OpenID Provider, for links bound to approvers.
    pub identity: Option<Arc<dyn IdentityProvider>>,
    /// Slack, for presses in Slack.
    pub slack: Option<Arc<dyn SlackApi>>,
}

/// The application and its router with fakes; `tweak` adjusts the settings.
pub struct App {
    pub sfn: Arc<FakeSfn>,
    pub clock: Arc<FakeClock>,
    pub notifier: Arc<FakeNotifier>,
    pub state: app::App,
    /// What `state` was made of, for a test to make a variant of it.
    pub settings: Settings,
    pub ports: app::Ports,
    pub http: HttpSettings,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts an error reply with this status and error name.
    pub fn assert_error(&self, status: u16, error: &str) {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        let body = self.json();
        assert_eq!(body["error"], error, "{}", self.text);
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "no message: {}",
            self.text
        );
    }
}

impl App {
    pub fn new(tweak: impl FnOnce(&mut Deployment)) -> Self {
        Self::with_keys(KeySource::keyring(KeyMode::Local, keyring()), tweak)
    }

    pub fn with_keys(keys: KeySource, tweak: impl FnOnce(&mut Deployment)) -> Self {
        let mut settings = Deployment {
            app: Settings {
                base_url: Some("https://cb.example.com/prod".into()),
                ..Settings::default()
            },
            http: HttpSettings::default(),
            identity: None,
            slack: None,
        };
        tweak(&mut settings);
        let sfn = Arc::new(FakeSfn::default());
        let clock = Arc::new(FakeClock(Mutex::new(START)));
        let notifier = Arc::new(FakeNotifier::default());
        let ports = app::Ports {
            keys: Arc::new(keys),
            engine: sfn.clone(),
            notifier: notifier.clone(),
            clock: clock.clone(),
            entropy: Arc::new(SystemRandom),
            identity: settings.identity,
            slack: settings.slack,
        };
        Self {
            sfn,
            clock,
            notifier,
            state: app::App::new(settings.app.clone(), ports.clone()),
            settings: settings.app,
            ports,
            http: settings.http,
        }
    }

    /// This application with `tweak`ed settings or ports (the same fakes
    /// unless replaced).
    pub fn variant(&self, tweak: impl FnOnce(&mut Settings, &mut app::Ports)) -> app::App {
        let (mut settings, mut ports) = (self.settings.clone(), self.ports.clone());
        tweak(&mut settings, &mut ports);
        app::App::new(settings, ports)
    }

    /// The Lambda handler over the same application.
    pub fn lambda(&self, errors: DirectErrors) -> Handler {
        Handler::new(self.state.clone(), self.http.clone(), errors)
    }

    pub async fn request(
        &self,
        method: Method,
        uri: &str,
        headers: &[(&str, &str)],
        body: impl Into<Body>,
    ) -> Reply {
        self.request_on(&self.state, method, uri, headers, body)
            .await
    }

    /// A request through a router over `state`.
    pub async fn request_on(
        &self,
        state: &app::App,
        method: Method,
        uri: &str,
        headers: &[(&str, &str)],
        body: impl Into<Body>,
    ) -> Reply {
        let mut builder = Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        let response = router(state.clone(), self.http.clone())
            .oneshot(builder.body(body.into()).expect("request"))
            .await
            .expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        Reply {
            status,
            headers,
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// CreateUrls through a router over `state` (changed settings).
    pub async fn request_with(&self, state: &app::App, body: &Value) -> Reply {
        self.request_on(
            state,
            Method::POST,
            "/urls",
            &[("content-type", "application/json")],
            body.to_string(),
        )
        .await
    }

    pub async fn create(&self, body: &Value) -> Reply {
        self.request(
            Method::POST,
            "/urls",
            &[("content-type", "application/json")],
            body.to_string(),
        )
        .await
    }

    /// CreateUrls that must succeed; returns the URLs by action name.
    pub async fn urls(&self, body: &Value) -> serde_json::Map<String, Value> {
        let reply = self.create(body).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        reply.json()["urls"].as_object().expect("urls").clone()
    }

    /// A callback by full URL.
    pub async fn follow(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: impl Into<Body>,
    ) -> Reply {
        let path = url
            .strip_prefix("https://cb.example.com/prod")
            .expect("our base URL");
        self.request(method, path, headers, body).await
    }
}

/// The `data` value of a callback URL.
pub fn data_of(url: &str) -> String {
    query_param(url, "data")
}

/// The (decoded) value of the query parameter `name` of `url`.
pub fn query_param(url: &str, name: &str) -> String {
    url::Url::parse(url)
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no {name} parameter"))
}

/// `text` with the ASCII character at `at` changed: `A` becomes `B`,
/// anything else `A`.
pub fn one_char_changed(text: &str, at: usize) -> String {
    let mut bytes = text.as_bytes().to_vec();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).expect("ascii")
}

/// A URL with its `data` replaced.
pub fn with_data(url: &str, data: &str) -> String {
    let cut = url.find("data=").expect("data") + 5;
    format!("{}{data}", &url[..cut])
}

/// A KMS stand-in with one key, `FAKE_KMS_KEY`. Its blobs are as long as
/// real KMS blobs for a 32-byte key (184 bytes) and are bound to the key and
/// the encryption context, as real ones are. It counts its calls.
#[derive(Default)]
pub struct FakeKms {
    pub generate_calls: std::sync::atomic::AtomicUsize,
    pub decrypt_calls: std::sync::atomic::AtomicUsize,
    /// Returned by every call while set.
    pub failing: Mutex<Option<sfn_callbacks::ports::KmsError>>,
}

impl FakeKms {
    fn check(&self) -> Result<(), sfn_callbacks::ports::KmsError> {
        self.failing
            .lock()
            .expect("lock")
            .clone()
            .map_or(Ok(()), Err)
    }
}

/// The one key the fake KMS has.
pub const FAKE_KMS_KEY: &str = "alias/callbacks";
/// The length of a real KMS ciphertext blob for a 256-bit data key.
pub const AWS_DATA_KEY_BLOB_LEN: usize = 184;
const FAKE_PADDING: usize = 120;

fn fake_tag(key_id: &str, context: sfn_callbacks::ports::KmsContext, plaintext: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    let mut hash = sha2::Sha256::new();
    hash.update(key_id.as_bytes());
    for (k, v) in context {
        hash.update(k.as_bytes());
        hash.update(v.as_bytes());
    }
    hash.update(plaintext);
    hash.finalize().into()
}

#[async_trait]
impl sfn_callbacks::ports::Kms for FakeKms {
    async fn encrypt(
        &self,
        key_id: &str,
        plaintext: &[u8],
        context: sfn_callbacks::ports::KmsContext,
    ) -> Result<Vec<u8>, sfn_callbacks::ports::KmsError> {
        if key_id != FAKE_KMS_KEY {
            return Err(sfn_callbacks::ports::KmsError::Refused(
                "NotFoundException".into(),
            ));
        }
        let mut blob = fake_tag(key_id, context, plaintext).to_vec();
        blob.extend_from_slice(&[0xEE; FAKE_PADDING]);
        blob.extend_from_slice(plaintext);
        Ok(blob)
    }

    async fn decrypt(
        &self,
        key_id: Option<&str>,
        blob: &[u8],
        context: sfn_callbacks::ports::KmsContext,
    ) -> Result<zeroize::Zeroizing<Vec<u8>>, sfn_callbacks::ports::KmsError> {
        use std::sync::atomic::Ordering;
        self.decrypt_calls.fetch_add(1, Ordering::SeqCst);
        self.check()?;
        let key_id = key_id.unwrap_or(FAKE_KMS_KEY);
        let (tag, rest) = blob
            .split_at_checked(32 + FAKE_PADDING)
            .map(|(head, rest)| (&head[..32], rest))
            .ok_or(sfn_callbacks::ports::KmsError::InvalidCiphertext)?;
        if key_id != FAKE_KMS_KEY || tag != fake_tag(key_id, context, rest) {
            return Err(sfn_callbacks::ports::KmsError::InvalidCiphertext);
        }
        Ok(zeroize::Zeroizing::new(rest.to_vec()))
    }

    async fn generate_data_key(
        &self,
        key_id: &str,
        context: sfn_callbacks::ports::KmsContext,
    ) -> Result<(SecretKey, Vec<u8>), sfn_callbacks::ports::KmsError> {
        use std::sync::atomic::Ordering;
        self.generate_calls.fetch_add(1, Ordering::SeqCst);
        self.check()?;
        let key = sfn_callbacks::system::random_bytes::<32>();
        let blob = self.encrypt(key_id, &key, context).await?;
        assert_eq!(blob.len(), AWS_DATA_KEY_BLOB_LEN);
        Ok((SecretKey::from_bytes(key), blob))
    }
}
