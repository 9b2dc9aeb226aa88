//! Slack: the `notify.slack` message, and presses on its buttons through
//! `POST /slack/interactions`, with fakes for Step Functions and a
//! loopback stand-in of Slack's Web API and `response_url` (the real
//! adapter talks to it). Payloads are signed as Slack signs them.

use std::sync::Arc;

use axum::http::Method;
use serde_json::{Value, json};
use sfn_callbacks::chat::slack::{BotToken, SlackSettings};
use sfn_callbacks::chat::{SlackClient, WebClient};
use sfn_callbacks::core::callback::EngineCall;
use sfn_callbacks::http::slack::SigningSecret;
use sfn_callbacks::ports::EngineError;
use sfn_callbacks::presentation::notify::Notification;

use super::slack_standin::{
    BOT_TOKEN, CHANNEL, MISSING_CHANNEL, SIGNING_SECRET, Slack, button_value, press, signed,
    signed_body, submission,
};
use super::support::{App, START};

const TOKEN: &str = "QUJDREVGR0hJSktMTU5PUA==";
const ALICE: &str = "U0ALICE";
const BOB: &str = "U0BOB";
const MALLORY: &str = "U0MALLORY";

async fn deployment(slack: &Slack) -> App {
    let settings = SlackSettings {
        bot_token: BotToken::new(BOT_TOKEN.to_owned()),
        api_url: url::Url::parse(&slack.api_url()).expect("url"),
    };
    let client = Arc::new(SlackClient::new(settings, WebClient::new()));
    App::new(|d| {
        d.app.features.slack = true;
        d.app.notify.slack_channels = vec![CHANNEL.into()];
        d.http.slack_signing_secret = Some(SigningSecret::new(SIGNING_SECRET));
        d.slack = Some(client);
    })
}

fn request() -> Value {
    json!({
        "token": TOKEN,
        "expiration": "2030-06-02T12:00:00Z",
        "approvers": {"slack_users": [ALICE, BOB], "domains": ["leads.example.com"]},
        "requester": "U0RITA",
        "actions": [
            {"name": "approve", "type": "success", "output": {"approved": true},
             "label": "Approve <v2>", "description": "Ships v2 & more."},
            {"name": "reject", "type": "failure", "error": "Rejected",
             "comment": {"required": true, "max_length": 200}},
            {"name": "ping", "type": "heartbeat", "approvers": null}
        ],
        "notify": {"slack": {"channel": CHANNEL}, "context": {"release": "v2"}}
    })
}

/// Creates the request's links; the message the notifier got.
async fn posted(app: &App, body: &Value) -> (Value, Value) {
    let reply = app.create(body).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let answer = reply.json();
    let sent = app.notifier.sent();
    let Some(Notification::Slack(message)) = sent.last() else {
        panic!("a Slack message: {sent:?}")
    };
    assert_eq!(message.channel, CHANNEL);
    (answer, message.blocks.clone())
}

async fn interact(app: &App, payload: &Value) -> super::support::Reply {
    let (body, headers) = signed(payload, SIGNING_SECRET, START.unix_timestamp());
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    app.request(Method::POST, "/slack/interactions", &headers, body)
        .await
}

#[tokio::test]
async fn the_message_has_a_button_per_action_holding_its_sealed_link() {
    let slack = Slack::start().await;
    let app = deployment(&slack).await;
    let (answer, blocks) = posted(&app, &request()).await;
    assert_eq!(
        answer["notified"],
        json!({"channel": "slack", "message_id": "message-1",
               "slack": {"channel": CHANNEL, "ts": "message-1"}})
    );
    assert_eq!(blocks[0]["type"], "header");
    assert_eq!(blocks[0]["text"]["text"], "Your decision is needed");
    assert_eq!(
        blocks[1]["text"]["text"],
        "A workflow is waiting for your decision.\n*Approve &lt;v2&gt;*: Ships v2 &amp; more."
    );
    assert!(
        blocks[2]["elements"][0]["text"]
            .as_str()
            .is_some_and(|t| t.starts_with(&format!(
                "Link expires: <!date^{}^",
                START.unix_timestamp() + 86_400
            ))),
        "{}",
        blocks[2]
    );
    let buttons = blocks[3]["elements"].as_array().expect("buttons");
    assert_eq!(buttons.len(), 3);
    assert_eq!(buttons[0]["style"], "primary");
    assert_eq!(buttons[1]["style"], "danger");
    assert!(buttons[2].get("style").is_none());
    // Each button holds exactly the `data` of its action's link.
    for (button, name) in buttons.iter().zip(["approve", "reject", "ping"]) {
        let url = answer["urls"][name].as_str().expect("url");
        assert!(
            url.ends_with(&format!(
                "&data={}",
                button["value"].as_str().expect("value")
            )),
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_press_decides_once_replaces_the_message_and_a_second_press_is_told() {
    let slack = Slack::start().await;
    slack.user(ALICE, Some("alice@example.com"));
    slack.user(BOB, Some("bob@example.com"));
    let app = deployment(&slack).await;
    let (_, blocks) = posted(&app, &request()).await;
    let approve = button_value(&blocks, "approve");

    let reply = interact(
        &app,
        &press(ALICE, "approve", &approve, &slack.response_url(1), &blocks),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.text, "", "Slack gets an empty acknowledgement");
    let decisions = app.sfn.decisions();
    let [EngineCall::Success { output, .. }] = &decisions[..] else {
        panic!("one success: {decisions:?}")
    };
    let output: Value = serde_json::from_str(output).expect("json");
    assert_eq!(
        output,
        json!({"approved": true, "approver": {"slack_user": ALICE,
               "email": "alice@example.com", "name": "Name of U0ALICE"}})
    );
    let answered = slack.seen("response_url");
    let replaced = &answered[0]["body"];
    assert_eq!(replaced["replace_original"], true, "{replaced}");
    let kept = replaced["blocks"].as_array().expect("blocks");
    assert!(
        kept.iter().all(|b| b["type"] != "actions"),
        "no buttons left"
    );
    assert_eq!(kept[0], blocks[0], "the header stays");
    let outcome = kept.last().expect("outcome")["text"]["text"]
        .as_str()
        .expect("text");
    assert!(
        outcome.starts_with(&format!(
            "*Approve &lt;v2&gt;* chosen by <@U0ALICE> · <!date^{}^",
            START.unix_timestamp()
        )),
        "{outcome}"
    );

    // Bob presses Reject's neighbour a moment later: the task is closed.
    app.sfn
        .fail_next(EngineError::TaskClosed("TaskTimedOut".into()));
    let reply = interact(
        &app,
        &press(BOB, "approve", &approve, &slack.response_url(2), &blocks),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let told = &slack.seen("response_url")[1]["body"];
    assert_eq!(told["response_type"], "ephemeral", "{told}");
    assert_eq!(told["replace_original"], false);
    assert!(
        told["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("*This request was already answered*")),
        "{told}"
    );
    // The fake keeps only the calls it took: the second was refused.
    assert_eq!(app.sfn.decisions().len(), 1, "one decision in all");
}

#[tokio::test]
async fn someone_not_among_the_approvers_is_refused_and_the_buttons_stay() {
    let slack = Slack::start().await;
    slack.user(MALLORY, Some("mallory@other.example"));
    slack.user("U0RITA", Some("rita@leads.example.com"));
    let app = deployment(&slack).await;
    let (_, blocks) = posted(&app, &request()).await;
    let approve = button_value(&blocks, "approve");
    for (n, who) in [MALLORY, "U0RITA"].into_iter().enumerate() {
        let reply = interact(
            &app,
            &press(
                who,
                "approve",
                &approve,
                &slack.response_url(n as u32),
                &blocks,
            ),
        )
        .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        let told = &slack.seen("response_url")[n]["body"];
        assert_eq!(told["response_type"], "ephemeral", "{who}: {told}");
        assert!(
            told["text"]
                .as_str()
                .is_some_and(|t| t.starts_with("*You cannot answer this request*")),
            "{who}: {told}"
        );
    }
    assert!(app.sfn.calls().is_empty(), "nothing reached Step Functions");

    // The heartbeat is open to anyone in the channel, and answers
    // nothing: the presser is told, the buttons stay for the deciders.
    let ping = button_value(&blocks, "ping");
    interact(
        &app,
        &press(MALLORY, "ping", &ping, &slack.response_url(9), &blocks),
    )
    .await;
    assert_eq!(app.sfn.heartbeats(), 1);
    let told = &slack.seen("response_url")[2]["body"];
    assert_eq!(told["response_type"], "ephemeral", "{told}");
    assert!(
        told["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("Heartbeat sent")),
        "{told}"
    );
}

#[tokio::test]
async fn when_slack_cannot_say_who_pressed_the_presser_is_told_it_was_slack() {
    let slack = Slack::start().await;
    slack.user(ALICE, Some("alice@example.com"));
    let app = deployment(&slack).await;
    let (_, blocks) = posted(&app, &request()).await;
    let approve = button_value(&blocks, "approve");
    slack.users_info_down();
    let reply = interact(
        &app,
        &press(ALICE, "approve", &approve, &slack.response_url(1), &blocks),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(slack.seen("users.info").len(), 1, "Slack was asked");
    assert!(app.sfn.calls().is_empty(), "nothing reached Step Functions");
    let told = &slack.seen("response_url")[0]["body"];
    assert_eq!(told["response_type"], "ephemeral", "{told}");
    let text = told["text"].as_str().expect("text");
    assert!(
        text.contains("Slack could not say who pressed just now, so nothing was sent"),
        "{text}"
    );
    assert!(!text.contains("AWS"), "{text}");
}

#[tokio::test]
async fn a_comment_opens_a_modal_and_its_submission_decides() {
    let slack = Slack::start().await;
    slack.user(BOB, Some("bob@example.com"));
    let app = deployment(&slack).await;
    let (_, blocks) = posted(&app, &request()).await;
    let reject = button_value(&blocks, "reject");
    let reply = interact(
        &app,
        &press(BOB, "reject", &reject, &slack.response_url(3), &blocks),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(
        app.sfn.calls().is_empty(),
        "a press that opens a modal decides nothing"
    );
    let opened = slack.seen("views.open");
    let [opened] = &opened[..] else {
        panic!("one modal: {opened:?}")
    };
    assert_eq!(opened["trigger_id"], "1337.42.abcdef");
    assert_eq!(opened["view"]["blocks"][0]["block_id"], "comment");

    // An empty required comment keeps the modal open with the error.
    let empty = json!({"comment": {"comment": {"type": "plain_text_input", "value": null}}});
    let reply = interact(&app, &submission(BOB, opened, empty)).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        reply.json(),
        json!({"response_action": "errors", "errors": {"comment": "is required"}})
    );
    assert!(app.sfn.calls().is_empty());

    let said =
        json!({"comment": {"comment": {"type": "plain_text_input", "value": "Not this week"}}});
    let reply = interact(&app, &submission(BOB, opened, said)).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.text, "", "closes the modal");
    let decisions = app.sfn.decisions();
    assert!(
        matches!(&decisions[..], [EngineCall::Failure { error, cause, .. }]
            if error.as_deref() == Some("Rejected")
            && cause.as_deref().is_some_and(|c| c.contains("Not this week"))),
        "{decisions:?}"
    );
    let replaced = &slack.seen("response_url")[0];
    assert_eq!(replaced["id"], "3", "the press's own response_url");
    assert_eq!(replaced["body"]["replace_original"], true);
}

#[tokio::test]
async fn only_what_slack_signed_now_is_read() {
    let slack = Slack::start().await;
    slack.user(ALICE, Some("alice@example.com"));
    let app = deployment(&slack).await;
    let (_, blocks) = posted(&app, &request()).await;
    let approve = button_value(&blocks, "approve");
    let payload = press(ALICE, "approve", &approve, &slack.response_url(1), &blocks);
    let now = START.unix_timestamp();
    let post = |body: String, headers: Vec<(String, String)>| {
        let app = &app;
        async move {
            let headers: Vec<(&str, &str)> = headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            app.request(Method::POST, "/slack/interactions", &headers, body)
                .await
        }
    };
    let (body, headers) = signed(&payload, "another-secret", now);
    let cases = [
        ("wrong secret", body, headers),
        {
            let (body, headers) = signed(&payload, SIGNING_SECRET, now - 301);
            ("five minutes old", body, headers)
        },
        {
            let (body, headers) = signed(&payload, SIGNING_SECRET, now);
            (
                "altered after signing",
                body.replacen("U0ALICE", "U0ALICF", 1),
                headers,
            )
        },
        {
            let (body, mut headers) = signed(&payload, SIGNING_SECRET, now);
            headers.retain(|(k, _)| k != "x-slack-signature");
            ("no signature", body, headers)
        },
        {
            let (body, mut headers) = signed(&payload, SIGNING_SECRET, now);
            headers.retain(|(k, _)| k != "x-slack-request-timestamp");
            ("no timestamp", body, headers)
        },
    ];
    for (why, body, headers) in cases {
        let reply = post(body, headers).await;
        reply.assert_error(401, "Unauthorized");
        assert!(!reply.text.contains(&approve), "{why}: no payload echoed");
    }
    assert!(slack.seen("users.info").is_empty(), "nothing was opened");
    assert!(app.sfn.calls().is_empty());

    // A replay of a signed press within the window: one call in all.
    let (body, headers) = signed(&payload, SIGNING_SECRET, now);
    assert_eq!(post(body.clone(), headers.clone()).await.status, 200);
    app.sfn
        .fail_next(EngineError::TaskClosed("InvalidToken".into()));
    assert_eq!(post(body, headers).await.status, 200);
    let told = &slack.seen("response_url")[1]["body"];
    assert_eq!(app.sfn.decisions().len(), 1, "one decision in all: {told}");
    assert_eq!(told["response_type"], "ephemeral");
}

#[tokio::test]
async fn bad_interactions_are_refused_without_a_call() {
    let slack = Slack::start().await;
    slack.user(ALICE, Some("alice@example.com"));
    let app = deployment(&slack).await;
    let (_, blocks) = posted(&app, &request()).await;
    for (payload, status) in [
        (json!({"type": "shortcut", "user": {"id": ALICE}}), 400),
        (json!({"type": "block_actions", "user": {"id": ALICE}}), 400),
        (
            press(
                ALICE,
                "approve",
                "not-a-sealed-link",
                &slack.response_url(1),
                &blocks,
            ),
            200,
        ),
    ] {
        let reply = interact(&app, &payload).await;
        assert_eq!(reply.status, status, "{payload}: {}", reply.text);
        if status == 400 {
            reply.assert_error(400, "InvalidRequest");
        }
    }
    let told = &slack.seen("response_url")[0]["body"];
    assert_eq!(
        told["text"],
        "This button does not hold a link this service can open. Nothing was changed."
    );
    let (body, _) = signed(&json!({}), SIGNING_SECRET, START.unix_timestamp());
    let unsigned = app
        .request(
            Method::POST,
            "/slack/interactions",
            &[("content-type", "application/x-www-form-urlencoded")],
            body,
        )
        .await;
    unsigned.assert_error(401, "Unauthorized");
    assert!(app.sfn.calls().is_empty());
}

#[tokio::test]
async fn a_signed_body_with_two_payloads_is_refused_without_a_call() {
    let slack = Slack::start().await;
    slack.user(ALICE, Some("alice@example.com"));
    let app = deployment(&slack).await;
    let (_, blocks) = posted(&app, &request()).await;
    let press_of = |name: &str| {
        press(
            ALICE,
            name,
            &button_value(&blocks, name),
            &slack.response_url(1),
            &blocks,
        )
        .to_string()
    };
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &press_of("reject"))
        .append_pair("payload", &press_of("approve"))
        .finish();
    let (body, headers) = signed_body(body, SIGNING_SECRET, START.unix_timestamp());
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let reply = app
        .request(Method::POST, "/slack/interactions", &headers, body)
        .await;
    reply.assert_error(400, "InvalidRequest");
    assert!(
        reply.json()["message"]
            .as_str()
            .is_some_and(|m| m.contains("\"payload\" is given more than once")),
        "{}",
        reply.text
    );
    assert!(slack.seen("users.info").is_empty(), "nothing was opened");
    assert!(app.sfn.calls().is_empty());
}

#[tokio::test]
async fn notify_slack_is_checked_before_anything_is_made() {
    let slack = Slack::start().await;
    let app = deployment(&slack).await;
    let mut body = request();
    body["notify"]["slack"]["channel"] = json!("C0ELSEWHERE");
    app.create(&body)
        .await
        .assert_error(403, "NotifyNotAllowed");
    body["notify"]["slack"]["channel"] = json!("#general");
    app.create(&body).await.assert_error(400, "InvalidNotify");
    // A payload over Slack's 2,000 characters cannot be a button.
    let mut big = request();
    // Digits of a counter's squares do not deflate much.
    let notes: String = (0u64..700)
        .map(|i| format!("{:x}", i * i * 2_654_435_761 % 65_521))
        .collect();
    big["actions"][0]["output"] = json!({"notes": notes});
    let reply = app.create(&big).await;
    reply.assert_error(400, "InvalidNotify");
    assert!(
        reply.text.contains("2000 a Slack button holds"),
        "{}",
        reply.text
    );
    // Without sign-in, bound links must go out as Slack buttons.
    let mut by_mail = request();
    by_mail["notify"] = json!({"sns": {"topic_arn": "arn:aws:sns:us-east-1:123456789012:t"}});
    let reply = app.create(&by_mail).await;
    reply.assert_error(400, "SignInNotConfigured");
    assert!(reply.text.contains("notify.slack"), "{}", reply.text);
    // A press carries no query: no output parameters through Slack.
    let mut with_params = request();
    with_params["enable_output_parameters"] = json!(true);
    let params_app = App::new(|d| {
        d.app.features.output_parameters = true;
        d.app.features.slack = true;
        d.app.notify.slack_channels = vec![CHANNEL.into()];
    });
    params_app
        .create(&with_params)
        .await
        .assert_error(400, "InvalidNotify");
    // A Teams webhook given as text is refused without quoting it.
    let mut teams = request();
    teams["approvers"] = Value::Null;
    teams["requester"] = Value::Null;
    teams["notify"] = json!({"teams": "https://x.example/hook?sig=SECRET"});
    let reply = app.create(&teams).await;
    reply.assert_error(400, "InvalidNotify");
    assert!(!reply.text.contains("SECRET"), "{}", reply.text);
    // Without Slack, slack_users cannot be met.
    let off = App::new(|_| {});
    let reply = off.create(&request()).await;
    reply.assert_error(400, "InvalidApprovers");
    assert!(off.notifier.sent().is_empty());
}

/// The whole way on moto: `serve` posts the message to the stand-in, the
/// presses come signed to its `/slack/interactions`, and the real task
/// token is decided once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presses_in_slack_decide_a_real_task_on_moto() {
    use super::moto::{Moto, create, output_of, serve_keyed};
    use aws_sdk_sfn::types::ExecutionStatus;

    let Some(mut moto) = Moto::start().await else {
        return;
    };
    let slack = Slack::start().await;
    slack.user(ALICE, Some("alice@example.com"));
    slack.user(BOB, Some("bob@example.com"));
    slack.user(MALLORY, Some("mallory@other.example"));
    let api_url = slack.api_url();
    let channels = format!("{CHANNEL},{MISSING_CHANNEL}");
    let server = serve_keyed(
        &moto.aws.endpoint,
        moto.dir.path(),
        &[
            ("SLACK_BOT_TOKEN", BOT_TOKEN),
            ("SLACK_SIGNING_SECRET", SIGNING_SECRET),
            ("SLACK_API_URL", &api_url),
            ("NOTIFY_SLACK_CHANNELS", &channels),
        ],
    )
    .await;
    let interact = |payload: Value| {
        let base = server.base.clone();
        async move { super::slack_standin::interact(&base, &payload).await }
    };

    let (arn, token) = moto.aws.start("slack-approve").await;
    let created = create(
        &server,
        &json!({
            "token": token,
            "approvers": {"slack_users": [ALICE, BOB]},
            "actions": [
                {"name": "approve", "type": "success", "output": {"approved": true},
                 "label": "Approve", "comment": true},
                {"name": "reject", "type": "failure", "error": "Rejected"},
                {"name": "approve_now", "type": "success", "output": {"approved": true}}
            ],
            "notify": {"slack": {"channel": CHANNEL, "header": "Deploy {{ context.release }}?"},
                       "context": {"release": "v2"}}
        }),
    )
    .await;
    assert_eq!(
        created["notified"]["slack"],
        json!({"channel": CHANNEL, "ts": "1700000000.000100"})
    );
    let posted = slack.seen("chat.postMessage");
    assert_eq!(posted[0]["unfurl_links"], false);
    let blocks = posted[0]["blocks"].clone();
    assert_eq!(blocks[0]["text"]["text"], "Deploy v2?");

    // Someone not among the approvers: told, and nothing happens.
    let reject = button_value(&blocks, "reject");
    let (status, _) = interact(press(
        MALLORY,
        "reject",
        &reject,
        &slack.response_url(1),
        &blocks,
    ))
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        slack.seen("response_url")[0]["body"]["response_type"],
        "ephemeral"
    );
    moto.aws
        .assert_running(&arn, "a refused press decides nothing")
        .await;

    // Alice approves with a comment, through the modal.
    let approve = button_value(&blocks, "approve");
    let (status, _) = interact(press(
        ALICE,
        "approve",
        &approve,
        &slack.response_url(2),
        &blocks,
    ))
    .await;
    assert_eq!(status, 200);
    let opened = slack.seen("views.open").pop().expect("a modal");
    moto.aws
        .assert_running(&arn, "opening the modal decides nothing")
        .await;
    let (status, text) = interact(submission(
        ALICE,
        &opened,
        json!({"comment": {"comment": {"type": "plain_text_input", "value": "Ship it"}}}),
    ))
    .await;
    assert_eq!((status, text.as_str()), (200, ""));
    let out = moto.aws.finished(&arn).await;
    assert_eq!(out.status, ExecutionStatus::Succeeded);
    assert_eq!(
        output_of(&out),
        json!({"approved": true, "comment": "Ship it",
               "approver": {"slack_user": ALICE, "email": "alice@example.com", "name": "Name of U0ALICE"}})
    );
    let replaced = slack.seen("response_url");
    let replaced = &replaced.last().expect("replaced")["body"];
    assert_eq!(replaced["replace_original"], true, "{replaced}");
    assert!(
        replaced["blocks"]
            .as_array()
            .is_some_and(|b| b.iter().all(|b| b["type"] != "actions")),
        "{replaced}"
    );

    // Bob presses another approval afterwards: already answered, the
    // output stays. (Not Reject: moto takes SendTaskFailure on a closed
    // token.)
    let reject = button_value(&blocks, "approve_now");
    let (status, _) = interact(press(
        BOB,
        "approve_now",
        &reject,
        &slack.response_url(3),
        &blocks,
    ))
    .await;
    assert_eq!(status, 200);
    let told = slack.seen("response_url");
    let told = &told.last().expect("told")["body"];
    assert_eq!(told["response_type"], "ephemeral");
    assert!(
        told["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("*This request was already answered*")),
        "{told}"
    );
    let again = moto.aws.execution(&arn).await;
    assert_eq!(again.status, ExecutionStatus::Succeeded);
    assert_eq!(output_of(&again)["approver"]["slack_user"], ALICE);

    // A Slack error when notifying: 502 naming it, and no links.
    let (_, token) = moto.aws.start("slack-missing").await;
    let reply = super::moto::http()
        .post(format!("{}/urls", server.base))
        .json(
            &json!({"token": token, "actions": [{"name": "ok", "type": "success", "output": {}}],
                      "notify": {"slack": {"channel": MISSING_CHANNEL}}}),
        )
        .send()
        .await
        .expect("create");
    assert_eq!(reply.status(), 502);
    let text = reply.text().await.expect("text");
    assert!(
        text.contains("\"NotifyFailed\"") && text.contains("channel_not_found"),
        "{text}"
    );
    assert!(!text.contains("urls"), "no links: {text}");
}

/// Where people may also sign in on the web, a requester named by their
/// Slack ID is sealed with the email Slack gives for them too; without
/// one, the request is refused rather than let them approve on a page.
#[tokio::test]
async fn a_slack_requester_is_sealed_with_their_email_where_people_sign_in() {
    use sfn_callbacks::core::payload::Opened;

    let slack = Slack::start().await;
    slack.user("U0RITA", Some("Rita@Leads.example.com"));
    slack.user("U0NOMAIL", None);
    let app = deployment(&slack).await;
    let state = app.variant(|settings, _| settings.features.sign_in = true);
    let reply = app.request_with(&state, &request()).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let url = reply.json()["urls"]["approve"]
        .as_str()
        .expect("url")
        .to_owned();
    let Ok(Opened::Link(claims)) = app.ports.keys.open(&super::support::data_of(&url)).await else {
        panic!("opens")
    };
    let gate = claims.gate.expect("gated");
    assert_eq!(gate.requester.as_deref(), Some("rita@leads.example.com"));
    assert_eq!(gate.requester_slack.as_deref(), Some("U0RITA"));

    let mut body = request();
    body["requester"] = json!("U0NOMAIL");
    let reply = app.request_with(&state, &body).await;
    reply.assert_error(400, "InvalidApprovers");
    assert!(reply.text.contains("users:read.email"), "{}", reply.text);
}

/// A requester named by email cannot slip through as a Slack user whose
/// email Slack does not give.
#[tokio::test]
async fn a_slack_user_without_an_email_is_refused_when_the_requester_is_an_email() {
    let slack = Slack::start().await;
    slack.user("U0RITA", None);
    let app = deployment(&slack).await;
    let mut body = request();
    body["requester"] = json!("rita@example.com");
    body["approvers"] = json!({"slack_users": ["U0RITA", ALICE]});
    let (_, blocks) = posted(&app, &body).await;
    let approve = button_value(&blocks, "approve");
    interact(
        &app,
        &press(
            "U0RITA",
            "approve",
            &approve,
            &slack.response_url(1),
            &blocks,
        ),
    )
    .await;
    let told = &slack.seen("response_url")[0]["body"];
    assert_eq!(told["response_type"], "ephemeral", "{told}");
    assert!(app.sfn.calls().is_empty(), "refused: {told}");
}

/// A call the engine did not confirm may have arrived: the presser is
/// told so, it is not sent again, and the buttons stay.
#[tokio::test]
async fn an_unconfirmed_call_is_reported_as_such_and_not_repeated() {
    let slack = Slack::start().await;
    slack.user(ALICE, Some("alice@example.com"));
    let app = deployment(&slack).await;
    let (_, blocks) = posted(&app, &request()).await;
    let approve = button_value(&blocks, "approve");
    app.sfn
        .fail_next(EngineError::Unconfirmed("no answer in time".into()));
    let reply = interact(
        &app,
        &press(ALICE, "approve", &approve, &slack.response_url(1), &blocks),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let told = &slack.seen("response_url")[0]["body"];
    assert_eq!(told["response_type"], "ephemeral", "{told}");
    assert_eq!(
        told["text"],
        "The workflow did not confirm the answer in time, so it may or may not have been recorded. Press the button again to find out: an answer is never recorded twice."
    );
    assert!(app.sfn.calls().is_empty(), "sent once, and not again");
}

/// In Lambda behind a Function URL, the press arrives base64-encoded; the
/// signature is over the bytes Slack sent, and the press decides.
#[tokio::test]
async fn a_press_through_a_function_url_event_decides() {
    use base64::Engine as _;
    use sfn_callbacks::lambda::DirectErrors;

    let slack = Slack::start().await;
    slack.user(ALICE, Some("alice@example.com"));
    let app = deployment(&slack).await;
    let (_, blocks) = posted(&app, &request()).await;
    let approve = button_value(&blocks, "approve");
    let payload = press(ALICE, "approve", &approve, &slack.response_url(1), &blocks);
    let (body, headers) = signed(&payload, SIGNING_SECRET, START.unix_timestamp());
    let mut event = super::lambda_runtime::fixture("function_url_post_respond.json");
    event["rawPath"] = json!("/slack/interactions");
    event["requestContext"]["http"]["path"] = json!("/slack/interactions");
    event["rawQueryString"] = json!("");
    event
        .as_object_mut()
        .expect("event")
        .remove("queryStringParameters");
    for (name, value) in headers {
        event["headers"][name] = json!(value);
    }
    event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(body));
    event["isBase64Encoded"] = json!(true);
    let response = app
        .lambda(DirectErrors::Function)
        .handle(event.clone())
        .await
        .expect("handled");
    assert_eq!(response["statusCode"], 200, "{response}");
    assert_eq!(app.sfn.decisions().len(), 1);
    assert_eq!(
        slack.seen("response_url")[0]["body"]["replace_original"],
        true
    );
    // The same bytes with one changed: not Slack's.
    let mut altered = event;
    altered["body"] = json!(base64::engine::general_purpose::STANDARD.encode("payload=%7B%7D"));
    let response = app
        .lambda(DirectErrors::Function)
        .handle(altered)
        .await
        .expect("handled");
    assert_eq!(response["statusCode"], 401, "{response}");
    assert_eq!(app.sfn.decisions().len(), 1);
}
