//! The documentation cannot drift from the code: the tenant configuration reference names
//! every key of the tenant JSON Schema, and the docs index links every document. (The
//! server configuration reference is checked against the config keys by a unit test in
//! `src/config/tests.rs`.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;

fn docs() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs")
}

/// Every property name anywhere in the schema (top level, nested objects, `$defs`).
fn property_names(schema: &Value, names: &mut BTreeSet<String>) {
    match schema {
        Value::Object(map) => {
            if let Some(Value::Object(props)) = map.get("properties") {
                names.extend(props.keys().cloned());
            }
            for value in map.values() {
                property_names(value, names);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| property_names(v, names)),
        _ => {}
    }
}

#[test]
fn the_config_reference_documents_every_tenant_key() {
    let reference = std::fs::read_to_string(docs().join("config-reference.md")).unwrap();
    let mut names = BTreeSet::new();
    property_names(&passgate_tenant::json_schema(), &mut names);
    assert!(
        names.len() > 20,
        "the schema walk found the keys: {names:?}"
    );
    let missing: Vec<&String> = names
        .iter()
        .filter(|name| {
            !reference.contains(&format!("`{name}`")) && !reference.contains(&format!("`{name}:"))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "docs/config-reference.md does not document: {missing:?}"
    );
}

#[test]
fn the_docs_index_links_every_document() {
    let index = std::fs::read_to_string(docs().join("README.md")).unwrap();
    let mut unlinked = Vec::new();
    for entry in std::fs::read_dir(docs()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let is_doc = name.ends_with(".md") || name.ends_with(".json");
        if is_doc && name != "README.md" && !index.contains(&format!("]({name})")) {
            unlinked.push(name);
        }
    }
    assert!(
        unlinked.is_empty(),
        "docs/README.md does not link: {unlinked:?}"
    );
}

#[test]
fn the_project_readme_links_into_docs() {
    let readme = std::fs::read_to_string(docs().join("../README.md")).unwrap();
    for doc in [
        "docs/README.md",
        "docs/operations.md",
        "docs/server-config.md",
        "docs/admin-api.md",
        "docs/config-reference.md",
    ] {
        assert!(
            readme.contains(&format!("]({doc}")),
            "README.md does not link {doc}"
        );
    }
}
