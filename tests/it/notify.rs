//! CreateUrls' `notify`: through the router with a fake notifier (allow
//! lists, errors, nothing returned when a send fails), then end to end
//! against moto's SES and SNS (an SQS queue subscribed to the topic),
//! following the link out of the message to the execution's result.

use axum::http::Method;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sfn_callbacks::core::notify::NotifyPolicy;
use sfn_callbacks::ports::NotifyError;
use sfn_callbacks::presentation::notify::Notification;

use super::examples::link_in_html;
use super::moto::{Moto, call, create, next_message, output_of, sent_mail, serve};
use super::support::App;

const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:approvals";

fn policy() -> NotifyPolicy {
    NotifyPolicy {
        email_from: vec!["approvals@example.com".into()],
        email_to_domains: vec!["corp.example".into()],
        sns_topics: vec![TOPIC.into()],
        ..NotifyPolicy::default()
    }
}

fn request(notify: Value) -> Value {
    json!({
        "token": "QUJD",
        "actions": [
            {"name": "approve", "type": "success", "output": {"ok": true}, "label": "Approve <v2>"},
            {"name": "reject", "type": "failure"}
        ],
        "notify": notify
    })
}

async fn post_urls(app: &App, body: &Value) -> super::support::Reply {
    app.request(
        Method::POST,
        "/urls",
        &[("content-type", "application/json")],
        body.to_string(),
    )
    .await
}

#[tokio::test]
async fn an_email_goes_out_with_the_links_it_returns() {
    let app = App::new(|s| s.app.notify = policy());
    let reply = post_urls(
        &app,
        &request(json!({"email": {"to": "boss@corp.example", "subject": "Release {{ context.release }}"}, "context": {"release": "v2"}})),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = reply.json();
    assert_eq!(
        body["notified"],
        json!({"channel": "email", "message_id": "message-1"})
    );
    let sent = app.notifier.sent();
    let [Notification::Email(mail)] = sent.as_slice() else {
        panic!("one email: {sent:?}");
    };
    assert_eq!(mail.from, "approvals@example.com");
    assert_eq!(mail.to, vec!["boss@corp.example"]);
    assert_eq!(mail.subject, "Release v2");
    for name in ["approve", "reject"] {
        let url = body["urls"][name].as_str().expect("url");
        assert!(mail.text.contains(url), "{name} in the text part");
        assert!(
            mail.html.contains(&url.replace('&', "&amp;")),
            "{name} in the HTML part"
        );
    }
    assert!(mail.html.contains("Approve &lt;v2&gt;"), "{}", mail.html);
}

#[tokio::test]
async fn the_default_texts_speak_the_chosen_language() {
    let app = App::new(|s| s.app.notify = policy());
    let mut body = request(json!({"email": {"to": "boss@corp.example"}}));
    body["locale"] = json!("es-MX");
    let reply = post_urls(&app, &body).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let sent = app.notifier.sent();
    let [Notification::Email(mail)] = sent.as_slice() else {
        panic!("one email: {sent:?}");
    };
    assert_eq!(mail.subject, "Se necesita su decisión");
    assert!(mail.html.contains("<html lang=\"es\">"), "{}", mail.html);
    let url = reply.json()["urls"]["approve"]
        .as_str()
        .expect("url")
        .to_owned();
    assert!(mail.text.contains(&url), "{}", mail.text);
}

#[tokio::test]
async fn refusals_send_nothing_and_return_no_links() {
    let app = App::new(|s| s.app.notify = policy());
    let cases = [
        (
            json!({"email": {"to": "someone@elsewhere.example"}}),
            403,
            "NotifyNotAllowed",
        ),
        (
            json!({"email": {"to": "boss@corp.example", "from": "ceo@example.com"}}),
            403,
            "NotifyNotAllowed",
        ),
        (
            json!({"sns": {"topic_arn": "arn:aws:sns:us-east-1:123456789012:other"}}),
            403,
            "NotifyNotAllowed",
        ),
        (
            json!({"email": {"to": "boss@corp.example", "text": "{{ urls.missing }}"}}),
            400,
            "InvalidNotify",
        ),
        (
            json!({"email": {"to": "boss@corp.example", "html": "{% if %}"}}),
            400,
            "InvalidNotify",
        ),
    ];
    for (notify, status, error) in cases {
        let reply = post_urls(&app, &request(notify.clone())).await;
        reply.assert_error(status, error);
        assert!(reply.json().get("urls").is_none(), "{notify}");
    }
    let off = App::new(|_| {});
    let reply = post_urls(&off, &request(json!({"sns": {"topic_arn": TOPIC}}))).await;
    reply.assert_error(403, "NotifyNotAllowed");
    assert!(
        reply.json()["message"]
            .as_str()
            .expect("message")
            .contains("NOTIFY_SNS_TOPICS")
    );
    assert!(app.notifier.sent().is_empty() && off.notifier.sent().is_empty());

    // A send that fails: no links, and a 503 says to try again.
    app.notifier.fail_next(NotifyError::Refused {
        service: "SES",
        code: "MessageRejected".into(),
    });
    let reply = post_urls(
        &app,
        &request(json!({"email": {"to": "boss@corp.example"}})),
    )
    .await;
    reply.assert_error(502, "NotifyFailed");
    assert!(reply.text.contains("MessageRejected") && !reply.text.contains("respond?"));
    app.notifier.fail_next(NotifyError::Unavailable {
        service: "SNS",
        reason: "throttled".into(),
    });
    let reply = post_urls(&app, &request(json!({"sns": {"topic_arn": TOPIC}}))).await;
    reply.assert_error(503, "ServiceError");
    assert_eq!(reply.header("retry-after"), Some("5"));
    assert!(!reply.text.contains("respond?"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_and_sns_notifications_end_to_end_on_moto() {
    let Some(mut moto) = Moto::start().await else {
        return;
    };
    let aws = &mut moto.aws;
    let ses = aws_sdk_sesv2::Client::new(&aws.config);
    ses.create_email_identity()
        .email_identity("example.com")
        .send()
        .await
        .expect("identity");
    let sns = aws_sdk_sns::Client::new(&aws.config);
    let topic = sns
        .create_topic()
        .name("approvals")
        .send()
        .await
        .expect("topic")
        .topic_arn
        .expect("arn");
    let inbox = aws
        .sqs
        .create_queue()
        .queue_name("inbox")
        .send()
        .await
        .expect("queue")
        .queue_url
        .expect("url");
    let inbox_arn = "arn:aws:sqs:us-east-1:123456789012:inbox";
    sns.subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(inbox_arn)
        .send()
        .await
        .expect("subscribe");

    let server = serve(
        aws,
        moto.dir.path(),
        "serve",
        &[
            ("NOTIFY_EMAIL_FROM", "approvals@example.com,@example.com"),
            ("NOTIFY_EMAIL_TO_DOMAINS", "corp.example"),
            ("NOTIFY_SNS_TOPICS", &topic),
            // Debug logging, so that the scan at the end covers it.
            ("RUST_LOG", "debug"),
        ],
    )
    .await;
    let mut secrets = Vec::new();

    // Email: the link in the HTML part decides the execution.
    let (mailed_arn, token) = aws.start("mailed").await;
    let mut body = super::moto::approval(&token);
    body["notify"] = json!({"email": {
        "to": ["boss@corp.example"],
        "subject": "Approve {{ context.what }}?",
        "html": "<p>{{ context.what }}</p>{% for a in actions %}<a href=\"{{ a.url }}\">{{ a.label }}</a>{% endfor %}"
    }, "context": {"what": "release <v2> & more"}});
    let created = create(&server, &body).await;
    assert_eq!(created["notified"]["channel"], "email");
    secrets.push((token.clone(), created.clone()));
    let mail = sent_mail(&aws.endpoint, None).await;
    let [message] = mail.as_slice() else {
        panic!("one mail: {mail:?}");
    };
    assert_eq!(message["id"], created["notified"]["message_id"]);
    assert_eq!(message["source"], "approvals@example.com");
    assert_eq!(
        message["destinations"]["ToAddresses"],
        json!(["boss@corp.example"])
    );
    assert_eq!(message["subject"], "Approve release <v2> & more?");
    let html = message["body"].as_str().expect("body");
    assert!(
        html.starts_with("<p>release &lt;v2&gt; &amp; more</p>"),
        "{html}"
    );
    let link = link_in_html(html, "approve");
    assert_eq!(link, created["urls"]["approve"].as_str().expect("url"));
    let reply = call(reqwest::Method::POST, &link, None, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let done = aws.finished(&mailed_arn).await;
    assert_eq!(output_of(&done)["approved"], true);

    // SNS: the subscribed queue gets the message; its link decides.
    let (published_arn, token) = aws.start("published").await;
    let mut body = super::moto::approval(&token);
    body["notify"] = json!({"sns": {"topic_arn": topic, "subject": "Approval needed", "message": "Reject: {{ urls.reject }}"}});
    let created = create(&server, &body).await;
    assert_eq!(created["notified"]["channel"], "sns");
    secrets.push((token.clone(), created.clone()));
    let envelope = next_message(&aws.sqs, &inbox).await;
    assert_eq!(envelope["Subject"], "Approval needed");
    assert_eq!(envelope["MessageId"], created["notified"]["message_id"]);
    let link = envelope["Message"]
        .as_str()
        .expect("message")
        .strip_prefix("Reject: ")
        .expect("the template's text")
        .to_owned();
    let reply = call(reqwest::Method::POST, &link, None, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let done = aws.finished(&published_arn).await;
    assert_eq!(done.status, aws_sdk_sfn::types::ExecutionStatus::Failed);

    // With a review link, the default text sends it alone; choosing
    // through it decides.
    let (reviewed_arn, token) = aws.start("reviewed").await;
    let mut body = super::moto::approval(&token);
    body["review"] = json!(true);
    body["notify"] = json!({"sns": {"topic_arn": topic}});
    let created = create(&server, &body).await;
    secrets.push((token.clone(), created.clone()));
    let review = created["review_url"].as_str().expect("review_url");
    let envelope = next_message(&aws.sqs, &inbox).await;
    let message = envelope["Message"].as_str().expect("message");
    assert!(
        message.contains(&format!("Review and decide:\n{review}\n")),
        "{message}"
    );
    for url in created["urls"].as_object().expect("urls").values() {
        assert!(!message.contains(url.as_str().expect("url")), "{message}");
    }
    let reply = call(
        reqwest::Method::POST,
        &format!("{review}&action=approve&type=success"),
        None,
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        output_of(&aws.finished(&reviewed_arn).await)["approved"],
        true
    );

    // A sender SES has not verified: SES refuses, and no links come back.
    let (_, token) = aws.start("refused").await;
    let mut body = super::moto::approval(&token);
    body["notify"] = json!({"email": {"to": "boss@corp.example", "from": "bot@example.com"}});
    ses.delete_email_identity()
        .email_identity("example.com")
        .send()
        .await
        .expect("delete identity");
    let reply = super::moto::http()
        .post(format!("{}/urls", server.base))
        .json(&body)
        .send()
        .await
        .expect("create");
    assert_eq!(reply.status(), 502);
    let refused: Value = reply.json().await.expect("json");
    assert_eq!(refused["error"], "NotifyFailed", "{refused}");
    assert!(refused.get("urls").is_none());
    assert_eq!(
        sent_mail(&aws.endpoint, None).await.len(),
        1,
        "no second mail"
    );

    // Neither the tokens nor the links that went out are in the log.
    let log = std::fs::read_to_string(&server.log).expect("log");
    assert!(log.contains(r#""level":"DEBUG""#), "debug lines to scan");
    for (token, created) in &secrets {
        assert!(
            !log.contains(token.as_str()),
            "a task token leaked into the log"
        );
        let review = created.get("review_url").into_iter();
        for url in created["urls"]
            .as_object()
            .expect("urls")
            .values()
            .chain(review)
        {
            let data = url
                .as_str()
                .expect("url")
                .split("data=")
                .nth(1)
                .expect("data");
            assert!(!log.contains(data), "a sealed payload leaked into the log");
        }
    }
}
