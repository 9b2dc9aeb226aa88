//! The Lambda adapter: one handler for API Gateway REST (v1), HTTP API (v2)
//! and Function URL events, and for direct invokes of CreateUrls.
//!
//! HTTP events go through the same axum [`Router`](axum::Router) as `serve`.
//! The event is checked before `lambda_http` converts it (a body flagged as
//! base64 that is not base64 would otherwise panic inside the conversion),
//! the stage prefix is taken off the path, and the public base URL of the
//! links is derived from the event's domain and stage.
//!
//! Any other JSON object is a CreateUrls request (direct invoke); the result
//! is the CreateUrls output with no HTTP response around it.

use axum::body::Body as AxumBody;
use axum::http::{HeaderMap, Request, StatusCode, Uri, header};
use axum::response::IntoResponse as _;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http_body_util::BodyExt as _;
use lambda_http::RequestExt as _;
use lambda_http::lambda_runtime::{self, Diagnostic, LambdaEvent, service_fn};
use lambda_http::request::RequestContext;
use serde_json::{Map, Value, json};
use tower::ServiceExt as _;

use crate::app::App;
use crate::http::error::ApiError;
use crate::http::limits::ClientIp;
use crate::http::{HttpSettings, PublicBase, router};
use crate::ports::Clock as _;
use crate::system::SystemClock;
use crate::telemetry::emf::Emf;

/// Which payload format an HTTP event came in, and so which one answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventFormat {
    /// API Gateway REST API (payload format 1.0).
    RestV1,
    /// API Gateway HTTP API or Lambda Function URL (payload format 2.0).
    HttpV2,
}

/// What an invocation carries.
#[derive(Debug)]
pub enum Event {
    /// An HTTP request in one of the API Gateway payload formats.
    Http(EventFormat, Value),
    /// A CreateUrls request.
    CreateUrls(Value),
}

/// How direct-invoke errors are returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DirectErrors {
    /// As a function error (`errorType` is the error name): a state machine
    /// Task fails and can catch it by name; `InvokeFunction` callers see
    /// `FunctionError`.
    #[default]
    Function,
    /// As a successful result `{error, message}`, as sfn-callback-urls did.
    Result,
}

fn invalid_event(message: impl Into<String>) -> Diagnostic {
    Diagnostic {
        error_type: "InvalidEvent".to_owned(),
        error_message: message.into(),
    }
}

/// Tells HTTP events from direct invokes. HTTP events have a
/// `requestContext` and a method; CreateUrls input has neither (its unknown
/// fields are rejected anyway).
pub fn classify(event: Value) -> Result<Event, Diagnostic> {
    let Some(object) = event.as_object() else {
        return Err(invalid_event(
            "the event must be a JSON object: a CreateUrls request, or an API Gateway or Function URL event",
        ));
    };
    if !object.contains_key("requestContext") {
        return Ok(Event::CreateUrls(event));
    }
    let format = if object.get("version").and_then(Value::as_str) == Some("2.0") {
        EventFormat::HttpV2
    } else if object.contains_key("httpMethod") {
        EventFormat::RestV1
    } else {
        return Err(invalid_event(
            "unrecognised event: it has a requestContext but is neither an API Gateway REST (httpMethod) nor an HTTP API / Function URL (version 2.0) event",
        ));
    };
    Ok(Event::Http(format, event))
}

/// The base URL of the links behind this front door: the API's domain and
/// stage (`$default` has no path prefix).
fn public_base(context: Option<&RequestContext>) -> Option<(String, Option<String>)> {
    let (domain, stage) = match context? {
        RequestContext::ApiGatewayV1(c) => (c.domain_name.clone()?, c.stage.clone()),
        RequestContext::ApiGatewayV2(c) => (c.domain_name.clone()?, c.stage.clone()),
        _ => return None,
    };
    let stage = stage.filter(|s| !s.is_empty() && s != "$default");
    let base = match &stage {
        Some(stage) => format!("https://{domain}/{stage}"),
        None => format!("https://{domain}"),
    };
    Some((base, stage))
}

/// The caller's address as API Gateway or the Function URL saw it.
fn source_ip(context: Option<&RequestContext>) -> Option<std::net::IpAddr> {
    let ip = match context? {
        RequestContext::ApiGatewayV1(c) => c.identity.source_ip.as_deref()?,
        RequestContext::ApiGatewayV2(c) => c.http.source_ip.as_deref()?,
        _ => return None,
    };
    ip.parse().ok()
}

fn strip_stage(uri: &Uri, stage: &str) -> Option<Uri> {
    let path = uri.path();
    let rest = path.strip_prefix('/')?.strip_prefix(stage)?;
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    let rest = if rest.is_empty() { "/" } else { rest };
    let path_and_query = match uri.query() {
        Some(q) => format!("{rest}?{q}"),
        None => rest.to_owned(),
    };
    path_and_query.parse().ok()
}

fn is_text(headers: &HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            let ct = ct.to_ascii_lowercase();
            ct.starts_with("text/")
                || ct.contains("json")
                || ct.contains("xml")
                || ct.contains("yaml")
        })
}

/// Renders a response in the payload format the event came in.
fn lambda_response(
    format: EventFormat,
    status: StatusCode,
    headers: &HeaderMap,
    body: Vec<u8>,
) -> Value {
    let textual = body.is_empty() || is_text(headers);
    let (body, encoded) = match String::from_utf8(body) {
        Ok(text) if textual => (text, false),
        Ok(text) => (STANDARD.encode(text), true),
        Err(e) => (STANDARD.encode(e.into_bytes()), true),
    };
    let mut multi: Map<String, Value> = Map::new();
    for name in headers.keys() {
        let values: Vec<Value> = headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(|v| Value::String(v.to_owned()))
            .collect();
        multi.insert(name.as_str().to_owned(), Value::Array(values));
    }
    match format {
        EventFormat::RestV1 => json!({
            "statusCode": status.as_u16(),
            "multiValueHeaders": multi,
            "body": body,
            "isBase64Encoded": encoded,
        }),
        EventFormat::HttpV2 => {
            // Payload format 2.0 takes cookies apart: joined with commas,
            // Set-Cookie values (which hold commas in Expires) would break.
            let cookies = multi
                .remove(header::SET_COOKIE.as_str())
                .unwrap_or_else(|| Value::Array(Vec::new()));
            let single: Map<String, Value> = multi
                .into_iter()
                .map(|(k, v)| {
                    let joined = v
                        .as_array()
                        .map(|vs| {
                            vs.iter()
                                .filter_map(Value::as_str)
                                .collect::<Vec<_>>()
                                .join(",")
                        })
                        .unwrap_or_default();
                    (k, Value::String(joined))
                })
                .collect();
            json!({
                "statusCode": status.as_u16(),
                "headers": single,
                "cookies": cookies,
                "body": body,
                "isBase64Encoded": encoded,
            })
        }
    }
}

/// The Lambda handler: the router, built once, for HTTP events, and
/// CreateUrls for direct invokes.
#[derive(Debug, Clone)]
pub struct Handler {
    app: App,
    router: axum::Router,
    errors: DirectErrors,
}

impl Handler {
    /// A handler for `app` with the HTTP settings its router uses.
    pub fn new(app: App, http: HttpSettings, errors: DirectErrors) -> Self {
        Self {
            router: router(app.clone(), http),
            app,
            errors,
        }
    }

    /// Handles one invocation.
    pub async fn handle(&self, event: Value) -> Result<Value, Diagnostic> {
        match classify(event)? {
            Event::Http(format, event) => self.handle_http(format, event).await,
            Event::CreateUrls(value) => self.handle_create(value).await,
        }
    }

    async fn handle_http(&self, format: EventFormat, event: Value) -> Result<Value, Diagnostic> {
        if event.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) {
            let valid = match event.get("body") {
                None | Some(Value::Null) => true,
                Some(Value::String(b)) => STANDARD.decode(b).is_ok(),
                Some(_) => false,
            };
            if !valid {
                let refused = ApiError::bad_request(
                    "the request body is flagged as base64 (isBase64Encoded) but is not valid base64",
                );
                return to_lambda_response(format, refused.into_response()).await;
            }
        }
        let request = match lambda_http::request::from_str(&event.to_string()) {
            Ok(request) => request,
            Err(e) => {
                return Err(invalid_event(format!(
                    "the HTTP event could not be read: {e}"
                )));
            }
        };
        let base = public_base(request.request_context_ref());
        let client = source_ip(request.request_context_ref());
        let (mut parts, body) = request.into_parts();
        if let Some(ip) = client {
            parts.extensions.insert(ClientIp(ip));
        }
        if let Some((_, Some(stage))) = &base
            && let Some(uri) = strip_stage(&parts.uri, stage)
        {
            parts.uri = uri;
        }
        if let Some((url, _)) = base {
            parts.extensions.insert(PublicBase(url));
        }
        let request = Request::from_parts(parts, AxumBody::from(body.to_vec()));
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .map_err(|e| invalid_event(format!("internal: {e}")))?;
        to_lambda_response(format, response).await
    }

    async fn handle_create(&self, value: Value) -> Result<Value, Diagnostic> {
        match self.app.create_from_value(value, None).await {
            Ok(output) => {
                tracing::info!(
                    target: "sfn_callbacks::request",
                    transaction_id = output.transaction_id,
                    result = "created",
                    "direct invoke"
                );
                Ok(serde_json::to_value(output).expect("the output serialises"))
            }
            Err(error) => {
                let code = error.code().as_str();
                tracing::info!(target: "sfn_callbacks::request", error = code, "direct invoke");
                match self.errors {
                    DirectErrors::Function => Err(Diagnostic {
                        error_type: code.to_owned(),
                        error_message: error.message(),
                    }),
                    DirectErrors::Result => Ok(json!({"error": code, "message": error.message()})),
                }
            }
        }
    }
}

/// Renders an axum response in the payload format the event came in.
async fn to_lambda_response(
    format: EventFormat,
    response: axum::response::Response,
) -> Result<Value, Diagnostic> {
    let (parts, body) = response.into_parts();
    let bytes = body
        .collect()
        .await
        .map_err(|e| invalid_event(format!("internal: {e}")))?
        .to_bytes();
    Ok(lambda_response(
        format,
        parts.status,
        &parts.headers,
        bytes.to_vec(),
    ))
}

/// Runs the Lambda runtime loop until the environment ends it. After each
/// invocation, before its answer goes back, what it counted goes to stdout
/// as Embedded Metric Format (the logs go to stderr).
pub async fn run(handler: Handler, metrics: Emf) -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let (handler, metrics) = (handler.clone(), metrics.clone());
        async move {
            let answer = handler.handle(event.payload).await;
            write_metrics(&metrics, &event.context.request_id);
            answer
        }
    }))
    .await
}

/// Writes the invocation's EMF lines to stdout, one write each.
fn write_metrics(metrics: &Emf, request_id: &str) {
    use std::io::Write as _;
    let now = SystemClock.now();
    let now = i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
    let mut out = std::io::stdout().lock();
    for line in metrics.flush(now, request_id) {
        if let Err(e) = writeln!(out, "{line}").and_then(|()| out.flush()) {
            tracing::warn!(error = %e, "the metrics could not be written");
        }
    }
}
