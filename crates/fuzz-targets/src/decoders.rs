//! `form_decoder` and `json_decoder`: the two request-body decoders that refuse repeated
//! fields (security.md item 15), checked against the plain parsers they guard.

use passgate_web::api::resets::{CompleteReset, CreateReset};
use passgate_web::form::{Form, FormError};
use passgate_web::strict::json::has_duplicate_keys;
use poem_openapi::types::ParseFromJSON;
use serde_json::Value;

const FORM: Option<&str> = Some("application/x-www-form-urlencoded; charset=utf-8");

/// Decodes `data` as a page form body and as a query string. A form is accepted exactly when
/// no name repeats, every field then reads back as `url`'s decoder gives it, a refusal names
/// a field that does repeat, and a body under another content type is never a form.
pub fn form_decoder(data: &[u8]) {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(data)
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    let verdict = Form::parse(FORM, data);
    match &verdict {
        Ok(form) => {
            for (name, value) in &pairs {
                assert_eq!(form.get(name), Some(value.as_str()), "field {name:?}");
            }
        }
        Err(FormError::Duplicate(name)) => {
            let times = pairs.iter().filter(|(n, _)| n == name).count();
            assert!(
                times >= 2,
                "{name:?} refused as repeated but appears {times} time(s)"
            );
        }
        Err(FormError::NotAForm) => panic!("a form body was not a form"),
    }
    if let Ok(query) = std::str::from_utf8(data) {
        let same = match (Form::from_query(Some(query)), &verdict) {
            (Ok(_), Ok(_)) => true,
            (Err(a), Err(b)) => a == *b,
            _ => false,
        };
        assert!(same, "query and form verdicts differ");
    }
    assert_eq!(
        Form::parse(Some("application/json"), data).err(),
        Some(FormError::NotAForm)
    );
}

/// Runs `data` through the `/v1` duplicate-key guard, then (when it lets the body through)
/// the request DTOs. The guard never refuses JSON without a repeated key, and it calls a
/// body JSON whenever serde_json can parse it.
pub fn json_decoder(data: &[u8]) {
    let duplicates = has_duplicate_keys(data);
    let value = serde_json::from_slice::<Value>(data);
    if value.is_ok() {
        assert!(duplicates.is_some(), "valid JSON reported as not JSON");
    }
    if duplicates == Some(false) {
        assert!(value.is_ok(), "not JSON, yet reported free of duplicates");
    }
    let Ok(value) = value else { return };
    if duplicates != Some(false) {
        return;
    }
    if let Ok(body) = CreateReset::parse_from_json(Some(value.clone())) {
        let fields = value.as_object();
        let sent = fields
            .and_then(|f| f.get("client_id"))
            .and_then(Value::as_str);
        assert_eq!(sent, Some(body.client_id.as_str()));
        assert!(!body.client_id.is_empty());
    }
    if let Ok(body) = CompleteReset::parse_from_json(Some(value.clone())) {
        let fields = value.as_object();
        let sent = fields
            .and_then(|f| f.get("password"))
            .and_then(Value::as_str);
        // Byte for byte: never trimmed or normalised.
        assert_eq!(sent, Some(body.password.as_str()));
    }
}
