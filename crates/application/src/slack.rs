//! A press in Slack: a button of a notification, or a submitted modal. The
//! front door has checked Slack's signature and read the interaction; here
//! the press is answered like a POST of the link's page (the same checks,
//! the one engine call), with the Slack user as the person. What happened
//! goes back through the press's `response_url`: the message replaced with
//! the outcome, or a message to the presser alone.

use std::time::Duration;

use serde_json::Value;
use sfn_callbacks_core::ErrorCode;
use sfn_callbacks_core::action::ActionKind;
use sfn_callbacks_core::error::Rejection;
use sfn_callbacks_core::form::Submitted;
use sfn_callbacks_core::locale::Locale;
use sfn_callbacks_core::payload::Claims;
use sfn_callbacks_core::template::Params;
use sfn_callbacks_presentation::notify::SLACK_ACTION_PREFIX;
use sfn_callbacks_presentation::pages::error_summary;
use sfn_callbacks_presentation::slack::interaction::{
    Interaction, Message, PressedAction, User, View,
};
use sfn_callbacks_presentation::slack::modal::{self, Metadata};
use sfn_callbacks_presentation::slack::{decided_message, ephemeral, outcome_line};
use sfn_callbacks_presentation::text::text;
use tokio::time::Instant;

use crate::measure::{self, CallbackResult};
use crate::{App, AppError, Credential, Input, Link, Needs, Outcome, Trace, Unavailable, Via};

/// How long a press may take, from its arrival to its decision, the
/// engine call included: Slack waits 3 seconds for the answer, and the
/// message is replaced (at most a second more) before it. A call not
/// confirmed in time may have arrived, and is never repeated.
pub const DECIDE_WAIT: Duration = Duration::from_millis(1800);

/// What Slack is answered at once; the rest went through `response_url`.
#[derive(Debug, Clone, PartialEq)]
pub enum SlackReply {
    /// An empty 200.
    Ack,
    /// The signed request is not a press this service takes (a 400 naming
    /// why).
    NotOurs(&'static str),
    /// The modal stays open with these errors by its inputs
    /// (`response_action: errors`).
    ModalErrors(Value),
}

impl App {
    /// Answers one interaction Slack posted (its signature checked).
    pub async fn slack_interaction(
        &self,
        interaction: Interaction,
        trace: &mut Trace,
    ) -> SlackReply {
        match interaction {
            Interaction::BlockActions {
                user,
                trigger_id,
                response_url,
                actions,
                message,
            } => {
                let response_url = response_url.as_deref();
                self.press(&user, &trigger_id, response_url, &actions, &message, trace)
                    .await
            }
            Interaction::ViewSubmission { user, view } => self.submit(&user, &view, trace).await,
        }
    }

    /// A look at the link that acts on nothing: checks its expiry, and that
    /// the Slack user may press it. A look is not counted, so a press that
    /// ends here is counted here.
    async fn look(&self, data: &str, user: &User, trace: &mut Trace) -> Result<Claims, AppError> {
        let params = Params::default();
        let link = pressed(data, &params, Via::Preview, user);
        let looked = self
            .answer(link, trace, |_| Err::<Input, AppError>(not_pressable()))
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

    /// [`App::look`], by `deadline`: Slack could not be asked who pressed in
    /// time, and nothing was sent.
    async fn look_by(
        &self,
        deadline: Instant,
        data: &str,
        user: &User,
        trace: &mut Trace,
    ) -> Result<Claims, AppError> {
        tokio::time::timeout_at(deadline, self.look(data, user, trace))
            .await
            .unwrap_or(Err(AppError::Unavailable(Unavailable::Slack)))
    }

    /// Decides the link with the Slack user as the person, by `deadline`
    /// (the press's [`DECIDE_WAIT`], counted from its arrival).
    async fn decide(
        &self,
        deadline: Instant,
        data: &str,
        user: &User,
        answer: (Option<String>, Submitted),
        trace: &mut Trace,
    ) -> Result<Outcome, AppError> {
        let params = Params::default();
        let link = pressed(data, &params, Via::Submit, user);
        let (comment, form) = answer;
        let read = |needs: Needs| match needs {
            Needs::Answer => Ok(Input::Answer { comment, form }),
            Needs::Json => Err(not_pressable()),
        };
        tokio::time::timeout_at(deadline, self.answer(link, trace, read))
            .await
            .unwrap_or_else(|_| {
                // The answer was dropped before `respond` could count it.
                measure::callback(CallbackResult::Unavailable);
                Err(AppError::Unavailable(Unavailable::EngineUnconfirmed(None)))
            })
    }

    /// Answers through `response_url`; a failure is only logged (the press
    /// was handled either way).
    async fn reply_in_slack(&self, response_url: Option<&str>, message: &Value, trace: &Trace) {
        let (Some(url), Some(slack)) = (response_url, &self.ports.slack) else {
            return;
        };
        if let Err(e) = slack.reply(url, message).await {
            tracing::warn!(
                transaction_id = trace.transaction_id,
                error = %e,
                "the Slack message could not be updated"
            );
        }
    }

    /// Tells the presser alone what went wrong, in `locale`.
    async fn tell(
        &self,
        response_url: Option<&str>,
        error: AppError,
        locale: Locale,
        trace: &Trace,
    ) {
        let message = ephemeral(&error_text(&error, locale));
        self.reply_in_slack(response_url, &message, trace).await;
    }

    /// The message that replaces the notification once `claims` was
    /// decided.
    fn decided(&self, claims: &Claims, user: &User, kept: &[Value]) -> Value {
        let locale = claims.locale.unwrap_or_default();
        let label = claims
            .action
            .page
            .label
            .as_deref()
            .unwrap_or_else(|| claims.action.name.as_str());
        let now = self.ports.clock.now();
        let millis = i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
        decided_message(kept, &outcome_line(locale, label, &user.id, millis))
    }

    async fn press(
        &self,
        user: &User,
        trigger_id: &str,
        response_url: Option<&str>,
        actions: &[PressedAction],
        message: &Message,
        trace: &mut Trace,
    ) -> SlackReply {
        let deadline = Instant::now() + DECIDE_WAIT;
        let Some((pressed, data)) = actions.first().and_then(|a| {
            let name = a.action_id.strip_prefix(SLACK_ACTION_PREFIX)?;
            Some((name, a.value.as_deref()?))
        }) else {
            return SlackReply::NotOurs("the press is not on a button of this service");
        };
        let claims = match self.look_by(deadline, data, user, trace).await {
            Ok(claims) => claims,
            Err(e) => {
                let locale = trace.locale.unwrap_or_default();
                let said = match e {
                    AppError::BadLink(_) => text(locale, "slack-not-a-link", &[]),
                    other => error_text(&other, locale),
                };
                self.reply_in_slack(response_url, &ephemeral(&said), trace)
                    .await;
                return SlackReply::Ack;
            }
        };
        if claims.action.name.as_str() != pressed {
            let said = text(trace.locale.unwrap_or_default(), "slack-not-a-link", &[]);
            self.reply_in_slack(response_url, &ephemeral(&said), trace)
                .await;
            return SlackReply::Ack;
        }
        let locale = claims.locale.unwrap_or_default();
        if modal::needs_modal(&claims.action) {
            let metadata = Metadata {
                data: data.to_owned(),
                response_url: response_url.map(str::to_owned),
                kept: message.blocks.clone(),
            }
            .encode();
            let opened = match (metadata, &self.ports.slack) {
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
                self.tell(response_url, busy, locale, trace).await;
            }
            return SlackReply::Ack;
        }
        let answer = (None, Submitted::Page(Vec::new()));
        match self.decide(deadline, data, user, answer, trace).await {
            // A heartbeat answers nothing: the buttons stay for the deciders.
            Ok(Outcome::Sent { claims, .. }) if claims.action.kind() == ActionKind::Heartbeat => {
                let said = text(locale, "slack-heartbeat-sent", &[]);
                self.reply_in_slack(response_url, &ephemeral(&said), trace)
                    .await;
            }
            Ok(Outcome::Sent { claims, .. }) => {
                let replaced = self.decided(&claims, user, &message.blocks);
                self.reply_in_slack(response_url, &replaced, trace).await;
            }
            Ok(_) => {
                self.tell(response_url, not_pressable(), locale, trace)
                    .await;
            }
            Err(e) => self.tell(response_url, e, locale, trace).await,
        }
        SlackReply::Ack
    }

    async fn submit(&self, user: &User, view: &View, trace: &mut Trace) -> SlackReply {
        let deadline = Instant::now() + DECIDE_WAIT;
        if view.callback_id != modal::CALLBACK_ID {
            return SlackReply::NotOurs("the modal is not one of this service");
        }
        let Some(metadata) = Metadata::decode(&view.private_metadata) else {
            return SlackReply::NotOurs("the modal does not carry this service's metadata");
        };
        let response_url = metadata.response_url.as_deref();
        let claims = match self.look_by(deadline, &metadata.data, user, trace).await {
            Ok(claims) => claims,
            Err(e) => {
                let locale = trace.locale.unwrap_or_default();
                self.tell(response_url, e, locale, trace).await;
                return SlackReply::Ack;
            }
        };
        let locale = claims.locale.unwrap_or_default();
        let (comment, form) = modal::read(&claims.action, &view.state.values);
        if let Some(problem) = modal::comment_problem(&claims.action, comment.as_deref()) {
            return SlackReply::ModalErrors(modal::errors(
                &claims.action,
                locale,
                None,
                Some(&problem),
            ));
        }
        let answer = (comment, form);
        match self
            .decide(deadline, &metadata.data, user, answer, trace)
            .await
        {
            Ok(Outcome::Sent { claims, .. }) => {
                let replaced = self.decided(&claims, user, &metadata.kept);
                self.reply_in_slack(response_url, &replaced, trace).await;
                SlackReply::Ack
            }
            Ok(Outcome::FormRefused { claims, errors, .. }) => {
                SlackReply::ModalErrors(modal::errors(&claims.action, locale, Some(&errors), None))
            }
            Ok(_) => {
                self.tell(response_url, not_pressable(), locale, trace)
                    .await;
                SlackReply::Ack
            }
            Err(e) => {
                self.tell(response_url, e, locale, trace).await;
                SlackReply::Ack
            }
        }
    }
}

/// The link sealed in `data` (a button's value), as `user` pressed it: no
/// query of its own.
fn pressed<'a>(data: &'a str, params: &'a Params, via: Via, user: &'a User) -> Link<'a> {
    Link {
        data,
        params,
        via,
        credential: Credential::Slack(&user.id),
    }
}

fn not_pressable() -> AppError {
    AppError::Rejected(Rejection::new(
        ErrorCode::InvalidRequest,
        "this button does not hold a link a person answers",
    ))
}

/// What the presser reads of an error, in the link's language: the title
/// and advice of the page the same error shows in a browser.
fn error_text(error: &AppError, locale: Locale) -> String {
    if matches!(
        error,
        AppError::Unavailable(Unavailable::EngineUnconfirmed(_))
    ) {
        return text(locale, "slack-unconfirmed", &[]);
    }
    error_summary(locale, &error.page())
}
