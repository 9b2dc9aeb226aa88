//! Verified approvers through the router, with a fake OpenID Provider
//! behind the port: the sign-in flow, the session, who may act, and every
//! refusal leaving Step Functions untouched. (The real provider, Chromium
//! and moto are in `oidc.rs`.)

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use sfn_callbacks::core::approvers::Identity;
use sfn_callbacks::core::callback::EngineCall;
use sfn_callbacks::core::keyring::{Keyring, SecretKey};
use sfn_callbacks::keys::{KeyMode, KeySource};
use sfn_callbacks::ports::{AuthRequest, EngineError, IdentityProvider, IdpError};

use super::lambda_runtime::fixture;
use super::support::{App, Reply, one_char_changed, query_param};

const TOKEN: &str = "QUJDREVGR0g=";

fn person(email: &str, verified: bool, groups: &[&str]) -> Identity {
    Identity {
        issuer: "https://idp.example.com".into(),
        subject: format!("sub-{}", email.split('@').next().unwrap_or_default()),
        email: Some(email.into()),
        email_verified: verified,
        name: Some(format!("Name of {email}")),
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        slack_user: None,
    }
}

/// A provider that signs in whoever the code names (`code-<email>`),
/// once per code and only with the verifier and nonce of a sign-in it was
/// asked for, as PKCE and the nonce bind them.
#[derive(Default)]
struct FakeIdp {
    people: HashMap<String, Identity>,
    /// state → (nonce, verifier), per authorize call.
    asked: Mutex<HashMap<String, (String, String)>>,
    used_codes: Mutex<Vec<String>>,
    bearer: HashMap<String, Identity>,
    down: Mutex<bool>,
    /// The redirect URIs sign-ins named.
    redirects: Mutex<Vec<String>>,
    /// The issuer it reports (its people are from idp.example.com).
    issuer: String,
}

impl FakeIdp {
    fn new() -> Self {
        let mut people = HashMap::new();
        for who in [
            person("alice@example.com", true, &[]),
            person("bob@example.com", true, &[]),
            person("rita@example.com", true, &[]),
            person("carol@example.com", true, &["release-managers"]),
            person("dana@leads.example.com", true, &[]),
            person("erin@example.com", false, &[]),
        ] {
            people.insert(who.email.clone().unwrap_or_default(), who);
        }
        let mut bearer = HashMap::new();
        bearer.insert(
            "good-jwt".to_owned(),
            person("alice@example.com", true, &[]),
        );
        Self {
            people,
            bearer,
            issuer: "https://idp.example.com".into(),
            ..Self::default()
        }
    }
}

#[async_trait]
impl IdentityProvider for FakeIdp {
    fn issuer(&self) -> &str {
        &self.issuer
    }

    async fn authorize_url(&self, request: AuthRequest<'_>) -> Result<String, IdpError> {
        if *self.down.lock().expect("lock") {
            return Err(IdpError::Unavailable("down".into()));
        }
        self.redirects
            .lock()
            .expect("lock")
            .push(request.redirect_uri.to_owned());
        self.asked.lock().expect("lock").insert(
            request.state.to_owned(),
            (request.nonce.to_owned(), request.verifier.to_owned()),
        );
        let state: String =
            url::form_urlencoded::byte_serialize(request.state.as_bytes()).collect();
        Ok(format!("https://idp.example.com/authorize?state={state}"))
    }

    async fn redeem(
        &self,
        code: &str,
        verifier: &str,
        nonce: &str,
        _redirect_uri: &str,
    ) -> Result<Identity, IdpError> {
        if *self.down.lock().expect("lock") {
            return Err(IdpError::Unavailable("down".into()));
        }
        let mut used = self.used_codes.lock().expect("lock");
        if used.iter().any(|c| c == code) {
            return Err(IdpError::Rejected(
                "the provider refused the code (invalid_grant)".into(),
            ));
        }
        used.push(code.to_owned());
        let bound = self
            .asked
            .lock()
            .expect("lock")
            .values()
            .any(|(n, v)| n == nonce && v == verifier);
        if !bound {
            return Err(IdpError::Rejected("PKCE or nonce mismatch".into()));
        }
        let email = code.strip_prefix("code-").unwrap_or_default();
        self.people
            .get(email)
            .cloned()
            .map(|who| Identity {
                issuer: self.issuer.clone(),
                ..who
            })
            .ok_or_else(|| IdpError::Rejected("unknown code".into()))
    }

    async fn verify_bearer(&self, token: &str) -> Result<Identity, IdpError> {
        self.bearer
            .get(token)
            .cloned()
            .ok_or_else(|| IdpError::Rejected("the token's signature did not verify".into()))
    }
}

fn deployment(idp: Arc<FakeIdp>) -> App {
    deployment_with(idp, keys(42))
}

fn keys(seed: u8) -> KeySource {
    KeySource::keyring(
        KeyMode::Local,
        Keyring::new(
            SecretKey::from_bytes([seed; 32]),
            "2030-01-01T00:00:00Z".into(),
        ),
    )
}

fn deployment_with(idp: Arc<FakeIdp>, keys: KeySource) -> App {
    App::with_keys(keys, |s| {
        s.app.features.sign_in = true;
        s.identity = Some(idp);
    })
}

fn request(actions: Value, extra: Value) -> Value {
    let mut body = json!({"token": TOKEN, "actions": actions});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    body
}

fn approve_and_reject() -> Value {
    json!([
        {"name": "approve", "type": "success", "output": {"ok": true}, "comment": true},
        {"name": "reject", "type": "failure", "error": "Rejected", "cause": "not now"}
    ])
}

/// Approve and reject links only alice may use.
fn for_alice() -> Value {
    request(
        approve_and_reject(),
        json!({"approvers": {"emails": ["alice@example.com"]}}),
    )
}

const HTML: (&str, &str) = ("accept", "text/html");

/// The query of a callback URL.
fn query_of(url: &str) -> &str {
    url.split_once('?').map(|(_, q)| q).expect("query")
}

fn set_cookies(reply: &Reply) -> Vec<String> {
    reply
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_owned)
        .collect()
}

/// `name=value` of the cookie `name` a reply sets.
fn cookie_pair(reply: &Reply, name: &str) -> Option<String> {
    set_cookies(reply).into_iter().find_map(|c| {
        let pair = c.split(';').next()?.trim().to_owned();
        pair.starts_with(&format!("{name}=")).then_some(pair)
    })
}

fn state_of(location: &str) -> String {
    query_param(location, "state")
}

/// `GET /auth/login` for `link`.
async fn login(app: &App, link: &str, headers: &[(&str, &str)]) -> Reply {
    app.request(
        Method::GET,
        &format!("/auth/login?{}", query_of(link)),
        headers,
        "",
    )
    .await
}

/// Signs `email` in for `link` through the router, as a browser would:
/// `/auth/login`, the provider (faked), `/auth/callback`. Returns the
/// session cookie pair and the callback's reply.
async fn sign_in(app: &App, link: &str, email: &str) -> (String, Reply) {
    let login = login(app, link, &[HTML]).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.text);
    let binding = cookie_pair(&login, "__Host-sfncb-sign-in").expect("binding cookie");
    let state = state_of(login.header("location").expect("location"));
    let state: String = url::form_urlencoded::byte_serialize(state.as_bytes()).collect();
    let back = app
        .request(
            Method::GET,
            &format!("/auth/callback?code=code-{email}&state={state}"),
            &[HTML, ("cookie", &binding)],
            "",
        )
        .await;
    let session = cookie_pair(&back, "__Host-sfncb-session").unwrap_or_default();
    (session, back)
}

async fn urls(app: &App, body: &Value) -> serde_json::Map<String, Value> {
    app.urls(body).await
}

fn link(urls: &serde_json::Map<String, Value>, name: &str) -> String {
    urls[name].as_str().expect("url").to_owned()
}

fn form() -> (&'static str, &'static str) {
    ("content-type", "application/x-www-form-urlencoded")
}

#[tokio::test]
async fn an_approver_signs_in_is_named_on_the_page_and_recorded_in_the_output() {
    let idp = Arc::new(FakeIdp::new());
    let app = deployment(Arc::clone(&idp));
    let urls = urls(
        &app,
        &request(
            approve_and_reject(),
            json!({"approvers": {"emails": ["alice@example.com"]}, "requester": "rita@example.com"}),
        ),
    )
    .await;
    let approve = link(&urls, "approve");
    assert!(approve.contains("data=I"), "a bound link: {approve}");

    // Nobody signed in: the page asks to sign in; a POST is 401.
    let page = app.follow(Method::GET, &approve, &[HTML], "").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("Sign in to continue"), "{}", page.text);
    assert!(
        page.text
            .contains("href=\"auth/login?action=approve&amp;type=success&amp;data=")
    );
    // The requester sealed with the link is who asked.
    assert!(
        page.text
            .contains("<p>Requested by <strong>rita@example.com</strong></p>"),
        "{}",
        page.text
    );
    let anonymous = app.follow(Method::POST, &approve, &[], "").await;
    anonymous.assert_error(401, "SignInRequired");
    assert_eq!(anonymous.header("www-authenticate"), Some("Bearer"));

    let (session, back) = sign_in(&app, &approve, "alice@example.com").await;
    assert_eq!(
        *idp.redirects.lock().expect("lock"),
        ["https://cb.example.com/prod/auth/callback"]
    );
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.text);
    assert_eq!(
        back.header("location"),
        Some(approve.as_str()),
        "back to the link"
    );
    let cookies = set_cookies(&back);
    let session_cookie = cookies
        .iter()
        .find(|c| c.starts_with("__Host-sfncb-session="))
        .expect("session cookie");
    for attribute in [
        "HttpOnly",
        "SameSite=Lax",
        "Secure",
        "Path=/",
        "Max-Age=28800",
    ] {
        assert!(
            session_cookie.contains(attribute),
            "{attribute}: {session_cookie}"
        );
    }
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("__Host-sfncb-sign-in=;") && c.contains("Max-Age=0")),
        "the binding cookie is cleared: {cookies:?}"
    );
    assert!(app.sfn.decisions().is_empty(), "signing in decides nothing");

    let signed_in = app
        .follow(Method::GET, &approve, &[HTML, ("cookie", &session)], "")
        .await;
    assert!(
        signed_in
            .text
            .contains("Signed in as <strong>alice@example.com</strong>")
    );
    assert!(signed_in.text.contains("<form method=\"post\">"));
    assert!(app.sfn.decisions().is_empty());

    let done = app
        .follow(
            Method::POST,
            &approve,
            &[HTML, ("cookie", &session), form()],
            "comment=ship+it",
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    let calls = app.sfn.decisions();
    let [EngineCall::Success { output, .. }] = calls.as_slice() else {
        panic!("{calls:?}");
    };
    let output: Value = serde_json::from_str(output).expect("json");
    assert_eq!(
        output,
        json!({
            "ok": true,
            "comment": "ship it",
            "approver": {
                "sub": "sub-alice",
                "email": "alice@example.com",
                "name": "Name of alice@example.com",
                "iss": "https://idp.example.com"
            }
        })
    );
}

#[tokio::test]
async fn a_failure_names_who_decided_at_the_end_of_its_cause() {
    let app = deployment(Arc::new(FakeIdp::new()));
    let urls = urls(
        &app,
        &request(
            approve_and_reject(),
            json!({"approvers": {"domains": ["example.com"]}}),
        ),
    )
    .await;
    let reject = link(&urls, "reject");
    let (session, _) = sign_in(&app, &reject, "bob@example.com").await;
    let done = app
        .follow(Method::POST, &reject, &[("cookie", &session)], "")
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    let calls = app.sfn.calls();
    let [EngineCall::Failure { cause, .. }] = calls.as_slice() else {
        panic!("{calls:?}");
    };
    assert_eq!(
        cause.as_deref(),
        Some("not now\n\nDecided by bob@example.com")
    );
}

#[tokio::test]
async fn only_listed_people_act_and_never_the_requester() {
    let app = deployment(Arc::new(FakeIdp::new()));
    let urls = urls(
        &app,
        &request(
            approve_and_reject(),
            json!({
                "approvers": {
                    "emails": ["alice@example.com", "rita@example.com", "erin@example.com"],
                    "domains": ["leads.example.com"],
                    "groups": ["release-managers"]
                },
                "requester": "Rita@Example.com"
            }),
        ),
    )
    .await;
    let approve = link(&urls, "approve");
    for (email, allowed) in [
        ("bob@example.com", false),
        ("rita@example.com", false),
        ("erin@example.com", false),
        ("dana@leads.example.com", true),
        ("carol@example.com", true),
    ] {
        let before = app.sfn.calls().len();
        let (session, _) = sign_in(&app, &approve, email).await;
        assert!(!session.is_empty(), "{email} signs in");
        let reply = app
            .follow(Method::POST, &approve, &[("cookie", &session)], "")
            .await;
        if allowed {
            assert_eq!(reply.status, StatusCode::OK, "{email}: {}", reply.text);
            assert_eq!(app.sfn.calls().len(), before + 1, "{email}");
        } else {
            reply.assert_error(403, "NotAnApprover");
            assert!(
                reply.json()["message"]
                    .as_str()
                    .unwrap_or_default()
                    .contains(email)
            );
            assert_eq!(app.sfn.calls().len(), before, "{email}: nothing sent");
            // The page says so too.
            let page = app
                .follow(Method::GET, &approve, &[HTML, ("cookie", &session)], "")
                .await;
            assert_eq!(page.status, StatusCode::FORBIDDEN);
            assert!(
                page.text.contains("<form method=\"post\" action=\"auth/logout?action=approve&amp;type=success&amp;data="),
                "a way to sign out: {}",
                page.text
            );
            let out = app
                .request(
                    Method::POST,
                    &format!("/auth/logout?{}", query_of(&approve)),
                    &[HTML, ("cookie", &session)],
                    "",
                )
                .await;
            assert_eq!(out.status, StatusCode::SEE_OTHER, "{}", out.text);
            assert_eq!(out.header("location"), Some(approve.as_str()));
            assert!(
                set_cookies(&out)
                    .iter()
                    .any(|c| c.starts_with("__Host-sfncb-session=;") && c.contains("Max-Age=0")),
                "{:?}",
                set_cookies(&out)
            );
            assert!(
                page.text.contains("You cannot answer this request"),
                "{}",
                page.text
            );
        }
    }
}

#[tokio::test]
async fn an_actions_own_approvers_replace_the_requests() {
    let app = deployment(Arc::new(FakeIdp::new()));
    let urls = urls(
        &app,
        &request(
            json!([
                {"name": "approve", "type": "success", "output": {}, "approvers": {"emails": ["alice@example.com"]}},
                {"name": "wait", "type": "heartbeat"}
            ]),
            json!({}),
        ),
    )
    .await;
    // Anyone may heartbeat; only alice approves. (`null` opens an action
    // under request-level approvers, below.)
    let wait = app
        .follow(Method::POST, &link(&urls, "wait"), &[], "")
        .await;
    assert_eq!(wait.status, StatusCode::OK, "{}", wait.text);
    let approve = link(&urls, "approve");
    app.follow(Method::POST, &approve, &[], "")
        .await
        .assert_error(401, "SignInRequired");
    let (bob, _) = sign_in(&app, &approve, "bob@example.com").await;
    app.follow(Method::POST, &approve, &[("cookie", &bob)], "")
        .await
        .assert_error(403, "NotAnApprover");
    assert_eq!(app.sfn.calls().len(), 1, "only the heartbeat");
}

#[tokio::test]
async fn one_click_links_go_to_sign_in_at_once_and_act_when_back() {
    let app = deployment(Arc::new(FakeIdp::new()));
    let urls = urls(
        &app,
        &request(
            json!([{"name": "approve", "type": "success", "output": {}, "one_click": true}]),
            json!({"approvers": {"emails": ["alice@example.com"]}}),
        ),
    )
    .await;
    let approve = link(&urls, "approve");
    let first = app.follow(Method::GET, &approve, &[HTML], "").await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.text);
    assert!(
        first
            .header("location")
            .is_some_and(|l| l.starts_with("https://idp.example.com/authorize?")),
        "{:?}",
        first.header("location")
    );
    assert!(cookie_pair(&first, "__Host-sfncb-sign-in").is_some());
    // A HEAD (a scanner's look) neither redirects nor acts.
    let look = app.follow(Method::HEAD, &approve, &[HTML], "").await;
    assert_eq!(look.status, StatusCode::OK);
    assert!(app.sfn.calls().is_empty());

    let (session, _) = sign_in(&app, &approve, "alice@example.com").await;
    let acted = app
        .follow(Method::GET, &approve, &[HTML, ("cookie", &session)], "")
        .await;
    assert_eq!(acted.status, StatusCode::OK, "{}", acted.text);
    assert!(acted.text.contains("Response accepted"), "{}", acted.text);
    assert_eq!(app.sfn.calls().len(), 1);
}

#[tokio::test]
async fn programs_act_with_a_bearer_token_and_bad_ones_are_refused() {
    let app = deployment(Arc::new(FakeIdp::new()));
    let urls = urls(&app, &for_alice()).await;
    let approve = link(&urls, "approve");
    let bad = app
        .follow(
            Method::POST,
            &approve,
            &[("authorization", "Bearer forged")],
            "",
        )
        .await;
    bad.assert_error(401, "SignInRequired");
    assert!(app.sfn.calls().is_empty());
    let good = app
        .follow(
            Method::POST,
            &approve,
            &[("authorization", "Bearer good-jwt")],
            "",
        )
        .await;
    assert_eq!(good.status, StatusCode::OK, "{}", good.text);
    assert_eq!(app.sfn.calls().len(), 1);
}

#[tokio::test]
async fn sessions_end_and_belong_to_their_keyring() {
    let idp = Arc::new(FakeIdp::new());
    let app = deployment(Arc::clone(&idp));
    let body = for_alice();
    let urls = urls(&app, &body).await;
    let approve = link(&urls, "approve");

    // A session made by a deployment with another keyring opens nothing here.
    let other = deployment_with(Arc::new(FakeIdp::new()), keys(7));
    let other_urls = other.urls(&body).await;
    let (foreign, _) = sign_in(&other, &link(&other_urls, "approve"), "alice@example.com").await;
    assert!(!foreign.is_empty());
    app.follow(Method::POST, &approve, &[("cookie", &foreign)], "")
        .await
        .assert_error(401, "SignInRequired");

    // Same keyring, another provider: its sessions are no sessions here.
    let moved = deployment_with(
        Arc::new(FakeIdp {
            issuer: "https://other-idp.example.com".into(),
            ..FakeIdp::new()
        }),
        keys(42),
    );
    let (theirs, _) = sign_in(&moved, &approve, "alice@example.com").await;
    assert!(!theirs.is_empty());
    app.follow(Method::POST, &approve, &[("cookie", &theirs)], "")
        .await
        .assert_error(401, "SignInRequired");

    // A session of ours works until SESSION_TTL (8 hours), then not.
    let (session, _) = sign_in(&app, &approve, "alice@example.com").await;
    app.clock.advance(time::Duration::hours(8));
    app.follow(Method::POST, &approve, &[("cookie", &session)], "")
        .await
        .assert_error(401, "SignInRequired");
    // Tampered: one character changed.
    let tampered = one_char_changed(&session, session.len() - 2);
    app.follow(Method::POST, &approve, &[("cookie", &tampered)], "")
        .await
        .assert_error(401, "SignInRequired");
    assert!(app.sfn.calls().is_empty());
}

#[tokio::test]
async fn bad_sign_in_answers_get_a_clear_error_and_no_session() {
    let idp = Arc::new(FakeIdp::new());
    let app = deployment(Arc::clone(&idp));
    let urls = urls(&app, &for_alice()).await;
    let approve = link(&urls, "approve");
    let login = login(&app, &approve, &[]).await;
    let binding = cookie_pair(&login, "__Host-sfncb-sign-in").expect("binding");
    let state = state_of(login.header("location").expect("location"));
    let encode =
        |s: &str| -> String { url::form_urlencoded::byte_serialize(s.as_bytes()).collect() };
    let tampered = one_char_changed(&state, 10);
    let no_session = |reply: &Reply| {
        assert!(
            cookie_pair(reply, "__Host-sfncb-session").is_none(),
            "no session: {:?}",
            set_cookies(reply)
        );
    };
    let cases: Vec<(String, Option<&str>, u16, &str)> = vec![
        ("".into(), Some(binding.as_str()), 400, "SignInFailed"),
        (
            format!("state={}", encode(&state)),
            Some(binding.as_str()),
            400,
            "SignInFailed",
        ),
        (
            "error=access_denied&state=x".into(),
            Some(binding.as_str()),
            400,
            "SignInFailed",
        ),
        ("error=%3Cscript%3E".into(), None, 400, "SignInFailed"),
        (
            format!("code=code-alice@example.com&state={}", encode(&tampered)),
            Some(binding.as_str()),
            400,
            "SignInFailed",
        ),
        // The state of another browser: no binding cookie, or another one.
        (
            format!("code=code-alice@example.com&state={}", encode(&state)),
            None,
            400,
            "SignInFailed",
        ),
        (
            format!("code=code-alice@example.com&state={}", encode(&state)),
            Some("__Host-sfncb-sign-in=AAAAAAAAAAAAAAAAAAAAAA"),
            400,
            "SignInFailed",
        ),
        (
            "code=x&state=not-sealed".into(),
            Some(binding.as_str()),
            400,
            "SignInFailed",
        ),
    ];
    for (query, cookie, status, error) in cases {
        let mut headers = vec![];
        if let Some(cookie) = cookie {
            headers.push(("cookie", cookie));
        }
        let reply = app
            .request(
                Method::GET,
                &format!("/auth/callback?{query}"),
                &headers,
                "",
            )
            .await;
        reply.assert_error(status, error);
        assert!(!reply.text.contains("<script"), "{}", reply.text);
        no_session(&reply);
    }
    // The good answer works once; the same answer again (a replay, with
    // the binding cookie still sent) is refused by the provider.
    let good = format!(
        "/auth/callback?code=code-alice@example.com&state={}",
        encode(&state)
    );
    let first = app
        .request(Method::GET, &good, &[("cookie", &binding)], "")
        .await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.text);
    let replay = app
        .request(Method::GET, &good, &[("cookie", &binding)], "")
        .await;
    replay.assert_error(400, "SignInFailed");
    no_session(&replay);
    // An HTML page for a person.
    let page = app
        .request(
            Method::GET,
            "/auth/callback?error=access_denied",
            &[HTML],
            "",
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.text.contains("Sign-in did not complete"),
        "{}",
        page.text
    );
    assert!(app.sfn.calls().is_empty());
}

#[tokio::test]
async fn a_provider_outage_is_503_and_the_link_works_afterwards() {
    let idp = Arc::new(FakeIdp::new());
    let app = deployment(Arc::clone(&idp));
    let urls = urls(&app, &for_alice()).await;
    let approve = link(&urls, "approve");
    *idp.down.lock().expect("lock") = true;
    let login = login(&app, &approve, &[]).await;
    login.assert_error(503, "ServiceError");
    assert_eq!(login.header("retry-after"), Some("5"));
    *idp.down.lock().expect("lock") = false;
    let (session, _) = sign_in(&app, &approve, "alice@example.com").await;
    let done = app
        .follow(Method::POST, &approve, &[("cookie", &session)], "")
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
}

#[tokio::test]
async fn creation_checks_approvers_and_the_deployment() {
    let app = deployment(Arc::new(FakeIdp::new()));
    let cases = [
        (
            json!({"approvers": {"emails": "a@example.com"}}),
            "InvalidApprovers",
            "approvers.emails must be a list",
        ),
        (
            json!({"approvers": {"emails": ["nobody"]}}),
            "InvalidApprovers",
            "approvers.emails[0] is not an email",
        ),
        (
            json!({"approvers": {"domains": ["-x-"]}}),
            "InvalidApprovers",
            "approvers.domains[0] is not a domain",
        ),
        (
            json!({"approvers": {"emails": []}}),
            "InvalidApprovers",
            "approvers lists nobody",
        ),
        (
            json!({"approvers": {"users": ["x"]}}),
            "InvalidApprovers",
            "approvers.users is not a field",
        ),
        (
            json!({"approvers": {"emails": ["a@example.com"]}, "requester": "me"}),
            "InvalidApprovers",
            "requester must be an email",
        ),
        (
            json!({"requester": "rita@example.com"}),
            "InvalidApprovers",
            "requester only applies",
        ),
        (
            json!({"approver": {}}),
            "InvalidJSON",
            "unknown field `approver`",
        ),
    ];
    for (extra, error, needle) in cases {
        let reply = app
            .create(&request(approve_and_reject(), extra.clone()))
            .await;
        reply.assert_error(400, error);
        let message = reply.json()["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(message.contains(needle), "{extra}: {message}");
    }
    let many: Vec<String> = (0..101).map(|i| format!("g{i}")).collect();
    let reply = app
        .create(&request(
            json!([{"name": "a", "type": "heartbeat", "approvers": {"groups": many}}]),
            json!({}),
        ))
        .await;
    reply.assert_error(400, "InvalidApprovers");
    assert!(
        reply
            .text
            .contains("actions[0].approvers lists more than 100"),
        "{}",
        reply.text
    );
    // The service writes who decided; an output may not claim it.
    let reply = app
        .create(&request(
            json!([{"name": "a", "type": "success", "output": {"approver": "me"}}]),
            json!({"approvers": {"emails": ["alice@example.com"]}}),
        ))
        .await;
    reply.assert_error(400, "InvalidAction");
    assert!(reply.text.contains("approver"), "{}", reply.text);

    let reply = app
        .create(&request(
            json!([{"name": "a", "type": "success", "output": true}]),
            json!({"approvers": {"emails": ["alice@example.com"]}}),
        ))
        .await;
    reply.assert_error(400, "InvalidAction");
    assert!(
        reply.text.contains("must be a JSON object"),
        "{}",
        reply.text
    );

    // Without an OpenID Provider, approvers are refused, naming the settings.
    let plain = App::new(|_| {});
    let reply = plain.create(&for_alice()).await;
    reply.assert_error(400, "SignInNotConfigured");
    assert!(reply.text.contains("OIDC_ISSUER"), "{}", reply.text);
}

#[tokio::test]
async fn a_bound_link_on_a_deployment_without_sign_in_does_nothing() {
    let app = deployment(Arc::new(FakeIdp::new()));
    let urls = urls(&app, &for_alice()).await;
    // Same keys, no provider: the link opens but nobody can act.
    let bare = App::new(|_| {});
    let reply = bare
        .follow(
            Method::POST,
            &link(&urls, "approve"),
            &[("authorization", "Bearer good-jwt")],
            "",
        )
        .await;
    reply.assert_error(400, "SignInNotConfigured");
    assert!(bare.sfn.calls().is_empty());
}

/// A Function URL (payload 2.0) event for `method path?query` with cookies.
fn v2_event(method: &str, path: &str, query: &str, cookies: &[String]) -> Value {
    let mut event = fixture("function_url_post_respond.json");
    event["rawPath"] = json!(path);
    event["rawQueryString"] = json!(query);
    event["requestContext"]["http"]["method"] = json!(method);
    event["requestContext"]["http"]["path"] = json!(path);
    let params: serde_json::Map<String, Value> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), json!(v)))
        .collect();
    event["queryStringParameters"] = Value::Object(params);
    event["cookies"] = json!(cookies);
    event["body"] = Value::Null;
    event["isBase64Encoded"] = json!(false);
    event
}

fn pair(set_cookie: &Value) -> String {
    set_cookie
        .as_str()
        .and_then(|c| c.split(';').next())
        .expect("a Set-Cookie value")
        .to_owned()
}

#[tokio::test]
async fn sign_in_works_through_the_lambda_front_doors_with_their_cookie_shapes() {
    let idp = Arc::new(FakeIdp::new());
    let app = App::with_keys(keys(42), |s| {
        s.app.base_url = None;
        s.app.features.sign_in = true;
        s.identity = Some(Arc::clone(&idp) as Arc<dyn IdentityProvider>);
    });
    let lambda = app.lambda(sfn_callbacks::lambda::DirectErrors::Function);
    let created = lambda
        .handle(request(
            approve_and_reject(),
            json!({"approvers": {"emails": ["alice@example.com"]}, "base_url": "https://q2w3e4r5t6y7u8i9o0p1a2s3d4f5g6h7.lambda-url.us-east-1.on.aws"}),
        ))
        .await
        .expect("created");
    let approve = created["urls"]["approve"].as_str().expect("url").to_owned();
    let query = query_of(&approve).to_owned();

    // Payload 2.0: Set-Cookie values travel in `cookies`, never joined.
    let login = lambda
        .handle(v2_event("GET", "/auth/login", &query, &[]))
        .await
        .expect("login");
    assert_eq!(login["statusCode"], 303, "{login}");
    let cookies = login["cookies"].as_array().expect("cookies").clone();
    assert_eq!(cookies.len(), 1, "{login}");
    assert!(login["headers"].get("set-cookie").is_none(), "{login}");
    let binding = pair(&cookies[0]);
    assert!(binding.starts_with("__Host-sfncb-sign-in="), "{binding}");
    assert_eq!(
        idp.redirects
            .lock()
            .expect("lock")
            .last()
            .map(String::as_str),
        Some("https://q2w3e4r5t6y7u8i9o0p1a2s3d4f5g6h7.lambda-url.us-east-1.on.aws/auth/callback"),
        "the redirect URI comes from the event"
    );
    let location = login["headers"]["location"].as_str().expect("location");
    let state: String =
        url::form_urlencoded::byte_serialize(state_of(location).as_bytes()).collect();
    let back = lambda
        .handle(v2_event(
            "GET",
            "/auth/callback",
            &format!("code=code-alice@example.com&state={state}"),
            &[binding],
        ))
        .await
        .expect("callback");
    assert_eq!(back["statusCode"], 303, "{back}");
    let set = back["cookies"].as_array().expect("cookies");
    assert_eq!(set.len(), 2, "the session and the cleared binding: {back}");
    let session = set
        .iter()
        .map(pair)
        .find(|p| p.starts_with("__Host-sfncb-session="))
        .expect("session");

    // The session comes back in the event's `cookies` array and acts.
    let anonymous = lambda
        .handle(v2_event("POST", "/respond", &query, &[]))
        .await
        .expect("post");
    assert_eq!(anonymous["statusCode"], 401, "{anonymous}");
    let acted = lambda
        .handle(v2_event(
            "POST",
            "/respond",
            &query,
            &["other=1".to_owned(), session],
        ))
        .await
        .expect("post");
    assert_eq!(acted["statusCode"], 200, "{acted}");
    assert_eq!(app.sfn.calls().len(), 1);

    // REST API (payload 1.0): the callback's two Set-Cookie values are two
    // entries of multiValueHeaders.
    let mut rest_login = fixture("apigw_rest_get_respond.json");
    rest_login["resource"] = json!("/auth/login");
    rest_login["path"] = json!("/auth/login");
    rest_login["requestContext"]["path"] = json!("/prod/auth/login");
    let params: serde_json::Map<String, Value> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), json!(v)))
        .collect();
    let multi: serde_json::Map<String, Value> = params
        .iter()
        .map(|(k, v)| (k.clone(), json!([v])))
        .collect();
    rest_login["queryStringParameters"] = Value::Object(params);
    rest_login["multiValueQueryStringParameters"] = Value::Object(multi);
    let login = lambda.handle(rest_login).await.expect("rest login");
    assert_eq!(login["statusCode"], 303, "{login}");
    let binding = pair(&login["multiValueHeaders"]["set-cookie"][0]);
    let location = login["multiValueHeaders"]["location"][0]
        .as_str()
        .expect("location");
    let mut rest_back = fixture("apigw_rest_get_respond.json");
    rest_back["resource"] = json!("/auth/callback");
    rest_back["path"] = json!("/auth/callback");
    rest_back["requestContext"]["path"] = json!("/prod/auth/callback");
    let code = "code-bob@example.com".to_owned();
    let state = state_of(location);
    rest_back["queryStringParameters"] = json!({"code": code, "state": state});
    rest_back["multiValueQueryStringParameters"] = json!({"code": [code], "state": [state]});
    rest_back["headers"]["Cookie"] = json!(binding);
    rest_back["multiValueHeaders"]["Cookie"] = json!([binding]);
    let back = lambda.handle(rest_back).await.expect("rest callback");
    assert_eq!(back["statusCode"], 303, "{back}");
    let set = back["multiValueHeaders"]["set-cookie"]
        .as_array()
        .expect("set-cookie");
    assert_eq!(set.len(), 2, "{back}");
    assert!(
        back["multiValueHeaders"]["location"][0]
            .as_str()
            .is_some_and(|l| l.starts_with(
                "https://abc123defg.execute-api.us-east-1.amazonaws.com/prod/respond?"
            ) && l.contains("action=approve")),
        "{back}"
    );
}

#[tokio::test]
async fn null_approvers_open_one_action_of_a_bound_request() {
    let app = deployment(Arc::new(FakeIdp::new()));
    let urls = urls(
        &app,
        &request(
            json!([
                {"name": "approve", "type": "success", "output": {}},
                {"name": "wait", "type": "heartbeat", "approvers": null}
            ]),
            json!({"approvers": {"groups": ["leads"]}}),
        ),
    )
    .await;
    assert!(link(&urls, "wait").contains("data=E"), "an open link");
    assert!(link(&urls, "approve").contains("data=I"), "a bound link");
    let wait = app
        .follow(Method::POST, &link(&urls, "wait"), &[], "")
        .await;
    assert_eq!(wait.status, StatusCode::OK, "{}", wait.text);
    app.follow(Method::POST, &link(&urls, "approve"), &[], "")
        .await
        .assert_error(401, "SignInRequired");
    assert_eq!(app.sfn.calls().len(), 1);
}

#[tokio::test]
async fn a_closed_task_says_so_before_anyone_signs_in() {
    let app = deployment(Arc::new(FakeIdp::new()));
    let urls = urls(
        &app,
        &request(
            approve_and_reject(),
            json!({"approvers": {"domains": ["example.com"]}}),
        ),
    )
    .await;
    let approve = link(&urls, "approve");
    let page = app.follow(Method::GET, &approve, &[HTML], "").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(
        page.text.contains("Sign in to continue")
            && page.text.contains("still waiting for an answer"),
        "{}",
        page.text
    );
    app.sfn
        .fail_next(EngineError::TaskClosed("InvalidToken".into()));
    let page = app.follow(Method::GET, &approve, &[HTML], "").await;
    assert_eq!(page.status, StatusCode::GONE, "{}", page.text);
    assert!(
        page.text.contains("This request was already answered") && !page.text.contains("Sign in"),
        "no sign-in for a closed task: {}",
        page.text
    );
    assert!(app.sfn.decisions().is_empty());
    assert_eq!(app.sfn.heartbeats(), 1, "the first GET's probe");
}

#[tokio::test]
async fn a_review_link_applies_each_choices_own_approvers() {
    let app = deployment(Arc::new(FakeIdp::new()));
    let body = json!({
        "token": TOKEN,
        "review": true,
        "actions": [
            {"name": "approve", "type": "success", "output": {"ok": true},
             "approvers": {"emails": ["alice@example.com"]}},
            {"name": "reject", "type": "failure", "error": "Rejected",
             "approvers": {"emails": ["bob@example.com"]}},
            {"name": "ping", "type": "heartbeat", "approvers": null}
        ]
    });
    let reply = app.create(&body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let review = reply.json()["review_url"]
        .as_str()
        .expect("review_url")
        .to_owned();

    let page = app.follow(Method::GET, &review, &[HTML], "").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let login = format!(
        "href=\"auth/login?{}\"",
        query_of(&review).replace('&', "&amp;")
    );
    assert!(page.text.contains(&login), "{login}: {}", page.text);
    assert_eq!(
        page.text
            .matches("Only named approvers can choose this")
            .count(),
        2,
        "{}",
        page.text
    );
    assert!(
        page.text.contains(">Send a heartbeat</button>"),
        "the open choice"
    );
    let json = app.follow(Method::GET, &review, &[], "").await.json();
    let standings: Vec<&str> = json["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .map(|a| a["standing"].as_str().expect("standing"))
        .collect();
    assert_eq!(standings, ["sign-in-first", "sign-in-first", "may"]);

    let (session, back) = sign_in(&app, &review, "alice@example.com").await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.text);
    assert!(
        back.header("location")
            .is_some_and(|l| l.ends_with(&format!("/respond?{}", query_of(&review)))),
        "back to the review page: {:?}",
        back.header("location")
    );
    let page = app
        .follow(Method::GET, &review, &[HTML, ("cookie", &session)], "")
        .await;
    assert!(
        page.text
            .contains("Signed in as <strong>alice@example.com</strong>")
            && page
                .text
                .contains("alice@example.com is not among the approvers.")
            && !page.text.contains("Sign in to continue"),
        "{}",
        page.text
    );
    assert_eq!(
        page.text.matches("<form method=\"post\"").count(),
        2,
        "approve and ping"
    );

    app.follow(
        Method::POST,
        &format!("{review}&action=reject&type=failure"),
        &[("cookie", &session)],
        "",
    )
    .await
    .assert_error(403, "NotAnApprover");

    // Someone no deciding choice admits: the page says so and asks Step
    // Functions nothing.
    let (carol, _) = sign_in(&app, &review, "carol@example.com").await;
    let heartbeats = app.sfn.heartbeats();
    let page = app
        .follow(Method::GET, &review, &[HTML, ("cookie", &carol)], "")
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_eq!(
        page.text
            .matches("carol@example.com is not among the approvers.")
            .count(),
        2,
        "{}",
        page.text
    );
    assert_eq!(app.sfn.heartbeats(), heartbeats, "no probe for carol");
    let done = app
        .follow(
            Method::POST,
            &format!("{review}&action=approve&type=success"),
            &[("cookie", &session)],
            "",
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    let calls = app.sfn.decisions();
    let [EngineCall::Success { output, .. }] = calls.as_slice() else {
        panic!("{calls:?}");
    };
    let output: Value = serde_json::from_str(output).expect("json");
    assert_eq!(output["approver"]["email"], "alice@example.com", "{output}");
}
