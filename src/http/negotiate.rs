//! `Accept` negotiation among JSON, HTML and plain text.

use axum::http::{HeaderMap, header};

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

/// Picks the format the client prefers: the highest-`q` media range we
/// support, the first listed among equals; JSON when nothing matches.
pub fn negotiate(headers: &HeaderMap) -> Format {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Format::Json;
    };
    let mut best: Option<(f32, Format)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let format = match media.as_str() {
            "application/json" => Format::Json,
            "text/html" | "application/xhtml+xml" => Format::Html,
            "text/plain" => Format::Text,
            _ => continue,
        };
        if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
            best = Some((q, format));
        }
    }
    best.map_or(Format::Json, |(_, f)| f)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
