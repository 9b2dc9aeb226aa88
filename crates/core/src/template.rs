//! Output parameters: `$name`, `${name}` and `$$`, as Python's
//! `string.Template.substitute` expands them, over query parameters.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::error::{ErrorCode, Rejection};

/// Query parameters by name (all but `data`).
pub type Params = HashMap<String, String>;

fn is_ident_start(c: u8) -> bool {
    c == b'_' || c.is_ascii_alphabetic()
}

fn is_ident(c: u8) -> bool {
    c == b'_' || c.is_ascii_alphanumeric()
}

fn formatting(message: String) -> Rejection {
    Rejection::new(ErrorCode::OutputFormatting, message)
}

/// How a parameter's value is written into the template. Query parameters
/// are not sealed (anyone holding a link can add them), so values are
/// escaped for where they land.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Embed {
    /// As is: JSON strings and plain text.
    Plain,
    /// HTML-escaped: the `html` response.
    Html,
    /// Percent-encoded: the `redirect` URL, so a value cannot change its host.
    UrlComponent,
}

/// Characters kept as they are in a URL component: RFC 3986 unreserved.
const URL_COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

impl Embed {
    fn write(self, out: &mut String, value: &str) {
        match self {
            Self::Plain => out.push_str(value),
            Self::Html => out.push_str(&escape_html(value)),
            Self::UrlComponent => {
                out.extend(percent_encoding::utf8_percent_encode(value, URL_COMPONENT));
            }
        }
    }
}

/// Escapes text for HTML element content and quoted attributes.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Expands one string, values as they are.
pub fn expand_str(template: &str, params: &Params) -> Result<String, Rejection> {
    expand_str_as(template, params, Embed::Plain)
}

/// Expands one string, writing values as `embed` says.
pub fn expand_str_as(template: &str, params: &Params, embed: Embed) -> Result<String, Rejection> {
    let bytes = template.as_bytes();
    let mut out = String::with_capacity(template.len());
    let mut i = 0;
    let mut literal_start = 0;
    while i < bytes.len() {
        if bytes[i] != b'$' {
            i += 1;
            continue;
        }
        out.push_str(&template[literal_start..i]);
        let rest = &bytes[i + 1..];
        let (name, consumed) = match rest.first() {
            Some(b'$') => {
                out.push('$');
                i += 2;
                literal_start = i;
                continue;
            }
            Some(b'{') => {
                let len = rest[1..].iter().take_while(|c| is_ident(**c)).count();
                let valid = len > 0 && is_ident_start(rest[1]) && rest.get(1 + len) == Some(&b'}');
                if !valid {
                    return Err(formatting(format!(
                        "invalid placeholder at character {i}: use $name, ${{name}} or $$"
                    )));
                }
                (&template[i + 2..i + 2 + len], len + 2)
            }
            Some(c) if is_ident_start(*c) => {
                let len = rest.iter().take_while(|c| is_ident(**c)).count();
                (&template[i + 1..i + 1 + len], len)
            }
            _ => {
                return Err(formatting(format!(
                    "invalid placeholder at character {i}: use $name, ${{name}} or $$"
                )));
            }
        };
        let value = params.get(name).ok_or_else(|| {
            formatting(format!(
                "the output uses ${name}, but the request has no query parameter {name:?}"
            ))
        })?;
        embed.write(&mut out, value);
        i += 1 + consumed;
        literal_start = i;
    }
    out.push_str(&template[literal_start..]);
    Ok(out)
}

/// Expands every string in a JSON value, object keys included.
pub fn expand_value(value: &Value, params: &Params) -> Result<Value, Rejection> {
    Ok(match value {
        Value::String(s) => Value::String(expand_str(s, params)?),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| expand_value(v, params))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (k, v) in map {
                out.insert(expand_str(k, params)?, expand_value(v, params)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params() -> Params {
        [("who", "alice"), ("action", "approve"), ("n_1", "7")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    fn check(template: &str, expected: Result<&str, ErrorCode>) {
        let got = expand_str(template, &params()).map_err(|e| e.code);
        assert_eq!(got.as_deref().map_err(|e| *e), expected, "{template}");
    }

    #[test]
    fn expands_like_python_string_template() {
        check("by $who", Ok("by alice"));
        check("by ${who}!", Ok("by alice!"));
        check("${who}s", Ok("alices"));
        check("$whos", Err(ErrorCode::OutputFormatting));
        check("cost: $$5", Ok("cost: $5"));
        check("$n_1-$action", Ok("7-approve"));
        check("no placeholders", Ok("no placeholders"));
        check("é $who é", Ok("é alice é"));
        check("$", Err(ErrorCode::OutputFormatting));
        check("$ who", Err(ErrorCode::OutputFormatting));
        check("${who", Err(ErrorCode::OutputFormatting));
        check("${1x}", Err(ErrorCode::OutputFormatting));
        check("$missing", Err(ErrorCode::OutputFormatting));
    }

    #[test]
    fn values_are_escaped_for_html_and_urls() {
        let mut p = params();
        p.insert("evil".into(), "<script>\"x\"&'/".into());
        p.insert("host".into(), ".attacker.example/x?y=1#z".into());
        assert_eq!(
            expand_str_as("<p>$evil</p>", &p, Embed::Html).expect("html"),
            "<p>&lt;script&gt;&quot;x&quot;&amp;&#39;/</p>"
        );
        assert_eq!(
            expand_str_as("https://example.com$host", &p, Embed::UrlComponent).expect("url"),
            "https://example.com.attacker.example%2Fx%3Fy%3D1%23z"
        );
        assert_eq!(
            expand_str_as("$$ $who", &p, Embed::Html).expect("plain"),
            "$ alice"
        );
    }

    #[test]
    fn expands_keys_and_nested_values() {
        let value = json!({"$who": ["$action", {"n": "${n_1}"}, 3, null]});
        assert_eq!(
            expand_value(&value, &params()).expect("expands"),
            json!({"alice": ["approve", {"n": "7"}, 3, null]})
        );
    }
}
