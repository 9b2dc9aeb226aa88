//! Random `data` values never open (as an action's link or a review link)
//! and never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sfn_callbacks_core::keyring::{Keyring, SecretKey};
use sfn_callbacks_core::payload::{KeyRef, Untrusted};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let ring = Keyring::new(SecretKey::from_bytes([7; 32]), "fuzz".into());
    if let Ok(untrusted) = Untrusted::parse(text) {
        let opened = match untrusted.key_ref() {
            KeyRef::Wrapped(_) => untrusted.open_link(&SecretKey::from_bytes([9; 32])),
            _ => untrusted
                .keyring_key(&ring)
                .and_then(|key| untrusted.open_link(key)),
        };
        assert!(opened.is_err(), "random input opened");
    }
});
