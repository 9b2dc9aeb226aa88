//! Where a notification may go: the shapes of a Slack conversation ID and
//! of a Teams Workflows webhook, and the deployment's prefixes a webhook
//! must be under. Checked when `notify` is parsed and again against the
//! deployment's [`super::NotifyPolicy`].

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
pub fn teams_webhook_shape(webhook: &str) -> Result<url::Url, &'static str> {
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
