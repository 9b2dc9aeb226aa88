//! Notifications CreateUrls sends with the links: one email (through SES)
//! or one message to an SNS topic, rendered from Jinja templates
//! (minijinja) with the links and the caller's `context`.
//!
//! Everything here is pure: parsing the request's `notify`, checking it
//! against the deployment's allow-lists ([`NotifyPolicy`]), and rendering
//! the message. Sending is the [`crate::ports::Notifier`] port.
//!
//! Templates see `urls` (action name to URL), `actions` (a list of
//! `{name, type, label, description, url}`), `transaction_id`,
//! `expiration` (the caller's text, or none) and `context`. Undefined
//! variables are errors, HTML templates escape what they print, and
//! rendering has a fuel limit.

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::action::Action;
use super::create::CreateUrlsOutput;
use super::error::{ErrorCode, Rejection};
use super::template::escape_html;

/// The longest template, in bytes.
pub const MAX_TEMPLATE_BYTES: usize = 32 * 1024;
/// The most recipients of one email (SES's limit).
pub const MAX_RECIPIENTS: usize = 50;
/// The longest SNS subject (SNS's limit).
pub const MAX_SNS_SUBJECT_CHARS: usize = 100;
/// The longest rendered subject of an email.
pub const MAX_EMAIL_SUBJECT_CHARS: usize = 998;
/// Template work allowed for one rendering (minijinja fuel).
const FUEL: u64 = 100_000;

const DEFAULT_SUBJECT: &str = "Your decision is needed";
const DEFAULT_TEXT: &str = "\
A workflow is waiting for your decision.
{% for a in actions %}
{{ a.label }}{% if a.description %}: {{ a.description }}{% endif %}
{{ a.url }}
{% endfor %}{% if expiration %}
These links stop working at {{ expiration }}.
{% endif %}";
const DEFAULT_HTML: &str = "\
<!doctype html>
<html><body style=\"font-family: sans-serif\">
<p>A workflow is waiting for your decision.</p>
{% for a in actions %}<p><a href=\"{{ a.url }}\">{{ a.label }}</a>{% if a.description %}<br>{{ a.description }}{% endif %}</p>
{% endfor %}{% if expiration %}<p>These links stop working at {{ expiration }}.</p>
{% endif %}</body></html>";

/// What the deployment lets callers notify.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotifyPolicy {
    /// Allowed senders: an address, or `@domain` for any address there.
    /// The first address is the default sender. Empty: no email.
    pub email_from: Vec<String>,
    /// Allowed recipient domains, or `*` for any. Empty: no email.
    pub email_to_domains: Vec<String>,
    /// Allowed SNS topic ARNs, or `*` for any. Empty: no SNS.
    pub sns_topics: Vec<String>,
}

/// A checked `notify`.
#[derive(Debug, Clone, PartialEq)]
pub struct NotifySpec {
    /// Where it goes.
    pub channel: Channel,
    /// The caller's data for the templates.
    pub context: Value,
}

/// The one channel of a notification.
#[derive(Debug, Clone, PartialEq)]
pub enum Channel {
    /// An email through SES.
    Email(EmailSpec),
    /// A message to an SNS topic.
    Sns(SnsSpec),
}

/// An email's addresses and templates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailSpec {
    /// Recipients.
    pub to: Vec<String>,
    /// Copied recipients.
    pub cc: Vec<String>,
    /// Blind-copied recipients.
    pub bcc: Vec<String>,
    /// The sender, else the deployment's default.
    pub from: Option<String>,
    /// Subject template.
    pub subject: Option<String>,
    /// Plain-text body template.
    pub text: Option<String>,
    /// HTML body template.
    pub html: Option<String>,
}

/// An SNS message's topic and templates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnsSpec {
    /// The topic.
    pub topic_arn: String,
    /// Subject template (email subscribers see it).
    pub subject: Option<String>,
    /// Message template.
    pub message: Option<String>,
}

/// A rendered notification, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notification {
    /// An email.
    Email(Email),
    /// An SNS message.
    Sns(SnsMessage),
}

impl Notification {
    /// `email` or `sns`.
    pub fn channel(&self) -> &'static str {
        match self {
            Self::Email(_) => "email",
            Self::Sns(_) => "sns",
        }
    }
}

/// A rendered email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// The sender.
    pub from: String,
    /// Recipients.
    pub to: Vec<String>,
    /// Copied recipients.
    pub cc: Vec<String>,
    /// Blind-copied recipients.
    pub bcc: Vec<String>,
    /// The subject.
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
}

/// A rendered SNS message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnsMessage {
    /// The topic.
    pub topic_arn: String,
    /// The subject, if any.
    pub subject: Option<String>,
    /// The message.
    pub message: String,
}

/// What CreateUrls reports of a notification it sent.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Notified {
    /// `email` or `sns`.
    pub channel: String,
    /// The SES or SNS message id.
    pub message_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNotify {
    email: Option<RawEmail>,
    sns: Option<RawSns>,
    context: Option<Value>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(one) => vec![one],
            Self::Many(many) => many,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEmail {
    to: OneOrMany,
    cc: Option<OneOrMany>,
    bcc: Option<OneOrMany>,
    from: Option<String>,
    subject: Option<String>,
    text: Option<String>,
    html: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSns {
    topic_arn: String,
    subject: Option<String>,
    message: Option<String>,
}

fn invalid(message: impl Into<String>) -> Rejection {
    Rejection::new(ErrorCode::InvalidNotify, message)
}

fn not_allowed(message: impl Into<String>) -> Rejection {
    Rejection::new(ErrorCode::NotifyNotAllowed, message)
}

/// Whether `address` is a plain mail address (`local@domain`). SES checks
/// deliverability; this refuses what cannot be an address, or could
/// smuggle a second header or recipient.
fn is_address(address: &str) -> bool {
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local
            .chars()
            .all(|c| c.is_ascii_graphic() && !"<>()[]\\,;:\"@".contains(c));
    let domain_ok = domain.len() <= 253
        && domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    local_ok && domain_ok
}

fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map_or("", |(_, d)| d)
}

fn is_topic_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.split(':').collect();
    matches!(parts.as_slice(), ["arn", partition, "sns", region, account, name]
        if partition.starts_with("aws")
            && !region.is_empty()
            && account.len() == 12
            && account.chars().all(|c| c.is_ascii_digit())
            && !name.is_empty()
            && name.len() <= 256)
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    // The pages' escaping (& < > " '), which leaves the slashes of a URL
    // readable in the HTML source (minijinja's own escapes them too).
    env.set_formatter(|out, state, value| match value.as_str() {
        Some(text) if *state.auto_escape() == AutoEscape::Html && !value.is_safe() => {
            out.write_str(&escape_html(text))?;
            Ok(())
        }
        _ => minijinja::escape_formatter(out, state, value),
    });
    env
}

/// Checks a template's size and syntax; `name` says which field it is
/// (and, ending in `.html`, that it escapes).
fn check_template(
    env: &Environment<'static>,
    name: &str,
    source: Option<&String>,
) -> Result<(), Rejection> {
    let Some(source) = source else {
        return Ok(());
    };
    if source.len() > MAX_TEMPLATE_BYTES {
        return Err(invalid(format!(
            "notify.{name} is {} bytes; templates may have at most {MAX_TEMPLATE_BYTES}",
            source.len()
        )));
    }
    env.template_from_named_str(name, source)
        .map(drop)
        .map_err(|e| invalid(format!("notify.{name} is not a valid template: {e}")))
}

fn check_addresses(field: &str, addresses: &[String]) -> Result<(), Rejection> {
    match addresses.iter().find(|a| !is_address(a)) {
        Some(bad) => Err(invalid(format!(
            "notify.email.{field}: {bad:?} is not a mail address"
        ))),
        None => Ok(()),
    }
}

impl NotifySpec {
    /// Parses a request's `notify`: one channel, addresses that are
    /// addresses, templates that parse.
    pub fn parse(value: Value) -> Result<Self, Rejection> {
        let env = environment();
        let raw: RawNotify = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            invalid(format!("notify is not valid at {path}: {}", e.into_inner()))
        })?;
        let channel = match (raw.email, raw.sns) {
            (Some(email), None) => {
                let spec = EmailSpec {
                    to: email.to.into_vec(),
                    cc: email.cc.map(OneOrMany::into_vec).unwrap_or_default(),
                    bcc: email.bcc.map(OneOrMany::into_vec).unwrap_or_default(),
                    from: email.from,
                    subject: email.subject,
                    text: email.text,
                    html: email.html,
                };
                if spec.to.is_empty() {
                    return Err(invalid("notify.email.to needs at least one address"));
                }
                let count = spec.to.len() + spec.cc.len() + spec.bcc.len();
                if count > MAX_RECIPIENTS {
                    return Err(invalid(format!(
                        "notify.email has {count} recipients; at most {MAX_RECIPIENTS}"
                    )));
                }
                check_addresses("to", &spec.to)?;
                check_addresses("cc", &spec.cc)?;
                check_addresses("bcc", &spec.bcc)?;
                if let Some(from) = &spec.from
                    && !is_address(from)
                {
                    return Err(invalid(format!(
                        "notify.email.from: {from:?} is not a mail address"
                    )));
                }
                check_template(&env, "email.subject", spec.subject.as_ref())?;
                check_template(&env, "email.text", spec.text.as_ref())?;
                check_template(&env, "email.html", spec.html.as_ref())?;
                Channel::Email(spec)
            }
            (None, Some(sns)) => {
                if !is_topic_arn(&sns.topic_arn) {
                    return Err(invalid(format!(
                        "notify.sns.topic_arn: {:?} is not an SNS topic ARN",
                        sns.topic_arn
                    )));
                }
                check_template(&env, "sns.subject", sns.subject.as_ref())?;
                check_template(&env, "sns.message", sns.message.as_ref())?;
                Channel::Sns(SnsSpec {
                    topic_arn: sns.topic_arn,
                    subject: sns.subject,
                    message: sns.message,
                })
            }
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "notify takes one channel, email or sns, not both (one failed send must not leave links sent on the other)",
                ));
            }
            (None, None) => return Err(invalid("notify needs email or sns")),
        };
        Ok(Self {
            channel,
            context: raw.context.unwrap_or(Value::Null),
        })
    }

    /// Checks the spec against the deployment's allow-lists; the sender it
    /// will use, for email.
    pub fn check(&self, policy: &NotifyPolicy) -> Result<(), Rejection> {
        match &self.channel {
            Channel::Email(email) => {
                if policy.email_from.is_empty() || policy.email_to_domains.is_empty() {
                    return Err(not_allowed(
                        "email notifications are not enabled in this deployment (NOTIFY_EMAIL_FROM and NOTIFY_EMAIL_TO_DOMAINS)",
                    ));
                }
                let from = sender(email, policy)?;
                let sender_ok =
                    policy
                        .email_from
                        .iter()
                        .any(|allowed| match allowed.strip_prefix('@') {
                            Some(domain) => domain_of(&from).eq_ignore_ascii_case(domain),
                            None => allowed.eq_ignore_ascii_case(&from),
                        });
                if !sender_ok {
                    return Err(not_allowed(format!(
                        "notify.email.from: this deployment may not send as {from:?}"
                    )));
                }
                let any = policy.email_to_domains.iter().any(|d| d == "*");
                let refused = email
                    .to
                    .iter()
                    .chain(&email.cc)
                    .chain(&email.bcc)
                    .find(|address| {
                        !any && !policy
                            .email_to_domains
                            .iter()
                            .any(|d| d.eq_ignore_ascii_case(domain_of(address)))
                    });
                match refused {
                    Some(address) => Err(not_allowed(format!(
                        "notify.email: this deployment may not mail the domain {:?}",
                        domain_of(address)
                    ))),
                    None => Ok(()),
                }
            }
            Channel::Sns(sns) => {
                if policy.sns_topics.is_empty() {
                    return Err(not_allowed(
                        "SNS notifications are not enabled in this deployment (NOTIFY_SNS_TOPICS)",
                    ));
                }
                if policy
                    .sns_topics
                    .iter()
                    .any(|t| t == "*" || *t == sns.topic_arn)
                {
                    Ok(())
                } else {
                    Err(not_allowed(format!(
                        "notify.sns.topic_arn: this deployment may not publish to {:?}",
                        sns.topic_arn
                    )))
                }
            }
        }
    }

    /// Renders the notification for the links just made.
    pub fn render(
        &self,
        policy: &NotifyPolicy,
        actions: &[Action],
        output: &CreateUrlsOutput,
    ) -> Result<Notification, Rejection> {
        let renderer = Renderer::new(&view(actions, output, &self.context));
        match &self.channel {
            Channel::Email(email) => {
                let subject =
                    renderer.render("email.subject", email.subject.as_deref(), DEFAULT_SUBJECT)?;
                let subject = one_line(&subject);
                if subject.is_empty() || subject.chars().count() > MAX_EMAIL_SUBJECT_CHARS {
                    return Err(invalid(format!(
                        "notify.email.subject renders to {} characters; it needs 1 to {MAX_EMAIL_SUBJECT_CHARS}",
                        subject.chars().count()
                    )));
                }
                Ok(Notification::Email(Email {
                    from: sender(email, policy)?,
                    to: email.to.clone(),
                    cc: email.cc.clone(),
                    bcc: email.bcc.clone(),
                    subject,
                    text: renderer.render("email.text", email.text.as_deref(), DEFAULT_TEXT)?,
                    html: renderer.render("email.html", email.html.as_deref(), DEFAULT_HTML)?,
                }))
            }
            Channel::Sns(sns) => {
                let subject = match &sns.subject {
                    Some(template) => {
                        let subject =
                            one_line(&renderer.render("sns.subject", Some(template), "")?);
                        let ok = !subject.is_empty()
                            && subject.chars().count() <= MAX_SNS_SUBJECT_CHARS
                            && subject
                                .chars()
                                .all(|c| c.is_ascii() && !c.is_ascii_control());
                        if !ok {
                            return Err(invalid(format!(
                                "notify.sns.subject must render to 1 to {MAX_SNS_SUBJECT_CHARS} printable ASCII characters"
                            )));
                        }
                        Some(subject)
                    }
                    None => None,
                };
                Ok(Notification::Sns(SnsMessage {
                    topic_arn: sns.topic_arn.clone(),
                    subject,
                    message: renderer.render(
                        "sns.message",
                        sns.message.as_deref(),
                        DEFAULT_TEXT,
                    )?,
                }))
            }
        }
    }
}

/// The sender of an email: the one asked for, else the deployment's first
/// full address.
fn sender(email: &EmailSpec, policy: &NotifyPolicy) -> Result<String, Rejection> {
    match &email.from {
        Some(from) => Ok(from.clone()),
        None => policy
            .email_from
            .iter()
            .find(|a| !a.starts_with('@'))
            .cloned()
            .ok_or_else(|| {
                invalid("notify.email.from is needed: this deployment has no default sender")
            }),
    }
}

/// Subjects are one line: line breaks become spaces.
fn one_line(text: &str) -> String {
    text.split(['\r', '\n'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn view(actions: &[Action], output: &CreateUrlsOutput, context: &Value) -> Value {
    let actions: Vec<Value> = actions
        .iter()
        .map(|a| {
            serde_json::json!({
                "name": a.name.as_str(),
                "type": a.kind().as_str(),
                "label": a.page.label.clone().unwrap_or_else(|| a.name.as_str().to_owned()),
                "description": a.page.description,
                "url": output.urls.get(a.name.as_str()),
            })
        })
        .collect();
    serde_json::json!({
        "urls": output.urls,
        "actions": actions,
        "transaction_id": output.transaction_id,
        "expiration": output.expiration,
        "context": context,
    })
}

/// One environment and one view for all of a notification's templates.
struct Renderer {
    env: Environment<'static>,
    view: minijinja::Value,
}

impl Renderer {
    fn new(view: &Value) -> Self {
        Self {
            env: environment(),
            view: minijinja::Value::from(minijinja::value::Serde(view)),
        }
    }

    fn render(
        &self,
        name: &str,
        template: Option<&str>,
        default: &str,
    ) -> Result<String, Rejection> {
        self.env
            .render_named_str(name, template.unwrap_or(default), &self.view)
            .map_err(|e| invalid(format!("notify.{name} could not be rendered: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::action::{RawAction, parse_action};
    use serde_json::json;

    fn policy() -> NotifyPolicy {
        NotifyPolicy {
            email_from: vec!["approvals@example.com".into(), "@ops.example.com".into()],
            email_to_domains: vec!["corp.example".into()],
            sns_topics: vec!["arn:aws:sns:us-east-1:123456789012:approvals".into()],
        }
    }

    fn actions() -> Vec<Action> {
        [
            json!({"name": "approve", "type": "success", "output": {}, "label": "Approve <now>", "description": "Ship & tell"}),
            json!({"name": "reject", "type": "failure"}),
        ]
        .into_iter()
        .map(|v| {
            let raw: RawAction = serde_json::from_value(v).expect("raw");
            parse_action(raw, false).expect("action")
        })
        .collect()
    }

    fn output() -> CreateUrlsOutput {
        let mut urls = serde_json::Map::new();
        urls.insert(
            "approve".into(),
            json!("https://x.example/respond?action=approve&type=success&data=EAAA"),
        );
        urls.insert(
            "reject".into(),
            json!("https://x.example/respond?action=reject&type=failure&data=EBBB"),
        );
        CreateUrlsOutput {
            transaction_id: "0123".into(),
            urls,
            expiration: Some("2030-01-01T00:00:00Z".into()),
            notified: None,
        }
    }

    fn email(extra: Value) -> NotifySpec {
        let mut spec =
            json!({"email": {"to": "boss@corp.example"}, "context": {"release": "v2 <b>"}});
        for (k, v) in extra.as_object().expect("object") {
            spec["email"][k] = v.clone();
        }
        NotifySpec::parse(spec).expect("parses")
    }

    #[test]
    fn default_email_lists_every_link_and_escapes_html() {
        let spec = email(json!({}));
        spec.check(&policy()).expect("allowed");
        let Notification::Email(mail) = spec
            .render(&policy(), &actions(), &output())
            .expect("renders")
        else {
            panic!("email");
        };
        assert_eq!(mail.from, "approvals@example.com");
        assert_eq!(mail.to, vec!["boss@corp.example"]);
        assert_eq!(mail.subject, DEFAULT_SUBJECT);
        assert!(mail.text.contains("Approve <now>: Ship & tell\nhttps://x.example/respond?action=approve&type=success&data=EAAA"), "{}", mail.text);
        assert!(mail.text.contains("2030-01-01T00:00:00Z"));
        assert!(
            mail.html
                .contains("action=approve&amp;type=success&amp;data=EAAA\""),
            "{}",
            mail.html
        );
        assert!(!mail.html.contains("&type="), "{}", mail.html);
        assert!(mail.html.contains("Approve &lt;now&gt;"), "{}", mail.html);
        assert!(mail.html.contains("Ship &amp; tell"), "{}", mail.html);
    }

    #[test]
    fn caller_templates_see_urls_and_context_and_html_escapes_it() {
        let spec = email(json!({
            "subject": "Release {{ context.release }}\nnow",
            "text": "Yes: {{ urls.approve }}",
            "html": "<b>{{ context.release }}</b> <a href=\"{{ urls.reject }}\">no</a>",
        }));
        let Notification::Email(mail) = spec
            .render(&policy(), &actions(), &output())
            .expect("renders")
        else {
            panic!("email");
        };
        assert_eq!(mail.subject, "Release v2 <b> now");
        assert_eq!(
            mail.text,
            "Yes: https://x.example/respond?action=approve&type=success&data=EAAA"
        );
        assert!(
            mail.html.starts_with("<b>v2 &lt;b&gt;</b>"),
            "{}",
            mail.html
        );
        assert!(mail.html.contains("&amp;type=failure"), "{}", mail.html);
    }

    #[test]
    fn template_mistakes_are_named() {
        let bad =
            NotifySpec::parse(json!({"email": {"to": "a@corp.example", "text": "{% for %}"}}))
                .expect_err("syntax");
        assert_eq!(bad.code, ErrorCode::InvalidNotify);
        assert!(bad.message.contains("notify.email.text"), "{}", bad.message);
        let spec = email(json!({"text": "{{ urls.nope }}"}));
        let err = spec
            .render(&policy(), &actions(), &output())
            .expect_err("undefined");
        assert!(err.message.contains("notify.email.text"), "{}", err.message);
        let endless = email(
            json!({"text": "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}"}),
        );
        let err = endless
            .render(&policy(), &actions(), &output())
            .expect_err("fuel");
        assert!(
            err.message.contains("could not be rendered"),
            "{}",
            err.message
        );
    }

    #[test]
    fn the_deployment_decides_senders_recipients_and_topics() {
        let refused = [
            (json!({"from": "ceo@example.com"}), "may not send as"),
            (json!({"from": "x@sub.ops.example.com"}), "may not send as"),
            (
                json!({"to": ["a@corp.example", "b@elsewhere.example"]}),
                "elsewhere.example",
            ),
            (json!({"bcc": "spy@elsewhere.example"}), "elsewhere.example"),
        ];
        for (extra, says) in refused {
            let err = email(extra.clone()).check(&policy()).expect_err("refused");
            assert_eq!(err.code, ErrorCode::NotifyNotAllowed, "{extra}");
            assert!(err.message.contains(says), "{extra}: {}", err.message);
        }
        email(json!({"from": "bot@ops.example.com"}))
            .check(&policy())
            .expect("a sender at an allowed domain");
        email(json!({"to": "Boss@CORP.example"}))
            .check(&policy())
            .expect("domains ignore case");

        let sns =
            |arn: &str| NotifySpec::parse(json!({"sns": {"topic_arn": arn}})).expect("parses");
        sns("arn:aws:sns:us-east-1:123456789012:approvals")
            .check(&policy())
            .expect("allowed");
        let err = sns("arn:aws:sns:us-east-1:123456789012:other")
            .check(&policy())
            .expect_err("refused");
        assert_eq!(err.code, ErrorCode::NotifyNotAllowed);
        let off = NotifyPolicy::default();
        assert!(
            email(json!({}))
                .check(&off)
                .expect_err("off")
                .message
                .contains("not enabled")
        );
        assert!(
            sns("arn:aws:sns:us-east-1:123456789012:approvals")
                .check(&off)
                .expect_err("off")
                .message
                .contains("not enabled")
        );
    }

    #[test]
    fn shapes_that_cannot_work_are_refused() {
        let cases = [
            json!({}),
            json!({"email": {"to": "a@corp.example"}, "sns": {"topic_arn": "arn:aws:sns:us-east-1:123456789012:t"}}),
            json!({"email": {"to": []}}),
            json!({"email": {"to": "not-an-address"}}),
            json!({"email": {"to": "a@corp.example\r\nBcc: x@y.example"}}),
            json!({"email": {"to": "a@corp.example", "from": "Name <a@b.example>"}}),
            json!({"email": {"to": "a@corp.example", "reply": "x"}}),
            json!({"sns": {"topic_arn": "arn:aws:sqs:us-east-1:123456789012:q"}}),
            json!({"email": {"to": (0..51).map(|i| format!("u{i}@corp.example")).collect::<Vec<_>>()}}),
        ];
        for case in cases {
            let err = NotifySpec::parse(case.clone()).expect_err("refused");
            assert_eq!(err.code, ErrorCode::InvalidNotify, "{case}");
        }
    }

    #[test]
    fn sns_subjects_follow_sns_rules() {
        let spec = NotifySpec::parse(json!({"sns": {"topic_arn": "arn:aws:sns:us-east-1:123456789012:approvals", "subject": "Ship {{ context }}?", "message": "{{ urls | tojson }}"}, "context": "v2"}))
            .expect("parses");
        let Notification::Sns(message) = spec
            .render(&policy(), &actions(), &output())
            .expect("renders")
        else {
            panic!("sns");
        };
        assert_eq!(message.subject.as_deref(), Some("Ship v2?"));
        let urls: Value = serde_json::from_str(&message.message).expect("json");
        assert_eq!(urls["reject"], output().urls["reject"]);
        let long = NotifySpec::parse(json!({"sns": {"topic_arn": "arn:aws:sns:us-east-1:123456789012:approvals", "subject": "{{ 'x' * 101 }}"}}))
            .expect("parses");
        assert!(long.render(&policy(), &actions(), &output()).is_err());
    }
}
