//! The HTML pages: confirmation before acting, and the results.
//!
//! Pages carry no script and load nothing external; every value that came
//! from a request or a payload is escaped. Every word on a page comes from
//! the catalog of the page's [`Locale`] ([`crate::text`]), escaped like any
//! other value; only what the link's creator gave (names, labels,
//! descriptions, a form's titles) is shown as given.

use base64::Engine as _;
use sfn_callbacks_core::ErrorCode;
use sfn_callbacks_core::action::CommentRule;
use sfn_callbacks_core::approvers::Refusal;
use sfn_callbacks_core::form::{Field, FieldKind, Form, FormErrors, TextFormat};
use sfn_callbacks_core::locale::Locale;
use sfn_callbacks_core::template::escape_html as escape;
use sha2::{Digest, Sha256};

use crate::form::ProblemText;
use crate::text::{Arg, Around, text, text_around};

/// One small stylesheet for every page: readable on a phone, high contrast
/// in both colour schemes (a dark variant for `prefers-color-scheme:
/// dark`), a visible focus ring, nothing loaded from elsewhere.
const STYLE: &str = "*{box-sizing:border-box}body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:38rem;margin:0 auto;padding:1.5rem 1rem;line-height:1.5;color:#1b1b1b;background:#fff;font-size:1.0625rem}h1{font-size:1.5rem;line-height:1.25;margin:.5rem 0 1rem}.status{display:inline-block;font-size:.875rem;font-weight:600;padding:.15rem .6rem;border-radius:1rem;background:#e8eaed;color:#1b1b1b}.ok{background:#d7f5dd;color:#0c5132}.warn{background:#fff1c2;color:#5c4100}.bad{background:#fde2e1;color:#8a1c15}.desc{white-space:pre-wrap;border-left:4px solid #0b57d0;padding:.25rem 0 .25rem .75rem;margin:1rem 0}dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:1rem 0}dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}label{display:block;font-weight:600;margin:1rem 0 .25rem}textarea,input,select{width:100%;font:inherit;padding:.5rem;border:2px solid #5f6368;border-radius:.4rem}input[type=checkbox],input[type=radio]{width:auto;min-width:1.25rem;min-height:1.25rem;margin:0 .5rem 0 0;vertical-align:middle}fieldset{border:0;padding:0;margin:1rem 0 0}legend{font-weight:600;padding:0;margin-bottom:.25rem}.opt{display:block;font-weight:400;margin:.25rem 0}.check{font-weight:600}.help{margin:.1rem 0 .25rem}.error{color:#8a1c15;font-weight:600;margin:.25rem 0}.problem{border:2px solid #8a1c15;border-radius:.4rem;padding:.5rem .75rem;margin:1rem 0}.problem p,.problem ul{margin:.25rem 0}[aria-invalid=true]{border-color:#8a1c15}button{font:inherit;font-weight:600;margin-top:1rem;padding:.7rem 1.5rem;min-height:44px;border-radius:.4rem;border:2px solid #0b57d0;background:#0b57d0;color:#fff;cursor:pointer}.button{display:inline-block;font-weight:600;padding:.7rem 1.5rem;min-height:44px;border-radius:.4rem;border:2px solid #0b57d0;background:#0b57d0;color:#fff;text-decoration:none}.button:focus-visible,button:focus-visible,textarea:focus-visible,input:focus-visible,select:focus-visible{outline:3px solid #f9ab00;outline-offset:2px}.note{color:#4a4a4a;font-size:.9rem}.fine{color:#5f6368;font-size:.8rem;margin-top:1.5rem}button.no{background:#b3261e;border-color:#b3261e}a{color:#0b57d0}h2{font-size:1.2rem;margin:0 0 .25rem}.choice{border-top:1px solid #c4c7c5;padding:1rem 0;margin-top:1rem}:root{color-scheme:light dark}@media (prefers-color-scheme:dark){body{color:#e8eaed;background:#121212}.status{background:#3c4043;color:#e8eaed}.ok{background:#0f3d22;color:#b7f5cb}.warn{background:#473600;color:#ffe08a}.bad{background:#5c1511;color:#ffd2ce}.desc{border-left-color:#8ab4f8}textarea,input,select{background:#1e1e1e;color:#e8eaed;border-color:#9aa0a6}.error{color:#ffb4ab}.problem,[aria-invalid=true]{border-color:#ffb4ab}.choice{border-top-color:#5f6368}button,.button{background:#8ab4f8;border-color:#8ab4f8;color:#0b1a33}.note,.fine{color:#bdc1c6}button.no{background:#f2b8b5;border-color:#f2b8b5;color:#601410}a{color:#8ab4f8}}";

/// The Content-Security-Policy our pages need: nothing but their own
/// inline style (by hash), no frames. (No `form-action`: browsers apply it
/// to the redirect that follows a form post, which would block `redirect`
/// specs.)
pub fn content_security_policy() -> String {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; base-uri 'none'; frame-ancestors 'none'"
    )
}

/// How a page's badge looks.
#[derive(Debug, Clone, Copy)]
enum Tone {
    Neutral,
    Good,
    Warning,
    Bad,
}

/// A message of `locale`'s catalog, escaped for the page.
fn say(locale: Locale, id: &str, args: &[(&str, Arg<'_>)]) -> String {
    escape(&text(locale, id, args))
}

/// A message with the value of its variable `hole` in bold: the message's
/// text and the value each escaped, the markup ours.
fn say_bold(locale: Locale, id: &str, hole: &str, value: &str) -> String {
    let Around { before, after } = text_around(locale, id, hole, &[]);
    format!(
        "{}<strong>{}</strong>{}",
        escape(&before),
        escape(value),
        escape(&after)
    )
}

/// A whole page in `locale`: `badge` and `title` are plain text, `body`
/// is markup whose values are already escaped.
fn page(locale: Locale, tone: Tone, badge: &str, title: &str, body: &str) -> String {
    let class = match tone {
        Tone::Neutral => "status",
        Tone::Good => "status ok",
        Tone::Warning => "status warn",
        Tone::Bad => "status bad",
    };
    format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><meta name=\"referrer\" content=\"no-referrer\"><meta name=\"robots\" content=\"noindex\"><title>{title}</title><style>{STYLE}</style></head><body><main><p class=\"{class}\">{badge}</p><h1>{title}</h1>{body}</main></body></html>",
        lang = locale.tag(),
        title = escape(title),
        badge = escape(badge),
    )
}

/// What the confirmation page shows.
#[derive(Debug)]
pub struct Pending<'a> {
    /// The language of the page.
    pub locale: Locale,
    /// Step Functions just said the task is open. Otherwise the page says
    /// nothing about whether it was answered: it does not know.
    pub open: bool,
    /// Action name.
    pub name: &'a str,
    /// Action type.
    pub kind: &'a str,
    /// The creator's label for it.
    pub label: Option<&'a str>,
    /// The creator's description of what is decided.
    pub description: Option<&'a str>,
    /// When the link expires, if it does, as the page's language writes
    /// it (`crate::text::format_instant`).
    pub expires: Option<String>,
    /// The comment box, if the action takes a comment.
    pub comment: Option<CommentRule>,
    /// The comment to show in the box (a form shown again).
    pub comment_text: Option<&'a str>,
    /// The action's form, if it has one.
    pub form: Option<FormView<'a>>,
    /// Shown again because the values were refused: nothing was sent.
    pub refused: bool,
    /// Who is signed in, for a link bound to approvers.
    pub who: Option<&'a str>,
    /// Who asked for the decision, when the link says.
    pub requested_by: Option<&'a str>,
}

/// An action's form on a page: its fields, with what the person entered
/// and what is wrong when it is shown again.
#[derive(Debug, Clone, Copy)]
pub struct FormView<'a> {
    /// The form.
    pub form: &'a Form,
    /// The page's fields as sent; the schema's defaults when `None`.
    pub entered: Option<&'a [(String, String)]>,
    /// What was wrong with them.
    pub errors: Option<&'a FormErrors>,
}

impl<'a> FormView<'a> {
    /// A fresh form, filled with its defaults.
    pub fn new(form: &'a Form) -> Self {
        Self {
            form,
            entered: None,
            errors: None,
        }
    }
}

fn expiry_row(locale: Locale, expires: Option<&str>) -> String {
    expires.map_or_else(String::new, |e| {
        format!(
            "<dt>{}</dt><dd>{}</dd>",
            say(locale, "page-field-expires", &[]),
            escape(e)
        )
    })
}

/// The action as a person reads it: its label, else its name.
fn action_row(locale: Locale, shown: &str) -> String {
    format!(
        "<dt>{}</dt><dd>{}</dd>",
        say(locale, "page-field-action", &[]),
        escape(shown),
    )
}

/// The technical names, in small print at the end of a page: for whoever
/// has to look into it, not for the person deciding.
fn support_line(locale: Locale, name: &str, kind: &str) -> String {
    format!(
        "<p class=\"fine\">{}</p>",
        say(
            locale,
            "page-support",
            &[("action", name.into()), ("type", kind.into())]
        )
    )
}

/// "Requested by …", when the link says who asked.
fn requested_by(locale: Locale, who: Option<&str>) -> String {
    who.map_or_else(String::new, |who| {
        format!(
            "<p>{}</p>",
            say_bold(locale, "page-requested-by", "who", who)
        )
    })
}

/// A submit button; a failure action's has a style of its own, so that
/// "Reject" never looks like "Approve".
fn submit_button(kind: &str, text: &str) -> String {
    let class = if kind == "failure" {
        " class=\"no\""
    } else {
        ""
    };
    format!("<button type=\"submit\"{class}>{text}</button>")
}

/// The badge and first sentence of a page shown before acting, as plain
/// text: that the request waits for an answer only when Step Functions
/// just said so.
fn before_acting(locale: Locale, open: bool, choices: bool) -> (String, String) {
    let (badge, lead) = match (open, choices) {
        (true, false) => ("badge-awaiting", "lead-open"),
        (true, true) => ("badge-awaiting", "lead-open-choices"),
        (false, false) => ("badge-confirm", "lead-unknown"),
        (false, true) => ("badge-confirm", "lead-unknown-choices"),
    };
    (text(locale, badge, &[]), text(locale, lead, &[]))
}

/// The page a GET shows: the action and one button that POSTs. The form
/// has no script and no `action` attribute, so it posts back to this very
/// URL, and only a person pressing the button sends it.
pub fn confirm_page(pending: &Pending<'_>) -> String {
    let locale = pending.locale;
    let shown = pending.label.unwrap_or(pending.name);
    let button = button_text(locale, pending.label, pending.kind, pending.name);
    let description = pending.description.map_or_else(String::new, |d| {
        format!("<div class=\"desc\">{}</div>", escape(d))
    });
    let fields = pending
        .form
        .as_ref()
        .map_or_else(String::new, |form| form_fields(locale, "f", form));
    let comment = pending.comment.map_or_else(String::new, |rule| {
        comment_box(locale, "comment", rule, pending.comment_text)
    });
    let who = signed_in_as(locale, pending.who);
    let (tone, badge, lead) = if pending.refused {
        (
            Tone::Bad,
            text(locale, "badge-not-sent", &[]),
            text(locale, "form-correct-fields", &[]),
        )
    } else {
        let (badge, lead) = before_acting(locale, pending.open, false);
        (Tone::Neutral, badge, lead)
    };
    let problems = pending
        .form
        .as_ref()
        .and_then(|f| f.errors)
        .map_or_else(String::new, |errors| problem_summary(locale, errors));
    page(
        locale,
        tone,
        &badge,
        &text(locale, "page-confirm-title", &[("action", shown.into())]),
        &format!(
            "<p>{lead}</p>{problems}{requested}{description}<dl>{rows}{expires}</dl>{who}<form method=\"post\">{fields}{comment}{submit}</form>{support}",
            lead = escape(&lead),
            requested = requested_by(locale, pending.requested_by),
            rows = action_row(locale, shown),
            expires = expiry_row(locale, pending.expires.as_deref()),
            submit = submit_button(pending.kind, &button),
            support = support_line(locale, pending.name, pending.kind),
        ),
    )
}

/// The box above a form shown again: how many fields to correct, and
/// what is wrong with the values as a whole (unknown fields).
fn problem_summary(locale: Locale, errors: &FormErrors) -> String {
    let whole: String = errors
        .form
        .iter()
        .map(|e| format!("<li>{}</li>", escape(&e.problem().text(locale))))
        .collect();
    let fields = match errors.fields.len() {
        0 => String::new(),
        count => format!(
            "<p>{}</p>",
            say(locale, "form-fields-to-change", &[("count", count.into())])
        ),
    };
    let whole = if whole.is_empty() {
        whole
    } else {
        format!("<ul>{whole}</ul>")
    };
    format!("<div class=\"problem\">{fields}{whole}</div>")
}

/// A form's fields as labelled inputs, ids prefixed by `prefix`: a select
/// (or radio buttons for up to four choices) for `enum`, a checkbox for a
/// boolean, a date input for `date`, a text area for long strings, the
/// constraints as HTML attributes, and each error beside its field.
fn form_fields(locale: Locale, prefix: &str, view: &FormView<'_>) -> String {
    view.form
        .fields
        .iter()
        .map(|field| form_field(locale, prefix, view, field))
        .collect()
}

/// The most characters a string field may allow and still be a one-line
/// input; longer ones get a text area.
const ONE_LINE_CHARS: u64 = 200;

fn form_field(locale: Locale, prefix: &str, view: &FormView<'_>, field: &Field) -> String {
    let id = format!("{prefix}-{}", field.name);
    let name = escape(&field.name);
    let title = escape(field.title.as_deref().unwrap_or(&field.name));
    let optional = if field.required || field.kind == FieldKind::Boolean {
        String::new()
    } else {
        format!(
            " <span class=\"note\">{}</span>",
            say(locale, "form-optional", &[])
        )
    };
    let help = field.description.as_deref().map_or_else(String::new, |d| {
        format!("<p class=\"note help\" id=\"{id}-help\">{}</p>", escape(d))
    });
    let error = view.errors.and_then(|e| e.problem_of(&field.name));
    let error_line = error.map_or_else(String::new, |e| {
        format!(
            "<p class=\"error\" id=\"{id}-error\">{}</p>",
            escape(&e.problem().text(locale))
        )
    });
    let described: Vec<String> = [
        field.description.as_ref().map(|_| format!("{id}-help")),
        error.map(|_| format!("{id}-error")),
    ]
    .into_iter()
    .flatten()
    .collect();
    let aria = format!(
        "{}{}",
        if described.is_empty() {
            String::new()
        } else {
            format!(" aria-describedby=\"{}\"", described.join(" "))
        },
        if error.is_some() {
            " aria-invalid=\"true\""
        } else {
            ""
        }
    );
    let required = if field.required { " required" } else { "" };
    let value = shown_value(view, field);
    match &field.kind {
        FieldKind::Boolean => {
            let checked = if value.is_some() { " checked" } else { "" };
            format!(
                "<div class=\"field\"><label class=\"check\" for=\"{id}\"><input type=\"checkbox\" id=\"{id}\" name=\"{name}\" value=\"true\"{checked}{aria}>{title}</label>{help}{error_line}</div>"
            )
        }
        FieldKind::Text {
            choices: Some(choices),
            ..
        } if choices.len() <= 4 => {
            let options: String = choices
                .iter()
                .enumerate()
                .map(|(i, choice)| {
                    let checked = if value.as_deref() == Some(choice.as_str()) {
                        " checked"
                    } else {
                        ""
                    };
                    format!(
                        "<label class=\"opt\" for=\"{id}-{i}\"><input type=\"radio\" id=\"{id}-{i}\" name=\"{name}\" value=\"{v}\"{checked}{required}>{v}</label>",
                        v = escape(choice)
                    )
                })
                .collect();
            format!(
                "<fieldset class=\"field\" role=\"radiogroup\" id=\"{id}\"{aria}><legend>{title}{optional}</legend>{help}{options}{error_line}</fieldset>"
            )
        }
        FieldKind::Text {
            choices: Some(choices),
            ..
        } => {
            let empty = format!(
                "<option value=\"\"{}>{}</option>",
                if value.is_none() { " selected" } else { "" },
                say(locale, "form-choose", &[])
            );
            let options: String = choices
                .iter()
                .map(|choice| {
                    let selected = if value.as_deref() == Some(choice.as_str()) {
                        " selected"
                    } else {
                        ""
                    };
                    format!("<option{selected}>{}</option>", escape(choice))
                })
                .collect();
            format!(
                "<div class=\"field\"><label for=\"{id}\">{title}{optional}</label>{help}<select id=\"{id}\" name=\"{name}\"{required}{aria}>{empty}{options}</select>{error_line}</div>"
            )
        }
        FieldKind::Text {
            min_length,
            max_length,
            pattern,
            format,
            choices: None,
        } => {
            let mut attributes = format!(" maxlength=\"{max_length}\"");
            if let Some(min) = min_length {
                attributes.push_str(&format!(" minlength=\"{min}\""));
            }
            if let Some(pattern) = pattern {
                attributes.push_str(&format!(" pattern=\"{}\"", escape(&html_pattern(pattern))));
            }
            let shown = escape(value.as_deref().unwrap_or_default());
            let control = if format.is_none() && *max_length > ONE_LINE_CHARS {
                format!(
                    "<textarea id=\"{id}\" name=\"{name}\" rows=\"4\"{attributes}{required}{aria}>\n{shown}</textarea>"
                )
            } else {
                let (kind, hint) = match format {
                    Some(TextFormat::Email) => ("email", ""),
                    Some(TextFormat::Uri) => ("url", ""),
                    Some(TextFormat::Date) => ("date", ""),
                    Some(TextFormat::DateTime) => (
                        "text",
                        " placeholder=\"2030-01-31T09:00:00Z\" autocomplete=\"off\"",
                    ),
                    None => ("text", ""),
                };
                format!(
                    "<input type=\"{kind}\" id=\"{id}\" name=\"{name}\" value=\"{shown}\"{attributes}{hint}{required}{aria}>"
                )
            };
            format!(
                "<div class=\"field\"><label for=\"{id}\">{title}{optional}</label>{help}{control}{error_line}</div>"
            )
        }
        FieldKind::Number {
            integer,
            minimum,
            maximum,
            multiple_of,
        } => {
            let mut attributes = String::new();
            if let Some(min) = minimum {
                attributes.push_str(&format!(" min=\"{min}\""));
            }
            if let Some(max) = maximum {
                attributes.push_str(&format!(" max=\"{max}\""));
            }
            let step = match (multiple_of, integer) {
                (Some(step), _) => step.to_string(),
                (None, true) => "1".to_owned(),
                (None, false) => "any".to_owned(),
            };
            let mode = if *integer { "numeric" } else { "decimal" };
            format!(
                "<div class=\"field\"><label for=\"{id}\">{title}{optional}</label>{help}<input type=\"number\" id=\"{id}\" name=\"{name}\" value=\"{shown}\" step=\"{step}\" inputmode=\"{mode}\"{attributes}{required}{aria}>{error_line}</div>",
                shown = escape(value.as_deref().unwrap_or_default()),
            )
        }
    }
}

/// What a field shows: what the person entered when the form is shown
/// again, else its default; `None` for empty (and an unticked box).
fn shown_value(view: &FormView<'_>, field: &Field) -> Option<String> {
    match view.entered {
        Some(pairs) => pairs
            .iter()
            .find(|(k, _)| k == &field.name)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty()),
        None => match &field.default {
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            Some(serde_json::Value::Bool(true)) => Some("true".to_owned()),
            _ => None,
        },
    }
}

/// A JSON Schema `pattern` (found anywhere in the value) as an HTML
/// `pattern` (which must match the whole value).
fn html_pattern(pattern: &str) -> String {
    let start = if pattern.starts_with('^') { "" } else { ".*" };
    let end = if pattern.ends_with('$') && !pattern.ends_with("\\$") {
        ""
    } else {
        ".*"
    };
    let inner = pattern.strip_prefix('^').unwrap_or(pattern);
    let inner = if end.is_empty() {
        inner.strip_suffix('$').unwrap_or(inner)
    } else {
        inner
    };
    format!("{start}(?:{inner}){end}")
}

/// Whether the person looking at a review page may press a choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChoiceStanding {
    /// Its form and button.
    May,
    /// Bound to approvers, nobody signed in: sign in first.
    SignInFirst,
    /// The signed-in person may not, and why.
    MayNot(Refusal),
}

/// One choice of a review page.
#[derive(Debug)]
pub struct ChoiceView<'a> {
    /// Action name.
    pub name: &'a str,
    /// Action type.
    pub kind: &'a str,
    /// The creator's label for it.
    pub label: Option<&'a str>,
    /// Its own description (none when every choice shares one).
    pub description: Option<&'a str>,
    /// The comment box, if it takes a comment.
    pub comment: Option<CommentRule>,
    /// Its form, if it has one.
    pub form: Option<FormView<'a>>,
    /// Where its form posts: this page's query with its `action` and `type`.
    pub form_action: String,
    /// Whether the person may press it.
    pub standing: ChoiceStanding,
}

/// What a review page shows.
#[derive(Debug)]
pub struct ReviewView<'a> {
    /// The language of the page.
    pub locale: Locale,
    /// Step Functions just said the task is open.
    pub open: bool,
    /// The description every choice shares, if they share one.
    pub description: Option<&'a str>,
    /// When the link expires, if it does, as the page's language writes
    /// it.
    pub expires: Option<String>,
    /// Who is signed in.
    pub who: Option<&'a str>,
    /// Who asked for the decision, when the link says.
    pub requested_by: Option<&'a str>,
    /// Where to sign in, when a choice needs it.
    pub login_href: Option<String>,
    /// The choices, in the request's order.
    pub choices: Vec<ChoiceView<'a>>,
}

/// The review page: every choice as its own form, each posting only its
/// own action; nothing acts on opening it.
pub fn review_page(review: &ReviewView<'_>) -> String {
    let locale = review.locale;
    let (badge, lead) = before_acting(locale, review.open, true);
    let description = review.description.map_or_else(String::new, |d| {
        format!("<div class=\"desc\">{}</div>", escape(d))
    });
    let who = signed_in_as(locale, review.who);
    let login = review
        .login_href
        .as_deref()
        .map_or_else(String::new, |href| {
            format!(
                "<p>{}</p><p><a class=\"button\" href=\"{}\">{}</a></p>",
                say(locale, "page-review-named-approvers", &[]),
                escape(href),
                say(locale, "page-sign-in-to-continue", &[]),
            )
        });
    let choices: String = review
        .choices
        .iter()
        .enumerate()
        .map(|(i, choice)| choice_section(locale, i, choice, review.who))
        .collect();
    let expires = review.expires.as_deref().map_or_else(String::new, |e| {
        format!("<dl>{}</dl>", expiry_row(locale, Some(e)))
    });
    page(
        locale,
        Tone::Neutral,
        &badge,
        &text(locale, "page-review-title", &[]),
        &format!(
            "<p>{}</p>{}{description}{expires}{who}{login}{choices}",
            escape(&lead),
            requested_by(locale, review.requested_by),
        ),
    )
}

fn choice_section(locale: Locale, i: usize, choice: &ChoiceView<'_>, who: Option<&str>) -> String {
    let shown = choice.label.unwrap_or(choice.name);
    let description = choice.description.map_or_else(String::new, |d| {
        format!("<div class=\"desc\">{}</div>", escape(d))
    });
    let body = match choice.standing {
        ChoiceStanding::May => {
            let fields = choice.form.as_ref().map_or_else(String::new, |form| {
                form_fields(locale, &format!("c{i}"), form)
            });
            let comment = choice.comment.map_or_else(String::new, |rule| {
                comment_box(locale, &format!("comment-{i}"), rule, None)
            });
            let button = button_text(locale, choice.label, choice.kind, choice.name);
            format!(
                "<form method=\"post\" action=\"{}\">{fields}{comment}{}</form>",
                escape(&choice.form_action),
                submit_button(choice.kind, &button),
            )
        }
        ChoiceStanding::SignInFirst => format!(
            "<p class=\"note\">{}</p>",
            say(locale, "page-choice-sign-in-first", &[])
        ),
        ChoiceStanding::MayNot(refusal) => {
            let someone = text(locale, "page-refusal-someone", &[]);
            let id = match refusal {
                Refusal::NotAnApprover | Refusal::Unidentified => "page-refusal-not-an-approver",
                Refusal::Requester => "page-refusal-requester",
            };
            format!(
                "<p class=\"note\">{}</p>",
                say(locale, id, &[("who", who.unwrap_or(&someone).into())])
            )
        }
    };
    format!(
        "<section class=\"choice\" aria-labelledby=\"choice-{i}\"><h2 id=\"choice-{i}\">{}</h2>{description}{body}{}</section>",
        escape(shown),
        support_line(locale, choice.name, choice.kind),
    )
}

/// A button's text (escaped): the label, else what it does.
fn button_text(locale: Locale, label: Option<&str>, kind: &str, name: &str) -> String {
    match (label, kind) {
        (Some(label), _) => escape(label),
        (None, "heartbeat") => say(locale, "page-button-heartbeat", &[]),
        (None, _) => say(locale, "page-button-confirm", &[("action", name.into())]),
    }
}

/// Who is signed in, when someone is.
fn signed_in_as(locale: Locale, who: Option<&str>) -> String {
    who.map_or_else(String::new, |who| {
        format!(
            "<p class=\"who\">{}</p>",
            say_bold(locale, "page-signed-in-as", "who", who)
        )
    })
}

/// A labelled comment box, holding `text` when a form is shown again.
fn comment_box(locale: Locale, id: &str, rule: CommentRule, text: Option<&str>) -> String {
    let label = if rule.required {
        "page-comment"
    } else {
        "page-comment-optional"
    };
    format!(
        "<label for=\"{id}\">{} <span class=\"note\">{}</span></label><textarea id=\"{id}\" name=\"comment\" rows=\"4\" maxlength=\"{max}\"{required}>{text}</textarea>",
        say(locale, label, &[]),
        say(
            locale,
            "page-comment-limit",
            &[("max", rule.max_chars.into())]
        ),
        max = rule.max_chars,
        required = if rule.required { " required" } else { "" },
        text = escape(text.unwrap_or_default()),
    )
}

/// The page a link bound to approvers shows to nobody signed in: what is
/// asked, and a link to sign in (`auth/login` with this link's query,
/// relative, so it works under a stage path too).
pub fn sign_in_page(pending: &Pending<'_>, login_href: &str) -> String {
    let locale = pending.locale;
    let shown = pending.label.unwrap_or(pending.name);
    let description = pending.description.map_or_else(String::new, |d| {
        format!("<div class=\"desc\">{}</div>", escape(d))
    });
    let lead = if pending.open {
        "page-sign-in-lead-open"
    } else {
        "page-sign-in-lead"
    };
    page(
        locale,
        Tone::Neutral,
        &text(locale, "badge-sign-in-needed", &[]),
        &text(locale, "page-confirm-title", &[("action", shown.into())]),
        &format!(
            "<p>{lead}</p>{requested}{description}<dl>{rows}{expires}</dl><p><a class=\"button\" href=\"{href}\">{sign_in}</a></p>{support}",
            lead = say(locale, lead, &[]),
            requested = requested_by(locale, pending.requested_by),
            rows = action_row(locale, shown),
            expires = expiry_row(locale, pending.expires.as_deref()),
            href = escape(login_href),
            sign_in = say(locale, "page-sign-in-to-continue", &[]),
            support = support_line(locale, pending.name, pending.kind),
        ),
    )
}

/// The page for a POST-action URL opened in a browser.
pub fn post_only_page(locale: Locale, name: &str) -> String {
    page(
        locale,
        Tone::Neutral,
        &text(locale, "badge-for-systems", &[]),
        &text(locale, "page-systems-title", &[]),
        &format!(
            "<p>{}</p>",
            say_bold(locale, "page-systems-lead", "action", name)
        ),
    )
}

/// The default page after a successful callback.
pub fn accepted_page(
    locale: Locale,
    name: &str,
    label: Option<&str>,
    kind: &str,
    comment: Option<&str>,
    transaction_id: &str,
) -> String {
    let comment = comment.map_or_else(String::new, |c| {
        format!(
            "<p>{}</p><div class=\"desc\">{}</div>",
            say(locale, "page-your-comment", &[]),
            escape(c)
        )
    });
    page(
        locale,
        Tone::Good,
        &text(locale, "badge-done", &[]),
        &text(locale, "page-accepted-title", &[]),
        &format!(
            "<p>{}</p>{comment}<p class=\"fine\">{}</p>",
            say_bold(
                locale,
                "page-accepted-lead",
                "response",
                label.unwrap_or(name)
            ),
            say(
                locale,
                "page-support-transaction",
                &[
                    ("action", name.into()),
                    ("type", kind.into()),
                    ("id", transaction_id.into())
                ]
            ),
        ),
    )
}

/// Which error page to show: what happened, in the person's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorPage {
    /// A POST action's link opened in a browser: it is for systems.
    ForSystems(String),
    /// The task was answered already, or finished or timed out.
    AlreadyAnswered,
    /// The link expired; when, as the page's language writes it.
    Expired(Option<String>),
    /// The link is cut short, altered, or not ours.
    InvalidLink,
    /// A service was unavailable; the link still works.
    Busy,
    /// Slack could not say who pressed; nothing was sent.
    SlackBusy,
    /// The OpenID Provider could not be reached; nothing was sent.
    ProviderBusy,
    /// The client crossed the rate limit.
    TooMany,
    /// The comment was refused.
    BadComment,
    /// The signed-in person may not act on this link; with where to sign
    /// out (and come back to the link).
    NotAnApprover(Option<String>),
    /// The link needs a signed-in person.
    SignInRequired,
    /// Sign-in did not finish.
    SignInFailed,
    /// Anything else.
    Rejected,
}

/// An error page's tone and catalog keys: badge, title, advice (none for
/// the page of a POST action's link, which is not an error's).
fn error_keys(which: &ErrorPage) -> Option<(Tone, &'static str, &'static str, &'static str)> {
    Some(match which {
        ErrorPage::ForSystems(_) => return None,
        ErrorPage::AlreadyAnswered => (
            Tone::Warning,
            "badge-already-answered",
            "error-already-answered-title",
            "error-already-answered-advice",
        ),
        ErrorPage::Expired(_) => (
            Tone::Warning,
            "badge-expired",
            "error-expired-title",
            "error-expired-advice",
        ),
        ErrorPage::InvalidLink => (
            Tone::Bad,
            "badge-invalid-link",
            "error-invalid-link-title",
            "error-invalid-link-advice",
        ),
        ErrorPage::Busy => (
            Tone::Warning,
            "badge-busy",
            "error-busy-title",
            "error-busy-advice",
        ),
        ErrorPage::SlackBusy => (
            Tone::Warning,
            "badge-busy",
            "error-busy-title",
            "error-slack-busy-advice",
        ),
        ErrorPage::ProviderBusy => (
            Tone::Warning,
            "badge-busy",
            "error-busy-title",
            "error-provider-busy-advice",
        ),
        ErrorPage::TooMany => (
            Tone::Warning,
            "badge-busy",
            "error-too-many-title",
            "error-too-many-advice",
        ),
        ErrorPage::BadComment => (
            Tone::Bad,
            "badge-not-sent",
            "error-bad-comment-title",
            "error-bad-comment-advice",
        ),
        ErrorPage::NotAnApprover(_) => (
            Tone::Bad,
            "badge-not-allowed",
            "error-not-an-approver-title",
            "error-not-an-approver-advice",
        ),
        ErrorPage::SignInRequired => (
            Tone::Warning,
            "badge-sign-in-needed",
            "error-sign-in-required-title",
            "error-sign-in-required-advice",
        ),
        ErrorPage::SignInFailed => (
            Tone::Bad,
            "badge-not-signed-in",
            "error-sign-in-failed-title",
            "error-sign-in-failed-advice",
        ),
        ErrorPage::Rejected => (
            Tone::Bad,
            "badge-not-sent",
            "error-rejected-title",
            "error-rejected-advice",
        ),
    })
}

/// An error in two sentences of `locale`, for a chat message: the page's
/// title in bold, then its advice (Slack `mrkdwn`).
pub fn error_summary(locale: Locale, which: &ErrorPage) -> String {
    let (_, _, title, advice) = error_keys(which).unwrap_or((
        Tone::Bad,
        "badge-not-sent",
        "error-rejected-title",
        "error-rejected-advice",
    ));
    format!(
        "*{}*\n{}",
        say(locale, title, &[]),
        say(locale, advice, &[])
    )
}

/// The page for any error in `locale`: a title that says what happened
/// in plain words, advice, and the message, the error name and the status
/// for whoever has to look into it (the message in English, as JSON
/// answers and the log have it).
pub fn error_page(
    locale: Locale,
    which: &ErrorPage,
    code: ErrorCode,
    message: &str,
    status: u16,
) -> String {
    let (tone, badge, title, advice) = match which {
        ErrorPage::ForSystems(action) => return post_only_page(locale, action),
        other => error_keys(other).unwrap_or((
            Tone::Bad,
            "badge-not-sent",
            "error-rejected-title",
            "error-rejected-advice",
        )),
    };
    let sign_out = match which {
        ErrorPage::NotAnApprover(Some(href)) => format!(
            "<form method=\"post\" action=\"{}\"><button type=\"submit\">{}</button></form>",
            escape(href),
            say(locale, "error-sign-out", &[]),
        ),
        _ => String::new(),
    };
    // An expired link's page says when in the page's language; its
    // support line then needs no raw timestamp.
    let (expired, message) = match which {
        ErrorPage::Expired(Some(when)) => (
            format!(
                "<p>{}</p>",
                say(
                    locale,
                    "error-expired-when",
                    &[("when", when.as_str().into())]
                )
            ),
            "this link expired",
        ),
        _ => (String::new(), message),
    };
    let details = say(
        locale,
        "error-details",
        &[
            ("message", message.into()),
            ("code", code.as_str().into()),
            ("status", status.into()),
        ],
    );
    page(
        locale,
        tone,
        &text(locale, badge, &[]),
        &text(locale, title, &[]),
        &format!(
            "{expired}<p>{}</p>{sign_out}<p class=\"fine\">{details}</p>",
            say(locale, advice, &[]),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending<'a>(
        name: &'a str,
        label: Option<&'a str>,
        description: Option<&'a str>,
    ) -> Pending<'a> {
        Pending {
            locale: Locale::En,
            open: false,
            name,
            kind: "success",
            label,
            description,
            expires: Some("<b>2030</b>".into()),
            comment: Some(CommentRule {
                max_chars: 300,
                required: true,
            }),
            comment_text: None,
            form: None,
            refused: false,
            who: None,
            requested_by: None,
        }
    }

    #[test]
    fn markup_in_values_renders_as_text() {
        let html = confirm_page(&pending(
            "<script>x</script>",
            Some("<img src=x onerror=alert(1)>"),
            Some("\"quoted\" & <i>tags</i>"),
        ));
        assert!(
            !html.contains("<script>x") && !html.contains("<img") && !html.contains("<i>"),
            "{html}"
        );
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"));
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(html.contains("&quot;quoted&quot; &amp; &lt;i&gt;tags&lt;/i&gt;"));
        assert!(html.contains("&lt;b&gt;2030&lt;/b&gt;"));
        let accepted = accepted_page(
            Locale::En,
            "go",
            Some("<b>Go</b>"),
            "success",
            Some("<i>ok</i>"),
            "t",
        );
        assert!(accepted.contains("&lt;b&gt;Go&lt;/b&gt;") && !accepted.contains("<b>Go"));
        assert!(accepted.contains("&lt;i&gt;ok&lt;/i&gt;") && !accepted.contains("<i>"));
        let error = error_page(
            Locale::En,
            &ErrorPage::BadComment,
            ErrorCode::InvalidComment,
            "<em>x</em>",
            400,
        );
        assert!(error.contains("&lt;em&gt;x&lt;/em&gt;") && !error.contains("<em>"));
    }

    #[test]
    fn a_pattern_keeps_its_meaning_as_an_html_pattern() {
        // JSON Schema finds a pattern anywhere; HTML matches the whole value.
        assert_eq!(html_pattern("[0-9]+"), ".*(?:[0-9]+).*");
        assert_eq!(html_pattern("^[A-Z]+-[0-9]+$"), "(?:[A-Z]+-[0-9]+)");
        assert_eq!(html_pattern("^x"), "(?:x).*");
        assert_eq!(html_pattern("cost\\$"), ".*(?:cost\\$).*");
    }

    #[test]
    fn the_confirmation_page_has_a_post_form_a_labelled_box_and_no_script() {
        let html = confirm_page(&pending("approve", Some("Approve release 1.2"), None));
        assert!(html.contains("<form method=\"post\">"));
        assert!(html.contains("<label for=\"comment\">") && html.contains("id=\"comment\""));
        assert!(html.contains("maxlength=\"300\" required"));
        assert!(html.contains(">Approve release 1.2</button>"));
        assert!(!html.to_lowercase().contains("<script"));
    }

    /// One of every page (a form with an error, a review with each
    /// standing, every error page) in `locale`.
    fn every_page(locale: Locale) -> Vec<String> {
        let form = Form::parse(
            "form",
            &serde_json::json!({"type": "object", "required": ["count"], "properties": {
                "count": {"type": "integer", "title": "Instances", "maximum": 5},
                "region": {"type": "string", "enum": ["a", "b", "c", "d", "e"]},
                "note": {"type": "string"}
            }}),
        )
        .expect("a form");
        let entered = vec![
            ("count".to_owned(), "9".to_owned()),
            ("x".to_owned(), "1".to_owned()),
        ];
        let errors = form.read(&entered).expect_err("9 is too many");
        let view = |errors| FormView {
            form: &form,
            entered: Some(&entered),
            errors,
        };
        let mut confirm = pending("approve", None, Some("Ships v2."));
        confirm.locale = locale;
        confirm.open = true;
        confirm.who = Some("ada@example.com");
        confirm.comment = Some(CommentRule {
            max_chars: 300,
            required: false,
        });
        confirm.form = Some(view(None));
        let mut refused = pending("approve", Some("Approve"), None);
        refused.locale = locale;
        refused.refused = true;
        refused.form = Some(view(Some(&errors)));
        let mut heartbeat = pending("ping", None, None);
        heartbeat.locale = locale;
        heartbeat.kind = "heartbeat";
        let choice = |name, standing| ChoiceView {
            name,
            kind: "success",
            label: None,
            description: None,
            comment: Some(CommentRule {
                max_chars: 1,
                required: true,
            }),
            form: None,
            form_action: "?action=x".into(),
            standing,
        };
        let review = |open, who| ReviewView {
            locale,
            open,
            description: Some("Ships v2."),
            expires: Some("soon".into()),
            who,
            requested_by: Some("rita@example.com"),
            login_href: Some("auth/login?data=x".into()),
            choices: vec![
                choice("approve", ChoiceStanding::May),
                choice("reject", ChoiceStanding::SignInFirst),
                choice("hold", ChoiceStanding::MayNot(Refusal::NotAnApprover)),
                choice("own", ChoiceStanding::MayNot(Refusal::Requester)),
            ],
        };
        let mut pages = vec![
            confirm_page(&confirm),
            confirm_page(&refused),
            confirm_page(&heartbeat),
            review_page(&review(true, Some("ada@example.com"))),
            review_page(&review(false, None)),
            sign_in_page(&confirm, "auth/login?data=x"),
            sign_in_page(&heartbeat, "auth/login?data=x"),
            post_only_page(locale, "hook"),
            accepted_page(locale, "approve", None, "success", Some("ok"), "t1"),
        ];
        for which in [
            ErrorPage::AlreadyAnswered,
            ErrorPage::Expired(None),
            ErrorPage::Expired(Some("7 December 2026 at 18:36 UTC".into())),
            ErrorPage::InvalidLink,
            ErrorPage::Busy,
            ErrorPage::SlackBusy,
            ErrorPage::ProviderBusy,
            ErrorPage::TooMany,
            ErrorPage::BadComment,
            ErrorPage::NotAnApprover(Some("auth/logout?data=x".into())),
            ErrorPage::SignInRequired,
            ErrorPage::SignInFailed,
            ErrorPage::Rejected,
        ] {
            pages.push(error_page(
                locale,
                &which,
                ErrorCode::InvalidPayload,
                "m",
                400,
            ));
        }
        pages
    }

    /// English sentences of the pages, as a page would show them.
    fn english_sentences() -> Vec<String> {
        [
            "lead-open",
            "lead-unknown-choices",
            "page-field-expires",
            "page-comment-optional",
            "page-sign-in-lead",
            "page-sign-in-to-continue",
            "page-choice-sign-in-first",
            "page-systems-title",
            "page-accepted-title",
            "page-your-comment",
            "error-already-answered-advice",
            "error-invalid-link-advice",
            "error-busy-advice",
            "error-sign-out",
            "form-correct-fields",
            "form-choose",
        ]
        .into_iter()
        .map(|id| escape(&text(Locale::En, id, &[])))
        .chain([
            "must be at most 5".to_owned(),
            "field needs a change".to_owned(),
            "is not among the approvers".to_owned(),
            "Signed in as".to_owned(),
            "(up to".to_owned(),
        ])
        .collect()
    }

    #[test]
    fn a_page_speaks_its_language_and_says_which() {
        let mut ja = pending("approve", Some("承認"), None);
        ja.locale = Locale::Ja;
        ja.expires = Some(crate::text::format_instant(Locale::Ja, 1_796_157_660_000));
        let html = confirm_page(&ja);
        assert!(
            html.starts_with("<!doctype html><html lang=\"ja\">"),
            "{html}"
        );
        for needle in [
            "<title>確認：承認</title>",
            "<dt>リンクの有効期限</dt><dd>2026/12/01 20:41 UTC</dd>",
            "<dt>アクション</dt><dd>承認</dd>",
            "<p class=\"fine\">サポート用：アクション approve（success）</p>",
            "<label for=\"comment\">コメント <span class=\"note\">（300 文字まで）</span></label>",
        ] {
            assert!(html.contains(needle), "{needle}\n{html}");
        }
        let html = error_page(
            Locale::De,
            &ErrorPage::Expired(Some("1. Dezember 2026 um 20:41 UTC".into())),
            ErrorCode::ExpiredPayload,
            "this link expired",
            410,
        );
        assert!(
            html.starts_with("<!doctype html><html lang=\"de\">"),
            "{html}"
        );
        for needle in [
            "<p class=\"status warn\">Abgelaufen</p>",
            "<h1>Dieser Link ist abgelaufen</h1>",
            "<p>Er ist am 1. Dezember 2026 um 20:41 UTC abgelaufen.</p>",
            "<p class=\"fine\">Für den Support: this link expired (ExpiredPayload, 410)</p>",
        ] {
            assert!(html.contains(needle), "{needle}\n{html}");
        }
        let html = accepted_page(Locale::De, "go", None, "success", None, "t");
        assert!(html.contains("Ihre Antwort <strong>go</strong>"), "{html}");
    }

    #[test]
    fn no_page_speaks_english_but_the_english_ones() {
        let english = english_sentences();
        let all_english = every_page(Locale::En).concat();
        for sentence in &english {
            assert!(all_english.contains(sentence.as_str()), "{sentence}");
        }
        for locale in Locale::ALL.into_iter().skip(1) {
            for html in every_page(locale) {
                assert!(
                    html.contains(&format!("<html lang=\"{}\">", locale.tag())),
                    "{html}"
                );
                for sentence in &english {
                    assert!(
                        !html.contains(sentence.as_str()),
                        "{locale}: {sentence}\n{html}"
                    );
                }
            }
        }
    }
}
