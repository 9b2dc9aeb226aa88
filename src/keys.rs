//! Key sources: where the sealing keys come from, and how payloads open.
//!
//! - `local`: a keyring file (made by `sfn-callbacks keygen`).
//! - `kms`: the same keyring, encrypted under a KMS key, decrypted once at
//!   start: no KMS call per link or per click.
//! - `kms-envelope`: a KMS data key per batch of links, carried wrapped in
//!   each link and unwrapped (cached) on open.
//! - `signed`: the keyring's keys sign instead of encrypt.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

use crate::core::keyring::{Keyring, KeyringError, SecretKey};
use crate::core::payload::{
    KeyRef, Opened, PayloadError, Purpose, SealingKey, Untrusted, WrappedKey,
};
use crate::ports::{Keys, Kms, KmsContext, KmsError, UnsealError};

/// The encryption context of a KMS-encrypted keyring.
pub const KEYRING_CONTEXT: KmsContext = &[("purpose", "sfn-callbacks/v1/keyring")];
/// The encryption context of `kms-envelope` data keys. With the key id
/// pinned on Decrypt, a blob made by anyone else, or for anything else,
/// does not open.
pub const DATA_KEY_CONTEXT: KmsContext = &[("purpose", "sfn-callbacks/v1/data-key")];

/// The prefix of a KMS-encrypted keyring (`keygen --kms-key-id`).
pub const KMS_KEYRING_PREFIX: &str = "sfn-callbacks-kms-keyring-v1:";

/// The four key modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyMode {
    /// Keyring file, payloads encrypted.
    Local,
    /// KMS-encrypted keyring, payloads encrypted.
    Kms,
    /// A KMS data key in every payload.
    KmsEnvelope,
    /// Keyring file, payloads signed but readable.
    Signed,
}

impl KeyMode {
    /// The name used in flags and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Kms => "kms",
            Self::KmsEnvelope => "kms-envelope",
            Self::Signed => "signed",
        }
    }

    /// Whether the mode needs KMS.
    pub fn needs_kms(self) -> bool {
        matches!(self, Self::Kms | Self::KmsEnvelope)
    }
}

/// Caching limits for `kms-envelope`.
#[derive(Debug, Clone, Copy)]
pub struct EnvelopeLimits {
    /// How long one data key seals new links.
    pub max_age: Duration,
    /// How many links one data key seals.
    pub max_uses: u64,
    /// How long an unwrapped key stays cached for opening.
    pub open_ttl: Duration,
    /// How many unwrapped keys stay cached.
    pub open_entries: usize,
}

impl Default for EnvelopeLimits {
    fn default() -> Self {
        Self {
            max_age: Duration::from_secs(300),
            max_uses: 10_000,
            open_ttl: Duration::from_secs(900),
            open_entries: 1024,
        }
    }
}

struct CurrentDataKey {
    key: SecretKey,
    wrapped: Arc<WrappedKey>,
    made: Instant,
    uses: u64,
}

/// What KMS said about a wrapped key: its AEAD key, or that it is not a
/// ciphertext of ours (remembered, so a flood of forged links does not
/// become a flood of KMS calls for the same blob).
type Unwrapped = Option<SecretKey>;

struct DataKeyCache {
    kms: Arc<dyn Kms>,
    key_id: String,
    limits: EnvelopeLimits,
    current: Mutex<Option<CurrentDataKey>>,
    opened: Mutex<HashMap<[u8; 32], (Unwrapped, Instant)>>,
}

enum Source {
    Keyring { ring: Keyring, sign_only: bool },
    Envelope(Box<DataKeyCache>),
}

/// Seals and opens payloads with the configured key source.
pub struct KeySource {
    mode: KeyMode,
    source: Source,
}

impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySource")
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

/// Why a keyring could not be loaded at start.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The keyring text is not valid.
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    /// The encrypted keyring is not of our format.
    #[error("the encrypted keyring is not valid: {0}")]
    Encrypted(String),
    /// KMS did not decrypt it.
    #[error("KMS could not decrypt the keyring: {0}")]
    Kms(#[from] KmsError),
}

/// Reads keyring text: plain JSON, or our KMS-encrypted form (then `kms`
/// must be given; `key_id`, when given, pins the KMS key it must be under).
pub async fn read_keyring(
    text: &str,
    kms: Option<&dyn Kms>,
    key_id: Option<&str>,
) -> Result<Keyring, LoadError> {
    let text = text.trim();
    match text.strip_prefix(KMS_KEYRING_PREFIX) {
        Some(encoded) => {
            let kms = kms.ok_or_else(|| {
                LoadError::Encrypted("the keyring is KMS-encrypted: it needs its KMS key (key mode kms and KMS_KEY_ID; for keygen, --kms-key-id)".to_owned())
            })?;
            let blob = STANDARD
                .decode(encoded)
                .map_err(|e| LoadError::Encrypted(format!("not base64: {e}")))?;
            let plain = kms.decrypt(key_id, &blob, KEYRING_CONTEXT).await?;
            Ok(Keyring::from_json(&plain)?)
        }
        None => Ok(Keyring::from_json(text.as_bytes())?),
    }
}

/// Encrypts a keyring under a KMS key, in the form [`read_keyring`] reads.
pub async fn encrypt_keyring(
    ring: &Keyring,
    kms: &dyn Kms,
    key_id: &str,
) -> Result<String, KmsError> {
    let plain = zeroize::Zeroizing::new(ring.to_json());
    let blob = kms
        .encrypt(key_id, plain.as_bytes(), KEYRING_CONTEXT)
        .await?;
    Ok(format!("{KMS_KEYRING_PREFIX}{}\n", STANDARD.encode(blob)))
}

impl KeySource {
    /// A keyring source (`local`, `kms` or `signed`).
    pub fn keyring(mode: KeyMode, ring: Keyring) -> Self {
        Self {
            mode,
            source: Source::Keyring {
                ring,
                sign_only: mode == KeyMode::Signed,
            },
        }
    }

    /// The `kms-envelope` source.
    pub fn envelope(kms: Arc<dyn Kms>, key_id: String, limits: EnvelopeLimits) -> Self {
        Self {
            mode: KeyMode::KmsEnvelope,
            source: Source::Envelope(Box::new(DataKeyCache {
                kms,
                key_id,
                limits,
                current: Mutex::new(None),
                opened: Mutex::new(HashMap::new()),
            })),
        }
    }

    /// The mode.
    pub fn mode(&self) -> KeyMode {
        self.mode
    }
}

#[async_trait]
impl Keys for KeySource {
    fn mode_name(&self) -> &'static str {
        self.mode.as_str()
    }

    /// The key for the next CreateUrls call.
    async fn sealing_key(&self) -> Result<SealingKey, KmsError> {
        match &self.source {
            Source::Keyring { ring, sign_only } => {
                let (id, keys) = ring.newest();
                Ok(if *sign_only {
                    SealingKey::Mac(id, keys.mac.clone())
                } else {
                    SealingKey::Aead(id, keys.aead.clone())
                })
            }
            Source::Envelope(env) => env.sealing_key().await,
        }
    }

    /// Opens a `data` value.
    async fn open(&self, data: &str) -> Result<Opened, UnsealError> {
        let untrusted = Untrusted::parse(data).map_err(UnsealError::Payload)?;
        let key = self.key_for(&untrusted).await?;
        untrusted.open_link(&key).map_err(UnsealError::Payload)
    }

    async fn private_key(&self) -> Result<SealingKey, KmsError> {
        match &self.source {
            Source::Keyring { ring, .. } => {
                let (id, keys) = ring.newest();
                Ok(SealingKey::Aead(id, keys.aead.clone()))
            }
            Source::Envelope(env) => env.sealing_key().await,
        }
    }

    async fn open_private(&self, purpose: Purpose, sealed: &str) -> Result<Vec<u8>, UnsealError> {
        let untrusted = Untrusted::parse_for(sealed, purpose).map_err(UnsealError::Payload)?;
        if matches!(untrusted.key_ref(), KeyRef::MacKey(_)) {
            // Sealed values are always encrypted; a signed one is not ours.
            return Err(UnsealError::Payload(PayloadError::Forged));
        }
        let key = self.key_for(&untrusted).await?;
        untrusted.open_bytes(&key).map_err(UnsealError::Payload)
    }
}

impl KeySource {
    /// The key an untrusted value asks for, from the keyring or KMS.
    async fn key_for(&self, untrusted: &Untrusted) -> Result<SecretKey, UnsealError> {
        match &self.source {
            Source::Keyring { ring, .. } => untrusted
                .keyring_key(ring)
                .cloned()
                .map_err(UnsealError::Payload),
            Source::Envelope(env) => {
                let KeyRef::Wrapped(wrapped) = untrusted.key_ref() else {
                    return Err(UnsealError::Payload(PayloadError::UnknownKey));
                };
                env.unwrap(wrapped).await
            }
        }
    }
}

impl DataKeyCache {
    async fn sealing_key(&self) -> Result<SealingKey, KmsError> {
        let mut current = self.current.lock().await;
        let fresh = current.as_ref().is_some_and(|c| {
            c.made.elapsed() < self.limits.max_age && c.uses < self.limits.max_uses
        });
        if !fresh {
            let (data_key, wrapped) = self
                .kms
                .generate_data_key(&self.key_id, DATA_KEY_CONTEXT)
                .await?;
            let key = data_key.envelope_aead_key();
            let wrapped = Arc::new(WrappedKey::new(wrapped).map_err(KmsError::UnusableDataKey)?);
            // The key we generate opens our own links without a Decrypt.
            self.remember(wrapped.as_bytes(), Some(key.clone())).await;
            *current = Some(CurrentDataKey {
                key,
                wrapped,
                made: Instant::now(),
                uses: 0,
            });
        }
        let c = current.as_mut().expect("set above");
        c.uses += 1;
        Ok(SealingKey::Envelope(Arc::clone(&c.wrapped), c.key.clone()))
    }

    async fn remember(&self, wrapped: &[u8], unwrapped: Unwrapped) {
        let mut opened = self.opened.lock().await;
        if opened.len() >= self.limits.open_entries {
            let ttl = self.limits.open_ttl;
            opened.retain(|_, (_, at)| at.elapsed() < ttl);
            if opened.len() >= self.limits.open_entries {
                opened.clear();
            }
        }
        opened.insert(Sha256::digest(wrapped).into(), (unwrapped, Instant::now()));
    }

    async fn unwrap(&self, wrapped: &[u8]) -> Result<SecretKey, UnsealError> {
        let digest: [u8; 32] = Sha256::digest(wrapped).into();
        if let Some((unwrapped, at)) = self.opened.lock().await.get(&digest)
            && at.elapsed() < self.limits.open_ttl
        {
            return unwrapped
                .clone()
                .ok_or(UnsealError::Payload(PayloadError::Forged));
        }
        let unwrapped = match self
            .kms
            .decrypt(Some(&self.key_id), wrapped, DATA_KEY_CONTEXT)
            .await
        {
            Ok(plain) => SecretKey::from_slice(&plain).map(|k| k.envelope_aead_key()),
            Err(KmsError::InvalidCiphertext) => None,
            Err(KmsError::Unavailable(_)) => return Err(UnsealError::KmsUnavailable),
            Err(KmsError::UnusableDataKey(_)) => return Err(UnsealError::KmsRefused),
            Err(KmsError::Refused(code)) => {
                tracing::warn!(code, "KMS refused to unwrap a data key");
                return Err(UnsealError::KmsRefused);
            }
        };
        self.remember(wrapped, unwrapped.clone()).await;
        unwrapped.ok_or(UnsealError::Payload(PayloadError::Forged))
    }
}
