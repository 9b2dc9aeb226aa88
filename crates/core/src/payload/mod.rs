//! Sealed payloads: the `data` parameter of every callback URL.
//!
//! # Format
//!
//! `data` is unpadded base64url of `header || body`. The first header byte
//! holds the purpose (high nibble) and the sealing kind (low nibble):
//!
//! | low nibble | kind | header | body |
//! |------|------|--------|------|
//! | `1` | keyring, XChaCha20-Poly1305 | key id (u16 BE) | nonce + ciphertext + tag (16) |
//! | `2` | keyring, HMAC-SHA256 ("signed") | key id (u16 BE) | claims + tag (32) |
//! | `3` | KMS envelope, XChaCha20-Poly1305 | wrapped key length (u16 BE) + wrapped key | nonce + ciphertext + tag (16) |
//!
//! The nonce is 24 random bytes for links of purpose `1`, and 16 random
//! bytes (then 8 zero bytes) for the newer purposes.
//!
//! | high nibble | purpose |
//! |------|---------|
//! | `1` | a link |
//! | `2` | a link bound to approvers: the claims are followed by its gate |
//! | `3` | a sign-in session (a cookie), under a key derived for sessions |
//! | `4` | a sign-in in progress (the OAuth `state`), under a key derived for it |
//! | `5` | a review link: one request's token and every action, each with its gate |
//! | `6` | an extended link: a link that carries what only extensions hold (a form, a language, who asked) |
//!
//! The whole header is authenticated (AEAD associated data, or inside the
//! MAC), so neither the key id, the kind nor the purpose can be swapped.
//! Links start with `E` or `I`, which no payload of the old `1-`/`2-`
//! formats does. Binaries older than the gate refuse `0x2_` links as
//! malformed, so a mixed fleet never opens a bound link without its check.
//!
//! The claims are a postcard record: the task token or, for a Lambda
//! durable execution, the callback ID (its bytes when it is canonical
//! standard base64, which real ones are; the variant records the engine,
//! and binaries older than durable links refuse its two new variants as
//! malformed), the transaction id,
//! issue and expiry times, whether output parameters apply, the action name,
//! and the action body (postcard, deflated only when that is shorter). A
//! bound link moves the action name into the body and follows the action
//! with its gate (approvers and requester), so they deflate together. A
//! review link's body is the list of its choices (name, action, gate,
//! extensions), deflated together, followed by the review's extensions.
//! An extended link's body is its one choice in the same shape. The
//! extensions so far: an action's form (its schema's text), the
//! language of a link's or a review's pages (one byte), the gate's Slack
//! users and requester, and who asked (`requested_by`, a link's or a
//! review's). A binary
//! refuses a link carrying an extension it does not know, and binaries
//! older than extended links refuse `0x6_` as malformed, so what a later
//! version seals is never ignored.

mod wire;

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::action::Action;
use super::approvers::Gate;
use super::error::{ErrorCode, Rejection};
use super::keyring::{KeyId, KeyLookup, Keyring, SecretKey};
use super::locale::Locale;
use super::token::Token;
use wire::{
    decode_claims, decode_extended, decode_review, encode_claims, encode_review, needs_extensions,
};

/// Sealing kind (low nibble): keyring key, XChaCha20-Poly1305.
const KIND_AEAD: u8 = 0x01;
/// Sealing kind: keyring key, HMAC-SHA256.
const KIND_MAC: u8 = 0x02;
/// Sealing kind: KMS data key carried in the payload, XChaCha20-Poly1305.
const KIND_ENVELOPE: u8 = 0x03;

/// What a sealed value is for: the high nibble of its first byte. It is
/// authenticated with the rest, and sessions and sign-in states are sealed
/// with keys derived for them alone, so no sealed value passes for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A link (`0x1_`).
    Link,
    /// A link bound to approvers (`0x2_`): its claims carry a [`Gate`].
    /// Binaries that predate it refuse it as malformed rather than open
    /// it without the check.
    GatedLink,
    /// A sign-in session cookie (`0x3_`).
    Session,
    /// A sign-in in progress: the OAuth `state` (`0x4_`).
    SignIn,
    /// A review link (`0x5_`): every action of one request.
    Review,
    /// A link that carries extensions (`0x6_`): a form, a language, who
    /// asked.
    ExtendedLink,
}

impl Purpose {
    fn nibble(self) -> u8 {
        match self {
            Self::Link => 0x10,
            Self::GatedLink => 0x20,
            Self::Session => 0x30,
            Self::SignIn => 0x40,
            Self::Review => 0x50,
            Self::ExtendedLink => 0x60,
        }
    }

    fn of_byte(byte: u8) -> Option<Self> {
        [
            Self::Link,
            Self::GatedLink,
            Self::Session,
            Self::SignIn,
            Self::Review,
            Self::ExtendedLink,
        ]
        .into_iter()
        .find(|p| p.nibble() == byte & 0xf0)
    }

    fn is_link(self) -> bool {
        matches!(
            self,
            Self::Link | Self::GatedLink | Self::Review | Self::ExtendedLink
        )
    }

    /// How many nonce bytes the value carries (the original link format
    /// carries all 24).
    fn nonce_len(self) -> usize {
        match self {
            Self::Link => NONCE_LEN,
            Self::GatedLink | Self::Session | Self::SignIn | Self::Review | Self::ExtendedLink => {
                SHORT_NONCE_LEN
            }
        }
    }

    /// The key this purpose seals with: links use the given key, the rest
    /// a key derived from it under their own label.
    fn working_key(self, key: &SecretKey) -> Cow<'_, SecretKey> {
        let label: &[u8] = match self {
            Self::Link | Self::GatedLink | Self::Review | Self::ExtendedLink => {
                return Cow::Borrowed(key);
            }
            Self::Session => b"sfn-callbacks/v1/session",
            Self::SignIn => b"sfn-callbacks/v1/sign-in",
        };
        Cow::Owned(key.derive(label))
    }
}

/// The XChaCha20 nonce length.
pub const NONCE_LEN: usize = 24;
/// The random part of the nonce that bound links, sessions and sign-in
/// states carry: 128 bits (the rest is zero). Random 128-bit nonces stay
/// collision-free far beyond any link volume (about 2^-33 after 2^48
/// seals under one key), and the 8 bytes saved keep bound links within
/// a mail line.
pub const SHORT_NONCE_LEN: usize = 16;
const AEAD_TAG_LEN: usize = 16;
const MAC_TAG_LEN: usize = 32;
/// Longest KMS-wrapped data key we accept (real ones are under 300 bytes),
/// so a forged header cannot make us hand KMS a large blob.
pub const MAX_WRAPPED_KEY_LEN: usize = 1024;
/// The longest `data` value a link may carry, in characters: CreateUrls
/// refuses to make longer links and callbacks refuse to decode them. API
/// Gateway refuses request lines over 10,240 bytes, and mail clients break
/// long links well before.
pub const MAX_DATA_CHARS: usize = 8_000;

/// The 16 random bytes that name one CreateUrls call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TransactionId(pub [u8; 16]);

impl TransactionId {
    /// 32 lower-case hex digits, as the old service wrote them.
    pub fn to_hex(self) -> String {
        use std::fmt::Write as _;
        self.0.iter().fold(String::with_capacity(32), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
    }
}

/// What a sealed payload asserts.
#[derive(Debug, Clone, PartialEq)]
pub struct Claims {
    /// The task token or callback ID to answer.
    pub token: Token,
    /// The CreateUrls call that made this link.
    pub transaction_id: TransactionId,
    /// When the link was made, in Unix seconds.
    pub issued_at_secs: i64,
    /// When the link stops working, in Unix milliseconds.
    pub expires_at_millis: Option<i64>,
    /// Whether `$name` placeholders are expanded from query parameters.
    pub output_parameters: bool,
    /// What the link does.
    pub action: Action,
    /// Who may act on it, when it is bound to approvers.
    pub gate: Option<Gate>,
    /// The language its pages speak, when CreateUrls chose one.
    pub locale: Option<Locale>,
    /// Who asked, as CreateUrls' `requested_by` names them.
    pub requested_by: Option<String>,
}

/// One choice of a review link: an action and, when it is bound to
/// approvers, its gate.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// What pressing it does.
    pub action: Action,
    /// Who may choose it.
    pub gate: Option<Gate>,
}

/// What a review link asserts: one CreateUrls request's token and every
/// action, each as its own link would carry it.
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    /// The task token or callback ID to answer.
    pub token: Token,
    /// The CreateUrls call that made this link.
    pub transaction_id: TransactionId,
    /// When the link was made, in Unix seconds.
    pub issued_at_secs: i64,
    /// When the link stops working, in Unix milliseconds.
    pub expires_at_millis: Option<i64>,
    /// Whether `$name` placeholders are expanded from query parameters.
    pub output_parameters: bool,
    /// The language its pages speak, when CreateUrls chose one.
    pub locale: Option<Locale>,
    /// Who asked, as CreateUrls' `requested_by` names them.
    pub requested_by: Option<String>,
    /// The actions, in the request's order.
    pub choices: Vec<Choice>,
}

impl Claims {
    /// Who asked for the decision, for the pages to say: the name
    /// CreateUrls gave as `requested_by`, else the requester's email
    /// sealed with a bound link.
    pub fn asked_by(&self) -> Option<&str> {
        self.requested_by
            .as_deref()
            .or_else(|| self.gate.as_ref().and_then(|g| g.requester.as_deref()))
    }
}

impl Review {
    /// Who asked for the decision, for the page to say: the name
    /// CreateUrls gave as `requested_by`, else the requester's email
    /// sealed with the bound choices (one request, one requester).
    pub fn asked_by(&self) -> Option<&str> {
        self.requested_by.as_deref().or_else(|| {
            self.choices
                .iter()
                .find_map(|c| c.gate.as_ref().and_then(|g| g.requester.as_deref()))
        })
    }

    /// The claims of the action named `name`, exactly as that action's own
    /// link carries them.
    pub fn claims_for(&self, name: &str) -> Option<Claims> {
        self.choices
            .iter()
            .find(|c| c.action.name.as_str() == name)
            .map(|c| self.claims_of(c))
    }

    /// The claims of one of its choices.
    pub fn claims_of(&self, choice: &Choice) -> Claims {
        Claims {
            token: self.token.clone(),
            transaction_id: self.transaction_id,
            issued_at_secs: self.issued_at_secs,
            expires_at_millis: self.expires_at_millis,
            output_parameters: self.output_parameters,
            action: choice.action.clone(),
            gate: choice.gate.clone(),
            locale: self.locale,
            requested_by: self.requested_by.clone(),
        }
    }
}

/// What a link's `data` opens to.
#[derive(Debug, Clone, PartialEq)]
#[expect(
    clippy::large_enum_variant,
    reason = "an action's link is what nearly every callback opens; boxing it would allocate for each"
)]
pub enum Opened {
    /// One action's link.
    Link(Claims),
    /// A review link.
    Review(Review),
}

/// The key a payload is sealed with.
#[derive(Debug, Clone, Copy)]
pub enum SealWith<'a> {
    /// Encrypt with a keyring key (`local` and `kms` key modes).
    Aead {
        /// Its id in the keyring.
        id: KeyId,
        /// The derived AEAD key.
        key: &'a SecretKey,
    },
    /// Sign only, with a keyring key (`signed` key mode).
    Mac {
        /// Its id in the keyring.
        id: KeyId,
        /// The derived MAC key.
        key: &'a SecretKey,
    },
    /// Encrypt with a KMS data key whose wrapped form travels in the payload.
    Envelope {
        /// The KMS ciphertext blob of the data key.
        wrapped: &'a WrappedKey,
        /// The plaintext data key.
        key: &'a SecretKey,
    },
}

/// A KMS-wrapped data key as a payload header carries it: 1 to
/// [`MAX_WRAPPED_KEY_LEN`] bytes, checked when the key service hands it
/// over, so every link sealed with it can be opened again.
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedKey(Vec<u8>);

/// A wrapped data key that no payload header can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the key service returned a wrapped data key of {0} bytes; links carry 1 to {MAX_WRAPPED_KEY_LEN}"
)]
pub struct WrappedKeyLength(pub usize);

impl WrappedKey {
    /// Checks the blob's length.
    pub fn new(blob: Vec<u8>) -> Result<Self, WrappedKeyLength> {
        if blob.is_empty() || blob.len() > MAX_WRAPPED_KEY_LEN {
            return Err(WrappedKeyLength(blob.len()));
        }
        Ok(Self(blob))
    }

    /// The KMS ciphertext blob.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    fn len_u16(&self) -> u16 {
        // At most MAX_WRAPPED_KEY_LEN by construction.
        u16::try_from(self.0.len()).unwrap_or(u16::MAX)
    }
}

impl std::fmt::Debug for WrappedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WrappedKey({} bytes)", self.0.len())
    }
}

/// A key ready to seal one CreateUrls call's payloads (the owned form of
/// [`SealWith`]).
#[derive(Debug, Clone)]
pub enum SealingKey {
    /// A keyring key for encryption.
    Aead(KeyId, SecretKey),
    /// A keyring key for signing.
    Mac(KeyId, SecretKey),
    /// A KMS data key and its wrapped form.
    Envelope(std::sync::Arc<WrappedKey>, SecretKey),
}

impl SealingKey {
    /// The borrowed form [`seal`] takes.
    pub fn as_seal_with(&self) -> SealWith<'_> {
        match self {
            Self::Aead(id, key) => SealWith::Aead { id: *id, key },
            Self::Mac(id, key) => SealWith::Mac { id: *id, key },
            Self::Envelope(wrapped, key) => SealWith::Envelope { wrapped, key },
        }
    }
}

/// Why a payload did not open. Clients only ever see the coarse
/// [`Rejection`] made from it; the variant is for the operator's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadError {
    /// Not base64url, too short, too long, or an unknown version byte.
    Malformed,
    /// A key id this keyring does not hold.
    UnknownKey,
    /// A key id the operator retired.
    RetiredKey,
    /// The tag did not verify: altered, forged, or another keyring's key.
    Forged,
    /// Authentic but not decodable claims (a producer bug; never expected).
    BadClaims,
    /// The old unencrypted `1-` format, which anyone can forge.
    LegacyPlaintext,
    /// The old AWS Encryption SDK `2-` format.
    LegacyEncrypted,
    /// A KMS envelope payload reached a deployment without KMS.
    EnvelopeUnsupported,
}

impl PayloadError {
    /// The rejection shown to the client. Every failed check that concerns
    /// the secret parts reads the same, so nothing tells an attacker which
    /// check failed.
    pub fn rejection(self) -> Rejection {
        match self {
            Self::Malformed | Self::UnknownKey | Self::Forged | Self::BadClaims => Rejection::new(
                ErrorCode::InvalidPayload,
                "this link is not valid: it is incomplete, was altered, or was not made by this service",
            ),
            Self::RetiredKey => Rejection::new(
                ErrorCode::InvalidPayload,
                "this link is no longer valid: the key it was made with has been retired",
            ),
            Self::LegacyPlaintext => Rejection::new(
                ErrorCode::EncryptionRequired,
                "this link uses the unencrypted sfn-callback-urls format, which this service does not accept",
            ),
            Self::LegacyEncrypted => Rejection::new(
                ErrorCode::DecryptionUnsupported,
                "this link was made by sfn-callback-urls and cannot be opened here",
            ),
            Self::EnvelopeUnsupported => Rejection::new(
                ErrorCode::DecryptionUnsupported,
                "this link was sealed with a KMS data key, and this deployment has no KMS key configured",
            ),
        }
    }
}

fn aead(key: &SecretKey) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(key.expose().into())
}

fn mac(key: &SecretKey, message: &[u8]) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key.expose())
        .expect("HMAC takes keys of any length");
    mac.update(message);
    mac
}

/// Seals claims into the `data` string of a callback URL.
///
/// `nonce` must be fresh random bytes for every call (the signed kind does
/// not use it).
pub fn seal(claims: &Claims, with: SealWith<'_>, nonce: &[u8; NONCE_LEN]) -> String {
    let purpose = if needs_extensions(claims) {
        Purpose::ExtendedLink
    } else if claims.gate.is_some() {
        Purpose::GatedLink
    } else {
        Purpose::Link
    };
    seal_bytes(purpose, &encode_claims(claims), with, nonce)
}

/// Seals a review into the `data` string of a review link.
pub fn seal_review(review: &Review, with: SealWith<'_>, nonce: &[u8; NONCE_LEN]) -> String {
    seal_bytes(Purpose::Review, &encode_review(review), with, nonce)
}

/// Seals any plaintext for a purpose, the way links are sealed. Purposes
/// other than links use a working key derived for them from `with`'s key.
pub fn seal_bytes(
    purpose: Purpose,
    plain: &[u8],
    with: SealWith<'_>,
    nonce: &[u8; NONCE_LEN],
) -> String {
    let nonce = &nonce[..purpose.nonce_len()];
    let mut out = Vec::with_capacity(plain.len() + 64);
    match with {
        SealWith::Aead { id, key } => {
            out.push(purpose.nibble() | KIND_AEAD);
            out.extend_from_slice(&id.0.to_be_bytes());
            seal_aead(&mut out, &purpose.working_key(key), nonce, plain);
        }
        SealWith::Envelope { wrapped, key } => {
            out.push(purpose.nibble() | KIND_ENVELOPE);
            out.extend_from_slice(&wrapped.len_u16().to_be_bytes());
            out.extend_from_slice(wrapped.as_bytes());
            seal_aead(&mut out, &purpose.working_key(key), nonce, plain);
        }
        SealWith::Mac { id, key } => {
            out.push(purpose.nibble() | KIND_MAC);
            out.extend_from_slice(&id.0.to_be_bytes());
            out.extend_from_slice(plain);
            let tag = mac(&purpose.working_key(key), &out).finalize().into_bytes();
            out.extend_from_slice(&tag);
        }
    }
    URL_SAFE_NO_PAD.encode(out)
}

/// The full XChaCha20 nonce from the bytes a value carries (24, or 16
/// followed by zeros).
fn full_nonce(carried: &[u8]) -> XNonce {
    let mut nonce = [0u8; NONCE_LEN];
    nonce[..carried.len()].copy_from_slice(carried);
    XNonce::from(nonce)
}

fn seal_aead(out: &mut Vec<u8>, key: &SecretKey, nonce: &[u8], plain: &[u8]) {
    let ciphertext = aead(key)
        .encrypt(
            &full_nonce(nonce),
            Payload {
                msg: plain,
                aad: out,
            },
        )
        .expect("XChaCha20-Poly1305 encrypts any length we produce");
    out.extend_from_slice(nonce);
    out.extend_from_slice(&ciphertext);
}

/// Which key an untrusted payload asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRef<'a> {
    /// A keyring key, for encryption.
    AeadKey(KeyId),
    /// A keyring key, for signing.
    MacKey(KeyId),
    /// A KMS-wrapped data key.
    Wrapped(&'a [u8]),
}

/// A decoded but not yet authenticated payload. Only [`Untrusted::open`]
/// turns it into [`Claims`].
pub struct Untrusted {
    bytes: Vec<u8>,
    purpose: Purpose,
    kind: u8,
    header_len: usize,
}

impl std::fmt::Debug for Untrusted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Untrusted({:?}, kind {:#04x}, {} bytes)",
            self.purpose,
            self.kind,
            self.bytes.len()
        )
    }
}

impl Untrusted {
    /// Decodes a link's `data` query value and checks the header's shape.
    pub fn parse(data: &str) -> Result<Self, PayloadError> {
        if data.starts_with("1-") {
            return Err(PayloadError::LegacyPlaintext);
        }
        if data.starts_with("2-") {
            return Err(PayloadError::LegacyEncrypted);
        }
        Self::parse_if(data, Purpose::is_link)
    }

    /// Decodes a sealed value that must be for `purpose`.
    pub fn parse_for(data: &str, purpose: Purpose) -> Result<Self, PayloadError> {
        Self::parse_if(data, |p| p == purpose)
    }

    fn parse_if(data: &str, wanted: impl Fn(Purpose) -> bool) -> Result<Self, PayloadError> {
        if data.len() > MAX_DATA_CHARS {
            return Err(PayloadError::Malformed);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(data.as_bytes())
            .map_err(|_| PayloadError::Malformed)?;
        let first = *bytes.first().ok_or(PayloadError::Malformed)?;
        let purpose = Purpose::of_byte(first)
            .filter(|p| wanted(*p))
            .ok_or(PayloadError::Malformed)?;
        let kind = first & 0x0f;
        let (header_len, min_body) = match kind {
            KIND_AEAD => (3, purpose.nonce_len() + AEAD_TAG_LEN),
            KIND_MAC => (3, MAC_TAG_LEN),
            KIND_ENVELOPE => {
                let len = bytes.get(1..3).ok_or(PayloadError::Malformed)?;
                let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
                if len == 0 || len > MAX_WRAPPED_KEY_LEN {
                    return Err(PayloadError::Malformed);
                }
                (3 + len, purpose.nonce_len() + AEAD_TAG_LEN)
            }
            _ => return Err(PayloadError::Malformed),
        };
        if bytes.len() < header_len + min_body {
            return Err(PayloadError::Malformed);
        }
        Ok(Self {
            bytes,
            purpose,
            kind,
            header_len,
        })
    }

    /// The key needed to open this payload.
    pub fn key_ref(&self) -> KeyRef<'_> {
        match self.kind {
            KIND_AEAD => KeyRef::AeadKey(self.key_id()),
            KIND_MAC => KeyRef::MacKey(self.key_id()),
            _ => KeyRef::Wrapped(&self.bytes[3..self.header_len]),
        }
    }

    fn key_id(&self) -> KeyId {
        KeyId(u16::from_be_bytes([self.bytes[1], self.bytes[2]]))
    }

    /// What the value is for.
    pub fn purpose(&self) -> Purpose {
        self.purpose
    }

    /// Authenticates and decodes a link with the key [`Untrusted::key_ref`]
    /// asked for: the derived AEAD or MAC key of a keyring entry, or the
    /// unwrapped KMS data key.
    /// A review link is refused here: see [`Untrusted::open_link`].
    pub fn open(&self, key: &SecretKey) -> Result<Claims, PayloadError> {
        match self.open_link(key)? {
            Opened::Link(claims) => Ok(claims),
            Opened::Review(_) => Err(PayloadError::Malformed),
        }
    }

    /// Authenticates and decodes any link, a review link too.
    pub fn open_link(&self, key: &SecretKey) -> Result<Opened, PayloadError> {
        match self.purpose {
            Purpose::Link | Purpose::GatedLink => Ok(Opened::Link(decode_claims(
                &self.open_bytes(key)?,
                self.purpose == Purpose::GatedLink,
            )?)),
            Purpose::Review => Ok(Opened::Review(decode_review(&self.open_bytes(key)?)?)),
            Purpose::ExtendedLink => Ok(Opened::Link(decode_extended(&self.open_bytes(key)?)?)),
            Purpose::Session | Purpose::SignIn => Err(PayloadError::Malformed),
        }
    }

    /// Authenticates with the key [`Untrusted::key_ref`] asked for and
    /// returns the plaintext.
    pub fn open_bytes(&self, key: &SecretKey) -> Result<Vec<u8>, PayloadError> {
        let key = self.purpose.working_key(key);
        let key = key.as_ref();
        let (header, body) = self.bytes.split_at(self.header_len);
        if self.kind == KIND_MAC {
            let (claims, tag) = body.split_at(body.len() - MAC_TAG_LEN);
            mac(key, &self.bytes[..self.bytes.len() - MAC_TAG_LEN])
                .verify_slice(tag)
                .map_err(|_| PayloadError::Forged)?;
            Ok(claims.to_vec())
        } else {
            let (nonce, ciphertext) = body.split_at(self.purpose.nonce_len());
            aead(key)
                .decrypt(
                    &full_nonce(nonce),
                    Payload {
                        msg: ciphertext,
                        aad: header,
                    },
                )
                .map_err(|_| PayloadError::Forged)
        }
    }

    /// The keyring key this value asks for: the AEAD or MAC key of an active
    /// entry.
    pub fn keyring_key<'k>(&self, keyring: &'k Keyring) -> Result<&'k SecretKey, PayloadError> {
        let (id, use_mac) = match self.key_ref() {
            KeyRef::AeadKey(id) => (id, false),
            KeyRef::MacKey(id) => (id, true),
            KeyRef::Wrapped(_) => return Err(PayloadError::EnvelopeUnsupported),
        };
        match keyring.lookup(id) {
            KeyLookup::Active(keys) => Ok(if use_mac { &keys.mac } else { &keys.aead }),
            KeyLookup::Retired => Err(PayloadError::RetiredKey),
            KeyLookup::Unknown => Err(PayloadError::UnknownKey),
        }
    }

    /// Opens a keyring link (`local`, `kms` and `signed` modes).
    pub fn open_with_keyring(&self, keyring: &Keyring) -> Result<Claims, PayloadError> {
        self.open(self.keyring_key(keyring)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::{ActionEffect, ActionName};
    use proptest::prelude::*;
    use serde_json::{Value, json};

    pub(crate) fn sample_claims(token: &str, output: Value) -> Claims {
        Claims {
            token: Token::Task(crate::token::TaskToken::parse(token.to_owned()).expect("token")),
            transaction_id: TransactionId([3; 16]),
            issued_at_secs: 1_800_000_000,
            expires_at_millis: Some(1_800_000_600_000),
            output_parameters: false,
            action: Action {
                name: ActionName::parse("approve").expect("name"),
                effect: ActionEffect::Success { output },
                response: None,
                page: crate::action::PageOptions::default(),
            },
            gate: None,
            locale: None,
            requested_by: None,
        }
    }

    fn keyring() -> Keyring {
        Keyring::new(SecretKey::from_bytes([1; 32]), "t".into())
    }

    fn seal_all(claims: &Claims, ring: &Keyring) -> Vec<String> {
        let (id, keys) = ring.newest();
        let data_key = SecretKey::from_bytes([5; 32]);
        vec![
            seal(
                claims,
                SealWith::Aead {
                    id,
                    key: &keys.aead,
                },
                &[9; NONCE_LEN],
            ),
            seal(
                claims,
                SealWith::Mac { id, key: &keys.mac },
                &[9; NONCE_LEN],
            ),
            seal(
                claims,
                SealWith::Envelope {
                    wrapped: &WrappedKey::new(b"wrapped-data-key".to_vec()).expect("short"),
                    key: &data_key,
                },
                &[9; NONCE_LEN],
            ),
        ]
    }

    fn open_any(data: &str, ring: &Keyring) -> Result<Claims, PayloadError> {
        let untrusted = Untrusted::parse(data)?;
        match untrusted.key_ref() {
            KeyRef::Wrapped(w) if w == b"wrapped-data-key" => {
                untrusted.open(&SecretKey::from_bytes([5; 32]))
            }
            KeyRef::Wrapped(_) => Err(PayloadError::UnknownKey),
            _ => untrusted.open_with_keyring(ring),
        }
    }

    #[test]
    fn review_links_seal_every_choice_and_open_only_as_reviews() {
        let ring = keyring();
        let (id, keys) = ring.newest();
        let approve = sample_claims("QUJDREVG", json!({"approved": true}));
        let mut reject = approve.action.clone();
        reject.name = ActionName::parse("reject").expect("name");
        reject.effect = ActionEffect::Failure {
            error: Some("Rejected".into()),
            cause: None,
        };
        let review = Review {
            token: approve.token.clone(),
            transaction_id: approve.transaction_id,
            issued_at_secs: approve.issued_at_secs,
            expires_at_millis: approve.expires_at_millis,
            output_parameters: false,
            locale: None,
            requested_by: None,
            choices: vec![
                Choice {
                    action: approve.action.clone(),
                    gate: None,
                },
                Choice {
                    action: reject,
                    gate: Some(Gate {
                        approvers: crate::approvers::Approvers {
                            emails: vec!["lead@example.com".into()],
                            domains: Vec::new(),
                            groups: Vec::new(),
                            slack_users: Vec::new(),
                        },
                        requester: None,
                        requester_slack: None,
                    }),
                },
            ],
        };
        for with in [
            SealWith::Aead {
                id,
                key: &keys.aead,
            },
            SealWith::Mac { id, key: &keys.mac },
        ] {
            let data = seal_review(&review, with, &[7; NONCE_LEN]);
            let untrusted = Untrusted::parse(&data).expect("a link");
            assert_eq!(untrusted.purpose(), Purpose::Review);
            let key = untrusted.keyring_key(&ring).expect("key");
            assert_eq!(
                untrusted.open_link(key).expect("opens"),
                Opened::Review(review.clone())
            );
            assert_eq!(untrusted.open(key), Err(PayloadError::Malformed));
            assert_eq!(review.claims_for("approve"), Some(approve.clone()));
        }
    }

    #[test]
    fn wrapped_keys_no_header_can_carry_are_refused_before_sealing() {
        assert_eq!(WrappedKey::new(Vec::new()), Err(WrappedKeyLength(0)));
        assert_eq!(
            WrappedKey::new(vec![1; MAX_WRAPPED_KEY_LEN + 1]),
            Err(WrappedKeyLength(MAX_WRAPPED_KEY_LEN + 1))
        );
        // The longest accepted blob seals into a link that opens again.
        let wrapped = WrappedKey::new(vec![7; MAX_WRAPPED_KEY_LEN]).expect("fits");
        let key = SecretKey::from_bytes([5; 32]);
        let claims = sample_claims("dG9rZW4=", json!({"ok": true}));
        let data = seal(
            &claims,
            SealWith::Envelope {
                wrapped: &wrapped,
                key: &key,
            },
            &[9; NONCE_LEN],
        );
        let untrusted = Untrusted::parse(&data).expect("parses");
        assert_eq!(untrusted.key_ref(), KeyRef::Wrapped(wrapped.as_bytes()));
        assert_eq!(untrusted.open(&key).expect("opens"), claims);
    }

    /// The sample claims, answering a durable execution's callback.
    fn durable_claims(callback_id: &str) -> Claims {
        Claims {
            token: Token::Callback(
                crate::token::CallbackId::parse(callback_id.to_owned()).expect("id"),
            ),
            ..sample_claims("QUJD", json!({"approved": true}))
        }
    }

    #[test]
    fn a_link_opens_for_the_engine_it_was_made_for_and_no_other() {
        let ring = keyring();
        // The same text as a task token and as a callback ID, canonical
        // base64 (sealed as bytes) and not (sealed as text).
        for text in ["QUJD", "QUJ"] {
            let task = sample_claims(text, json!({"approved": true}));
            let durable = durable_claims(text);
            for (claims, engine) in [
                (&task, crate::token::EngineKind::StepFunctions),
                (&durable, crate::token::EngineKind::Durable),
            ] {
                for data in seal_all(claims, &ring) {
                    let opened = open_any(&data, &ring).expect("opens");
                    assert_eq!(opened.token.engine(), engine, "{text}");
                    assert_eq!(&opened, claims);
                }
            }
            // Their plaintexts differ in the token's variant alone: a task
            // token keeps the tags every older link has (0 bytes, 1 text),
            // a callback ID takes new ones (2, 3), which older binaries
            // cannot decode.
            let (task_plain, durable_plain) = (encode_claims(&task), encode_claims(&durable));
            let canonical = text == "QUJD";
            assert_eq!(task_plain[0], if canonical { 0 } else { 1 }, "{text}");
            assert_eq!(durable_plain[0], if canonical { 2 } else { 3 }, "{text}");
            assert_eq!(task_plain[1..], durable_plain[1..]);
        }
        // An extended link (its language sealed) keeps its engine too.
        let mut bound = durable_claims("QUJD");
        bound.locale = Some(Locale::Ja);
        for data in seal_all(&bound, &ring) {
            assert_eq!(open_any(&data, &ring).expect("opens"), bound);
        }
    }

    #[test]
    fn every_kind_round_trips_and_starts_with_e() {
        let ring = keyring();
        let claims = sample_claims("QUJD", json!({"approved": true}));
        for data in seal_all(&claims, &ring) {
            assert!(data.starts_with('E'), "{data}");
            assert_eq!(open_any(&data, &ring).expect("opens"), claims);
        }
    }

    #[test]
    fn signed_payloads_are_readable_but_not_forgeable() {
        let ring = keyring();
        let (id, keys) = ring.newest();
        let claims = sample_claims("QUJD", json!("visible-output"));
        let data = seal(
            &claims,
            SealWith::Mac { id, key: &keys.mac },
            &[0; NONCE_LEN],
        );
        let raw = URL_SAFE_NO_PAD.decode(&data).expect("b64");
        assert!(raw.windows(14).any(|w| w == b"visible-output"));
        // An AEAD key of the same entry must not verify a MAC payload.
        let untrusted = Untrusted::parse(&data).expect("parse");
        assert_eq!(untrusted.open(&keys.aead), Err(PayloadError::Forged));
    }

    #[test]
    fn wrong_retired_and_unknown_keys_are_refused() {
        let ring = keyring();
        let claims = sample_claims("QUJD", json!(1));
        let data = seal_all(&claims, &ring).remove(0);
        let other = Keyring::new(SecretKey::from_bytes([2; 32]), "t".into());
        assert_eq!(open_any(&data, &other), Err(PayloadError::Forged));

        let mut rotated = ring.clone();
        rotated
            .add(SecretKey::from_bytes([4; 32]), "t".into())
            .expect("add");
        assert_eq!(
            open_any(&data, &rotated).expect("old key still opens"),
            claims
        );
        rotated.retire(KeyId(1)).expect("retire");
        assert_eq!(open_any(&data, &rotated), Err(PayloadError::RetiredKey));

        let mut ids = Keyring::new(SecretKey::from_bytes([1; 32]), "t".into());
        ids.add(SecretKey::from_bytes([1; 32]), "t".into())
            .expect("add");
        let (new_id, keys) = ids.newest();
        let data = seal(
            &claims,
            SealWith::Aead {
                id: new_id,
                key: &keys.aead,
            },
            &[0; NONCE_LEN],
        );
        assert_eq!(open_any(&data, &ring), Err(PayloadError::UnknownKey));
    }

    #[test]
    fn unknown_versions_and_legacy_formats_are_refused() {
        let ring = keyring();
        let claims = sample_claims("QUJD", json!(1));
        let mut raw = URL_SAFE_NO_PAD
            .decode(seal_all(&claims, &ring).remove(0))
            .expect("b64");
        raw[0] = 0x71;
        assert_eq!(
            open_any(&URL_SAFE_NO_PAD.encode(&raw), &ring),
            Err(PayloadError::Malformed)
        );
        // The purpose is authenticated: a link relabelled as bound to
        // approvers (or back), as a review link or as an extended link,
        // does not open.
        for relabelled in [0x21, 0x51, 0x61] {
            raw[0] = relabelled;
            assert_eq!(
                open_any(&URL_SAFE_NO_PAD.encode(&raw), &ring),
                Err(PayloadError::Forged)
            );
        }
        assert_eq!(
            open_any("1-eyJ0b2tlbiI6IngifQ", &ring),
            Err(PayloadError::LegacyPlaintext)
        );
        assert_eq!(
            open_any("2-AYADeJ", &ring),
            Err(PayloadError::LegacyEncrypted)
        );
        assert_eq!(open_any("", &ring), Err(PayloadError::Malformed));
        assert_eq!(open_any("E***", &ring), Err(PayloadError::Malformed));
        assert_eq!(
            PayloadError::Forged.rejection(),
            PayloadError::UnknownKey.rejection(),
            "failed checks must read the same"
        );
    }

    #[test]
    fn bound_links_carry_their_gate_and_older_readers_refuse_them() {
        use crate::approvers::{Approvers, Gate};
        let ring = keyring();
        let mut claims = sample_claims("QUJD", json!({"ok": true}));
        claims.gate = Some(Gate {
            approvers: Approvers {
                emails: vec!["alice@example.com".into()],
                domains: vec!["leads.example.com".into()],
                groups: vec!["release-managers".into()],
                slack_users: Vec::new(),
            },
            requester: Some("rita@example.com".into()),
            requester_slack: None,
        });
        for data in seal_all(&claims, &ring) {
            assert!(data.starts_with('I'), "{data}");
            assert_eq!(open_any(&data, &ring), Ok(claims.clone()));
            // What a reader without the gate would do: take the claims and
            // ignore the rest. The version byte stops it first.
            let raw = URL_SAFE_NO_PAD.decode(&data).expect("b64");
            assert_eq!(raw[0] & 0xf0, 0x20);
        }
    }

    #[test]
    fn sessions_and_links_never_pass_for_each_other() {
        let ring = keyring();
        let (id, keys) = ring.newest();
        let with = SealWith::Aead {
            id,
            key: &keys.aead,
        };
        let session = seal_bytes(Purpose::Session, b"who", with, &[4; NONCE_LEN]);
        let opened = Untrusted::parse_for(&session, Purpose::Session).expect("parses");
        assert_eq!(
            opened.open_bytes(opened.keyring_key(&ring).expect("key")),
            Ok(b"who".to_vec())
        );
        assert_eq!(open_any(&session, &ring), Err(PayloadError::Malformed));
        assert_eq!(
            Untrusted::parse_for(&session, Purpose::SignIn).map(|_| ()),
            Err(PayloadError::Malformed)
        );
        let link = seal_all(&sample_claims("QUJD", json!(1)), &ring).remove(0);
        assert_eq!(
            Untrusted::parse_for(&link, Purpose::Session).map(|_| ()),
            Err(PayloadError::Malformed)
        );
        // Relabelled as a session, the link's ciphertext does not open: the
        // purpose is in the header and the working key differs.
        let mut raw = URL_SAFE_NO_PAD.decode(&link).expect("b64");
        raw[0] = 0x31;
        let relabelled =
            Untrusted::parse_for(&URL_SAFE_NO_PAD.encode(&raw), Purpose::Session).expect("parses");
        assert_eq!(
            relabelled.open_bytes(relabelled.keyring_key(&ring).expect("key")),
            Err(PayloadError::Forged)
        );
    }

    #[test]
    fn oversized_wrapped_keys_are_refused_before_any_kms_call() {
        let mut raw = vec![0x10 | KIND_ENVELOPE, 0x04, 0x01];
        raw.extend(vec![0; 1025 + NONCE_LEN + AEAD_TAG_LEN]);
        assert_eq!(
            Untrusted::parse(&URL_SAFE_NO_PAD.encode(&raw)).map(|_| ()),
            Err(PayloadError::Malformed)
        );
    }

    #[test]
    fn envelope_payloads_need_kms() {
        let ring = keyring();
        let claims = sample_claims("QUJD", json!(1));
        let data = seal_all(&claims, &ring).remove(2);
        let untrusted = Untrusted::parse(&data).expect("parse");
        assert_eq!(untrusted.key_ref(), KeyRef::Wrapped(b"wrapped-data-key"));
        assert_eq!(
            untrusted.open_with_keyring(&ring),
            Err(PayloadError::EnvelopeUnsupported)
        );
    }

    fn tampered(data: &str) -> Vec<String> {
        let raw = URL_SAFE_NO_PAD.decode(data).expect("b64");
        let mut out = Vec::new();
        for i in 0..raw.len() {
            let mut flipped = raw.clone();
            flipped[i] ^= 0x01;
            out.push(URL_SAFE_NO_PAD.encode(&flipped));
        }
        for cut in [1, raw.len() / 2, raw.len() - 1] {
            out.push(URL_SAFE_NO_PAD.encode(&raw[..cut]));
        }
        let mut longer = raw.clone();
        longer.push(0);
        out.push(URL_SAFE_NO_PAD.encode(&longer));
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn round_trip_for_random_tokens_and_outputs(
            token in "[A-Za-z0-9+/=._-]{1,300}",
            output in ".{0,200}",
            nonce in any::<[u8; 24]>(),
        ) {
            let ring = keyring();
            let claims = sample_claims(&token, json!({"note": output}));
            let (id, keys) = ring.newest();
            for with in [SealWith::Aead { id, key: &keys.aead }, SealWith::Mac { id, key: &keys.mac }] {
                let data = seal(&claims, with, &nonce);
                prop_assert_eq!(open_any(&data, &ring).expect("opens"), claims.clone());
            }
        }

        #[test]
        fn random_strings_never_open(data in "[A-Za-z0-9_-]{0,400}") {
            prop_assert!(open_any(&data, &keyring()).is_err());
        }

        #[test]
        fn random_bytes_with_a_valid_header_never_open(body in proptest::collection::vec(any::<u8>(), 0..300), kind in 0x11u8..=0x13) {
            let mut raw = vec![kind, 0, 1];
            raw.extend(body);
            prop_assert!(open_any(&URL_SAFE_NO_PAD.encode(&raw), &keyring()).is_err());
        }
    }

    #[test]
    fn every_single_byte_change_truncation_and_extension_fails() {
        let ring = keyring();
        let claims = sample_claims(&"QUJD".repeat(40), json!({"approved": true}));
        for data in seal_all(&claims, &ring) {
            for bad in tampered(&data) {
                assert!(open_any(&bad, &ring).is_err(), "a changed payload opened");
            }
        }
    }
}
