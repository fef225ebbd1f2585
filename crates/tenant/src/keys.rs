//! Unknown keys, all at once. serde stops at the first unknown key; this pass walks every
//! key of the document against the JSON Schema (generated from the same structs, so the
//! two agree) and reports each key the schema does not allow, with a suggestion when a
//! known key is close. Values (wrong types, unknown enum values) are left to serde.

use std::sync::OnceLock;

use serde_json::Value;

use crate::{
    error::{Problem, Severity},
    positions::{PositionIndex, Segment, index, key},
    suggest,
};

/// One problem per key the schema does not allow, in document order.
pub(crate) fn unknown_keys(positions: &PositionIndex) -> Vec<Problem> {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    let root = SCHEMA.get_or_init(crate::json_schema);
    let mut problems = Vec::new();
    for (at, segments) in &positions.key_uses {
        let Some((Segment::Key(name), parents)) = segments.split_last() else {
            continue;
        };
        // `<<` merge keys are refused by the parser with their own message.
        if name == "<<" {
            continue;
        }
        let Some(parent) = resolve(root, parents) else {
            continue;
        };
        let Some(allowed) = object(root, parent) else {
            continue;
        };
        let properties = allowed.get("properties").and_then(Value::as_object);
        let known = properties.is_some_and(|p| p.contains_key(name));
        let open = allowed
            .get("additionalProperties")
            .is_some_and(|a| !matches!(a, Value::Bool(false)));
        if known || open {
            continue;
        }
        let expected: Vec<&str> = properties
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let mut message = format!(
            "unknown key `{name}`, expected one of {}",
            expected.join(", ")
        );
        if let Some(close) = suggest::closest(name, expected.iter().copied()) {
            message.push_str(&format!(" (did you mean `{close}`?)"));
        }
        problems.push(Problem {
            path: render(segments),
            line: at.line,
            column: at.column,
            message,
            severity: Severity::Error,
        });
    }
    problems
}

/// The schema of the node at `segments`, or `None` where the document has left the schema
/// (under an unknown key, or a list where a mapping belongs: serde reports those).
fn resolve<'a>(root: &'a Value, segments: &[Segment]) -> Option<&'a Value> {
    let mut node = root;
    for segment in segments {
        match segment {
            Segment::Key(name) => {
                let map = object(root, node)?;
                node = match map.get("properties").and_then(|p| p.get(name)) {
                    Some(child) => child,
                    None => map.get("additionalProperties").filter(|a| a.is_object())?,
                };
            }
            Segment::Index(_) => node = array(root, node)?.get("items")?,
        }
    }
    Some(node)
}

/// `node` as an object schema, following `$ref` and the `anyOf [T, null]` of optional keys.
fn object<'a>(root: &'a Value, node: &'a Value) -> Option<&'a Value> {
    shape(root, node, "object")
}

/// `node` as an array schema.
fn array<'a>(root: &'a Value, node: &'a Value) -> Option<&'a Value> {
    shape(root, node, "array")
}

fn shape<'a>(root: &'a Value, node: &'a Value, kind: &str) -> Option<&'a Value> {
    let mut node = node;
    // Bounded: the schema's own references are shallow.
    for _ in 0..8 {
        if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
            let name = reference.strip_prefix("#/definitions/")?;
            node = root.get("definitions")?.get(name)?;
            continue;
        }
        if let Some(options) = node.get("anyOf").and_then(Value::as_array) {
            node = options
                .iter()
                .find(|o| o.get("type").and_then(Value::as_str) != Some("null"))?;
            continue;
        }
        let is_kind = node.get("type").and_then(Value::as_str) == Some(kind)
            || (kind == "object" && node.get("properties").is_some());
        return is_kind.then_some(node);
    }
    None
}

fn render(segments: &[Segment]) -> String {
    segments
        .iter()
        .fold(String::new(), |path, segment| match segment {
            Segment::Key(name) => key(&path, name),
            Segment::Index(i) => index(&path, *i),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unknown(yaml: &str) -> Vec<(String, usize, usize)> {
        unknown_keys(&PositionIndex::build(yaml))
            .into_iter()
            .map(|p| (p.path, p.line, p.column))
            .collect()
    }

    #[test]
    fn every_unknown_key_is_found_at_every_level() {
        let yaml = "id: a\ncolour: red\nbranding:\n  primary_colour: \"#fff\"\npassword_policy:\n  regex_rules:\n    - name: x\n      patern: y\n  script: { source: s, examples: [{ password: p, expected: [] }] }\nmessages:\n  fr: { any.key: ok }\n";
        assert_eq!(
            unknown(yaml),
            [
                ("colour".to_owned(), 2, 1),
                ("branding.primary_colour".to_owned(), 4, 3),
                ("password_policy.regex_rules[0].patern".to_owned(), 8, 7),
                (
                    "password_policy.script.examples[0].expected".to_owned(),
                    9,
                    50
                ),
            ]
        );
    }

    #[test]
    fn the_example_tenants_have_no_unknown_keys() {
        for text in [
            include_str!("../../../tenants/acme-shop.yaml"),
            include_str!("../../../tenants/fitlife.yaml"),
            include_str!("../../../tenants/northbank.yaml"),
        ] {
            assert_eq!(unknown(text), []);
        }
    }

    #[test]
    fn suggestions_name_the_closest_key() {
        let problems = unknown_keys(&PositionIndex::build("id: a\ndisplay_nam: A\n"));
        assert!(
            problems[0]
                .message
                .ends_with("(did you mean `display_name`?)"),
            "{problems:?}"
        );
    }
}
