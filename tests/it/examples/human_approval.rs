//! `examples/human-approval`: a mail with two links, a confirmation page, a
//! redirect after the click, and a Choice on the decision.

use aws_sdk_sfn::types::ExecutionStatus;
use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{CreateUrls, Lab, assert_status, link_in_html, output};
use crate::it::moto::{call, http};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approve_releases_and_reject_fails_with_the_comment() {
    let Some(lab) = Lab::start(&[]).await else {
        return;
    };
    let machine = lab.state_machine("human-approval", &[]).await;

    // Approve: the mail's link shows a page; its button redirects.
    let (approved, created) = lab
        .run_one_task(
            &machine,
            "approve-v2",
            &json!({"release": "v2.1", "approver": "boss@corp.example"}),
        )
        .await;
    assert_eq!(created["notified"]["channel"], "email", "{created}");
    let message = lab.only_mail_to("boss@corp.example").await;
    assert_eq!(message["subject"], "Release v2.1: approve or reject?");
    let html = message["body"].as_str().expect("html");
    let approve = link_in_html(html, "approve");
    assert_eq!(approve, created["urls"]["approve"].as_str().expect("url"));

    let page = call(Method::GET, &approve, Some("text/html"), None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text.contains("Release v2.1 goes to production."),
        "{}",
        page.text
    );
    lab.assert_running(&approved, "opening the page must not decide")
        .await;

    let pressed = http()
        .post(&approve)
        .header("accept", "text/html")
        .send()
        .await
        .expect("press");
    assert_eq!(pressed.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        pressed.headers()["location"],
        "https://intranet.example.com/releases/v2.1?decision=approved"
    );
    assert_released(&lab, &approved).await;

    // Reject: the comment is required, then the Choice fails the run.
    let (rejected, _) = lab
        .run_one_task(
            &machine,
            "reject-v3",
            &json!({"release": "v3.0", "approver": "lead@corp.example"}),
        )
        .await;
    let message = lab.only_mail_to("lead@corp.example").await;
    let reject = link_in_html(message["body"].as_str().expect("html"), "reject");
    let without = press(&reject, "").await;
    assert_eq!(without.status(), StatusCode::BAD_REQUEST);
    lab.assert_running(&rejected, "a missing comment decides nothing")
        .await;
    let with = press(&reject, "Not before the audit <b>ends</b>").await;
    assert_eq!(with.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        with.headers()["location"],
        "https://intranet.example.com/releases/v3.0?decision=rejected"
    );
    let done = lab.finished(&rejected).await;
    assert_status(&done, ExecutionStatus::Failed);
    assert_eq!(done.error.as_deref(), Some("Rejected"));
}

/// Asserts the run ended approved and released.
pub(super) async fn assert_released<D: CreateUrls>(lab: &Lab<D>, execution: &str) {
    let done = lab.finished(execution).await;
    assert_status(&done, ExecutionStatus::Succeeded);
    let result = output(&done);
    assert_eq!(result["review"], json!({"decision": "approved"}));
    assert_eq!(result["outcome"], "released");
}

/// The confirmation page's button, as a browser sends it.
async fn press(url: &str, comment: &str) -> reqwest::Response {
    let form: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("comment", comment)
        .finish();
    http()
        .post(url)
        .header("accept", "text/html")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .expect("press")
}
