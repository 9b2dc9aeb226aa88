//! The HTML pages: confirmation before acting, and the results.
//!
//! Pages carry no script and load nothing external; every value that came
//! from a request or a payload is escaped.

use std::sync::LazyLock;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::core::ErrorCode;
use crate::core::action::CommentRule;
use crate::core::form::{Field, FieldKind, Form, FormErrors, TextFormat};
use crate::core::template::escape_html as escape;

/// One small stylesheet for every page: readable on a phone, high contrast
/// in both colour schemes (a dark variant for `prefers-color-scheme:
/// dark`), a visible focus ring, nothing loaded from elsewhere.
const STYLE: &str = "*{box-sizing:border-box}body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:38rem;margin:0 auto;padding:1.5rem 1rem;line-height:1.5;color:#1b1b1b;background:#fff;font-size:1.0625rem}h1{font-size:1.5rem;line-height:1.25;margin:.5rem 0 1rem}.status{display:inline-block;font-size:.875rem;font-weight:600;padding:.15rem .6rem;border-radius:1rem;background:#e8eaed;color:#1b1b1b}.ok{background:#d7f5dd;color:#0c5132}.warn{background:#fff1c2;color:#5c4100}.bad{background:#fde2e1;color:#8a1c15}.desc{white-space:pre-wrap;border-left:4px solid #0b57d0;padding:.25rem 0 .25rem .75rem;margin:1rem 0}dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:1rem 0}dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}label{display:block;font-weight:600;margin:1rem 0 .25rem}textarea,input,select{width:100%;font:inherit;padding:.5rem;border:2px solid #5f6368;border-radius:.4rem}input[type=checkbox],input[type=radio]{width:auto;min-width:1.25rem;min-height:1.25rem;margin:0 .5rem 0 0;vertical-align:middle}fieldset{border:0;padding:0;margin:1rem 0 0}legend{font-weight:600;padding:0;margin-bottom:.25rem}.opt{display:block;font-weight:400;margin:.25rem 0}.check{font-weight:600}.help{margin:.1rem 0 .25rem}.error{color:#8a1c15;font-weight:600;margin:.25rem 0}.problem{border:2px solid #8a1c15;border-radius:.4rem;padding:.5rem .75rem;margin:1rem 0}.problem p,.problem ul{margin:.25rem 0}[aria-invalid=true]{border-color:#8a1c15}button{font:inherit;font-weight:600;margin-top:1rem;padding:.7rem 1.5rem;min-height:44px;border-radius:.4rem;border:2px solid #0b57d0;background:#0b57d0;color:#fff;cursor:pointer}.button{display:inline-block;font-weight:600;padding:.7rem 1.5rem;min-height:44px;border-radius:.4rem;border:2px solid #0b57d0;background:#0b57d0;color:#fff;text-decoration:none}.button:focus-visible,button:focus-visible,textarea:focus-visible,input:focus-visible,select:focus-visible{outline:3px solid #f9ab00;outline-offset:2px}.note{color:#4a4a4a;font-size:.9rem}a{color:#0b57d0}h2{font-size:1.2rem;margin:0 0 .25rem}.choice{border-top:1px solid #c4c7c5;padding:1rem 0;margin-top:1rem}:root{color-scheme:light dark}@media (prefers-color-scheme:dark){body{color:#e8eaed;background:#121212}.status{background:#3c4043;color:#e8eaed}.ok{background:#0f3d22;color:#b7f5cb}.warn{background:#473600;color:#ffe08a}.bad{background:#5c1511;color:#ffd2ce}.desc{border-left-color:#8ab4f8}textarea,input,select{background:#1e1e1e;color:#e8eaed;border-color:#9aa0a6}.error{color:#ffb4ab}.problem,[aria-invalid=true]{border-color:#ffb4ab}.choice{border-top-color:#5f6368}button,.button{background:#8ab4f8;border-color:#8ab4f8;color:#0b1a33}.note{color:#bdc1c6}a{color:#8ab4f8}}";

/// The Content-Security-Policy of our pages: nothing but our own inline
/// style (by hash), no frames. (No `form-action`: browsers apply it to the
/// redirect that follows a form post, which would block `redirect` specs.)
static CSP: LazyLock<HeaderValue> = LazyLock::new(|| {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE.as_bytes()));
    HeaderValue::from_str(&format!(
        "default-src 'none'; style-src 'sha256-{hash}'; base-uri 'none'; frame-ancestors 'none'"
    ))
    .expect("an ASCII header value")
});

/// How a page's badge looks.
#[derive(Debug, Clone, Copy)]
enum Tone {
    Neutral,
    Good,
    Warning,
    Bad,
}

fn page(tone: Tone, badge: &str, title: &str, body: &str) -> String {
    let class = match tone {
        Tone::Neutral => "status",
        Tone::Good => "status ok",
        Tone::Warning => "status warn",
        Tone::Bad => "status bad",
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><meta name=\"referrer\" content=\"no-referrer\"><meta name=\"robots\" content=\"noindex\"><title>{title}</title><style>{STYLE}</style></head><body><main><p class=\"{class}\">{badge}</p><h1>{title}</h1>{body}</main></body></html>",
        title = escape(title),
        badge = escape(badge),
    )
}

/// Wraps one of our pages with the page security headers.
pub fn html_response(status: StatusCode, html: String) -> Response {
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, CSP.clone());
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// One of our pages, 200.
pub fn html_ok(html: String) -> Response {
    html_response(StatusCode::OK, html)
}

/// 303 to `location` (a checked `redirect` spec).
pub fn see_other(location: HeaderValue) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

/// The Content-Security-Policy of a custom `html` response: its own styles
/// and images may load, scripts and frames may not.
const CUSTOM_CSP: HeaderValue = HeaderValue::from_static(
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; base-uri 'none'; frame-ancestors 'none'",
);

/// A custom `html` response spec's body, with its own policy.
pub fn custom_html_response(html: String) -> Response {
    let mut response = Html(html).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, CUSTOM_CSP);
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// What the confirmation page shows.
#[derive(Debug)]
pub struct Pending<'a> {
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
    /// RFC 3339 expiry, if any.
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

fn expiry_row(expires: Option<&str>) -> String {
    expires.map_or_else(String::new, |e| {
        format!("<dt>Link expires</dt><dd>{}</dd>", escape(e))
    })
}

/// The badge and first sentence of a page shown before acting: that the
/// request waits for an answer only when Step Functions just said so.
fn before_acting(open: bool, choices: bool) -> (&'static str, String) {
    let press = if choices {
        "press the button of your choice"
    } else {
        "press the button"
    };
    if open {
        (
            "Awaiting answer",
            format!(
                "This request is still waiting for an answer. Check the details, then {press}."
            ),
        )
    } else {
        (
            "Please confirm",
            format!(
                "Check the details, then {press}. If the request was already answered or has closed, the next page says so and nothing changes."
            ),
        )
    }
}

/// The page a GET shows: the action and one button that POSTs. The form
/// has no script and no `action` attribute, so it posts back to this very
/// URL, and only a person pressing the button sends it.
pub fn confirm_page(pending: &Pending<'_>) -> String {
    let shown = pending.label.unwrap_or(pending.name);
    let button = button_text(pending.label, pending.kind, pending.name);
    let description = pending.description.map_or_else(String::new, |d| {
        format!("<div class=\"desc\">{}</div>", escape(d))
    });
    let fields = pending
        .form
        .as_ref()
        .map_or_else(String::new, |form| form_fields("f", form));
    let comment = pending.comment.map_or_else(String::new, |rule| {
        comment_box("comment", rule, pending.comment_text)
    });
    let who = signed_in_as(pending.who);
    let (tone, badge, lead) = if pending.refused {
        (
            Tone::Bad,
            "Not sent",
            "Your answer was not sent: please correct the fields marked below, then press the button again.".to_owned(),
        )
    } else {
        let (badge, lead) = before_acting(pending.open, false);
        (Tone::Neutral, badge, lead)
    };
    let problems = pending
        .form
        .as_ref()
        .and_then(|f| f.errors)
        .map_or_else(String::new, problem_summary);
    page(
        tone,
        badge,
        &format!("Confirm: {shown}"),
        &format!(
            "<p>{lead}</p>{problems}{description}<dl><dt>Action</dt><dd>{name}</dd><dt>Type</dt><dd>{kind}</dd>{expires}</dl>{who}<form method=\"post\">{fields}{comment}<button type=\"submit\">{button}</button></form>",
            name = escape(pending.name),
            kind = escape(pending.kind),
            expires = expiry_row(pending.expires.as_deref()),
        ),
    )
}

/// The box above a form shown again: how many fields to correct, and
/// what is wrong with the values as a whole (unknown fields).
fn problem_summary(errors: &FormErrors) -> String {
    let whole: String = errors
        .form
        .iter()
        .map(|e| format!("<li>{}</li>", escape(e.as_str())))
        .collect();
    let count = errors.fields.len();
    let fields = match count {
        0 => String::new(),
        1 => "<p>1 field needs a change.</p>".to_owned(),
        n => format!("<p>{n} fields need a change.</p>"),
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
fn form_fields(prefix: &str, view: &FormView<'_>) -> String {
    view.form
        .fields
        .iter()
        .map(|field| form_field(prefix, view, field))
        .collect()
}

/// The most characters a string field may allow and still be a one-line
/// input; longer ones get a text area.
const ONE_LINE_CHARS: u64 = 200;

fn form_field(prefix: &str, view: &FormView<'_>, field: &Field) -> String {
    let id = format!("{prefix}-{}", field.name);
    let name = escape(&field.name);
    let title = escape(field.title.as_deref().unwrap_or(&field.name));
    let optional = if field.required || field.kind == FieldKind::Boolean {
        ""
    } else {
        " <span class=\"note\">(optional)</span>"
    };
    let help = field.description.as_deref().map_or_else(String::new, |d| {
        format!("<p class=\"note help\" id=\"{id}-help\">{}</p>", escape(d))
    });
    let error = view.errors.and_then(|e| e.of(&field.name));
    let error_line = error.map_or_else(String::new, |m| {
        format!("<p class=\"error\" id=\"{id}-error\">{}</p>", escape(m))
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
                "<option value=\"\"{}>Choose…</option>",
                if value.is_none() { " selected" } else { "" }
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
    /// The signed-in person may not: why, in their terms.
    MayNot(String),
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
    /// Step Functions just said the task is open.
    pub open: bool,
    /// The description every choice shares, if they share one.
    pub description: Option<&'a str>,
    /// RFC 3339 expiry, if any.
    pub expires: Option<String>,
    /// Who is signed in.
    pub who: Option<&'a str>,
    /// Where to sign in, when a choice needs it.
    pub login_href: Option<String>,
    /// The choices, in the request's order.
    pub choices: Vec<ChoiceView<'a>>,
}

/// The review page: every choice as its own form, each posting only its
/// own action; nothing acts on opening it.
pub fn review_page(review: &ReviewView<'_>) -> String {
    let (badge, lead) = before_acting(review.open, true);
    let description = review.description.map_or_else(String::new, |d| {
        format!("<div class=\"desc\">{}</div>", escape(d))
    });
    let who = signed_in_as(review.who);
    let login = review.login_href.as_deref().map_or_else(String::new, |href| {
        format!(
            "<p>Some choices are for named approvers.</p><p><a class=\"button\" href=\"{}\">Sign in to continue</a></p>",
            escape(href)
        )
    });
    let choices: String = review
        .choices
        .iter()
        .enumerate()
        .map(|(i, choice)| choice_section(i, choice))
        .collect();
    let expires = review.expires.as_deref().map_or_else(String::new, |e| {
        format!("<dl><dt>Link expires</dt><dd>{}</dd></dl>", escape(e))
    });
    page(
        Tone::Neutral,
        badge,
        "Review and decide",
        &format!("<p>{lead}</p>{description}{expires}{who}{login}{choices}"),
    )
}

fn choice_section(i: usize, choice: &ChoiceView<'_>) -> String {
    let shown = choice.label.unwrap_or(choice.name);
    let description = choice.description.map_or_else(String::new, |d| {
        format!("<div class=\"desc\">{}</div>", escape(d))
    });
    let body = match choice.standing {
        ChoiceStanding::May => {
            let fields = choice
                .form
                .as_ref()
                .map_or_else(String::new, |form| form_fields(&format!("c{i}"), form));
            let comment = choice.comment.map_or_else(String::new, |rule| {
                comment_box(&format!("comment-{i}"), rule, None)
            });
            let button = button_text(choice.label, choice.kind, choice.name);
            format!(
                "<form method=\"post\" action=\"{}\">{fields}{comment}<button type=\"submit\">{button}</button></form>",
                escape(&choice.form_action)
            )
        }
        ChoiceStanding::SignInFirst => {
            "<p class=\"note\">Only named approvers can choose this: sign in first.</p>".to_owned()
        }
        ChoiceStanding::MayNot(ref why) => format!("<p class=\"note\">{}</p>", escape(why)),
    };
    format!(
        "<section class=\"choice\" aria-labelledby=\"choice-{i}\"><h2 id=\"choice-{i}\">{}</h2>{description}<p class=\"note\">Action {} ({})</p>{body}</section>",
        escape(shown),
        escape(choice.name),
        escape(choice.kind),
    )
}

/// A button's text (escaped): the label, else what it does.
fn button_text(label: Option<&str>, kind: &str, name: &str) -> String {
    match (label, kind) {
        (Some(label), _) => escape(label),
        (None, "heartbeat") => "Send a heartbeat".to_owned(),
        (None, _) => format!("Confirm: {}", escape(name)),
    }
}

/// Who is signed in, when someone is.
fn signed_in_as(who: Option<&str>) -> String {
    who.map_or_else(String::new, |who| {
        format!(
            "<p class=\"who\">Signed in as <strong>{}</strong></p>",
            escape(who)
        )
    })
}

/// A labelled comment box, holding `text` when a form is shown again.
fn comment_box(id: &str, rule: CommentRule, text: Option<&str>) -> String {
    format!(
        "<label for=\"{id}\">Comment{} <span class=\"note\">(up to {} characters)</span></label><textarea id=\"{id}\" name=\"comment\" rows=\"4\" maxlength=\"{max}\"{required}>{text}</textarea>",
        if rule.required { "" } else { " (optional)" },
        rule.max_chars,
        max = rule.max_chars,
        required = if rule.required { " required" } else { "" },
        text = escape(text.unwrap_or_default()),
    )
}

/// The page a link bound to approvers shows to nobody signed in: what is
/// asked, and a link to sign in (`auth/login` with this link's query,
/// relative, so it works under a stage path too).
pub fn sign_in_page(pending: &Pending<'_>, login_href: &str) -> String {
    let shown = pending.label.unwrap_or(pending.name);
    let description = pending.description.map_or_else(String::new, |d| {
        format!("<div class=\"desc\">{}</div>", escape(d))
    });
    let still = if pending.open {
        " It is still waiting for an answer."
    } else {
        ""
    };
    page(
        Tone::Neutral,
        "Sign-in needed",
        &format!("Confirm: {shown}"),
        &format!(
            "<p>This request is for named approvers. Sign in to see who you are signed in as, then confirm.{still}</p>{description}<dl><dt>Action</dt><dd>{name}</dd><dt>Type</dt><dd>{kind}</dd>{expires}</dl><p><a class=\"button\" href=\"{href}\">Sign in to continue</a></p>",
            name = escape(pending.name),
            kind = escape(pending.kind),
            expires = expiry_row(pending.expires.as_deref()),
            href = escape(login_href),
        ),
    )
}

/// The page for a POST-action URL opened in a browser.
pub fn post_only_page(name: &str) -> String {
    page(
        Tone::Neutral,
        "For systems",
        "This link is for systems",
        &format!(
            "<p>The action <strong>{}</strong> is answered by a program that sends a POST with a JSON body to this URL. Opening it in a browser does nothing.</p>",
            escape(name)
        ),
    )
}

/// The default page after a successful callback.
pub fn accepted_page(
    name: &str,
    label: Option<&str>,
    kind: &str,
    comment: Option<&str>,
    transaction_id: &str,
) -> String {
    let comment = comment.map_or_else(String::new, |c| {
        format!(
            "<p>Your comment:</p><div class=\"desc\">{}</div>",
            escape(c)
        )
    });
    page(
        Tone::Good,
        "Done",
        "Response accepted!",
        &format!(
            "<p>Your response <strong>{}</strong> was recorded. You can close this page.</p>{comment}<dl><dt>Action</dt><dd>{}</dd><dt>Type</dt><dd>{}</dd></dl><p class=\"note\">Transaction {}</p>",
            escape(label.unwrap_or(name)),
            escape(name),
            escape(kind),
            escape(transaction_id)
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
    /// The link expired.
    Expired,
    /// The link is cut short, altered, or not ours.
    InvalidLink,
    /// A service was unavailable; the link still works.
    Busy,
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

/// The page for any error: a title that says what happened in plain words,
/// the message, and the error name and status for whoever has to look
/// into it.
pub fn error_page(which: &ErrorPage, code: ErrorCode, message: &str, status: u16) -> String {
    let (tone, badge, title, advice) = match which {
        ErrorPage::ForSystems(action) => return post_only_page(action),
        ErrorPage::AlreadyAnswered => (
            Tone::Warning,
            "Already answered",
            "This request was already answered",
            "Someone already responded, or the task finished or timed out. Nothing was changed.",
        ),
        ErrorPage::Expired => (
            Tone::Warning,
            "Expired",
            "This link has expired",
            "Ask whoever sent it for a new one. Nothing was changed.",
        ),
        ErrorPage::InvalidLink => (
            Tone::Bad,
            "Invalid link",
            "This link is not valid",
            "It may have been cut short or changed on the way. Open the original message and use the whole link. Nothing was changed.",
        ),
        ErrorPage::Busy => (
            Tone::Warning,
            "Busy",
            "Please try again in a moment",
            "The service could not reach AWS just now. Your link still works: go back and press the button again.",
        ),
        ErrorPage::BadComment => (
            Tone::Bad,
            "Not sent",
            "Please check your comment",
            "Go back, change the comment and send it again. Nothing was changed.",
        ),
        ErrorPage::NotAnApprover(_) => (
            Tone::Bad,
            "Not allowed",
            "You cannot answer this request",
            "This link is for named approvers, and the person signed in may not answer it. Nothing was changed.",
        ),
        ErrorPage::SignInRequired => (
            Tone::Warning,
            "Sign-in needed",
            "Please sign in first",
            "This link is for named approvers. Open it again to sign in. Nothing was changed.",
        ),
        ErrorPage::SignInFailed => (
            Tone::Bad,
            "Not signed in",
            "Sign-in did not complete",
            "Nothing was changed. Open the link from the original message again to retry.",
        ),
        ErrorPage::Rejected => (
            Tone::Bad,
            "Not sent",
            "Response rejected",
            "Nothing was changed.",
        ),
    };
    let sign_out = match which {
        ErrorPage::NotAnApprover(Some(href)) => format!(
            "<form method=\"post\" action=\"{}\"><button type=\"submit\">Sign out and use another account</button></form>",
            escape(href)
        ),
        _ => String::new(),
    };
    page(
        tone,
        badge,
        title,
        &format!(
            "<p>{}</p>{sign_out}<p class=\"note\">Details: {} ({}, {status})</p>",
            escape(advice),
            escape(message),
            code.as_str(),
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
        let accepted = accepted_page("go", Some("<b>Go</b>"), "success", Some("<i>ok</i>"), "t");
        assert!(accepted.contains("&lt;b&gt;Go&lt;/b&gt;") && !accepted.contains("<b>Go"));
        assert!(accepted.contains("&lt;i&gt;ok&lt;/i&gt;") && !accepted.contains("<i>"));
        let error = error_page(
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
}
