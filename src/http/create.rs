//! `POST /urls`: CreateUrls over HTTP.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;

use crate::core::ErrorCode;
use crate::core::create::{CreateRequest, CreateUrlsOutput, make_urls};
use crate::core::notify::Notified;
use crate::core::payload::{TransactionId, seal};
use crate::http::error::ApiError;
use crate::http::{AppState, LogFields, PublicBase, body_or_error, is_json};
use crate::ports::random_bytes;

/// The base URL derived from the request's `Host`, when none is configured.
fn base_from_host(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .filter(|p| matches!(*p, "http" | "https"))
        .unwrap_or("http");
    Some(format!("{proto}://{host}"))
}

/// Makes the URLs for a checked request: picks the base URL, gets the
/// sealing key once, and seals each action with a fresh nonce.
pub async fn mint(
    state: &AppState,
    request: &CreateRequest,
    now: OffsetDateTime,
    host_base: Option<String>,
) -> Result<CreateUrlsOutput, ApiError> {
    let base = match &request.base_url {
        Some(spec) => spec.resolve(&state.settings.default_region),
        None => state
            .settings
            .base_url
            .clone()
            .or(host_base)
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::InvalidRequest,
                    "no base URL is configured and the request has no Host header; give base_url",
                )
            })?,
    };
    if let Some(notify) = &request.notify {
        notify.check(&state.settings.notify)?;
    }
    let key = state.keys.sealing_key().await.map_err(|e| {
        tracing::warn!(error = %e, "no sealing key");
        ApiError::from(e)
    })?;
    let transaction_id = TransactionId(random_bytes());
    let mut output = make_urls(request, transaction_id, now, &base, |claims| {
        seal(claims, key.as_seal_with(), &random_bytes())
    })?;
    if let Some(notify) = &request.notify {
        // Rendered before anything is sent; a failed send returns no links.
        let notification =
            notify.render(&state.settings.notify, &request.actions, output.links())?;
        let message_id = state.notifier.send(&notification).await.map_err(|e| {
            tracing::warn!(error = %e, transaction_id = %output.transaction_id, "notification not sent");
            ApiError::from(e)
        })?;
        output.notified = Some(Notified {
            channel: notification.channel().to_owned(),
            message_id,
        });
    }
    Ok(output)
}

/// `POST /urls`.
pub async fn create_urls(
    State(state): State<AppState>,
    public_base: Option<Extension<PublicBase>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    if !state.settings.create_urls_over_http {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::InvalidRequest,
            "this endpoint does not serve CreateUrls; invoke the CreateUrls function directly",
        ));
    }
    if !state.settings.api_key_digests.is_empty() {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !state.settings.api_key_matches(presented) {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthorized,
                "CreateUrls needs `Authorization: Bearer <key>` with a key from API_KEYS",
            ));
        }
    }
    if !is_json(&headers) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::InvalidRequest,
            "CreateUrls takes Content-Type: application/json",
        ));
    }
    let body = body_or_error(body)?;
    let now = state.clock.now();
    let policy = state.settings.create_policy();
    let request = CreateRequest::parse(&body, policy, now)?;
    let derived = public_base
        .map(|Extension(PublicBase(url))| url)
        .or_else(|| base_from_host(&headers));
    let output = mint(&state, &request, now, derived).await?;
    let fields = LogFields {
        transaction_id: Some(output.transaction_id.clone()),
        result: Some("created"),
        ..LogFields::default()
    };
    let mut response = axum::Json(output).into_response();
    response.extensions_mut().insert(fields);
    Ok(response)
}
