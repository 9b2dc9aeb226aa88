//! `/respond`: the callback handler.
//!
//! Order: parse the query, open the payload, check expiry, check the query
//! against the sealed action, then either show what would happen (GET,
//! HEAD) or build the call and make it (POST, or GET with `GET_ACTS`).

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::core::ErrorCode;
use crate::core::Features;
use crate::core::action::ActionKind;
use crate::core::callback::{Decision, decide, format_millis, verify};
use crate::core::payload::{Claims, PayloadError};
use crate::core::template::Params;
use crate::http::error::ApiError;
use crate::http::negotiate::{Format, negotiate};
use crate::http::pages::{self, Pending};
use crate::http::{AppState, LogFields, body_or_error, has_media_type, is_json};
use crate::keys::OpenFailure;

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
                return Err(invalid_payload("the link has more than one data parameter"));
            }
            data = Some(value.into_owned());
        } else {
            params.insert(key.into_owned(), value.into_owned());
        }
    }
    let data = data
        .filter(|d| !d.is_empty())
        .ok_or_else(|| invalid_payload("the link has no data parameter; copy the whole link"))?;
    Ok(Query { data, params })
}

fn invalid_payload(message: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidPayload, message)
}

/// `GET`, `HEAD` and `POST /respond`.
pub async fn respond(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let format = negotiate(&headers);
    let mut log = LogFields::default();
    let mut response = match handle(
        &state,
        &method,
        &headers,
        query.as_deref(),
        body,
        format,
        &mut log,
    )
    .await
    {
        Ok(response) => response,
        Err(error) => error
            .with_format(format)
            .with_transaction(log.transaction_id.clone())
            .into_response(),
    };
    response.extensions_mut().insert(log);
    response
}

async fn handle(
    state: &AppState,
    method: &Method,
    headers: &HeaderMap,
    query: Option<&str>,
    body: Result<Bytes, BytesRejection>,
    format: Format,
    log: &mut LogFields,
) -> Result<Response, ApiError> {
    let query = parse_query(query)?;
    let claims = state
        .keys
        .open(&query.data)
        .await
        .map_err(|failure| match failure {
            OpenFailure::Payload(reason) => {
                log.open_error = Some(format!("{reason:?}"));
                let mut error = ApiError::from(reason.rejection());
                if reason == PayloadError::RetiredKey {
                    // It was a good link; it is gone, like an expired one.
                    error.status = StatusCode::GONE;
                }
                error
            }
            OpenFailure::KmsUnavailable => ApiError::unavailable(
                "the key service is unavailable; the link is still valid, try again shortly",
            ),
            OpenFailure::KmsRefused => ApiError::kms_refused(),
        })?;
    let kind = claims.action.kind();
    log.transaction_id = Some(claims.transaction_id.to_hex());
    log.action = Some(claims.action.name.as_str().to_owned());
    log.action_type = Some(kind.as_str());

    let now = state.clock.now();
    verify(
        &claims,
        query.params.get("action").map(String::as_str),
        query.params.get("type").map(String::as_str),
        now,
    )?;

    let policy = Features {
        output_parameters: state.settings.output_parameters,
        post_actions: state.settings.post_actions,
    };
    if kind == ActionKind::Post {
        if *method != Method::POST {
            log.result = Some("pending");
            return Ok(post_only(&claims, format));
        }
        if !is_json(headers) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::InvalidRequest,
                "this link takes Content-Type: application/json",
            ));
        }
        let value = json_body(&body_or_error(body)?)?;
        let decision = decide(&claims, &query.params, Some(&value), None, policy)?;
        return act(state, &claims, decision, format, log).await;
    }
    let one_click = state.settings.get_acts || claims.action.page.one_click;
    let acts = *method == Method::POST || (*method == Method::GET && one_click);
    if !acts {
        log.result = Some("pending");
        return Ok(pending(&claims, format));
    }
    let comment = if *method == Method::POST {
        comment_from_body(headers, &body_or_error(body)?)?
    } else {
        None
    };
    let decision = decide(&claims, &query.params, None, comment.as_deref(), policy)?;
    act(state, &claims, decision, format, log).await
}

fn json_body(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidJson,
            format!("the request body is not valid JSON: {e}"),
        )
    })
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
            Some(_) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::InvalidComment,
                "comment must be a string",
            )),
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
    let mut response = if format == Format::Html {
        pages::html_response(
            StatusCode::METHOD_NOT_ALLOWED,
            pages::post_only_page(claims.action.name.as_str()),
        )
    } else {
        let mut error = ApiError::method_not_allowed("POST");
        error.message = "this link is answered by a POST with a JSON body".to_owned();
        return error.with_format(format).into_response();
    };
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    response
}

/// What a GET shows: the action that a POST would perform.
fn pending(claims: &Claims, format: Format) -> Response {
    let name = claims.action.name.as_str();
    let kind = claims.action.kind().as_str();
    let expires = claims.expires_at_millis.map(format_millis);
    match format {
        Format::Html => pages::html_response(
            StatusCode::OK,
            pages::confirm_page(&Pending {
                name,
                kind,
                label: claims.action.page.label.as_deref(),
                description: claims.action.page.description.as_deref(),
                expires,
                comment: claims.action.page.comment,
            }),
        ),
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

async fn act(
    state: &AppState,
    claims: &Claims,
    decision: Decision,
    format: Format,
    log: &mut LogFields,
) -> Result<Response, ApiError> {
    log.outcome = decision.outcome.as_ref().map(|o| o.as_str().to_owned());
    let started = Instant::now();
    let sent = state.sfn.send(&decision.command).await;
    log.sfn_ms = Some(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX));
    if let Err(e) = sent {
        tracing::warn!(
            transaction_id = log.transaction_id,
            operation = decision.command.operation(),
            error = %e,
            "Step Functions call failed"
        );
        return Err(ApiError::from(e));
    }
    log.result = Some("sent");
    Ok(accepted(claims, &decision, format))
}

fn accepted(claims: &Claims, decision: &Decision, format: Format) -> Response {
    let spec = decision.response.clone().unwrap_or_default();
    if let Some(location) = spec
        .redirect
        .as_deref()
        .and_then(|r| HeaderValue::from_str(r).ok())
    {
        return (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response();
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
            None => pages::html_response(
                StatusCode::OK,
                pages::accepted_page(
                    name,
                    claims.action.page.label.as_deref(),
                    kind,
                    decision.comment.as_deref(),
                    &tid,
                ),
            ),
        },
        Format::Text => spec
            .text
            .unwrap_or_else(|| format!("Response accepted: {name} ({kind})\n"))
            .into_response(),
    }
}
