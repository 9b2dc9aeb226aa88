//! The pages in the approver's language, through the router with fakes:
//! `Accept-Language` picks one of the six, nothing picks English, and JSON
//! answers stay English whatever the browser asks for.

use axum::http::Method;
use serde_json::{Value, json};

use sfn_callbacks::ports::EngineError;

use super::support::{App, data_of, one_char_changed, with_data};

const TOKEN: &str = "QUJDREVGR0hJSktMTU5PUA==";
const HTML: (&str, &str) = ("accept", "text/html");
const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

fn approval() -> Value {
    json!({"token": TOKEN, "expiration": "2031-01-31T17:00:00Z", "actions": [
        {"name": "approve", "type": "success", "output": {"approved": true},
         "label": "Approve release 1.2", "description": "Ships v1.2 tonight.",
         "comment": true}
    ]})
}

async fn approve_url(app: &App, body: &Value) -> String {
    let urls = app.urls(body).await;
    urls["approve"].as_str().expect("approve").to_owned()
}

/// Asserts that `html` is a page in `tag` holding every needle.
fn check(html: &str, tag: &str, needles: &[&str]) {
    assert!(
        html.starts_with(&format!("<!doctype html><html lang=\"{tag}\">")),
        "{tag}: {html}"
    );
    for needle in needles {
        assert!(html.contains(needle), "{tag}: {needle}\n{html}");
    }
}

#[tokio::test]
async fn accept_language_picks_the_language_of_the_confirmation_page() {
    let app = App::new(|_| {});
    let url = approve_url(&app, &approval()).await;
    let page = |accept_language: Option<&'static str>| {
        let app = &app;
        let url = url.clone();
        async move {
            let mut headers = vec![HTML];
            headers.extend(accept_language.map(|a| ("accept-language", a)));
            let reply = app.follow(Method::GET, &url, &headers, "").await;
            assert_eq!(reply.status, 200, "{}", reply.text);
            reply.text
        }
    };

    check(
        &page(Some("de")).await,
        "de",
        &[
            "<title>Bestätigen: Approve release 1.2</title>",
            "<p class=\"status\">Antwort ausstehend</p>",
            // The label for the person; the technical names in small print.
            "<dt>Aktion</dt><dd>Approve release 1.2</dd>",
            "<p class=\"fine\">Für den Support: Aktion approve (success)</p>",
            "<dt>Link gültig bis</dt><dd>31.01.2031, 17:00 UTC</dd>",
            "<label for=\"comment\">Kommentar (optional) <span class=\"note\">(höchstens 1000 Zeichen)</span></label>",
            ">Approve release 1.2</button>",
            "<div class=\"desc\">Ships v1.2 tonight.</div>",
        ],
    );
    check(
        &page(Some("ja;q=0, fr")).await,
        "fr",
        &[
            "<h1>Confirmer\u{a0}: Approve release 1.2</h1>",
            "<dt>Expiration du lien</dt><dd>31 janv. 2031, 17:00 TU</dd>",
            "<label for=\"comment\">Commentaire (facultatif) ",
        ],
    );
    let english = [
        "<h1>Confirm: Approve release 1.2</h1>",
        "<p class=\"status\">Awaiting answer</p>",
        "<p>This request is still waiting for an answer. Check the details, then press the button.</p>",
        "<dt>Link expires</dt><dd>Jan 31, 2031, 5:00\u{202f}PM UTC</dd>",
        "<label for=\"comment\">Comment (optional) <span class=\"note\">(up to 1000 characters)</span></label>",
    ];
    check(&page(None).await, "en", &english);
    check(&page(Some("zh-CN, it;q=0.5")).await, "en", &english);

    // Programs get the same English, and RFC 3339, whatever they accept.
    let json = app
        .follow(Method::GET, &url, &[("accept-language", "de")], "")
        .await
        .json();
    assert_eq!(json["expiration"], "2031-01-31T17:00:00Z", "{json}");
    assert_eq!(
        json["message"],
        "This request made no decision. Send a POST to this same URL to perform the action."
    );
}

#[tokio::test]
async fn an_invalid_link_says_so_in_spanish_and_in_english_to_programs() {
    let app = App::new(|_| {});
    let url = approve_url(&app, &approval()).await;
    let data = data_of(&url);
    let altered = with_data(&url, &one_char_changed(&data, data.len() / 2));
    let reply = app
        .follow(
            Method::GET,
            &altered,
            &[HTML, ("accept-language", "es-MX,es;q=0.9")],
            "",
        )
        .await;
    assert_eq!(reply.status, 400, "{}", reply.text);
    check(
        &reply.text,
        "es",
        &[
            "<p class=\"status bad\">Enlace no válido</p>",
            "<h1>Este enlace no es válido</h1>",
            "(InvalidPayload, 400)",
        ],
    );
    assert!(
        !reply.text.contains("This link is not valid"),
        "{}",
        reply.text
    );

    let json = app
        .follow(Method::GET, &altered, &[("accept-language", "es")], "")
        .await;
    json.assert_error(400, "InvalidPayload");
    let message = json.json()["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        message.is_ascii() && reply.text.contains(&message),
        "the message stays English, on the page too: {message}"
    );
}

#[tokio::test]
async fn a_form_comes_back_in_portuguese_with_the_error_beside_its_field() {
    let app = App::new(|_| {});
    let url = approve_url(
        &app,
        &json!({"token": TOKEN, "actions": [{
            "name": "approve", "type": "success", "output": {"approved": true},
            "form": {"type": "object", "required": ["count"], "properties": {
                "count": {"type": "integer", "title": "Instances", "minimum": 1, "maximum": 5},
                "env": {"type": "string", "title": "Environment", "enum": ["a", "b", "c", "d", "e"]}
            }}
        }]}),
    )
    .await;
    let reply = app
        .follow(
            Method::POST,
            &url,
            &[FORM, HTML, ("accept-language", "pt-BR")],
            "count=9",
        )
        .await;
    assert_eq!(reply.status, 400, "{}", reply.text);
    check(
        &reply.text,
        "pt-BR",
        &[
            "<p class=\"status bad\">Não enviado</p>",
            "<p>Sua resposta não foi enviada: corrija os campos marcados abaixo e pressione o botão novamente.</p>",
            "<p>1 campo precisa ser alterado.</p>",
            "aria-describedby=\"f-count-error\" aria-invalid=\"true\">",
            "<p class=\"error\" id=\"f-count-error\">Deve ser no máximo 5.</p>",
            "<option value=\"\" selected>Escolha…</option>",
            "<label for=\"f-env\">Environment <span class=\"note\">(opcional)</span></label>",
            "value=\"9\"",
        ],
    );
    // The error is the one beside the count field, inside its own block.
    let field = reply
        .text
        .split("<div class=\"field\">")
        .find(|block| block.contains("name=\"count\""))
        .expect("the count field");
    assert!(field.contains("Deve ser no máximo 5."), "{field}");
    assert!(app.sfn.decisions().is_empty(), "nothing sent");

    // Programs keep the English words, by field.
    let json = app
        .follow(
            Method::POST,
            &url,
            &[FORM, ("accept-language", "pt-BR")],
            "count=9",
        )
        .await;
    json.assert_error(400, "InvalidForm");
    assert_eq!(json.json()["fields"], json!({"count": "must be at most 5"}));
}

#[tokio::test]
async fn a_review_page_and_its_choices_speak_japanese() {
    let app = App::new(|_| {});
    let mut body = approval();
    body["review"] = json!(true);
    body["actions"]
        .as_array_mut()
        .expect("actions")
        .push(json!({"name": "ping", "type": "heartbeat"}));
    let review = app.create(&body).await.json()["review_url"]
        .as_str()
        .expect("review_url")
        .to_owned();
    let reply = app
        .follow(
            Method::GET,
            &review,
            &[HTML, ("accept-language", "ja-JP")],
            "",
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    check(
        &reply.text,
        "ja",
        &[
            "<title>確認して決定</title>",
            "<dt>リンクの有効期限</dt><dd>2031/01/31 17:00 UTC</dd>",
            "<h2 id=\"choice-0\">Approve release 1.2</h2>",
            ">ハートビートを送信</button>",
        ],
    );
    let json = app
        .follow(Method::GET, &review, &[("accept-language", "ja")], "")
        .await
        .json();
    assert_eq!(json["expiration"], "2031-01-31T17:00:00Z", "{json}");
}

/// A `locale` sealed at creation beats the browser's `Accept-Language`:
/// on the page, on the answer after a press, and on the errors raised
/// after the link opened (already answered, expired). A link that does
/// not open has no sealed language and speaks the browser's.
#[tokio::test]
async fn a_sealed_locale_wins_over_the_browser_even_on_errors_after_opening() {
    let app = App::new(|_| {});
    let mut body = approval();
    body["locale"] = json!("ja");
    let url = approve_url(&app, &body).await;
    let german = [HTML, ("accept-language", "de")];

    let page = app.follow(Method::GET, &url, &german, "").await;
    assert_eq!(page.status, 200, "{}", page.text);
    check(
        &page.text,
        "ja",
        &[
            "<title>確認：Approve release 1.2</title>",
            "<dt>リンクの有効期限</dt><dd>2031/01/31 17:00 UTC</dd>",
            "<label for=\"comment\">コメント（任意） ",
        ],
    );

    let done = app
        .follow(Method::POST, &url, &[FORM, german[0], german[1]], "")
        .await;
    assert_eq!(done.status, 200, "{}", done.text);
    check(&done.text, "ja", &["<h1>回答を受け付けました</h1>"]);
    assert_eq!(app.sfn.decisions().len(), 1);

    app.sfn
        .fail_next(EngineError::TaskClosed("InvalidToken".into()));
    let again = app
        .follow(Method::POST, &url, &[FORM, german[0], german[1]], "")
        .await;
    assert_eq!(again.status, 410, "{}", again.text);
    check(
        &again.text,
        "ja",
        &["<h1>このリクエストはすでに回答済みです</h1>"],
    );

    app.clock.advance(time::Duration::days(3650));
    let expired = app.follow(Method::GET, &url, &german, "").await;
    assert_eq!(expired.status, 410, "{}", expired.text);
    check(
        &expired.text,
        "ja",
        &["<h1>このリンクは有効期限が切れています</h1>"],
    );

    let data = data_of(&url);
    let altered = with_data(&url, &one_char_changed(&data, data.len() / 2));
    let broken = app.follow(Method::GET, &altered, &german, "").await;
    assert_eq!(broken.status, 400, "{}", broken.text);
    check(&broken.text, "de", &[]);
}

#[tokio::test]
async fn a_review_link_seals_its_locale_for_every_choice() {
    let app = App::new(|_| {});
    let mut body = approval();
    body["review"] = json!(true);
    body["locale"] = json!("es");
    let review = app.create(&body).await.json()["review_url"]
        .as_str()
        .expect("review_url")
        .to_owned();
    let page = app
        .follow(Method::GET, &review, &[HTML, ("accept-language", "fr")], "")
        .await;
    assert_eq!(page.status, 200, "{}", page.text);
    check(
        &page.text,
        "es",
        &[
            "<title>Revisar y decidir</title>",
            "<dt>El enlace caduca</dt>",
            "<h2 id=\"choice-0\">Approve release 1.2</h2>",
        ],
    );
    assert!(!page.text.contains("Confirmer"), "{}", page.text);
}
