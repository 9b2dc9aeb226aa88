//! Sign-in's front door: `GET /auth/login`, `GET /auth/callback`, and the
//! two cookies, the session and the short-lived one that binds a sign-in's
//! `state` to the browser that started it.
//!
//! Cookies are `HttpOnly`, `SameSite=Lax`, `Path=/`, and on https also
//! `Secure` with the `__Host-` prefix. Their names differ from the
//! provider's own (`_session`, `_interaction…`), which may share the host.

use axum::extract::{Extension, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::app::{Credential, SignInStart};
use crate::core::ErrorCode;
use crate::core::query::parse_unique;
use crate::http::error::ApiError;
use crate::http::html;
use crate::http::negotiate::{negotiate, page_locale};
use crate::http::{HttpState, PublicBase, base_from_host};

/// The session cookie's name (with `__Host-` on https).
pub const SESSION_COOKIE: &str = "sfncb-session";
/// The sign-in binding cookie's name (with `__Host-` on https).
pub const SIGN_IN_COOKIE: &str = "sfncb-sign-in";
/// The longest link query a sign-in carries back (the longest `data` and
/// a few parameters).
const MAX_RETURN_QUERY: usize = 9_000;

/// The public base URL of this deployment for this request: the
/// configured one, else the front door's, else the `Host` header's.
pub fn base_url(
    state: &HttpState,
    public_base: Option<&PublicBase>,
    headers: &HeaderMap,
) -> Option<String> {
    state
        .app
        .settings()
        .base_url
        .clone()
        .or_else(|| public_base.map(|PublicBase(url)| url.clone()))
        .or_else(|| base_from_host(headers))
        .map(|b| b.trim_end_matches('/').to_owned())
}

fn is_https(base: &str) -> bool {
    base.starts_with("https://")
}

/// A cookie's name for this base: `__Host-` on https.
fn cookie_name(base: &str, name: &str) -> String {
    if is_https(base) {
        format!("__Host-{name}")
    } else {
        name.to_owned()
    }
}

/// The value of cookie `name` (for this base), from every `Cookie` header.
pub fn read_cookie(headers: &HeaderMap, base: &str, name: &str) -> Option<String> {
    let name = cookie_name(base, name);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// A `Set-Cookie` value; `max_age_secs` 0 removes the cookie.
fn set_cookie(base: &str, name: &str, value: &str, max_age_secs: i64) -> HeaderValue {
    let built = cookie::Cookie::build((cookie_name(base, name), value.to_owned()))
        .http_only(true)
        .same_site(cookie::SameSite::Lax)
        .secure(is_https(base))
        .path("/")
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .build();
    HeaderValue::from_str(&built.to_string()).expect("cookie values are base64url")
}

/// Who the request names: a bearer token wins over a session cookie.
pub fn credential<'h>(headers: &'h HeaderMap, session: Option<&'h str>) -> Credential<'h> {
    match (super::bearer(headers), session) {
        (Some(token), _) => Credential::Bearer(token),
        (None, Some(sealed)) => Credential::Session(sealed),
        (None, None) => Credential::Anonymous,
    }
}

fn redirect_uri(base: &str) -> String {
    format!("{base}/auth/callback")
}

fn sign_in_failed(message: impl Into<String>) -> ApiError {
    ApiError::from(crate::core::error::Rejection::new(
        ErrorCode::SignInFailed,
        message,
    ))
}

/// [`base_url`], or the 400 that says how to give one.
pub fn require_base(
    state: &HttpState,
    public_base: Option<&PublicBase>,
    headers: &HeaderMap,
) -> Result<String, ApiError> {
    base_url(state, public_base, headers).ok_or_else(|| {
        ApiError::bad_request(
            "sign-in needs this deployment's public address: set BASE_URL, or send a Host header",
        )
    })
}

/// The query of the link a sign-in or sign-out returns to: it must carry
/// the link's `data`; `refusal` says what the endpoint takes.
fn link_query(query: Option<String>, refusal: &str) -> Result<String, ApiError> {
    let query = query.unwrap_or_default();
    let pairs = parse_unique(query.as_bytes()).map_err(|e| ApiError::bad_pairs("link", &e))?;
    if pairs.iter().any(|(k, v)| k == "data" && !v.is_empty()) {
        Ok(query)
    } else {
        Err(ApiError::invalid_payload(refusal))
    }
}

/// A 303 back to the link `/respond?{query}`.
fn back_to_link(base: &str, query: &str) -> Result<Response, ApiError> {
    let location = HeaderValue::from_str(&format!("{base}/respond?{query}"))
        .map_err(|_| ApiError::invalid_payload("the link to return to is not valid"))?;
    Ok(html::see_other(location))
}

/// Starts a sign-in that comes back to `/respond?{return_query}`: a 303 to
/// the provider, with the binding cookie.
pub async fn begin(
    state: &HttpState,
    base: &str,
    return_query: &str,
) -> Result<Response, ApiError> {
    if return_query.len() > MAX_RETURN_QUERY {
        return Err(ApiError::invalid_payload(
            "the link is too long to sign in for",
        ));
    }
    let SignInStart {
        redirect,
        binding,
        max_age_secs,
    } = state
        .app
        .begin_sign_in(return_query, &redirect_uri(base))
        .await?;
    let location = HeaderValue::from_str(&redirect)
        .map_err(|_| ApiError::bad_request("the provider's sign-in address is not usable"))?;
    let mut response = html::see_other(location);
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(base, SIGN_IN_COOKIE, &binding, max_age_secs),
    );
    Ok(response)
}

/// `GET /auth/login?{link query}`: sign in, then open that link.
pub async fn login(
    State(state): State<HttpState>,
    public_base: Option<Extension<PublicBase>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let format = negotiate(&headers);
    // No link has opened here: the page speaks the browser's language.
    let locale = page_locale(None, &headers);
    let result = async {
        let base = require_base(&state, public_base.as_ref().map(|e| &e.0), &headers)?;
        let query = link_query(
            query,
            "sign-in starts from a link: /auth/login takes the link's query, with its data parameter",
        )?;
        begin(&state, &base, &query).await
    }
    .await;
    result.unwrap_or_else(|e| e.with_format(format).with_locale(locale).into_response())
}

/// `POST /auth/logout?{link query}`: ends the session here (the cookie is
/// cleared; the provider's own session is the provider's) and goes back to
/// the link, to sign in as someone else. A POST, so no link preview or
/// scanner signs anyone out.
pub async fn logout(
    State(state): State<HttpState>,
    public_base: Option<Extension<PublicBase>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let format = negotiate(&headers);
    // No link has opened here: the page speaks the browser's language.
    let locale = page_locale(None, &headers);
    let result = (|| {
        let base = require_base(&state, public_base.as_ref().map(|e| &e.0), &headers)?;
        let query = link_query(
            query,
            "sign-out returns to a link: /auth/logout takes the link's query, with its data parameter",
        )?;
        let mut response = back_to_link(&base, &query)?;
        response
            .headers_mut()
            .append(header::SET_COOKIE, set_cookie(&base, SESSION_COOKIE, "", 0));
        Ok::<_, ApiError>(response)
    })();
    result.unwrap_or_else(|e| e.with_format(format).with_locale(locale).into_response())
}

/// The provider's answer, from the callback's query.
#[derive(Debug, Default)]
struct Answer {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

fn parse_answer(query: Option<&str>) -> Result<Answer, ApiError> {
    let mut answer = Answer::default();
    let pairs = parse_unique(query.unwrap_or_default().as_bytes()).map_err(|e| {
        sign_in_failed(format!(
            "{e} in the sign-in answer; nothing was sent. Open the link again to sign in"
        ))
    })?;
    for (key, value) in pairs {
        let slot = match &*key {
            "code" => &mut answer.code,
            "state" => &mut answer.state,
            "error" => &mut answer.error,
            _ => continue,
        };
        *slot = Some(value);
    }
    Ok(answer)
}

/// `GET /auth/callback`: finishes the sign-in, sets the session, and goes
/// back to the link. Any failure is a page or JSON error, and no session.
pub async fn callback(
    State(state): State<HttpState>,
    public_base: Option<Extension<PublicBase>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let format = negotiate(&headers);
    // No link has opened here: the page speaks the browser's language.
    let locale = page_locale(None, &headers);
    let result = async {
        let base = require_base(&state, public_base.as_ref().map(|e| &e.0), &headers)?;
        let answer = parse_answer(query.as_deref())?;
        if let Some(error) = &answer.error {
            // The provider's own error code: a short ASCII word by the
            // standard; anything else is not repeated.
            let shown = if error.len() <= 64
                && error.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            {
                error.as_str()
            } else {
                "an error"
            };
            return Err(sign_in_failed(format!(
                "the sign-in service answered {shown}; nothing was sent. Open the link again to retry"
            )));
        }
        let (Some(code), Some(sealed_state)) = (&answer.code, &answer.state) else {
            return Err(sign_in_failed(
                "this is not a sign-in answer: it has no code or no state. Open the link again to sign in",
            ));
        };
        let binding = read_cookie(&headers, &base, SIGN_IN_COOKIE);
        let signed_in = state
            .app
            .finish_sign_in(code, sealed_state, binding.as_deref(), &redirect_uri(&base))
            .await?;
        let mut response = back_to_link(&base, &signed_in.return_query)?;
        let cookies = response.headers_mut();
        cookies.append(
            header::SET_COOKIE,
            set_cookie(&base, SESSION_COOKIE, &signed_in.session, signed_in.max_age_secs),
        );
        cookies.append(header::SET_COOKIE, set_cookie(&base, SIGN_IN_COOKIE, "", 0));
        response.extensions_mut().insert(crate::app::Trace {
            result: Some("signed-in"),
            approver: Some(signed_in.identity.subject),
            ..crate::app::Trace::default()
        });
        Ok::<_, ApiError>(response)
    }
    .await;
    result.unwrap_or_else(|e| e.with_format(format).with_locale(locale).into_response())
}
