//! Verified approvers end to end: the `oidc-provider` package (a certified
//! OpenID Provider, `tests/browser/provider.mjs`) on loopback, the binary,
//! moto's Step Functions, and Debian's Chromium signing people in.
//!
//! Needs what `browser.rs` needs, plus `oidc-provider` in
//! `tests/browser/node_modules` (the test command installs it). Without
//! them the test says so and passes, unless `SFN_CALLBACKS_REQUIRE_BROWSER=1`.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use aws_sdk_sfn::types::ExecutionStatus;
use serde_json::{Value, json};

use super::browser::{assert_accessible, drive, text, tools_present};
use super::moto::{Moto, Proc, Server, create, free_port, output_of, serve_on, url_of};
use super::support::query_param;

const CLIENT_ID: &str = "sfn-callbacks-tests";
const CLIENT_SECRET: &str = "a-client-secret-only-the-tests-know-0123456789";

/// The provider, stopped when dropped.
struct Provider {
    issuer: String,
    _proc: Proc,
}

impl Provider {
    fn start(dir: &Path, redirect_uri: &str) -> Option<Self> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/provider.mjs");
        let installed = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/browser/node_modules/oidc-provider")
            .exists();
        if !installed {
            assert!(
                std::env::var("SFN_CALLBACKS_REQUIRE_BROWSER").is_err(),
                "oidc-provider is required: run the README's test command, which installs it"
            );
            eprintln!(
                "SKIPPED: oidc-provider not installed (the README's test command installs it)"
            );
            return None;
        }
        let mut child = Command::new("node")
            .arg(script)
            .env("CLIENT_ID", CLIENT_ID)
            .env("CLIENT_SECRET", CLIENT_SECRET)
            .env("REDIRECT_URIS", redirect_uri)
            .env("PORT", "0")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(dir.join("provider.log")).expect("log"))
            .spawn()
            .expect("spawn node provider.mjs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the issuer line");
        let announced: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("provider.mjs said {line:?} ({e})"));
        Some(Self {
            issuer: announced["issuer"].as_str().expect("issuer").to_owned(),
            _proc: Proc {
                child,
                name: "oidc-provider",
            },
        })
    }

    async fn post(&self, path: &str, body: &Value) -> Value {
        let reply = reqwest::Client::new()
            .post(format!("{}{path}", self.issuer))
            .json(body)
            .send()
            .await
            .expect("provider control");
        assert!(reply.status().is_success(), "{path}: {}", reply.status());
        reply.json().await.expect("json")
    }

    async fn stats(&self) -> Value {
        reqwest::get(format!("{}/test/stats", self.issuer))
            .await
            .expect("stats")
            .json()
            .await
            .expect("json")
    }

    async fn count(&self, path: &str) -> u64 {
        self.stats().await[path].as_u64().unwrap_or(0)
    }

    async fn id_token(&self, claims: Value) -> String {
        self.post("/test/id-token", &claims).await["id_token"]
            .as_str()
            .expect("id_token")
            .to_owned()
    }
}

/// A program's HTTP client with a cookie jar that follows no redirects, so
/// each hop can be looked at.
fn jar() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn location(reply: &reqwest::Response) -> String {
    reply
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no location: {}", reply.status()))
        .to_owned()
}

/// Signs `email` in over HTTP as a program driving the provider's
/// development pages: returns the callback URL with code and state, for
/// tests that replay or alter it.
async fn sign_in_answer(
    client: &reqwest::Client,
    server: &Server,
    link: &str,
    email: &str,
) -> String {
    let query = link.split_once('?').expect("query").1;
    let login = client
        .get(format!("{}/auth/login?{query}", server.base))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), 303);
    let callback = format!("{}/auth/callback", server.base);
    let mut at = location(&login);
    for _ in 0..12 {
        if at.starts_with(&callback) {
            return at;
        }
        let reply = client.get(&at).send().await.expect("provider");
        if reply.status().is_redirection() {
            let next = location(&reply);
            at = url::Url::parse(&at)
                .expect("url")
                .join(&next)
                .expect("join")
                .into();
            continue;
        }
        let page = reply.text().await.expect("page");
        let form: Vec<(&str, &str)> = if page.contains("name=\"login\"") {
            vec![
                ("prompt", "login"),
                ("login", email),
                ("password", "anything"),
            ]
        } else {
            vec![("prompt", "consent")]
        };
        let posted = client.post(&at).form(&form).send().await.expect("form");
        assert!(
            posted.status().is_redirection(),
            "{at}: {}",
            posted.status()
        );
        let next = location(&posted);
        at = url::Url::parse(&at)
            .expect("url")
            .join(&next)
            .expect("join")
            .into();
    }
    panic!("the provider never sent us back");
}

/// The `kid` of a JWT's header.
fn header_kid(jwt: &str) -> String {
    use base64::Engine as _;
    let header = jwt.split('.').next().unwrap_or_default();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .unwrap_or_default();
    serde_json::from_slice::<Value>(&bytes).unwrap_or_default()["kid"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn session_of(reply: &reqwest::Response) -> Option<String> {
    reply
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("sfncb-session="))
        .and_then(|c| c.split(';').next())
        .map(|pair| pair.trim_start_matches("sfncb-session=").to_owned())
}

fn bound(token: &str, actions: Value, gate: Value) -> Value {
    let mut body = json!({"token": token, "actions": actions});
    if let (Some(body), Some(gate)) = (body.as_object_mut(), gate.as_object()) {
        body.extend(gate.clone());
    }
    body
}

/// Starts an execution for `case` and makes its links, bound by `gate`;
/// the execution's ARN and the approve link.
async fn bound_link(
    moto: &mut Moto,
    server: &Server,
    case: &str,
    actions: Value,
    gate: Value,
) -> (String, String) {
    let (arn, token) = moto.aws.start(case).await;
    let created = create(server, &bound(&token, actions, gate)).await;
    (arn, url_of(&created, "approve"))
}

fn approve_only() -> Value {
    json!([{"name": "approve", "type": "success", "output": {"approved": true}, "label": "Approve release 1.2"}])
}

async fn post_with(url: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("accept", "application/json");
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let reply = request.send().await.expect("post");
    let status = reply.status().as_u16();
    let text = reply.text().await.expect("text");
    (
        status,
        serde_json::from_str(&text).unwrap_or(json!({"raw": text})),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvers_sign_in_with_a_real_provider_and_only_they_decide() {
    if !tools_present() {
        return;
    }
    let Some(mut moto) = Moto::start().await else {
        return;
    };
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let Some(provider) = Provider::start(moto.dir.path(), &format!("{base}/auth/callback")) else {
        return;
    };
    let keyring = super::support::keyring().to_json();
    let server = serve_on(
        port,
        &moto.aws.endpoint,
        moto.dir.path(),
        "serve-oidc",
        &[
            ("KEYRING", keyring.as_str()),
            ("BASE_URL", base.as_str()),
            ("OIDC_ISSUER", provider.issuer.as_str()),
            ("OIDC_CLIENT_ID", CLIENT_ID),
            ("OIDC_CLIENT_SECRET", CLIENT_SECRET),
            ("OIDC_SCOPES", "openid email profile groups"),
        ],
    )
    .await;
    // Secrets seen during the test, none of which may reach the log.
    let mut secrets: Vec<String> = vec![CLIENT_SECRET.to_owned()];

    // 1. Alice signs in in Chromium and approves; her name is on the page
    //    and in the output.
    let (alice_arn, approve) = bound_link(&mut moto, &server, "oidc-alice", json!([
                {"name": "approve", "type": "success", "output": {"approved": true}, "label": "Approve release 1.2"},
                {"name": "reject", "type": "failure", "error": "Rejected"}
            ]), json!({"approvers": {"emails": ["alice@example.com", "rita@example.com"]}, "requester": "rita@example.com"})).await;
    let seen = drive(&[
        json!({"do": "visit", "url": approve, "shot": "oidc-01-sign-in", "context": "alice", "axe": true}),
        json!({"do": "sign-in-approve", "url": approve, "login": "alice@example.com", "press": false, "context": "alice", "shot": "oidc-02-signed-in", "axe": true}),
        json!({"do": "cookies", "context": "alice"}),
        json!({"do": "approve", "url": approve, "context": "alice", "shot": "oidc-03-approved", "axe": true}),
    ]);
    for (page, seen) in [
        ("sign-in", &seen[0]),
        ("signed-in", &seen[1]),
        ("approved", &seen[3]),
    ] {
        assert_accessible(page, seen);
    }
    assert!(
        text(&seen[0]).contains("Sign in to continue"),
        "{}",
        seen[0]
    );
    assert!(
        text(&seen[1]).contains("Signed in as alice@example.com"),
        "{}",
        seen[1]
    );
    let cookies = seen[2].as_array().expect("cookies");
    let session = cookies
        .iter()
        .find(|c| c["name"] == "sfncb-session")
        .unwrap_or_else(|| panic!("no session cookie: {cookies:?}"));
    assert_eq!(session["httpOnly"], true, "{session}");
    assert_eq!(session["sameSite"], "Lax", "{session}");
    assert_eq!(session["path"], "/", "{session}");
    assert_eq!(seen[3]["heading"], "Response accepted!", "{}", seen[3]);
    let out = moto.aws.finished(&alice_arn).await;
    assert_eq!(out.status, ExecutionStatus::Succeeded);
    let output = output_of(&out);
    assert_eq!(output["approved"], true);
    assert_eq!(output["approver"]["email"], "alice@example.com", "{output}");
    assert_eq!(output["approver"]["sub"], "alice");
    assert_eq!(output["approver"]["name"], "Alice Approver");
    assert_eq!(output["approver"]["iss"], provider.issuer.as_str());

    // 2. Bob and the requester (listed, but the requester) get 403 and the
    //    execution stays RUNNING.
    let (arn, approve) = bound_link(&mut moto, &server, "oidc-refused", approve_only(), json!({"approvers": {"emails": ["alice@example.com", "rita@example.com"]}, "requester": "rita@example.com"})).await;
    let seen = drive(&[
        json!({"do": "sign-in-approve", "url": approve, "login": "bob@example.com", "press": false, "shot": "oidc-04-bob", "axe": true}),
        json!({"do": "sign-in-approve", "url": approve, "login": "rita@example.com", "press": false, "shot": "oidc-05-requester"}),
        // Alice signs in, and her session is gone when she presses.
        json!({"do": "sign-in-approve", "url": approve, "login": "alice@example.com", "press": false, "context": "late"}),
        json!({"do": "approve", "url": approve, "context": "late", "before": "clear-cookies", "shot": "oidc-07-session-gone", "axe": true}),
        json!({"do": "visit", "url": format!("{base}/auth/callback?state=forged&code=forged"), "shot": "oidc-08-sign-in-failed", "axe": true}),
    ]);
    assert_accessible("not-an-approver", &seen[0]);
    assert_eq!(seen[3]["status"], 401, "{}", seen[3]);
    assert_eq!(seen[3]["heading"], "Please sign in first", "{}", seen[3]);
    assert_accessible("sign-in-required", &seen[3]);
    assert_eq!(seen[4]["status"], 400, "{}", seen[4]);
    assert_eq!(
        seen[4]["heading"], "Sign-in did not complete",
        "{}",
        seen[4]
    );
    assert_accessible("sign-in-failed", &seen[4]);
    for (who, page) in [("bob", &seen[0]), ("rita", &seen[1])] {
        assert_eq!(page["status"], 403, "{who}: {page}");
        assert_eq!(
            page["heading"], "You cannot answer this request",
            "{who}: {page}"
        );
    }
    moto.aws
        .assert_running(
            &arn,
            "a person who is not an approver, or the requester, decides nothing",
        )
        .await;

    // 3. A domain rule and a group rule each let the right person through.
    for (case, rule, email) in [
        (
            "oidc-domain",
            json!({"domains": ["leads.example.com"]}),
            "dana@leads.example.com",
        ),
        (
            "oidc-group",
            json!({"groups": ["release-managers"]}),
            "carol@example.com",
        ),
    ] {
        let (arn, approve) = bound_link(
            &mut moto,
            &server,
            case,
            approve_only(),
            json!({"approvers": rule}),
        )
        .await;
        let seen = drive(&[
            json!({"do": "sign-in-approve", "url": approve, "login": email, "press": true, "shot": case}),
        ]);
        assert_eq!(
            seen[0]["heading"], "Response accepted!",
            "{case}: {}",
            seen[0]
        );
        let out = moto.aws.finished(&arn).await;
        assert_eq!(output_of(&out)["approver"]["email"], email, "{case}");
    }

    // 4. One click with approvers: to the provider at once, back, done.
    let (arn, approve) = bound_link(&mut moto, &server, "oidc-one-click", json!([{"name": "approve", "type": "success", "output": {"approved": true}, "one_click": true}]), json!({"approvers": {"emails": ["alice@example.com"]}})).await;
    let seen = drive(&[
        json!({"do": "sign-in-approve", "url": approve, "login": "alice@example.com", "press": false, "shot": "oidc-06-one-click"}),
    ]);
    assert_eq!(seen[0]["heading"], "Response accepted!", "{}", seen[0]);
    assert_eq!(
        output_of(&moto.aws.finished(&arn).await)["approver"]["email"],
        "alice@example.com"
    );

    // 5. Programs: a bearer ID token from the provider acts; without one,
    //    or with a bad one, nothing is sent.
    let (arn, approve) = bound_link(
        &mut moto,
        &server,
        "oidc-bearer",
        approve_only(),
        json!({"approvers": {"emails": ["alice@example.com"]}}),
    )
    .await;
    let (status, body) = post_with(&approve, &[]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("SignInRequired")),
        "{body}"
    );
    // Keys rotate at the provider: a token under the new kid refetches the
    // JWKS once and verifies (alice's, below, acts).
    let jwks_before = provider.count("/jwks").await;
    provider.post("/test/rotate", &json!({})).await;
    let now = provider
        .id_token(json!({"email": "alice@example.com"}))
        .await;
    assert!(
        header_kid(&now) == "k2",
        "signed with the new key: {}",
        header_kid(&now)
    );
    secrets.push(now.clone());
    let rotated = provider
        .id_token(json!({"email": "erin@example.com", "email_verified": false}))
        .await;
    secrets.push(rotated.clone());
    let (status, body) =
        post_with(&approve, &[("authorization", &format!("Bearer {rotated}"))]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("NotAnApprover")),
        "an unverified email matches no email rule: {body}"
    );
    assert_eq!(
        provider.count("/jwks").await,
        jwks_before + 1,
        "one JWKS fetch for the new kid"
    );
    let bad_tokens = [
        (
            "wrong aud",
            json!({"email": "alice@example.com", "aud": "someone-else"}),
        ),
        (
            "wrong iss",
            json!({"email": "alice@example.com", "iss": "http://127.0.0.1:1/evil"}),
        ),
        (
            "expired",
            json!({"email": "alice@example.com", "exp_offset_secs": -600}),
        ),
        (
            "alg none",
            json!({"email": "alice@example.com", "alg": "none"}),
        ),
        (
            "HS256 with the client secret",
            json!({"email": "alice@example.com", "alg": "HS256"}),
        ),
        (
            "unknown key",
            json!({"email": "alice@example.com", "kid": "unknown"}),
        ),
    ];
    for (why, claims) in bad_tokens {
        let jwt = provider.id_token(claims).await;
        secrets.push(jwt.clone());
        let (status, body) =
            post_with(&approve, &[("authorization", &format!("Bearer {jwt}"))]).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("SignInRequired")),
            "{why}: {body}"
        );
    }
    moto.aws.assert_running(&arn, "no bad token decides").await;
    let before = provider.stats().await;
    let (status, body) = post_with(&approve, &[("authorization", &format!("Bearer {now}"))]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        provider.stats().await,
        before,
        "a verified callback calls the provider not at all"
    );
    assert_eq!(
        output_of(&moto.aws.finished(&arn).await)["approver"]["email"],
        "alice@example.com"
    );

    // 6. Sign-in answers replayed or altered get a clear error, no session.
    let (arn, approve) = bound_link(
        &mut moto,
        &server,
        "oidc-replay",
        approve_only(),
        json!({"approvers": {"emails": ["alice@example.com"]}}),
    )
    .await;
    let client = jar();
    let answer = sign_in_answer(&client, &server, &approve, "alice@example.com").await;
    let code = query_param(&answer, "code");
    secrets.push(code.clone());
    let mut altered = answer.clone();
    let at = altered.find("state=").expect("state") + 20;
    altered.replace_range(at..=at, if &answer[at..=at] == "A" { "B" } else { "A" });
    let reply = client
        .get(&altered)
        .header("accept", "application/json")
        .send()
        .await
        .expect("altered");
    assert_eq!(reply.status(), 400);
    assert!(session_of(&reply).is_none());
    let first = client.get(&answer).send().await.expect("callback");
    assert_eq!(
        first.status(),
        303,
        "{}",
        first.text().await.unwrap_or_default()
    );
    let session = session_of(&first).expect("a session");
    secrets.push(session.clone());
    assert_eq!(location(&first), approve, "back to the link");
    // The same answer again: the binding cookie is gone.
    let again = client
        .get(&answer)
        .header("accept", "application/json")
        .send()
        .await
        .expect("replay");
    assert_eq!(again.status(), 400);
    assert!(session_of(&again).is_none());
    // The code with a fresh sign-in's state: the provider refuses the used
    // code (and its PKCE verifier is not this sign-in's).
    let fresh_client = jar();
    let fresh = sign_in_answer(&fresh_client, &server, &approve, "alice@example.com").await;
    let fresh_state = query_param(&fresh, "state");
    let mut replayed = url::Url::parse(&format!("{}/auth/callback", server.base)).expect("url");
    replayed
        .query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", &fresh_state);
    let reply = fresh_client
        .get(replayed.as_str())
        .header("accept", "application/json")
        .send()
        .await
        .expect("code replay");
    assert_eq!(reply.status(), 400);
    let body: Value = reply.json().await.expect("json");
    assert_eq!(body["error"], "SignInFailed", "{body}");
    moto.aws
        .assert_running(&arn, "sign-in answers send nothing")
        .await;
    // The session from the real sign-in acts.
    let (status, body) =
        post_with(&approve, &[("cookie", &format!("sfncb-session={session}"))]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        moto.aws.finished(&arn).await.status,
        ExecutionStatus::Succeeded
    );

    // 7. The provider down: sign-in is 503, and the link works afterwards.
    let (arn, approve) = bound_link(
        &mut moto,
        &server,
        "oidc-down",
        approve_only(),
        json!({"approvers": {"emails": ["alice@example.com"]}}),
    )
    .await;
    provider.post("/test/down", &json!({})).await;
    // Discovery and the JWKS are cached, so sign-in fails only at the
    // token endpoint; whichever call fails, it is a 503.
    let client = jar();
    let query = approve.split_once('?').expect("query").1;
    let login = client
        .get(format!("{}/auth/login?{query}", server.base))
        .send()
        .await
        .expect("login");
    assert_eq!(
        login.status(),
        303,
        "discovery is cached: the redirect works"
    );
    let callback = {
        let mut url = url::Url::parse(&format!("{}/auth/callback", server.base)).expect("url");
        let state = query_param(&location(&login), "state");
        url.query_pairs_mut()
            .append_pair("code", "whatever")
            .append_pair("state", &state);
        url
    };
    let reply = client
        .get(callback.as_str())
        .header("accept", "application/json")
        .send()
        .await
        .expect("down");
    assert_eq!(reply.status(), 503);
    assert_eq!(
        reply
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("5")
    );
    provider.post("/test/up", &json!({})).await;
    let answer = sign_in_answer(&client, &server, &approve, "alice@example.com").await;
    let back = client.get(&answer).send().await.expect("callback");
    let session = session_of(&back).expect("session after the outage");
    secrets.push(session.clone());
    let (status, body) =
        post_with(&approve, &[("cookie", &format!("sfncb-session={session}"))]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        moto.aws.finished(&arn).await.status,
        ExecutionStatus::Succeeded
    );

    // The request log names the approver's sub and none of the secrets.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = std::fs::read_to_string(&server.log).expect("log");
    assert!(
        log.contains("\"approver\":\"alice\""),
        "the log names the approver's sub"
    );
    for secret in &secrets {
        assert!(!log.contains(secret.as_str()), "a secret reached the log");
        let head = &secret[..secret.len().min(24)];
        assert!(!log.contains(head), "a secret's start reached the log");
    }
}
