//! The languages the pages speak, and which one a request gets: the
//! `locale` sealed into a link when CreateUrls names one, else the
//! browser's `Accept-Language`, else English.
//!
//! Negotiation is `fluent-langneg`'s lookup over our six languages, so a
//! regional or related tag lands on the language we have (`de-AT` is
//! German, `pt` and `pt-PT` are Brazilian Portuguese, `en-GB` is English).
//! What each language says (messages, dates, decimals) is the
//! presentation crate's.

use std::fmt;
use std::sync::LazyLock;

use fluent_langneg::{NegotiationStrategy, negotiate_languages};
use unic_langid::LanguageIdentifier;

use super::error::{ErrorCode, Rejection};

/// A language of the pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Locale {
    /// English, the default and the fallback of every message.
    #[default]
    En,
    /// German.
    De,
    /// French.
    Fr,
    /// Spanish.
    Es,
    /// Japanese.
    Ja,
    /// Brazilian Portuguese.
    PtBr,
}

/// The language identifiers negotiation offers, in [`Locale::ALL`] order.
static AVAILABLE: LazyLock<Vec<LanguageIdentifier>> =
    LazyLock::new(|| Locale::ALL.iter().map(|locale| locale.langid()).collect());

impl Locale {
    /// Every language, English first.
    pub const ALL: [Locale; 6] = [
        Locale::En,
        Locale::De,
        Locale::Fr,
        Locale::Es,
        Locale::Ja,
        Locale::PtBr,
    ];

    /// The BCP 47 tag, as a page's `lang` attribute wants it.
    pub fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::De => "de",
            Self::Fr => "fr",
            Self::Es => "es",
            Self::Ja => "ja",
            Self::PtBr => "pt-BR",
        }
    }

    /// The one-byte code sealed into links. Codes are never reused or
    /// renumbered, since sealed links outlive releases; English is 0, so a
    /// zero byte means "no choice made".
    pub fn code(self) -> u8 {
        match self {
            Self::En => 0,
            Self::De => 1,
            Self::Fr => 2,
            Self::Es => 3,
            Self::Ja => 4,
            Self::PtBr => 5,
        }
    }

    /// The language of a sealed code, if it is one of ours.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|locale| locale.code() == code)
    }

    /// Its place in [`Locale::ALL`], which is its code.
    pub fn index(self) -> usize {
        usize::from(self.code())
    }

    /// Its language identifier, as Fluent and negotiation take it.
    pub fn langid(self) -> LanguageIdentifier {
        self.tag()
            .parse()
            .expect("every tag of ours is a valid language identifier")
    }

    /// The `locale` field of CreateUrls: any well-formed BCP 47 tag (any
    /// case, extensions allowed) that negotiates to one of our languages,
    /// so `de-AT` is German and `en-US` English. Anything else is refused,
    /// naming the supported tags.
    pub fn parse_sealed(raw: &str) -> Result<Self, Rejection> {
        language_id(raw)
            .and_then(|id| Self::negotiate(&[id]))
            .ok_or_else(|| {
                let supported: Vec<&str> = Self::ALL.iter().map(|l| l.tag()).collect();
                Rejection::new(
                    ErrorCode::InvalidJson,
                    format!(
                        "locale {raw:?} is not supported (supported: {})",
                        supported.join(", ")
                    ),
                )
            })
    }

    /// The language for a browser's `Accept-Language` header: the first
    /// of its languages, by quality, that negotiates to one of ours.
    /// Languages with `q=0` are refused by the person, so they are left
    /// out; the wildcard and malformed entries are skipped; no header, or
    /// nothing we speak, is English.
    pub fn from_accept_language(header: Option<&str>) -> Self {
        let requested: Vec<LanguageIdentifier> = header
            .map(accept_language::parse_with_quality)
            .unwrap_or_default()
            .into_iter()
            .filter(|(_, quality)| *quality > 0.0)
            .filter_map(|(tag, _)| language_id(&tag))
            .collect();
        Self::negotiate(&requested).unwrap_or_default()
    }

    /// The first requested language that one of ours serves.
    fn negotiate(requested: &[LanguageIdentifier]) -> Option<Self> {
        let best = negotiate_languages(
            requested,
            AVAILABLE.as_slice(),
            None,
            NegotiationStrategy::Lookup,
        );
        let best = best.first()?;
        let at = AVAILABLE.iter().position(|id| &id == best)?;
        Self::ALL.get(at).copied()
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

/// The language identifier of a well-formed BCP 47 tag, its extensions
/// (`-u-…`, `-x-…`) set aside; `None` for anything else, the wildcard and
/// `und` included. ICU4X reads the whole BCP 47 syntax; fluent-langneg
/// negotiates over unic-langid's identifiers, so the language part is
/// handed over as text.
fn language_id(tag: &str) -> Option<LanguageIdentifier> {
    let parsed = icu_locale_core::Locale::try_from_str(tag).ok()?;
    if parsed.id.language.is_unknown() {
        return None;
    }
    parsed.id.to_string().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealed(raw: &str, expected: Option<Locale>) {
        let got = Locale::parse_sealed(raw);
        match expected {
            Some(locale) => assert_eq!(got, Ok(locale), "{raw:?}"),
            None => {
                let err = got.expect_err(raw);
                assert_eq!(err.code, ErrorCode::InvalidJson, "{raw:?}");
                assert_eq!(
                    err.message,
                    format!(
                        "locale {raw:?} is not supported (supported: en, de, fr, es, ja, pt-BR)"
                    )
                );
            }
        }
    }

    fn accept(header: Option<&str>, expected: Locale) {
        assert_eq!(Locale::from_accept_language(header), expected, "{header:?}");
    }

    #[test]
    fn every_tag_of_ours_is_sealed_as_itself() {
        for locale in Locale::ALL {
            sealed(locale.tag(), Some(locale));
            sealed(&locale.tag().to_uppercase(), Some(locale));
            sealed(&locale.tag().to_lowercase(), Some(locale));
        }
    }

    #[test]
    fn a_sealed_tag_negotiates_to_the_language_we_have() {
        sealed("en-US", Some(Locale::En));
        sealed("en-GB", Some(Locale::En));
        sealed("de-AT", Some(Locale::De));
        sealed("de-CH", Some(Locale::De));
        sealed("fr-CA", Some(Locale::Fr));
        sealed("es-MX", Some(Locale::Es));
        sealed("es-419", Some(Locale::Es));
        sealed("ja-JP", Some(Locale::Ja));
        sealed("pt", Some(Locale::PtBr));
        sealed("pt-PT", Some(Locale::PtBr));
        sealed("de-DE-u-co-phonebk", Some(Locale::De));
        sealed("ja-Jpan-JP", Some(Locale::Ja));
    }

    #[test]
    fn a_sealed_tag_we_do_not_speak_or_that_is_not_a_tag_is_refused() {
        for raw in [
            "xx",
            "zh",
            "zh-Hant-TW",
            "it",
            "",
            " ",
            "*",
            "und",
            "en-",
            "en--US",
            "english",
            "de_AT ",
            "<b>",
        ] {
            sealed(raw, None);
        }
    }

    #[test]
    fn accept_language_picks_the_first_language_we_speak_by_quality() {
        accept(None, Locale::En);
        accept(Some(""), Locale::En);
        accept(Some("de"), Locale::De);
        accept(Some("de-AT,de;q=0.9,en;q=0.8"), Locale::De);
        accept(Some("ja-JP"), Locale::Ja);
        accept(Some("pt"), Locale::PtBr);
        accept(Some("pt-PT,pt;q=0.9"), Locale::PtBr);
        accept(Some("en-GB"), Locale::En);
        accept(Some("zh-CN,zh;q=0.9,fr;q=0.5"), Locale::Fr);
        accept(Some("en;q=0.5, es;q=0.8"), Locale::Es);
        accept(Some("fr;q=0.2, ja"), Locale::Ja);
    }

    #[test]
    fn accept_language_drops_q0_the_wildcard_and_garbage() {
        accept(Some("*"), Locale::En);
        accept(Some("*, de;q=0.5"), Locale::De);
        accept(Some("de;q=0, fr;q=0.1"), Locale::Fr);
        accept(Some("de;q=0"), Locale::En);
        accept(Some("ja;q=0.0, it"), Locale::En);
        accept(Some(";;;,,,=q"), Locale::En);
        accept(Some("\u{1F600}, es"), Locale::Es);
        accept(Some("fr;q=abc, es;q=0.1"), Locale::Es);
        accept(Some("zh, und, xx-YY"), Locale::En);
    }

    #[test]
    fn codes_are_stable_and_round_trip() {
        assert_eq!(Locale::En.code(), 0);
        assert_eq!(Locale::default(), Locale::En);
        for (i, locale) in Locale::ALL.into_iter().enumerate() {
            assert_eq!(usize::from(locale.code()), i);
            assert_eq!(Locale::from_code(locale.code()), Some(locale));
        }
        assert_eq!(Locale::from_code(6), None);
        assert_eq!(Locale::from_code(u8::MAX), None);
        assert_eq!(Locale::PtBr.to_string(), "pt-BR");
    }
}
