//! Start-up: from checked settings to the running parts. The one place
//! that makes keys, calls KMS to load them, builds the AWS SDK clients and
//! assembles the [`App`] (`config` only reads and validates).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::app::{self, App, Ports};
use crate::aws::{self, CallBudget, SdkConfig, SdkEngines, SdkKms, SdkNotifier};
use crate::config::{DEFAULT_KEYRING_FILE, KeySettings, KeyringSource, Settings};
use crate::core::keyring::{Keyring, SecretKey};
use crate::keys::{EnvelopeLimits, KMS_KEYRING_PREFIX, KeyMode, KeySource, read_keyring};
use crate::ports::{Engine, Kms};
use crate::system::{SystemClock, SystemRandom, random_bytes};

/// How long `serve` looks for AWS credentials before warning that there
/// are none.
const CREDENTIALS_PROBE: Duration = Duration::from_secs(10);

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

/// Builds the key source. `kms` is required for the KMS modes;
/// `create_default` lets `serve` make the default keyring file.
pub async fn key_source(
    keys: &KeySettings,
    kms: Option<Arc<dyn Kms>>,
    create_default: bool,
) -> anyhow::Result<KeySource> {
    let kms = match (keys.mode.needs_kms(), kms) {
        (true, Some(kms)) => Some(kms),
        (true, None) => bail!("key mode {} needs KMS", keys.mode.as_str()),
        (false, _) => None,
    };
    // Set in the KMS modes by `KeyArgs::settings`.
    let pinned = keys.kms_key_id.clone();
    if keys.mode == KeyMode::KmsEnvelope {
        let (Some(kms), Some(key_id)) = (kms, pinned) else {
            bail!("key mode kms-envelope needs KMS and KMS_KEY_ID");
        };
        return Ok(KeySource::envelope(kms, key_id, EnvelopeLimits::default()));
    }
    let text = match &keys.keyring {
        KeyringSource::Text(text) => zeroize::Zeroizing::new(text.expose().to_owned()),
        KeyringSource::File(path) => zeroize::Zeroizing::new(
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the keyring file {}", path.display()))?,
        ),
        KeyringSource::DefaultFile => {
            let path = Path::new(DEFAULT_KEYRING_FILE);
            if !path.exists() {
                if !create_default || keys.mode == KeyMode::Kms {
                    bail!(
                        "no keyring: make one with `sfn-callbacks keygen`{} and name it with KEYRING_FILE or KEYRING",
                        if keys.mode == KeyMode::Kms {
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
    let ring = read_keyring(&text, kms.as_deref(), keys.kms_key_id.as_deref())
        .await
        .context("cannot load the keyring")?;
    if keys.mode == KeyMode::Kms && !text.trim().starts_with(KMS_KEYRING_PREFIX) {
        bail!(
            "key mode kms needs a KMS-encrypted keyring (sfn-callbacks keygen --kms-key-id <key>)"
        );
    }
    Ok(KeySource::keyring(keys.mode, ring))
}

/// KMS, when the key mode needs it.
pub fn kms_for(keys: &KeySettings, sdk: &SdkConfig) -> Option<Arc<dyn Kms>> {
    keys.mode
        .needs_kms()
        .then(|| Arc::new(SdkKms::from_config(sdk)) as Arc<dyn Kms>)
}

/// KMS with the default SDK budget, for the commands that run without a
/// service (`keygen`, `create`, `inspect`).
pub async fn kms() -> Arc<dyn Kms> {
    let sdk = aws::load_sdk_config(CallBudget::default()).await;
    Arc::new(SdkKms::from_config(&sdk))
}

/// The key source for the commands that only read keys (`create`,
/// `inspect`): never a new keyring.
pub async fn load_keys(keys: &KeySettings) -> anyhow::Result<KeySource> {
    let kms = if keys.mode.needs_kms() {
        Some(kms().await)
    } else {
        None
    };
    key_source(keys, kms, false).await
}

/// The application with the AWS adapters. `create_keyring` lets `serve`
/// make the default keyring file; the links must open where they are
/// answered, so the Lambda handler and the worker never do.
pub async fn app(
    sdk: &SdkConfig,
    settings: app::Settings,
    keys: &KeySettings,
    slack: Option<crate::chat::slack::SlackSettings>,
    identity: Option<Arc<dyn crate::ports::IdentityProvider>>,
    create_keyring: bool,
) -> anyhow::Result<App> {
    let keys = key_source(keys, kms_for(keys, sdk), create_keyring).await?;
    let web = crate::chat::WebClient::new();
    let slack = slack.map(|s| Arc::new(crate::chat::SlackClient::new(s, web.clone())));
    let notifier = crate::chat::Notifiers {
        aws: Arc::new(SdkNotifier::from_config(sdk)),
        slack: slack.clone(),
        teams: crate::chat::TeamsClient::new(web),
    };
    Ok(App::new(
        settings,
        Ports {
            keys: Arc::new(keys),
            engine: engine(sdk),
            notifier: Arc::new(notifier),
            clock: Arc::new(SystemClock),
            entropy: Arc::new(SystemRandom),
            identity,
            slack: slack.map(|s| s as Arc<dyn crate::ports::SlackApi>),
        },
    ))
}

/// The workflow engines (Step Functions, Lambda's durable executions)
/// through the AWS SDK.
pub fn engine(sdk: &SdkConfig) -> Arc<dyn Engine> {
    Arc::new(SdkEngines::from_config(sdk))
}

/// `serve`'s or the Lambda handler's application, from its checked
/// settings and the SDK configuration they were checked against (its
/// region).
pub async fn service(
    sdk: &SdkConfig,
    settings: &Settings,
    create_keyring: bool,
) -> anyhow::Result<App> {
    if settings.app.features.sign_in && settings.oidc.is_none() {
        tracing::warn!(
            "OIDC_ISSUER is set without OIDC_CLIENT_ID and OIDC_CLIENT_SECRET: links bound to approvers can be made here, but nobody can sign in here to answer them"
        );
    }
    let identity = match &settings.oidc {
        Some(oidc) => Some(Arc::new(crate::oidc::OidcProvider::new(oidc.clone())?)
            as Arc<dyn crate::ports::IdentityProvider>),
        None => None,
    };
    app(
        sdk,
        settings.app.clone(),
        &settings.keys,
        settings.slack.clone(),
        identity,
        create_keyring,
    )
    .await
}

/// Binds `addr`, installs the Prometheus recorder and serves `/metrics`
/// there until the process ends. An address that cannot be bound is an
/// error naming it, so `serve` refuses to start.
pub async fn serve_metrics(
    addr: std::net::SocketAddr,
    deployment: Option<&str>,
) -> anyhow::Result<std::net::SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen for metrics on METRICS_ADDR {addr}"))?;
    let local = listener.local_addr()?;
    let routes = crate::telemetry::prometheus::install(deployment)?;
    tokio::spawn(async move {
        let served = crate::http::server::run(
            listener,
            routes,
            crate::http::server::ConnLimits::default(),
            std::future::pending(),
        )
        .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "the metrics listener stopped");
        }
    });
    Ok(local)
}

/// Logs one warning when the default credential chain finds no AWS
/// credentials. It runs beside the service: links can still be made, and
/// answering them says that nothing was sent.
pub fn warn_without_credentials(sdk: &SdkConfig) {
    let sdk = sdk.clone();
    tokio::spawn(async move {
        if !aws::has_credentials(&sdk, CREDENTIALS_PROBE).await {
            tracing::warn!(
                "no AWS credentials found: links can be made, but answering them needs credentials for Step Functions or Lambda (nothing is sent without them)"
            );
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
