//! What sign-in keeps, without a server to keep it: the session a cookie
//! carries, and the sign-in in progress that the OAuth `state` carries.
//! Both are sealed like links (see [`super::payload`]) under keys derived
//! for them alone; this module is their plaintext and their checks.

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::approvers::Identity;

/// The longest a session may last, in seconds (24 hours).
pub const MAX_SESSION_SECS: i64 = 24 * 3600;
/// How long a sign-in may take, from the click to the provider's answer.
pub const SIGN_IN_SECS: i64 = 600;
/// Bytes of the value that binds a sign-in's `state` to its browser.
pub const BINDING_LEN: usize = 16;

/// A signed-in person, until `expires_at_secs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Who the provider said they are.
    pub identity: Identity,
    /// When the session ends, in Unix seconds.
    pub expires_at_secs: i64,
}

/// A sign-in in progress: what the callback needs to finish it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignIn {
    /// Random bytes, also in a short-lived cookie: a `state` only finishes
    /// in the browser that started it.
    pub binding: [u8; BINDING_LEN],
    /// The PKCE code verifier.
    pub verifier: String,
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// The query of the link to return to (`/respond?{query}`): never a
    /// URL, so the callback cannot be made to redirect elsewhere.
    pub return_query: String,
    /// When the sign-in stops being accepted, in Unix seconds.
    pub expires_at_secs: i64,
}

/// Why a session or sign-in state was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionError {
    /// Not a record of ours (only possible with a bug, as it was sealed).
    Malformed,
    /// Past its end.
    Expired,
    /// A sign-in state from another browser.
    NotBound,
}

#[derive(Serialize, Deserialize)]
struct WireIdentity {
    iss: String,
    sub: String,
    email: Option<String>,
    email_verified: bool,
    name: Option<String>,
    groups: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct WireSession {
    who: WireIdentity,
    exp: i64,
}

#[derive(Serialize, Deserialize)]
struct WireSignIn {
    binding: [u8; BINDING_LEN],
    verifier: String,
    nonce: String,
    query: String,
    exp: i64,
}

impl Session {
    /// The plaintext to seal.
    pub fn encode(&self) -> Vec<u8> {
        let who = &self.identity;
        postcard::to_allocvec(&WireSession {
            who: WireIdentity {
                iss: who.issuer.clone(),
                sub: who.subject.clone(),
                email: who.email.clone(),
                email_verified: who.email_verified,
                name: who.name.clone(),
                groups: who.groups.clone(),
            },
            exp: self.expires_at_secs,
        })
        .expect("postcard encodes")
    }

    /// Reads opened plaintext; refuses a session past its end at `now_secs`.
    pub fn decode(plain: &[u8], now_secs: i64) -> Result<Self, SessionError> {
        let wire: WireSession = postcard::from_bytes(plain).map_err(|_| SessionError::Malformed)?;
        if now_secs >= wire.exp {
            return Err(SessionError::Expired);
        }
        let who = wire.who;
        Ok(Self {
            identity: Identity {
                issuer: who.iss,
                subject: who.sub,
                email: who.email,
                email_verified: who.email_verified,
                name: who.name,
                groups: who.groups,
                slack_user: None,
            },
            expires_at_secs: wire.exp,
        })
    }
}

impl SignIn {
    /// The plaintext to seal.
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_allocvec(&WireSignIn {
            binding: self.binding,
            verifier: self.verifier.clone(),
            nonce: self.nonce.clone(),
            query: self.return_query.clone(),
            exp: self.expires_at_secs,
        })
        .expect("postcard encodes")
    }

    /// Reads opened plaintext, and checks it is current and that `binding`
    /// (from the browser's cookie) is the one it was started with,
    /// comparing in constant time.
    pub fn decode(plain: &[u8], binding: &[u8], now_secs: i64) -> Result<Self, SessionError> {
        let wire: WireSignIn = postcard::from_bytes(plain).map_err(|_| SessionError::Malformed)?;
        if !bool::from(wire.binding.as_slice().ct_eq(binding)) {
            return Err(SessionError::NotBound);
        }
        if now_secs >= wire.exp {
            return Err(SessionError::Expired);
        }
        Ok(Self {
            binding: wire.binding,
            verifier: wire.verifier,
            nonce: wire.nonce,
            return_query: wire.query,
            expires_at_secs: wire.exp,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> Identity {
        Identity {
            issuer: "https://idp.example.com".into(),
            subject: "a1".into(),
            email: Some("alice@example.com".into()),
            email_verified: true,
            name: Some("Alice".into()),
            groups: vec!["leads".into()],
            slack_user: None,
        }
    }

    #[test]
    fn sessions_round_trip_until_they_end() {
        let session = Session {
            identity: alice(),
            expires_at_secs: 1_000,
        };
        let plain = session.encode();
        assert_eq!(Session::decode(&plain, 999), Ok(session));
        assert_eq!(Session::decode(&plain, 1_000), Err(SessionError::Expired));
        assert_eq!(
            Session::decode(&plain[..plain.len() - 3], 0),
            Err(SessionError::Malformed)
        );
    }

    #[test]
    fn sign_ins_finish_only_in_their_browser_and_in_time() {
        let sign_in = SignIn {
            binding: [7; BINDING_LEN],
            verifier: "v".repeat(43),
            nonce: "n".repeat(22),
            return_query: "action=approve&type=success&data=E".into(),
            expires_at_secs: 600,
        };
        let plain = sign_in.encode();
        assert_eq!(SignIn::decode(&plain, &[7; BINDING_LEN], 0), Ok(sign_in));
        assert_eq!(
            SignIn::decode(&plain, &[8; BINDING_LEN], 0),
            Err(SessionError::NotBound)
        );
        assert_eq!(SignIn::decode(&plain, &[], 0), Err(SessionError::NotBound));
        assert_eq!(
            SignIn::decode(&plain, &[7; BINDING_LEN], 600),
            Err(SessionError::Expired)
        );
    }
}
