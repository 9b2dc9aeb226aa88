//! A form's problems in the reader's words: what the core found wrong with
//! submitted values ([`Problem`]), said from the catalog of the page's or
//! the modal's language.

use serde_json::Number;
use sfn_callbacks_core::form::{Problem, TextFormat};
use sfn_callbacks_core::locale::Locale;

use crate::text::{Arg, format_decimal, text as catalog_text};

/// Says a [`Problem`] in a language.
pub trait ProblemText {
    /// The problem in `locale`'s words, from the catalog: plain text, for
    /// the page to escape.
    fn text(&self, locale: Locale) -> String;
}

impl ProblemText for Problem {
    fn text(&self, locale: Locale) -> String {
        let say = |id: &str, args: &[(&str, Arg<'_>)]| catalog_text(locale, id, args);
        let number = |name: &'static str, n: &Number, id: &str| {
            let shown = format_decimal(locale, &n.to_string());
            let arg = n.as_i64().map_or(Arg::Text(&shown), Arg::Number);
            say(id, &[(name, arg)])
        };
        match self {
            Self::Required => say("form-required", &[]),
            Self::SentTwice => say("form-sent-twice", &[]),
            Self::WholeNumber => say("form-whole-number", &[]),
            Self::Number => say("form-number", &[]),
            Self::MinLength(min) => say("form-min-length", &[("min", (*min).into())]),
            Self::MaxLength(max) => say("form-max-length", &[("max", (*max).into())]),
            Self::Pattern => say("form-pattern", &[]),
            Self::Choice => say("form-choice", &[]),
            Self::Format(TextFormat::Email) => say("form-email", &[]),
            Self::Format(TextFormat::Date) => say("form-date", &[]),
            Self::Format(TextFormat::DateTime) => say("form-date-time", &[]),
            Self::Format(TextFormat::Uri) => say("form-uri", &[]),
            Self::Minimum(min) => number("min", min, "form-minimum"),
            Self::Maximum(max) => number("max", max, "form-maximum"),
            Self::MultipleOf(step) => number("step", step, "form-multiple-of"),
            Self::Boolean => say("form-boolean", &[]),
            Self::Text => say("form-text", &[]),
            Self::Unfit(keyword) => say("form-unfit", &[("keyword", keyword.into())]),
            Self::UnknownField(name) => say("form-unknown-field", &[("name", name.into())]),
            Self::ValuesUnfit(keyword) => say("form-values-unfit", &[("keyword", keyword.into())]),
            Self::NotAnObject => say("form-not-an-object", &[]),
            Self::NoForm => say("form-not-taken", &[]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_problem() -> Vec<Problem> {
        let mut all = vec![
            Problem::Required,
            Problem::SentTwice,
            Problem::WholeNumber,
            Problem::Number,
            Problem::MinLength(3),
            Problem::MaxLength(20),
            Problem::Pattern,
            Problem::Choice,
            Problem::Minimum(Number::from(1)),
            Problem::Maximum(Number::from(5)),
            Problem::MultipleOf(Number::from_f64(0.5).expect("finite")),
            Problem::Boolean,
            Problem::Text,
            Problem::Unfit("const".into()),
            Problem::UnknownField("extra".into()),
            Problem::ValuesUnfit("minProperties".into()),
            Problem::NotAnObject,
            Problem::NoForm,
        ];
        all.extend(
            [
                TextFormat::Email,
                TextFormat::Date,
                TextFormat::DateTime,
                TextFormat::Uri,
            ]
            .map(Problem::Format),
        );
        all
    }

    #[test]
    fn an_english_page_says_a_problem_as_json_answers_do() {
        for problem in every_problem() {
            assert_eq!(problem.text(Locale::En), problem.to_string(), "{problem:?}");
        }
    }

    #[test]
    fn every_other_language_says_each_problem_in_its_own_words() {
        for locale in Locale::ALL.into_iter().skip(1) {
            for problem in every_problem() {
                let text = problem.text(locale);
                assert_ne!(text, problem.to_string(), "{locale} {problem:?}");
                if let Problem::MaxLength(n) | Problem::MinLength(n) = problem {
                    assert!(text.contains(&n.to_string()), "{locale}: {text}");
                }
            }
        }
        assert_eq!(
            Problem::Maximum(Number::from(5)).text(Locale::De),
            "Darf höchstens 5 sein."
        );
        assert_eq!(Problem::Required.text(Locale::Ja), "この項目は必須です。");
        assert_eq!(
            Problem::UnknownField("x".into()).text(Locale::Fr),
            "«\u{a0}x\u{a0}» n’est pas un champ de ce formulaire."
        );
    }
}
