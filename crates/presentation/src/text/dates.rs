//! Dates and times on the pages: an instant in the reader's language, in
//! UTC, with the zone named, by ICU4X and the CLDR data built into it.

use icu_calendar::Gregorian;
use icu_datetime::FixedCalendarDateTimeFormatter;
use icu_datetime::fieldsets::zone::SpecificShort;
use icu_datetime::fieldsets::{Combo, YMD, YMDT};
use icu_time::zone::{TimeZoneInfo, UtcOffset, models::AtTime};
use icu_time::{DateTime, ZonedDateTime};
use time::format_description::well_known::Rfc3339;

use super::{Locale, PerLocale};

type Formatter = FixedCalendarDateTimeFormatter<Gregorian, Combo<YMDT, SpecificShort>>;

/// Each language's formatter, made when first used; `None` where the data
/// could not be loaded (not expected with the compiled data; the tests
/// cover every language).
static FORMATTERS: PerLocale<Option<Formatter>> = PerLocale::new(|locale| {
    let icu = icu_locale_core::Locale::try_from_str(locale.tag()).ok()?;
    let fields = YMD::medium().with_time_hm().with_zone(SpecificShort);
    Formatter::try_new(icu.into(), fields).ok()
});

/// An instant (milliseconds since the Unix epoch) as a reader of `locale`
/// writes a date and time: the Gregorian date at medium length (the month
/// abbreviated where the language does so), hours and minutes on the
/// language's clock, and the zone by its short name, always UTC. For
/// 2026-12-01T20:41:00Z: "Dec 1, 2026, 8:41 PM UTC" in English,
/// "01.12.2026, 20:41 UTC" in German, "1 déc. 2026, 20:41 TU" in French
/// (CLDR's name for UTC there), "2026/12/01 20:41 UTC" in Japanese.
///
/// A link carries instants, not the reader's zone, so the page shows UTC
/// and says so rather than leave the zone to be guessed. The text may hold
/// non-breaking spaces (U+202F before "PM"); it is plain text, for the
/// caller to escape. Instants beyond the calendar's range show its first
/// or last day. Should a language's data be missing (the tests make sure it
/// is not), the instant is written as RFC 3339.
pub fn format_instant(locale: Locale, unix_millis: i64) -> String {
    let utc = ZonedDateTime::from_epoch_milliseconds_and_utc_offset(unix_millis, UtcOffset::zero());
    let at = DateTime {
        date: utc.date,
        time: utc.time,
    };
    let zone: TimeZoneInfo<AtTime> = TimeZoneInfo::utc().at_date_time(at);
    let instant = ZonedDateTime {
        date: utc.date.to_calendar(Gregorian),
        time: utc.time,
        zone,
    };
    match FORMATTERS.get(locale) {
        Some(formatter) => formatter.format(&instant).to_string(),
        None => rfc3339(unix_millis),
    }
}

fn rfc3339(unix_millis: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_millis) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| unix_millis.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-01T20:41:00Z.
    const DECEMBER: i64 = 1_796_157_660_000;

    #[test]
    fn every_language_shows_the_year_the_time_and_the_zone() {
        for locale in Locale::ALL {
            let shown = format_instant(locale, DECEMBER);
            assert!(shown.contains("2026"), "{locale}: {shown}");
            assert!(shown.contains(":41"), "{locale}: {shown}");
            assert!(
                shown.contains("UTC") || shown.contains("TU"),
                "{locale}: {shown}"
            );
        }
    }

    #[test]
    fn each_language_writes_dates_its_own_way() {
        let expected = [
            (Locale::En, "Dec 1, 2026, 8:41\u{202f}PM UTC"),
            (Locale::De, "01.12.2026, 20:41 UTC"),
            (Locale::Fr, "1 déc. 2026, 20:41 TU"),
            (Locale::Es, "1 dic 2026, 20:41 UTC"),
            (Locale::Ja, "2026/12/01 20:41 UTC"),
            (Locale::PtBr, "1 de dez. de 2026, 20:41 UTC"),
        ];
        for (locale, text) in expected {
            assert_eq!(format_instant(locale, DECEMBER), text, "{locale}");
        }
    }

    #[test]
    fn instants_far_out_do_not_panic() {
        for locale in Locale::ALL {
            for millis in [i64::MIN, -1, 0, i64::MAX] {
                assert!(!format_instant(locale, millis).is_empty());
            }
        }
    }
}
