//! Rendering a checked `notify` into the email or SNS message to send, with
//! minijinja.

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde_json::Value;

use sfn_callbacks_core::action::Action;
use sfn_callbacks_core::error::Rejection;
use sfn_callbacks_core::locale::Locale;
use sfn_callbacks_core::notify::{
    Channel, MAX_EMAIL_SUBJECT_CHARS, MAX_SNS_SUBJECT_CHARS, NotifyPolicy, NotifySpec, sender,
    template_syntax,
};
use sfn_callbacks_core::template::escape_html;

use super::chat::{slack_message, teams_message};
use super::{Email, Links, Notification, SnsMessage, invalid};
use crate::slack::escape_mrkdwn;
use crate::text::{Arg, text};

/// The name of the escaping of Slack's `mrkdwn` (`&`, `<`, `>`).
const SLACK_ESCAPE: &str = "slack";
/// Template work allowed for one rendering (minijinja fuel).
const FUEL: u64 = 100_000;

// The default texts: their sentences come from the catalog of the
// request's language, as `texts`, which only these templates see.
const DEFAULT_SUBJECT: &str = "{{ texts.subject }}";
const DEFAULT_TEXT: &str = "\
{{ texts.waiting }}{% if texts.requested %}
{{ texts.requested }}{% endif %}
{% if review_url is defined %}
{% for a in actions if a.type != \"post\" %}- {{ a.label }}{% if a.description %}: {{ a.description }}{% endif %}
{% endfor %}
{{ texts.review }}:
{{ review_url }}
{% else %}{% for a in actions %}
{{ a.label }}{% if a.description %}: {{ a.description }}{% endif %}
{{ a.url }}
{% endfor %}{% endif %}{% if expiration %}
{{ texts.expires }}
{% endif %}";
const DEFAULT_HTML: &str = "\
<!doctype html>
<html lang=\"{{ texts.lang }}\"><body style=\"font-family: sans-serif\">
<p>{{ texts.waiting }}</p>
{% if texts.requested %}<p>{{ texts.requested }}</p>
{% endif %}{% if review_url is defined %}<ul>
{% for a in actions if a.type != \"post\" %}<li>{{ a.label }}{% if a.description %}: {{ a.description }}{% endif %}</li>
{% endfor %}</ul>
<p><a href=\"{{ review_url }}\">{{ texts.review }}</a></p>
{% else %}{% for a in actions %}<p><a href=\"{{ a.url }}\">{{ a.label }}</a>{% if a.description %}<br>{{ a.description }}{% endif %}</p>
{% endfor %}{% endif %}{% if expiration %}<p>{{ texts.expires }}</p>
{% endif %}</body></html>";
// Slack's: the header is plain text; the text is `mrkdwn`, escaped.
const DEFAULT_SLACK_TEXT: &str = "\
{{ texts.waiting }}{% if texts.requested %}
{{ texts.requested }}{% endif %}{% for a in actions if a.type != \"post\" and a.description %}
*{{ a.label }}*: {{ a.description }}{% endfor %}";
const DEFAULT_TEAMS_TEXT: &str =
    "{{ texts.waiting }}{% if texts.requested %}\n\n{{ texts.requested }}{% endif %}";

/// The default templates' sentences in `locale`.
fn default_texts(locale: Locale, expiration: Option<&str>, requested_by: Option<&str>) -> Value {
    serde_json::json!({
        "requested": requested_by.map(|who| text(locale, "page-requested-by", &[("who", Arg::from(who))])),
        "lang": locale.tag(),
        "subject": text(locale, "notify-subject", &[]),
        "waiting": text(locale, "notify-waiting", &[]),
        "review": text(locale, "notify-review", &[]),
        "expires": expiration.map(|e| text(locale, "notify-expires", &[("expiration", Arg::from(e))])),
    })
}

/// The one template environment: checking a template when `notify` is
/// parsed and rendering it later must agree on syntax and escaping.
fn environment() -> Environment<'static> {
    let mut env = template_syntax();
    // Templates see the view and minijinja's filters, tests and plain
    // functions (`range`, `dict`, `namespace`); never `debug`, which
    // prints the whole render state (every link and global) into a message.
    env.remove_global("debug");
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            AutoEscape::Html
        } else if name == "slack.text" {
            AutoEscape::Custom(SLACK_ESCAPE.into())
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
        _ if *state.auto_escape() == AutoEscape::Custom(SLACK_ESCAPE.into()) => {
            if value.is_safe() {
                out.write_str(&value.to_string())?;
            } else {
                out.write_str(&escape_mrkdwn(&value.to_string()))?;
            }
            Ok(())
        }
        _ => minijinja::escape_formatter(out, state, value),
    });
    env
}

/// Renders the notification `spec` asks for, with the links just made.
pub fn render(
    spec: &NotifySpec,
    policy: &NotifyPolicy,
    actions: &[Action],
    links: Links<'_>,
) -> Result<Notification, Rejection> {
    let view = view(actions, links, &spec.context);
    let mut defaults = view.clone();
    defaults["texts"] = default_texts(links.locale, links.expiration, links.requested_by);
    let renderer = Renderer::new(&view, &defaults);
    match &spec.channel {
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
                    let subject = one_line(&renderer.render("sns.subject", Some(template), "")?);
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
                message: renderer.render("sns.message", sns.message.as_deref(), DEFAULT_TEXT)?,
            }))
        }
        Channel::Slack(slack) => {
            let header = one_line(&renderer.render(
                "slack.header",
                slack.header.as_deref(),
                DEFAULT_SUBJECT,
            )?);
            let text = renderer.render("slack.text", slack.text.as_deref(), DEFAULT_SLACK_TEXT)?;
            Ok(Notification::Slack(slack_message(
                &slack.channel,
                &header,
                &text,
                actions,
                links,
            )?))
        }
        Channel::Teams(teams) => {
            let title = one_line(&renderer.render(
                "teams.title",
                teams.title.as_deref(),
                DEFAULT_SUBJECT,
            )?);
            let text = renderer.render("teams.text", teams.text.as_deref(), DEFAULT_TEAMS_TEXT)?;
            Ok(Notification::Teams(teams_message(
                &teams.webhook,
                &title,
                &text,
                actions,
                links,
            )?))
        }
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

fn view(actions: &[Action], links: Links<'_>, context: &Value) -> Value {
    let actions: Vec<Value> = actions
        .iter()
        .map(|a| {
            serde_json::json!({
                "name": a.name.as_str(),
                "type": a.kind().as_str(),
                "label": a.page.label.clone().unwrap_or_else(|| a.name.as_str().to_owned()),
                "description": a.page.description,
                "url": links.urls.get(a.name.as_str()),
            })
        })
        .collect();
    let mut view = serde_json::json!({
        "urls": links.urls,
        "actions": actions,
        "transaction_id": links.transaction_id,
        "expiration": links.expiration,
        "context": context,
    });
    // Only there when the request asked for it: a template that uses it
    // without asking is an error naming it, not a mail that says "none".
    if let Some(url) = links.review_url {
        view["review_url"] = Value::from(url);
    }
    if let Some(who) = links.requested_by {
        view["requested_by"] = Value::from(who);
    }
    view
}

/// One environment and one view for all of a notification's templates:
/// the caller's own see the view, the default ones also their texts.
struct Renderer {
    env: Environment<'static>,
    view: minijinja::Value,
    defaults: minijinja::Value,
}

impl Renderer {
    fn new(view: &Value, defaults: &Value) -> Self {
        Self {
            env: environment(),
            view: minijinja::Value::from(minijinja::value::Serde(view)),
            defaults: minijinja::Value::from(minijinja::value::Serde(defaults)),
        }
    }

    fn render(
        &self,
        name: &str,
        template: Option<&str>,
        default: &str,
    ) -> Result<String, Rejection> {
        let (source, view) = match template {
            Some(own) => (own, &self.view),
            None => (default, &self.defaults),
        };
        self.env
            .render_named_str(name, source, view)
            .map_err(|e| invalid(format!("notify.{name} could not be rendered: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use sfn_callbacks_core::error::ErrorCode;
    use std::sync::LazyLock;

    /// [`render`] as a method, so the tests read as the calls they make.
    trait Render {
        fn render(
            &self,
            policy: &NotifyPolicy,
            actions: &[Action],
            links: Links<'_>,
        ) -> Result<Notification, Rejection>;
    }

    impl Render for NotifySpec {
        fn render(
            &self,
            policy: &NotifyPolicy,
            actions: &[Action],
            links: Links<'_>,
        ) -> Result<Notification, Rejection> {
            super::render(self, policy, actions, links)
        }
    }

    /// A deployment that lets the tests mail `corp.example` and post to
    /// one Slack channel.
    fn policy() -> NotifyPolicy {
        NotifyPolicy {
            email_from: vec!["approvals@example.com".into()],
            email_to_domains: vec!["corp.example".into()],
            slack_channels: vec!["C0APPROVALS".into()],
            ..NotifyPolicy::default()
        }
    }

    /// A mail to the boss about release "v2 <b>", with `extra` fields of
    /// `notify.email`.
    fn email(extra: Value) -> NotifySpec {
        let mut fields = json!({"to": "boss@corp.example"});
        fields
            .as_object_mut()
            .expect("object")
            .extend(extra.as_object().expect("object").clone());
        NotifySpec::parse(json!({"email": fields, "context": {"release": "v2 <b>"}}))
            .expect("parses")
    }

    fn actions() -> Vec<Action> {
        [
            json!({"name": "approve", "type": "success", "output": {}, "label": "Approve <now>", "description": "Ship & tell"}),
            json!({"name": "reject", "type": "failure"}),
        ]
        .into_iter()
        .map(|v| Action::from_json(v, false).expect("action"))
        .collect()
    }

    /// The URLs of the links the tests render; static, so that `output` can
    /// lend them out.
    static URLS: LazyLock<serde_json::Map<String, Value>> = LazyLock::new(|| {
        let mut urls = serde_json::Map::new();
        urls.insert(
            "approve".into(),
            json!("https://x.example/respond?action=approve&type=success&data=EAAA"),
        );
        urls.insert(
            "reject".into(),
            json!("https://x.example/respond?action=reject&type=failure&data=EBBB"),
        );
        urls
    });

    fn output() -> Links<'static> {
        Links {
            transaction_id: "0123",
            urls: &URLS,
            review_url: None,
            expiration: Some("2030-01-01T00:00:00Z"),
            expires_at_millis: Some(1_893_456_000_000),
            locale: Locale::En,
            requested_by: None,
        }
    }

    #[test]
    fn with_a_review_link_the_default_texts_send_it_alone() {
        let spec = email(json!({}));
        let mut links = output();
        links.review_url = Some("https://x.example/respond?data=UQ&x=<y>");
        let Notification::Email(mail) = spec.render(&policy(), &actions(), links).expect("renders")
        else {
            panic!("email")
        };
        assert!(
            mail.text
                .contains("Review and decide:\nhttps://x.example/respond?data=UQ&x=<y>"),
            "{}",
            mail.text
        );
        assert!(
            mail.html
                .contains("<a href=\"https://x.example/respond?data=UQ&amp;x=&lt;y&gt;\">Review and decide</a>"),
            "{}",
            mail.html
        );
        for url in URLS.values() {
            let url = url.as_str().expect("url");
            assert!(
                !mail.text.contains(url) && !mail.html.contains(url),
                "{url}"
            );
        }
        let spec = email(
            json!({"text": "Open {{ review_url }}", "html": "{% if review_url is defined %}yes{% endif %}"}),
        );
        let Notification::Email(mail) = spec.render(&policy(), &actions(), links).expect("renders")
        else {
            panic!("email")
        };
        assert_eq!(mail.text, "Open https://x.example/respond?data=UQ&x=<y>");
        let err = spec
            .render(&policy(), &actions(), output())
            .expect_err("no review link was asked for");
        assert!(
            err.message.contains("notify.email.text") && err.message.contains("undefined"),
            "{}",
            err.message
        );
    }

    #[test]
    fn default_email_lists_every_link_and_escapes_html() {
        let spec = email(json!({}));
        spec.check(&policy()).expect("allowed");
        let Notification::Email(mail) = spec
            .render(&policy(), &actions(), output())
            .expect("renders")
        else {
            panic!("email");
        };
        assert_eq!(mail.from, "approvals@example.com");
        assert_eq!(mail.to, vec!["boss@corp.example"]);
        assert_eq!(mail.subject, "Your decision is needed");
        assert!(
            mail.text
                .starts_with("A workflow is waiting for your decision.\n"),
            "{}",
            mail.text
        );
        assert!(mail.text.contains("Approve <now>: Ship & tell\nhttps://x.example/respond?action=approve&type=success&data=EAAA"), "{}", mail.text);
        assert!(
            mail.text
                .contains("These links stop working at 2030-01-01T00:00:00Z.")
        );
        assert!(mail.html.contains("<html lang=\"en\">"), "{}", mail.html);
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
    fn default_texts_speak_the_requests_language_and_only_they_see_them() {
        let spec = email(json!({}));
        let mut links = output();
        links.locale = Locale::De;
        let Notification::Email(mail) = spec.render(&policy(), &actions(), links).expect("renders")
        else {
            panic!("email");
        };
        assert_eq!(mail.subject, "Ihre Entscheidung wird benötigt");
        assert!(
            mail.text
                .starts_with("Ein Workflow wartet auf Ihre Entscheidung.\n")
                && mail
                    .text
                    .contains("Diese Links sind gültig bis 2030-01-01T00:00:00Z."),
            "{}",
            mail.text
        );
        assert!(
            mail.html.contains("<html lang=\"de\">")
                && mail
                    .html
                    .contains("<p>Ein Workflow wartet auf Ihre Entscheidung.</p>"),
            "{}",
            mail.html
        );
        links.locale = Locale::Ja;
        let Notification::Email(mail) = spec.render(&policy(), &actions(), links).expect("renders")
        else {
            panic!("email");
        };
        assert_eq!(mail.subject, text(Locale::Ja, "notify-subject", &[]));
        assert_ne!(mail.subject, "Your decision is needed");
        // A caller's own template does not see them.
        let own = email(json!({"text": "{{ texts.waiting }}"}));
        let err = own
            .render(&policy(), &actions(), output())
            .expect_err("texts is for the default templates");
        assert!(err.message.contains("undefined"), "{}", err.message);
    }

    #[test]
    fn caller_templates_see_urls_and_context_and_html_escapes_it() {
        let spec = email(json!({
            "subject": "Release {{ context.release }}\nnow",
            "text": "Yes: {{ urls.approve }}",
            "html": "<b>{{ context.release }}</b> <a href=\"{{ urls.reject }}\">no</a>",
        }));
        let Notification::Email(mail) = spec
            .render(&policy(), &actions(), output())
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
    fn the_default_texts_say_who_asked_escaped_for_each_channel() {
        let mut links = output();
        links.requested_by = Some("Rita <ops> & co");
        let Notification::Email(mail) = email(json!({}))
            .render(&policy(), &actions(), links)
            .expect("renders")
        else {
            panic!("email")
        };
        assert!(
            mail.text.starts_with(
                "A workflow is waiting for your decision.\nRequested by Rita <ops> & co\n"
            ),
            "{}",
            mail.text
        );
        assert!(
            mail.html
                .contains("<p>Requested by Rita &lt;ops&gt; &amp; co</p>"),
            "{}",
            mail.html
        );
        let slack = NotifySpec::parse(json!({"slack": {"channel": "C0APPROVALS"}}))
            .expect("parses")
            .render(&policy(), &actions(), links)
            .expect("renders");
        let Notification::Slack(message) = slack else {
            panic!("slack")
        };
        assert!(
            message
                .blocks
                .to_string()
                .contains("Requested by Rita &lt;ops&gt; &amp; co"),
            "{}",
            message.blocks
        );
        // Templates of one's own see it as `requested_by`.
        let Notification::Email(own) = email(json!({"text": "{{ requested_by }}"}))
            .render(&policy(), &actions(), links)
            .expect("renders")
        else {
            panic!("email")
        };
        assert_eq!(own.text, "Rita <ops> & co");
        // Nobody named: no line.
        let Notification::Email(mail) = email(json!({}))
            .render(&policy(), &actions(), output())
            .expect("renders")
        else {
            panic!("email")
        };
        assert!(!mail.text.contains("Requested by"), "{}", mail.text);
    }

    #[test]
    fn templates_cannot_dump_the_render_state() {
        for text in [
            "{{ debug() }}",
            "{{ debug(urls) }}",
            "{% set d = debug %}{{ d() }}",
        ] {
            let err = email(json!({ "text": text }))
                .render(&policy(), &actions(), output())
                .expect_err(text);
            assert_eq!(err.code, ErrorCode::InvalidNotify, "{text}");
            assert!(err.message.contains("notify.email.text"), "{}", err.message);
            assert!(!err.message.contains("data=EAAA"), "{}", err.message);
        }
        // What the README lists still works.
        let Notification::Email(mail) = email(json!({
            "text": "{% for i in range(2) %}{{ i }}{% endfor %}{{ dict(a=1).a }}{{ actions | length }}"
        }))
        .render(&policy(), &actions(), output())
        .expect("renders") else {
            panic!("email")
        };
        assert_eq!(mail.text, "0112");
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
            .render(&policy(), &actions(), output())
            .expect_err("undefined");
        assert!(err.message.contains("notify.email.text"), "{}", err.message);
        let endless = email(
            json!({"text": "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}"}),
        );
        let err = endless
            .render(&policy(), &actions(), output())
            .expect_err("fuel");
        assert!(
            err.message.contains("could not be rendered"),
            "{}",
            err.message
        );
    }

    #[test]
    fn sns_subjects_follow_sns_rules() {
        let spec = NotifySpec::parse(json!({"sns": {"topic_arn": "arn:aws:sns:us-east-1:123456789012:approvals", "subject": "Ship {{ context }}?", "message": "{{ urls | tojson }}"}, "context": "v2"}))
            .expect("parses");
        let Notification::Sns(message) = spec
            .render(&policy(), &actions(), output())
            .expect("renders")
        else {
            panic!("sns");
        };
        assert_eq!(message.subject.as_deref(), Some("Ship v2?"));
        let urls: Value = serde_json::from_str(&message.message).expect("json");
        assert_eq!(urls["reject"], output().urls["reject"]);
        let long = NotifySpec::parse(json!({"sns": {"topic_arn": "arn:aws:sns:us-east-1:123456789012:approvals", "subject": "{{ 'x' * 101 }}"}}))
            .expect("parses");
        assert!(long.render(&policy(), &actions(), output()).is_err());
    }
}
