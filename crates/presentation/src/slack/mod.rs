//! Slack's shapes: the interaction payloads Slack posts to
//! `/slack/interactions`, the modal an action with a comment or a
//! form opens, and the messages a press leaves behind. Nothing here talks
//! to Slack; the binary's chat adapter does.

pub mod interaction;
pub mod modal;

use serde_json::{Value, json};

use sfn_callbacks_core::locale::Locale;

use crate::text::{Arg, format_instant, text};

/// `text` cut to `max` characters, with an ellipsis when cut.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Escapes what Slack's `mrkdwn` reads as markup.
pub fn escape_mrkdwn(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// An instant as Slack shows it in each reader's own time zone, with
/// `fallback` where it cannot.
pub fn slack_date(unix_millis: i64, fallback: &str) -> String {
    format!(
        "<!date^{}^{{date_short_pretty}} {{time}}|{}>",
        unix_millis.div_euclid(1000),
        escape_mrkdwn(fallback)
    )
}

/// The line of a decided message: "*Approve* chosen by <@U…> · date".
pub fn outcome_line(locale: Locale, label: &str, user: &str, at_millis: i64) -> String {
    let action = format!("*{}*", escape_mrkdwn(label));
    let who = format!("<@{user}>");
    let when = slack_date(at_millis, &format_instant(locale, at_millis));
    text(
        locale,
        "slack-decided",
        &[
            ("action", Arg::from(action.as_str())),
            ("who", Arg::from(who.as_str())),
            ("when", Arg::from(when.as_str())),
        ],
    )
}

/// What replaces a message once someone decided: the blocks it had but
/// its buttons, then who chose what and when. Posted to the press's
/// `response_url` with `replace_original`.
pub fn decided_message(kept: &[Value], outcome: &str) -> Value {
    let mut blocks: Vec<Value> = kept
        .iter()
        .filter(|b| b["type"] != "actions" && b["block_id"] != OUTCOME_BLOCK)
        .cloned()
        .collect();
    blocks.push(json!({
        "type": "section",
        "block_id": OUTCOME_BLOCK,
        "text": {"type": "mrkdwn", "text": outcome},
    }));
    json!({
        "replace_original": true,
        "text": outcome,
        "blocks": blocks,
    })
}

/// The `block_id` of a decided message's last block.
const OUTCOME_BLOCK: &str = "sfn-callbacks-outcome";

/// A message only the person who pressed sees; the message with the
/// buttons stays as it is for the others.
pub fn ephemeral(text: &str) -> Value {
    json!({
        "response_type": "ephemeral",
        "replace_original": false,
        "text": text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mrkdwn_escapes_only_its_markup() {
        assert_eq!(escape_mrkdwn("a & <b> *c*"), "a &amp; &lt;b&gt; *c*");
        assert_eq!(
            slack_date(1_900_000_000_123, "Mar 17, 2030 <x>"),
            "<!date^1900000000^{date_short_pretty} {time}|Mar 17, 2030 &lt;x&gt;>"
        );
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 4), "abc");
    }

    #[test]
    fn a_decided_message_keeps_its_words_and_drops_its_buttons() {
        let kept = [
            json!({"type": "header", "text": {"type": "plain_text", "text": "Deploy?"}}),
            json!({"type": "actions", "elements": []}),
        ];
        let line = outcome_line(Locale::En, "Approve <1>", "U0AAA", 1_900_000_000_000);
        assert_eq!(
            line,
            "*Approve &lt;1&gt;* chosen by <@U0AAA> · <!date^1900000000^{date_short_pretty} {time}|Mar 17, 2030, 5:46\u{202f}PM UTC>"
        );
        let message = decided_message(&kept, &line);
        assert_eq!(message["replace_original"], true);
        let blocks = message["blocks"].as_array().expect("blocks");
        assert_eq!(blocks.len(), 2, "{message}");
        assert_eq!(blocks[0]["type"], "header");
        assert_eq!(blocks[1]["text"]["text"], line);
        // Deciding again (a replay) does not stack outcomes.
        let again = decided_message(blocks, &line);
        assert_eq!(again["blocks"].as_array().map(Vec::len), Some(2));
        assert_eq!(
            ephemeral("no")["response_type"],
            "ephemeral",
            "only the presser sees errors"
        );
    }
}
