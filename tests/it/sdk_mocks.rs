//! The Step Functions adapter's error mapping and retries, with
//! `aws-smithy-mocks` (moto cannot produce `TaskTimedOut` or throttling).

use std::time::Duration;

use aws_sdk_sfn::Client;
use aws_sdk_sfn::config::retry::RetryConfig;
use aws_sdk_sfn::operation::send_task_heartbeat::SendTaskHeartbeatError;
use aws_sdk_sfn::operation::send_task_success::{SendTaskSuccessError, SendTaskSuccessOutput};
use aws_sdk_sfn::types::error::{
    InvalidOutput, InvalidToken, KmsAccessDeniedException, KmsThrottlingException,
    TaskDoesNotExist, TaskTimedOut,
};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use sfn_callbacks::app::call_engine;
use sfn_callbacks::aws::{SdkDurableCallbacks, SdkEngines, SdkStepFunctions};
use sfn_callbacks::core::callback::EngineCall;
use sfn_callbacks::core::token::{TaskToken, Token};
use sfn_callbacks::ports::EngineError;

use super::durable_mocks::{lambda_client, untouched_lambda};

fn task_token() -> Token {
    Token::Task(TaskToken::parse("tok".into()).expect("token"))
}

fn success() -> EngineCall {
    EngineCall::Success {
        token: task_token(),
        output: "{}".into(),
    }
}

/// A Step Functions client answering from `rules`, retrying as the
/// deployment does.
pub fn sfn_client(rules: &[&Rule]) -> SdkStepFunctions {
    let client: Client = mock_client!(
        aws_sdk_sfn,
        RuleMode::Sequential,
        rules.iter().copied(),
        |c| c
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(3)
                    .with_initial_backoff(Duration::from_millis(1))
            )
            .retry_classifier(sfn_callbacks::aws::RetryUnsentOnly)
    );
    SdkStepFunctions::new(client)
}

/// Both engines: Step Functions answering from `rules`, Lambda with
/// rules no call may reach (a test reads them with `untouched`).
fn client(rules: &[&Rule]) -> SdkEngines {
    assert_eq!(rules.len(), 1, "one rule per test");
    let never = untouched_lambda();
    SdkEngines::new(
        sfn_client(rules),
        SdkDurableCallbacks::new(lambda_client(&never.iter().collect::<Vec<_>>())),
    )
}

/// The three Step Functions rules no durable call may reach.
pub fn untouched_sfn() -> [Rule; 3] {
    [
        mock!(Client::send_task_success).then_output(|| SendTaskSuccessOutput::builder().build()),
        mock!(Client::send_task_failure).then_output(|| {
            aws_sdk_sfn::operation::send_task_failure::SendTaskFailureOutput::builder().build()
        }),
        mock!(Client::send_task_heartbeat).then_output(|| {
            aws_sdk_sfn::operation::send_task_heartbeat::SendTaskHeartbeatOutput::builder().build()
        }),
    ]
}

#[tokio::test]
async fn a_step_functions_link_never_calls_lambda() {
    let sfn = untouched_sfn();
    let lambda = untouched_lambda();
    let engines = SdkEngines::new(
        sfn_client(&sfn.iter().collect::<Vec<_>>()),
        SdkDurableCallbacks::new(lambda_client(&lambda.iter().collect::<Vec<_>>())),
    );
    let calls = [
        success(),
        EngineCall::Failure {
            token: task_token(),
            error: Some("E".into()),
            cause: None,
        },
        EngineCall::Heartbeat {
            token: task_token(),
        },
    ];
    for call in &calls {
        call_engine(&engines, call).await.expect("sent");
    }
    assert_eq!(
        sfn.iter().map(Rule::num_calls).collect::<Vec<_>>(),
        [1, 1, 1]
    );
    assert_eq!(lambda.iter().map(Rule::num_calls).sum::<usize>(), 0);
}

#[tokio::test]
async fn closed_tasks_are_reported_as_closed() {
    type MakeError = fn() -> SendTaskSuccessError;
    let cases: [(MakeError, &str); 3] = [
        (
            || SendTaskSuccessError::TaskTimedOut(TaskTimedOut::builder().message("gone").build()),
            "TaskTimedOut",
        ),
        (
            || SendTaskSuccessError::InvalidToken(InvalidToken::builder().build()),
            "InvalidToken",
        ),
        (
            || SendTaskSuccessError::TaskDoesNotExist(TaskDoesNotExist::builder().build()),
            "TaskDoesNotExist",
        ),
    ];
    for (error, code) in cases {
        let rule = mock!(Client::send_task_success).then_error(error);
        let err = call_engine(&client(&[&rule]), &success())
            .await
            .expect_err(code);
        assert_eq!(err, EngineError::TaskClosed(code.into()));
        assert_eq!(rule.num_calls(), 1, "{code} must not be retried");
    }
}

#[tokio::test]
async fn invalid_output_and_permission_errors_are_not_retried() {
    let rule = mock!(Client::send_task_success).then_error(|| {
        SendTaskSuccessError::InvalidOutput(InvalidOutput::builder().message("bad json").build())
    });
    let err = call_engine(&client(&[&rule]), &success())
        .await
        .expect_err("invalid");
    assert_eq!(err, EngineError::InvalidOutput);
    assert_eq!(rule.num_calls(), 1, "InvalidOutput must not be retried");

    let rule = mock!(Client::send_task_success).then_error(|| {
        SendTaskSuccessError::KmsAccessDeniedException(KmsAccessDeniedException::builder().build())
    });
    let err = call_engine(&client(&[&rule]), &success())
        .await
        .expect_err("refused");
    assert!(
        matches!(err, EngineError::Refused(ref m) if m == "KmsAccessDeniedException"),
        "{err:?}"
    );
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn throttling_and_5xx_are_retried_then_succeed() {
    let rule = mock!(Client::send_task_success)
        .sequence()
        .http_status(500, None)
        .http_status(503, None)
        .output(|| SendTaskSuccessOutput::builder().build())
        .build();
    call_engine(&client(&[&rule]), &success())
        .await
        .expect("third attempt succeeds");
    assert_eq!(rule.num_calls(), 3);
}

#[tokio::test]
async fn throttling_errors_are_retried_then_succeed() {
    let throttled = r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;
    let rule = mock!(Client::send_task_success)
        .sequence()
        .http_status(400, Some(throttled.to_owned()))
        .output(|| SendTaskSuccessOutput::builder().build())
        .build();
    call_engine(&client(&[&rule]), &success())
        .await
        .expect("the retry succeeds");
    assert_eq!(rule.num_calls(), 2);

    let always = mock!(Client::send_task_success)
        .sequence()
        .http_status(400, Some(throttled.to_owned()))
        .repeatedly()
        .build();
    let err = call_engine(&client(&[&always]), &success())
        .await
        .expect_err("gives up");
    assert_eq!(err, EngineError::Unavailable("ThrottlingException".into()));
    assert_eq!(always.num_calls(), 3);
}

#[tokio::test]
async fn kms_throttling_inside_step_functions_is_unavailable_not_refused() {
    let rule = mock!(Client::send_task_success).then_error(|| {
        SendTaskSuccessError::KmsThrottlingException(KmsThrottlingException::builder().build())
    });
    let err = call_engine(&client(&[&rule]), &success())
        .await
        .expect_err("throttled");
    assert!(matches!(err, EngineError::Unavailable(_)), "{err:?}");
}

#[tokio::test]
async fn persistent_outages_become_unavailable_after_the_retry_budget() {
    let rule = mock!(Client::send_task_success)
        .sequence()
        .http_status(503, None)
        .repeatedly()
        .build();
    let err = call_engine(&client(&[&rule]), &success())
        .await
        .expect_err("gives up");
    assert!(matches!(err, EngineError::Unavailable(_)), "{err:?}");
    assert_eq!(rule.num_calls(), 3, "exactly the configured attempts");
}

#[tokio::test]
async fn heartbeats_map_the_same_way() {
    let rule = mock!(Client::send_task_heartbeat)
        .then_error(|| SendTaskHeartbeatError::TaskTimedOut(TaskTimedOut::builder().build()));
    let heartbeat = EngineCall::Heartbeat {
        token: task_token(),
    };
    let err = call_engine(&client(&[&rule]), &heartbeat)
        .await
        .expect_err("closed");
    assert_eq!(err, EngineError::TaskClosed("TaskTimedOut".into()));
}
