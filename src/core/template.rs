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

/// Expands one string.
pub fn expand_str(template: &str, params: &Params) -> Result<String, Rejection> {
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
        out.push_str(value);
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
    fn expands_keys_and_nested_values() {
        let value = json!({"$who": ["$action", {"n": "${n_1}"}, 3, null]});
        assert_eq!(
            expand_value(&value, &params()).expect("expands"),
            json!({"alice": ["approve", {"n": "7"}, 3, null]})
        );
    }
}
