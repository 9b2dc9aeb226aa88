//! What a request asks for: JSON, HTML or plain text (`Accept`), and the
//! language of a page (`Accept-Language`, unless the link sealed one).

use axum::http::{HeaderMap, header};

use crate::core::locale::Locale;

/// A response format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/json`.
    Json,
    /// `text/html`.
    Html,
    /// `text/plain`.
    Text,
}

/// The `q` of one media range's parameters: 1 when absent, 0 when not a
/// number in [0, 1] (so a malformed range never wins).
fn quality<'a>(params: impl Iterator<Item = &'a str>) -> f32 {
    for param in params {
        let Some((name, value)) = param.split_once('=') else {
            continue;
        };
        if name.trim().eq_ignore_ascii_case("q") {
            return value
                .trim()
                .parse::<f32>()
                .ok()
                .filter(|q| (0.0..=1.0).contains(q))
                .unwrap_or(0.0);
        }
    }
    1.0
}

/// Picks the format the client prefers: the highest-`q` media range we
/// support, the first listed among equals. `text/*` means a page,
/// `application/*` and `*/*` mean JSON. JSON when nothing matches.
pub fn negotiate(headers: &HeaderMap) -> Format {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Format::Json;
    };
    let mut best: Option<(f32, Format)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let format = match media.as_str() {
            "application/json" | "application/*" | "*/*" => Format::Json,
            "text/html" | "application/xhtml+xml" | "text/*" => Format::Html,
            "text/plain" => Format::Text,
            _ => continue,
        };
        let q = quality(parts);
        if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
            best = Some((q, format));
        }
    }
    best.map_or(Format::Json, |(_, f)| f)
}

/// The language of a page: the one sealed into the link if it has one,
/// else the first of the browser's `Accept-Language` that we speak, else
/// English. Pages shown before a link opens pass `None`.
pub fn page_locale(sealed: Option<Locale>, headers: &HeaderMap) -> Locale {
    sealed.unwrap_or_else(|| {
        Locale::from_accept_language(
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locale(sealed: Option<Locale>, accept_language: Option<&str>, expected: Locale) {
        let mut headers = HeaderMap::new();
        if let Some(a) = accept_language {
            headers.insert(header::ACCEPT_LANGUAGE, a.parse().expect("header"));
        }
        assert_eq!(
            page_locale(sealed, &headers),
            expected,
            "{sealed:?} {accept_language:?}"
        );
    }

    #[test]
    fn a_sealed_language_wins_then_the_browser_then_english() {
        locale(None, None, Locale::En);
        locale(None, Some("de-DE,de;q=0.9"), Locale::De);
        locale(None, Some("ja;q=0, fr"), Locale::Fr);
        locale(None, Some("zh-CN"), Locale::En);
        locale(Some(Locale::Ja), Some("de"), Locale::Ja);
        locale(Some(Locale::PtBr), None, Locale::PtBr);
        locale(Some(Locale::En), Some("es"), Locale::En);
    }

    #[test]
    fn an_accept_language_that_is_not_text_is_english() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_LANGUAGE,
            axum::http::HeaderValue::from_bytes(b"de\xff").expect("opaque bytes"),
        );
        assert_eq!(page_locale(None, &headers), Locale::En);
    }

    fn check(accept: Option<&str>, expected: Format) {
        let mut headers = HeaderMap::new();
        if let Some(a) = accept {
            headers.insert(header::ACCEPT, a.parse().expect("header"));
        }
        assert_eq!(negotiate(&headers), expected, "{accept:?}");
    }

    #[test]
    fn picks_what_the_client_prefers() {
        check(None, Format::Json);
        check(Some("*/*"), Format::Json);
        check(
            Some("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
            Format::Html,
        );
        check(Some("text/plain"), Format::Text);
        check(Some("application/json, text/html"), Format::Json);
        check(Some("text/html;q=0.5, text/plain"), Format::Text);
        check(Some("text/html;q=0, application/xml"), Format::Json);
        check(Some("TEXT/HTML"), Format::Html);
        check(Some("text/*"), Format::Html);
        check(Some("text/plain;Q=0.2, text/html;q=0.1"), Format::Text);
        check(Some("text/plain;q=5, application/json;q=0.5"), Format::Json);
        check(Some("text/plain;q=nan, text/html;q=inf"), Format::Json);
        check(Some("*/*;q=0.1, text/plain;q=0.2"), Format::Text);
    }
}
