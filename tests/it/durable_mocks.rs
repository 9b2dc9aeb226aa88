//! The Lambda durable callback adapter's error mapping and retries, with
//! `aws-smithy-mocks`: AWS's documented error shapes (the local runner's
//! own shape is tested end to end in `durable`).

use std::time::Duration;

use aws_sdk_lambda::Client;
use aws_sdk_lambda::config::retry::RetryConfig;
use aws_sdk_lambda::operation::send_durable_execution_callback_failure::SendDurableExecutionCallbackFailureOutput;
use aws_sdk_lambda::operation::send_durable_execution_callback_heartbeat::{
    SendDurableExecutionCallbackHeartbeatError, SendDurableExecutionCallbackHeartbeatOutput,
};
use aws_sdk_lambda::operation::send_durable_execution_callback_success::{
    SendDurableExecutionCallbackSuccessError, SendDurableExecutionCallbackSuccessOutput,
};
use aws_sdk_lambda::types::error::{
    CallbackTimeoutException, InvalidParameterValueException, KmsAccessDeniedException,
    ResourceNotFoundException, ServiceException,
};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use aws_smithy_runtime_api::http::{Response as HttpResponse, StatusCode};
use aws_smithy_types::body::SdkBody;
use sfn_callbacks::app::{AppError, call_engine};
use sfn_callbacks::aws::{SdkDurableCallbacks, SdkEngines, send_once_lambda};
use sfn_callbacks::core::callback::EngineCall;
use sfn_callbacks::core::token::{CallbackId, Token};
use sfn_callbacks::ports::EngineError;

use super::sdk_mocks::{sfn_client, untouched_sfn};

/// An HTTP answer from Lambda: a status, a body and maybe an
/// `x-amzn-errortype`.
fn answer(status: u16, error_type: Option<&str>, body: &'static str) -> HttpResponse {
    let mut response = HttpResponse::new(
        StatusCode::try_from(status).expect("status"),
        SdkBody::from(body),
    );
    if let Some(error_type) = error_type {
        response
            .headers_mut()
            .insert("x-amzn-errortype", error_type.to_owned());
    }
    response
}

fn callback_id() -> Token {
    Token::Callback(CallbackId::parse("Q0FMTEJBQ0s=".into()).expect("id"))
}

fn success() -> EngineCall {
    EngineCall::Success {
        token: callback_id(),
        output: r#"{"approved":true}"#.into(),
    }
}

/// A Lambda client answering from `rules`, set up as the deployment's
/// (three attempts here, quickly).
pub fn lambda_client(rules: &[&Rule]) -> Client {
    mock_client!(
        aws_sdk_lambda,
        RuleMode::MatchAny,
        rules.iter().copied(),
        |c| send_once_lambda(
            c.retry_config(
                RetryConfig::standard()
                    .with_max_attempts(3)
                    .with_initial_backoff(Duration::from_millis(1))
            )
        )
    )
}

/// The three Lambda rules no Step Functions call may reach.
pub fn untouched_lambda() -> [Rule; 3] {
    [
        mock!(Client::send_durable_execution_callback_success)
            .then_output(|| SendDurableExecutionCallbackSuccessOutput::builder().build()),
        mock!(Client::send_durable_execution_callback_failure)
            .then_output(|| SendDurableExecutionCallbackFailureOutput::builder().build()),
        mock!(Client::send_durable_execution_callback_heartbeat)
            .then_output(|| SendDurableExecutionCallbackHeartbeatOutput::builder().build()),
    ]
}

/// Both engines: Lambda answering from `rules`, Step Functions with rules
/// no call may reach.
fn engines(rules: &[&Rule]) -> SdkEngines {
    let never = untouched_sfn();
    SdkEngines::new(
        sfn_client(&never.iter().collect::<Vec<_>>()),
        SdkDurableCallbacks::new(lambda_client(rules)),
    )
}

#[tokio::test]
async fn each_call_sends_what_the_callback_api_takes_and_never_calls_step_functions() {
    let success_rule = mock!(Client::send_durable_execution_callback_success)
        .match_requests(|input| {
            input.callback_id() == Some("Q0FMTEJBQ0s=")
                && input.result().map(AsRef::as_ref) == Some(br#"{"approved":true}"#.as_slice())
        })
        .then_output(|| SendDurableExecutionCallbackSuccessOutput::builder().build());
    let failure_rule = mock!(Client::send_durable_execution_callback_failure)
        .match_requests(|input| {
            let error = input.error().expect("an error object");
            input.callback_id() == Some("Q0FMTEJBQ0s=")
                && error.error_type() == Some("Rejected")
                && error.error_message() == Some("not this quarter")
        })
        .then_output(|| SendDurableExecutionCallbackFailureOutput::builder().build());
    let heartbeat_rule = mock!(Client::send_durable_execution_callback_heartbeat)
        .match_requests(|input| input.callback_id() == Some("Q0FMTEJBQ0s="))
        .then_output(|| SendDurableExecutionCallbackHeartbeatOutput::builder().build());
    let sfn = untouched_sfn();
    let engines = SdkEngines::new(
        sfn_client(&sfn.iter().collect::<Vec<_>>()),
        SdkDurableCallbacks::new(lambda_client(&[
            &success_rule,
            &failure_rule,
            &heartbeat_rule,
        ])),
    );
    let calls = [
        success(),
        EngineCall::Failure {
            token: callback_id(),
            error: Some("Rejected".into()),
            cause: Some("not this quarter".into()),
        },
        EngineCall::Heartbeat {
            token: callback_id(),
        },
    ];
    for call in &calls {
        call_engine(&engines, call).await.expect("sent");
    }
    assert_eq!(success_rule.num_calls(), 1);
    assert_eq!(failure_rule.num_calls(), 1);
    assert_eq!(heartbeat_rule.num_calls(), 1);
    assert_eq!(sfn.iter().map(Rule::num_calls).sum::<usize>(), 0);
}

#[tokio::test]
async fn closed_and_unknown_callbacks_are_closed_and_never_retried() {
    type MakeError = fn() -> SendDurableExecutionCallbackSuccessError;
    let cases: [(MakeError, &str); 2] = [
        (
            || {
                SendDurableExecutionCallbackSuccessError::CallbackTimeoutException(
                    CallbackTimeoutException::builder().message("gone").build(),
                )
            },
            "CallbackTimeoutException",
        ),
        (
            || {
                SendDurableExecutionCallbackSuccessError::ResourceNotFoundException(
                    ResourceNotFoundException::builder().build(),
                )
            },
            "ResourceNotFoundException",
        ),
    ];
    for (error, code) in cases {
        let rule = mock!(Client::send_durable_execution_callback_success).then_error(error);
        let err = call_engine(&engines(&[&rule]), &success())
            .await
            .expect_err(code);
        assert_eq!(err, EngineError::TaskClosed(code.into()));
        assert_eq!(rule.num_calls(), 1, "{code} must not be retried");
        assert_eq!(AppError::engine(err, &success()), AppError::Closed);
    }
}

#[tokio::test]
async fn aws_documented_wire_shapes_are_read() {
    // AWS: 400 with the error type in `x-amzn-errortype`.
    let timed_out =
        mock!(Client::send_durable_execution_callback_success).then_http_response(|| {
            answer(
                400,
                Some("CallbackTimeoutException"),
                r#"{"Type":"User","message":"The callback has timed out"}"#,
            )
        });
    let err = call_engine(&engines(&[&timed_out]), &success())
        .await
        .expect_err("closed");
    assert_eq!(
        err,
        EngineError::TaskClosed("CallbackTimeoutException".into())
    );
    // The local runner: 404, the type only in the body's `Type`.
    let runner = mock!(Client::send_durable_execution_callback_success).then_http_response(|| {
        answer(
            404,
            None,
            r#"{"Type":"ResourceNotFoundException","Message":"Callback operation is not in STARTED state"}"#,
        )
    });
    let err = call_engine(&engines(&[&runner]), &success())
        .await
        .expect_err("closed");
    assert_eq!(
        err,
        EngineError::TaskClosed("ResourceNotFoundException".into())
    );
    assert_eq!(runner.num_calls(), 1);
}

#[tokio::test]
async fn a_refused_result_is_a_400_and_a_missing_permission_a_502_naming_it() {
    let rule = mock!(Client::send_durable_execution_callback_success).then_error(|| {
        SendDurableExecutionCallbackSuccessError::InvalidParameterValueException(
            InvalidParameterValueException::builder()
                .message("the result is too large")
                .build(),
        )
    });
    let err = call_engine(&engines(&[&rule]), &success())
        .await
        .expect_err("invalid");
    assert_eq!(err, EngineError::InvalidOutput);
    assert_eq!(rule.num_calls(), 1);
    let app = AppError::engine(err, &success());
    assert!(
        app.message()
            .contains("Lambda refused the call's parameters"),
        "{app}"
    );

    let denied = mock!(Client::send_durable_execution_callback_success).then_http_response(|| {
        answer(
            403,
            Some("AccessDeniedException"),
            r#"{"Message":"User is not authorized to perform: lambda:SendDurableExecutionCallbackSuccess"}"#,
        )
    });
    let err = call_engine(&engines(&[&denied]), &success())
        .await
        .expect_err("refused");
    assert_eq!(err, EngineError::Refused("AccessDeniedException".into()));
    assert_eq!(denied.num_calls(), 1, "a refusal is not retried");
    let app = AppError::engine(err, &success());
    let message = app.message();
    assert!(
        message.contains("lambda:SendDurableExecutionCallbackSuccess")
            && message.contains("DurableFunctionArns")
            && message.contains("still valid"),
        "{message}"
    );
    assert!(!message.contains("Q0FMTEJBQ0s"), "{message}");

    let kms = mock!(Client::send_durable_execution_callback_success).then_error(|| {
        SendDurableExecutionCallbackSuccessError::KmsAccessDeniedException(
            KmsAccessDeniedException::builder().build(),
        )
    });
    let err = call_engine(&engines(&[&kms]), &success())
        .await
        .expect_err("refused");
    assert_eq!(err, EngineError::Refused("KMSAccessDeniedException".into()));
    // On the wire a KMS refusal is a 502, which is not sent again.
    let kms = mock!(Client::send_durable_execution_callback_success)
        .sequence()
        .http_response(|| {
            answer(
                502,
                Some("KMSAccessDeniedException"),
                r#"{"Type":"User","Message":"Lambda was unable to decrypt"}"#,
            )
        })
        .repeatedly()
        .build();
    let err = call_engine(&engines(&[&kms]), &success())
        .await
        .expect_err("refused");
    assert_eq!(err, EngineError::Refused("KMSAccessDeniedException".into()));
    assert_eq!(kms.num_calls(), 1, "a KMS refusal is not retried");

    // A bare 404 from an endpoint without the durable API is no proof the
    // callback is closed: the link stays valid.
    let elsewhere = mock!(Client::send_durable_execution_callback_success)
        .then_http_response(|| answer(404, None, "<html>Not Found</html>"));
    let err = call_engine(&engines(&[&elsewhere]), &success())
        .await
        .expect_err("refused");
    assert_eq!(err, EngineError::Refused("HTTP 404".into()));
}

#[tokio::test]
async fn throttling_and_service_errors_are_retried_then_unavailable() {
    let rule = mock!(Client::send_durable_execution_callback_success)
        .sequence()
        .http_response(|| {
            answer(
                429,
                Some("TooManyRequestsException"),
                r#"{"Type":"User","message":"Rate exceeded","Reason":"CallerRateLimitExceeded"}"#,
            )
        })
        .output(|| SendDurableExecutionCallbackSuccessOutput::builder().build())
        .build();
    call_engine(&engines(&[&rule]), &success())
        .await
        .expect("the retry succeeds");
    assert_eq!(rule.num_calls(), 2);

    let always = mock!(Client::send_durable_execution_callback_success)
        .sequence()
        .http_status(
            500,
            Some(r#"{"Type":"Service","message":"oops"}"#.to_owned()),
        )
        .repeatedly()
        .build();
    let err = call_engine(&engines(&[&always]), &success())
        .await
        .expect_err("gives up");
    assert!(matches!(err, EngineError::Unavailable(_)), "{err:?}");
    assert_eq!(always.num_calls(), 3, "exactly the configured attempts");
    let app = AppError::engine(err, &success());
    assert_eq!(app.retry_after_secs(), Some(5));
    assert!(app.message().starts_with("Lambda is unavailable"), "{app}");

    let service = mock!(Client::send_durable_execution_callback_heartbeat)
        .sequence()
        .error(|| {
            SendDurableExecutionCallbackHeartbeatError::ServiceException(
                ServiceException::builder().build(),
            )
        })
        .repeatedly()
        .build();
    let heartbeat = EngineCall::Heartbeat {
        token: callback_id(),
    };
    let err = call_engine(&engines(&[&service]), &heartbeat)
        .await
        .expect_err("unavailable");
    assert!(matches!(err, EngineError::Unavailable(_)), "{err:?}");
}
