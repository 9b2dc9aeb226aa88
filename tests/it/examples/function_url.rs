//! `examples/function-url`: the human approval behind a Lambda Function
//! URL, as `infra/template.yaml` deploys it with `FrontDoor=FunctionUrl`.
//! Two copies of the binary run in Lambda mode against fake Runtime APIs:
//! the CreateUrls function, which the Task invokes directly, and the
//! callback function, which the public Function URL's events reach with
//! `CREATE_URLS_OVER_HTTP=false`. Both use moto's KMS, SES and Step
//! Functions.

use aws_sdk_sfn::types::ExecutionStatus;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use super::human_approval::assert_released;
use super::{CreateUrls, Invoked, Lab, assert_status, link_in_html};
use crate::it::lambda_runtime::{Answer, LambdaFunction, fixture};
use crate::it::moto::Moto;

/// The Function URL's host in `tests/data/function_url_*.json`.
const HOST: &str = "q2w3e4r5t6y7u8i9o0p1a2s3d4f5g6h7.lambda-url.us-east-1.on.aws";

/// The stack's two functions.
struct FunctionUrlStack {
    /// `CreateUrlsFunction`: direct invokes; `BASE_URL` is the Function URL.
    create_urls: LambdaFunction,
    /// `CallbackFunction`: behind the public Function URL.
    callbacks: LambdaFunction,
}

impl FunctionUrlStack {
    /// Starts both functions with the template's settings for
    /// `FrontDoor=FunctionUrl` (and its default `KeyMode=kms-envelope`).
    async fn deploy(moto: &Moto, envs: &[(&str, &str)]) -> Self {
        let mut shared = vec![
            ("AWS_ENDPOINT_URL", moto.aws.endpoint.as_str()),
            ("KEY_MODE", "kms-envelope"),
            ("KMS_KEY_ID", moto.aws.kms_key.as_str()),
            ("RUST_LOG", "info"),
        ];
        shared.extend_from_slice(envs);
        // `!GetAtt CallbackFunctionUrl.FunctionUrl` ends with a slash.
        let base_url = format!("https://{HOST}/");
        let mut create = shared.clone();
        create.push(("BASE_URL", &base_url));
        let mut callbacks = shared;
        callbacks.push(("CREATE_URLS_OVER_HTTP", "false"));
        let dir = moto.dir.path();
        Self {
            create_urls: LambdaFunction::start(
                "sfn-callbacks-create",
                &create,
                Some(&dir.join("create-urls.log")),
            )
            .await,
            callbacks: LambdaFunction::start(
                "sfn-callbacks-callbacks",
                &callbacks,
                Some(&dir.join("callbacks.log")),
            )
            .await,
        }
    }

    /// A request to the Function URL, as the callback function receives it.
    async fn request(&self, event: Value) -> Value {
        match self.callbacks.invoke(event).await {
            Answer::Response(response) => response,
            Answer::Error(error) => panic!("the Function URL gets a function error: {error}"),
        }
    }
}

/// The Task's `lambda:invoke` hands the payload to the CreateUrls function
/// as its event.
impl CreateUrls for FunctionUrlStack {
    async fn create_urls(&self, payload: &Value) -> Invoked {
        match self.create_urls.invoke(payload.clone()).await {
            Answer::Response(output) => Invoked::Output(output),
            Answer::Error(error) => Invoked::Error {
                name: error["errorType"].as_str().expect("errorType").to_owned(),
                message: error["errorMessage"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            },
        }
    }
}

/// A browser's request for `url` through the Function URL: the event
/// Lambda makes of it (payload format 2.0, a form body in base64).
fn function_url_event(method: &str, url: &str, form: Option<&str>) -> Value {
    let url = url::Url::parse(url).expect("a URL");
    assert_eq!(
        url.host_str(),
        Some(HOST),
        "{url} is not on the Function URL"
    );
    let mut event = fixture("function_url_post_respond.json");
    let query = url.query().unwrap_or_default();
    let parameters: Map<String, Value> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect();
    event["rawPath"] = json!(url.path());
    event["rawQueryString"] = json!(query);
    event["queryStringParameters"] = Value::Object(parameters);
    event["requestContext"]["http"]["method"] = json!(method);
    event["requestContext"]["http"]["path"] = json!(url.path());
    event["headers"]["accept"] = json!("text/html,application/xhtml+xml");
    let headers = event["headers"].as_object_mut().expect("headers");
    match form {
        Some(form) => {
            event["body"] = json!(STANDARD.encode(form));
            event["isBase64Encoded"] = json!(true);
        }
        None => {
            headers.remove("content-type");
            let event = event.as_object_mut().expect("event");
            event.remove("body");
            event.insert("isBase64Encoded".into(), json!(false));
        }
    }
    event
}

fn body_of(response: &Value) -> String {
    let body = response["body"].as_str().expect("body");
    if response["isBase64Encoded"] == true {
        String::from_utf8(STANDARD.decode(body).expect("base64")).expect("utf-8")
    } else {
        body.to_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_links_work_through_the_function_url() {
    let Some(lab) = Lab::start_with(&[], &[], FunctionUrlStack::deploy).await else {
        return;
    };
    let stack = &lab.server;
    let machine = lab.state_machine("human-approval", &[]).await;

    // The public Function URL does not take CreateUrls, so nobody on the
    // internet can mail from the deployment's identity.
    let mut post_urls = fixture("function_url_post_urls.json");
    post_urls["body"] = json!(
        json!({
            "token": "QUJDREVGR0g=",
            "actions": [{"name": "approve", "type": "success", "output": {}}],
            "notify": {"email": {"to": "cto@corp.example"}},
        })
        .to_string()
    );
    let refused = stack.request(post_urls).await;
    assert_eq!(refused["statusCode"], 404, "{refused}");
    let body: Value = serde_json::from_str(&body_of(&refused)).expect("json");
    assert_eq!(body["error"], "InvalidRequest", "{body}");

    // The Task's direct invoke makes the links and mails them.
    let (approved, created) = lab
        .run_one_task(
            &machine,
            "approve-v5",
            &json!({"release": "v5.2", "approver": "cto@corp.example"}),
        )
        .await;
    assert_eq!(created["notified"]["channel"], "email", "{created}");
    // One mail: from the Task, none from the refused request.
    let message = lab.only_mail_to("cto@corp.example").await;
    let approve = link_in_html(message["body"].as_str().expect("html"), "approve");
    assert_eq!(approve, created["urls"]["approve"].as_str().expect("url"));
    assert!(
        approve.starts_with(&format!("https://{HOST}/respond?action=approve&")),
        "{approve}"
    );

    // The link's GET: the confirmation page, deciding nothing.
    let page = stack
        .request(function_url_event("GET", &approve, None))
        .await;
    assert_eq!(page["statusCode"], 200, "{page}");
    assert!(
        page["headers"]["content-type"]
            .as_str()
            .is_some_and(|t| t.starts_with("text/html")),
        "{page}"
    );
    let html = body_of(&page);
    assert!(html.contains("Release v5.2 goes to production."), "{html}");
    assert!(html.contains("<form method=\"post\""), "{html}");
    lab.assert_running(&approved, "opening the page must not decide")
        .await;

    // The button: a 303 to the release page, and the run goes on.
    let pressed = stack
        .request(function_url_event("POST", &approve, Some("")))
        .await;
    assert_eq!(pressed["statusCode"], 303, "{pressed}");
    assert_eq!(
        pressed["headers"]["location"],
        "https://intranet.example.com/releases/v5.2?decision=approved"
    );
    assert_released(&lab, &approved).await;

    // Pressed again, the task is closed.
    let again = stack
        .request(function_url_event("POST", &approve, Some("")))
        .await;
    assert_eq!(again["statusCode"], 410, "{again}");

    // A CreateUrls error is a function error, and fails the Task by name.
    let (outsider, refused) = lab
        .run_one_task(
            &machine,
            "approve-v4",
            &json!({"release": "v4.0", "approver": "someone@elsewhere.example"}),
        )
        .await;
    assert_eq!(refused["error"], "NotifyNotAllowed", "{refused}");
    assert!(lab.mail_to("someone@elsewhere.example").await.is_empty());
    let done = lab.finished(&outsider).await;
    assert_status(&done, ExecutionStatus::Failed);
    assert_eq!(done.error.as_deref(), Some("NotifyNotAllowed"));
}
