//! The review link: one sealed link for every action of a request, through
//! the router with fakes.

use axum::http::Method;
use serde_json::{Value, json};
use sfn_callbacks::core::callback::EngineCall;
use sfn_callbacks::ports::EngineError;

use super::support::{App, data_of};

const TOKEN: &str = "QUJDREVGR0hJSktMTU5PUA==";
const HTML: (&str, &str) = ("accept", "text/html");
const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

fn reviewed(actions: Value) -> Value {
    json!({"token": TOKEN, "review": true, "actions": actions})
}

fn approve_reject() -> Value {
    reviewed(json!([
        {"name": "approve", "type": "success", "output": {"approved": true},
         "label": "Approve <v2>", "description": "Ships v2 tonight.", "comment": true},
        {"name": "reject", "type": "failure", "error": "Rejected", "cause": "said no",
         "label": "Reject", "description": "Ships v2 tonight.", "comment": {"max_length": 50}},
        {"name": "ping", "type": "heartbeat"}
    ]))
}

/// The CreateUrls answer.
async fn created(app: &App, body: &Value) -> Value {
    let reply = app.create(body).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json()
}

fn review_of(answer: &Value) -> String {
    answer["review_url"]
        .as_str()
        .unwrap_or_else(|| panic!("no review_url: {answer}"))
        .to_owned()
}

/// The `action` attributes of the page's forms, HTML entities undone.
fn form_actions(html: &str) -> Vec<String> {
    html.split("<form method=\"post\" action=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').expect("quote")].replace("&amp;", "&"))
        .collect()
}

#[tokio::test]
async fn a_review_link_comes_with_the_action_links_unchanged() {
    let app = App::new(|_| {});
    let plain = created(
        &app,
        &json!({"token": TOKEN, "actions": approve_reject()["actions"]}),
    )
    .await;
    assert!(
        plain.get("review_url").is_none(),
        "only when asked: {plain}"
    );
    let answer = created(&app, &approve_reject()).await;
    let review = review_of(&answer);
    assert!(
        review.starts_with("https://cb.example.com/prod/respond?data=U"),
        "purpose 5, no action or type: {review}"
    );
    let urls = answer["urls"].as_object().expect("urls");
    assert_eq!(urls.len(), 3);
    for (name, url) in urls {
        let url = url.as_str().expect("url");
        assert!(
            url.starts_with(&format!(
                "https://cb.example.com/prod/respond?action={name}&type="
            )),
            "{url}"
        );
        let reply = app.follow(Method::GET, url, &[], "").await;
        assert_eq!(
            reply.json()["action"]["name"],
            name.as_str(),
            "{}",
            reply.text
        );
    }
}

#[tokio::test]
async fn the_review_page_shows_every_choice_and_acts_on_none() {
    let app = App::new(|_| {});
    let review = review_of(&created(&app, &approve_reject()).await);
    let page = app.follow(Method::GET, &review, &[HTML], "").await;
    assert_eq!(page.status, 200, "{}", page.text);
    for needle in [
        "Review and decide",
        "still waiting for an answer",
        "Approve &lt;v2&gt;</button>",
        ">Reject</button>",
        ">Send a heartbeat</button>",
        "<label for=\"comment-0\">",
        "<label for=\"comment-1\">",
        "maxlength=\"50\"",
    ] {
        assert!(page.text.contains(needle), "{needle}: {}", page.text);
    }
    assert_eq!(
        page.text.matches("Ships v2 tonight.").count(),
        2,
        "ping has none, so approve and reject each show theirs: {}",
        page.text
    );
    let data = data_of(&review);
    assert_eq!(
        form_actions(&page.text),
        [
            format!("?action=approve&type=success&data={data}"),
            format!("?action=reject&type=failure&data={data}"),
            format!("?action=ping&type=heartbeat&data={data}"),
        ]
    );
    let json = app.follow(Method::GET, &review, &[], "").await;
    let body = json.json();
    assert_eq!(body["status"], "pending");
    assert_eq!(body["task"], "open");
    assert_eq!(
        body["actions"],
        json!([
            {"name": "approve", "type": "success", "label": "Approve <v2>", "standing": "may"},
            {"name": "reject", "type": "failure", "label": "Reject", "standing": "may"},
            {"name": "ping", "type": "heartbeat", "standing": "may"}
        ])
    );
    assert_eq!(app.follow(Method::HEAD, &review, &[], "").await.status, 200);
    assert!(app.sfn.decisions().is_empty(), "looking decides nothing");
    assert_eq!(app.sfn.heartbeats(), 2, "one probe per GET, none for HEAD");

    // A POST must name its choice.
    app.follow(Method::POST, &review, &[FORM], "comment=x")
        .await
        .assert_error(400, "ActionMismatched");
    app.follow(Method::POST, &format!("{review}&action=nope"), &[FORM], "")
        .await
        .assert_error(400, "ActionMismatched");
    assert!(app.sfn.decisions().is_empty());
}

#[tokio::test]
async fn each_button_posts_only_its_own_action() {
    let app = App::new(|_| {});
    let review = review_of(&created(&app, &approve_reject()).await);
    let page = app.follow(Method::GET, &review, &[HTML], "").await;
    let reject = &form_actions(&page.text)[1];
    let done = app
        .request(
            Method::POST,
            &format!("/respond{reject}"),
            &[FORM, HTML],
            "comment=Not+this+week",
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert!(done.text.contains("Response accepted!"), "{}", done.text);
    let calls = app.sfn.decisions();
    assert!(
        matches!(&calls[..], [EngineCall::Failure { token, error, cause }]
            if token.expose() == TOKEN
            && error.as_deref() == Some("Rejected")
            && cause.as_deref() == Some("said no\n\nNot this week")),
        "{calls:?}"
    );
    // The task is closed now: the review page says so at once.
    app.sfn
        .fail_next(EngineError::TaskClosed("InvalidToken".into()));
    let again = app.follow(Method::GET, &review, &[HTML], "").await;
    assert_eq!(again.status, 410, "{}", again.text);
    assert!(again.text.contains("This request was already answered"));
}

#[tokio::test]
async fn a_chosen_action_never_acts_on_get_even_one_click() {
    let app = App::new(|s| s.app.get_acts = true);
    let review = review_of(
        &created(
            &app,
            &reviewed(json!([
                {"name": "approve", "type": "success", "output": {}, "one_click": true},
                {"name": "reject", "type": "failure"}
            ])),
        )
        .await,
    );
    let look = app
        .follow(Method::GET, &format!("{review}&action=approve"), &[], "")
        .await;
    assert_eq!(look.status, 200, "{}", look.text);
    assert_eq!(look.json()["status"], "pending");
    assert!(
        app.sfn.decisions().is_empty(),
        "GET never acts on a review link"
    );
    let sent = app
        .follow(
            Method::POST,
            &format!("{review}&action=approve&type=success"),
            &[],
            "",
        )
        .await;
    assert_eq!(sent.status, 200, "{}", sent.text);
    assert_eq!(app.sfn.decisions().len(), 1);
    // The type must match the chosen action's.
    app.follow(
        Method::POST,
        &format!("{review}&action=reject&type=success"),
        &[],
        "",
    )
    .await
    .assert_error(400, "ActionMismatched");
}

#[tokio::test]
async fn post_actions_stay_out_and_an_expired_review_says_so() {
    let app = App::new(|s| s.app.features.post_actions = true);
    let mut body = reviewed(json!([
        {"name": "approve", "type": "success", "output": {}},
        {"name": "hook", "type": "post", "outcomes": [{"name": "done", "type": "heartbeat", "schema": {}}]}
    ]));
    let review = review_of(&created(&app, &body).await);
    let json = app.follow(Method::GET, &review, &[], "").await;
    assert_eq!(
        json.json()["actions"],
        json!([{"name": "approve", "type": "success", "standing": "may"}])
    );
    app.follow(
        Method::POST,
        &format!("{review}&action=hook"),
        &[("content-type", "application/json")],
        "{}",
    )
    .await
    .assert_error(400, "ActionMismatched");

    body["expiration"] = json!("2030-06-01T12:10:00Z");
    let review = review_of(&created(&app, &body).await);
    app.clock.advance(time::Duration::hours(1));
    let calls = app.sfn.calls().len();
    app.follow(Method::GET, &review, &[], "")
        .await
        .assert_error(410, "ExpiredPayload");
    assert_eq!(app.sfn.calls().len(), calls, "no probe of an expired link");

    let only_post = json!({"token": TOKEN, "review": true, "actions": [body["actions"][1]]});
    app.create(&only_post)
        .await
        .assert_error(400, "InvalidAction");
}

#[tokio::test]
async fn the_review_query_cannot_break_or_redirect_the_buttons() {
    let app = App::new(|_| {});
    let review = review_of(&created(&app, &approve_reject()).await);
    // Someone adds a type and markup to the review link's query.
    let altered = format!("{review}&type=failure&x=%22%3E%3Cb%3Ehi");
    let page = app.follow(Method::GET, &altered, &[HTML], "").await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(!page.text.contains("<b>hi"), "{}", page.text);
    let actions = form_actions(&page.text);
    let data = data_of(&review);
    assert_eq!(
        actions[0],
        format!("?action=approve&type=success&data={data}&x=%22%3E%3Cb%3Ehi"),
        "the button's own action and type, the rest kept: {actions:?}"
    );
    let done = app
        .request(
            Method::POST,
            &format!("/respond{}", actions[0]),
            &[FORM],
            "",
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert!(matches!(
        &app.sfn.decisions()[..],
        [EngineCall::Success { .. }]
    ));
}

#[tokio::test]
async fn a_description_is_shown_once_only_when_every_choice_shares_it() {
    let app = App::new(|_| {});
    let review = review_of(
        &created(
            &app,
            &reviewed(json!([
                {"name": "approve", "type": "success", "output": {}, "description": "Deploys prod"},
                {"name": "reject", "type": "failure"}
            ])),
        )
        .await,
    );
    let page = app.follow(Method::GET, &review, &[HTML], "").await;
    let at = page.text.find("Deploys prod").expect("the description");
    let first_choice = page.text.find("<section").expect("a choice");
    assert!(
        at > first_choice,
        "approve's own description stays with approve: {}",
        page.text
    );
    let review = review_of(
        &created(
            &app,
            &reviewed(json!([
                {"name": "approve", "type": "success", "output": {}, "description": "Deploys prod"},
                {"name": "reject", "type": "failure", "description": "Deploys prod"}
            ])),
        )
        .await,
    );
    let page = app.follow(Method::GET, &review, &[HTML], "").await;
    assert_eq!(
        page.text.matches("Deploys prod").count(),
        1,
        "{}",
        page.text
    );
    assert!(
        page.text.find("Deploys prod") < page.text.find("<section"),
        "shared, so above the choices: {}",
        page.text
    );
}

#[tokio::test]
async fn a_chosen_language_is_sealed_into_every_link_of_the_request() {
    let app = App::new(|_| {});
    let mut body = approve_reject();
    body["locale"] = json!("de-AT");
    let answer = created(&app, &body).await;
    let review = review_of(&answer);
    assert!(data_of(&review).starts_with('U'), "{review}");
    for url in answer["urls"].as_object().expect("urls").values() {
        let url = url.as_str().expect("url");
        assert!(
            data_of(url).starts_with('Y'),
            "a language makes an extended link: {url}"
        );
        let reply = app.follow(Method::GET, url, &[], "").await;
        assert_eq!(reply.status, 200, "{url}: {}", reply.text);
    }
    let done = app
        .follow(
            Method::POST,
            &format!("{review}&action=approve&type=success"),
            &[FORM],
            "comment=ja",
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(app.sfn.decisions().len(), 1);
}

#[tokio::test]
async fn who_asked_is_said_on_the_pages_and_to_programs() {
    let app = App::new(|_| {});
    let mut body = approve_reject();
    body["requested_by"] = json!("Rita <Release> Ops");
    let answer = created(&app, &body).await;
    let review = review_of(&answer);
    let approve = answer["urls"]["approve"].as_str().expect("url").to_owned();
    for url in [&review, &approve] {
        let page = app.follow(Method::GET, url, &[HTML], "").await;
        assert_eq!(page.status, 200, "{}", page.text);
        assert!(
            page.text
                .contains("<p>Requested by <strong>Rita &lt;Release&gt; Ops</strong></p>"),
            "{}",
            page.text
        );
        let json = app.follow(Method::GET, url, &[], "").await.json();
        assert_eq!(json["requested_by"], "Rita <Release> Ops", "{json}");
    }
    // Without it, nothing is said.
    let plain = created(&app, &approve_reject()).await;
    let page = app
        .follow(Method::GET, &review_of(&plain), &[HTML], "")
        .await;
    assert!(!page.text.contains("Requested by"), "{}", page.text);
    // A bad one is refused at creation, naming the field.
    body["requested_by"] = json!("two\nlines");
    let refused = app.create(&body).await;
    refused.assert_error(400, "InvalidJSON");
    assert!(refused.text.contains("requested_by"), "{}", refused.text);
}
