//! Who may decide: the approver rules CreateUrls seals into a link, the
//! requester who may never act on it, and the check of a verified identity
//! against both.
//!
//! A person may act when their verified identity matches any entry: an
//! email (case-insensitive, and only when the provider says it is
//! verified), an email domain (exactly that domain, of a verified email),
//! a group (as the provider names it, case-sensitive), or a Slack user ID
//! (for a press in Slack, whose signed request names the user). The
//! requester, an email or a Slack user, is refused whatever the rules say,
//! and whether or not their email is verified, so self-approval cannot
//! slip through an unverified claim.

use serde_json::Value;

use super::address::{domain_of, is_address, is_domain};
use super::error::{ErrorCode, Rejection};

/// The most entries one rule may list, emails, domains and groups together.
pub const MAX_APPROVER_ENTRIES: usize = 100;
/// The longest group name.
pub const MAX_GROUP_CHARS: usize = 256;

/// Who may act: emails, email domains and groups, lower-cased where the
/// comparison is case-insensitive, without repeats.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Approvers {
    /// Verified emails that may act.
    pub emails: Vec<String>,
    /// Domains whose verified emails may act.
    pub domains: Vec<String>,
    /// Groups (the provider's groups claim) whose members may act.
    pub groups: Vec<String>,
    /// Slack users (`U…` or `W…`) who may act from Slack.
    pub slack_users: Vec<String>,
}

/// A person as the OpenID Provider vouched for them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Identity {
    /// The provider (`iss`).
    pub issuer: String,
    /// The provider's id for the person (`sub`).
    pub subject: String,
    /// Their email, as given.
    pub email: Option<String>,
    /// Whether the provider verified the email (`email_verified`).
    pub email_verified: bool,
    /// Their name.
    pub name: Option<String>,
    /// Their groups.
    pub groups: Vec<String>,
    /// Their Slack user ID, when they pressed a button in Slack (Slack's
    /// signed request names them; `issuer` is then `slack`).
    pub slack_user: Option<String>,
}

/// Who may act on one link: the rules that apply to its action and the
/// requester, sealed with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gate {
    /// The action's own rules, else the request's.
    pub approvers: Approvers,
    /// The person who asked, who never decides: their email.
    pub requester: Option<String>,
    /// The person who asked, as a Slack user ID.
    pub requester_slack: Option<String>,
}

impl Gate {
    /// Whether `who` may act.
    pub fn check(&self, who: &Identity) -> Result<(), Refusal> {
        let requester = Requester {
            email: self.requester.as_deref(),
            slack_user: self.requester_slack.as_deref(),
        };
        may_decide(&self.approvers, requester, who)
    }
}

impl Identity {
    /// The record of who decided, as a success output carries it.
    pub fn record(&self) -> Value {
        if let Some(user) = &self.slack_user {
            return serde_json::json!({"slack_user": user, "email": self.email, "name": self.name});
        }
        serde_json::json!({
            "sub": self.subject,
            "email": self.email,
            "name": self.name,
            "iss": self.issuer,
        })
    }

    /// How the person is named to them and in a failure's cause: the
    /// email, else the name, else the subject.
    pub fn display(&self) -> &str {
        self.email
            .as_deref()
            .or(self.name.as_deref())
            .unwrap_or(&self.subject)
    }
}

/// Why a verified person may not act on a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No rule lets them.
    NotAnApprover,
    /// They asked for the decision; nobody approves their own request.
    Requester,
    /// A Slack user for whom Slack gives no email, on a link whose
    /// requester is named by email: they may be the requester.
    Unidentified,
}

impl Refusal {
    /// Why, after the person's name: "alice@example.com is not among the
    /// approvers".
    pub fn reason(self) -> &'static str {
        match self {
            Self::NotAnApprover => "is not among the approvers",
            Self::Requester => "asked for this decision, so someone else must make it",
            Self::Unidentified => {
                "cannot be told apart from the requester, because Slack gives no email for them"
            }
        }
    }
}

fn invalid(message: String) -> Rejection {
    Rejection::new(ErrorCode::InvalidApprovers, message)
}

/// The strings of `list`, or a rejection naming `field`.
fn strings<'v>(field: &str, list: &'v Value) -> Result<Vec<&'v str>, Rejection> {
    let Some(items) = list.as_array() else {
        return Err(invalid(format!("{field} must be a list of strings")));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            item.as_str()
                .ok_or_else(|| invalid(format!("{field}[{i}] must be a string")))
        })
        .collect()
}

fn push_new(list: &mut Vec<String>, value: String) {
    if !list.contains(&value) {
        list.push(value);
    }
}

impl Approvers {
    /// Parses an `approvers` object; `field` names it in errors (for
    /// example `approvers` or `actions[1].approvers`).
    pub fn from_value(field: &str, value: &Value) -> Result<Self, Rejection> {
        let Some(object) = value.as_object() else {
            return Err(invalid(format!(
                "{field} must be an object with emails, domains or groups"
            )));
        };
        let mut approvers = Self::default();
        let mut entries = 0usize;
        for (key, list) in object {
            let at = format!("{field}.{key}");
            let items = match key.as_str() {
                "emails" | "domains" | "groups" | "slack_users" => strings(&at, list)?,
                _ => {
                    return Err(invalid(format!(
                        "{at} is not a field of approvers; use emails, domains, groups or slack_users"
                    )));
                }
            };
            entries += items.len();
            if entries > MAX_APPROVER_ENTRIES {
                return Err(invalid(format!(
                    "{field} lists more than {MAX_APPROVER_ENTRIES} entries"
                )));
            }
            for (i, item) in items.into_iter().enumerate() {
                match key.as_str() {
                    "emails" if is_address(item) => {
                        push_new(&mut approvers.emails, item.to_ascii_lowercase());
                    }
                    "emails" => {
                        return Err(invalid(format!("{at}[{i}] is not an email address")));
                    }
                    "domains" => {
                        let domain = item.strip_prefix('@').unwrap_or(item);
                        if !is_domain(domain) {
                            return Err(invalid(format!("{at}[{i}] is not a domain")));
                        }
                        push_new(&mut approvers.domains, domain.to_ascii_lowercase());
                    }
                    "slack_users" if is_slack_user(item) => {
                        push_new(&mut approvers.slack_users, item.to_owned());
                    }
                    "slack_users" => {
                        return Err(invalid(format!(
                            "{at}[{i}] is not a Slack user ID (U or W, then capital letters and digits)"
                        )));
                    }
                    _ => {
                        if item.is_empty() || item.chars().count() > MAX_GROUP_CHARS {
                            return Err(invalid(format!(
                                "{at}[{i}] must be a group name of 1 to {MAX_GROUP_CHARS} characters"
                            )));
                        }
                        push_new(&mut approvers.groups, item.to_owned());
                    }
                }
            }
        }
        if entries == 0 {
            return Err(invalid(format!(
                "{field} lists nobody: give at least one email, domain, group or Slack user"
            )));
        }
        Ok(approvers)
    }

    /// Whether a rule lets `who` act.
    pub fn admits(&self, who: &Identity) -> bool {
        let verified = who
            .email
            .as_deref()
            .filter(|_| who.email_verified)
            .map(str::to_ascii_lowercase);
        let by_email = verified.is_some_and(|email| {
            self.emails.contains(&email) || self.domains.iter().any(|d| d == domain_of(&email))
        });
        let by_slack = who
            .slack_user
            .as_ref()
            .is_some_and(|user| self.slack_users.contains(user));
        by_email || by_slack || who.groups.iter().any(|g| self.groups.contains(g))
    }

    /// Whether a press in Slack can meet every rule: Slack names the user
    /// and gives their email, but knows no provider's groups.
    pub fn slack_can_meet(&self) -> bool {
        self.groups.is_empty()
    }
}

/// Whether `text` is a Slack user ID: `U` or `W` (an Enterprise Grid
/// user), then 2 to 31 capital letters and digits.
pub fn is_slack_user(text: &str) -> bool {
    let mut chars = text.chars();
    matches!(chars.next(), Some('U' | 'W'))
        && (3..=32).contains(&text.len())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// Who asked for a decision, as CreateUrls' `requester` names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParsedRequester {
    /// An email address (lower-cased).
    Email(String),
    /// A Slack user ID.
    Slack(String),
}

/// Checks a requester: an email address or a Slack user ID.
pub fn parse_requester(field: &str, value: &Value) -> Result<ParsedRequester, Rejection> {
    match value.as_str() {
        Some(email) if is_address(email) => Ok(ParsedRequester::Email(email.to_ascii_lowercase())),
        Some(user) if is_slack_user(user) => Ok(ParsedRequester::Slack(user.to_owned())),
        _ => Err(invalid(format!(
            "{field} must be an email address or a Slack user ID"
        ))),
    }
}

/// The person who asked, by every name the link knows them by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Requester<'a> {
    /// Their email.
    pub email: Option<&'a str>,
    /// Their Slack user ID.
    pub slack_user: Option<&'a str>,
}

/// Whether `who` may act on a link with these rules and this requester.
pub fn may_decide(
    approvers: &Approvers,
    requester: Requester<'_>,
    who: &Identity,
) -> Result<(), Refusal> {
    let by_email = requester.email.is_some_and(|r| {
        who.email
            .as_deref()
            .is_some_and(|email| email.eq_ignore_ascii_case(r))
    });
    let by_slack = requester
        .slack_user
        .is_some_and(|r| who.slack_user.as_deref() == Some(r));
    let is_requester = by_email || by_slack;
    // Whom Slack names without an email could be the requester named by
    // email: refused rather than guessed.
    if !is_requester && requester.email.is_some() && who.slack_user.is_some() && who.email.is_none()
    {
        return Err(Refusal::Unidentified);
    }
    if is_requester {
        return Err(Refusal::Requester);
    }
    if approvers.admits(who) {
        Ok(())
    } else {
        Err(Refusal::NotAnApprover)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn person(email: &str, verified: bool, groups: &[&str]) -> Identity {
        Identity {
            issuer: "https://idp.example.com".into(),
            subject: format!("sub-{email}"),
            email: Some(email.into()),
            email_verified: verified,
            name: None,
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            slack_user: None,
        }
    }

    fn by_email(email: &str) -> Requester<'_> {
        Requester {
            email: Some(email),
            slack_user: None,
        }
    }

    fn slack(user: &str, email: Option<&str>) -> Identity {
        Identity {
            issuer: "slack".into(),
            subject: user.into(),
            email: email.map(str::to_owned),
            email_verified: email.is_some(),
            name: None,
            groups: Vec::new(),
            slack_user: Some(user.into()),
        }
    }

    fn rules(value: Value) -> Approvers {
        Approvers::from_value("approvers", &value).expect("valid")
    }

    #[test]
    fn entries_are_normalised_and_deduplicated() {
        let approvers = rules(json!({
            "emails": ["Alice@Example.com", "alice@example.com"],
            "domains": ["@Leads.Example.com"],
            "groups": ["Release-Managers", "Release-Managers"]
        }));
        assert_eq!(approvers.emails, ["alice@example.com"]);
        assert_eq!(approvers.domains, ["leads.example.com"]);
        assert_eq!(approvers.groups, ["Release-Managers"]);
    }

    #[test]
    fn each_rule_admits_the_right_person() {
        let approvers = rules(json!({
            "emails": ["alice@example.com"],
            "domains": ["leads.example.com"],
            "groups": ["release-managers"]
        }));
        let check = |who: &Identity| may_decide(&approvers, Requester::default(), who);
        assert_eq!(check(&person("ALICE@example.com", true, &[])), Ok(()));
        assert_eq!(check(&person("dana@leads.example.com", true, &[])), Ok(()));
        assert_eq!(
            check(&person("erin@other.example", true, &["release-managers"])),
            Ok(())
        );
        // Not listed; a subdomain or a parent is another domain; groups
        // are compared as the provider spells them.
        for who in [
            person("bob@example.com", true, &[]),
            person("frank@eu.leads.example.com", true, &[]),
            person("gina@example.com", true, &["Release-Managers"]),
        ] {
            assert_eq!(check(&who), Err(Refusal::NotAnApprover), "{who:?}");
        }
    }

    #[test]
    fn an_unverified_email_matches_no_email_or_domain_rule() {
        let approvers = rules(json!({"emails": ["alice@example.com"], "domains": ["example.com"]}));
        let unverified = person("alice@example.com", false, &[]);
        assert_eq!(
            may_decide(&approvers, Requester::default(), &unverified),
            Err(Refusal::NotAnApprover)
        );
        let no_email = Identity {
            email: None,
            ..person("x@example.com", true, &[])
        };
        assert_eq!(
            may_decide(&approvers, Requester::default(), &no_email),
            Err(Refusal::NotAnApprover)
        );
    }

    #[test]
    fn the_requester_never_decides_even_when_listed() {
        let approvers = rules(json!({"emails": ["alice@example.com"], "groups": ["leads"]}));
        for who in [
            person("Alice@Example.com", true, &["leads"]),
            // Unverified or not, it is the requester's own address.
            person("alice@example.com", false, &["leads"]),
        ] {
            assert_eq!(
                may_decide(&approvers, by_email("alice@example.com"), &who),
                Err(Refusal::Requester)
            );
        }
        let bob = person("bob@example.com", true, &["leads"]);
        assert_eq!(
            may_decide(&approvers, by_email("alice@example.com"), &bob),
            Ok(())
        );
    }

    #[test]
    fn bad_rules_are_refused_naming_the_field() {
        let cases = [
            (json!(["alice@example.com"]), "approvers must be an object"),
            (
                json!({"emails": "alice@example.com"}),
                "approvers.emails must be a list",
            ),
            (
                json!({"emails": [3]}),
                "approvers.emails[0] must be a string",
            ),
            (
                json!({"emails": ["alice"]}),
                "approvers.emails[0] is not an email",
            ),
            (
                json!({"domains": ["localhost"]}),
                "approvers.domains[0] is not a domain",
            ),
            (
                json!({"groups": [""]}),
                "approvers.groups[0] must be a group name",
            ),
            (json!({"users": ["u"]}), "approvers.users is not a field"),
            (json!({}), "approvers lists nobody"),
            (
                json!({"emails": [], "groups": []}),
                "approvers lists nobody",
            ),
        ];
        for (value, needle) in cases {
            let err = Approvers::from_value("approvers", &value).expect_err("refused");
            assert_eq!(err.code, ErrorCode::InvalidApprovers);
            assert!(err.message.starts_with(needle), "{value}: {}", err.message);
        }
        let many: Vec<String> = (0..=MAX_APPROVER_ENTRIES)
            .map(|i| format!("g{i}"))
            .collect();
        let err = Approvers::from_value("actions[0].approvers", &json!({"groups": many}))
            .expect_err("too many");
        assert!(
            err.message
                .contains("actions[0].approvers lists more than 100"),
            "{}",
            err.message
        );
        assert!(Approvers::from_value("a", &json!({"groups": many[..100]})).is_ok());
    }

    #[test]
    fn requesters_are_email_addresses_or_slack_users() {
        assert_eq!(
            parse_requester("requester", &json!("Alice@Example.com")).expect("ok"),
            ParsedRequester::Email("alice@example.com".into())
        );
        assert_eq!(
            parse_requester("requester", &json!("U0123ABCD")).expect("ok"),
            ParsedRequester::Slack("U0123ABCD".into())
        );
        for bad in [
            json!("alice"),
            json!("u0123abcd"),
            json!("C0123"),
            json!(7),
            json!(null),
        ] {
            let err = parse_requester("requester", &bad).expect_err("refused");
            assert_eq!(
                err.message,
                "requester must be an email address or a Slack user ID"
            );
        }
    }

    #[test]
    fn slack_users_act_by_id_or_by_their_profile_email() {
        let approvers = rules(json!({
            "slack_users": ["U0AAA", "U0AAA", "W0BBB"],
            "domains": ["leads.example.com"]
        }));
        assert_eq!(approvers.slack_users, ["U0AAA", "W0BBB"]);
        assert!(approvers.slack_can_meet());
        let check = |who: &Identity, requester| may_decide(&approvers, requester, who);
        let none = Requester::default();
        assert_eq!(check(&slack("U0AAA", None), none), Ok(()));
        assert_eq!(check(&slack("W0BBB", None), none), Ok(()));
        assert_eq!(
            check(&slack("U0CCC", Some("carol@leads.example.com")), none),
            Ok(())
        );
        assert_eq!(
            check(&slack("U0CCC", Some("carol@other.example")), none),
            Err(Refusal::NotAnApprover)
        );
        // An OpenID identity never matches a Slack ID rule.
        assert_eq!(
            check(&person("u0aaa@other.example", true, &[]), none),
            Err(Refusal::NotAnApprover)
        );
        // The requester, by their Slack ID or by the email Slack gives.
        let requester = Requester {
            email: Some("rita@leads.example.com"),
            slack_user: Some("U0AAA"),
        };
        assert_eq!(
            check(&slack("U0AAA", None), requester),
            Err(Refusal::Requester)
        );
        assert_eq!(
            check(&person("rita@leads.example.com", true, &[]), requester),
            Err(Refusal::Requester)
        );
        assert_eq!(
            check(&slack("W0BBB", Some("bob@example.com")), requester),
            Ok(())
        );
        // Without an email, a Slack user may be the requester named by email.
        assert_eq!(
            check(&slack("W0BBB", None), requester),
            Err(Refusal::Unidentified)
        );
        assert_eq!(
            check(&slack("W0BBB", None), Requester::default()),
            Ok(()),
            "no requester: nothing to tell apart"
        );
        assert!(!rules(json!({"slack_users": ["U0AAA"], "groups": ["g"]})).slack_can_meet());
        for bad in ["u0aaa", "C0AAA", "U", "U0-AA"] {
            let err = Approvers::from_value("approvers", &json!({"slack_users": [bad]}))
                .expect_err("refused");
            assert!(
                err.message
                    .starts_with("approvers.slack_users[0] is not a Slack user ID"),
                "{bad}: {}",
                err.message
            );
        }
    }

    #[test]
    fn a_slack_press_is_recorded_as_the_slack_user() {
        assert_eq!(
            slack("U0AAA", Some("a@example.com")).record(),
            json!({"slack_user": "U0AAA", "email": "a@example.com", "name": null})
        );
    }
}
