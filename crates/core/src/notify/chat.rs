//! The chat channels of `notify`: a Slack message whose buttons carry each
//! action's sealed link (a press comes back to `/slack/interactions`), and
//! a Microsoft Teams Adaptive Card whose buttons open the confirmation
//! pages. What the deployment allows, and the shapes both services take.

use serde_json::{Value, json};

use super::render::Links;
use super::{SlackMessage, TeamsMessage, invalid};
use crate::action::{Action, ActionKind};
use crate::error::Rejection;
use crate::locale::{dates::format_instant, text};
use crate::slack::{clip, escape_mrkdwn, slack_date};

/// The most characters a Slack button's `value` holds (Slack's limit): an
/// action whose sealed link is longer cannot be a button.
pub const MAX_SLACK_VALUE_CHARS: usize = 2000;
/// What every button's `action_id` starts with, before the action's name.
pub const SLACK_ACTION_PREFIX: &str = "sfn-callbacks:";
/// Slack's limits on a header, a section's text and a button's label.
const MAX_HEADER_CHARS: usize = 150;
const MAX_SECTION_CHARS: usize = 3000;
const MAX_BUTTON_CHARS: usize = 75;
/// The most buttons one actions block holds.
const BUTTONS_PER_BLOCK: usize = 25;
/// The largest Teams message a Workflows webhook takes (28 KB), with room.
const MAX_TEAMS_BYTES: usize = 27 * 1024;
/// The Adaptive Card version the cards declare (Teams shows up to 1.5).
pub const ADAPTIVE_CARD_VERSION: &str = "1.5";

/// Whether `id` is a Slack conversation to post to: a channel (`C…`,
/// `G…`), a direct message (`D…`) or a user (`U…`, `W…`: their messages
/// tab), then capital letters and digits.
pub fn is_slack_conversation(id: &str) -> bool {
    let mut chars = id.chars();
    matches!(chars.next(), Some('C' | 'G' | 'D' | 'U' | 'W'))
        && (3..=32).contains(&id.len())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// Whether `host` is a loopback name or address (a test's stand-in).
fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Checks that `webhook` can be a Workflows webhook: an absolute `https`
/// URL (`http` only on loopback) with a host and no user name or
/// password. The reason names no part of the URL.
pub(super) fn teams_webhook_shape(webhook: &str) -> Result<url::Url, &'static str> {
    let url = url::Url::parse(webhook).map_err(|_| "not an absolute URL")?;
    let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && is_loopback(&url));
    if !scheme_ok {
        return Err("it must be https");
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("it has no host");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("it may not carry a user name or password");
    }
    Ok(url)
}

/// Whether `webhook` is under one of the deployment's prefixes. A prefix
/// is a URL: the scheme and port must be the same, the host the same (or,
/// for `*.example.com`, any name ending in `.example.com`), and the path
/// must start with the prefix's path. Compared as parsed URLs, so that
/// `https://allowed.example.com.evil.example/` or a user name in front of
/// the host never passes.
pub fn teams_webhook_allowed(webhook: &str, prefixes: &[String]) -> bool {
    let Ok(url) = teams_webhook_shape(webhook) else {
        return false;
    };
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    prefixes.iter().any(|prefix| {
        // `*.` is not a valid host for the URL parser: read it apart.
        let (wildcard, rest) = match prefix.split_once("://*.") {
            Some((scheme, rest)) => (true, format!("{scheme}://{rest}")),
            None => (false, prefix.clone()),
        };
        let Ok(allowed) = url::Url::parse(&rest) else {
            return false;
        };
        let allowed_host = allowed.host_str().unwrap_or_default().to_ascii_lowercase();
        let host_ok = if wildcard {
            host.strip_suffix(&allowed_host)
                .is_some_and(|head| head.len() > 1 && head.ends_with('.'))
        } else {
            host == allowed_host
        };
        allowed.scheme() == url.scheme()
            && host_ok
            && allowed.port_or_known_default() == url.port_or_known_default()
            && url.path().starts_with(allowed.path())
            && allowed.username().is_empty()
    })
}

/// The sealed `data` of a callback URL (always its last parameter).
fn data_of(url: &str) -> Option<&str> {
    url.rsplit_once("&data=").map(|(_, data)| data)
}

/// The label of an action as its button shows it.
fn label_of(action: &Action) -> &str {
    action
        .page
        .label
        .as_deref()
        .unwrap_or_else(|| action.name.as_str())
}

/// The actions people press: every one but the POST actions, which only
/// programs answer.
fn pressable(actions: &[Action]) -> impl Iterator<Item = &Action> {
    actions.iter().filter(|a| a.kind() != ActionKind::Post)
}

/// The Slack message for the links just made: a header, the text, the
/// expiry, and one button per action carrying its sealed link.
pub(super) fn slack_message(
    channel: &str,
    header: &str,
    body: &str,
    actions: &[Action],
    links: Links<'_>,
) -> Result<SlackMessage, Rejection> {
    let header = header.trim();
    if header.is_empty() || header.chars().count() > MAX_HEADER_CHARS {
        return Err(invalid(format!(
            "notify.slack.header renders to {} characters; Slack's header takes 1 to {MAX_HEADER_CHARS}",
            header.chars().count()
        )));
    }
    let body = body.trim();
    if body.chars().count() > MAX_SECTION_CHARS {
        return Err(invalid(format!(
            "notify.slack.text renders to {} characters; Slack shows at most {MAX_SECTION_CHARS}",
            body.chars().count()
        )));
    }
    let mut buttons = Vec::new();
    for action in pressable(actions) {
        let name = action.name.as_str();
        let data = links
            .urls
            .get(name)
            .and_then(Value::as_str)
            .and_then(data_of)
            .ok_or_else(|| invalid(format!("action {name:?} has no link")))?;
        if data.len() > MAX_SLACK_VALUE_CHARS {
            return Err(invalid(format!(
                "action {name:?}: its sealed link is {} characters, more than the {MAX_SLACK_VALUE_CHARS} a Slack button holds; shorten its output, description or form",
                data.len()
            )));
        }
        let mut button = json!({
            "type": "button",
            "action_id": format!("{SLACK_ACTION_PREFIX}{name}"),
            "text": {"type": "plain_text", "text": clip(label_of(action), MAX_BUTTON_CHARS)},
            "value": data,
        });
        match action.kind() {
            ActionKind::Success => button["style"] = json!("primary"),
            ActionKind::Failure => button["style"] = json!("danger"),
            ActionKind::Heartbeat | ActionKind::Post => {}
        }
        buttons.push(button);
    }
    if buttons.is_empty() {
        return Err(invalid(
            "notify.slack needs an action a person can press: POST actions have no button",
        ));
    }
    let mut blocks = vec![json!({
        "type": "header",
        "text": {"type": "plain_text", "text": header},
    })];
    if !body.is_empty() {
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": body}}));
    }
    if let Some(millis) = links.expires_at_millis {
        let when = format_instant(links.locale, millis);
        blocks.push(json!({
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": format!(
                "{}: {}",
                escape_mrkdwn(&text(links.locale, "page-field-expires", &[])),
                slack_date(millis, &when)
            )}],
        }));
    }
    for (i, chunk) in buttons.chunks(BUTTONS_PER_BLOCK).enumerate() {
        blocks.push(json!({
            "type": "actions",
            "block_id": format!("sfn-callbacks-actions-{i}"),
            "elements": chunk,
        }));
    }
    Ok(SlackMessage {
        channel: channel.to_owned(),
        text: header.to_owned(),
        blocks: Value::Array(blocks),
    })
}

/// The Teams message for the links just made: an Adaptive Card with the
/// title, the text, the facts (each action's description, the expiry) and
/// one button per action opening its confirmation page.
pub(super) fn teams_message(
    webhook: &str,
    title: &str,
    body: &str,
    actions: &[Action],
    links: Links<'_>,
) -> Result<TeamsMessage, Rejection> {
    let title = title.trim();
    if title.is_empty() {
        return Err(invalid("notify.teams.title renders to nothing"));
    }
    let mut facts: Vec<Value> = pressable(actions)
        .filter_map(|a| {
            a.page
                .description
                .as_ref()
                .map(|d| json!({"title": label_of(a), "value": d}))
        })
        .collect();
    if let Some(millis) = links.expires_at_millis {
        facts.push(json!({
            "title": text(links.locale, "page-field-expires", &[]),
            "value": format_instant(links.locale, millis),
        }));
    }
    let mut content = vec![json!({
        "type": "TextBlock", "text": title, "size": "Large", "weight": "Bolder",
        "wrap": true, "style": "heading",
    })];
    if !body.trim().is_empty() {
        content.push(json!({"type": "TextBlock", "text": body.trim(), "wrap": true}));
    }
    if !facts.is_empty() {
        content.push(json!({"type": "FactSet", "facts": facts}));
    }
    let buttons: Vec<Value> = pressable(actions)
        .filter_map(|a| {
            let url = links.urls.get(a.name.as_str())?.as_str()?;
            let mut button = json!({"type": "Action.OpenUrl", "title": label_of(a), "url": url});
            match a.kind() {
                ActionKind::Success => button["style"] = json!("positive"),
                ActionKind::Failure => button["style"] = json!("destructive"),
                ActionKind::Heartbeat | ActionKind::Post => {}
            }
            Some(button)
        })
        .collect();
    if buttons.is_empty() {
        return Err(invalid(
            "notify.teams needs an action a person can press: POST actions have no button",
        ));
    }
    let body = json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": ADAPTIVE_CARD_VERSION,
                "body": content,
                "actions": buttons,
            },
        }],
    });
    let size = body.to_string().len();
    if size > MAX_TEAMS_BYTES {
        return Err(invalid(format!(
            "notify.teams: the card is {size} bytes; a Teams webhook takes at most {MAX_TEAMS_BYTES}"
        )));
    }
    Ok(TeamsMessage {
        webhook: webhook.to_owned(),
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slack_conversations_are_ids() {
        for ok in ["C0123ABC", "G01", "D0XYZ", "U0AAA", "W0BBB"] {
            assert!(is_slack_conversation(ok), "{ok}");
        }
        for bad in ["#general", "c0123", "C", "X0123", "C01-23", ""] {
            assert!(!is_slack_conversation(bad), "{bad}");
        }
    }

    #[test]
    fn teams_webhooks_are_matched_as_parsed_urls() {
        let prefixes = vec![
            "https://*.environment.api.powerplatform.com/powerautomate/".to_owned(),
            "https://prod-01.westus.logic.azure.com/workflows/".to_owned(),
        ];
        let allowed = |url: &str| teams_webhook_allowed(url, &prefixes);
        assert!(allowed(
            "https://default1.2a.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/0f/triggers/manual/paths/invoke?sig=x"
        ));
        assert!(allowed(
            "https://prod-01.westus.logic.azure.com/workflows/abc/triggers/manual?sig=x"
        ));
        for refused in [
            // The bare suffix, another suffix, a look-alike, a user name.
            "https://environment.api.powerplatform.com/powerautomate/x",
            "https://a.environment.api.powerplatform.com.evil.example/powerautomate/x",
            "https://a.evil-environment.api.powerplatform.com/powerautomate/x",
            "https://x@prod-01.westus.logic.azure.com/workflows/abc",
            // Another path, scheme or port.
            "https://prod-01.westus.logic.azure.com/other/abc",
            "http://prod-01.westus.logic.azure.com/workflows/abc",
            "https://prod-01.westus.logic.azure.com:8443/workflows/abc",
            "not a url",
        ] {
            assert!(!allowed(refused), "{refused}");
        }
        assert!(teams_webhook_shape("http://127.0.0.1:9/hook").is_ok());
        assert_eq!(
            teams_webhook_shape("http://teams.example/hook").map(drop),
            Err("it must be https")
        );
    }
}
