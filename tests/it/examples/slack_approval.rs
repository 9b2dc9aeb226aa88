//! `examples/slack-approval`: the approval step posts to Slack with no
//! code of its own; presses (signed as Slack signs them) decide the task
//! through `/slack/interactions`, and the run branches on the decision.

use aws_sdk_sfn::types::ExecutionStatus;
use serde_json::json;

use super::{Lab, assert_status, output};
use crate::it::slack_standin::{
    BOT_TOKEN, CHANNEL, SIGNING_SECRET, Slack, button_value, interact, press, submission,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_named_approver_ships_the_release_from_slack() {
    let slack = Slack::start().await;
    slack.user("U0ALICE", Some("alice@example.com"));
    slack.user("U0BOB", Some("bob@example.com"));
    slack.user("U0REQ", Some("req@example.com"));
    let api_url = slack.api_url();
    let Some(lab) = Lab::start(&[
        ("SLACK_BOT_TOKEN", BOT_TOKEN),
        ("SLACK_SIGNING_SECRET", SIGNING_SECRET),
        ("SLACK_API_URL", &api_url),
        ("NOTIFY_SLACK_CHANNELS", CHANNEL),
    ])
    .await
    else {
        return;
    };
    let machine = lab
        .state_machine("slack-approval", &[("SlackChannelId", CHANNEL)])
        .await;
    let input = json!({"release": "v2.4", "notes": "Fixes the login timeout.",
                       "requester": "U0REQ", "approvers": ["U0ALICE", "U0BOB"]});

    let shipped = lab.run(&machine, "ship-v2-4", &input).await;
    let created = lab.invoke_create_urls_once(&shipped).await;
    assert_eq!(created["notified"]["channel"], "slack", "{created}");
    let posted = slack.seen("chat.postMessage");
    let blocks = posted.last().expect("posted")["blocks"].clone();
    assert_eq!(blocks[0]["text"]["text"], "Release v2.4 waits for you");
    assert_eq!(
        blocks[1]["text"]["text"],
        "<@U0REQ> asks to ship *v2.4* to production.\nFixes the login timeout."
    );
    let approve = button_value(&blocks, "approve");
    // The requester may not approve their own release.
    interact(
        &lab.server.base,
        &press(
            "U0REQ",
            "approve",
            &approve,
            &slack.response_url(1),
            &blocks,
        ),
    )
    .await;
    lab.assert_running(&shipped, "the requester decides nothing")
        .await;
    let (status, _) = interact(
        &lab.server.base,
        &press(
            "U0ALICE",
            "approve",
            &approve,
            &slack.response_url(2),
            &blocks,
        ),
    )
    .await;
    assert_eq!(status, 200);
    let done = lab.finished(&shipped).await;
    assert_status(&done, ExecutionStatus::Succeeded);
    assert_eq!(
        output(&done),
        json!({"shipped": "v2.4", "approver": "U0ALICE"})
    );

    // Rejected with a reason, through the modal: the run fails.
    let refused = lab.run(&machine, "ship-v2-5", &input).await;
    lab.invoke_create_urls_once(&refused).await;
    let posted = slack.seen("chat.postMessage");
    let blocks = posted.last().expect("posted")["blocks"].clone();
    let reject = button_value(&blocks, "reject");
    interact(
        &lab.server.base,
        &press("U0BOB", "reject", &reject, &slack.response_url(3), &blocks),
    )
    .await;
    let opened = slack.seen("views.open").pop().expect("the modal");
    let (status, text) = interact(
        &lab.server.base,
        &submission(
            "U0BOB",
            &opened,
            json!({"comment": {"comment": {"type": "plain_text_input", "value": "Wait for the fix"}}}),
        ),
    )
    .await;
    assert_eq!((status, text.as_str()), (200, ""));
    let done = lab.finished(&refused).await;
    assert_status(&done, ExecutionStatus::Failed);
    assert_eq!(done.error.as_deref(), Some("Rejected"));
}
