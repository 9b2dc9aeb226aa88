//! Teams: `serve` posts an Adaptive Card to a Workflows webhook (a
//! loopback stand-in that answers 202 as Power Automate does). The card
//! must be valid against the Adaptive Card 1.5 schema (committed under
//! `tests/data/`), its buttons must be the confirmation links, and a
//! webhook outside `NOTIFY_TEAMS_WEBHOOKS` gets nothing.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::{Value, json};

use super::moto::{http, serve_keyed};

/// A Workflows webhook stand-in: records each body, answers 202.
async fn webhook() -> (String, Arc<Mutex<Vec<Value>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let app = Router::new()
        .route(
            "/powerautomate/automations/direct/workflows/{id}/triggers/manual/paths/invoke",
            post(
                |State(seen): State<Arc<Mutex<Vec<Value>>>>, body: axum::Json<Value>| async move {
                    seen.lock().expect("lock").push(body.0);
                    StatusCode::ACCEPTED
                },
            ),
        )
        .with_state(Arc::clone(&seen));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("stand-in") });
    (base, seen)
}

fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/adaptive-card-1.5.json"
    ))
    .expect("the schema");
    let schema: Value = serde_json::from_str(&text).expect("JSON");
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the Adaptive Card schema compiles")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_card_is_valid_adaptive_card_json_and_its_buttons_are_the_links() {
    let (base, seen) = webhook().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let allowed = format!("{base}/powerautomate/");
    // No AWS call is made: CreateUrls in the local key mode posts to Teams.
    let server = serve_keyed(
        "http://127.0.0.1:9",
        dir.path(),
        &[("NOTIFY_TEAMS_WEBHOOKS", &allowed)],
    )
    .await;
    let hook = format!(
        "{base}/powerautomate/automations/direct/workflows/0f1e/triggers/manual/paths/invoke?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=THE-SIGNATURE"
    );
    let body = json!({
        "token": "QUJDREVGR0hJSktMTU5PUA==",
        "expiration": "2031-01-31T17:00:00Z",
        "locale": "de",
        "actions": [
            {"name": "approve", "type": "success", "output": {"ok": true},
             "label": "Approve", "description": "Ships v2 tonight."},
            {"name": "reject", "type": "failure", "label": "Reject"}
        ],
        "notify": {"teams": {"webhook": hook, "title": "Deploy {{ context.release }}?"},
                   "context": {"release": "v2"}}
    });
    let reply = http()
        .post(format!("{}/urls", server.base))
        .json(&body)
        .send()
        .await
        .expect("create");
    assert_eq!(reply.status(), 200);
    let created: Value = reply.json().await.expect("json");
    assert_eq!(created["notified"], json!({"channel": "teams"}));

    let posted = seen.lock().expect("lock").clone();
    let [message] = &posted[..] else {
        panic!("one post: {posted:?}")
    };
    assert_eq!(message["type"], "message");
    let attachment = &message["attachments"][0];
    assert_eq!(
        attachment["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    let card = &attachment["content"];
    let validator = schema();
    let errors: Vec<String> = validator.iter_errors(card).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}\n{card}");
    // The schema requires nothing at its root: these say it is a card.
    assert_eq!(card["type"], "AdaptiveCard");
    assert_eq!(card["version"], "1.5");
    assert_eq!(card["body"][0]["text"], "Deploy v2?");
    assert_eq!(
        card["body"][2]["facts"],
        json!([{"title": "Approve", "value": "Ships v2 tonight."},
               {"title": "Link gültig bis", "value": "31.01.2031, 17:00 UTC"}])
    );
    let buttons = card["actions"].as_array().expect("actions");
    assert_eq!(buttons.len(), 2);
    for (button, name) in buttons.iter().zip(["approve", "reject"]) {
        assert_eq!(button["type"], "Action.OpenUrl");
        assert_eq!(button["url"], created["urls"][name], "{name}");
    }
    // A card that breaks the schema is caught by it: the check can fail.
    let mut broken = card.clone();
    broken["body"][2]["facts"][0]["value"] = json!(7);
    assert!(!validator.is_valid(&broken), "a fact's value must be text");
    let mut broken = card.clone();
    broken["msteams"] = json!({"width": "Full"});
    assert!(!validator.is_valid(&broken), "no unknown fields on a card");

    // Outside the allow-list: 403, and nothing is posted.
    let mut elsewhere = body.clone();
    elsewhere["notify"]["teams"]["webhook"] =
        json!("https://prod-01.westus.logic.azure.com/workflows/abc/triggers/manual?sig=OTHER");
    let reply = http()
        .post(format!("{}/urls", server.base))
        .json(&elsewhere)
        .send()
        .await
        .expect("create");
    assert_eq!(reply.status(), 403);
    let text = reply.text().await.expect("text");
    assert!(text.contains("NotifyNotAllowed"), "{text}");
    assert!(
        !text.contains("sig="),
        "the webhook is never quoted: {text}"
    );
    assert_eq!(seen.lock().expect("lock").len(), 1);

    // The webhook's signature is a credential: never in the log.
    let log = std::fs::read_to_string(&server.log).expect("log");
    assert!(!log.contains("THE-SIGNATURE"), "{log}");
}
