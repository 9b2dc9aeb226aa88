//! What the use cases count and time, through the `metrics` facade: the
//! one set of names both runtimes publish (Prometheus text in `serve`,
//! CloudWatch Embedded Metric Format in Lambda; see the binary's
//! `telemetry`). Without a recorder installed every call here is a no-op.
//!
//! A label value is always one of a fixed few words, never a token, an
//! address, a user or an ID, so no series grows with use and no secret
//! reaches a metric.

use std::time::Duration;

use metrics::{Unit, counter, describe_counter, describe_histogram, histogram};

use super::AppError;
use sfn_callbacks_core::ErrorCode;
use sfn_callbacks_core::approvers::Refusal;

/// The namespace: the CloudWatch namespace, and (as `sfn_callbacks_`) the
/// Prometheus prefix.
pub const NAMESPACE: &str = "SfnCallbacks";

/// CreateUrls requests, by `result` (`created`, `rejected`,
/// `unavailable`, `refused`).
pub const CREATE_REQUESTS: &str = "create_requests";
/// Links made by CreateUrls (one per action, and the review link), by
/// `key_mode`.
pub const LINKS_CREATED: &str = "links_created";
/// Notifications sent, by `channel`.
pub const NOTIFICATIONS_SENT: &str = "notifications_sent";
/// Notifications the service refused or could not take, by `channel`.
pub const NOTIFICATIONS_FAILED: &str = "notifications_failed";
/// Answered links, by `result` (see [`CallbackResult`]).
pub const CALLBACKS: &str = "callbacks";
/// Links opened without acting (a click that shows a page), by `view`
/// (`page`, `review`, `sign_in`).
pub const LINKS_OPENED: &str = "links_opened";
/// Seconds each engine call took, answered or not, by `operation`.
pub const ENGINE_CALL_SECONDS: &str = "engine_call_seconds";
/// Sign-ins finished.
pub const SIGN_INS: &str = "sign_ins";
/// Sign-ins that failed (a bad or replayed answer, the provider refused).
pub const SIGN_INS_FAILED: &str = "sign_ins_failed";
/// Signed-in people refused by a link's approvers, by `reason`
/// (`not_an_approver`, `requester`, `unidentified`).
pub const APPROVER_REFUSALS: &str = "approver_refusals";

/// One metric: what the recorders, the docs and the template's alarms and
/// dashboard know of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metric {
    /// Its name (without the Prometheus prefix).
    pub name: &'static str,
    /// A counter, or a histogram of seconds.
    pub kind: Kind,
    /// The one label it carries besides `deployment`, if any.
    pub label: Option<&'static str>,
    /// What it counts, for the recorder's description.
    pub help: &'static str,
}

const fn metric(
    name: &'static str,
    kind: Kind,
    label: Option<&'static str>,
    help: &'static str,
) -> Metric {
    Metric {
        name,
        kind,
        label,
        help,
    }
}

/// Every metric the service publishes.
pub const ALL: [Metric; 10] = [
    metric(
        CREATE_REQUESTS,
        Kind::Count,
        Some("result"),
        "CreateUrls requests, by result",
    ),
    metric(
        LINKS_CREATED,
        Kind::Count,
        Some("key_mode"),
        "links made by CreateUrls",
    ),
    metric(
        NOTIFICATIONS_SENT,
        Kind::Count,
        Some("channel"),
        "notifications sent",
    ),
    metric(
        NOTIFICATIONS_FAILED,
        Kind::Count,
        Some("channel"),
        "notifications not sent",
    ),
    metric(
        CALLBACKS,
        Kind::Count,
        Some("result"),
        "links answered, by result",
    ),
    metric(
        LINKS_OPENED,
        Kind::Count,
        Some("view"),
        "links opened without acting",
    ),
    metric(
        ENGINE_CALL_SECONDS,
        Kind::Seconds,
        Some("operation"),
        "time of each Step Functions or Lambda call",
    ),
    metric(SIGN_INS, Kind::Count, None, "sign-ins finished"),
    metric(SIGN_INS_FAILED, Kind::Count, None, "sign-ins that failed"),
    metric(
        APPROVER_REFUSALS,
        Kind::Count,
        Some("reason"),
        "signed-in people a link's approvers refused",
    ),
];

/// What a metric measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A counter.
    Count,
    /// A histogram of durations in seconds.
    Seconds,
}

/// Tells the installed recorder what each metric is.
pub fn describe() {
    for m in ALL {
        match m.kind {
            Kind::Count => describe_counter!(m.name, Unit::Count, m.help),
            Kind::Seconds => describe_histogram!(m.name, Unit::Seconds, m.help),
        }
    }
}

/// What answering a link came to, for [`CALLBACKS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackResult {
    /// The engine took a success.
    Succeeded,
    /// The engine took a failure.
    Failed,
    /// The engine took a heartbeat.
    Heartbeat,
    /// The task was closed (used, finished, timed out).
    Closed,
    /// The link's expiration had passed.
    Expired,
    /// Bad input: a link that does not open, a query or body or form that
    /// does not fit, someone the approvers refuse, an output the engine
    /// refuses.
    Rejected,
    /// A service was unavailable; the link stays valid.
    Unavailable,
    /// A service refused for a reason the operator has to fix.
    Refused,
}

impl CallbackResult {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Heartbeat => "heartbeat",
            Self::Closed => "closed",
            Self::Expired => "expired",
            Self::Rejected => "rejected",
            Self::Unavailable => "unavailable",
            Self::Refused => "refused",
        }
    }

    /// The result of a link that ended in this error.
    pub fn of(error: &AppError) -> Self {
        match error {
            AppError::Closed => Self::Closed,
            AppError::Rejected(r) if r.code == ErrorCode::ExpiredPayload => Self::Expired,
            AppError::Rejected(_)
            | AppError::BadLink(_)
            | AppError::OutputRefused(_)
            | AppError::NotifyFailed { .. } => Self::Rejected,
            AppError::Unavailable(_) => Self::Unavailable,
            AppError::Refused(_) => Self::Refused,
        }
    }
}

/// Counts one answered link.
pub fn callback(result: CallbackResult) {
    counter!(CALLBACKS, "result" => result.as_str()).increment(1);
}

/// Counts one CreateUrls request: `Ok` with the links it made, or the
/// error it ended in.
pub fn create_request(key_mode: &'static str, made: Result<usize, &AppError>) {
    let result = match made {
        Ok(links) => {
            links_created(key_mode, links);
            "created"
        }
        Err(AppError::NotifyFailed { .. }) => "refused",
        Err(e) => match CallbackResult::of(e) {
            CallbackResult::Unavailable => "unavailable",
            CallbackResult::Refused => "refused",
            _ => "rejected",
        },
    };
    counter!(CREATE_REQUESTS, "result" => result).increment(1);
}

/// Counts one link opened to a page that does not act.
pub fn link_opened(view: &'static str) {
    counter!(LINKS_OPENED, "view" => view).increment(1);
}

/// Counts the links one CreateUrls made.
fn links_created(key_mode: &'static str, links: usize) {
    counter!(LINKS_CREATED, "key_mode" => key_mode)
        .increment(u64::try_from(links).unwrap_or(u64::MAX));
}

/// Counts one notification.
pub fn notification(channel: &'static str, sent: bool) {
    let name = if sent {
        NOTIFICATIONS_SENT
    } else {
        NOTIFICATIONS_FAILED
    };
    counter!(name, "channel" => channel).increment(1);
}

/// Times one engine call.
pub fn engine_call(operation: &'static str, took: Duration) {
    histogram!(ENGINE_CALL_SECONDS, "operation" => operation).record(took.as_secs_f64());
}

/// Counts one finished sign-in.
pub fn sign_in(succeeded: bool) {
    counter!(if succeeded { SIGN_INS } else { SIGN_INS_FAILED }).increment(1);
}

/// Counts one person refused by a link's approvers.
pub fn approver_refused(refusal: Refusal) {
    let reason = match refusal {
        Refusal::NotAnApprover => "not_an_approver",
        Refusal::Requester => "requester",
        Refusal::Unidentified => "unidentified",
    };
    counter!(APPROVER_REFUSALS, "reason" => reason).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;
    use sfn_callbacks_core::error::Rejection;
    use sfn_callbacks_core::token::EngineKind;

    #[test]
    fn each_error_has_its_result() {
        let rejected = |code| AppError::Rejected(Rejection::new(code, "x"));
        assert_eq!(
            CallbackResult::of(&AppError::Closed),
            CallbackResult::Closed
        );
        assert_eq!(
            CallbackResult::of(&rejected(ErrorCode::ExpiredPayload)),
            CallbackResult::Expired
        );
        assert_eq!(
            CallbackResult::of(&rejected(ErrorCode::NotAnApprover)),
            CallbackResult::Rejected
        );
        assert_eq!(
            CallbackResult::of(&AppError::OutputRefused(EngineKind::Durable)),
            CallbackResult::Rejected
        );
        assert_eq!(
            CallbackResult::of(&AppError::Unavailable(super::super::Unavailable::Engine(
                EngineKind::StepFunctions
            ))),
            CallbackResult::Unavailable
        );
        assert_eq!(
            CallbackResult::of(&AppError::Refused(super::super::Refused::KeyService)),
            CallbackResult::Refused
        );
    }
}
