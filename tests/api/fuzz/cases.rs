//! A case (a key, a content type, a body, and whether it must be refused), and GraphQL
//! documents and request bodies written out.

use serde_json::Value;

use super::world::Key;

const ENUM_FIELDS: [&str; 7] = [
    "period",
    "role",
    "state",
    "kind",
    "states",
    "granularity",
    "attribution",
];

/// A JSON value written as a GraphQL literal (enum values bare).
pub(super) fn literal(v: &Value, field: Option<&str>) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.starts_with("@@raw:") => s.trim_start_matches("@@raw:").trim_end_matches("@@").into(),
        Value::String(s)
            if field.is_some_and(|f| ENUM_FIELDS.contains(&f))
                && !s.is_empty()
                && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !s.starts_with(|c: char| c.is_ascii_digit()) =>
        {
            s.clone()
        }
        Value::String(s) => {
            let mut out = String::from("\"");
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                    c => out.push(c),
                }
            }
            out.push('"');
            out
        }
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(|x| literal(x, field)).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(o) => format!(
            "{{{}}}",
            o.iter()
                .map(|(k, x)| format!("{k}: {}", literal(x, Some(k))))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A request body as JSON text, with `raw` numbers written out.
pub(super) fn body_text(body: &Value) -> String {
    let text = serde_json::to_string(body).unwrap();
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find("\"@@raw:") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 7..];
        let end = after.find("@@\"").unwrap();
        out.push_str(&after[..end]);
        rest = &after[end + 3..];
    }
    out.push_str(rest);
    out
}

#[derive(Clone, Debug)]
pub(super) enum Body {
    Text(String),
    Bytes(Vec<u8>),
    /// `size` bytes of JSON: a request whose variable is padding.
    Huge(usize),
}

#[derive(Clone, Debug)]
pub(super) struct Case {
    pub(super) key: Key,
    pub(super) content_type: Option<&'static str>,
    pub(super) body: Body,
    /// A mutation invalid by construction or by the key's role: it must be refused.
    pub(super) must_refuse: bool,
}

pub(super) fn json_case(key: &Key, body: String, must_refuse: bool) -> Case {
    Case {
        key: key.clone(),
        content_type: Some("application/json"),
        body: Body::Text(body),
        must_refuse,
    }
}
