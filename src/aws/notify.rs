//! Email through SES (v2) and messages through SNS (the [`Notifier`] port).

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_sfn::error::{ProvideErrorMetadata, SdkError};

use super::retry::{RetryUnsentOnly, is_retryable_code};
use crate::ports::{Notifier, NotifyError};
use crate::presentation::notify::{Email, Notification, Sent, SnsMessage};

/// Email through SES (v2) and messages through SNS.
#[derive(Debug, Clone)]
pub struct SdkNotifier {
    ses: aws_sdk_sesv2::Client,
    sns: aws_sdk_sns::Client,
}

impl SdkNotifier {
    /// Clients from shared SDK configuration. Like EngineCall calls, a send
    /// is never repeated once it may have gone out (a duplicate mail).
    pub fn from_config(config: &SdkConfig) -> Self {
        let ses = aws_sdk_sesv2::config::Builder::from(config)
            .retry_classifier(RetryUnsentOnly)
            .build();
        let sns = aws_sdk_sns::config::Builder::from(config)
            .retry_classifier(RetryUnsentOnly)
            .build();
        Self {
            ses: aws_sdk_sesv2::Client::from_conf(ses),
            sns: aws_sdk_sns::Client::from_conf(sns),
        }
    }

    async fn email(&self, email: &Email) -> Result<String, NotifyError> {
        use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
        let content = |data: &str| {
            Content::builder()
                .data(data)
                .charset("UTF-8")
                .build()
                .map_err(|_| NotifyError::Refused {
                    service: "SES",
                    code: "the message could not be built".to_owned(),
                })
        };
        let message = Message::builder()
            .subject(content(&email.subject)?)
            .body(
                Body::builder()
                    .text(content(&email.text)?)
                    .html(content(&email.html)?)
                    .build(),
            )
            .build();
        let destination = Destination::builder()
            .set_to_addresses(Some(email.to.clone()))
            .set_cc_addresses((!email.cc.is_empty()).then(|| email.cc.clone()))
            .set_bcc_addresses((!email.bcc.is_empty()).then(|| email.bcc.clone()))
            .build();
        let sent = self
            .ses
            .send_email()
            .from_email_address(&email.from)
            .destination(destination)
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|e| classify_notify("SES", &e))?;
        Ok(sent.message_id.unwrap_or_default())
    }

    async fn publish(&self, message: &SnsMessage) -> Result<String, NotifyError> {
        let sent = self
            .sns
            .publish()
            .topic_arn(&message.topic_arn)
            .set_subject(message.subject.clone())
            .message(&message.message)
            .send()
            .await
            .map_err(|e| classify_notify("SNS", &e))?;
        Ok(sent.message_id.unwrap_or_default())
    }
}

#[async_trait]
impl Notifier for SdkNotifier {
    async fn send(&self, notification: &Notification) -> Result<Sent, NotifyError> {
        let message_id = match notification {
            Notification::Email(email) => self.email(email).await?,
            Notification::Sns(message) => self.publish(message).await?,
            // The chat channels have their own adapters (`crate::chat`).
            Notification::Slack(_) | Notification::Teams(_) => {
                return Err(NotifyError::Refused {
                    service: "notify",
                    code: format!("{} is not sent through AWS", notification.channel()),
                });
            }
        };
        Ok(Sent {
            message_id: Some(message_id),
            slack: None,
        })
    }
}

fn classify_notify<E, R>(service: &'static str, err: &SdkError<E, R>) -> NotifyError
where
    E: ProvideErrorMetadata + std::error::Error,
    R: std::fmt::Debug,
{
    let unavailable = |reason: &str| NotifyError::Unavailable {
        service,
        reason: reason.to_owned(),
    };
    match err {
        SdkError::ServiceError(inner) => match inner.err().code() {
            Some(code) if is_retryable_code(Some(code)) => unavailable(code),
            Some(code) => NotifyError::Refused {
                service,
                code: code.to_owned(),
            },
            None => unavailable("an error without a code"),
        },
        SdkError::TimeoutError(_) => unavailable("no answer in time"),
        SdkError::DispatchFailure(_) => unavailable("the connection failed"),
        _ => unavailable("the request failed"),
    }
}
