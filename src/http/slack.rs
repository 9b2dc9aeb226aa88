//! `POST /slack/interactions`, the Slack app's Request URL: a press on a
//! button of a notification, or a submitted modal. Slack's signature is
//! checked before anything of the request is read; then the press is
//! answered like a POST of the link's page (the same checks, the one
//! engine call), with the Slack user as the person. What happened goes
//! back through the press's `response_url`: the message replaced with
//! the outcome, or a message to the presser alone.

use std::time::Duration;

use tokio::time::Instant;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use hyper::body::Bytes;
use serde_json::Value;

use super::HttpState;
use super::error::ApiError;
use crate::app::measure::{self, CallbackResult};
use crate::app::{AppError, Credential, Input, Link, Needs, Outcome, Trace, Unavailable, Via};
use crate::core::ErrorCode;
use crate::core::action::ActionKind;
use crate::core::error::Rejection;
use crate::core::form::Submitted;
use crate::core::locale::Locale;
use crate::core::payload::Claims;
use crate::core::slack_signature::{self as signature, SignatureError};
use crate::core::template::Params;
use crate::presentation::notify::SLACK_ACTION_PREFIX;
use crate::presentation::slack::interaction::{
    self, Interaction, Message, PressedAction, User, View,
};
use crate::presentation::slack::modal::{self, Metadata};
use crate::presentation::slack::{decided_message, ephemeral, outcome_line};

/// How long a press may take, from its arrival to its decision, the
/// engine call included: Slack waits 3 seconds for the answer, and the
/// message is replaced (at most a second more) before it. A call not
/// confirmed in time may have arrived, and is never repeated.
pub const DECIDE_WAIT: Duration = Duration::from_millis(1800);

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
    let (Some(secret), Some(_)) = (&state.settings.slack_signing_secret, &state.app.slack) else {
        return ApiError::not_found(
            "this deployment takes no Slack interactions (SLACK_SIGNING_SECRET)",
        )
        .into_response();
    };
    let now = state.app.clock.now().unix_timestamp();
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
    let response = match interaction::parse(&body) {
        Err(e) => refused(e.to_string()),
        Ok(Interaction::BlockActions {
            user,
            trigger_id,
            response_url,
            actions,
            message,
        }) => {
            press(
                &state,
                &user,
                &trigger_id,
                response_url.as_deref(),
                &actions,
                &message,
                &mut trace,
            )
            .await
        }
        Ok(Interaction::ViewSubmission { user, view }) => {
            submit(&state, &user, &view, &mut trace).await
        }
    };
    let mut response = response;
    response.extensions_mut().insert(trace);
    response
}

/// Slack's acknowledgement: an empty 200.
fn ack() -> Response {
    ().into_response()
}

/// A look at the link that acts on nothing: checks its expiry, and that
/// the Slack user may press it. A look is not counted, so a press that
/// ends here is counted here.
async fn look(
    state: &HttpState,
    data: &str,
    user: &User,
    trace: &mut Trace,
) -> Result<Claims, AppError> {
    let params = Params::default();
    let link = Link {
        data,
        params: &params,
        via: Via::Preview,
        credential: Credential::Slack(&user.id),
    };
    let looked = state
        .app
        .respond(link, trace, |_| Err::<Input, AppError>(not_pressable()))
        .await
        .inspect_err(|e| measure::callback(CallbackResult::of(e)))?;
    match looked {
        Outcome::Pending { claims, .. } => Ok(claims),
        _ => {
            measure::callback(CallbackResult::Rejected);
            Err(not_pressable())
        }
    }
}

fn not_pressable() -> AppError {
    AppError::Rejected(Rejection::new(
        ErrorCode::InvalidRequest,
        "this button does not hold a link a person answers",
    ))
}

/// [`look`], by `deadline`: Slack could not be asked who pressed in time,
/// and nothing was sent.
async fn look_by(
    deadline: Instant,
    state: &HttpState,
    data: &str,
    user: &User,
    trace: &mut Trace,
) -> Result<Claims, AppError> {
    tokio::time::timeout_at(deadline, look(state, data, user, trace))
        .await
        .unwrap_or(Err(AppError::Unavailable(Unavailable::Slack)))
}

/// Decides the link with the Slack user as the person, by `deadline`
/// (the press's [`DECIDE_WAIT`], counted from its arrival).
async fn decide(
    deadline: Instant,
    state: &HttpState,
    data: &str,
    user: &User,
    comment: Option<String>,
    form: Submitted,
    trace: &mut Trace,
) -> Result<Outcome, AppError> {
    let params = Params::default();
    let link = Link {
        data,
        params: &params,
        via: Via::Submit,
        credential: Credential::Slack(&user.id),
    };
    let read = |needs: Needs| match needs {
        Needs::Answer => Ok(Input::Answer { comment, form }),
        Needs::Json => Err(not_pressable()),
    };
    tokio::time::timeout_at(deadline, state.app.respond(link, trace, read))
        .await
        .unwrap_or_else(|_| {
            // The answer was dropped before `respond` could count it.
            measure::callback(CallbackResult::Unavailable);
            Err(AppError::Unavailable(Unavailable::EngineUnconfirmed(None)))
        })
}

/// What the presser reads of an error, in the link's language.
fn error_text(error: AppError, locale: Locale) -> String {
    if matches!(
        error,
        AppError::Unavailable(Unavailable::EngineUnconfirmed(_))
    ) {
        return crate::presentation::text::text(locale, "slack-unconfirmed", &[]);
    }
    ApiError::from(error).chat_text(locale)
}

/// Answers through `response_url`; a failure is only logged (the press
/// was handled either way).
async fn answer(state: &HttpState, response_url: Option<&str>, message: &Value, trace: &Trace) {
    let (Some(url), Some(slack)) = (response_url, &state.app.slack) else {
        return;
    };
    if let Err(e) = slack.respond(url, message).await {
        tracing::warn!(
            transaction_id = trace.transaction_id,
            error = %e,
            "the Slack message could not be updated"
        );
    }
}

/// Tells the presser alone what went wrong, in `locale`.
async fn tell(
    state: &HttpState,
    response_url: Option<&str>,
    error: AppError,
    locale: Locale,
    trace: &Trace,
) {
    answer(
        state,
        response_url,
        &ephemeral(&error_text(error, locale)),
        trace,
    )
    .await;
}

/// The message that replaces the notification once `claims` was decided.
fn decided(state: &HttpState, claims: &Claims, user: &User, kept: &[Value]) -> Value {
    let locale = claims.locale.unwrap_or_default();
    let label = claims
        .action
        .page
        .label
        .as_deref()
        .unwrap_or_else(|| claims.action.name.as_str());
    let now = state.app.clock.now();
    let millis = i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
    decided_message(kept, &outcome_line(locale, label, &user.id, millis))
}

async fn press(
    state: &HttpState,
    user: &User,
    trigger_id: &str,
    response_url: Option<&str>,
    actions: &[PressedAction],
    message: &Message,
    trace: &mut Trace,
) -> Response {
    let deadline = Instant::now() + DECIDE_WAIT;
    let Some((pressed, data)) = actions.first().and_then(|a| {
        let name = a.action_id.strip_prefix(SLACK_ACTION_PREFIX)?;
        Some((name, a.value.as_deref()?))
    }) else {
        return refused("the press is not on a button of this service");
    };
    let claims = match look_by(deadline, state, data, user, trace).await {
        Ok(claims) => claims,
        Err(e) => {
            let locale = trace.locale.unwrap_or_default();
            let text = match e {
                AppError::BadLink(_) => {
                    crate::presentation::text::text(locale, "slack-not-a-link", &[])
                }
                other => error_text(other, locale),
            };
            answer(state, response_url, &ephemeral(&text), trace).await;
            return ack();
        }
    };
    if claims.action.name.as_str() != pressed {
        let text = crate::presentation::text::text(
            trace.locale.unwrap_or_default(),
            "slack-not-a-link",
            &[],
        );
        answer(state, response_url, &ephemeral(&text), trace).await;
        return ack();
    }
    let locale = claims.locale.unwrap_or_default();
    if modal::needs_modal(&claims.action) {
        let metadata = Metadata {
            data: data.to_owned(),
            response_url: response_url.map(str::to_owned),
            kept: message.blocks.clone(),
        }
        .encode();
        let opened = match (metadata, &state.app.slack) {
            (Some(metadata), Some(slack)) => slack
                .open_view(trigger_id, &modal::view(&claims.action, locale, &metadata))
                .await
                .map_err(|e| {
                    tracing::warn!(transaction_id = trace.transaction_id, error = %e, "the Slack modal did not open");
                }),
            _ => Err(()),
        };
        if opened.is_err() {
            let busy = AppError::Unavailable(Unavailable::Slack);
            tell(state, response_url, busy, locale, trace).await;
        }
        return ack();
    }
    let decided_now = decide(
        deadline,
        state,
        data,
        user,
        None,
        Submitted::Page(Vec::new()),
        trace,
    )
    .await;
    match decided_now {
        // A heartbeat answers nothing: the buttons stay for the deciders.
        Ok(Outcome::Sent { claims, .. }) if claims.action.kind() == ActionKind::Heartbeat => {
            let text = crate::presentation::text::text(locale, "slack-heartbeat-sent", &[]);
            answer(state, response_url, &ephemeral(&text), trace).await;
        }
        Ok(Outcome::Sent { claims, .. }) => {
            let replaced = decided(state, &claims, user, &message.blocks);
            answer(state, response_url, &replaced, trace).await;
        }
        Ok(_) => tell(state, response_url, not_pressable(), locale, trace).await,
        Err(e) => tell(state, response_url, e, locale, trace).await,
    }
    ack()
}

async fn submit(state: &HttpState, user: &User, view: &View, trace: &mut Trace) -> Response {
    let deadline = Instant::now() + DECIDE_WAIT;
    if view.callback_id != modal::CALLBACK_ID {
        return refused("the modal is not one of this service");
    }
    let Some(metadata) = Metadata::decode(&view.private_metadata) else {
        return refused("the modal does not carry this service's metadata");
    };
    let response_url = metadata.response_url.as_deref();
    let claims = match look_by(deadline, state, &metadata.data, user, trace).await {
        Ok(claims) => claims,
        Err(e) => {
            let locale = trace.locale.unwrap_or_default();
            tell(state, response_url, e, locale, trace).await;
            return ack();
        }
    };
    let locale = claims.locale.unwrap_or_default();
    let (comment, form) = modal::read(&claims.action, &view.state.values);
    if let Some(problem) = modal::comment_problem(&claims.action, comment.as_deref()) {
        return axum::Json(modal::errors(&claims.action, locale, None, Some(&problem)))
            .into_response();
    }
    match decide(deadline, state, &metadata.data, user, comment, form, trace).await {
        Ok(Outcome::Sent { claims, .. }) => {
            let replaced = decided(state, &claims, user, &metadata.kept);
            answer(state, response_url, &replaced, trace).await;
            ack()
        }
        Ok(Outcome::FormRefused { claims, errors, .. }) => {
            axum::Json(modal::errors(&claims.action, locale, Some(&errors), None)).into_response()
        }
        Ok(_) => {
            tell(state, response_url, not_pressable(), locale, trace).await;
            ack()
        }
        Err(e) => {
            tell(state, response_url, e, locale, trace).await;
            ack()
        }
    }
}
