//! What each language says: the messages of the pages, chats, forms and
//! default notifications ([`catalog`], Fluent), dates ([`dates`]) and
//! decimals ([`numbers`], both ICU4X). Which language a request gets is
//! the core's ([`Locale`]).

pub mod catalog;
pub mod dates;
pub mod numbers;

use std::sync::OnceLock;

pub use catalog::{Arg, Around, text, text_around};
pub use dates::format_instant;
pub use numbers::format_decimal;
pub use sfn_callbacks_core::locale::Locale;

/// One value per language, each made the first time a reader of that
/// language needs it: a server whose readers share a language never builds
/// (or keeps) the catalogs and formatters of the other five.
pub(crate) struct PerLocale<T> {
    cells: [OnceLock<T>; Locale::ALL.len()],
    make: fn(Locale) -> T,
}

impl<T> PerLocale<T> {
    /// Nothing made yet; `make` builds a language's value when first asked.
    pub(crate) const fn new(make: fn(Locale) -> T) -> Self {
        Self {
            cells: [const { OnceLock::new() }; Locale::ALL.len()],
            make,
        }
    }

    /// The value of `locale`, made now if this is the first call for it.
    pub(crate) fn get(&self, locale: Locale) -> &T {
        self.cells[locale.index()].get_or_init(|| (self.make)(locale))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn per_locale_makes_a_language_s_value_once_and_only_when_asked() {
        static MADE: AtomicUsize = AtomicUsize::new(0);
        fn make(locale: Locale) -> String {
            MADE.fetch_add(1, Ordering::Relaxed);
            locale.tag().to_owned()
        }
        let values = PerLocale::new(make);
        assert_eq!(MADE.load(Ordering::Relaxed), 0);
        assert_eq!(values.get(Locale::De), "de");
        assert_eq!(values.get(Locale::De), "de");
        assert_eq!(MADE.load(Ordering::Relaxed), 1);
        assert_eq!(values.get(Locale::Ja), "ja");
        assert_eq!(MADE.load(Ordering::Relaxed), 2);
    }
}
