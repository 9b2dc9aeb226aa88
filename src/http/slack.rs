//! `POST /slack/interactions`, the Slack app's Request URL: a press on a
//! button of a notification, or a submitted modal. Slack's signature is
//! checked before anything of the request is read; the interaction is
//! read and handed to the application ([`App::slack_interaction`]), whose
//! reply is rendered here.
//!
//! [`App::slack_interaction`]: crate::app::App::slack_interaction

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use hyper::body::Bytes;

use super::HttpState;
use super::error::ApiError;
use crate::app::Trace;
use crate::app::slack::SlackReply;
use crate::core::slack_signature::{self as signature, SignatureError};
use crate::presentation::slack::interaction;

/// The Slack app's signing secret: never shown by `Debug`, wiped on drop.
#[derive(Clone)]
pub struct SigningSecret(zeroize::Zeroizing<Vec<u8>>);

impl SigningSecret {
    /// Wraps the secret.
    pub fn new(secret: &str) -> Self {
        Self(zeroize::Zeroizing::new(secret.as_bytes().to_vec()))
    }
}

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The JSON error of a signed request that is not a press this service
/// takes.
fn refused(message: impl Into<String>) -> Response {
    ApiError::bad_interaction(message).into_response()
}

/// `POST /slack/interactions`.
pub async fn interactions(
    State(state): State<HttpState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (Some(secret), true) = (
        &state.settings.slack_signing_secret,
        state.app.takes_slack(),
    ) else {
        return ApiError::not_found(
            "this deployment takes no Slack interactions (SLACK_SIGNING_SECRET)",
        )
        .into_response();
    };
    let now = state.app.now().unix_timestamp();
    if let Err(e) = signature::verify(
        &secret.0,
        header(&headers, "x-slack-request-timestamp"),
        header(&headers, "x-slack-signature"),
        &body,
        now,
    ) {
        let message = match e {
            SignatureError::Stale => "the Slack signature is too old, or the clock is off",
            SignatureError::Mismatch => "the Slack signature does not match",
            SignatureError::Missing(_) | SignatureError::BadTimestamp => {
                "the request carries no valid Slack signature"
            }
        };
        return ApiError::not_from_slack(message).into_response();
    }
    let mut trace = Trace::default();
    let mut response = match interaction::parse(&body) {
        Err(e) => refused(e.to_string()),
        Ok(interaction) => match state.app.slack_interaction(interaction, &mut trace).await {
            SlackReply::Ack => ().into_response(),
            SlackReply::NotOurs(why) => refused(why),
            SlackReply::ModalErrors(errors) => axum::Json(errors).into_response(),
        },
    };
    response.extensions_mut().insert(trace);
    response
}
