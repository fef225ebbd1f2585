//! A JSON answer serialized once and served as bytes many times, documented in OpenAPI as
//! the type it was made from: the policy document is the same for every caller of one
//! configuration version, app and locale, so only the first one pays for building it.

use std::marker::PhantomData;

use bytes::Bytes;
use poem::{IntoResponse, Response, http::header};
use poem_openapi::{
    payload::Payload,
    registry::{MetaSchemaRef, Registry},
    types::{ToJSON, Type},
};

/// The JSON of a `T`, already serialized.
pub struct SerializedJson<T> {
    bytes: Bytes,
    schema: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for SerializedJson<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SerializedJson")
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

impl<T> Clone for SerializedJson<T> {
    fn clone(&self) -> Self {
        Self {
            bytes: self.bytes.clone(),
            schema: PhantomData,
        }
    }
}

impl<T: ToJSON> SerializedJson<T> {
    /// Serializes `value` exactly as poem-openapi's `Json<T>` would.
    pub fn new(value: &T) -> Self {
        let json = value.to_json().unwrap_or_default();
        Self {
            // A `serde_json::Value` always serializes.
            bytes: Bytes::from(serde_json::to_vec(&json).unwrap_or_default()),
            schema: PhantomData,
        }
    }
}

impl<T: Type> Payload for SerializedJson<T> {
    const CONTENT_TYPE: &'static str = "application/json; charset=utf-8";

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Type> IntoResponse for SerializedJson<T> {
    fn into_response(self) -> Response {
        Response::builder()
            .header(header::CONTENT_TYPE, <Self as Payload>::CONTENT_TYPE)
            .body(self.bytes)
    }
}
