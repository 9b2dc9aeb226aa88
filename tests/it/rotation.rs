//! Key rotation end to end with a KMS-wrapped keyring: `keygen` against
//! moto's KMS, `serve` in key mode `kms`, real task tokens. Add a key and
//! old links still open; retire the old key and its links are refused with
//! "no longer valid", before any Step Functions call.

use std::path::Path;

use aws_sdk_kms::primitives::Blob;
use aws_sdk_sfn::types::ExecutionStatus;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use reqwest::Method;
use serde_json::{Value, json};
use sfn_callbacks::core::keyring::KeyId;
use sfn_callbacks::core::payload::{KeyRef, Untrusted};

use super::moto::{
    Aws, Moto, approval, assert_private, call, create, keygen, output_of, serve, succeeded,
    tampered, url_of,
};
use super::support::data_of;

const WRAPPED_PREFIX: &str = "sfn-callbacks-kms-keyring-v1:";

/// The key a link was sealed with, read from its payload header.
fn key_of(url: &str) -> KeyId {
    match Untrusted::parse(&data_of(url))
        .expect("a sealed payload")
        .key_ref()
    {
        KeyRef::AeadKey(id) => id,
        other => panic!("not an encrypted keyring link: {other:?}"),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The keyring inside a KMS-wrapped file, decrypted by moto's KMS directly
/// (not through sfn-callbacks), after checking that the file holds neither
/// the keyring nor any of its secrets in a form we can name.
async fn unwrapped(aws: &Aws, path: &Path) -> Value {
    assert_private(path);
    let text = std::fs::read_to_string(path).expect("keyring");
    let encoded = text.trim().strip_prefix(WRAPPED_PREFIX).unwrap_or_else(|| {
        let start: String = text.chars().take(40).collect();
        panic!("the keyring is not KMS-wrapped; it starts {start:?}")
    });
    let blob = STANDARD.decode(encoded).expect("base64");
    let plain = aws
        .kms
        .decrypt()
        .key_id(&aws.kms_key)
        .ciphertext_blob(Blob::new(blob.clone()))
        .encryption_context("purpose", "sfn-callbacks/v1/keyring")
        .send()
        .await
        .expect("moto's KMS decrypts the keyring")
        .plaintext
        .expect("plaintext");
    let ring: Value = serde_json::from_slice(plain.as_ref()).expect("a JSON keyring inside");
    assert_eq!(ring["format"], "sfn-callbacks-keyring-v1");
    assert!(!contains(&blob, plain.as_ref()));
    assert!(!contains(&blob, b"sfn-callbacks-keyring-v1"));
    assert!(!text.contains("sfn-callbacks-keyring-v1"));
    for key in ring["keys"].as_array().expect("keys") {
        let Some(secret) = key["secret"].as_str() else {
            continue;
        };
        let raw = URL_SAFE_NO_PAD.decode(secret).expect("base64url secret");
        assert_eq!(raw.len(), 32);
        let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        let forms = [
            secret.to_owned(),
            STANDARD.encode(&raw),
            STANDARD_NO_PAD.encode(&raw),
            URL_SAFE.encode(&raw),
            hex.clone(),
            hex.to_uppercase(),
        ];
        for form in &forms {
            assert!(
                !text.contains(form.as_str()),
                "key {} is in the file",
                key["id"]
            );
            assert!(
                !contains(&blob, form.as_bytes()),
                "key {} is in the blob",
                key["id"]
            );
        }
        assert!(!contains(&blob, &raw), "key {} is in the blob", key["id"]);
    }
    ring
}

/// The ids of the active keys and of the retired ones.
fn key_ids(ring: &Value) -> (Vec<u64>, Vec<u64>) {
    let keys = ring["keys"].as_array().expect("keys");
    let ids = |retired: bool| {
        keys.iter()
            .filter(|k| k["retired"].as_bool().unwrap_or(false) == retired)
            .map(|k| k["id"].as_u64().expect("id"))
            .collect()
    };
    (ids(false), ids(true))
}

fn secret_of(ring: &Value, id: u64) -> Value {
    ring["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["id"] == id)
        .map(|k| k["secret"].clone())
        .unwrap_or_else(|| panic!("no key {id}"))
}

/// Clicks an `approve` link and checks that its execution succeeded with
/// the approval's output.
async fn approval_completes(aws: &Aws, url: &str, arn: &str) {
    let done = call(Method::POST, url, None, None).await;
    assert_eq!(done.status, 200, "{}", done.text);
    let out = aws.finished(arn).await;
    assert_eq!(out.status, ExecutionStatus::Succeeded);
    assert_eq!(
        output_of(&out),
        json!({"approved": true, "by": "alice@example.com"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_with_a_kms_wrapped_keyring() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    let dir = moto.dir.path();
    let mut aws = moto.aws;
    let kms_key = aws.kms_key.clone();
    let keyring = dir.join("keyring.kms");
    let keyring_path = keyring.to_str().expect("utf-8 path").to_owned();
    let kms_env = [
        ("KEY_MODE", "kms"),
        ("KMS_KEY_ID", kms_key.as_str()),
        ("KEYRING_FILE", keyring_path.as_str()),
    ];

    // 1. keygen writes a wrapped keyring with one key.
    succeeded(&keygen(&aws, &keyring, &["--kms-key-id", &kms_key]));
    let ring = unwrapped(&aws, &keyring).await;
    assert_eq!(key_ids(&ring), (vec![1], vec![]));
    let first = secret_of(&ring, 1);

    // 2. Links A and C, sealed with key 1. C opens while key 1 is active.
    let server = serve(&aws, dir, "serve-key-1", &kms_env).await;
    let (arn_a, token_a) = aws.start("link-a").await;
    let (arn_c, token_c) = aws.start("link-c").await;
    let a = url_of(&create(&server, &approval(&token_a)).await, "approve");
    let c = url_of(&create(&server, &approval(&token_c)).await, "approve");
    assert_eq!((key_of(&a), key_of(&c)), (KeyId(1), KeyId(1)));
    let page = call(Method::GET, &c, Some("text/html"), None).await;
    assert_eq!(page.status, 200, "{}", page.text);

    // 3. Add key 2. The keyring stays wrapped and keeps key 1 as it was.
    let added = succeeded(&keygen(
        &aws,
        &keyring,
        &["--add", "--kms-key-id", &kms_key],
    ));
    assert!(added.contains("added key 2"), "{added}");
    let ring = unwrapped(&aws, &keyring).await;
    assert_eq!(key_ids(&ring), (vec![1, 2], vec![]));
    assert_eq!(secret_of(&ring, 1), first);
    let second = secret_of(&ring, 2);
    assert_ne!(second, first);
    // Without the KMS key, keygen cannot read the wrapped keyring, and
    // leaves it as it was rather than rewriting it in plain.
    let before = std::fs::read(&keyring).expect("keyring");
    let refused = keygen(&aws, &keyring, &["--add"]);
    assert!(!refused.status.success(), "keygen --add without KMS");
    assert_eq!(std::fs::read(&keyring).expect("keyring"), before);

    drop(server);
    let server = serve(&aws, dir, "serve-key-2", &kms_env).await;

    // Link B is sealed with key 2, and opens.
    let (arn_b, token_b) = aws.start("link-b").await;
    let b_urls = create(&server, &approval(&token_b)).await;
    let b = url_of(&b_urls, "approve");
    assert_eq!(key_of(&b), KeyId(2));
    let beat = call(Method::POST, &url_of(&b_urls, "ping"), None, None).await;
    assert_eq!(beat.status, 200, "{}", beat.text);
    aws.assert_running(&arn_b, "a heartbeat keeps B's task waiting")
        .await;

    // Link A, sealed with key 1 before the rotation, completes its execution.
    approval_completes(&aws, &server.link(&a), &arn_a).await;

    // 4. Retire key 1. The keyring stays wrapped, drops key 1's secret and
    // keeps key 2 as it was.
    let retired = succeeded(&keygen(
        &aws,
        &keyring,
        &["--retire", "1", "--kms-key-id", &kms_key],
    ));
    assert!(retired.contains("retired key 1"), "{retired}");
    let ring = unwrapped(&aws, &keyring).await;
    assert_eq!(key_ids(&ring), (vec![2], vec![1]));
    assert_eq!(secret_of(&ring, 1), Value::Null);
    assert_eq!(secret_of(&ring, 2), second);

    drop(server);
    let server = serve(&aws, dir, "serve-retired", &kms_env).await;

    // Link C, sealed with the retired key, is gone: no longer valid; its
    // execution is untouched.
    let refused = call(Method::POST, &server.link(&c), None, None).await;
    assert_eq!(refused.status, 410, "{}", refused.text);
    let body = refused.json();
    assert_eq!(body["error"], "InvalidPayload", "{body}");
    let message = body["message"].as_str().expect("message");
    assert!(message.contains("no longer valid"), "{message}");
    assert!(message.contains("retired"), "{message}");
    aws.assert_running(&arn_c, "a link of a retired key must not act")
        .await;
    // Used link A now gets the same answer: the key check comes first.
    let again = call(Method::POST, &server.link(&a), None, None).await;
    assert_eq!(
        (again.status, again.json()["message"].as_str()),
        (refused.status, Some(message))
    );
    // An altered link is told apart from a retired one.
    let forged = call(Method::POST, &tampered(&server.link(&b)), None, None).await;
    assert_eq!(forged.status, 400, "{}", forged.text);
    let forged_message = forged.json()["message"]
        .as_str()
        .expect("message")
        .to_owned();
    assert!(
        !forged_message.contains("no longer valid"),
        "{forged_message}"
    );
    let log = std::fs::read_to_string(&server.log).expect("log");
    assert!(log.contains(r#""open_error":"RetiredKey""#), "{log}");

    // Link B, sealed with key 2, completes its execution.
    approval_completes(&aws, &server.link(&b), &arn_b).await;
    // A link made now is sealed with key 2 as well.
    let (_, token_d) = aws.start("link-d").await;
    let d = url_of(&create(&server, &approval(&token_d)).await, "approve");
    assert_eq!(key_of(&d), KeyId(2));
}
