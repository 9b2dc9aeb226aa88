//! Make callback URLs in-process with the library, with no network call:
//! what a Rust Lambda that already holds the keyring would do.
//!
//! Run with `cargo run --example make_urls`. It prints the CreateUrls output
//! and the length of the `approve` link in each keyring mode.

use serde_json::json;
use sfn_callbacks::core::Features;
use sfn_callbacks::core::create::{CreateRequest, make_urls};
use sfn_callbacks::core::keyring::{Keyring, SecretKey};
use sfn_callbacks::core::payload::{SealWith, TransactionId};
use sfn_callbacks::system::random_bytes;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // In a real deployment the keyring comes from `sfn-callbacks keygen`.
    let keyring = Keyring::new(SecretKey::from_bytes(random_bytes()), "example".into());
    let now = time::OffsetDateTime::now_utc();
    let body = json!({
        "token": "AAAAKgAAAAIAAAAAAAAAAWzm0example0task0token0only0for0show==",
        "actions": [
            {"name": "approve", "type": "success", "output": {"approved": true, "by": "alice@example.com"}},
            {"name": "reject", "type": "failure", "error": "Rejected"}
        ]
    });
    let request = CreateRequest::parse(body.to_string().as_bytes(), Features::default(), now)?;
    let base = "https://abc123defg.execute-api.us-east-1.amazonaws.com/prod";
    let (id, keys) = keyring.newest();

    let modes = [
        (
            "encrypted (local, kms)",
            SealWith::Aead {
                id,
                key: &keys.aead,
            },
        ),
        ("signed", SealWith::Mac { id, key: &keys.mac }),
    ];
    for (mode, with) in modes {
        let output = make_urls(&request, TransactionId(random_bytes()), now, base, |what| {
            what.seal(with, &random_bytes())
        })?;
        println!("{mode}:\n{}", serde_json::to_string_pretty(&output)?);
        let approve = output.urls["approve"].as_str().unwrap_or_default();
        println!("{mode}: the approve link is {} characters\n", approve.len());
    }
    Ok(())
}
