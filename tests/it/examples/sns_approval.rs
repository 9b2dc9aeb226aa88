//! `examples/sns-approval`: the links go out as one SNS message to a topic
//! people subscribe to; after the decision a plain `sns:publish` state
//! announces it on the same topic, and a Choice branches on it.

use aws_sdk_sfn::types::ExecutionStatus;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{Lab, assert_status, link_in_text, output};
use crate::it::moto::{http, url_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_topic_gets_the_links_then_the_decision() {
    let Some(lab) = Lab::start_with_topics(&["purchases"], &[]).await else {
        return;
    };
    let topic = lab.topic("purchases").to_owned();
    let inbox = lab.subscribe_queue(&topic, "purchases-inbox").await;
    let machine = lab
        .state_machine("sns-approval", &[("ApprovalTopicArn", &topic)])
        .await;

    // Approve: the message names both choices; its approve link decides.
    let input = json!({
        "request": "PO-1042",
        "item": "two laptops",
        "amount": "2,400 EUR",
        "requester": "Dana"
    });
    let approved = lab.run(&machine, "approve-po-1042", &input).await;
    let created = lab.invoke_create_urls_once(&approved).await;
    assert_eq!(created["notified"]["channel"], "sns", "{created}");
    let message = lab.next_message(&inbox).await;
    assert_eq!(message["TopicArn"], topic);
    assert_eq!(message["MessageId"], created["notified"]["message_id"]);
    assert_eq!(message["Subject"], "Purchase PO-1042: approve or reject?");
    let text = message["Message"].as_str().expect("text");
    assert!(
        text.starts_with("Dana asks to buy two laptops for 2,400 EUR (request PO-1042).\n"),
        "{text}"
    );
    let approve = link_in_text(text, "approve");
    let reject = link_in_text(text, "reject");
    assert_eq!(approve, url_of(&created, "approve"));
    assert_eq!(reject, url_of(&created, "reject"));
    assert!(
        text.contains(&format!(
            "\nApprove PO-1042: Order two laptops for 2,400 EUR.\n{approve}\n"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "\nReject PO-1042: Nothing is ordered.\n{reject}\n"
        )),
        "{text}"
    );
    lab.assert_running(&approved, "the message alone decides nothing")
        .await;

    let reply = http().post(&approve).send().await.expect("approve");
    assert_eq!(reply.status(), StatusCode::OK);
    let reply: Value = reply.json().await.expect("json");
    assert_eq!(reply["action"]["name"], "approve", "{reply}");
    assert_eq!(reply["transaction_id"], created["transaction_id"]);
    let done = lab.finished(&approved).await;
    assert_status(&done, ExecutionStatus::Succeeded);
    let result = output(&done);
    assert_eq!(result["review"], json!({"decision": "approved"}));
    assert_eq!(result["outcome"], "ordered");

    let confirmation = lab.next_message(&inbox).await;
    assert_eq!(confirmation["Subject"], "Purchase PO-1042: approved");
    assert_eq!(
        confirmation["Message"],
        "Request PO-1042 (two laptops for 2,400 EUR, asked by Dana) was approved."
    );
    assert_eq!(
        confirmation["MessageId"], result["announcement"]["MessageId"],
        "the announcement state's result is the message subscribers got"
    );
    let used = http().post(&reject).send().await.expect("reject late");
    assert_eq!(
        used.status(),
        StatusCode::GONE,
        "the other link of an answered task"
    );

    // Reject: announced the same way, then the Choice fails the run.
    let rejected = lab
        .run(
            &machine,
            "reject-po-1043",
            &json!({
                "request": "PO-1043",
                "item": "a standing desk",
                "amount": "650 EUR",
                "requester": "Sam"
            }),
        )
        .await;
    let created = lab.invoke_create_urls_once(&rejected).await;
    let message = lab.next_message(&inbox).await;
    assert_eq!(message["Subject"], "Purchase PO-1043: approve or reject?");
    let reject = link_in_text(message["Message"].as_str().expect("text"), "reject");
    assert_eq!(reject, url_of(&created, "reject"));
    let reply = http().post(&reject).send().await.expect("reject");
    assert_eq!(reply.status(), StatusCode::OK);
    let done = lab.finished(&rejected).await;
    assert_status(&done, ExecutionStatus::Failed);
    assert_eq!(done.error.as_deref(), Some("Rejected"));
    assert_eq!(
        done.cause.as_deref(),
        Some("The approver rejected the purchase.")
    );
    let confirmation = lab.next_message(&inbox).await;
    assert_eq!(confirmation["Subject"], "Purchase PO-1043: rejected");
    assert_eq!(
        confirmation["Message"],
        "Request PO-1043 (a standing desk for 650 EUR, asked by Sam) was rejected."
    );
}
