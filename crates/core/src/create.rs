//! CreateUrls: from a request body to one sealed callback URL per action.
//!
//! [`CreateRequest::parse`] checks everything a caller can get wrong and
//! names it; [`make_urls`] then cannot fail. Sealing is handed in as a
//! closure so that keys, nonces and the clock stay at the edge.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::action::{Action, ActionEffect, ActionKind, RawAction, parse_action, redirect_origin};
use super::approvers::{Approvers, Gate, ParsedRequester, parse_requester};
use super::error::{ErrorCode, Rejection};
use super::features::Features;
use super::locale::Locale;
use super::notify::{Notified, NotifySpec};
use super::payload::{
    Choice, Claims, MAX_DATA_CHARS, NONCE_LEN, Review, SealWith, TransactionId, seal, seal_review,
};
use super::token::{CallbackId, TaskToken, Token};

/// Where the URLs point when the caller asks for another deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BaseUrl {
    /// A full base URL.
    Url(String),
    /// An API Gateway API, as `{api_id, stage, region?}`.
    Api {
        /// The API id.
        api_id: String,
        /// The stage name.
        stage: String,
        /// The region, else the deployment's own.
        region: Option<String>,
    },
}

impl BaseUrl {
    /// The base URL as text, without a trailing slash.
    pub fn resolve(&self, default_region: &str) -> String {
        match self {
            Self::Url(url) => url.trim_end_matches('/').to_owned(),
            Self::Api {
                api_id,
                stage,
                region,
            } => format!(
                "https://{api_id}.execute-api.{}.amazonaws.com/{stage}",
                region.as_deref().unwrap_or(default_region)
            ),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCreateUrls {
    #[serde(default, deserialize_with = "present")]
    token: Option<String>,
    #[serde(default, deserialize_with = "present")]
    callback_id: Option<String>,
    actions: Vec<RawAction>,
    expiration: Option<String>,
    enable_output_parameters: Option<bool>,
    base_url: Option<RawBaseUrl>,
    notify: Option<Value>,
    approvers: Option<Value>,
    requester: Option<Value>,
    review: Option<bool>,
    locale: Option<String>,
    requested_by: Option<Value>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawBaseUrl {
    Url(String),
    Api(RawApi),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApi {
    api_id: String,
    stage: String,
    region: Option<String>,
}

/// A checked CreateUrls request.
#[derive(Debug, Clone)]
pub struct CreateRequest {
    /// The task token or callback ID the links answer.
    pub token: Token,
    /// At least one action, names unique.
    pub actions: Vec<Action>,
    /// Who may act on each action's link (same order as `actions`):
    /// `None` for a bearer link.
    pub gates: Vec<Option<Gate>>,
    /// When the links stop working (in the future at parse time).
    pub expiration: Option<Expiration>,
    /// Whether output parameters apply (asked for, and allowed).
    pub output_parameters: bool,
    /// Another deployment to point at.
    pub base_url: Option<BaseUrl>,
    /// A notification to send with the links.
    pub notify: Option<NotifySpec>,
    /// Whether to add one review link for all the actions a person can
    /// press (every action but the `post` ones).
    pub review: bool,
    /// The language the links' pages speak, whatever the browser asks.
    pub locale: Option<Locale>,
    /// Who asked, as the pages and messages name them.
    pub requested_by: Option<String>,
}

impl CreateRequest {
    /// Who asked, for the messages to say: `requested_by`, else the
    /// requester's email (one request, one requester).
    pub fn asked_by(&self) -> Option<&str> {
        self.requested_by.as_deref().or_else(|| {
            self.gates
                .iter()
                .find_map(|g| g.as_ref().and_then(|g| g.requester.as_deref()))
        })
    }
}

/// The longest `requested_by`, in characters.
pub const MAX_REQUESTED_BY: usize = 200;

/// CreateUrls' `requested_by`: a name to show, 1 to 200 characters after
/// trimming, on one line (no control characters).
fn parse_requested_by(raw: Option<Value>) -> Result<Option<String>, Rejection> {
    let Some(raw) = raw else { return Ok(None) };
    let refused = |why: &str| invalid_json(format!("requested_by {why}"));
    let Value::String(text) = raw else {
        return Err(refused(
            "must be a string: the name the pages show as who asked",
        ));
    };
    let text = text.trim();
    if text.is_empty() {
        return Err(refused("is empty"));
    }
    if text.chars().count() > MAX_REQUESTED_BY {
        return Err(refused(&format!(
            "is longer than {MAX_REQUESTED_BY} characters"
        )));
    }
    if text.chars().any(char::is_control) {
        return Err(refused("has a line break or another control character"));
    }
    Ok(Some(text.to_owned()))
}

fn invalid_json(message: impl Into<String>) -> Rejection {
    Rejection::new(ErrorCode::InvalidJson, message)
}

fn is_label(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn parse_base_url(raw: RawBaseUrl) -> Result<BaseUrl, Rejection> {
    match raw {
        RawBaseUrl::Url(url) => normalise_base_url(&url).map(BaseUrl::Url).ok_or_else(|| {
            invalid_json(
                "base_url must be an absolute http or https URL without a query or fragment",
            )
        }),
        RawBaseUrl::Api(api) => {
            let ok = is_label(&api.api_id)
                && is_label(&api.stage)
                && api.region.as_deref().is_none_or(is_label);
            if ok {
                Ok(BaseUrl::Api {
                    api_id: api.api_id,
                    stage: api.stage,
                    region: api.region,
                })
            } else {
                Err(invalid_json(
                    "base_url.api_id, stage and region may hold only letters, digits, '-' and '_'",
                ))
            }
        }
    }
}

/// A checked expiration and the text the caller wrote, echoed back as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expiration {
    /// The instant.
    pub at: OffsetDateTime,
    /// The caller's RFC 3339 text.
    pub text: String,
}

/// A base URL in normalised form (what was checked is what is used),
/// without a trailing slash; `None` unless it is an absolute http(s) URL
/// with a host and no query or fragment.
pub fn normalise_base_url(raw: &str) -> Option<String> {
    let url = url::Url::parse(raw).ok()?;
    let ok = matches!(url.scheme(), "http" | "https")
        && url.host().is_some()
        && url.query().is_none()
        && url.fragment().is_none();
    ok.then(|| url.as_str().trim_end_matches('/').to_owned())
}

/// Parses an RFC 3339 expiration that must carry an offset (`Z` or
/// `+hh:mm`) and lie after `now`.
pub fn parse_expiration(raw: &str, now: OffsetDateTime) -> Result<OffsetDateTime, Rejection> {
    let parsed = OffsetDateTime::parse(raw, &Rfc3339).map_err(|e| {
        Rejection::new(
            ErrorCode::InvalidDate,
            format!(
                "expiration {raw:?} is not an RFC 3339 date-time with a UTC offset, like 2030-01-31T17:00:00Z ({e})"
            ),
        )
    })?;
    if parsed <= now {
        return Err(Rejection::new(
            ErrorCode::InvalidDate,
            format!("expiration {raw:?} is in the past"),
        ));
    }
    Ok(parsed)
}

/// A field that may be left out but, when given, is a string (`null`
/// is refused like any other non-string).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    String::deserialize(d).map(Some)
}

/// The one thing the links answer: a Step Functions `token` or a Lambda
/// durable execution's `callback_id`, never both.
fn parse_token(token: Option<String>, callback_id: Option<String>) -> Result<Token, Rejection> {
    match (token, callback_id) {
        (Some(token), None) => TaskToken::parse(token)
            .map(Token::Task)
            .map_err(invalid_json),
        (None, Some(id)) => CallbackId::parse(id)
            .map(Token::Callback)
            .map_err(invalid_json),
        (Some(_), Some(_)) => Err(invalid_json(
            "give token (a Step Functions task token) or callback_id (a Lambda durable execution callback ID), not both",
        )),
        (None, None) => Err(invalid_json(
            "the request needs token (a Step Functions task token) or callback_id (a Lambda durable execution callback ID)",
        )),
    }
}

impl CreateRequest {
    /// Parses a request body.
    pub fn parse(body: &[u8], policy: Features, now: OffsetDateTime) -> Result<Self, Rejection> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| invalid_json(format!("the request body is not valid JSON: {e}")))?;
        Self::from_value(value, policy, now)
    }

    /// Parses a request already read as JSON (a direct invoke's event).
    pub fn from_value(
        value: Value,
        policy: Features,
        now: OffsetDateTime,
    ) -> Result<Self, Rejection> {
        if !value.is_object() {
            return Err(invalid_json("the request must be a JSON object"));
        }
        let raw: RawCreateUrls = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if path == "." {
                invalid_json(format!("the request is not valid: {inner}"))
            } else {
                invalid_json(format!("the request is not valid at {path}: {inner}"))
            }
        })?;
        let token = parse_token(raw.token, raw.callback_id)?;
        if raw.actions.is_empty() {
            return Err(invalid_json("actions must hold at least one action"));
        }
        let shared = raw
            .approvers
            .as_ref()
            .map(|v| Approvers::from_value("approvers", v))
            .transpose()?;
        let requester = raw
            .requester
            .as_ref()
            .map(|v| parse_requester("requester", v))
            .transpose()?;
        let mut seen = HashSet::new();
        let mut actions = Vec::with_capacity(raw.actions.len());
        let mut gates = Vec::with_capacity(raw.actions.len());
        for (i, mut raw_action) in raw.actions.into_iter().enumerate() {
            // An action's own rules replace the request's; `null` opens the
            // action to anyone holding the link.
            let rules = match raw_action.take_approvers() {
                Some(Value::Null) => None,
                Some(own) => Some(Approvers::from_value(
                    &format!("actions[{i}].approvers"),
                    &own,
                )?),
                None => shared.clone(),
            };
            // Without sign-in, rules need Slack, and no groups (which only
            // the OpenID Provider knows).
            let reachable = |approvers: &Approvers| {
                policy.sign_in || (policy.slack && approvers.slack_can_meet())
            };
            if let Some(approvers) = &rules {
                if !approvers.slack_users.is_empty() && !policy.slack {
                    return Err(Rejection::new(
                        ErrorCode::InvalidApprovers,
                        format!(
                            "actions[{i}]: approvers.slack_users need Slack, which this deployment does not offer: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET"
                        ),
                    ));
                }
                if !reachable(approvers) {
                    return Err(Rejection::new(
                        ErrorCode::SignInNotConfigured,
                        "approvers need sign-in, which this deployment does not offer: set OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET",
                    ));
                }
            }
            let gate = rules.map(|approvers| Gate {
                approvers,
                requester: match &requester {
                    Some(ParsedRequester::Email(email)) => Some(email.clone()),
                    _ => None,
                },
                requester_slack: match &requester {
                    Some(ParsedRequester::Slack(user)) => Some(user.clone()),
                    _ => None,
                },
            });
            let action = parse_action(raw_action, policy.post_actions)?;
            if gate.is_some()
                && let ActionEffect::Success { output } = &action.effect
            {
                let problem = if !output.is_object() {
                    Some(
                        "on a link bound to approvers the output must be a JSON object, so that it can carry who decided (wrap the value, for example {\"value\": ...})",
                    )
                } else if output.get("approver").is_some() {
                    Some(
                        "the output may not hold an \"approver\" field on a link bound to approvers; the service adds who decided there",
                    )
                } else {
                    None
                };
                if let Some(problem) = problem {
                    return Err(Rejection::new(
                        ErrorCode::InvalidAction,
                        format!("action {:?}: {problem}", action.name.as_str()),
                    ));
                }
            }
            gates.push(gate);
            if !seen.insert(action.name.clone()) {
                return Err(Rejection::new(
                    ErrorCode::DuplicateActionName,
                    format!("action {:?} is given more than once", action.name.as_str()),
                ));
            }
            actions.push(action);
        }
        let expiration = match raw.expiration {
            Some(text) => Some(Expiration {
                at: parse_expiration(&text, now)?,
                text,
            }),
            None => None,
        };
        let output_parameters = raw.enable_output_parameters.unwrap_or(false);
        if output_parameters && !policy.output_parameters {
            return Err(Rejection::new(
                ErrorCode::ParametersDisabled,
                "enable_output_parameters was requested, but output parameters are not enabled in this deployment (ENABLE_OUTPUT_PARAMETERS)",
            ));
        }
        if output_parameters {
            for action in &actions {
                let redirect = action.response.as_ref().and_then(|r| r.redirect.as_deref());
                if redirect.is_some_and(|r| redirect_origin(r).contains('$')) {
                    return Err(Rejection::new(
                        ErrorCode::InvalidAction,
                        format!(
                            "action {:?}: output parameters may appear in a redirect's path, query or fragment, not in its scheme or host",
                            action.name.as_str()
                        ),
                    ));
                }
            }
        }
        if matches!(requester, Some(ParsedRequester::Slack(_))) && !policy.slack {
            return Err(Rejection::new(
                ErrorCode::InvalidApprovers,
                "requester is a Slack user ID, and this deployment has no Slack: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET, or give the requester's email",
            ));
        }
        if requester.is_some() && gates.iter().all(Option::is_none) {
            return Err(Rejection::new(
                ErrorCode::InvalidApprovers,
                "requester only applies to links bound to approvers: give approvers too",
            ));
        }
        let review = raw.review.unwrap_or(false);
        if review && actions.iter().all(|a| a.kind() == ActionKind::Post) {
            return Err(Rejection::new(
                ErrorCode::InvalidAction,
                "review: a review link shows the actions a person can press, and every action here is a post action; leave review out",
            ));
        }
        let base_url = raw.base_url.map(parse_base_url).transpose()?;
        let notify = raw.notify.map(NotifySpec::parse).transpose()?;
        let to_slack = matches!(
            notify.as_ref().map(|n| &n.channel),
            Some(super::notify::Channel::Slack(_))
        );
        // Without sign-in, only a Slack press can meet approvers: a bound
        // link must go out as a Slack button, and a bound POST action (a
        // program's, with no button) could never be answered.
        if !policy.sign_in {
            for (action, gate) in actions.iter().zip(&gates) {
                if gate.is_none() {
                    continue;
                }
                let problem = if action.kind() == ActionKind::Post {
                    Some(
                        "a post action bound to approvers needs sign-in (a bearer ID token of OIDC_ISSUER), which this deployment does not offer",
                    )
                } else if !to_slack {
                    Some(
                        "without sign-in (OIDC_ISSUER), approvers can only decide by pressing a Slack button: send the links with notify.slack, or leave approvers out",
                    )
                } else {
                    None
                };
                if let Some(problem) = problem {
                    return Err(Rejection::new(
                        ErrorCode::SignInNotConfigured,
                        format!("action {:?}: {problem}", action.name.as_str()),
                    ));
                }
            }
        }
        // A press in Slack carries no query: output parameters cannot come.
        if to_slack && output_parameters {
            return Err(Rejection::new(
                ErrorCode::InvalidNotify,
                "notify.slack: output parameters come from a link's query, which a Slack button does not have; leave enable_output_parameters out",
            ));
        }
        let locale = raw
            .locale
            .as_deref()
            .map(Locale::parse_sealed)
            .transpose()?;
        let requested_by = parse_requested_by(raw.requested_by)?;
        Ok(Self {
            token,
            actions,
            gates,
            expiration,
            output_parameters,
            base_url,
            notify,
            review,
            locale,
            requested_by,
        })
    }
}

/// The CreateUrls answer, as the old service shaped it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CreateUrlsOutput {
    /// 32 hex digits naming this call.
    pub transaction_id: String,
    /// One URL per action name.
    pub urls: Map<String, Value>,
    /// The expiration, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration: Option<String>,
    /// The review link, when `review` was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_url: Option<String>,
    /// The notification sent with the links, when one was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notified: Option<Notified>,
}

/// The callback URL of one action.
pub fn callback_url(base: &str, action: &Action, data: &str) -> String {
    let name: String =
        url::form_urlencoded::byte_serialize(action.name.as_str().as_bytes()).collect();
    format!(
        "{}/respond?action={name}&type={}&data={data}",
        base.trim_end_matches('/'),
        action.kind()
    )
}

/// The review link: its `data` alone, since it answers no one action.
pub fn review_url(base: &str, data: &str) -> String {
    format!("{}/respond?data={data}", base.trim_end_matches('/'))
}

/// What the review link seals: every action but the `post` ones, with
/// their gates, under the claims every link of the request shares.
pub fn review_for(
    request: &CreateRequest,
    transaction_id: TransactionId,
    now: OffsetDateTime,
) -> Review {
    Review {
        token: request.token.clone(),
        transaction_id,
        issued_at_secs: now.unix_timestamp(),
        expires_at_millis: expires_at_millis(request),
        output_parameters: request.output_parameters,
        locale: request.locale,
        requested_by: request.requested_by.clone(),
        choices: request
            .actions
            .iter()
            .zip(&request.gates)
            .filter(|(action, _)| action.kind() != ActionKind::Post)
            .map(|(action, gate)| Choice {
                action: action.clone(),
                gate: gate.clone(),
            })
            .collect(),
    }
}

/// The request's expiration as milliseconds since 1970, as links carry
/// it and messages show it.
pub fn expires_at_millis(request: &CreateRequest) -> Option<i64> {
    request
        .expiration
        .as_ref()
        .map(|e| i64::try_from(e.at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX))
}

/// The claims sealed into each action's URL.
pub fn claims_for(
    request: &CreateRequest,
    transaction_id: TransactionId,
    now: OffsetDateTime,
) -> Vec<Claims> {
    let expires_at = expires_at_millis(request);
    request
        .actions
        .iter()
        .zip(&request.gates)
        .map(|(action, gate)| Claims {
            token: request.token.clone(),
            transaction_id,
            issued_at_secs: now.unix_timestamp(),
            expires_at_millis: expires_at,
            output_parameters: request.output_parameters,
            action: action.clone(),
            gate: gate.clone(),
            locale: request.locale,
            requested_by: request.requested_by.clone(),
        })
        .collect()
}

/// What [`make_urls`] asks to have sealed.
#[derive(Debug, Clone, Copy)]
pub enum ToSeal<'a> {
    /// One action's link.
    Link(&'a Claims),
    /// The review link.
    Review(&'a Review),
}

impl ToSeal<'_> {
    /// Seals it into a `data` string (`nonce`: fresh random bytes).
    pub fn seal(self, with: SealWith<'_>, nonce: &[u8; NONCE_LEN]) -> String {
        match self {
            Self::Link(claims) => seal(claims, with, nonce),
            Self::Review(review) => seal_review(review, with, nonce),
        }
    }
}

fn too_long(what: &str, chars: usize, advice: &str) -> Rejection {
    Rejection::new(
        ErrorCode::InvalidAction,
        format!(
            "{what}: its link would carry {chars} characters of data, over the limit of {MAX_DATA_CHARS}; {advice}"
        ),
    )
}

/// Makes the URLs. `base` is the resolved base URL; `seal` turns claims (or
/// the review) into the `data` string. Fails when a link would be too long
/// to work.
pub fn make_urls(
    request: &CreateRequest,
    transaction_id: TransactionId,
    now: OffsetDateTime,
    base: &str,
    mut seal: impl FnMut(ToSeal<'_>) -> String,
) -> Result<CreateUrlsOutput, Rejection> {
    let mut urls = Map::with_capacity(request.actions.len());
    for claims in claims_for(request, transaction_id, now) {
        let data = seal(ToSeal::Link(&claims));
        if data.len() > MAX_DATA_CHARS {
            return Err(too_long(
                &format!("action {:?}", claims.action.name.as_str()),
                data.len(),
                "make its output or outcomes smaller",
            ));
        }
        urls.insert(
            claims.action.name.as_str().to_owned(),
            Value::String(callback_url(base, &claims.action, &data)),
        );
    }
    let review_url = if request.review {
        let data = seal(ToSeal::Review(&review_for(request, transaction_id, now)));
        if data.len() > MAX_DATA_CHARS {
            return Err(too_long(
                "review",
                data.len(),
                "make the outputs smaller, or leave review out",
            ));
        }
        Some(review_url(base, &data))
    } else {
        None
    };
    Ok(CreateUrlsOutput {
        transaction_id: transaction_id.to_hex(),
        urls,
        expiration: request.expiration.as_ref().map(|e| e.text.clone()),
        review_url,
        notified: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requested_by_is_a_short_line_of_text() {
        assert_eq!(
            parse_requested_by(Some(json!("  Rita (Release)  "))).expect("ok"),
            Some("Rita (Release)".into())
        );
        assert_eq!(parse_requested_by(None).expect("ok"), None);
        for (bad, says) in [
            (json!(""), "is empty"),
            (json!(7), "must be a string"),
            (json!("a\nb"), "line break"),
            (json!("x".repeat(201)), "longer than 200"),
        ] {
            let err = parse_requested_by(Some(bad.clone())).expect_err("refused");
            assert_eq!(err.code, ErrorCode::InvalidJson, "{bad}");
            assert!(
                err.message.starts_with("requested_by ") && err.message.contains(says),
                "{bad}: {}",
                err.message
            );
        }
    }
    use crate::token::EngineKind;
    use serde_json::json;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2030-01-01 12:00 UTC);

    fn policy() -> Features {
        Features {
            output_parameters: true,
            post_actions: true,
            sign_in: true,
            slack: false,
        }
    }

    fn parse(value: Value) -> Result<CreateRequest, Rejection> {
        CreateRequest::parse(value.to_string().as_bytes(), policy(), NOW)
    }

    fn check(value: Value, code: ErrorCode, needle: &str) {
        let err = parse(value.clone()).expect_err(&value.to_string());
        assert_eq!(err.code, code, "{value}: {}", err.message);
        assert!(err.message.contains(needle), "{value}: {}", err.message);
    }

    fn minimal() -> Value {
        json!({"token": "QUJD", "actions": [{"name": "ok", "type": "success", "output": {}}]})
    }

    fn with(field: &str, value: Value) -> Value {
        let mut v = minimal();
        v[field] = value;
        v
    }

    #[test]
    fn a_callback_id_stands_in_for_the_token_and_never_beside_it() {
        let durable = |id: Value| {
            let mut v = minimal();
            v.as_object_mut().expect("object").remove("token");
            v["callback_id"] = id;
            v
        };
        let parsed = parse(durable(json!("QUJD"))).expect("parses");
        assert_eq!(parsed.token.engine(), EngineKind::Durable);
        assert_eq!(parsed.token.expose(), "QUJD");
        assert_eq!(
            parse(minimal()).expect("parses").token.engine(),
            EngineKind::StepFunctions
        );
        let both = with("callback_id", json!("QUJD"));
        check(both, ErrorCode::InvalidJson, "token");
        let both = with("callback_id", json!("QUJD"));
        check(both, ErrorCode::InvalidJson, "callback_id");
        let both = with("callback_id", json!("QUJD"));
        check(both, ErrorCode::InvalidJson, "not both");
        check(
            durable(json!("")),
            ErrorCode::InvalidJson,
            "callback_id is empty",
        );
        check(
            durable(json!("A".repeat(1025))),
            ErrorCode::InvalidJson,
            "callback_id is longer than 1024",
        );
        check(
            durable(json!("not base64!")),
            ErrorCode::InvalidJson,
            "callback_id is not standard base64",
        );
        check(durable(json!(7)), ErrorCode::InvalidJson, "at callback_id");
        check(
            durable(json!(null)),
            ErrorCode::InvalidJson,
            "at callback_id",
        );
        check(
            with("token", json!(null)),
            ErrorCode::InvalidJson,
            "at token",
        );
        // What is refused is never quoted back.
        let err = parse(durable(json!("SECRET-ID"))).expect_err("refused");
        assert!(!err.message.contains("SECRET"), "{}", err.message);
    }

    #[test]
    fn bad_requests_name_their_problem() {
        check(json!([1]), ErrorCode::InvalidJson, "JSON object");
        check(
            json!({"actions": []}),
            ErrorCode::InvalidJson,
            "needs token (a Step Functions task token) or callback_id",
        );
        check(
            with("bogus", json!(1)),
            ErrorCode::InvalidJson,
            "unknown field `bogus`",
        );
        check(with("token", json!(5)), ErrorCode::InvalidJson, "at token");
        check(with("token", json!("")), ErrorCode::InvalidJson, "empty");
        check(
            with("actions", json!([])),
            ErrorCode::InvalidJson,
            "at least one",
        );
        check(
            with(
                "actions",
                json!([{"name": "a", "type": "heartbeat", "outptu": 1}]),
            ),
            ErrorCode::InvalidJson,
            "actions[0]",
        );
        check(
            with(
                "actions",
                json!([{"name": "a", "type": "heartbeat"}, {"name": "a", "type": "heartbeat"}]),
            ),
            ErrorCode::DuplicateActionName,
            "\"a\"",
        );
        check(
            with("expiration", json!("2029-01-01T00:00:00Z")),
            ErrorCode::InvalidDate,
            "in the past",
        );
        check(
            with("expiration", json!("2031-01-01T00:00:00")),
            ErrorCode::InvalidDate,
            "UTC offset",
        );
        check(
            with("expiration", json!("tomorrow")),
            ErrorCode::InvalidDate,
            "RFC 3339",
        );
        check(
            with("base_url", json!("ftp://x")),
            ErrorCode::InvalidJson,
            "base_url",
        );
        check(
            with("base_url", json!("https://x.example/#frag")),
            ErrorCode::InvalidJson,
            "fragment",
        );
        check(
            with("base_url", json!({"api_id": "a/b", "stage": "p"})),
            ErrorCode::InvalidJson,
            "base_url",
        );
        let err = CreateRequest::parse(b"{not json", policy(), NOW).expect_err("syntax");
        assert_eq!(err.code, ErrorCode::InvalidJson);
        assert!(err.message.contains("not valid JSON"), "{}", err.message);
    }

    #[test]
    fn output_parameters_need_the_deployment() {
        let body = with("enable_output_parameters", json!(true)).to_string();
        let err = CreateRequest::parse(body.as_bytes(), Features::default(), NOW).expect_err("off");
        assert_eq!(err.code, ErrorCode::ParametersDisabled);
        assert!(
            CreateRequest::parse(body.as_bytes(), policy(), NOW)
                .expect("on")
                .output_parameters
        );
    }

    #[test]
    fn offsets_and_z_are_accepted_and_echoed() {
        for raw in [
            "2031-01-01T00:00:00Z",
            "2031-01-01T09:00:00+09:00",
            "2031-01-01T00:00:00.250-05:00",
        ] {
            let request = parse(with("expiration", json!(raw))).expect(raw);
            let out = make_urls(&request, TransactionId([0; 16]), NOW, "http://x", |_| {
                "D".into()
            })
            .expect("urls");
            assert_eq!(out.expiration.as_deref(), Some(raw));
        }
    }

    #[test]
    fn urls_have_the_old_shape() {
        let request = parse(json!({
            "token": "QUJD",
            "actions": [
                {"name": "approve", "type": "success", "output": {}},
                {"name": "größe", "type": "heartbeat"}
            ],
            "base_url": {"api_id": "abc123", "stage": "prod"}
        }))
        .expect("valid");
        let base = request
            .base_url
            .as_ref()
            .expect("base")
            .resolve("eu-west-1");
        let out = make_urls(
            &request,
            TransactionId([0xab; 16]),
            NOW,
            &base,
            |what| match what {
                ToSeal::Link(c) => format!("sealed-{}", c.action.name),
                ToSeal::Review(r) => format!("review-{}", r.choices.len()),
            },
        )
        .expect("urls");
        assert_eq!(out.transaction_id, "ab".repeat(16));
        assert_eq!(
            out.urls["approve"],
            "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/respond?action=approve&type=success&data=sealed-approve"
        );
        assert_eq!(
            out.urls["größe"],
            "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/respond?action=gr%C3%B6%C3%9Fe&type=heartbeat&data=sealed-größe"
        );
        assert_eq!(out.expiration, None);
        assert_eq!(out.review_url, None, "only when asked");
    }

    #[test]
    fn a_review_link_holds_every_action_a_person_can_press() {
        let mut body = json!({
            "token": "QUJD",
            "review": true,
            "actions": [
                {"name": "approve", "type": "success", "output": {}},
                {"name": "hook", "type": "post", "outcomes": [{"name": "done", "type": "heartbeat", "schema": {}}]},
                {"name": "reject", "type": "failure", "approvers": {"emails": ["a@example.com"]}}
            ]
        });
        let request = parse(body.clone()).expect("valid");
        assert!(request.review);
        let mut sealed = Vec::new();
        let out = make_urls(
            &request,
            TransactionId([1; 16]),
            NOW,
            "https://cb.example/p/",
            |what| match what {
                ToSeal::Link(c) => format!("link-{}", c.action.name),
                ToSeal::Review(r) => {
                    sealed.push(r.clone());
                    "R".to_owned()
                }
            },
        )
        .expect("urls");
        assert_eq!(
            out.review_url.as_deref(),
            Some("https://cb.example/p/respond?data=R")
        );
        assert_eq!(out.urls.len(), 3, "the action links stay as they are");
        let [review] = sealed.as_slice() else {
            panic!("one review sealed: {sealed:?}")
        };
        let names: Vec<&str> = review
            .choices
            .iter()
            .map(|c| c.action.name.as_str())
            .collect();
        assert_eq!(names, ["approve", "reject"], "no post action");
        assert!(review.choices[0].gate.is_none() && review.choices[1].gate.is_some());
        let approve = review.claims_for("approve").expect("approve");
        assert_eq!(approve.action, request.actions[0]);
        assert_eq!(approve.transaction_id, TransactionId([1; 16]));
        assert!(review.claims_for("hook").is_none());

        body["actions"] = json!([{"name": "hook", "type": "post", "outcomes": [{"name": "done", "type": "heartbeat", "schema": {}}]}]);
        check(
            body,
            ErrorCode::InvalidAction,
            "every action here is a post action",
        );
        check(
            with("review", json!("yes")),
            ErrorCode::InvalidJson,
            "review",
        );
    }

    #[test]
    fn base_urls_are_used_as_checked() {
        let request = parse(with("base_url", json!("https://x.exa\nmple/cb/"))).expect("valid");
        let base = request.base_url.expect("base").resolve("r");
        assert_eq!(base, "https://x.example/cb");
    }

    #[test]
    fn links_too_long_to_work_are_refused_at_creation() {
        let request = parse(minimal()).expect("valid");
        let err = make_urls(&request, TransactionId([0; 16]), NOW, "http://x", |_| {
            "D".repeat(MAX_DATA_CHARS + 1)
        })
        .expect_err("too long");
        assert_eq!(err.code, ErrorCode::InvalidAction);
        assert!(err.message.contains("8001 characters"), "{}", err.message);
    }

    #[test]
    fn parameters_may_not_reach_a_redirect_host() {
        let body = json!({
            "token": "QUJD", "enable_output_parameters": true,
            "actions": [{"name": "a", "type": "heartbeat", "response": {"redirect": "https://$host/x"}}]
        });
        check(body, ErrorCode::InvalidAction, "scheme or host");
        let ok = json!({
            "token": "QUJD", "enable_output_parameters": true,
            "actions": [{"name": "a", "type": "heartbeat", "response": {"redirect": "https://example.com/$page?u=${who}"}}]
        });
        assert!(parse(ok).is_ok());
    }

    #[test]
    fn claims_carry_times_in_the_right_units() {
        let request = parse(with("expiration", json!("2030-01-01T12:00:01.5Z"))).expect("valid");
        let claims = claims_for(&request, TransactionId([1; 16]), NOW);
        assert_eq!(claims[0].issued_at_secs, NOW.unix_timestamp());
        assert_eq!(
            claims[0].expires_at_millis,
            Some(NOW.unix_timestamp() * 1000 + 1500)
        );
    }
}
