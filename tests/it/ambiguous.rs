//! Ambiguous and undecodable input: a parameter given twice, or bytes that
//! are not UTF-8, in a link's query, a page's form or the sign-in
//! endpoints' queries. Each is a 400 naming the parameter, on GET, HEAD
//! and POST, and nothing reaches the engine (not even the GET's probe).

use axum::http::Method;
use serde_json::json;

use super::support::{App, Reply, data_of};

const TOKEN: &str = "QUJDREVGR0hJSktMTU5PUA==";
const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");
const JSON: (&str, &str) = ("accept", "application/json");

fn request(review: bool) -> serde_json::Value {
    json!({"token": TOKEN, "review": review, "enable_output_parameters": true, "actions": [
        {"name": "approve", "type": "success", "output": {"approved": true, "by": "$who"}},
        {"name": "reject", "type": "failure", "error": "Rejected", "comment": true},
        {"name": "size", "type": "success", "output": {"sized": true},
         "form": {"type": "object", "properties": {
             "count": {"type": "integer", "title": "Count"},
             "notify": {"type": "boolean", "title": "Tell the team"}}}}
    ]})
}

fn app() -> App {
    App::new(|d| d.app.features.output_parameters = true)
}

/// The reply is a 400 `InvalidRequest` whose message names `name` (HEAD
/// has no body to read).
fn assert_names(reply: &Reply, method: &Method, name: &str, what: &str) {
    assert_eq!(reply.status, 400, "{method} {what}: {}", reply.text);
    if *method != Method::HEAD {
        reply.assert_error(400, "InvalidRequest");
        let message = reply.json()["message"]
            .as_str()
            .expect("message")
            .to_owned();
        assert!(
            message.contains(&format!("\"{name}\"")) && message.contains("nothing was sent"),
            "{method} {what}: {message}"
        );
    }
}

#[tokio::test]
async fn a_repeated_action_or_type_in_a_link_is_refused_on_every_method() {
    let app = app();
    let urls = app.urls(&request(false)).await;
    let approve = data_of(urls["approve"].as_str().expect("url"));
    let cases = [
        (
            format!(
                "/respond?action=reject&type=failure&action=approve&type=success&data={approve}"
            ),
            "action",
        ),
        (
            format!("/respond?action=approve&type=failure&type=success&data={approve}"),
            "type",
        ),
        (
            format!("/respond?action=approve&type=success&data={approve}&who=ada&who=mallory"),
            "who",
        ),
        (
            format!("/respond?action=approve&%61ction=approve&data={approve}"),
            "action",
        ),
    ];
    for (uri, name) in &cases {
        for method in [Method::GET, Method::HEAD, Method::POST] {
            let reply = app.request(method.clone(), uri, &[JSON], "").await;
            assert_names(&reply, &method, name, uri);
        }
    }
    // Two data parameters keep their own error.
    app.request(
        Method::POST,
        &format!("/respond?data={approve}&data={approve}"),
        &[JSON],
        "",
    )
    .await
    .assert_error(400, "InvalidPayload");
    assert!(app.sfn.calls().is_empty(), "{:?}", app.sfn.calls());

    // The same link, unambiguous, still acts: the refusals above were
    // for the repetition alone.
    let done = app
        .request(
            Method::POST,
            &format!("/respond?action=approve&type=success&data={approve}&who=ada"),
            &[JSON],
            "",
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(app.sfn.decisions().len(), 1);
}

#[tokio::test]
async fn a_repeated_choice_on_a_review_link_is_refused() {
    let app = app();
    let created = app.create(&request(true)).await;
    assert_eq!(created.status, 200, "{}", created.text);
    let review = data_of(created.json()["review_url"].as_str().expect("review"));
    for query in [
        format!("action=reject&action=approve&data={review}"),
        format!("action=reject&type=failure&action=approve&type=success&data={review}"),
    ] {
        for method in [Method::GET, Method::HEAD, Method::POST] {
            let reply = app
                .request(
                    method.clone(),
                    &format!("/respond?{query}"),
                    &[JSON, FORM],
                    "",
                )
                .await;
            assert_names(&reply, &method, "action", &query);
        }
    }
    // A review button's own form, with its fields sent twice.
    for (action, body, name) in [
        ("reject&type=failure", "comment=no&comment=yes", "comment"),
        ("size&type=success", "count=1&count=2", "count"),
        ("size&type=success", "notify=true&notify=true", "notify"),
    ] {
        let reply = app
            .request(
                Method::POST,
                &format!("/respond?action={action}&data={review}"),
                &[JSON, FORM],
                body,
            )
            .await;
        assert_names(&reply, &Method::POST, name, body);
    }
    assert!(app.sfn.calls().is_empty(), "{:?}", app.sfn.calls());
}

#[tokio::test]
async fn invalid_utf8_in_a_form_or_query_is_refused_not_replaced() {
    let app = app();
    let urls = app.urls(&request(false)).await;
    let reject = urls["reject"].as_str().expect("url");
    let reject_path = reject
        .strip_prefix("https://cb.example.com/prod")
        .expect("base");
    for body in ["comment=%FF%FEhi", "comment=ok&%FF=1"] {
        let reply = app
            .request(Method::POST, reject_path, &[JSON, FORM], body)
            .await;
        reply.assert_error(400, "InvalidRequest");
        assert!(
            reply.json()["message"]
                .as_str()
                .is_some_and(|m| m.contains("not valid UTF-8") && m.contains("nothing was sent")),
            "{body}: {}",
            reply.text
        );
    }
    let approve = data_of(urls["approve"].as_str().expect("url"));
    for method in [Method::GET, Method::HEAD, Method::POST] {
        let reply = app
            .request(
                method.clone(),
                &format!("/respond?action=approve&data={approve}&who=%C3%28"),
                &[JSON],
                "",
            )
            .await;
        assert_eq!(reply.status, 400, "{method}: {}", reply.text);
        if method != Method::HEAD {
            assert!(
                reply
                    .text
                    .contains("the parameter \\\"who\\\" is not valid UTF-8"),
                "{}",
                reply.text
            );
        }
    }
    assert!(app.sfn.calls().is_empty(), "{:?}", app.sfn.calls());

    // Valid UTF-8 in the same places goes through as sent.
    let done = app
        .request(
            Method::POST,
            reject_path,
            &[JSON, FORM],
            "comment=%C3%A9t%C3%A9+ok",
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.text);
    let decisions = app.sfn.decisions();
    assert!(format!("{decisions:?}").contains("été ok"), "{decisions:?}");
}

#[tokio::test]
async fn the_sign_in_endpoints_refuse_a_repeated_parameter() {
    let app = app();
    let urls = app.urls(&request(false)).await;
    let approve = data_of(urls["approve"].as_str().expect("url"));
    let reply = app
        .request(
            Method::POST,
            &format!("/auth/logout?data={approve}&data={approve}"),
            &[JSON],
            "",
        )
        .await;
    assert_names(&reply, &Method::POST, "data", "logout");
    let reply = app
        .request(
            Method::POST,
            &format!("/auth/logout?action=reject&action=approve&data={approve}"),
            &[JSON],
            "",
        )
        .await;
    assert_names(&reply, &Method::POST, "action", "logout");
    assert!(app.sfn.calls().is_empty());
}
