//! `/respond`: the callback handler's HTTP front door.
//!
//! It splits the query into the sealed payload and the other parameters,
//! hands them to [`App::answer`](crate::app::App::answer) with how the
//! request came (HEAD previews, GET visits, POST submits) and a reader for
//! the body, and renders the outcome: a confirmation page, a page for
//! systems, or the accepted answer.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Extension, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::app::{Input, Link, Needs, Outcome, Probed, Standing, Trace, Via, sign_in_required};
use crate::core::approvers::Identity;
use crate::core::callback::{Decision, format_millis};
use crate::core::form::{FormErrors, Submitted};
use crate::core::locale::Locale;
use crate::core::payload::{Claims, Review};
use crate::core::query::{PairsError, parse_unique};
use crate::core::template::Params;
use crate::http::error::ApiError;
use crate::http::html;
use crate::http::negotiate::{Format, negotiate, page_locale};
use crate::http::{HttpState, PublicBase, auth, body_or_error, has_media_type, is_json};
use crate::presentation::pages::{self, ChoiceStanding, ChoiceView, FormView, Pending, ReviewView};
use crate::presentation::text::format_instant;

/// The query split into the sealed payload and the other parameters.
struct Query {
    data: String,
    params: Params,
}

fn parse_query(raw: Option<&str>) -> Result<Query, ApiError> {
    let pairs = parse_unique(raw.unwrap_or_default().as_bytes()).map_err(|e| match e {
        PairsError::Repeated(name) if name == "\"data\"" => {
            ApiError::invalid_payload("the link has more than one data parameter")
        }
        e => ApiError::bad_pairs("link", &e),
    })?;
    let mut data = None;
    let mut params = Params::new();
    for (key, value) in pairs {
        if key == "data" {
            data = Some(value);
        } else {
            params.insert(key, value);
        }
    }
    let data = data.filter(|d| !d.is_empty()).ok_or_else(|| {
        ApiError::invalid_payload("the link has no data parameter; copy the whole link")
    })?;
    Ok(Query { data, params })
}

/// `GET`, `HEAD` and `POST /respond`.
pub async fn respond(
    State(state): State<HttpState>,
    public_base: Option<Extension<PublicBase>>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let format = negotiate(&headers);
    let mut trace = Trace::default();
    // The base names the session cookie; only worth working out when the
    // request carries cookies.
    let base = headers
        .contains_key(axum::http::header::COOKIE)
        .then(|| auth::base_url(&state, public_base.as_ref().map(|e| &e.0), &headers))
        .flatten();
    let outcome = handle(
        &state,
        &method,
        &headers,
        base.as_deref(),
        query.as_deref(),
        body,
        &mut trace,
    )
    .await;
    // A link that opened speaks the language it sealed, on its errors too;
    // one that did not open, or sealed none, speaks the browser's.
    let locale = page_locale(trace.locale, &headers);
    let mut response = match outcome {
        Ok(Outcome::SignIn { now: true, .. }) => {
            let begun = async {
                let base = match base {
                    Some(base) => base,
                    None => {
                        auth::require_base(&state, public_base.as_ref().map(|e| &e.0), &headers)?
                    }
                };
                auth::begin(&state, &base, query.as_deref().unwrap_or_default()).await
            }
            .await;
            begun.unwrap_or_else(|e| e.with_format(format).with_locale(locale).into_response())
        }
        Ok(outcome) => render(
            outcome,
            format,
            locale,
            query.as_deref().unwrap_or_default(),
        ),
        Err(error) => error
            .with_format(format)
            .with_locale(locale)
            .with_expiry(
                trace
                    .expires_at_millis
                    .map(|millis| format_instant(locale, millis)),
            )
            .with_transaction(trace.transaction_id.clone())
            .with_sign_out(|| format!("auth/logout?{}", query.as_deref().unwrap_or_default()))
            .into_response(),
    };
    response.extensions_mut().insert(trace);
    response
}

async fn handle(
    state: &HttpState,
    method: &Method,
    headers: &HeaderMap,
    base: Option<&str>,
    query: Option<&str>,
    body: Result<Bytes, BytesRejection>,
    trace: &mut Trace,
) -> Result<Outcome, ApiError> {
    let parsed = parse_query(query)?;
    let via = match *method {
        Method::POST => Via::Submit,
        Method::GET => Via::Visit,
        _ => Via::Preview,
    };
    let session = base.and_then(|base| auth::read_cookie(headers, base, auth::SESSION_COOKIE));
    let link = Link {
        data: &parsed.data,
        params: &parsed.params,
        via,
        credential: auth::credential(headers, session.as_deref()),
    };
    state
        .app
        .answer(link, trace, |needs| read_body(needs, headers, body))
        .await
}

/// Reads what the link needs from the body: JSON for a POST action (and
/// only with a JSON content type), else the person's comment.
fn read_body(
    needs: Needs,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Input, ApiError> {
    match needs {
        Needs::Json => {
            if !is_json(headers) {
                return Err(ApiError::unsupported_media_type(
                    "this link takes Content-Type: application/json",
                ));
            }
            Ok(Input::Json(json_body(&body_or_error(body)?)?))
        }
        Needs::Answer => answer_from_body(headers, &body_or_error(body)?),
    }
}

fn render(outcome: Outcome, format: Format, locale: Locale, query: &str) -> Response {
    match outcome {
        Outcome::Review {
            review,
            standings,
            who,
            task,
        } => review_answer(
            &review,
            &standings,
            who.as_ref().map(Identity::display),
            task,
            format,
            locale,
            query,
        ),
        Outcome::PostOnly(claims) => post_only(&claims, format, locale),
        Outcome::Pending { claims, who, task } => pending(
            &claims,
            who.as_ref().map(Identity::display),
            task,
            format,
            locale,
        ),
        Outcome::SignIn { claims, task, .. } => sign_in(&claims, task, format, locale, query),
        Outcome::FormRefused {
            claims,
            who,
            errors,
            entered,
            comment,
        } => form_refused(
            &claims,
            who.as_ref().map(Identity::display),
            &errors,
            &entered,
            comment.as_deref(),
            format,
            locale,
        ),
        Outcome::Sent { claims, decision } => accepted(&claims, &decision, format, locale),
    }
}

/// A submission whose form values were refused: 400 `InvalidForm`; a page
/// shows the form again with what was entered and each error by its
/// field, programs get every error by field name.
fn form_refused(
    claims: &Claims,
    who: Option<&str>,
    errors: &FormErrors,
    entered: &[(String, String)],
    comment: Option<&str>,
    format: Format,
    locale: Locale,
) -> Response {
    let error = ApiError::invalid_form(errors)
        .with_format(format)
        .with_locale(locale)
        .with_transaction(Some(claims.transaction_id.to_hex()));
    match format {
        Format::Html => {
            let mut view = pending_view(locale, claims, who, Probed::Unknown);
            view.refused = true;
            view.comment_text = comment;
            if let Some(form) = &mut view.form {
                form.entered = Some(entered);
                form.errors = Some(errors);
            }
            error.page_response(pages::confirm_page(&view))
        }
        Format::Json | Format::Text => error.into_response(),
    }
}

/// What a link bound to approvers shows to nobody signed in: a page with a
/// way to sign in, or for programs the 401 a POST would get.
fn sign_in(claims: &Claims, task: Probed, format: Format, locale: Locale, query: &str) -> Response {
    match format {
        Format::Html => html::html_ok(pages::sign_in_page(
            &pending_view(locale, claims, None, task),
            &login_href(query),
        )),
        Format::Json | Format::Text => ApiError::from(sign_in_required())
            .with_format(format)
            .with_transaction(Some(claims.transaction_id.to_hex()))
            .into_response(),
    }
}

/// Where a page's "Sign in" goes: relative, so it works under a stage path.
fn login_href(query: &str) -> String {
    format!("auth/login?{query}")
}

/// A review link's query without `action` and `type`, which each of its
/// buttons sets for itself.
fn without_choice(query: &str) -> String {
    query
        .split('&')
        .filter(|pair| {
            let key = pair.split('=').next().unwrap_or_default();
            key != "action" && key != "type"
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn pending_view<'a>(
    locale: Locale,
    claims: &'a Claims,
    who: Option<&'a str>,
    task: Probed,
) -> Pending<'a> {
    Pending {
        locale,
        open: task == Probed::Open,
        name: claims.action.name.as_str(),
        kind: claims.action.kind().as_str(),
        label: claims.action.page.label.as_deref(),
        description: claims.action.page.description.as_deref(),
        expires: claims
            .expires_at_millis
            .map(|millis| format_instant(locale, millis)),
        comment: claims.action.page.comment,
        comment_text: None,
        form: claims.action.page.form.as_ref().map(FormView::new),
        refused: false,
        who,
        requested_by: claims.asked_by(),
    }
}

fn json_body(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid_json(format!("the request body is not valid JSON: {e}")))
}

/// The person's answer: from a page's form, its `comment` field and the
/// rest as the form's fields; from a program's JSON object, its
/// `comment` and `form`. Other bodies carry none.
fn answer_from_body(headers: &HeaderMap, body: &[u8]) -> Result<Input, ApiError> {
    if is_form(headers) {
        let (comments, fields): (Vec<_>, Vec<_>) = parse_unique(body)
            .map_err(|e| ApiError::bad_pairs("form", &e))?
            .into_iter()
            .partition(|(k, _)| k == "comment");
        return Ok(Input::Answer {
            comment: comments.into_iter().map(|(_, v)| v).next_back(),
            form: Submitted::Page(fields),
        });
    }
    if is_json(headers) && !body.is_empty() {
        let mut body = json_body(body)?;
        let comment = match body.get("comment") {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => Some(text.clone()),
            Some(_) => return Err(ApiError::invalid_comment("comment must be a string")),
        };
        let form = body
            .as_object_mut()
            .and_then(|o| o.remove("form"))
            .filter(|v| !v.is_null());
        return Ok(Input::Answer {
            comment,
            form: Submitted::Json(form),
        });
    }
    Ok(Input::Answer {
        comment: None,
        form: Submitted::Json(None),
    })
}

fn is_form(headers: &HeaderMap) -> bool {
    has_media_type(headers, "application/x-www-form-urlencoded")
}

/// What a GET or HEAD of a POST-action link answers: 405, and for a
/// browser a page saying a system must POST JSON here.
fn post_only(claims: &Claims, format: Format, locale: Locale) -> Response {
    ApiError::post_only(claims.action.name.as_str())
        .with_format(format)
        .with_locale(locale)
        .into_response()
}

/// What a GET shows: the action that a POST would perform.
/// What it says of the task is only what the probe found: `open` when
/// Step Functions just said so, else `unknown`.
fn pending(
    claims: &Claims,
    who: Option<&str>,
    task: Probed,
    format: Format,
    locale: Locale,
) -> Response {
    let name = claims.action.name.as_str();
    let kind = claims.action.kind().as_str();
    let expires = claims.expires_at_millis.map(format_millis);
    match format {
        Format::Html => html::html_ok(pages::confirm_page(&pending_view(
            locale, claims, who, task,
        ))),
        Format::Json => {
            let mut body = json!({
                "transaction_id": claims.transaction_id.to_hex(),
                "action": {"name": name, "type": kind},
                "status": "pending",
                "task": task.as_str(),
                "message": "This request made no decision. Send a POST to this same URL to perform the action.",
            });
            if let Some(e) = expires {
                body["expiration"] = json!(e);
            }
            if let Some(who) = claims.asked_by() {
                body["requested_by"] = json!(who);
            }
            axum::Json(body).into_response()
        }
        Format::Text => format!(
            "This request made no decision. Send a POST to this same URL to perform {name} ({kind}).\n"
        )
        .into_response(),
    }
}

fn accepted(claims: &Claims, decision: &Decision, format: Format, locale: Locale) -> Response {
    let spec = decision.response.clone().unwrap_or_default();
    if let Some(location) = spec
        .redirect
        .as_deref()
        .and_then(|r| HeaderValue::from_str(r).ok())
    {
        return html::see_other(location);
    }
    let name = claims.action.name.as_str();
    let kind = claims.action.kind().as_str();
    let tid = claims.transaction_id.to_hex();
    match format {
        Format::Json => {
            let body = spec.json.unwrap_or_else(|| {
                let mut body =
                    json!({"transaction_id": tid, "action": {"name": name, "type": kind}});
                if let Some(outcome) = &decision.outcome {
                    body["outcome"] = json!(outcome.as_str());
                }
                body
            });
            axum::Json(body).into_response()
        }
        Format::Html => match spec.html {
            Some(html) => html::custom_html_response(html),
            None => html::html_ok(pages::accepted_page(
                locale,
                name,
                claims.action.page.label.as_deref(),
                kind,
                decision.comment.as_deref(),
                &tid,
            )),
        },
        Format::Text => spec
            .text
            .unwrap_or_else(|| format!("Response accepted: {name} ({kind})\n"))
            .into_response(),
    }
}

/// What a look at a review link answers: the review page, or for programs
/// the choices and how to make one.
fn review_answer(
    review: &Review,
    standings: &[Standing],
    who: Option<&str>,
    task: Probed,
    format: Format,
    locale: Locale,
    query: &str,
) -> Response {
    match format {
        Format::Html => {
            // A description every choice shares is shown once.
            let mut descriptions = review
                .choices
                .iter()
                .map(|c| c.action.page.description.as_deref());
            let shared = descriptions
                .next()
                .flatten()
                .filter(|first| descriptions.all(|d| d == Some(*first)));
            let rest = without_choice(query);
            let choices = review
                .choices
                .iter()
                .zip(standings)
                .map(|(choice, standing)| {
                    let action = &choice.action;
                    let name: String =
                        url::form_urlencoded::byte_serialize(action.name.as_str().as_bytes())
                            .collect();
                    ChoiceView {
                        name: action.name.as_str(),
                        kind: action.kind().as_str(),
                        label: action.page.label.as_deref(),
                        description: if shared.is_some() {
                            None
                        } else {
                            action.page.description.as_deref()
                        },
                        comment: action.page.comment,
                        form: action.page.form.as_ref().map(FormView::new),
                        form_action: format!(
                            "?action={name}&type={}&{rest}",
                            action.kind().as_str()
                        ),
                        standing: match standing {
                            Standing::May => ChoiceStanding::May,
                            Standing::SignInFirst => ChoiceStanding::SignInFirst,
                            Standing::MayNot(refusal) => ChoiceStanding::MayNot(*refusal),
                        },
                    }
                })
                .collect();
            let needs_sign_in = standings.contains(&Standing::SignInFirst);
            html::html_ok(pages::review_page(&ReviewView {
                locale,
                open: task == Probed::Open,
                description: shared,
                expires: review
                    .expires_at_millis
                    .map(|millis| format_instant(locale, millis)),
                who,
                requested_by: review.asked_by(),
                login_href: needs_sign_in.then(|| login_href(query)),
                choices,
            }))
        }
        Format::Json => {
            let actions: Vec<Value> = review
                .choices
                .iter()
                .zip(standings)
                .map(|(choice, standing)| {
                    let mut entry = json!({
                        "name": choice.action.name.as_str(),
                        "type": choice.action.kind().as_str(),
                        "standing": match standing {
                            Standing::May => "may",
                            Standing::SignInFirst => "sign-in-first",
                            Standing::MayNot(_) => "may-not",
                        },
                    });
                    if let Some(label) = &choice.action.page.label {
                        entry["label"] = json!(label);
                    }
                    entry
                })
                .collect();
            let mut body = json!({
                "transaction_id": review.transaction_id.to_hex(),
                "status": "pending",
                "task": task.as_str(),
                "actions": actions,
                "message": "This request made no decision. To choose, send a POST to this same URL with action=<name> added to its query.",
            });
            if let Some(e) = review.expires_at_millis {
                body["expiration"] = json!(format_millis(e));
            }
            if let Some(who) = who {
                body["signed_in_as"] = json!(who);
            }
            if let Some(asked) = review.asked_by() {
                body["requested_by"] = json!(asked);
            }
            axum::Json(body).into_response()
        }
        Format::Text => {
            let names: Vec<&str> = review
                .choices
                .iter()
                .map(|c| c.action.name.as_str())
                .collect();
            format!(
                "This request made no decision. To choose one of {}, send a POST to this same URL with action=<name> added to its query.\n",
                names.join(", ")
            )
            .into_response()
        }
    }
}
