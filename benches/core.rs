//! Micro-benchmarks of the pure core, per key mode: seal and open one
//! payload, CreateUrls with two actions, and a callback up to the Step
//! Functions call. `scripts/bench.sh` runs them and writes BENCHMARKS.md.
//!
//! `kms` mode seals and opens exactly like `local` (its keyring is only
//! decrypted at start); `kms-envelope` is measured with its data key already
//! cached, as it is for all but one link in thousands.

use std::hint::black_box;

use base64::Engine as _;
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use sfn_callbacks::core::Features;
use sfn_callbacks::core::callback::{decide, verify};
use sfn_callbacks::core::create::{CreateRequest, make_urls};
use sfn_callbacks::core::keyring::{Keyring, SecretKey};
use sfn_callbacks::core::payload::{KeyRef, SealWith, TransactionId, Untrusted, WrappedKey, seal};
use sfn_callbacks::core::template::Params;
use time::OffsetDateTime;

const BASE: &str = "https://abc123defg.execute-api.us-east-1.amazonaws.com/prod";

fn token() -> String {
    let bytes: Vec<u8> = (0..534u32).map(|i| (i * 7 + 3) as u8).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn request_body() -> String {
    json!({
        "token": token(),
        "actions": [
            {"name": "approve", "type": "success", "output": {"approved": true, "by": "alice@example.com"}},
            {"name": "reject", "type": "failure"}
        ]
    })
    .to_string()
}

struct Modes {
    ring: Keyring,
    data_key: SecretKey,
    wrapped: WrappedKey,
}

impl Modes {
    fn new() -> Self {
        Self {
            ring: Keyring::new(SecretKey::from_bytes([7; 32]), "bench".into()),
            data_key: SecretKey::from_bytes([9; 32]),
            wrapped: WrappedKey::new(vec![0xAB; 184]).expect("short"),
        }
    }

    fn all(&self) -> [(&'static str, SealWith<'_>); 3] {
        let (id, keys) = self.ring.newest();
        [
            (
                "local+kms",
                SealWith::Aead {
                    id,
                    key: &keys.aead,
                },
            ),
            ("signed", SealWith::Mac { id, key: &keys.mac }),
            (
                "kms-envelope",
                SealWith::Envelope {
                    wrapped: &self.wrapped,
                    key: &self.data_key,
                },
            ),
        ]
    }

    fn open(&self, data: &str) -> sfn_callbacks::core::payload::Claims {
        let untrusted = Untrusted::parse(data).expect("parse");
        match untrusted.key_ref() {
            KeyRef::Wrapped(_) => untrusted.open(&self.data_key),
            _ => untrusted.open_with_keyring(&self.ring),
        }
        .expect("opens")
    }
}

fn benches(c: &mut Criterion) {
    let modes = Modes::new();
    let now = OffsetDateTime::now_utc();
    let body = request_body();
    let request = CreateRequest::parse(body.as_bytes(), Features::default(), now).expect("valid");
    let claims = sfn_callbacks::core::create::claims_for(&request, TransactionId([1; 16]), now);
    let approve = &claims[0];
    let params = Params::new();
    let policy = Features::default();

    for (mode, with) in modes.all() {
        let data = seal(approve, with, &[3; 24]);
        c.bench_function(&format!("seal/{mode}"), |b| {
            b.iter(|| seal(black_box(approve), with, &[3; 24]));
        });
        c.bench_function(&format!("open/{mode}"), |b| {
            b.iter(|| modes.open(black_box(&data)));
        });
        c.bench_function(&format!("create_urls_2_actions/{mode}"), |b| {
            b.iter(|| {
                let request =
                    CreateRequest::parse(black_box(body.as_bytes()), Features::default(), now)
                        .expect("valid");
                make_urls(&request, TransactionId([1; 16]), now, BASE, |what| {
                    what.seal(with, &[3; 24])
                })
                .expect("urls")
            });
        });
        c.bench_function(&format!("callback_to_sfn_call/{mode}"), |b| {
            b.iter(|| {
                let claims = modes.open(black_box(&data));
                verify(&claims, Some("approve"), Some("success"), now).expect("valid");
                decide(&claims, &params, None, None, policy).expect("decides")
            });
        });
    }
}

criterion_group! {
    name = core;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(std::time::Duration::from_millis(300))
        .measurement_time(std::time::Duration::from_millis(1200));
    targets = benches
}
criterion_main!(core);
