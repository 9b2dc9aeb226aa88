//! The chat channels of `notify`: a Slack message whose buttons carry each
//! action's sealed link (a press comes back to `/slack/interactions`), and
//! a Microsoft Teams Adaptive Card whose buttons open the confirmation
//! pages, in the shapes both services take. Where a notification may go
//! is the core's (`sfn_callbacks_core::notify`).

use serde_json::{Value, json};

use sfn_callbacks_core::action::{Action, ActionKind};
use sfn_callbacks_core::error::Rejection;

use super::{Links, SlackMessage, TeamsMessage, invalid};
use crate::slack::{clip, escape_mrkdwn, slack_date};
use crate::text::{format_instant, text};

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
