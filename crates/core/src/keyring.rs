//! Keyrings: numbered secret keys, the newest seals, older ones still open.
//!
//! A keyring is plain data. Reading it from a file, or unwrapping it with KMS,
//! happens at the edge (`keys`); here it is parsed, looked up and serialised.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The format tag written into every keyring file.
pub const KEYRING_FORMAT: &str = "sfn-callbacks-keyring-v1";

/// Domain-separation labels: one master secret yields independent keys for
/// encryption and for signing, so a key is never used for two purposes.
const AEAD_LABEL: &[u8] = b"sfn-callbacks/v1/aead";
const MAC_LABEL: &[u8] = b"sfn-callbacks/v1/mac";
/// A KMS data key (`kms-envelope`) is never used as is: the AEAD key is
/// derived from it with this label.
const ENVELOPE_AEAD_LABEL: &[u8] = b"sfn-callbacks/v1/envelope-aead";

/// The number that names a key inside sealed payloads (two bytes on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct KeyId(pub u16);

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// 32 secret bytes, wiped from memory on drop, never printed, compared in
/// constant time.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretKey([u8; 32]);

impl PartialEq for SecretKey {
    fn eq(&self, other: &Self) -> bool {
        use subtle::ConstantTimeEq as _;
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for SecretKey {}

impl SecretKey {
    /// Wraps raw key bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Takes a slice that must be exactly 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        <[u8; 32]>::try_from(bytes).ok().map(Self)
    }

    /// The raw bytes, for the cipher.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }

    /// The AEAD key of a KMS data key (`kms-envelope`): a data key is
    /// never used as is, and this derivation is part of the sealed format.
    pub fn envelope_aead_key(&self) -> SecretKey {
        self.derive(ENVELOPE_AEAD_LABEL)
    }

    /// A key for one purpose: HMAC-SHA256 of the label under this key.
    pub(crate) fn derive(&self, label: &[u8]) -> SecretKey {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
            .expect("HMAC takes keys of any length");
        mac.update(label);
        let mut derived = SecretKey([0; 32]);
        derived.0.copy_from_slice(&mac.finalize().into_bytes());
        derived
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// The two working keys derived from one keyring entry.
#[derive(Debug, Clone)]
pub struct DerivedKeys {
    /// Key for XChaCha20-Poly1305.
    pub aead: SecretKey,
    /// Key for HMAC-SHA256.
    pub mac: SecretKey,
}

impl DerivedKeys {
    fn from_master(master: &SecretKey) -> Self {
        Self {
            aead: master.derive(AEAD_LABEL),
            mac: master.derive(MAC_LABEL),
        }
    }
}

#[derive(Debug, Clone)]
struct Entry {
    id: KeyId,
    created: String,
    state: EntryState,
}

#[derive(Debug, Clone)]
enum EntryState {
    Active {
        master: SecretKey,
        derived: DerivedKeys,
    },
    Retired,
}

/// What a key id in a payload refers to.
#[derive(Debug)]
pub enum KeyLookup<'a> {
    /// A key that opens links.
    Active(&'a DerivedKeys),
    /// A key the operator retired: its links no longer open.
    Retired,
    /// No such key in this keyring.
    Unknown,
}

/// Why a keyring could not be read or changed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyringError {
    /// The text is not a keyring of this format.
    #[error("the keyring is not valid: {0}")]
    Malformed(String),
    /// Every key is retired or there is none.
    #[error("the keyring has no active key")]
    NoActiveKey,
    /// Too many keys for two-byte ids.
    #[error("the keyring has no free key id left")]
    Full,
    /// `retire` named a key that is not there or not active.
    #[error("the keyring has no active key {0}")]
    NoSuchKey(KeyId),
    /// Retiring would leave nothing to seal new links with.
    #[error("key {0} is the only active key; add a new key before retiring it")]
    LastActiveKey(KeyId),
}

/// Numbered keys. The active key with the highest id seals new payloads.
#[derive(Debug, Clone)]
pub struct Keyring {
    entries: Vec<Entry>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyringFile {
    format: String,
    keys: Vec<KeyFileEntry>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFileEntry {
    id: u16,
    created: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    secret: Option<zeroize::Zeroizing<String>>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    retired: bool,
}

impl Keyring {
    /// A keyring holding one key.
    pub fn new(secret: SecretKey, created: String) -> Self {
        let mut ring = Self {
            entries: Vec::new(),
        };
        ring.push(KeyId(1), secret, created);
        ring
    }

    fn push(&mut self, id: KeyId, master: SecretKey, created: String) {
        let derived = DerivedKeys::from_master(&master);
        self.entries.push(Entry {
            id,
            created,
            state: EntryState::Active { master, derived },
        });
    }

    /// Adds a key that becomes the newest, for rotation. Returns its id.
    pub fn add(&mut self, secret: SecretKey, created: String) -> Result<KeyId, KeyringError> {
        let next = self.entries.iter().map(|e| e.id.0).max().unwrap_or(0);
        let id = next.checked_add(1).ok_or(KeyringError::Full)?;
        self.push(KeyId(id), secret, created);
        Ok(KeyId(id))
    }

    /// Retires a key: its secret is dropped and links sealed with it stop
    /// opening, with an error that says the link is no longer valid.
    pub fn retire(&mut self, id: KeyId) -> Result<(), KeyringError> {
        let active = self.active_ids();
        if !active.contains(&id) {
            return Err(KeyringError::NoSuchKey(id));
        }
        if active.len() == 1 {
            return Err(KeyringError::LastActiveKey(id));
        }
        if let Some(entry) = self.entries.iter_mut().find(|e| e.id == id) {
            entry.state = EntryState::Retired;
        }
        Ok(())
    }

    /// The ids of the keys that still open links, oldest first.
    pub fn active_ids(&self) -> Vec<KeyId> {
        let mut ids: Vec<KeyId> = self
            .entries
            .iter()
            .filter(|e| matches!(e.state, EntryState::Active { .. }))
            .map(|e| e.id)
            .collect();
        ids.sort();
        ids
    }

    /// The key that seals new payloads.
    pub fn newest(&self) -> (KeyId, &DerivedKeys) {
        self.entries
            .iter()
            .filter_map(|e| match &e.state {
                EntryState::Active { derived, .. } => Some((e.id, derived)),
                EntryState::Retired => None,
            })
            .max_by_key(|(id, _)| *id)
            .expect("a parsed keyring always has an active key")
    }

    /// Finds the key a payload names.
    pub fn lookup(&self, id: KeyId) -> KeyLookup<'_> {
        match self.entries.iter().find(|e| e.id == id) {
            Some(Entry {
                state: EntryState::Active { derived, .. },
                ..
            }) => KeyLookup::Active(derived),
            Some(_) => KeyLookup::Retired,
            None => KeyLookup::Unknown,
        }
    }

    /// Parses the JSON keyring format.
    pub fn from_json(text: &[u8]) -> Result<Self, KeyringError> {
        let file: KeyringFile =
            serde_json::from_slice(text).map_err(|e| KeyringError::Malformed(e.to_string()))?;
        if file.format != KEYRING_FORMAT {
            return Err(KeyringError::Malformed(format!(
                "unknown format {:?}, expected {KEYRING_FORMAT:?}",
                file.format
            )));
        }
        let mut ring = Self {
            entries: Vec::new(),
        };
        for key in file.keys {
            if ring.entries.iter().any(|e| e.id.0 == key.id) {
                return Err(KeyringError::Malformed(format!(
                    "key id {} appears twice",
                    key.id
                )));
            }
            match (key.retired, key.secret) {
                (true, _) => ring.entries.push(Entry {
                    id: KeyId(key.id),
                    created: key.created,
                    state: EntryState::Retired,
                }),
                (false, Some(secret)) => {
                    let bytes = URL_SAFE_NO_PAD
                        .decode(secret.as_bytes())
                        .ok()
                        .map(zeroize::Zeroizing::new)
                        .and_then(|b| SecretKey::from_slice(&b))
                        .ok_or_else(|| {
                            KeyringError::Malformed(format!(
                                "key {} is not 32 bytes of unpadded base64url",
                                key.id
                            ))
                        })?;
                    ring.push(KeyId(key.id), bytes, key.created);
                }
                (false, None) => {
                    return Err(KeyringError::Malformed(format!(
                        "key {} has no secret and is not retired",
                        key.id
                    )));
                }
            }
        }
        if ring.active_ids().is_empty() {
            return Err(KeyringError::NoActiveKey);
        }
        Ok(ring)
    }

    /// Serialises the keyring, secrets included: the caller protects it.
    pub fn to_json(&self) -> String {
        let file = KeyringFile {
            format: KEYRING_FORMAT.to_owned(),
            keys: self
                .entries
                .iter()
                .map(|e| KeyFileEntry {
                    id: e.id.0,
                    created: e.created.clone(),
                    secret: match &e.state {
                        EntryState::Active { master, .. } => Some(zeroize::Zeroizing::new(
                            URL_SAFE_NO_PAD.encode(master.expose()),
                        )),
                        EntryState::Retired => None,
                    },
                    retired: matches!(e.state, EntryState::Retired),
                })
                .collect(),
        };
        let mut text = serde_json::to_string_pretty(&file).expect("keyring serialises");
        text.push('\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> Keyring {
        Keyring::new(
            SecretKey::from_bytes([7; 32]),
            "2026-01-01T00:00:00Z".into(),
        )
    }

    #[test]
    fn newest_key_seals_after_rotation_and_old_key_still_opens() {
        let mut ring = ring();
        let id = ring
            .add(SecretKey::from_bytes([9; 32]), "later".into())
            .expect("add");
        assert_eq!(id, KeyId(2));
        assert_eq!(ring.newest().0, KeyId(2));
        assert!(matches!(ring.lookup(KeyId(1)), KeyLookup::Active(_)));
    }

    #[test]
    fn retired_key_is_known_but_does_not_open() {
        let mut ring = ring();
        ring.add(SecretKey::from_bytes([9; 32]), "later".into())
            .expect("add");
        ring.retire(KeyId(1)).expect("retire");
        assert!(matches!(ring.lookup(KeyId(1)), KeyLookup::Retired));
        assert!(matches!(ring.lookup(KeyId(3)), KeyLookup::Unknown));
        let reparsed = Keyring::from_json(ring.to_json().as_bytes()).expect("parse");
        assert!(matches!(reparsed.lookup(KeyId(1)), KeyLookup::Retired));
        assert!(!ring.to_json().contains(&URL_SAFE_NO_PAD.encode([7u8; 32])));
    }

    #[test]
    fn the_last_active_key_cannot_be_retired() {
        let mut ring = ring();
        assert_eq!(
            ring.retire(KeyId(1)),
            Err(KeyringError::LastActiveKey(KeyId(1)))
        );
        assert_eq!(
            ring.retire(KeyId(5)),
            Err(KeyringError::NoSuchKey(KeyId(5)))
        );
    }

    #[test]
    fn json_round_trip_keeps_keys() {
        let ring = ring();
        let again = Keyring::from_json(ring.to_json().as_bytes()).expect("parse");
        assert_eq!(again.newest().1.aead, ring.newest().1.aead);
    }

    #[test]
    fn derived_keys_differ_from_each_other_and_from_the_master() {
        let master = SecretKey::from_bytes([7; 32]);
        let derived = DerivedKeys::from_master(&master);
        assert_ne!(derived.aead, derived.mac);
        assert_ne!(derived.aead, master);
    }

    #[test]
    fn malformed_keyrings_are_refused_with_reasons() {
        let cases: [(&str, &str); 4] = [
            ("not json", "not valid"),
            (r#"{"format":"other","keys":[]}"#, "unknown format"),
            (
                r#"{"format":"sfn-callbacks-keyring-v1","keys":[]}"#,
                "no active key",
            ),
            (
                r#"{"format":"sfn-callbacks-keyring-v1","keys":[{"id":1,"created":"x","secret":"AAAA"}]}"#,
                "not 32 bytes",
            ),
        ];
        for (text, expected) in cases {
            let err = Keyring::from_json(text.as_bytes())
                .expect_err(text)
                .to_string();
            assert!(err.contains(expected), "{text}: {err}");
        }
    }

    #[test]
    fn debug_redacts_secrets() {
        let shown = format!("{:?}", ring());
        assert!(shown.contains("redacted"));
        assert!(!shown.contains("[7, 7"));
    }
}
