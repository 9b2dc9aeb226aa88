//! Slack's Web API (`chat.postMessage`, `views.open`, `users.info`) and
//! the `response_url` of a press. Every method answers 200 with `{"ok":
//! …}`; a 429 or a 5xx is Slack being unavailable.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use hyper::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use super::web::{Answer, WebClient, WebError};
use crate::core::notify::SlackPosted;
use crate::ports::{NotifyError, SlackApi, SlackError, SlackProfile};
use crate::presentation::notify::{Sent, SlackMessage};

/// How long a user's profile is trusted.
pub const PROFILE_MAX_AGE: Duration = Duration::from_secs(10 * 60);
/// The most profiles kept (the cache starts over when full).
const MAX_PROFILES: usize = 10_000;
/// The longest each call may take: a press must be answered within
/// Slack's 3 seconds, the Step Functions call included.
const POST_DEADLINE: Duration = Duration::from_secs(5);
const PROFILE_DEADLINE: Duration = Duration::from_millis(700);
const VIEW_DEADLINE: Duration = Duration::from_millis(1500);
const RESPOND_DEADLINE: Duration = Duration::from_millis(1000);

/// The bot token: never shown by `Debug`, wiped on drop.
#[derive(Clone)]
pub struct BotToken(zeroize::Zeroizing<String>);

impl BotToken {
    /// Wraps the token.
    pub fn new(token: String) -> Self {
        Self(zeroize::Zeroizing::new(token))
    }
}

impl std::fmt::Debug for BotToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The Slack app's settings (`SLACK_BOT_TOKEN`, `SLACK_API_URL`).
#[derive(Debug, Clone)]
pub struct SlackSettings {
    /// The bot token.
    pub bot_token: BotToken,
    /// The Web API base, ending in `/`.
    pub api_url: url::Url,
}

/// The Slack adapter.
pub struct SlackClient {
    settings: SlackSettings,
    web: WebClient,
    profiles: Mutex<HashMap<String, (Instant, SlackProfile)>>,
}

impl std::fmt::Debug for SlackClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackClient")
            .field("api_url", &self.settings.api_url.as_str())
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Envelope {
    ok: bool,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    ts: Option<String>,
    #[serde(default)]
    user: Option<RawUser>,
}

#[derive(Deserialize)]
struct RawUser {
    #[serde(default)]
    deleted: bool,
    #[serde(default)]
    is_bot: bool,
    #[serde(default)]
    is_app_user: bool,
    #[serde(default)]
    is_workflow_bot: bool,
    /// A member of another workspace, through Slack Connect.
    #[serde(default)]
    is_stranger: bool,
    /// Whether Slack confirmed the email (absent: confirmed, as Slack
    /// requires it to join a workspace).
    #[serde(default)]
    is_email_confirmed: Option<bool>,
    #[serde(default)]
    real_name: Option<String>,
    #[serde(default)]
    profile: RawProfile,
}

#[derive(Deserialize, Default)]
struct RawProfile {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
}

fn unavailable(why: &WebError) -> SlackError {
    SlackError::Unavailable(why.to_string())
}

/// A Web API answer's envelope: `ok`, else Slack's error; 429 and 5xx are
/// outages.
fn envelope(answer: &Answer) -> Result<Envelope, SlackError> {
    if answer.status.as_u16() == 429 {
        return Err(SlackError::Unavailable(format!(
            "rate limited (retry after {} s)",
            answer.retry_after.unwrap_or(1)
        )));
    }
    if answer.status.is_server_error() {
        return Err(SlackError::Unavailable(format!("HTTP {}", answer.status)));
    }
    let envelope: Envelope = serde_json::from_slice(&answer.body).map_err(|_| {
        SlackError::Refused(format!("HTTP {} without a JSON answer", answer.status))
    })?;
    if envelope.ok {
        Ok(envelope)
    } else {
        Err(SlackError::Refused(
            envelope.error.clone().unwrap_or_else(|| "unknown".into()),
        ))
    }
}

impl SlackClient {
    /// A client for the app.
    pub fn new(settings: SlackSettings, web: WebClient) -> Self {
        Self {
            settings,
            web,
            profiles: Mutex::new(HashMap::new()),
        }
    }

    fn method_url(&self, method: &str) -> String {
        format!("{}{method}", self.settings.api_url)
    }

    async fn call(
        &self,
        method: &str,
        body: &Value,
        deadline: Duration,
    ) -> Result<Envelope, SlackError> {
        let answer = self
            .web
            .call(
                Method::POST,
                &self.method_url(method),
                Some(&self.settings.bot_token.0),
                Some("application/json; charset=utf-8"),
                body.to_string().into_bytes(),
                deadline,
            )
            .await
            .map_err(|e| unavailable(&e))?;
        envelope(&answer)
    }

    /// Posts a notification (`chat.postMessage`); links in it are not
    /// unfurled.
    pub async fn post_message(&self, message: &SlackMessage) -> Result<Sent, NotifyError> {
        let body = json!({
            "channel": message.channel,
            "text": message.text,
            "blocks": message.blocks,
            "unfurl_links": false,
            "unfurl_media": false,
        });
        match self.call("chat.postMessage", &body, POST_DEADLINE).await {
            Ok(posted) => {
                let ts = posted.ts.unwrap_or_default();
                Ok(Sent {
                    message_id: Some(ts.clone()),
                    slack: Some(SlackPosted {
                        channel: posted.channel.unwrap_or_else(|| message.channel.clone()),
                        ts,
                    }),
                })
            }
            Err(SlackError::Unavailable(reason)) => Err(NotifyError::Unavailable {
                service: "Slack",
                reason,
            }),
            Err(SlackError::Refused(code)) => Err(NotifyError::Refused {
                service: "Slack",
                code,
            }),
        }
    }

    /// Whether `url` is one Slack gives presses: `https://hooks.slack.com/`,
    /// or any loopback URL when the Web API is itself on loopback (a
    /// test's stand-in).
    fn is_response_url(&self, url: &str) -> bool {
        if url.starts_with("https://hooks.slack.com/") {
            return true;
        }
        let loopback = |u: &url::Url| match u.host() {
            Some(url::Host::Domain(d)) => d == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        loopback(&self.settings.api_url) && url::Url::parse(url).is_ok_and(|u| loopback(&u))
    }

    fn cached(&self, user: &str) -> Option<SlackProfile> {
        let profiles = self.profiles.lock().ok()?;
        profiles
            .get(user)
            .filter(|(at, _)| at.elapsed() < PROFILE_MAX_AGE)
            .map(|(_, p)| p.clone())
    }
}

#[async_trait]
impl SlackApi for SlackClient {
    async fn profile(&self, user: &str) -> Result<SlackProfile, SlackError> {
        if let Some(profile) = self.cached(user) {
            return Ok(profile);
        }
        // `users.info` takes a query or a form, not JSON.
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("user", user)
            .finish();
        let answer = self
            .web
            .call(
                Method::GET,
                &format!("{}?{query}", self.method_url("users.info")),
                Some(&self.settings.bot_token.0),
                None,
                Vec::new(),
                PROFILE_DEADLINE,
            )
            .await
            .map_err(|e| unavailable(&e))?;
        let found = envelope(&answer)?
            .user
            .ok_or_else(|| SlackError::Refused("users.info without a user".into()))?;
        let confirmed = found.is_email_confirmed != Some(false);
        let profile = SlackProfile {
            email: found.profile.email.filter(|e| !e.is_empty() && confirmed),
            name: found
                .real_name
                .filter(|n| !n.is_empty())
                .or(found.profile.display_name.filter(|n| !n.is_empty())),
            is_person: !(found.deleted
                || found.is_bot
                || found.is_app_user
                || found.is_workflow_bot
                || found.is_stranger),
        };
        if let Ok(mut profiles) = self.profiles.lock() {
            if profiles.len() >= MAX_PROFILES {
                profiles.clear();
            }
            profiles.insert(user.to_owned(), (Instant::now(), profile.clone()));
        }
        Ok(profile)
    }

    async fn open_view(&self, trigger_id: &str, view: &Value) -> Result<(), SlackError> {
        self.call(
            "views.open",
            &json!({"trigger_id": trigger_id, "view": view}),
            VIEW_DEADLINE,
        )
        .await
        .map(drop)
    }

    async fn reply(&self, response_url: &str, message: &Value) -> Result<(), SlackError> {
        if !self.is_response_url(response_url) {
            return Err(SlackError::Refused(
                "a response_url that is not Slack's".into(),
            ));
        }
        let answer = self
            .web
            .call(
                Method::POST,
                response_url,
                None,
                Some("application/json; charset=utf-8"),
                message.to_string().into_bytes(),
                RESPOND_DEADLINE,
            )
            .await
            .map_err(|e| unavailable(&e))?;
        // Slack answers `ok` as text, or `{"ok": …}` as JSON.
        if !answer.status.is_success() {
            return Err(
                if answer.status.is_server_error() || answer.status.as_u16() == 429 {
                    SlackError::Unavailable(format!("HTTP {}", answer.status))
                } else {
                    SlackError::Refused(format!("HTTP {}", answer.status))
                },
            );
        }
        match serde_json::from_slice::<Envelope>(&answer.body) {
            Ok(e) if !e.ok => Err(SlackError::Refused(
                e.error.unwrap_or_else(|| "unknown".into()),
            )),
            _ => Ok(()),
        }
    }
}
