//! Teams' Workflows webhooks: one POST of the card; any 2xx (Power
//! Automate answers 202) means the flow took it.

use std::time::Duration;

use hyper::Method;

use super::web::{WebClient, WebError};
use crate::ports::NotifyError;
use crate::presentation::notify::{Sent, TeamsMessage};

/// The longest the post may take.
const DEADLINE: Duration = Duration::from_secs(5);

/// The Teams adapter.
#[derive(Debug, Clone)]
pub struct TeamsClient {
    web: WebClient,
}

impl TeamsClient {
    /// A client.
    pub fn new(web: WebClient) -> Self {
        Self { web }
    }

    /// Posts the card. Errors name the HTTP status, never the URL.
    pub async fn post(&self, message: &TeamsMessage) -> Result<Sent, NotifyError> {
        let unavailable = |reason: String| NotifyError::Unavailable {
            service: "Teams",
            reason,
        };
        let answer = self
            .web
            .call(
                Method::POST,
                &message.webhook,
                None,
                Some("application/json"),
                message.body.to_string().into_bytes(),
                DEADLINE,
            )
            .await
            .map_err(|e: WebError| unavailable(e.to_string()))?;
        let status = answer.status;
        if status.is_success() {
            Ok(Sent {
                message_id: None,
                slack: None,
            })
        } else if status.is_server_error() || status.as_u16() == 429 {
            Err(unavailable(format!("HTTP {status}")))
        } else {
            Err(NotifyError::Refused {
                service: "Teams",
                code: format!("HTTP {}", status.as_u16()),
            })
        }
    }
}
