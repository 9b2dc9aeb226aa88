//! Sessions and sign-in states: random cookie and `state` values never
//! open and never panic; a real session with any one byte changed never
//! opens; decoding any plaintext never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sfn_callbacks_core::approvers::Identity;
use sfn_callbacks_core::keyring::{Keyring, SecretKey};
use sfn_callbacks_core::payload::{Purpose, SealWith, Untrusted, seal_bytes};
use sfn_callbacks_core::session::{BINDING_LEN, Session, SignIn};

fn opens(text: &str, purpose: Purpose, ring: &Keyring) -> bool {
    Untrusted::parse_for(text, purpose)
        .and_then(|u| u.keyring_key(ring).and_then(|key| u.open_bytes(key)))
        .is_ok()
}

fuzz_target!(|data: &[u8]| {
    let ring = Keyring::new(SecretKey::from_bytes([7; 32]), "fuzz".into());
    if let Ok(text) = std::str::from_utf8(data) {
        for purpose in [Purpose::Session, Purpose::SignIn] {
            assert!(!opens(text, purpose, &ring), "random input opened");
        }
    }
    let _ = Session::decode(data, 0);
    let _ = SignIn::decode(data, &[0; BINDING_LEN], 0);

    if data.len() >= 2 {
        let (id, keys) = ring.newest();
        let session = Session {
            identity: Identity {
                issuer: "https://idp.example.com".into(),
                subject: "alice".into(),
                email: Some("alice@example.com".into()),
                email_verified: true,
                name: None,
                groups: vec!["leads".into()],
                slack_user: None,
            },
            expires_at_secs: 1_900_000_000,
        };
        let sealed = seal_bytes(
            Purpose::Session,
            &session.encode(),
            SealWith::Aead {
                id,
                key: &keys.aead,
            },
            &[3; 24],
        );
        assert!(opens(&sealed, Purpose::Session, &ring));
        let mut bytes = sealed.into_bytes();
        let at = usize::from(data[0]) % bytes.len();
        let replacement = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
            [usize::from(data[1]) % 64];
        if bytes[at] != replacement {
            bytes[at] = replacement;
            let changed = String::from_utf8(bytes).expect("ascii");
            // The last character holds only some bits of the tag: a change
            // there may decode to the same bytes, which is not a change.
            if at + 1 < changed.len() {
                assert!(
                    !opens(&changed, Purpose::Session, &ring),
                    "an altered session opened"
                );
            }
        }
    }
});
