//! A loopback stand-in of Slack: the Web API methods the service calls
//! (`chat.postMessage`, `views.open`, `users.info`) and the `response_url`
//! of presses, answering with the shapes Slack documents (`{"ok": …}`
//! envelopes, errors as `{"ok": false, "error": …}` with HTTP 200, and
//! `ok` as text from a `response_url`). It checks the bot token, and
//! records every request; and it signs interaction payloads exactly as
//! Slack does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use sfn_callbacks::core::slack_signature::sign;

pub const BOT_TOKEN: &str = "xoxb-test-token";
pub const SIGNING_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
/// A channel the stand-in knows.
pub const CHANNEL: &str = "C0APPROVALS";
/// A channel it answers `channel_not_found` for.
pub const MISSING_CHANNEL: &str = "C0MISSING";

/// One request the stand-in took.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `chat.postMessage`, `views.open`, `users.info` or `response_url`.
    pub method: String,
    /// Its JSON body (or query, for `users.info`).
    pub body: Value,
}

#[derive(Default)]
struct Inner {
    seen: Vec<Seen>,
    /// User ID to (email, is_bot).
    users: HashMap<String, (Option<String>, bool)>,
    /// `users.info` answers 503, as Slack does in an outage.
    users_info_down: bool,
}

/// The running stand-in.
#[derive(Clone)]
pub struct Slack {
    pub base: String,
    inner: Arc<Mutex<Inner>>,
}

impl Slack {
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new()
            .route("/api/chat.postMessage", post(post_message))
            .route("/api/views.open", post(views_open))
            .route("/api/users.info", get(users_info))
            .route("/actions/{id}", post(response_url))
            .with_state(Arc::clone(&inner));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("stand-in");
        });
        Self { base, inner }
    }

    /// The Web API base, as `SLACK_API_URL` takes it.
    pub fn api_url(&self) -> String {
        format!("{}/api/", self.base)
    }

    /// A `response_url` for one press.
    pub fn response_url(&self, id: u32) -> String {
        format!("{}/actions/{id}", self.base)
    }

    /// Adds a workspace member.
    pub fn user(&self, id: &str, email: Option<&str>) {
        self.inner
            .lock()
            .expect("lock")
            .users
            .insert(id.to_owned(), (email.map(str::to_owned), false));
    }

    /// Makes `users.info` answer 503 from now on.
    pub fn users_info_down(&self) {
        self.inner.lock().expect("lock").users_info_down = true;
    }

    pub fn seen(&self, method: &str) -> Vec<Value> {
        self.inner
            .lock()
            .expect("lock")
            .seen
            .iter()
            .filter(|s| s.method == method)
            .map(|s| s.body.clone())
            .collect()
    }

    fn record(inner: &Mutex<Inner>, method: &str, body: Value) {
        inner.lock().expect("lock").seen.push(Seen {
            method: method.to_owned(),
            body,
        });
    }
}

fn authorized(headers: &HeaderMap) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {BOT_TOKEN}"))
}

fn failed(error: &str) -> Response {
    Json(json!({"ok": false, "error": error})).into_response()
}

async fn post_message(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if !authorized(&headers) {
        return failed("invalid_auth");
    }
    Slack::record(&inner, "chat.postMessage", body.clone());
    let channel = body["channel"].as_str().unwrap_or_default().to_owned();
    if channel == MISSING_CHANNEL {
        return failed("channel_not_found");
    }
    if !body["blocks"].is_array() || body["text"].as_str().is_none_or(str::is_empty) {
        return failed("invalid_blocks");
    }
    Json(
        json!({"ok": true, "channel": channel, "ts": "1700000000.000100",
                "message": {"text": body["text"], "blocks": body["blocks"]}}),
    )
    .into_response()
}

async fn views_open(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if !authorized(&headers) {
        return failed("invalid_auth");
    }
    Slack::record(&inner, "views.open", body.clone());
    if body["trigger_id"].as_str().is_none_or(str::is_empty) {
        return failed("invalid_arguments");
    }
    Json(json!({"ok": true, "view": {"id": "V0001", "hash": "1.2"}})).into_response()
}

async fn users_info(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if !authorized(&headers) {
        return failed("invalid_auth");
    }
    let user = query.get("user").cloned().unwrap_or_default();
    Slack::record(&inner, "users.info", json!({"user": user}));
    if inner.lock().expect("lock").users_info_down {
        return (StatusCode::SERVICE_UNAVAILABLE, "down").into_response();
    }
    let found = inner.lock().expect("lock").users.get(&user).cloned();
    match found {
        Some((email, is_bot)) => Json(json!({"ok": true, "user": {
            "id": user, "deleted": false, "is_bot": is_bot, "real_name": format!("Name of {user}"),
            "profile": {"email": email, "display_name": ""}
        }}))
        .into_response(),
        None => failed("user_not_found"),
    }
}

async fn response_url(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    Slack::record(&inner, "response_url", json!({"id": id, "body": body}));
    (StatusCode::OK, "ok").into_response()
}

/// An interaction's body and the headers Slack sends with it, signed with
/// `secret` at `timestamp`.
pub fn signed(payload: &Value, secret: &str, timestamp: i64) -> (String, Vec<(String, String)>) {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish();
    signed_body(body, secret, timestamp)
}

/// Any body and the headers that sign it with `secret` at `timestamp`.
pub fn signed_body(body: String, secret: &str, timestamp: i64) -> (String, Vec<(String, String)>) {
    let ts = timestamp.to_string();
    let signature = sign(secret.as_bytes(), &ts, body.as_bytes());
    (
        body,
        vec![
            (
                "content-type".into(),
                "application/x-www-form-urlencoded".into(),
            ),
            ("x-slack-request-timestamp".into(), ts),
            ("x-slack-signature".into(), signature),
        ],
    )
}

/// A press of the button `name` (carrying `value`) by `user`.
pub fn press(user: &str, name: &str, value: &str, response_url: &str, blocks: &Value) -> Value {
    json!({
        "type": "block_actions",
        "user": {"id": user, "username": user.to_lowercase(), "team_id": "T0TEAM"},
        "api_app_id": "A0APP", "token": "legacy-not-used",
        "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": CHANNEL},
        "trigger_id": "1337.42.abcdef",
        "team": {"id": "T0TEAM", "domain": "example"},
        "channel": {"id": CHANNEL, "name": "approvals"},
        "message": {"type": "message", "ts": "1700000000.000100", "blocks": blocks},
        "response_url": response_url,
        "actions": [{"type": "button", "action_id": format!("sfn-callbacks:{name}"),
                     "block_id": "sfn-callbacks-actions-0", "value": value,
                     "action_ts": "1700000001.000200"}]
    })
}

/// A submission of the modal the service opened (its view as sent to
/// `views.open`) with `values` by block and action.
pub fn submission(user: &str, opened: &Value, values: Value) -> Value {
    json!({
        "type": "view_submission",
        "team": {"id": "T0TEAM", "domain": "example"},
        "user": {"id": user, "team_id": "T0TEAM"},
        "api_app_id": "A0APP", "trigger_id": "1338.42.abcdef",
        "view": {
            "id": "V0001", "type": "modal",
            "callback_id": opened["view"]["callback_id"],
            "private_metadata": opened["view"]["private_metadata"],
            "state": {"values": values},
            "hash": "1.2"
        },
        "response_urls": []
    })
}

/// The button `name` of a posted message: its `value`.
pub fn button_value(blocks: &Value, name: &str) -> String {
    blocks
        .as_array()
        .expect("blocks")
        .iter()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| b["elements"].as_array().cloned().unwrap_or_default())
        .find(|e| e["action_id"] == format!("sfn-callbacks:{name}"))
        .and_then(|e| e["value"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("no button {name}: {blocks}"))
}

/// Posts `payload` to a running service's `/slack/interactions`, signed
/// now as Slack signs it; the status and body.
pub async fn interact(base: &str, payload: &Value) -> (u16, String) {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let (body, headers) = signed(payload, SIGNING_SECRET, now);
    let mut request = super::moto::http()
        .post(format!("{base}/slack/interactions"))
        .body(body);
    for (k, v) in headers {
        request = request.header(k, v);
    }
    let reply = request.send().await.expect("interaction");
    (reply.status().as_u16(), reply.text().await.expect("text"))
}
