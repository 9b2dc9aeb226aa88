//! Numbers on the pages that are not whole: a decimal a form's rule names
//! (`multipleOf: 0.25`), written the reader's way by ICU4X and the CLDR
//! data built into it (`0,25` in German, French, Spanish and Portuguese).

use icu_decimal::DecimalFormatter;
use icu_decimal::input::Decimal;
use icu_decimal::options::{DecimalFormatterOptions, GroupingStrategy};

use super::{Locale, PerLocale};

/// Each language's formatter, made when first used; `None` where the data
/// could not be loaded (not expected with the compiled data; the tests
/// cover every language).
static FORMATTERS: PerLocale<Option<DecimalFormatter>> = PerLocale::new(|locale| {
    let icu = icu_locale_core::Locale::try_from_str(locale.tag()).ok()?;
    // No grouping, as whole numbers in messages have none: "10000" reads
    // the same in every language, and in English exactly as the JSON
    // answers write it.
    let mut options = DecimalFormatterOptions::default();
    options.grouping_strategy = Some(GroupingStrategy::Never);
    DecimalFormatter::try_new(icu.into(), options).ok()
});

/// A decimal as JSON writes it (`-0.25`), written as a reader of `locale`
/// writes it: the language's decimal separator and minus sign, every digit
/// kept, no grouping, an exponent written out (`1e3` is `1000`). Text that
/// is not a number is returned as it is.
pub fn format_decimal(locale: Locale, json: &str) -> String {
    let formatter = FORMATTERS.get(locale).as_ref();
    match (formatter, Decimal::try_from_str(json)) {
        (Some(formatter), Ok(decimal)) => formatter.format(&decimal).to_string(),
        _ => json.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_language_writes_a_decimal_its_own_way() {
        let expected = [
            (Locale::En, "0.25"),
            (Locale::De, "0,25"),
            (Locale::Fr, "0,25"),
            (Locale::Es, "0,25"),
            (Locale::Ja, "0.25"),
            (Locale::PtBr, "0,25"),
        ];
        for (locale, text) in expected {
            assert_eq!(format_decimal(locale, "0.25"), text, "{locale}");
        }
        assert_eq!(format_decimal(Locale::De, "-1.5"), "-1,5");
    }

    #[test]
    fn english_writes_it_as_json_does_and_nothing_is_grouped() {
        for json in ["0.5", "-2.75", "12345.125", "10000", "0.001"] {
            assert_eq!(format_decimal(Locale::En, json), json);
        }
        assert_eq!(format_decimal(Locale::De, "12345.5"), "12345,5");
        assert_eq!(format_decimal(Locale::Fr, "2.5e3"), "2500");
        assert_eq!(format_decimal(Locale::Fr, "NaN"), "NaN");
    }
}
