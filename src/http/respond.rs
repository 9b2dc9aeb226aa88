//! `/respond`: the callback handler's HTTP front door.
//!
//! It splits the query into the sealed payload and the other parameters,
//! hands them to [`App::respond`](crate::app::App::respond) with how the
//! request came (HEAD previews, GET visits, POST submits) and a reader for
//! the body, and renders the outcome: a confirmation page, a page for
//! systems, or the accepted answer.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::app::{Input, Needs, Outcome, Trace, Via};
use crate::core::callback::{Decision, format_millis};
use crate::core::payload::Claims;
use crate::core::template::Params;
use crate::http::error::ApiError;
use crate::http::negotiate::{Format, negotiate};
use crate::http::pages::{self, Pending};
use crate::http::{HttpState, body_or_error, has_media_type, is_json};

/// The query split into the sealed payload and the other parameters.
struct Query {
    data: String,
    params: Params,
}

fn parse_query(raw: Option<&str>) -> Result<Query, ApiError> {
    let mut data = None;
    let mut params = Params::new();
    for (key, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        if key == "data" {
            if data.is_some() {
                return Err(ApiError::invalid_payload(
                    "the link has more than one data parameter",
                ));
            }
            data = Some(value.into_owned());
        } else {
            params.insert(key.into_owned(), value.into_owned());
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
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let format = negotiate(&headers);
    let mut trace = Trace::default();
    let mut response = match handle(
        &state,
        &method,
        &headers,
        query.as_deref(),
        body,
        &mut trace,
    )
    .await
    {
        Ok(outcome) => render(outcome, format),
        Err(error) => error
            .with_format(format)
            .with_transaction(trace.transaction_id.clone())
            .into_response(),
    };
    response.extensions_mut().insert(trace);
    response
}

async fn handle(
    state: &HttpState,
    method: &Method,
    headers: &HeaderMap,
    query: Option<&str>,
    body: Result<Bytes, BytesRejection>,
    trace: &mut Trace,
) -> Result<Outcome, ApiError> {
    let query = parse_query(query)?;
    let via = match *method {
        Method::POST => Via::Submit,
        Method::GET => Via::Visit,
        _ => Via::Preview,
    };
    state
        .app
        .respond(&query.data, &query.params, via, trace, |needs| {
            read_body(needs, headers, body)
        })
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
        Needs::Comment => Ok(Input::Comment(comment_from_body(
            headers,
            &body_or_error(body)?,
        )?)),
    }
}

fn render(outcome: Outcome, format: Format) -> Response {
    match outcome {
        Outcome::PostOnly(claims) => post_only(&claims, format),
        Outcome::Pending(claims) => pending(&claims, format),
        Outcome::Sent { claims, decision } => accepted(&claims, &decision, format),
    }
}

fn json_body(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid_json(format!("the request body is not valid JSON: {e}")))
}

/// The person's comment: the `comment` field of the confirmation page's
/// form, or of a JSON object a program posts. Other bodies carry none.
fn comment_from_body(headers: &HeaderMap, body: &[u8]) -> Result<Option<String>, ApiError> {
    if is_form(headers) {
        return Ok(url::form_urlencoded::parse(body)
            .filter(|(k, _)| k == "comment")
            .map(|(_, v)| v.into_owned())
            .last());
    }
    if is_json(headers) && !body.is_empty() {
        return match json_body(body)?.get("comment") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(_) => Err(ApiError::invalid_comment("comment must be a string")),
        };
    }
    Ok(None)
}

fn is_form(headers: &HeaderMap) -> bool {
    has_media_type(headers, "application/x-www-form-urlencoded")
}

/// What a GET or HEAD of a POST-action link answers: 405, and for a
/// browser a page saying a system must POST JSON here.
fn post_only(claims: &Claims, format: Format) -> Response {
    ApiError::post_only(claims.action.name.as_str())
        .with_format(format)
        .into_response()
}

/// What a GET shows: the action that a POST would perform.
fn pending(claims: &Claims, format: Format) -> Response {
    let name = claims.action.name.as_str();
    let kind = claims.action.kind().as_str();
    let expires = claims.expires_at_millis.map(format_millis);
    match format {
        Format::Html => pages::html_ok(pages::confirm_page(&Pending {
            name,
            kind,
            label: claims.action.page.label.as_deref(),
            description: claims.action.page.description.as_deref(),
            expires,
            comment: claims.action.page.comment,
        })),
        Format::Json => {
            let mut body = json!({
                "transaction_id": claims.transaction_id.to_hex(),
                "action": {"name": name, "type": kind},
                "status": "pending",
                "message": "Nothing was sent to Step Functions. Send a POST to this same URL to perform the action.",
            });
            if let Some(e) = expires {
                body["expiration"] = json!(e);
            }
            axum::Json(body).into_response()
        }
        Format::Text => format!(
            "Nothing was sent yet. Send a POST to this same URL to perform {name} ({kind}).\n"
        )
        .into_response(),
    }
}

fn accepted(claims: &Claims, decision: &Decision, format: Format) -> Response {
    let spec = decision.response.clone().unwrap_or_default();
    if let Some(location) = spec
        .redirect
        .as_deref()
        .and_then(|r| HeaderValue::from_str(r).ok())
    {
        return pages::see_other(location);
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
            Some(html) => pages::custom_html_response(html),
            None => pages::html_ok(pages::accepted_page(
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
