//! End to end: the `sfn-callbacks` binary against moto_server, with real
//! task tokens, through every row of the contract that crosses AWS.

use std::time::Duration;

use aws_sdk_sfn::types::ExecutionStatus;
use serde_json::json;

use super::moto::{
    Moto, approval, assert_private, call, create, expiring_in, keygen, output_of, serve, succeeded,
    tampered, url_of,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_to_end_against_moto() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    let dir = &moto.dir;
    let mut aws = moto.aws;

    // The keyring, encrypted under a moto KMS key by the real keygen.
    let keyring = dir.path().join("keyring.kms");
    succeeded(&keygen(&aws, &keyring, &["--kms-key-id", &aws.kms_key]));
    let text = std::fs::read_to_string(&keyring).expect("keyring");
    assert!(
        text.starts_with("sfn-callbacks-kms-keyring-v1:"),
        "the keyring must be stored encrypted"
    );
    assert_private(&keyring);
    let keyring_path = keyring.to_str().expect("utf-8 path").to_owned();
    // Debug logging on, so the secrets scan at the end covers everything logged.
    let kms_key = aws.kms_key.clone();
    let kms_env = [
        ("KEY_MODE", "kms"),
        ("KMS_KEY_ID", kms_key.as_str()),
        ("KEYRING_FILE", keyring_path.as_str()),
        ("RUST_LOG", "debug"),
    ];
    let server = serve(&aws, dir.path(), "serve-kms", &kms_env).await;
    let mut secrets: Vec<String> = Vec::new();

    // Success: GET and HEAD leave the task alone, POST decides it.
    let (arn, token) = aws.start("success").await;
    secrets.push(token.clone());
    let created = create(&server, &approval(&token)).await;
    let approve = url_of(&created, "approve");
    secrets.push(approve.clone());
    let page = call(reqwest::Method::GET, &approve, Some("text/html"), None).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("<form method=\"post\">"));
    let look = call(reqwest::Method::GET, &approve, None, None).await;
    assert_eq!(
        look.json()["task"],
        "open",
        "the probe's heartbeat: {}",
        look.text
    );
    assert_eq!(
        call(reqwest::Method::HEAD, &approve, None, None)
            .await
            .status,
        200
    );
    aws.assert_running(&arn, "GET and HEAD must not act").await;
    let done = call(reqwest::Method::POST, &approve, None, None).await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(done.headers["cache-control"], "no-store");
    assert_eq!(done.headers["referrer-policy"], "no-referrer");
    let out = aws.finished(&arn).await;
    assert_eq!(out.status, ExecutionStatus::Succeeded);
    assert_eq!(
        output_of(&out),
        json!({"approved": true, "by": "alice@example.com"})
    );

    // A second use is a clear 4xx, the GET's probe already says so, and
    // the execution is untouched.
    for method in [reqwest::Method::POST, reqwest::Method::GET] {
        let again = call(method.clone(), &approve, None, None).await;
        assert_eq!(again.status, 410, "{method}: {}", again.text);
        assert_eq!(again.json()["error"], "StepFunctionsError");
    }
    assert_eq!(
        output_of(&aws.execution(&arn).await),
        json!({"approved": true, "by": "alice@example.com"})
    );

    // Failure (moto keeps the error but drops the cause).
    let (arn, token) = aws.start("failure").await;
    secrets.push(token.clone());
    let created = create(&server, &approval(&token)).await;
    let reject = call(
        reqwest::Method::POST,
        &url_of(&created, "reject"),
        None,
        None,
    )
    .await;
    assert_eq!(reject.status, 200, "{}", reject.text);
    let out = aws.finished(&arn).await;
    assert_eq!(out.status, ExecutionStatus::Failed);
    assert_eq!(out.error.as_deref(), Some("Rejected"));

    // Heartbeat links can be used again and again.
    let (arn, token) = aws.start("heartbeat").await;
    secrets.push(token.clone());
    let created = create(&server, &approval(&token)).await;
    for _ in 0..2 {
        let beat = call(reqwest::Method::POST, &url_of(&created, "ping"), None, None).await;
        assert_eq!(beat.status, 200, "{}", beat.text);
    }
    aws.assert_running(&arn, "heartbeats keep the task waiting")
        .await;

    // A tampered link and a renamed link are refused; the task still waits.
    let approve = url_of(&created, "approve");
    let tampered = tampered(&approve);
    let bad = call(reqwest::Method::POST, &tampered, None, None).await;
    assert_eq!(bad.status, 400, "{}", bad.text);
    assert_eq!(bad.json()["error"], "InvalidPayload");
    let renamed = approve.replace("action=approve", "action=reject");
    assert_eq!(
        call(reqwest::Method::POST, &renamed, None, None)
            .await
            .json()["error"],
        "ActionMismatched"
    );
    aws.assert_running(&arn, "bad links must not act").await;

    // A URL made by one server process opens on another with the same keys.
    let second = serve(&aws, dir.path(), "serve-kms-2", &kms_env).await;
    let moved = second.link(&approve);
    let done = call(reqwest::Method::POST, &moved, None, None).await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(aws.finished(&arn).await.status, ExecutionStatus::Succeeded);

    // Expired links.
    let (arn, token) = aws.start("expired").await;
    secrets.push(token.clone());
    let mut body = approval(&token);
    body["expiration"] = json!(expiring_in(3000));
    let created = create(&server, &body).await;
    tokio::time::sleep(Duration::from_millis(3300)).await;
    let late = call(
        reqwest::Method::POST,
        &url_of(&created, "approve"),
        None,
        None,
    )
    .await;
    assert_eq!(late.status, 410, "{}", late.text);
    assert_eq!(late.json()["error"], "ExpiredPayload");
    aws.assert_running(&arn, "expired links must not act").await;

    // Output parameters.
    let (arn, token) = aws.start("parameters").await;
    secrets.push(token.clone());
    let created = create(
        &server,
        &json!({
            "token": token,
            "enable_output_parameters": true,
            "actions": [{"name": "approve", "type": "success", "output": {"by": "$who", "via": "${action}"}}]
        }),
    )
    .await;
    let done = call(
        reqwest::Method::POST,
        &format!("{}&who=bob", url_of(&created, "approve")),
        None,
        None,
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(
        output_of(&aws.finished(&arn).await),
        json!({"by": "bob", "via": "approve"})
    );

    // POST actions: outcome selection, output_path, error_path, output_body.
    let webhook = |token: &str| {
        json!({
            "token": token,
            "actions": [{"name": "hook", "type": "post", "outcomes": [
                {"name": "done", "type": "success", "output_path": "$.result.id",
                 "schema": {"type": "object", "properties": {"status": {"const": "done"}}, "required": ["status"]}},
                {"name": "failed", "type": "failure", "error_path": "$.code",
                 "schema": {"type": "object", "properties": {"status": {"const": "failed"}}, "required": ["status"]}},
                {"name": "raw", "type": "success", "output_body": true, "schema": {"type": "array"}}
            ]}]
        })
    };
    let (arn, token) = aws.start("post-done").await;
    secrets.push(token.clone());
    let hook = url_of(&create(&server, &webhook(&token)).await, "hook");
    let nomatch = call(
        reqwest::Method::POST,
        &hook,
        None,
        Some(&json!({"status": "??"})),
    )
    .await;
    assert_eq!(nomatch.json()["error"], "InvalidPostActionBody");
    aws.assert_running(&arn, "a body no outcome accepts must not act")
        .await;
    let done = call(
        reqwest::Method::POST,
        &hook,
        None,
        Some(&json!({"status": "done", "result": {"id": "j-1"}})),
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(output_of(&aws.finished(&arn).await), json!(["j-1"]));

    let (arn, token) = aws.start("post-failed").await;
    secrets.push(token.clone());
    let hook = url_of(&create(&server, &webhook(&token)).await, "hook");
    let failed = call(
        reqwest::Method::POST,
        &hook,
        None,
        Some(&json!({"status": "failed", "code": "E42"})),
    )
    .await;
    assert_eq!(failed.status, 200, "{}", failed.text);
    let out = aws.finished(&arn).await;
    assert_eq!(
        (out.status, out.error.as_deref()),
        (ExecutionStatus::Failed, Some("E42"))
    );

    let (arn, token) = aws.start("post-raw").await;
    secrets.push(token.clone());
    let hook = url_of(&create(&server, &webhook(&token)).await, "hook");
    let raw = call(
        reqwest::Method::POST,
        &hook,
        None,
        Some(&json!([1, {"a": "b"}])),
    )
    .await;
    assert_eq!(raw.status, 200, "{}", raw.text);
    assert_eq!(output_of(&aws.finished(&arn).await), json!([1, {"a": "b"}]));

    // Response specs: redirect, json, html, text.
    let mut responses = Vec::new();
    for (case, response, accept) in [
        (
            "resp-redirect",
            json!({"redirect": "https://example.com/thanks"}),
            None,
        ),
        (
            "resp-json",
            json!({"json": {"thanks": true}}),
            Some("application/json"),
        ),
        (
            "resp-html",
            json!({"html": "<p>Thanks!</p>"}),
            Some("text/html"),
        ),
        ("resp-text", json!({"text": "Thanks."}), Some("text/plain")),
    ] {
        let (arn, token) = aws.start(case).await;
        secrets.push(token.clone());
        let created = create(
            &server,
            &json!({"token": token, "actions": [{"name": "ok", "type": "success", "output": {"case": case}, "response": response}]}),
        )
        .await;
        let reply = call(reqwest::Method::POST, &url_of(&created, "ok"), accept, None).await;
        assert_eq!(output_of(&aws.finished(&arn).await), json!({"case": case}));
        responses.push(reply);
    }
    assert_eq!(responses[0].status, 303);
    assert_eq!(
        responses[0].headers["location"],
        "https://example.com/thanks"
    );
    assert_eq!(responses[1].json(), json!({"thanks": true}));
    assert_eq!(responses[2].text, "<p>Thanks!</p>");
    assert_eq!(responses[3].text, "Thanks.");

    // kms-envelope: a data key from KMS per batch, unwrapped on open.
    let envelope = serve(
        &aws,
        dir.path(),
        "serve-envelope",
        &[("KEY_MODE", "kms-envelope"), ("KMS_KEY_ID", &aws.kms_key)],
    )
    .await;
    let (arn, token) = aws.start("envelope").await;
    secrets.push(token.clone());
    let created = create(&envelope, &approval(&token)).await;
    let done = call(
        reqwest::Method::POST,
        &url_of(&created, "approve"),
        None,
        None,
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(aws.finished(&arn).await.status, ExecutionStatus::Succeeded);
    // An envelope link does not open on a keyring deployment.
    let foreign = server.link(&url_of(&created, "reject"));
    let refused = call(reqwest::Method::POST, &foreign, None, None).await;
    assert_eq!(refused.json()["error"], "DecryptionUnsupported");

    // No task token, payload or URL in any log line.
    let _ = aws.kms.list_keys().send().await;
    for (log, debug) in [
        (&server.log, true),
        (&second.log, true),
        (&envelope.log, false),
    ] {
        let text = std::fs::read_to_string(log).expect("log");
        if debug {
            assert!(
                text.contains(r#""level":"DEBUG""#),
                "{} has no debug lines to scan",
                log.display()
            );
        }
        assert!(
            text.contains(r#""path":"/respond""#),
            "{} logged no callback",
            log.display()
        );
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "a secret leaked into {}",
                log.display()
            );
            if let Some(data) = secret.split("data=").nth(1) {
                assert!(
                    !text.contains(data),
                    "a payload leaked into {}",
                    log.display()
                );
            }
        }
    }
}
