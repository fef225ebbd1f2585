//! The JSON Schema of the tenant YAML, generated from the raw structs so it cannot disagree
//! with the parser. `passgate schema` prints it; `docs/tenant.schema.json` is a committed
//! copy (a test keeps the two equal).

use crate::raw::RawTenant;

/// The JSON Schema (draft-07, the dialect YAML editors support best) of a tenant document.
pub fn json_schema() -> serde_json::Value {
    let schema = schemars::generate::SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<RawTenant>();
    schema.to_value()
}

/// [`json_schema`], pretty-printed with a trailing newline: the exact bytes of
/// `docs/tenant.schema.json`.
pub fn json_schema_string() -> String {
    let mut text = serde_json::to_string_pretty(&json_schema()).unwrap_or_default();
    text.push('\n');
    text
}
