//! What a notification says of the links CreateUrls just made: the view
//! both the templates (`render`) and the chat shapes (`chat`) are made
//! from.

use serde_json::{Map, Value};
use sfn_callbacks_core::create::{CreateRequest, CreateUrlsOutput, expires_at_millis};
use sfn_callbacks_core::locale::Locale;

/// What a notification's templates see of the links CreateUrls just made.
/// The caller makes it from the CreateUrls answer, so rendering needs
/// nothing from `create`.
#[derive(Debug, Clone, Copy)]
pub struct Links<'a> {
    /// 32 hex digits naming the CreateUrls call.
    pub transaction_id: &'a str,
    /// One URL per action name.
    pub urls: &'a Map<String, Value>,
    /// The review link, when one was made.
    pub review_url: Option<&'a str>,
    /// The caller's expiration text, when one was given.
    pub expiration: Option<&'a str>,
    /// The expiration, as milliseconds since 1970.
    pub expires_at_millis: Option<i64>,
    /// The language of the default texts.
    pub locale: Locale,
    /// Who asked: `requested_by`, else the requester's email.
    pub requested_by: Option<&'a str>,
}

impl<'a> Links<'a> {
    /// What a notification's templates see of `output`, the links just
    /// made for `request`: the default texts speak its language.
    pub fn of(output: &'a CreateUrlsOutput, request: &'a CreateRequest) -> Self {
        Links {
            transaction_id: &output.transaction_id,
            urls: &output.urls,
            review_url: output.review_url.as_deref(),
            expiration: output.expiration.as_deref(),
            expires_at_millis: expires_at_millis(request),
            locale: request.locale.unwrap_or_default(),
            requested_by: request.asked_by(),
        }
    }
}
