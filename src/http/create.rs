//! `POST /urls`: CreateUrls over HTTP.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Extension, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use crate::app::Trace;
use crate::http::error::ApiError;
use crate::http::{HttpState, PublicBase, base_from_host, body_or_error, is_json};

/// `POST /urls`.
pub async fn create_urls(
    State(state): State<HttpState>,
    public_base: Option<Extension<PublicBase>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    if !state.settings.create_urls_over_http {
        return Err(ApiError::not_found(
            "this endpoint does not serve CreateUrls; invoke the CreateUrls function directly",
        ));
    }
    if !state.settings.api_key_digests.is_empty() {
        let presented = super::bearer(&headers).unwrap_or_default();
        if !state.settings.api_key_matches(presented) {
            return Err(ApiError::unauthorized(
                "CreateUrls needs `Authorization: Bearer <key>` with a key from API_KEYS",
            ));
        }
    }
    if !is_json(&headers) {
        return Err(ApiError::unsupported_media_type(
            "CreateUrls takes Content-Type: application/json",
        ));
    }
    let body = body_or_error(body)?;
    let derived = public_base
        .map(|Extension(PublicBase(url))| url)
        .or_else(|| base_from_host(&headers));
    let output = state.app.create_from_json(&body, derived).await?;
    let trace = Trace {
        transaction_id: Some(output.transaction_id.clone()),
        result: Some("created"),
        ..Trace::default()
    };
    let mut response = axum::Json(output).into_response();
    response.extensions_mut().insert(trace);
    Ok(response)
}
