//! The runnable examples in `examples/`: each folder's state machine runs on
//! moto_server, the mail or message it sends is read back from moto, the
//! link in it is followed, and the execution's result is checked.
//!
//! moto cannot run Lambda functions here (it would need Docker): with
//! `lambda.use_docker` off, a `lambda:invoke.waitForTaskToken` Task
//! "invokes" without running anything and waits for its token. [`Lab`]
//! plays the CreateUrls function: it reads each such Task's payload from
//! the execution history and gives it to the service, as the invoke of the
//! deployed state machine would. A CreateUrls error fails the Task with
//! the error's name, as a function error does.
//!
//! What answers the invoke is a [`CreateUrls`] deployment: `serve` by
//! default ([`Lab::start`]), or any other ([`Lab::start_with`]), such as
//! the binary in Lambda mode taking direct invokes.

mod durable_approval;
mod function_url;
mod human_approval;
mod parallel_approvers;
mod slack_approval;
mod sns_approval;
mod webhook;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_sdk_sfn::types::{ExecutionStatus, HistoryEventType};
use serde_json::Value;

use super::moto::{Moto, Server, http, next_message, sent_mail, serve};

/// What a deployment answered to a CreateUrls invoke.
#[derive(Debug)]
pub enum Invoked {
    /// The CreateUrls output.
    Output(Value),
    /// An error: its name (the function error's type) and message.
    Error { name: String, message: String },
}

/// A deployment that takes CreateUrls requests as the Task's invoke would
/// deliver them.
pub trait CreateUrls: Sync {
    /// Answers one CreateUrls request, the Task's payload.
    fn create_urls(&self, payload: &Value) -> impl Future<Output = Invoked> + Send;
}

/// `serve` takes CreateUrls as `POST /urls`.
impl CreateUrls for Server {
    async fn create_urls(&self, payload: &Value) -> Invoked {
        let reply = http()
            .post(format!("{}/urls", self.base))
            .json(payload)
            .send()
            .await
            .expect("CreateUrls");
        let status = reply.status();
        let body: Value = reply.json().await.expect("json");
        if status.is_success() {
            return Invoked::Output(body);
        }
        Invoked::Error {
            name: body["error"].as_str().unwrap_or("Error").to_owned(),
            message: body["message"].as_str().unwrap_or_default().to_owned(),
        }
    }
}

/// The notify settings of every example deployment: mail from
/// `@example.com` to `corp.example`.
pub const NOTIFY_ENVS: [(&str, &str); 2] = [
    ("NOTIFY_EMAIL_FROM", "approvals@example.com,@example.com"),
    ("NOTIFY_EMAIL_TO_DOMAINS", "corp.example"),
];

/// moto answers `SendTaskHeartbeat` with `InvalidToken` for a task that
/// sets no `HeartbeatSeconds`, which Step Functions accepts (it only has no
/// clock to restart). The examples' approval tasks set none, so on moto a
/// GET's probe would find every one of them closed: their deployments run
/// with the probe off. The probe itself is tested on the harness's state
/// machine, which sets `HeartbeatSeconds` (`it::browser`, `it::e2e_moto`).
pub const PROBE_OFF: (&str, &str) = ("GET_PROBE", "false");

/// The ARN the examples' definitions invoke, `${CreateUrlsFunctionArn}`.
pub const FUNCTION_ARN: &str =
    "arn:aws:lambda:us-east-1:123456789012:function:sfn-callbacks-create";

/// `examples/<example>/state-machine.asl.json`, with
/// `${CreateUrlsFunctionArn}` and `substitutions` filled in.
pub fn state_machine_definition(example: &str, substitutions: &[(&str, &str)]) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(example)
        .join("state-machine.asl.json");
    let mut definition = std::fs::read_to_string(&path).expect("definition");
    for (name, value) in [("CreateUrlsFunctionArn", FUNCTION_ARN)]
        .iter()
        .chain(substitutions)
    {
        definition = definition.replace(&format!("${{{name}}}"), value);
    }
    assert!(
        !definition.contains("${"),
        "{example}: a substitution is missing"
    );
    serde_json::from_str::<Value>(&definition).expect("the definition is JSON");
    definition
}

/// moto, SES set up to send as `@example.com`, and the deployment that
/// answers CreateUrls (`serve` unless told otherwise).
pub struct Lab<D = Server> {
    pub moto: Moto,
    pub server: D,
    pub sns: aws_sdk_sns::Client,
    topics: HashMap<String, String>,
    delivered: Mutex<HashSet<(String, i64)>>,
}

impl Lab<Server> {
    /// Starts moto and `serve` with `envs` added to [`NOTIFY_ENVS`].
    pub async fn start(envs: &[(&str, &str)]) -> Option<Self> {
        Self::start_with_topics(&[], envs).await
    }

    /// [`Lab::start`], with an SNS topic made for each of `topics` and the
    /// deployment allowed to publish to them (`NOTIFY_SNS_TOPICS`); their
    /// ARNs are [`Lab::topic`].
    pub async fn start_with_topics(topics: &[&str], envs: &[(&str, &str)]) -> Option<Self> {
        Self::start_with(topics, envs, async |moto: &Moto, envs: &[(&str, &str)]| {
            serve(&moto.aws, moto.dir.path(), "serve", envs).await
        })
        .await
    }
}

/// Verifies the SES identity `example.com`, the domain of the senders in
/// [`NOTIFY_ENVS`].
pub async fn verify_example_com(moto: &Moto) {
    aws_sdk_sesv2::Client::new(&moto.aws.config)
        .create_email_identity()
        .email_identity("example.com")
        .send()
        .await
        .expect("SES identity");
}

impl<D: CreateUrls> Lab<D> {
    /// Starts moto, verifies the SES identity `example.com`, makes the SNS
    /// `topics`, then has `deploy` start the deployment with
    /// [`NOTIFY_ENVS`], [`PROBE_OFF`], the topics in `NOTIFY_SNS_TOPICS`,
    /// and `envs`.
    pub async fn start_with(
        topics: &[&str],
        envs: &[(&str, &str)],
        deploy: impl AsyncFnOnce(&Moto, &[(&str, &str)]) -> D,
    ) -> Option<Self> {
        let moto = Moto::start().await?;
        verify_example_com(&moto).await;
        let sns = aws_sdk_sns::Client::new(&moto.aws.config);
        let mut arns = HashMap::new();
        for name in topics {
            let arn = sns
                .create_topic()
                .name(*name)
                .send()
                .await
                .expect("topic")
                .topic_arn
                .expect("topic ARN");
            arns.insert((*name).to_owned(), arn);
        }
        let allowed = arns.values().cloned().collect::<Vec<_>>().join(",");
        let mut all = NOTIFY_ENVS.to_vec();
        all.push(PROBE_OFF);
        if !topics.is_empty() {
            all.push(("NOTIFY_SNS_TOPICS", &allowed));
        }
        all.extend_from_slice(envs);
        let server = deploy(&moto, &all).await;
        Some(Self {
            moto,
            server,
            sns,
            topics: arns,
            delivered: Mutex::new(HashSet::new()),
        })
    }

    /// The ARN of a topic made by [`Lab::start_with_topics`].
    pub fn topic(&self, name: &str) -> &str {
        self.topics
            .get(name)
            .unwrap_or_else(|| panic!("no topic {name}: start_with_topics makes it"))
    }

    /// Subscribes a new SQS queue named `queue` to the topic, as a mail
    /// address or another system would subscribe (SNS's JSON envelope, not
    /// raw delivery); the queue's URL, for [`Lab::next_message`].
    pub async fn subscribe_queue(&self, topic_arn: &str, queue: &str) -> String {
        let sqs = &self.moto.aws.sqs;
        let url = sqs
            .create_queue()
            .queue_name(queue)
            .send()
            .await
            .expect("queue")
            .queue_url
            .expect("queue URL");
        let attributes = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("queue attributes")
            .attributes
            .unwrap_or_default();
        let queue_arn = &attributes[&aws_sdk_sqs::types::QueueAttributeName::QueueArn];
        self.sns
            .subscribe()
            .topic_arn(topic_arn)
            .protocol("sqs")
            .endpoint(queue_arn)
            .send()
            .await
            .expect("subscribe");
        url
    }

    /// Takes the next message off a queue of [`Lab::subscribe_queue`]: the
    /// SNS envelope, with `Message`, `Subject` (absent when none was
    /// given), `MessageId` and `TopicArn`.
    pub async fn next_message(&self, queue_url: &str) -> Value {
        next_message(&self.moto.aws.sqs, queue_url).await
    }

    /// Creates the state machine of `examples/<example>`, with
    /// `substitutions` (see [`state_machine_definition`]).
    pub async fn state_machine(&self, example: &str, substitutions: &[(&str, &str)]) -> String {
        self.moto
            .aws
            .sfn
            .create_state_machine()
            .name(example)
            .role_arn("arn:aws:iam::123456789012:role/example")
            .definition(state_machine_definition(example, substitutions))
            .send()
            .await
            .expect("state machine")
            .state_machine_arn
    }

    /// Starts an execution named `name`.
    pub async fn run(&self, state_machine: &str, name: &str, input: &Value) -> String {
        self.moto
            .aws
            .sfn
            .start_execution()
            .state_machine_arn(state_machine)
            .name(name)
            .input(input.to_string())
            .send()
            .await
            .expect("start")
            .execution_arn
    }

    /// Starts an execution whose first state is one CreateUrls Task, and
    /// plays that Task's invoke: the execution and the CreateUrls answer.
    pub async fn run_one_task(
        &self,
        state_machine: &str,
        name: &str,
        input: &Value,
    ) -> (String, Value) {
        let execution = self.run(state_machine, name, input).await;
        let [created] = self
            .invoke_create_urls(&execution, 1)
            .await
            .try_into()
            .expect("one task");
        (execution, created)
    }

    /// Plays the CreateUrls function for every Lambda task of `execution`
    /// not yet served, waiting until there are `expected` in all; the
    /// CreateUrls answers, in order.
    pub async fn invoke_create_urls(&self, execution: &str, expected: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut answers = Vec::new();
        loop {
            let history = self
                .moto
                .aws
                .sfn
                .get_execution_history()
                .execution_arn(execution)
                .send()
                .await
                .expect("history");
            for event in history.events {
                if event.r#type != HistoryEventType::TaskScheduled {
                    continue;
                }
                let details = event.task_scheduled_event_details.expect("details");
                if details.resource_type != "lambda"
                    || details.resource != "invoke.waitForTaskToken"
                {
                    continue;
                }
                if !self
                    .delivered
                    .lock()
                    .expect("lock")
                    .insert((execution.to_owned(), event.id))
                {
                    continue;
                }
                let parameters: Value =
                    serde_json::from_str(&details.parameters).expect("parameters");
                assert_eq!(parameters["FunctionName"], FUNCTION_ARN);
                answers.push(self.create_urls(&parameters["Payload"]).await);
            }
            if answers.len() >= expected {
                return answers;
            }
            assert!(
                Instant::now() < deadline,
                "{execution}: {} of {expected} CreateUrls tasks",
                answers.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// [`Lab::invoke_create_urls`] for an execution with one Lambda task
    /// (so far): its CreateUrls answer.
    pub async fn invoke_create_urls_once(&self, execution: &str) -> Value {
        let [answer] = self
            .invoke_create_urls(execution, 1)
            .await
            .try_into()
            .unwrap_or_else(|all: Vec<Value>| panic!("one CreateUrls task, not {}", all.len()));
        answer
    }

    async fn create_urls(&self, payload: &Value) -> Value {
        match self.server.create_urls(payload).await {
            Invoked::Output(output) => output,
            Invoked::Error { name, message } => {
                self.moto
                    .aws
                    .sfn
                    .send_task_failure()
                    .task_token(payload["token"].as_str().expect("token"))
                    .error(&name)
                    .cause(&message)
                    .send()
                    .await
                    .expect("the function error fails the task");
                serde_json::json!({"error": name, "message": message})
            }
        }
    }

    /// The mail moto's SES was asked to send to `address`.
    pub async fn mail_to(&self, address: &str) -> Vec<Value> {
        sent_mail(&self.moto.aws.endpoint, Some(address)).await
    }

    /// The one mail moto's SES was asked to send to `address`.
    pub async fn only_mail_to(&self, address: &str) -> Value {
        let mail = self.mail_to(address).await;
        let [message] = mail.as_slice() else {
            panic!("one mail to {address}: {mail:?}");
        };
        message.clone()
    }

    /// Waits for the execution to end.
    pub async fn finished(
        &self,
        execution: &str,
    ) -> aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput {
        self.moto.aws.finished(execution).await
    }

    /// Asserts the execution is still waiting.
    pub async fn assert_running(&self, execution: &str, why: &str) {
        self.moto.aws.assert_running(execution, why).await;
    }
}

/// The link of `action` in an HTML part, unescaped as a mail client would.
pub fn link_in_html(html: &str, action: &str) -> String {
    let marker = format!("/respond?action={action}&amp;");
    let at = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {action} link in {html}"));
    let start = html[..at].rfind('"').expect("an href") + 1;
    let end = start + html[start..].find('"').expect("the end of the href");
    html[start..end].replace("&amp;", "&")
}

/// The link of `action` in a plain-text message.
pub fn link_in_text(text: &str, action: &str) -> String {
    let marker = format!("/respond?action={action}&");
    let line = text
        .lines()
        .find(|l| l.contains(&marker))
        .unwrap_or_else(|| panic!("no {action} link in {text}"));
    let start = line.find("http").expect("a URL");
    line[start..]
        .split_whitespace()
        .next()
        .expect("the URL")
        .to_owned()
}

/// The execution's output as JSON.
pub fn output(out: &aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput) -> Value {
    super::moto::output_of(out)
}

/// Asserts the execution ended with `status`.
pub fn assert_status(
    out: &aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput,
    status: ExecutionStatus,
) {
    assert_eq!(out.status, status, "{out:?}");
}
