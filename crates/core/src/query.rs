//! Reading `application/x-www-form-urlencoded` text (a URL's query, a
//! form's body) strictly: every name once, every name and value valid
//! UTF-8.
//!
//! A lenient reader lets the last of two `action` parameters win and turns
//! invalid bytes into U+FFFD. A person, a proxy or a firewall that reads the
//! first parameter, or the bytes as sent, would then see another request
//! than the one acted on; so an ambiguous or undecodable pair is refused,
//! never guessed.

use std::borrow::Cow;
use std::fmt;

/// Why a query or form body was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PairsError {
    /// A name given more than once (the name, as [`shown`] allows).
    Repeated(String),
    /// A name or value whose bytes are not UTF-8 (the name, when it is).
    NotUtf8(Option<String>),
}

impl PairsError {
    /// The parameter it concerns, when it can be named.
    pub fn name(&self) -> Option<&str> {
        match self {
            Self::Repeated(name) => Some(name),
            Self::NotUtf8(name) => name.as_deref(),
        }
    }
}

impl fmt::Display for PairsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Repeated(name) => write!(f, "the parameter {name} is given more than once"),
            Self::NotUtf8(Some(name)) => write!(f, "the parameter {name} is not valid UTF-8"),
            Self::NotUtf8(None) => f.write_str("a parameter name is not valid UTF-8"),
        }
    }
}

/// A parameter's name as an error message may repeat it: short names of
/// letters, digits, `_`, `-` and `.`, quoted; anything else (which could
/// be a pasted secret or markup) is not repeated.
pub fn shown(name: &str) -> String {
    let plain = !name.is_empty()
        && name.len() <= 40
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if plain {
        format!("{name:?}")
    } else {
        "(a name that is not shown)".to_owned()
    }
}

fn decode(raw: &[u8]) -> Result<String, ()> {
    let plus_as_space: Cow<'_, [u8]> = if raw.contains(&b'+') {
        Cow::Owned(
            raw.iter()
                .map(|&b| if b == b'+' { b' ' } else { b })
                .collect(),
        )
    } else {
        Cow::Borrowed(raw)
    };
    let bytes: Vec<u8> = percent_encoding::percent_decode(&plus_as_space).collect();
    String::from_utf8(bytes).map_err(|_| ())
}

/// The name-value pairs of `input`, in order, each name once. Empty
/// segments (`a=1&&b=2`) are skipped, as browsers and the URL standard
/// do; a segment without `=` is a name with an empty value.
pub fn parse_unique(input: &[u8]) -> Result<Vec<(String, String)>, PairsError> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for segment in input.split(|&b| b == b'&').filter(|s| !s.is_empty()) {
        let (raw_name, raw_value) = match segment.iter().position(|&b| b == b'=') {
            Some(at) => (&segment[..at], &segment[at + 1..]),
            None => (segment, &segment[segment.len()..]),
        };
        let name = decode(raw_name).map_err(|()| PairsError::NotUtf8(None))?;
        let value = decode(raw_value).map_err(|()| PairsError::NotUtf8(Some(shown(&name))))?;
        if pairs.iter().any(|(seen, _)| *seen == name) {
            return Err(PairsError::Repeated(shown(&name)));
        }
        pairs.push((name, value));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn reads_what_the_lenient_reader_reads_when_unambiguous() {
        for input in [
            "action=approve&type=success&data=E1-abc_DEF",
            "comment=hello+world%21&count=3&flag",
            "a=%E2%82%AC&b=&&c=x%3Dy=z",
            "",
        ] {
            let lenient: Vec<(String, String)> = url::form_urlencoded::parse(input.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            assert_eq!(parse_unique(input.as_bytes()), Ok(lenient), "{input}");
        }
        assert_eq!(
            parse_unique(b"a=%E2%82%AC&c=x%3Dy=z"),
            Ok(owned(&[("a", "€"), ("c", "x=y=z")]))
        );
    }

    #[test]
    fn refuses_a_repeated_name_naming_it() {
        let err = parse_unique(b"action=reject&type=failure&action=approve").expect_err("refused");
        assert_eq!(err, PairsError::Repeated("\"action\"".into()));
        assert_eq!(
            err.to_string(),
            "the parameter \"action\" is given more than once"
        );
        // The same name however it is spelled on the wire.
        assert_eq!(
            parse_unique(b"type=success&%74ype=failure").expect_err("refused"),
            PairsError::Repeated("\"type\"".into())
        );
        // An empty value counts as given.
        assert_eq!(
            parse_unique(b"data=&data=E1").expect_err("refused"),
            PairsError::Repeated("\"data\"".into())
        );
    }

    #[test]
    fn refuses_invalid_utf8_naming_the_parameter() {
        let err = parse_unique(b"comment=%FF%FEhi").expect_err("refused");
        assert_eq!(err, PairsError::NotUtf8(Some("\"comment\"".into())));
        assert_eq!(
            err.to_string(),
            "the parameter \"comment\" is not valid UTF-8"
        );
        assert_eq!(
            parse_unique(b"%C3=1").expect_err("refused"),
            PairsError::NotUtf8(None)
        );
        // Raw bytes that are not UTF-8, unencoded.
        assert_eq!(
            parse_unique(b"note=\xC3\x28").expect_err("refused"),
            PairsError::NotUtf8(Some("\"note\"".into()))
        );
    }

    #[test]
    fn never_repeats_a_name_that_could_be_a_secret_or_markup() {
        let long = "E".repeat(41);
        let err = parse_unique(format!("{long}=1&{long}=2").as_bytes()).expect_err("refused");
        assert!(!err.to_string().contains(&long), "{err}");
        let err = parse_unique(b"%3Cb%3E=1&%3Cb%3E=2").expect_err("refused");
        assert!(!err.to_string().contains("<b>"), "{err}");
        assert_eq!(err.name(), Some("(a name that is not shown)"));
    }
}
