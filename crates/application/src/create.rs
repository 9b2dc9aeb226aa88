//! CreateUrls: parse the request, seal one link per action (and the review
//! link when asked), send the notification.

use serde_json::Value;
use time::OffsetDateTime;

use super::{App, AppError, Unavailable, measure};
use sfn_callbacks_core::create::{CreateRequest, CreateUrlsOutput, make_urls};
use sfn_callbacks_core::error::Rejection;
use sfn_callbacks_core::notify::Notified;
use sfn_callbacks_core::payload::TransactionId;
use sfn_callbacks_core::{ErrorCode, Features};
use sfn_callbacks_presentation::notify::{Links, render};

impl App {
    /// CreateUrls from a JSON body.
    pub async fn create_from_json(
        &self,
        body: &[u8],
        front_door_base: Option<String>,
    ) -> Result<CreateUrlsOutput, AppError> {
        self.parse_and_create(front_door_base, |features, now| {
            CreateRequest::parse(body, features, now)
        })
        .await
    }

    /// CreateUrls from a JSON value (a direct invoke).
    pub async fn create_from_value(
        &self,
        value: Value,
        front_door_base: Option<String>,
    ) -> Result<CreateUrlsOutput, AppError> {
        self.parse_and_create(front_door_base, |features, now| {
            CreateRequest::from_value(value, features, now)
        })
        .await
    }

    /// Parses under this deployment's features at the current time, then
    /// makes the URLs.
    async fn parse_and_create(
        &self,
        front_door_base: Option<String>,
        parse: impl FnOnce(Features, OffsetDateTime) -> Result<CreateRequest, Rejection>,
    ) -> Result<CreateUrlsOutput, AppError> {
        let now = self.ports.clock.now();
        match parse(self.settings.features, now) {
            Ok(request) => self.create(&request, now, front_door_base).await,
            Err(rejection) => {
                let error = AppError::from(rejection);
                measure::create_request(self.ports.keys.mode_name(), Err(&error));
                Err(error)
            }
        }
    }

    /// Makes the URLs for a checked request: picks the base URL (the
    /// request's, else the deployment's, else the front door's), gets the
    /// sealing key once, seals each action with a fresh nonce, and sends the
    /// notification. A failed send returns no links. Counted in
    /// [`measure::CREATE_REQUESTS`].
    pub async fn create(
        &self,
        request: &CreateRequest,
        now: OffsetDateTime,
        front_door_base: Option<String>,
    ) -> Result<CreateUrlsOutput, AppError> {
        let made = self.make(request, now, front_door_base).await;
        measure::create_request(
            self.ports.keys.mode_name(),
            made.as_ref()
                .map(|out| out.urls.len() + usize::from(out.review_url.is_some())),
        );
        made
    }

    /// [`Self::create`], uncounted.
    async fn make(
        &self,
        request: &CreateRequest,
        now: OffsetDateTime,
        front_door_base: Option<String>,
    ) -> Result<CreateUrlsOutput, AppError> {
        let base = match &request.base_url {
            Some(spec) => spec.resolve(&self.settings.default_region),
            None => self
                .settings
                .base_url
                .clone()
                .or(front_door_base)
                .ok_or_else(|| {
                    Rejection::new(
                        ErrorCode::InvalidRequest,
                        "no base URL is configured and the request has no Host header; give base_url",
                    )
                })?,
        };
        if let Some(notify) = &request.notify {
            notify.check(&self.settings.notify)?;
        }
        let resolved;
        let request = match self.requester_email(request).await? {
            Some(with_email) => {
                resolved = with_email;
                &resolved
            }
            None => request,
        };
        let key = self.ports.keys.sealing_key().await.map_err(|e| {
            tracing::warn!(error = %e, "no sealing key");
            AppError::from(e)
        })?;
        let transaction_id = TransactionId(self.random());
        let mut output = make_urls(request, transaction_id, now, &base, |what| {
            what.seal(key.as_seal_with(), &self.random())
        })?;
        if let Some(notify) = &request.notify {
            // Rendered before anything is sent.
            let notification = render(
                notify,
                &self.settings.notify,
                &request.actions,
                Links::of(&output, request),
            )?;
            let sent = self.ports.notifier.send(&notification).await;
            measure::notification(notification.channel(), sent.is_ok());
            let sent = sent.map_err(|e| {
                tracing::warn!(error = %e, transaction_id = %output.transaction_id, "notification not sent");
                AppError::from(e)
            })?;
            output.notified = Some(Notified {
                channel: notification.channel().to_owned(),
                message_id: sent.message_id,
                slack: sent.slack,
            });
        }
        Ok(output)
    }

    /// A requester named by their Slack user ID, where people may also
    /// sign in on the web: the email Slack gives for them, sealed beside
    /// the ID, so that they cannot approve their own request on a page
    /// either. `None` when there is nothing to look up.
    async fn requester_email(
        &self,
        request: &CreateRequest,
    ) -> Result<Option<CreateRequest>, AppError> {
        let slack_id = request
            .gates
            .iter()
            .flatten()
            .find(|g| g.requester.is_none())
            .and_then(|g| g.requester_slack.clone());
        let (Some(user), true) = (slack_id, self.settings.features.sign_in) else {
            return Ok(None);
        };
        let Some(slack) = &self.ports.slack else {
            return Ok(None);
        };
        let profile = slack.profile(&user).await.map_err(|e| {
            tracing::warn!(error = %e, "Slack could not say who the requester is");
            AppError::Unavailable(Unavailable::Slack)
        })?;
        let Some(email) = profile.email else {
            return Err(AppError::Rejected(Rejection::new(
                ErrorCode::InvalidApprovers,
                format!(
                    "requester {user}: Slack gives no email for this user (the app needs the users:read.email scope), so they could approve their own request on the web; give the requester's email instead"
                ),
            )));
        };
        let mut request = request.clone();
        for gate in request.gates.iter_mut().flatten() {
            gate.requester = Some(email.to_ascii_lowercase());
        }
        Ok(Some(request))
    }
}
