//! Typed forms: the subset of JSON Schema an action's `form` may use, the
//! fields a page renders from it, reading a submitted HTML form into typed
//! JSON, and checking values against the schema.
//!
//! A form is an object schema of at most [`MAX_FIELDS`] properties, each a
//! `string` (`minLength`, `maxLength` up to [`MAX_TEXT_CHARS`], `pattern`,
//! `enum`, `format` `email`/`date`/`date-time`/`uri`), a `number` or
//! `integer` (`minimum`, `maximum`, `multipleOf`) or a `boolean`, with
//! `title`, `description` and `default`, and the object's `required`.
//! Anything else is refused when the link is made, naming it. Values are
//! checked by the `jsonschema` crate against the schema as given, with
//! unknown fields refused and every string held to [`MAX_TEXT_CHARS`].

use std::fmt;

use serde_json::{Map, Number, Value};

use super::error::{ErrorCode, Rejection};

/// The most fields a form may have.
pub const MAX_FIELDS: usize = 20;
/// The longest string a field may take, in characters.
pub const MAX_TEXT_CHARS: u64 = 4_000;
/// The most choices an `enum` may offer.
pub const MAX_CHOICES: usize = 100;
/// The longest `title`, in characters.
const MAX_TITLE_CHARS: usize = 200;
/// The longest `description`, in characters.
const MAX_DESCRIPTION_CHARS: usize = 2_000;
/// The longest field name.
const MAX_NAME_CHARS: usize = 64;

/// What a string field must look like beyond its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFormat {
    /// An email address.
    Email,
    /// A calendar date, `2030-01-31`.
    Date,
    /// A date and time with offset (RFC 3339).
    DateTime,
    /// An absolute URI.
    Uri,
}

impl TextFormat {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "email" => Some(Self::Email),
            "date" => Some(Self::Date),
            "date-time" => Some(Self::DateTime),
            "uri" => Some(Self::Uri),
            _ => None,
        }
    }

    /// The JSON Schema name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Date => "date",
            Self::DateTime => "date-time",
            Self::Uri => "uri",
        }
    }
}

/// What a field takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldKind {
    /// A string.
    Text {
        /// Fewest characters.
        min_length: Option<u64>,
        /// Most characters (at most [`MAX_TEXT_CHARS`]; that when unset).
        max_length: u64,
        /// A regular expression the whole value must match somewhere in it
        /// (JSON Schema's unanchored `pattern`).
        pattern: Option<String>,
        /// A format.
        format: Option<TextFormat>,
        /// The only values allowed, in order.
        choices: Option<Vec<String>>,
    },
    /// A number; `integer` for whole numbers only.
    Number {
        /// Whole numbers only.
        integer: bool,
        /// Smallest allowed.
        minimum: Option<Number>,
        /// Largest allowed.
        maximum: Option<Number>,
        /// The value must be a multiple of this.
        multiple_of: Option<Number>,
    },
    /// Yes or no.
    Boolean,
}

/// One field of a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The property name: the value's key in the output.
    pub name: String,
    /// The label shown (the name when unset).
    pub title: Option<String>,
    /// Help shown under the label.
    pub description: Option<String>,
    /// Whether it must be given.
    pub required: bool,
    /// The value the page starts with.
    pub default: Option<Value>,
    /// What it takes.
    pub kind: FieldKind,
}

/// A checked form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    /// The schema as the creator gave it (what is sealed).
    pub schema: Value,
    /// Its fields, in the schema's order.
    pub fields: Vec<Field>,
}

/// A form's values as a submission carries them.
#[derive(Debug, Clone, PartialEq)]
pub enum Submitted {
    /// A page's `application/x-www-form-urlencoded` pairs, other controls
    /// (such as `comment`) left out.
    Page(Vec<(String, String)>),
    /// A program's `{"form": ...}`, if its JSON body has one.
    Json(Option<Value>),
}

/// One thing wrong with submitted values, kept as what it is rather than
/// as words, so that a page can say it in the reader's language (the
/// presentation's catalog); its [`fmt::Display`] is the English that JSON
/// answers and logs carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A required field is missing or empty.
    Required,
    /// A field came more than once.
    SentTwice,
    /// Not a whole number.
    WholeNumber,
    /// Not a number.
    Number,
    /// Shorter than this many characters.
    MinLength(u64),
    /// Longer than this many characters.
    MaxLength(u64),
    /// Does not match the field's pattern.
    Pattern,
    /// Not one of the field's choices.
    Choice,
    /// Not in the field's format.
    Format(TextFormat),
    /// Below this minimum.
    Minimum(Number),
    /// Above this maximum.
    Maximum(Number),
    /// Not a multiple of this.
    MultipleOf(Number),
    /// Not `true` or `false`.
    Boolean,
    /// Not text.
    Text,
    /// Breaks this JSON Schema keyword in a way the cases above do not name.
    Unfit(String),
    /// A field of this name is not in the form.
    UnknownField(String),
    /// The values as a whole break this keyword.
    ValuesUnfit(String),
    /// A program's values are not a JSON object.
    NotAnObject,
    /// A program sent values to an action without a form.
    NoForm,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Required => f.write_str("is required"),
            Self::SentTwice => f.write_str("was sent more than once"),
            Self::WholeNumber => f.write_str("must be a whole number"),
            Self::Number => f.write_str("must be a number"),
            Self::MinLength(min) => write!(f, "must be at least {min} characters"),
            Self::MaxLength(max) => write!(f, "must be at most {max} characters"),
            Self::Pattern => f.write_str("is not in the expected form"),
            Self::Choice => f.write_str("must be one of the choices"),
            Self::Format(TextFormat::Email) => f.write_str("must be an email address"),
            Self::Format(TextFormat::Date) => f.write_str("must be a date (YYYY-MM-DD)"),
            Self::Format(TextFormat::DateTime) => {
                f.write_str("must be a date and time with its offset")
            }
            Self::Format(TextFormat::Uri) => {
                f.write_str("must be an absolute address (https://...)")
            }
            Self::Minimum(min) => write!(f, "must be at least {min}"),
            Self::Maximum(max) => write!(f, "must be at most {max}"),
            Self::MultipleOf(step) => write!(f, "must be a multiple of {step}"),
            Self::Boolean => f.write_str("must be true or false"),
            Self::Text => f.write_str("must be text"),
            Self::Unfit(keyword) => write!(f, "does not fit the form ({keyword})"),
            Self::UnknownField(name) => write!(f, "{name:?} is not a field of this form"),
            Self::ValuesUnfit(keyword) => write!(f, "the values do not fit the form ({keyword})"),
            Self::NotAnObject => f.write_str("the form's values must be a JSON object"),
            Self::NoForm => f.write_str("this action takes no form"),
        }
    }
}

/// A [`Problem`] with its English words, made once so that they can be
/// lent out ([`FormErrors::of`]) and compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormError {
    problem: Problem,
    english: String,
}

impl FormError {
    /// What is wrong.
    pub fn problem(&self) -> &Problem {
        &self.problem
    }

    /// In English, as JSON answers say it.
    pub fn as_str(&self) -> &str {
        &self.english
    }
}

impl From<Problem> for FormError {
    fn from(problem: Problem) -> Self {
        let english = problem.to_string();
        Self { problem, english }
    }
}

impl fmt::Display for FormError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.english)
    }
}

impl PartialEq<&str> for FormError {
    fn eq(&self, other: &&str) -> bool {
        self.english == *other
    }
}

/// What is wrong with submitted values: per field (in the form's order),
/// and for the form as a whole (unknown fields).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormErrors {
    /// A field's name and what is wrong with its value.
    pub fields: Vec<(String, FormError)>,
    /// What is wrong with the submission as a whole.
    pub form: Vec<FormError>,
}

impl FormErrors {
    /// Errors about the submission as a whole only.
    pub fn whole(problem: Problem) -> Self {
        Self {
            form: vec![problem.into()],
            ..Self::default()
        }
    }

    fn field(&mut self, name: &str, error: impl Into<FormError>) {
        if !self.fields.iter().any(|(n, _)| n == name) {
            self.fields.push((name.to_owned(), error.into()));
        }
    }

    /// Whether nothing is wrong.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.form.is_empty()
    }

    /// What is wrong with one field, if anything, in English.
    pub fn of(&self, name: &str) -> Option<&str> {
        self.problem_of(name).map(FormError::as_str)
    }

    /// What is wrong with one field, if anything.
    pub fn problem_of(&self, name: &str) -> Option<&FormError> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, e)| e)
    }

    /// One message naming every problem (for JSON answers and logs of
    /// what the caller sent wrong; values are never quoted).
    pub fn summary(&self) -> String {
        self.fields
            .iter()
            .map(|(name, error)| format!("{name}: {error}"))
            .chain(self.form.iter().map(ToString::to_string))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The 400 for these errors.
    pub fn rejection(&self) -> Rejection {
        Rejection::new(
            ErrorCode::InvalidForm,
            format!("the form is not valid: {}", self.summary()),
        )
    }
}

fn refused(path: &str, message: impl std::fmt::Display) -> Rejection {
    Rejection::new(ErrorCode::InvalidAction, format!("{path}: {message}"))
}

fn count(path: &str, key: &str, value: &Value) -> Result<u64, Rejection> {
    value.as_u64().ok_or_else(|| {
        refused(
            &format!("{path}.{key}"),
            "must be a whole number of 0 or more",
        )
    })
}

fn number(path: &str, key: &str, value: &Value) -> Result<Number, Rejection> {
    match value {
        Value::Number(n) => Ok(n.clone()),
        _ => Err(refused(&format!("{path}.{key}"), "must be a number")),
    }
}

fn text(path: &str, key: &str, value: &Value, max: usize) -> Result<String, Rejection> {
    match value {
        Value::String(s) if s.chars().count() <= max => Ok(s.clone()),
        Value::String(_) => Err(refused(
            &format!("{path}.{key}"),
            format!("must be at most {max} characters"),
        )),
        _ => Err(refused(&format!("{path}.{key}"), "must be a string")),
    }
}

fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= MAX_NAME_CHARS
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Form {
    /// Checks a `form` schema; `path` names it in errors
    /// (`actions[0].form`).
    pub fn parse(path: &str, schema: &Value) -> Result<Self, Rejection> {
        let form = Self::fields_of(path, schema)?;
        form.check_defaults(path)?;
        Ok(form)
    }

    /// A form sealed into a link: [`Form::parse`] checked it when the link
    /// was made, and the seal proves it unchanged, so only its fields are
    /// read again (no validator is built to re-check the defaults on every
    /// opening).
    pub(crate) fn from_sealed(schema: &Value) -> Result<Self, Rejection> {
        Self::fields_of("form", schema)
    }

    /// The subset's shape checks, and the fields.
    fn fields_of(path: &str, schema: &Value) -> Result<Self, Rejection> {
        let Value::Object(top) = schema else {
            return Err(refused(path, "must be a JSON Schema object"));
        };
        for key in top.keys() {
            if !matches!(
                key.as_str(),
                "type" | "properties" | "required" | "title" | "description"
            ) {
                return Err(refused(
                    path,
                    format!(
                        "the keyword {key:?} is not supported in a form (supported: type, properties, required, title, description)"
                    ),
                ));
            }
        }
        if top.get("type") != Some(&Value::from("object")) {
            return Err(refused(path, "must have \"type\": \"object\""));
        }
        let Some(Value::Object(properties)) = top.get("properties") else {
            return Err(refused(
                path,
                "must have \"properties\", an object of fields",
            ));
        };
        if properties.is_empty() || properties.len() > MAX_FIELDS {
            return Err(refused(
                &format!("{path}.properties"),
                format!(
                    "must hold 1 to {MAX_FIELDS} fields, not {}",
                    properties.len()
                ),
            ));
        }
        for key in ["title", "description"] {
            if let Some(value) = top.get(key) {
                text(path, key, value, MAX_DESCRIPTION_CHARS)?;
            }
        }
        let required: Vec<String> = match top.get("required") {
            None => Vec::new(),
            Some(Value::Array(names)) => {
                let mut seen = Vec::new();
                for (i, name) in names.iter().enumerate() {
                    let at = format!("{path}.required[{i}]");
                    let Some(name) = name.as_str() else {
                        return Err(refused(&at, "must be a field name"));
                    };
                    if !properties.contains_key(name) {
                        return Err(refused(&at, format!("{name:?} is not one of the fields")));
                    }
                    if seen.iter().any(|s: &String| s == name) {
                        return Err(refused(&at, format!("{name:?} is listed twice")));
                    }
                    seen.push(name.to_owned());
                }
                seen
            }
            Some(_) => {
                return Err(refused(
                    &format!("{path}.required"),
                    "must be an array of field names",
                ));
            }
        };
        let fields = properties
            .iter()
            .map(|(name, property)| {
                let at = format!("{path}.properties.{name}");
                if !is_name(name) {
                    return Err(refused(
                        &at,
                        format!(
                            "field names are 1 to {MAX_NAME_CHARS} letters, digits or underscores"
                        ),
                    ));
                }
                if name == "comment" {
                    return Err(refused(
                        &at,
                        "the name \"comment\" is the comment box's: name the field otherwise",
                    ));
                }
                field(&at, name, property, required.iter().any(|r| r == name))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            schema: schema.clone(),
            fields,
        })
    }

    /// Whether the schema builds, and every `default` fits its own field.
    fn check_defaults(&self, path: &str) -> Result<(), Rejection> {
        let form = self;
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&form.checked_schema())
            .map_err(|e| refused(path, format!("is not a schema this service can check: {e}")))?;
        for field in &form.fields {
            if let Some(default) = &field.default {
                let one = Value::Object(Map::from_iter([(field.name.clone(), default.clone())]));
                // Only this field's errors: the others are missing here.
                if let Some(message) = form.errors_of(&validator, &one).of(&field.name) {
                    return Err(refused(
                        &format!("{path}.properties.{}.default", field.name),
                        format!("breaks its own field's schema: {message}"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The schema values are checked against: the given one, with no
    /// other fields allowed and every string held to [`MAX_TEXT_CHARS`].
    fn checked_schema(&self) -> Value {
        let mut schema = self.schema.clone();
        schema["additionalProperties"] = Value::Bool(false);
        if let Some(Value::Object(properties)) = schema.get_mut("properties") {
            for property in properties.values_mut() {
                if property["type"] == "string" && property.get("maxLength").is_none() {
                    property["maxLength"] = Value::from(MAX_TEXT_CHARS);
                }
            }
        }
        schema
    }

    fn validator(&self) -> jsonschema::Validator {
        jsonschema::options()
            .should_validate_formats(true)
            .build(&self.checked_schema())
            .expect("a form's schema was checked when it was parsed")
    }

    /// Checks values (a program's `{"form": ...}`, or what [`Form::read`]
    /// made of a page's fields).
    pub fn check(&self, values: &Value) -> Result<(), FormErrors> {
        if !values.is_object() {
            return Err(FormErrors::whole(Problem::NotAnObject));
        }
        let errors = self.errors_of(&self.validator(), values);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    fn errors_of(&self, validator: &jsonschema::Validator, values: &Value) -> FormErrors {
        let mut errors = FormErrors::default();
        for error in validator.iter_errors(values) {
            let pointer = error.instance_path().to_string();
            let name = pointer.trim_start_matches('/');
            let kind = error.kind();
            if let jsonschema::error::ValidationErrorKind::Required { property } = kind {
                if let Some(name) = property.as_str() {
                    errors.field(name, Problem::Required);
                }
                continue;
            }
            if let jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } =
                kind
            {
                for extra in unexpected {
                    errors
                        .form
                        .push(Problem::UnknownField(extra.clone()).into());
                }
                continue;
            }
            match self.fields.iter().find(|f| f.name == name) {
                Some(field) => errors.field(name, field.problem(kind.keyword())),
                None => errors
                    .form
                    .push(Problem::ValuesUnfit(kind.keyword().to_owned()).into()),
            }
        }
        // Fields in the form's order.
        errors.fields.sort_by_key(|(name, _)| {
            self.fields
                .iter()
                .position(|f| &f.name == name)
                .unwrap_or(usize::MAX)
        });
        errors
    }

    /// Reads a submitted HTML form (its `application/x-www-form-urlencoded`
    /// pairs, other controls such as `comment` left out by the caller) into
    /// typed values: numbers as numbers, a checkbox as `true` or `false`,
    /// empty optional fields left out. Then checks them.
    pub fn read(&self, pairs: &[(String, String)]) -> Result<Value, FormErrors> {
        let mut errors = FormErrors::default();
        let mut values = Map::new();
        for (key, _) in pairs {
            if !self.fields.iter().any(|f| &f.name == key) {
                errors.form.push(Problem::UnknownField(key.clone()).into());
            }
        }
        for field in &self.fields {
            let given: Vec<&str> = pairs
                .iter()
                .filter(|(k, _)| k == &field.name)
                .map(|(_, v)| v.as_str())
                .collect();
            if given.len() > 1 {
                errors.field(&field.name, Problem::SentTwice);
                continue;
            }
            let raw = given.first().copied();
            match &field.kind {
                FieldKind::Boolean => {
                    values.insert(field.name.clone(), Value::Bool(raw.is_some()));
                }
                FieldKind::Text { .. } => match raw {
                    Some(text) if !text.is_empty() => {
                        values.insert(field.name.clone(), Value::from(text));
                    }
                    // Empty: left out, so `required` speaks for it.
                    _ => {}
                },
                FieldKind::Number { integer, .. } => match raw.map(str::trim) {
                    Some("") | None => {}
                    Some(text) => match parse_number(text, *integer) {
                        Some(n) => {
                            values.insert(field.name.clone(), Value::Number(n));
                        }
                        None if *integer => errors.field(&field.name, Problem::WholeNumber),
                        None => errors.field(&field.name, Problem::Number),
                    },
                },
            }
        }
        let values = Value::Object(values);
        if let Err(more) = self.check(&values) {
            for (name, error) in more.fields {
                errors.field(&name, error);
            }
            errors.form.extend(more.form);
        }
        errors.form.dedup();
        if errors.is_empty() {
            Ok(values)
        } else {
            Err(errors)
        }
    }
}

/// A number a person typed: digits with an optional sign and (unless
/// `integer`) a decimal point; no exponents, no spaces inside.
fn parse_number(text: &str, integer: bool) -> Option<Number> {
    if integer {
        if let Ok(n) = text.parse::<i64>() {
            return Some(Number::from(n));
        }
        // `3.0` is a whole number too.
        let f: f64 = text.parse().ok()?;
        return (f.fract() == 0.0 && f.abs() < 9.0e15 && plain_decimal(text))
            .then(|| Number::from(f as i64));
    }
    if !plain_decimal(text) {
        return None;
    }
    if let Ok(n) = text.parse::<i64>() {
        return Some(Number::from(n));
    }
    Number::from_f64(text.parse().ok()?)
}

fn plain_decimal(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next().unwrap_or_default();
    let fraction = parts.next();
    (!whole.is_empty() || fraction.is_some_and(|f| !f.is_empty()))
        && whole.chars().all(|c| c.is_ascii_digit())
        && fraction.is_none_or(|f| f.chars().all(|c| c.is_ascii_digit()))
}

fn field(path: &str, name: &str, property: &Value, required: bool) -> Result<Field, Rejection> {
    let Value::Object(keys) = property else {
        return Err(refused(path, "must be an object with a \"type\""));
    };
    let kind_name = match keys.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(_) => return Err(refused(&format!("{path}.type"), "must be one type name")),
        None => return Err(refused(path, "must have a \"type\"")),
    };
    let allowed: &[&str] = match kind_name {
        "string" => &["minLength", "maxLength", "pattern", "enum", "format"],
        "number" | "integer" => &["minimum", "maximum", "multipleOf"],
        "boolean" => &[],
        other => {
            return Err(refused(
                &format!("{path}.type"),
                format!("{other:?} is not supported (supported: string, number, integer, boolean)"),
            ));
        }
    };
    for key in keys.keys() {
        let common = matches!(key.as_str(), "type" | "title" | "description" | "default");
        if !common && !allowed.contains(&key.as_str()) {
            return Err(refused(
                path,
                format!("the keyword {key:?} is not supported for a {kind_name} field"),
            ));
        }
    }
    let title = keys
        .get("title")
        .map(|v| text(path, "title", v, MAX_TITLE_CHARS))
        .transpose()?;
    let description = keys
        .get("description")
        .map(|v| text(path, "description", v, MAX_DESCRIPTION_CHARS))
        .transpose()?;
    let kind = match kind_name {
        "string" => {
            let min_length = keys
                .get("minLength")
                .map(|v| count(path, "minLength", v))
                .transpose()?;
            let max_length = keys
                .get("maxLength")
                .map(|v| count(path, "maxLength", v))
                .transpose()?;
            if max_length.is_some_and(|m| m > MAX_TEXT_CHARS) {
                return Err(refused(
                    &format!("{path}.maxLength"),
                    format!("may be at most {MAX_TEXT_CHARS}"),
                ));
            }
            let max_length = max_length.unwrap_or(MAX_TEXT_CHARS);
            if min_length.is_some_and(|min| min > max_length) {
                return Err(refused(
                    &format!("{path}.minLength"),
                    "is more than maxLength",
                ));
            }
            let pattern = keys
                .get("pattern")
                .map(|v| text(path, "pattern", v, 1_000))
                .transpose()?;
            if let Some(pattern) = &pattern {
                let probe = serde_json::json!({"type": "string", "pattern": pattern});
                if jsonschema::validator_for(&probe).is_err() {
                    return Err(refused(
                        &format!("{path}.pattern"),
                        "is not a regular expression this service can use",
                    ));
                }
            }
            let format = match keys.get("format") {
                None => None,
                Some(Value::String(f)) => Some(TextFormat::parse(f).ok_or_else(|| {
                    refused(
                        &format!("{path}.format"),
                        format!("{f:?} is not supported (supported: email, date, date-time, uri)"),
                    )
                })?),
                Some(_) => return Err(refused(&format!("{path}.format"), "must be a string")),
            };
            let choices = match keys.get("enum") {
                None => None,
                Some(Value::Array(items)) => {
                    if items.is_empty() || items.len() > MAX_CHOICES {
                        return Err(refused(
                            &format!("{path}.enum"),
                            format!("must offer 1 to {MAX_CHOICES} choices"),
                        ));
                    }
                    let mut choices: Vec<String> = Vec::with_capacity(items.len());
                    for (i, item) in items.iter().enumerate() {
                        let choice = text(&format!("{path}.enum"), &i.to_string(), item, 500)?;
                        if choices.contains(&choice) {
                            return Err(refused(&format!("{path}.enum[{i}]"), "is offered twice"));
                        }
                        choices.push(choice);
                    }
                    Some(choices)
                }
                Some(_) => {
                    return Err(refused(
                        &format!("{path}.enum"),
                        "must be an array of strings",
                    ));
                }
            };
            FieldKind::Text {
                min_length,
                max_length,
                pattern,
                format,
                choices,
            }
        }
        "number" | "integer" => {
            let get = |key: &str| keys.get(key).map(|v| number(path, key, v)).transpose();
            let (minimum, maximum, multiple_of) =
                (get("minimum")?, get("maximum")?, get("multipleOf")?);
            if multiple_of
                .as_ref()
                .is_some_and(|m| m.as_f64().is_none_or(|m| m <= 0.0))
            {
                return Err(refused(
                    &format!("{path}.multipleOf"),
                    "must be more than 0",
                ));
            }
            if let (Some(min), Some(max)) = (&minimum, &maximum)
                && min.as_f64() > max.as_f64()
            {
                return Err(refused(&format!("{path}.minimum"), "is more than maximum"));
            }
            FieldKind::Number {
                integer: kind_name == "integer",
                minimum,
                maximum,
                multiple_of,
            }
        }
        _ => FieldKind::Boolean,
    };
    Ok(Field {
        name: name.to_owned(),
        title,
        description,
        required,
        default: keys.get("default").cloned(),
        kind,
    })
}

impl Field {
    /// What a value breaking `keyword` did wrong.
    fn problem(&self, keyword: &str) -> Problem {
        match (&self.kind, keyword) {
            (FieldKind::Text { min_length, .. }, "minLength") => {
                Problem::MinLength(min_length.unwrap_or(0))
            }
            (FieldKind::Text { max_length, .. }, "maxLength") => Problem::MaxLength(*max_length),
            (FieldKind::Text { .. }, "pattern") => Problem::Pattern,
            (FieldKind::Text { .. }, "enum") => Problem::Choice,
            (
                FieldKind::Text {
                    format: Some(f), ..
                },
                "format",
            ) => Problem::Format(*f),
            (
                FieldKind::Number {
                    minimum: Some(min), ..
                },
                "minimum",
            ) => Problem::Minimum(min.clone()),
            (
                FieldKind::Number {
                    maximum: Some(max), ..
                },
                "maximum",
            ) => Problem::Maximum(max.clone()),
            (
                FieldKind::Number {
                    multiple_of: Some(step),
                    ..
                },
                "multipleOf",
            ) => Problem::MultipleOf(step.clone()),
            (FieldKind::Number { integer: true, .. }, "type") => Problem::WholeNumber,
            (FieldKind::Number { .. }, "type") => Problem::Number,
            (FieldKind::Boolean, "type") => Problem::Boolean,
            (FieldKind::Text { .. }, "type") => Problem::Text,
            (_, other) => Problem::Unfit(other.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn release() -> Value {
        json!({
            "type": "object",
            "required": ["count", "when"],
            "properties": {
                "env": {"type": "string", "title": "Environment", "enum": ["staging", "production"], "default": "staging"},
                "count": {"type": "integer", "minimum": 1, "maximum": 10},
                "when": {"type": "string", "format": "date"},
                "notify": {"type": "boolean", "title": "Tell the team"},
                "reason": {"type": "string", "maxLength": 20},
                "ratio": {"type": "number", "multipleOf": 0.5}
            }
        })
    }

    fn refused_at(schema: Value, needle: &str) {
        let err = Form::parse("actions[0].form", &schema).expect_err(&schema.to_string());
        assert_eq!(err.code, ErrorCode::InvalidAction, "{}", err.message);
        assert!(err.message.contains(needle), "{needle}: {}", err.message);
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_subset_parses_into_fields() {
        let form = Form::parse("form", &release()).expect("valid");
        let names: Vec<&str> = form.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["env", "count", "when", "notify", "reason", "ratio"]);
        assert!(form.fields[1].required && !form.fields[0].required);
        assert_eq!(
            form.fields[0].kind,
            FieldKind::Text {
                min_length: None,
                max_length: MAX_TEXT_CHARS,
                pattern: None,
                format: None,
                choices: Some(vec!["staging".into(), "production".into()]),
            }
        );
        assert_eq!(form.fields[0].default, Some(json!("staging")));
        assert_eq!(form.fields[3].kind, FieldKind::Boolean);
    }

    #[test]
    fn every_refused_keyword_and_shape_is_named() {
        let with_field = |property: Value| json!({"type": "object", "properties": {"x": property}});
        refused_at(json!([]), "actions[0].form: must be a JSON Schema object");
        refused_at(
            json!({"type": "array", "properties": {}}),
            "\"type\": \"object\"",
        );
        refused_at(json!({"type": "object"}), "must have \"properties\"");
        refused_at(
            json!({"type": "object", "properties": {}}),
            "1 to 20 fields",
        );
        let many: Map<String, Value> = (0..21)
            .map(|i| (format!("f{i}"), json!({"type": "boolean"})))
            .collect();
        refused_at(
            json!({"type": "object", "properties": many}),
            "1 to 20 fields, not 21",
        );
        for keyword in ["$ref", "allOf", "additionalProperties", "$defs", "if"] {
            let mut schema = with_field(json!({"type": "boolean"}));
            schema[keyword] = json!({});
            refused_at(
                schema,
                &format!("the keyword {keyword:?} is not supported in a form"),
            );
        }
        for (property, needle) in [
            (json!({"type": "array"}), "\"array\" is not supported"),
            (json!({"type": "object"}), "\"object\" is not supported"),
            (
                json!({"type": ["string", "null"]}),
                "x.type: must be one type name",
            ),
            (json!({"title": "no type"}), "must have a \"type\""),
            (
                json!({"type": "string", "minimum": 1}),
                "\"minimum\" is not supported for a string field",
            ),
            (
                json!({"type": "integer", "pattern": "x"}),
                "\"pattern\" is not supported for a integer field",
            ),
            (
                json!({"type": "boolean", "enum": [true]}),
                "\"enum\" is not supported for a boolean field",
            ),
            (
                json!({"type": "string", "oneOf": []}),
                "\"oneOf\" is not supported",
            ),
            (
                json!({"type": "string", "maxLength": 4001}),
                "x.maxLength: may be at most 4000",
            ),
            (
                json!({"type": "string", "minLength": 5, "maxLength": 2}),
                "is more than maxLength",
            ),
            (
                json!({"type": "string", "format": "ipv4"}),
                "\"ipv4\" is not supported (supported: email, date, date-time, uri)",
            ),
            (
                json!({"type": "string", "pattern": "("}),
                "x.pattern: is not a regular expression",
            ),
            (
                json!({"type": "string", "enum": []}),
                "must offer 1 to 100 choices",
            ),
            (
                json!({"type": "string", "enum": ["a", "a"]}),
                "x.enum[1]: is offered twice",
            ),
            (json!({"type": "string", "enum": [1]}), "must be a string"),
            (
                json!({"type": "number", "multipleOf": 0}),
                "multipleOf: must be more than 0",
            ),
            (
                json!({"type": "number", "minimum": 5, "maximum": 1}),
                "is more than maximum",
            ),
            (
                json!({"type": "integer", "minimum": "1"}),
                "x.minimum: must be a number",
            ),
            (
                json!({"type": "string", "title": 7}),
                "x.title: must be a string",
            ),
            (
                json!({"type": "integer", "maximum": 3, "default": 9}),
                "x.default: breaks its own field's schema: must be at most 3",
            ),
            (
                json!({"type": "string", "enum": ["a"], "default": "b"}),
                "must be one of the choices",
            ),
            (
                json!({"type": "boolean", "default": "yes"}),
                "must be true or false",
            ),
        ] {
            refused_at(with_field(property), needle);
        }
        refused_at(
            json!({"type": "object", "properties": {"bad name": {"type": "boolean"}}}),
            "letters, digits or underscores",
        );
        refused_at(
            json!({"type": "object", "required": ["nope"], "properties": {"x": {"type": "boolean"}}}),
            "required[0]: \"nope\" is not one of the fields",
        );
    }

    #[test]
    fn page_fields_become_typed_json_and_empty_optional_ones_are_left_out() {
        let form = Form::parse("form", &release()).expect("valid");
        let values = form
            .read(&pairs(&[
                ("env", "production"),
                ("count", "3"),
                ("when", "2030-02-01"),
                ("notify", "on"),
                ("reason", ""),
                ("ratio", "1.5"),
            ]))
            .expect("valid");
        assert_eq!(
            values,
            json!({"env": "production", "count": 3, "when": "2030-02-01", "notify": true, "ratio": 1.5})
        );
        // An unticked box is false; an empty optional number is left out.
        let values = form
            .read(&pairs(&[
                ("count", "3.0"),
                ("when", "2030-02-01"),
                ("ratio", ""),
            ]))
            .expect("valid");
        assert_eq!(
            values,
            json!({"count": 3, "when": "2030-02-01", "notify": false})
        );
    }

    #[test]
    fn bad_values_are_named_beside_their_fields() {
        let form = Form::parse("form", &release()).expect("valid");
        let errors = form
            .read(&pairs(&[
                ("env", "moon"),
                ("count", "11"),
                ("when", "tomorrow"),
                ("reason", &"x".repeat(21)),
                ("ratio", "0.7"),
                ("extra", "1"),
            ]))
            .expect_err("invalid");
        assert_eq!(errors.of("env"), Some("must be one of the choices"));
        assert_eq!(errors.of("count"), Some("must be at most 10"));
        assert_eq!(errors.of("when"), Some("must be a date (YYYY-MM-DD)"));
        assert_eq!(errors.of("reason"), Some("must be at most 20 characters"));
        assert_eq!(errors.of("ratio"), Some("must be a multiple of 0.5"));
        assert_eq!(errors.form, ["\"extra\" is not a field of this form"]);
        let errors = form
            .read(&pairs(&[("count", "3x"), ("notify", "on")]))
            .expect_err("invalid");
        assert_eq!(errors.of("count"), Some("must be a whole number"));
        assert_eq!(errors.of("when"), Some("is required"));
        let errors = form
            .read(&pairs(&[("count", "1e3"), ("when", "2030-01-01")]))
            .expect_err("no exponents");
        assert_eq!(errors.of("count"), Some("must be a whole number"));
        assert!(
            errors
                .rejection()
                .message
                .contains("count: must be a whole number")
        );
        assert_eq!(errors.rejection().code, ErrorCode::InvalidForm);
    }

    #[test]
    fn programs_values_are_checked_as_sent() {
        let form = Form::parse("form", &release()).expect("valid");
        assert!(
            form.check(&json!({"count": 2, "when": "2030-01-01"}))
                .is_ok()
        );
        let errors = form
            .check(&json!({"count": "2", "when": "2030-01-01", "notify": "yes", "x": 1}))
            .expect_err("wrong types");
        assert_eq!(errors.of("count"), Some("must be a whole number"));
        assert_eq!(errors.of("notify"), Some("must be true or false"));
        assert_eq!(errors.form, ["\"x\" is not a field of this form"]);
        let long =
            json!({"count": 1, "when": "2030-01-01", "env": "staging", "reason": "y".repeat(21)});
        assert_eq!(
            form.check(&long).expect_err("too long").of("reason"),
            Some("must be at most 20 characters")
        );
        assert!(form.check(&json!([1])).is_err());
    }

    /// One of each problem, with numbers other than 1 (where English
    /// pages pick the singular and JSON answers do not).
    #[test]
    fn errors_keep_what_is_wrong_beside_the_english_words() {
        let form = Form::parse("form", &release()).expect("valid");
        let errors = form
            .read(&pairs(&[
                ("count", "11"),
                ("when", "2030-01-01"),
                ("x", "1"),
            ]))
            .expect_err("invalid");
        let count = errors.problem_of("count").expect("count is wrong");
        assert_eq!(count.problem(), &Problem::Maximum(Number::from(10)));
        assert_eq!(count.as_str(), "must be at most 10");
        assert_eq!(errors.form[0].problem(), &Problem::UnknownField("x".into()));
        assert_eq!(
            errors.summary(),
            "count: must be at most 10; \"x\" is not a field of this form"
        );
    }
}
