//! A request's `notify`: parsed from raw JSON into a [`NotifySpec`], and
//! checked against the deployment's allow-lists ([`NotifyPolicy`]).

use minijinja::Environment;
use serde::Deserialize;
use serde_json::Value;

use super::destination::{is_slack_conversation, teams_webhook_allowed, teams_webhook_shape};
use super::{
    Channel, EmailSpec, MAX_RECIPIENTS, MAX_TEMPLATE_BYTES, NotifyPolicy, NotifySpec, SlackSpec,
    SnsSpec, TeamsSpec, invalid, sender,
};
use crate::address::{domain_of, is_address};
use crate::error::{ErrorCode, Rejection};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNotify {
    email: Option<RawEmail>,
    sns: Option<RawSns>,
    slack: Option<RawSlack>,
    teams: Option<RawTeams>,
    context: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSlack {
    channel: String,
    header: Option<String>,
    text: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTeams {
    webhook: String,
    title: Option<String>,
    text: Option<String>,
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

fn not_allowed(message: impl Into<String>) -> Rejection {
    Rejection::new(ErrorCode::NotifyNotAllowed, message)
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
        let env = super::template_syntax();
        let raw: RawNotify = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            // A Teams webhook carries its credential: never quoted back.
            if path == "teams" || path.starts_with("teams.") {
                return invalid(format!(
                    "notify is not valid at {path}: teams takes an object with webhook (a URL), title and text"
                ));
            }
            invalid(format!("notify is not valid at {path}: {}", e.into_inner()))
        })?;
        let given = [
            raw.email.is_some(),
            raw.sns.is_some(),
            raw.slack.is_some(),
            raw.teams.is_some(),
        ];
        match given.iter().filter(|g| **g).count() {
            0 => return Err(invalid("notify needs email, sns, slack or teams")),
            1 => {}
            _ => {
                return Err(invalid(
                    "notify takes one channel, email, sns, slack or teams, not several (one failed send must not leave links sent on another)",
                ));
            }
        }
        if let Some(slack) = raw.slack {
            if !is_slack_conversation(&slack.channel) {
                return Err(invalid(format!(
                    "notify.slack.channel: {:?} is not a Slack channel or user ID (C…, G…, D…, U… or W…)",
                    slack.channel
                )));
            }
            check_template(&env, "slack.header", slack.header.as_ref())?;
            check_template(&env, "slack.text", slack.text.as_ref())?;
            return Ok(Self {
                channel: Channel::Slack(SlackSpec {
                    channel: slack.channel,
                    header: slack.header,
                    text: slack.text,
                }),
                context: raw.context.unwrap_or(Value::Null),
            });
        }
        if let Some(teams) = raw.teams {
            // Never quoted back: the URL's signature is a credential.
            teams_webhook_shape(&teams.webhook).map_err(|why| {
                invalid(format!(
                    "notify.teams.webhook is not a Workflows webhook URL: {why}"
                ))
            })?;
            check_template(&env, "teams.title", teams.title.as_ref())?;
            check_template(&env, "teams.text", teams.text.as_ref())?;
            return Ok(Self {
                channel: Channel::Teams(TeamsSpec {
                    webhook: teams.webhook,
                    title: teams.title,
                    text: teams.text,
                }),
                context: raw.context.unwrap_or(Value::Null),
            });
        }
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
            _ => return Err(invalid("notify needs email, sns, slack or teams")),
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
            Channel::Slack(slack) => {
                if policy.slack_channels.is_empty() {
                    return Err(not_allowed(
                        "Slack notifications are not enabled in this deployment (SLACK_BOT_TOKEN and NOTIFY_SLACK_CHANNELS)",
                    ));
                }
                if policy
                    .slack_channels
                    .iter()
                    .any(|c| c == "*" || *c == slack.channel)
                {
                    Ok(())
                } else {
                    Err(not_allowed(format!(
                        "notify.slack.channel: this deployment may not post to {:?}",
                        slack.channel
                    )))
                }
            }
            Channel::Teams(teams) => {
                if policy.teams_webhooks.is_empty() {
                    return Err(not_allowed(
                        "Teams notifications are not enabled in this deployment (NOTIFY_TEAMS_WEBHOOKS)",
                    ));
                }
                if teams_webhook_allowed(&teams.webhook, &policy.teams_webhooks) {
                    Ok(())
                } else {
                    Err(not_allowed(
                        "notify.teams.webhook: this deployment may not post to that webhook (it is not under NOTIFY_TEAMS_WEBHOOKS)",
                    ))
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::tests::{email, policy};
    use serde_json::json;

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
}
