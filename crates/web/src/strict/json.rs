//! Refuses JSON bodies in which an object repeats a key. serde (and poem-openapi through
//! `serde_json::Value`) would keep the last value silently; here the whole request is a
//! `duplicate-field` problem (security.md item 15, parameter pollution), on `/v1` (by
//! [`guard`]) and on the admin API (its guard buffers the body and calls
//! [`has_duplicate_keys`]).

use std::fmt;

use poem::{Body, Endpoint, IntoResponse, Request, Response, Result};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::problem::{Code, Problem};

/// Whether `body` is JSON whose objects never repeat a key (`None`: not JSON at all, left
/// to the schema check).
pub fn has_duplicate_keys(body: &[u8]) -> Option<bool> {
    let mut de = serde_json::Deserializer::from_slice(body);
    // `end` refuses trailing data, so "not JSON" means what serde_json itself would say.
    match Unique.deserialize(&mut de).and_then(|()| de.end()) {
        Ok(()) => Some(false),
        Err(err) if err.to_string().starts_with(DUPLICATE) => Some(true),
        Err(_) => None,
    }
}

const DUPLICATE: &str = "duplicate key";

/// Wraps the API: reads JSON bodies (bounded), refuses repeated keys, passes the rest on.
pub async fn guard<E: Endpoint>(limit: usize, next: E, mut req: Request) -> Result<Response> {
    if is_json(&req) {
        let body = req.take_body();
        let Ok(bytes) = body.into_bytes_limit(limit).await else {
            return Ok(Problem::new(Code::TooLarge).into_response());
        };
        if has_duplicate_keys(&bytes) == Some(true) {
            return Ok(Problem::new(Code::DuplicateField).into_response());
        }
        req.set_body(Body::from(bytes));
    }
    next.call(req).await.map(IntoResponse::into_response)
}

/// Whether the request declares a JSON body (`application/json`, `…+json`).
pub fn is_json(req: &Request) -> bool {
    req.content_type().is_some_and(|c| {
        c.split(';')
            .next()
            .is_some_and(|m| m.trim().ends_with("json"))
    })
}

/// Visits any JSON value and fails on a repeated object key.
struct Unique;

impl<'de> DeserializeSeed<'de> for Unique {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(Unique)
    }
}

impl<'de> Visitor<'de> for Unique {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Unique)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key) {
                return Err(de::Error::custom(DUPLICATE));
            }
            map.next_value_seed(Unique)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::has_duplicate_keys;

    #[test]
    fn repeated_keys_are_found_at_any_depth() {
        assert_eq!(
            has_duplicate_keys(br#"{"email":"a@x.io","email":"b@y.io"}"#),
            Some(true)
        );
        assert_eq!(has_duplicate_keys(br#"{"a":[{"b":1,"b":2}]}"#), Some(true));
        assert_eq!(
            has_duplicate_keys(br#"{"email":"a@x.io","client_id":"c"}"#),
            Some(false)
        );
        assert_eq!(has_duplicate_keys(b"{nope"), None);
    }

    #[test]
    fn a_value_followed_by_more_text_is_not_json() {
        // Found by the json_decoder fuzz target: only the first value used to be read.
        assert_eq!(has_duplicate_keys(br#"{"a":1} trailing"#), None);
        assert_eq!(has_duplicate_keys(br#"{"a":1} {"b":2}"#), None);
        assert_eq!(has_duplicate_keys(b"{\"a\":1}\n "), Some(false));
    }
}
