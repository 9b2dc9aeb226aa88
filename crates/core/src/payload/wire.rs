//! The claims codec: [`Claims`] to and from the postcard records that get
//! sealed. The format they make is documented in the parent module.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Choice, Claims, PayloadError, Review, TransactionId};
use crate::action::{
    Action, ActionEffect, ActionName, CommentRule, FieldSource, Outcome, OutcomeEffect,
    OutcomeOutput, PageOptions, ResponseSpec,
};
use crate::approvers::{Approvers, Gate};
use crate::form::Form;
use crate::locale::Locale;
use crate::token::{CallbackId, TaskToken, Token};

/// Action bodies shorter than this are never worth deflating.
const DEFLATE_THRESHOLD: usize = 96;
/// Inflated action bodies may not exceed this (they were sealed by us, but a
/// bound costs nothing).
const MAX_INFLATED: usize = 1024 * 1024;

/// What the link answers. The variant records the engine: a task token
/// and a callback ID of the same text seal differently, and binaries
/// older than durable links refuse the last two as malformed.
#[derive(Serialize, Deserialize)]
enum WireToken {
    /// A task token that is canonical standard base64, as its bytes.
    Bytes(Vec<u8>),
    /// Any other task token.
    Text(String),
    /// A durable execution's callback ID that is canonical standard
    /// base64, as its bytes.
    CallbackBytes(Vec<u8>),
    /// Any other callback ID.
    CallbackText(String),
}

#[derive(Serialize, Deserialize)]
enum WireBody {
    Plain(Vec<u8>),
    Deflated(Vec<u8>),
}

#[derive(Serialize, Deserialize)]
struct WireClaims {
    token: WireToken,
    tid: [u8; 16],
    iat: i64,
    exp: Option<i64>,
    params: bool,
    name: String,
    body: WireBody,
}

/// A bound link's gate, after the claims record: emails, domains, groups,
/// requester.
#[derive(Serialize, Deserialize)]
struct WireGate(Vec<String>, Vec<String>, Vec<String>, Option<String>);

/// A review link's record: the claims every choice shares, then the
/// choices (postcard `Vec<WireChoice>`, deflated when that is shorter),
/// then its extensions.
#[derive(Serialize, Deserialize)]
struct WireReview {
    token: WireToken,
    tid: [u8; 16],
    iat: i64,
    exp: Option<i64>,
    params: bool,
    choices: WireBody,
    ext: Vec<WireExtension>,
}

/// One choice: its name, action, gate and extensions.
#[derive(Serialize, Deserialize)]
struct WireChoice(String, WireAction, Option<WireGate>, Vec<WireExtension>);

/// What later versions add to a link, a review link or a choice, after
/// what the first format had. A binary that meets an extension it does
/// not know refuses the link (postcard cannot decode the variant) rather
/// than open it without what the extension asks for.
#[derive(Serialize, Deserialize)]
enum WireExtension {
    /// The action's form: its JSON Schema's text.
    Form(String),
    /// The language of the pages ([`Locale::code`]): a link's or a
    /// review's, never a review choice's.
    Locale(u8),
    /// The gate's Slack users who may act (only with a gate).
    SlackUsers(Vec<String>),
    /// The requester as a Slack user ID (only with a gate).
    SlackRequester(String),
    /// Who asked, as the pages and messages name them (CreateUrls'
    /// `requested_by`): a link's or a review's, never a review choice's.
    RequestedBy(String),
}

#[derive(Serialize, Deserialize)]
struct WireAction {
    effect: WireEffect,
    response: Option<WireResponse>,
    label: Option<String>,
    description: Option<String>,
    /// Most characters, and whether required.
    comment: Option<(u16, bool)>,
    one_click: bool,
}

#[derive(Serialize, Deserialize)]
enum WireEffect {
    Success(String),
    Failure(Option<String>, Option<String>),
    Heartbeat,
    Post(Vec<WireOutcome>),
}

#[derive(Serialize, Deserialize)]
struct WireOutcome {
    name: String,
    schema: String,
    effect: WireOutcomeEffect,
    response: Option<WireResponse>,
}

#[derive(Serialize, Deserialize)]
enum WireOutcomeEffect {
    Body,
    Path(String),
    Fixed(String),
    Failure(WireField, WireField),
    Heartbeat,
}

#[derive(Serialize, Deserialize)]
enum WireField {
    Unset,
    Fixed(String),
    Path(String),
}

#[derive(Serialize, Deserialize)]
struct WireResponse {
    redirect: Option<String>,
    json: Option<String>,
    html: Option<String>,
    text: Option<String>,
}

fn json_text(value: &Value) -> String {
    serde_json::to_string(value).expect("a JSON value serialises")
}

fn response_to_wire(spec: &ResponseSpec) -> WireResponse {
    WireResponse {
        redirect: spec.redirect.clone(),
        json: spec.json.as_ref().map(json_text),
        html: spec.html.clone(),
        text: spec.text.clone(),
    }
}

fn field_to_wire(field: &FieldSource) -> WireField {
    match field {
        FieldSource::Unset => WireField::Unset,
        FieldSource::Fixed(v) => WireField::Fixed(v.clone()),
        FieldSource::Path(p) => WireField::Path(p.clone()),
    }
}

fn action_to_wire(action: &Action) -> WireAction {
    let effect = match &action.effect {
        ActionEffect::Success { output } => WireEffect::Success(json_text(output)),
        ActionEffect::Failure { error, cause } => WireEffect::Failure(error.clone(), cause.clone()),
        ActionEffect::Heartbeat => WireEffect::Heartbeat,
        ActionEffect::Post { outcomes } => WireEffect::Post(
            outcomes
                .iter()
                .map(|o| WireOutcome {
                    name: o.name.as_str().to_owned(),
                    schema: json_text(&o.schema),
                    effect: match &o.effect {
                        OutcomeEffect::Success(OutcomeOutput::Body) => WireOutcomeEffect::Body,
                        OutcomeEffect::Success(OutcomeOutput::Path(p)) => {
                            WireOutcomeEffect::Path(p.clone())
                        }
                        OutcomeEffect::Success(OutcomeOutput::Fixed(v)) => {
                            WireOutcomeEffect::Fixed(json_text(v))
                        }
                        OutcomeEffect::Failure { error, cause } => {
                            WireOutcomeEffect::Failure(field_to_wire(error), field_to_wire(cause))
                        }
                        OutcomeEffect::Heartbeat => WireOutcomeEffect::Heartbeat,
                    },
                    response: o.response.as_ref().map(response_to_wire),
                })
                .collect(),
        ),
    };
    WireAction {
        effect,
        response: action.response.as_ref().map(response_to_wire),
        label: action.page.label.clone(),
        description: action.page.description.clone(),
        comment: action.page.comment.map(|c| (c.max_chars, c.required)),
        one_click: action.page.one_click,
    }
}

fn parse_json(text: &str) -> Result<Value, PayloadError> {
    serde_json::from_str(text).map_err(|_| PayloadError::BadClaims)
}

fn response_from_wire(wire: WireResponse) -> Result<ResponseSpec, PayloadError> {
    Ok(ResponseSpec {
        redirect: wire.redirect,
        json: wire.json.as_deref().map(parse_json).transpose()?,
        html: wire.html,
        text: wire.text,
    })
}

fn field_from_wire(wire: WireField) -> FieldSource {
    match wire {
        WireField::Unset => FieldSource::Unset,
        WireField::Fixed(v) => FieldSource::Fixed(v),
        WireField::Path(p) => FieldSource::Path(p),
    }
}

fn name_from_wire(name: &str) -> Result<ActionName, PayloadError> {
    ActionName::parse(name).map_err(|_| PayloadError::BadClaims)
}

/// What a choice carries beyond [`WireAction`] and [`WireGate`]: the
/// action's form, and the gate's Slack names.
fn extensions_of(action: &Action, gate: Option<&Gate>) -> Vec<WireExtension> {
    let mut extensions: Vec<WireExtension> = action
        .page
        .form
        .iter()
        .map(|form| WireExtension::Form(json_text(&form.schema)))
        .collect();
    if let Some(gate) = gate {
        if !gate.approvers.slack_users.is_empty() {
            extensions.push(WireExtension::SlackUsers(
                gate.approvers.slack_users.clone(),
            ));
        }
        extensions.extend(
            gate.requester_slack
                .clone()
                .map(WireExtension::SlackRequester),
        );
    }
    extensions
}

/// What a whole link or review says beyond its actions: its language and
/// who asked.
#[derive(Debug, Default)]
struct Extras {
    locale: Option<Locale>,
    requested_by: Option<String>,
}

impl Extras {
    fn of_claims(claims: &Claims) -> Self {
        Self {
            locale: claims.locale,
            requested_by: claims.requested_by.clone(),
        }
    }

    fn to_wire(&self) -> impl Iterator<Item = WireExtension> {
        let locale = self.locale.map(|l| WireExtension::Locale(l.code()));
        let requested_by = self.requested_by.clone().map(WireExtension::RequestedBy);
        locale.into_iter().chain(requested_by)
    }

    /// Takes `extension` when it is one of these (each at most once).
    fn take(&mut self, extension: &WireExtension) -> Result<bool, PayloadError> {
        match extension {
            WireExtension::Locale(code) if self.locale.is_none() => {
                self.locale = Some(locale_of(*code)?);
            }
            WireExtension::RequestedBy(who) if self.requested_by.is_none() => {
                self.requested_by = Some(who.clone());
            }
            WireExtension::Locale(_) | WireExtension::RequestedBy(_) => {
                return Err(PayloadError::BadClaims);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// What a link carries beyond the first format: its choice's extensions,
/// then its language and who asked.
fn link_extensions(action: &Action, gate: Option<&Gate>, extras: &Extras) -> Vec<WireExtension> {
    let mut extensions = extensions_of(action, gate);
    extensions.extend(extras.to_wire());
    extensions
}

/// Whether claims carry anything only an extended link (`0x6_`) holds.
pub(super) fn needs_extensions(claims: &Claims) -> bool {
    !link_extensions(
        &claims.action,
        claims.gate.as_ref(),
        &Extras::of_claims(claims),
    )
    .is_empty()
}

/// A sealed language code.
fn locale_of(code: u8) -> Result<Locale, PayloadError> {
    Locale::from_code(code).ok_or(PayloadError::BadClaims)
}

/// An action and its gate with their extensions applied, and the
/// link's extras among them (none when there are none). A gate's
/// extension without a gate is refused.
fn action_with(
    name: &str,
    wire: WireAction,
    gate: Option<WireGate>,
    extensions: Vec<WireExtension>,
) -> Result<(Action, Option<Gate>, Extras), PayloadError> {
    let mut action = action_from_wire(name, wire)?;
    let mut gate = gate.map(gate_from_wire);
    let mut extras = Extras::default();
    for extension in extensions {
        if extras.take(&extension)? {
            continue;
        }
        match extension {
            WireExtension::Form(schema) => {
                let form = Form::from_sealed(&parse_json(&schema)?)
                    .map_err(|_| PayloadError::BadClaims)?;
                action.page.form = Some(form);
            }
            WireExtension::Locale(_) | WireExtension::RequestedBy(_) => {
                unreachable!("taken as extras above")
            }
            WireExtension::SlackUsers(users) => {
                let gate = gate.as_mut().ok_or(PayloadError::BadClaims)?;
                gate.approvers.slack_users = users;
            }
            WireExtension::SlackRequester(user) => {
                let gate = gate.as_mut().ok_or(PayloadError::BadClaims)?;
                gate.requester_slack = Some(user);
            }
        }
    }
    Ok((action, gate, extras))
}

fn action_from_wire(name: &str, wire: WireAction) -> Result<Action, PayloadError> {
    let effect = match wire.effect {
        WireEffect::Success(output) => ActionEffect::Success {
            output: parse_json(&output)?,
        },
        WireEffect::Failure(error, cause) => ActionEffect::Failure { error, cause },
        WireEffect::Heartbeat => ActionEffect::Heartbeat,
        WireEffect::Post(outcomes) => ActionEffect::Post {
            outcomes: outcomes
                .into_iter()
                .map(|o| {
                    Ok(Outcome {
                        name: name_from_wire(&o.name)?,
                        schema: parse_json(&o.schema)?,
                        effect: match o.effect {
                            WireOutcomeEffect::Body => OutcomeEffect::Success(OutcomeOutput::Body),
                            WireOutcomeEffect::Path(p) => {
                                OutcomeEffect::Success(OutcomeOutput::Path(p))
                            }
                            WireOutcomeEffect::Fixed(v) => {
                                OutcomeEffect::Success(OutcomeOutput::Fixed(parse_json(&v)?))
                            }
                            WireOutcomeEffect::Failure(error, cause) => OutcomeEffect::Failure {
                                error: field_from_wire(error),
                                cause: field_from_wire(cause),
                            },
                            WireOutcomeEffect::Heartbeat => OutcomeEffect::Heartbeat,
                        },
                        response: o.response.map(response_from_wire).transpose()?,
                    })
                })
                .collect::<Result<Vec<_>, PayloadError>>()?,
        },
    };
    Ok(Action {
        name: name_from_wire(name)?,
        effect,
        response: wire.response.map(response_from_wire).transpose()?,
        page: PageOptions {
            label: wire.label,
            description: wire.description,
            comment: wire.comment.map(|(max_chars, required)| CommentRule {
                max_chars,
                required,
            }),
            form: None,
            one_click: wire.one_click,
        },
    })
}

fn gate_to_wire(gate: &Gate) -> WireGate {
    let a = &gate.approvers;
    WireGate(
        a.emails.clone(),
        a.domains.clone(),
        a.groups.clone(),
        gate.requester.clone(),
    )
}

fn gate_from_wire(WireGate(emails, domains, groups, requester): WireGate) -> Gate {
    Gate {
        approvers: Approvers {
            emails,
            domains,
            groups,
            slack_users: Vec::new(),
        },
        requester,
        requester_slack: None,
    }
}

/// An action with its gate and extensions, as a review's choice or an
/// extended link's body holds it.
fn choice_to_wire(action: &Action, gate: Option<&Gate>) -> WireChoice {
    WireChoice(
        action.name.as_str().to_owned(),
        action_to_wire(action),
        gate.map(gate_to_wire),
        extensions_of(action, gate),
    )
}

/// Deflates `bytes` when that makes them shorter.
fn body_of(bytes: Vec<u8>) -> WireBody {
    let deflated = miniz_oxide::deflate::compress_to_vec(&bytes, 9);
    if deflated.len() < bytes.len() {
        WireBody::Deflated(deflated)
    } else {
        WireBody::Plain(bytes)
    }
}

fn bytes_of(body: WireBody) -> Result<Vec<u8>, PayloadError> {
    match body {
        WireBody::Plain(bytes) => Ok(bytes),
        WireBody::Deflated(bytes) => {
            miniz_oxide::inflate::decompress_to_vec_with_limit(&bytes, MAX_INFLATED)
                .map_err(|_| PayloadError::BadClaims)
        }
    }
}

/// Encodes a review as the plaintext that gets sealed.
pub(super) fn encode_review(review: &Review) -> Vec<u8> {
    let choices: Vec<WireChoice> = review
        .choices
        .iter()
        .map(|c| choice_to_wire(&c.action, c.gate.as_ref()))
        .collect();
    let wire = WireReview {
        token: token_to_wire(&review.token),
        tid: review.transaction_id.0,
        iat: review.issued_at_secs,
        exp: review.expires_at_millis,
        params: review.output_parameters,
        choices: body_of(postcard::to_allocvec(&choices).expect("postcard encodes")),
        ext: Extras {
            locale: review.locale,
            requested_by: review.requested_by.clone(),
        }
        .to_wire()
        .collect(),
    };
    postcard::to_allocvec(&wire).expect("postcard encodes")
}

/// Decodes an authenticated review link's plaintext.
pub(super) fn decode_review(plain: &[u8]) -> Result<Review, PayloadError> {
    let wire: WireReview = postcard::from_bytes(plain).map_err(|_| PayloadError::BadClaims)?;
    let choices: Vec<WireChoice> =
        postcard::from_bytes(&bytes_of(wire.choices)?).map_err(|_| PayloadError::BadClaims)?;
    if choices.is_empty() {
        return Err(PayloadError::BadClaims);
    }
    // A whole review carries its language and who asked, and nothing else.
    let mut extras = Extras::default();
    for extension in &wire.ext {
        if !extras.take(extension)? {
            return Err(PayloadError::BadClaims);
        }
    }
    Ok(Review {
        token: token_from_wire(wire.token)?,
        transaction_id: TransactionId(wire.tid),
        issued_at_secs: wire.iat,
        expires_at_millis: wire.exp,
        output_parameters: wire.params,
        locale: extras.locale,
        requested_by: extras.requested_by,
        choices: choices
            .into_iter()
            .map(|WireChoice(name, action, gate, extensions)| {
                // A choice speaks its review's language, and was asked
                // for by its review's requester.
                let (action, gate, extras) = action_with(&name, action, gate, extensions)?;
                if extras.locale.is_some() || extras.requested_by.is_some() {
                    return Err(PayloadError::BadClaims);
                }
                Ok(Choice { action, gate })
            })
            .collect::<Result<_, PayloadError>>()?,
    })
}

/// A secret's bytes when it is canonical standard base64 (so that it
/// decodes back to the same text).
fn canonical_bytes(text: &str) -> Option<Vec<u8>> {
    STANDARD
        .decode(text)
        .ok()
        .filter(|bytes| STANDARD.encode(bytes) == text)
}

fn token_to_wire(token: &Token) -> WireToken {
    let text = token.expose();
    match (token, canonical_bytes(text)) {
        (Token::Task(_), Some(bytes)) => WireToken::Bytes(bytes),
        (Token::Task(_), None) => WireToken::Text(text.to_owned()),
        (Token::Callback(_), Some(bytes)) => WireToken::CallbackBytes(bytes),
        (Token::Callback(_), None) => WireToken::CallbackText(text.to_owned()),
    }
}

fn token_from_wire(wire: WireToken) -> Result<Token, PayloadError> {
    let bad = |_| PayloadError::BadClaims;
    match wire {
        WireToken::Bytes(bytes) => TaskToken::parse(STANDARD.encode(bytes)).map(Token::Task),
        WireToken::Text(text) => TaskToken::parse(text).map(Token::Task),
        WireToken::CallbackBytes(bytes) => {
            CallbackId::parse(STANDARD.encode(bytes)).map(Token::Callback)
        }
        WireToken::CallbackText(text) => CallbackId::parse(text).map(Token::Callback),
    }
    .map_err(bad)
}

/// Encodes claims as the plaintext that gets sealed. A bound link's gate
/// follows the action in the body, so it is deflated with the action's
/// text: approver addresses repeat their domains, and often the output.
pub(super) fn encode_claims(claims: &Claims) -> Vec<u8> {
    if needs_extensions(claims) {
        return encode_extended(claims);
    }
    let mut action = Vec::new();
    if claims.gate.is_some() {
        // A bound link deflates its action name with the rest: outputs
        // often repeat it.
        action = postcard::to_allocvec(claims.action.name.as_str()).expect("postcard encodes");
    }
    action
        .extend(postcard::to_allocvec(&action_to_wire(&claims.action)).expect("postcard encodes"));
    if let Some(gate) = &claims.gate {
        action.extend(postcard::to_allocvec(&gate_to_wire(gate)).expect("postcard encodes"));
    }
    let worth_trying = claims.gate.is_some() || action.len() >= DEFLATE_THRESHOLD;
    let body = if worth_trying {
        body_of(action)
    } else {
        WireBody::Plain(action)
    };
    let wire = WireClaims {
        token: token_to_wire(&claims.token),
        tid: claims.transaction_id.0,
        iat: claims.issued_at_secs,
        exp: claims.expires_at_millis,
        params: claims.output_parameters,
        name: if claims.gate.is_some() {
            String::new()
        } else {
            claims.action.name.as_str().to_owned()
        },
        body,
    };
    postcard::to_allocvec(&wire).expect("postcard encodes")
}

/// Encodes claims with extensions (an extended link, `0x6_`): the claims
/// record with no name, its body the link's one choice (name, action,
/// gate, extensions), deflated when that is shorter.
fn encode_extended(claims: &Claims) -> Vec<u8> {
    let mut choice = choice_to_wire(&claims.action, claims.gate.as_ref());
    choice.3 = link_extensions(
        &claims.action,
        claims.gate.as_ref(),
        &Extras::of_claims(claims),
    );
    let wire = WireClaims {
        token: token_to_wire(&claims.token),
        tid: claims.transaction_id.0,
        iat: claims.issued_at_secs,
        exp: claims.expires_at_millis,
        params: claims.output_parameters,
        name: String::new(),
        body: body_of(postcard::to_allocvec(&choice).expect("postcard encodes")),
    };
    postcard::to_allocvec(&wire).expect("postcard encodes")
}

/// Decodes an authenticated extended link's plaintext.
pub(super) fn decode_extended(plain: &[u8]) -> Result<Claims, PayloadError> {
    let wire: WireClaims = postcard::from_bytes(plain).map_err(|_| PayloadError::BadClaims)?;
    let WireChoice(name, action, gate, extensions) =
        postcard::from_bytes(&bytes_of(wire.body)?).map_err(|_| PayloadError::BadClaims)?;
    let (action, gate, extras) = action_with(&name, action, gate, extensions)?;
    Ok(Claims {
        token: token_from_wire(wire.token)?,
        transaction_id: TransactionId(wire.tid),
        issued_at_secs: wire.iat,
        expires_at_millis: wire.exp,
        output_parameters: wire.params,
        action,
        gate,
        locale: extras.locale,
        requested_by: extras.requested_by,
    })
}

/// Decodes authenticated plaintext back into claims; a bound link's
/// (`gated`) action is followed by its gate.
pub(super) fn decode_claims(plain: &[u8], gated: bool) -> Result<Claims, PayloadError> {
    let wire: WireClaims = postcard::from_bytes(plain).map_err(|_| PayloadError::BadClaims)?;
    let action_bytes = bytes_of(wire.body)?;
    let (name, rest) = if gated {
        let (name, rest): (String, &[u8]) =
            postcard::take_from_bytes(&action_bytes).map_err(|_| PayloadError::BadClaims)?;
        (name, rest)
    } else {
        (wire.name, action_bytes.as_slice())
    };
    let (action, rest): (WireAction, &[u8]) =
        postcard::take_from_bytes(rest).map_err(|_| PayloadError::BadClaims)?;
    let gate = if gated {
        let wire: WireGate = postcard::from_bytes(rest).map_err(|_| PayloadError::BadClaims)?;
        Some(gate_from_wire(wire))
    } else {
        None
    };
    Ok(Claims {
        token: token_from_wire(wire.token)?,
        transaction_id: TransactionId(wire.tid),
        issued_at_secs: wire.iat,
        expires_at_millis: wire.exp,
        output_parameters: wire.params,
        action: action_from_wire(&name, action)?,
        gate,
        locale: None,
        requested_by: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::locale::Locale;
    use crate::payload::tests::sample_claims;
    use serde_json::json;

    #[test]
    fn base64_tokens_are_stored_as_bytes_and_others_as_text() {
        let b64 = "A".repeat(712);
        let claims = sample_claims(&b64, json!(1));
        let plain = encode_claims(&claims);
        // 534 token bytes plus the other claims; as text it would take over 712.
        assert!(plain.len() < 600, "{} bytes", plain.len());
        let odd = sample_claims("not base64 at all!", json!(1));
        assert_eq!(
            decode_claims(&encode_claims(&odd), false).expect("decodes"),
            odd
        );
        // Non-canonical base64 (bad padding) must come back exactly as given.
        let unpadded = sample_claims("QUJDRA", json!(1));
        assert_eq!(
            decode_claims(&encode_claims(&unpadded), false).expect("decodes"),
            unpadded
        );
    }

    /// A review with the claims' action as its one choice.
    fn review_of(claims: &Claims) -> Review {
        Review {
            token: claims.token.clone(),
            transaction_id: claims.transaction_id,
            issued_at_secs: claims.issued_at_secs,
            expires_at_millis: claims.expires_at_millis,
            output_parameters: false,
            locale: None,
            requested_by: None,
            choices: vec![Choice {
                action: claims.action.clone(),
                gate: None,
            }],
        }
    }

    #[test]
    fn a_review_with_an_extension_this_binary_does_not_know_is_refused() {
        let claims = sample_claims("QUJD", json!({"ok": true}));
        let review = review_of(&claims);
        let mut plain = encode_review(&review);
        assert_eq!(decode_review(&plain).expect("decodes"), review);
        // The record ends with its (empty) extension list: one extension
        // of a kind a later version defines (variant 2), one this version
        // knows only on a choice (a form, variant 0), and a language given
        // twice (variant 1).
        assert_eq!(plain.pop(), Some(0));
        for extension in [&[1u8, 2, 0][..], &[1, 0, 0], &[2, 1, 0, 1, 1]] {
            let mut extended = plain.clone();
            extended.extend(extension);
            assert!(
                matches!(decode_review(&extended), Err(PayloadError::BadClaims)),
                "{extension:?}"
            );
        }
    }

    fn with_form(mut claims: Claims) -> Claims {
        let schema = json!({"type": "object", "required": ["n"],
            "properties": {"n": {"type": "integer", "maximum": 3}}});
        claims.action.page.form = Some(Form::parse("form", &schema).expect("form"));
        claims
    }

    #[test]
    fn a_form_makes_an_extended_link_that_round_trips_with_its_gate() {
        let plain = sample_claims("QUJD", json!({"ok": true}));
        assert!(!needs_extensions(&plain));
        let claims = with_form(plain);
        assert!(needs_extensions(&claims));
        assert_eq!(
            decode_extended(&encode_claims(&claims)).expect("decodes"),
            claims
        );
        let mut gated = claims.clone();
        gated.gate = Some(Gate {
            approvers: Approvers {
                emails: vec!["a@example.com".into()],
                domains: vec![],
                groups: vec![],
                slack_users: vec!["U0AAA".into(), "W0BBB".into()],
            },
            requester: Some("r@example.com".into()),
            requester_slack: Some("U0RRR".into()),
        });
        assert_eq!(
            decode_extended(&encode_claims(&gated)).expect("decodes"),
            gated
        );
    }

    #[test]
    fn a_language_makes_an_extended_link_and_a_review_carries_its_own() {
        let mut claims = sample_claims("QUJD", json!({"ok": true}));
        claims.locale = Some(Locale::Ja);
        assert!(needs_extensions(&claims));
        let decoded = decode_extended(&encode_claims(&claims)).expect("decodes");
        assert_eq!(decoded, claims);
        let mut review = review_of(&claims);
        review.locale = Some(Locale::PtBr);
        let decoded = decode_review(&encode_review(&review)).expect("decodes");
        assert_eq!(decoded.locale, Some(Locale::PtBr));
        assert_eq!(
            decoded.claims_of(&decoded.choices[0]).locale,
            Some(Locale::PtBr)
        );
    }

    #[test]
    fn a_language_code_this_binary_does_not_know_or_on_a_choice_is_refused() {
        let mut claims = sample_claims("QUJD", json!({"ok": true}));
        claims.locale = Some(Locale::De);
        // The extended body, rebuilt with a code no language has.
        let mut choice = choice_to_wire(&claims.action, None);
        choice.3 = vec![WireExtension::Locale(200)];
        let wire = WireClaims {
            token: token_to_wire(&claims.token),
            tid: claims.transaction_id.0,
            iat: claims.issued_at_secs,
            exp: claims.expires_at_millis,
            params: false,
            name: String::new(),
            body: body_of(postcard::to_allocvec(&choice).expect("encodes")),
        };
        let plain = postcard::to_allocvec(&wire).expect("encodes");
        assert_eq!(decode_extended(&plain), Err(PayloadError::BadClaims));
        // A review choice carrying a language of its own.
        let mut review = review_of(&claims);
        review.locale = None;
        let plain = review_plaintext(
            &review,
            Vec::new(),
            vec![WireExtension::Locale(Locale::De.code())],
        );
        assert_eq!(decode_review(&plain), Err(PayloadError::BadClaims));
    }

    /// A review's plaintext with its first choice alone, the review's own
    /// extensions `ext` and the choice's `choice_ext`, as given.
    fn review_plaintext(
        review: &Review,
        ext: Vec<WireExtension>,
        choice_ext: Vec<WireExtension>,
    ) -> Vec<u8> {
        let mut wire_choice = choice_to_wire(&review.choices[0].action, None);
        wire_choice.3 = choice_ext;
        postcard::to_allocvec(&WireReview {
            token: token_to_wire(&review.token),
            tid: review.transaction_id.0,
            iat: review.issued_at_secs,
            exp: review.expires_at_millis,
            params: false,
            choices: body_of(postcard::to_allocvec(&vec![wire_choice]).expect("encodes")),
            ext,
        })
        .expect("encodes")
    }

    #[test]
    fn who_asked_makes_an_extended_link_and_a_review_carries_it_once() {
        let mut claims = sample_claims("QUJD", json!({"ok": true}));
        claims.requested_by = Some("Rita from Release Management".into());
        claims.locale = Some(Locale::De);
        assert!(needs_extensions(&claims));
        let decoded = decode_extended(&encode_claims(&claims)).expect("decodes");
        assert_eq!(decoded, claims);
        let mut review = review_of(&claims);
        review.requested_by = Some("Rita".into());
        let decoded = decode_review(&encode_review(&review)).expect("decodes");
        assert_eq!(decoded.requested_by.as_deref(), Some("Rita"));
        assert_eq!(
            decoded
                .claims_of(&decoded.choices[0])
                .requested_by
                .as_deref(),
            Some("Rita")
        );
        // Twice on a review, or on one of its choices: refused.
        let wire_review = |ext, choice_ext| review_plaintext(&review, ext, choice_ext);
        let asked = || WireExtension::RequestedBy("Rita".into());
        assert!(decode_review(&wire_review(vec![asked()], Vec::new())).is_ok());
        assert_eq!(
            decode_review(&wire_review(vec![asked(), asked()], Vec::new())),
            Err(PayloadError::BadClaims)
        );
        assert_eq!(
            decode_review(&wire_review(Vec::new(), vec![asked()])),
            Err(PayloadError::BadClaims)
        );
    }

    #[test]
    fn a_review_choice_keeps_its_form() {
        let claims = with_form(sample_claims("QUJD", json!({"ok": true})));
        let review = review_of(&claims);
        let decoded = decode_review(&encode_review(&review)).expect("decodes");
        assert_eq!(decoded, review);
        assert!(decoded.choices[0].action.page.form.is_some());
    }

    #[test]
    fn large_outputs_are_deflated_when_shorter() {
        let output = json!({"text": "approve ".repeat(256)});
        let claims = sample_claims("QUJD", output.clone());
        let plain = encode_claims(&claims);
        assert!(plain.len() < 400, "{} bytes", plain.len());
        assert_eq!(
            decode_claims(&plain, false).expect("decodes").action.effect,
            ActionEffect::Success { output }
        );
    }
}
