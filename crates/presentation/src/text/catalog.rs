//! The messages of the pages, error pages, forms and default notifications:
//! one Fluent catalog per language (`locales/<tag>.ftl`), built into the
//! binary and each parsed once, when its language is first read.
//!
//! Messages are plain text, never markup: the caller escapes what it gets,
//! since variables often hold what a link's creator or a person typed.
//! Where a page shows a variable in bold, [`text_around`] gives the text on
//! either side of it, so the caller escapes each part and wraps the value.
//!
//! A message missing from a catalog falls back to English, and an id that
//! no catalog has shows as itself: a release build never panics on a bad
//! id or a missing argument. A debug build does (`debug_assert!`), so that
//! a caller's tests catch the mistake.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentError, FluentResource, FluentValue};

use super::{Locale, PerLocale};

/// The catalog sources, in [`Locale::ALL`] order.
const SOURCES: [&str; 6] = [
    include_str!("../../../../locales/en.ftl"),
    include_str!("../../../../locales/de.ftl"),
    include_str!("../../../../locales/fr.ftl"),
    include_str!("../../../../locales/es.ftl"),
    include_str!("../../../../locales/ja.ftl"),
    include_str!("../../../../locales/pt-BR.ftl"),
];

/// A private-use character standing for the variable [`text_around`]
/// splits on; no catalog contains it.
const MARKER: &str = "\u{E000}";

type Bundle = FluentBundle<FluentResource>;

/// Each language's bundle, parsed when that language is first read.
static BUNDLES: PerLocale<Bundle> =
    PerLocale::new(|locale| bundle(locale, SOURCES[locale.index()]));

/// One language's bundle. A catalog that does not parse keeps the
/// messages that do (the tests make sure none is lost).
fn bundle(locale: Locale, source: &str) -> Bundle {
    let resource =
        FluentResource::try_new(source.to_owned()).unwrap_or_else(|(partial, errors)| {
            debug_assert!(errors.is_empty(), "{locale}: {errors:?}");
            partial
        });
    let mut bundle = FluentBundle::new_concurrent(vec![locale.langid()]);
    // Fluent's isolation marks (U+2068, U+2069) around each variable would
    // land in page titles, email subjects and copied text, and all six
    // languages are written left to right.
    bundle.set_use_isolating(false);
    if let Err(errors) = bundle.add_resource(resource) {
        debug_assert!(errors.is_empty(), "{locale}: {errors:?}");
    }
    bundle
}

/// A value for a message's variable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Arg<'a> {
    /// Text, shown as it is (a decimal a form's rule names too, written
    /// by the caller).
    Text(&'a str),
    /// A whole number: shown as plain digits (no grouping), and it picks
    /// the plural form of a message that has them.
    Number(i64),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(text: &'a str) -> Self {
        Self::Text(text)
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(text: &'a String) -> Self {
        Self::Text(text)
    }
}

impl From<i64> for Arg<'_> {
    fn from(n: i64) -> Self {
        Self::Number(n)
    }
}

impl From<u64> for Arg<'_> {
    fn from(n: u64) -> Self {
        Self::Number(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<usize> for Arg<'_> {
    fn from(n: usize) -> Self {
        Self::Number(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<u16> for Arg<'_> {
    fn from(n: u16) -> Self {
        Self::Number(n.into())
    }
}

/// The message `id` in `locale` (English when that catalog lacks it), with
/// its variables set from `args`: plain text, for the caller to escape.
pub fn text(locale: Locale, id: &str, args: &[(&str, Arg<'_>)]) -> String {
    formatted(locale, id, &fluent_args(args))
}

/// A message split at one of its variables, for a caller that shows that
/// variable's value in markup of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Around {
    /// The text before the variable.
    pub before: String,
    /// The text after it.
    pub after: String,
}

/// The message `id` in `locale` around its variable `hole`, the other
/// variables set from `args`. The page escapes `before` and `after` and
/// puts its own markup, with the escaped value, between them:
/// `Signed in as <strong>…</strong>`, or in Japanese the name first. A
/// message without that variable is all `before`.
pub fn text_around(locale: Locale, id: &str, hole: &str, args: &[(&str, Arg<'_>)]) -> Around {
    let mut fluent_args = fluent_args(args);
    fluent_args.set(hole, MARKER);
    let text = formatted(locale, id, &fluent_args);
    debug_assert!(text.contains(MARKER), "{locale} {id} has no ${hole}");
    match text.split_once(MARKER) {
        Some((before, after)) => Around {
            before: before.to_owned(),
            after: after.to_owned(),
        },
        None => Around {
            before: text,
            after: String::new(),
        },
    }
}

/// The arguments as Fluent takes them. Text loses any [`MARKER`], so that
/// a value cannot move the split of [`text_around`].
fn fluent_args<'a>(args: &[(&'a str, Arg<'a>)]) -> FluentArgs<'a> {
    args.iter()
        .map(|&(name, value)| {
            let value = match value {
                Arg::Text(text) if text.contains(MARKER) => {
                    FluentValue::from(text.replace(MARKER, "\u{FFFD}"))
                }
                Arg::Text(text) => FluentValue::from(text),
                Arg::Number(n) => FluentValue::from(n),
            };
            (name, value)
        })
        .collect()
}

/// The message formatted; in a debug build, a missing message or a Fluent
/// complaint (a missing variable, say) is a panic, so that tests catch it.
fn formatted(locale: Locale, id: &str, args: &FluentArgs<'_>) -> String {
    match format_in(&BUNDLES, locale, id, args) {
        Some((text, errors)) => {
            debug_assert!(errors.is_empty(), "{locale} {id}: {errors:?}");
            text
        }
        None => {
            debug_assert!(false, "no message {id:?} in any catalog");
            id.to_owned()
        }
    }
}

/// Formats a message of `bundles`, English standing in for a missing one,
/// with what Fluent complained about.
fn format_in(
    bundles: &PerLocale<Bundle>,
    locale: Locale,
    id: &str,
    args: &FluentArgs<'_>,
) -> Option<(String, Vec<FluentError>)> {
    let (bundle, pattern) = [locale, Locale::En].into_iter().find_map(|l| {
        let bundle = bundles.get(l);
        let pattern = bundle.get_message(id)?.value()?;
        Some((bundle, pattern))
    })?;
    let mut errors = Vec::new();
    let text = bundle.format_pattern(pattern, Some(args), &mut errors);
    Some((text.into_owned(), errors))
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use fluent_syntax::ast;

    use super::*;

    /// Each message id of a catalog, with the variables it uses.
    fn messages(source: &str) -> BTreeMap<String, BTreeSet<String>> {
        let resource = FluentResource::try_new(source.to_owned()).expect("parses");
        let mut found = BTreeMap::new();
        for entry in resource.entries() {
            match entry {
                ast::Entry::Message(message) => {
                    let mut variables = BTreeSet::new();
                    if let Some(pattern) = &message.value {
                        variables_of(pattern, &mut variables);
                    }
                    assert!(message.attributes.is_empty(), "{}", message.id.name);
                    let fresh = found.insert(message.id.name.to_owned(), variables);
                    assert!(fresh.is_none(), "{} twice", message.id.name);
                }
                ast::Entry::Comment(_)
                | ast::Entry::GroupComment(_)
                | ast::Entry::ResourceComment(_) => {}
                other => panic!("not a message: {other:?}"),
            }
        }
        found
    }

    fn variables_of(pattern: &ast::Pattern<&str>, into: &mut BTreeSet<String>) {
        for element in &pattern.elements {
            if let ast::PatternElement::Placeable { expression } = element {
                match expression {
                    ast::Expression::Inline(inline) => inline_variables(inline, into),
                    ast::Expression::Select { selector, variants } => {
                        inline_variables(selector, into);
                        for variant in variants {
                            variables_of(&variant.value, into);
                        }
                    }
                }
            }
        }
    }

    fn inline_variables(inline: &ast::InlineExpression<&str>, into: &mut BTreeSet<String>) {
        match inline {
            ast::InlineExpression::VariableReference { id } => {
                into.insert(id.name.to_owned());
            }
            other => panic!("only variables, please: {other:?}"),
        }
    }

    /// A value for each variable: counts as numbers (`n`), the rest as
    /// text.
    fn sample<'a>(variables: &'a BTreeSet<String>, n: i64) -> Vec<(&'a str, Arg<'a>)> {
        variables
            .iter()
            .map(|name| {
                let value = match name.as_str() {
                    "count" | "max" | "min" | "status" | "step" => Arg::Number(n),
                    _ => Arg::Text("Value"),
                };
                (name.as_str(), value)
            })
            .collect()
    }

    #[test]
    fn every_catalog_parses_and_loads_without_errors() {
        for (locale, source) in Locale::ALL.into_iter().zip(SOURCES) {
            if let Err((_, errors)) = FluentResource::try_new(source.to_owned()) {
                panic!("{locale}: {errors:?}");
            }
            let resource = FluentResource::try_new(source.to_owned()).expect("parses");
            let mut bundle = FluentBundle::new_concurrent(vec![locale.langid()]);
            bundle
                .add_resource(resource)
                .unwrap_or_else(|errors| panic!("{locale}: {errors:?}"));
            assert!(!source.contains(MARKER), "{locale}");
        }
    }

    #[test]
    fn every_catalog_has_the_english_messages_with_the_same_variables() {
        let english = messages(SOURCES[0]);
        assert!(english.len() > 80, "{}", english.len());
        for (locale, source) in Locale::ALL.into_iter().zip(SOURCES).skip(1) {
            let theirs = messages(source);
            let missing: Vec<_> = english
                .keys()
                .filter(|id| !theirs.contains_key(*id))
                .collect();
            let extra: Vec<_> = theirs
                .keys()
                .filter(|id| !english.contains_key(*id))
                .collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{locale}: missing {missing:?}, extra {extra:?}"
            );
            for (id, variables) in &english {
                assert_eq!(&theirs[id], variables, "{locale} {id}");
            }
        }
    }

    #[test]
    fn every_message_formats_as_plain_text_in_every_language() {
        let english = messages(SOURCES[0]);
        for locale in Locale::ALL {
            for (id, variables) in &english {
                for n in [0, 1, 2, 5, 300] {
                    let args = fluent_args(&sample(variables, n));
                    let (text, errors) = format_in(&BUNDLES, locale, id, &args).expect("a message");
                    assert!(errors.is_empty(), "{locale} {id}: {errors:?}");
                    assert!(!text.trim().is_empty(), "{locale} {id}");
                    assert!(
                        !text.contains(['<', '>', '&', '{', '}', '\u{2068}', '\u{2069}']),
                        "{locale} {id}: {text}"
                    );
                    if variables.contains("max") || variables.contains("min") {
                        assert!(text.contains(&n.to_string()), "{locale} {id}: {text}");
                    }
                }
                // Every catalog has its own text for each message, not
                // English by fallback.
                assert!(BUNDLES.get(locale).has_message(id));
            }
        }
    }

    #[test]
    fn german_and_japanese_read_as_expected() {
        assert_eq!(
            text(
                Locale::De,
                "page-confirm-title",
                &[("action", "Freigeben".into())]
            ),
            "Bestätigen: Freigeben"
        );
        assert_eq!(
            text(Locale::De, "page-comment-limit", &[("max", 300_u64.into())]),
            "(höchstens 300 Zeichen)"
        );
        assert_eq!(
            text(Locale::Ja, "page-accepted-title", &[]),
            "回答を受け付けました"
        );
        assert_eq!(
            text(Locale::Ja, "form-max-length", &[("max", 20_i64.into())]),
            "20 文字以内で入力してください。"
        );
    }

    #[test]
    fn counts_pick_the_plural_form() {
        let limit = |locale, max: i64| text(locale, "page-comment-limit", &[("max", max.into())]);
        assert_eq!(limit(Locale::En, 1), "(up to 1 character)");
        assert_eq!(limit(Locale::En, 300), "(up to 300 characters)");
        assert_eq!(limit(Locale::Fr, 1), "(1 caractère au maximum)");
        assert_eq!(limit(Locale::Fr, 2), "(2 caractères au maximum)");
        assert_eq!(limit(Locale::PtBr, 1), "(até 1 caractere)");
        assert_eq!(limit(Locale::PtBr, 4000), "(até 4000 caracteres)");
        assert_eq!(limit(Locale::Es, 1), "(hasta 1 carácter)");
    }

    #[test]
    fn a_bold_variable_splits_the_message_around_it() {
        let around = |locale| text_around(locale, "page-signed-in-as", "who", &[]);
        assert_eq!(
            around(Locale::En),
            Around {
                before: "Signed in as ".into(),
                after: String::new(),
            }
        );
        assert_eq!(
            around(Locale::Ja),
            Around {
                before: String::new(),
                after: " としてサインインしています".into(),
            }
        );
        // A value holding the marker cannot move the split.
        let tricky = format!("a{MARKER}b");
        assert_eq!(
            text_around(
                Locale::En,
                "page-support",
                "type",
                &[("action", tricky.as_str().into())]
            ),
            Around {
                before: "For support: action a\u{FFFD}b (".into(),
                after: ")".into(),
            }
        );
    }

    #[test]
    fn a_message_missing_from_a_catalog_falls_back_to_english() {
        // English and German have test catalogs; the others have empty ones.
        fn load(locale: Locale) -> Bundle {
            let source = match locale {
                Locale::En => "hello = Hello\nbye = Goodbye { $who }\n",
                Locale::De => "hello = Hallo\n",
                _ => "",
            };
            let mut bundle = FluentBundle::new_concurrent(vec![locale.langid()]);
            bundle.set_use_isolating(false);
            bundle
                .add_resource(FluentResource::try_new(source.to_owned()).expect("parses"))
                .expect("loads");
            bundle
        }
        let bundles = PerLocale::new(load);
        let args = fluent_args(&[("who", "Ada".into())]);
        let get = |locale, id| format_in(&bundles, locale, id, &args).map(|(text, _)| text);
        assert_eq!(get(Locale::De, "hello").as_deref(), Some("Hallo"));
        assert_eq!(get(Locale::De, "bye").as_deref(), Some("Goodbye Ada"));
        // An empty catalog falls back too.
        assert_eq!(get(Locale::Ja, "hello").as_deref(), Some("Hello"));
        assert_eq!(get(Locale::De, "nothing"), None);
    }
}
