//! Slack's request signature: every request Slack sends to the Request URL
//! carries `X-Slack-Request-Timestamp` and `X-Slack-Signature`, the
//! latter `v0=` and the hex HMAC-SHA256, keyed by the app's signing
//! secret, of `v0:{timestamp}:{raw body}`. Checked before anything of the
//! request is read.

use hmac::{KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// How far a request's timestamp may be from now, either way (Slack's own
/// window): an older signed request is a replay.
pub const MAX_SKEW_SECS: i64 = 5 * 60;

/// Why a request is not Slack's. Never says which byte differed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// A header is missing or not ASCII.
    #[error("the request has no {0} header")]
    Missing(&'static str),
    /// The timestamp is not a number of seconds.
    #[error("X-Slack-Request-Timestamp is not a Unix time")]
    BadTimestamp,
    /// The timestamp is outside the window: an old request replayed, or a
    /// clock far off.
    #[error("X-Slack-Request-Timestamp is more than 5 minutes from now")]
    Stale,
    /// The signature is not `v0=` and 64 hex digits, or not the one the
    /// secret makes for this body.
    #[error("X-Slack-Signature does not match the request")]
    Mismatch,
}

/// The `v0=…` signature of `body` sent at `timestamp`.
pub fn sign(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    let mut mac = mac(secret);
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(3 + 64);
    out.push_str("v0=");
    for byte in digest {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn mac(secret: &[u8]) -> hmac::Hmac<Sha256> {
    <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC takes keys of any length")
}

/// Checks that Slack sent `body` (the raw bytes, before any decoding) with
/// these headers, at most [`MAX_SKEW_SECS`] from `now_secs`. The comparison
/// takes the same time wherever the signatures differ.
pub fn verify(
    secret: &[u8],
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now_secs: i64,
) -> Result<(), SignatureError> {
    let timestamp = timestamp.ok_or(SignatureError::Missing("X-Slack-Request-Timestamp"))?;
    let signature = signature.ok_or(SignatureError::Missing("X-Slack-Signature"))?;
    let sent: i64 = timestamp
        .parse()
        .map_err(|_| SignatureError::BadTimestamp)?;
    if sent.abs_diff(now_secs) > MAX_SKEW_SECS.unsigned_abs() {
        return Err(SignatureError::Stale);
    }
    let expected = sign(secret, timestamp, body);
    // Lower-case hex is what Slack sends; anything else simply differs.
    if expected.len() == signature.len()
        && bool::from(expected.as_bytes().ct_eq(signature.as_bytes()))
    {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example of Slack's guide to verifying requests.
    const SECRET: &[u8] = b"8f742231b10e8888abcd99yyyzzz85a5";
    const TIMESTAMP: &str = "1531420618";
    const BODY: &[u8] = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const EXPECTED: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    #[test]
    fn signs_slacks_published_example() {
        assert_eq!(sign(SECRET, TIMESTAMP, BODY), EXPECTED);
        assert_eq!(
            verify(SECRET, Some(TIMESTAMP), Some(EXPECTED), BODY, 1_531_420_618),
            Ok(())
        );
    }

    #[test]
    fn refuses_what_slack_did_not_sign_now() {
        let now = 1_531_420_618;
        let check = |secret: &[u8], ts: Option<&str>, sig: Option<&str>, body: &[u8], now| {
            verify(secret, ts, sig, body, now)
        };
        let other = b"another-secret";
        assert_eq!(
            check(other, Some(TIMESTAMP), Some(EXPECTED), BODY, now),
            Err(SignatureError::Mismatch)
        );
        let mut altered = BODY.to_vec();
        altered[10] ^= 1;
        assert_eq!(
            check(SECRET, Some(TIMESTAMP), Some(EXPECTED), &altered, now),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            check(
                SECRET,
                Some(TIMESTAMP),
                Some(&EXPECTED.to_uppercase()),
                BODY,
                now
            ),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            check(SECRET, Some(TIMESTAMP), Some("v0=00"), BODY, now),
            Err(SignatureError::Mismatch)
        );
        // The window is five minutes either way, inclusive.
        assert_eq!(
            check(SECRET, Some(TIMESTAMP), Some(EXPECTED), BODY, now + 300),
            Ok(())
        );
        assert_eq!(
            check(SECRET, Some(TIMESTAMP), Some(EXPECTED), BODY, now + 301),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            check(SECRET, Some(TIMESTAMP), Some(EXPECTED), BODY, now - 301),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            check(SECRET, None, Some(EXPECTED), BODY, now),
            Err(SignatureError::Missing("X-Slack-Request-Timestamp"))
        );
        assert_eq!(
            check(SECRET, Some(TIMESTAMP), None, BODY, now),
            Err(SignatureError::Missing("X-Slack-Signature"))
        );
        assert_eq!(
            check(SECRET, Some("soon"), Some(EXPECTED), BODY, now),
            Err(SignatureError::BadTimestamp)
        );
    }
}
