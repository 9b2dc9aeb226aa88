//! Link length: the 712-character token case that broke mail clients.

use std::sync::Arc;

use axum::http::Method;
use base64::Engine as _;
use serde_json::json;
use sfn_callbacks::keys::{EnvelopeLimits, KeyMode, KeySource};

use super::support::{App, FAKE_KMS_KEY, FakeKms, keyring};

/// Exchange breaks lines after 998 characters.
const MAIL_LIMIT: usize = 998;
const BASE: &str = "https://abc123defg.execute-api.us-east-1.amazonaws.com/prod";

fn token_712() -> String {
    // 534 random bytes in standard base64 make 712 characters, like real
    // tokens (a new one each time: nothing in a link may depend on a
    // token's bytes compressing).
    let bytes: [u8; 534] = sfn_callbacks::system::random_bytes();
    let token = base64::engine::general_purpose::STANDARD.encode(bytes);
    assert_eq!(token.len(), 712);
    token
}

async fn lengths(keys: KeySource) -> (usize, usize) {
    lengths_with(keys, json!({})).await
}

/// The approve and reject URL lengths of the request, with `extra` fields.
async fn lengths_with(keys: KeySource, extra: serde_json::Value) -> (usize, usize) {
    let urls = answer(keys, extra).await;
    (urls.0, urls.1)
}

/// The approve, reject and (when asked for) review URL lengths.
async fn answer(keys: KeySource, extra: serde_json::Value) -> (usize, usize, Option<usize>) {
    let app = App::with_keys(keys, |s| {
        s.app.base_url = Some(BASE.into());
        s.app.features.sign_in = true;
    });
    let mut body = json!({
        "token": token_712(),
        "actions": [
            {"name": "approve", "type": "success", "output": {"approved": true, "by": "alice@example.com"}},
            {"name": "reject", "type": "failure"}
        ]
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        if extra.contains_key("callback_id") {
            body.remove("token");
        }
        body.extend(extra.clone());
    }
    let reply = app
        .request(
            Method::POST,
            "/urls",
            &[("content-type", "application/json")],
            body.to_string(),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let answer = reply.json();
    let urls = &answer["urls"];
    let approve = urls["approve"].as_str().expect("url").to_owned();
    let prefix = format!("{BASE}/respond?action=approve&type=success&data=");
    assert_eq!(prefix.len(), 101);
    assert!(approve.starts_with(&prefix));
    (
        approve.len(),
        urls["reject"].as_str().expect("url").len(),
        answer["review_url"].as_str().map(str::len),
    )
}

#[tokio::test]
async fn a_712_character_token_fits_in_998_characters_in_the_keyring_modes() {
    let modes = [
        ("local", KeySource::keyring(KeyMode::Local, keyring())),
        ("kms", KeySource::keyring(KeyMode::Kms, keyring())),
        ("signed", KeySource::keyring(KeyMode::Signed, keyring())),
        (
            "kms-envelope",
            KeySource::envelope(
                Arc::new(FakeKms::default()),
                FAKE_KMS_KEY.into(),
                EnvelopeLimits::default(),
            ),
        ),
    ];
    println!(
        "URL length for a 712-character token (101-character prefix); sfn-callback-urls made 2,217:"
    );
    for (name, keys) in modes {
        let (approve, reject) = lengths(keys).await;
        println!("  {name:<13} approve {approve:>5}  reject {reject:>5}");
        if name == "kms-envelope" {
            // The wrapped data key travels in the link; it still fits
            // Outlook's limit of about 2,048 characters.
            assert!(
                approve <= 2048,
                "kms-envelope: approve URL is {approve} characters"
            );
        } else {
            assert!(
                approve <= MAIL_LIMIT,
                "{name}: approve URL is {approve} characters"
            );
            assert!(
                reject <= MAIL_LIMIT,
                "{name}: reject URL is {reject} characters"
            );
        }
    }
}

#[tokio::test]
async fn bound_to_one_approver_email_and_domain_it_still_fits() {
    let gate = json!({"approvers": {"emails": ["alice@example.com"], "domains": ["example.com"]}});
    for (name, keys) in [
        ("local", KeySource::keyring(KeyMode::Local, keyring())),
        ("signed", KeySource::keyring(KeyMode::Signed, keyring())),
    ] {
        let (plain, _) = lengths(KeySource::keyring(KeyMode::Local, keyring())).await;
        let (approve, reject) = lengths_with(keys, gate.clone()).await;
        println!("  {name:<13} bound: approve {approve:>5}  reject {reject:>5} (unbound {plain})");
        assert!(approve > plain, "the gate is in the link");
        assert!(
            approve <= MAIL_LIMIT,
            "{name}: approve URL is {approve} characters"
        );
        assert!(
            reject <= MAIL_LIMIT,
            "{name}: reject URL is {reject} characters"
        );
    }
}

#[tokio::test]
async fn the_review_link_of_approve_and_reject_fits_in_a_mail_line() {
    for (name, keys) in [
        ("local", KeySource::keyring(KeyMode::Local, keyring())),
        ("kms", KeySource::keyring(KeyMode::Kms, keyring())),
        ("signed", KeySource::keyring(KeyMode::Signed, keyring())),
    ] {
        let (approve, reject, review) = answer(keys, json!({"review": true})).await;
        let review = review.expect("a review_url");
        println!("  {name:<13} review {review:>5} (approve {approve}, reject {reject})");
        assert!(
            review <= MAIL_LIMIT,
            "{name}: the review URL is {review} characters"
        );
    }
}

/// A callback ID of `len` characters as Lambda issues them: standard
/// base64 (the 208-character ones end in one `=`).
fn callback_id(len: usize) -> String {
    let bytes: Vec<u8> = (0..len / 4 * 3 - usize::from(len == 208))
        .map(|i| (i * 11 + 5) as u8)
        .collect();
    let id = base64::engine::general_purpose::STANDARD.encode(bytes);
    assert_eq!(id.len(), len);
    id
}

#[tokio::test]
async fn a_208_character_callback_id_fits_in_998_characters_in_the_keyring_modes() {
    let (short, long) = (callback_id(208), callback_id(1024));
    assert!(short.ends_with('=') && !short.ends_with("=="));
    println!(
        "URL length for a durable execution's callback ID (101-character prefix), two actions:"
    );
    let source = |name: &str| match name {
        "local" => KeySource::keyring(KeyMode::Local, keyring()),
        "kms" => KeySource::keyring(KeyMode::Kms, keyring()),
        "signed" => KeySource::keyring(KeyMode::Signed, keyring()),
        _ => KeySource::envelope(
            Arc::new(FakeKms::default()),
            FAKE_KMS_KEY.into(),
            EnvelopeLimits::default(),
        ),
    };
    for name in ["local", "kms", "signed", "kms-envelope"] {
        let with = |id: &str| json!({"callback_id": id});
        let (approve, reject) = lengths_with(source(name), with(&short)).await;
        let (long_approve, long_reject) = lengths_with(source(name), with(&long)).await;
        println!(
            "  {name:<13} 208 chars: approve {approve:>5}  reject {reject:>5}   1,024 chars: approve {long_approve:>5}  reject {long_reject:>5}"
        );
        // The wrapped data key travels in a kms-envelope link.
        let limit = if name == "kms-envelope" {
            2048
        } else {
            MAIL_LIMIT
        };
        assert!(
            approve <= limit,
            "{name}: approve URL is {approve} characters"
        );
        assert!(reject <= limit, "{name}: reject URL is {reject} characters");
        // The longest ID Lambda allows still makes a link every browser
        // and API Gateway takes.
        assert!(long_approve <= 2048, "{name}: {long_approve} characters");
        // Sealed as bytes: three quarters of the ID, a third again in base64url.
        assert!(
            long_approve - approve < (1024 - 208) + 10,
            "{approve} → {long_approve}"
        );
    }
}
