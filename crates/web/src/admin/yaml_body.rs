//! [`YamlText`]: a tenant document as a request or response body (`application/yaml`), kept
//! as text so comments and layout survive into versions and diffs. Parsing is the tenant
//! crate's job; this only checks the media type, the size and UTF-8.

use poem::http::header::CONTENT_TYPE;
use poem::http::{HeaderValue, StatusCode};
use poem::{IntoResponse, Request, RequestBody, Response};
use poem_openapi::payload::{ParsePayload, Payload};
use poem_openapi::registry::{
    MetaMediaType, MetaRequest, MetaResponse, MetaResponses, MetaSchema, MetaSchemaRef, Registry,
};
use poem_openapi::{ApiExtractor, ApiExtractorType, ApiResponse, ExtractParamOptions};

/// Largest YAML body read (the tenant crate rejects documents over 256 KiB with a positioned
/// problem; anything far beyond is refused before it is buffered).
pub const MAX_YAML_BODY: usize = 512 * 1024;

/// A YAML document body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlText(pub String);

/// Whether `content_type` is a YAML media type (`application/yaml`, the legacy
/// `application/x-yaml` and `text/yaml`), parameters such as `charset` ignored.
fn is_yaml(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    matches!(
        essence.as_str(),
        "application/yaml" | "application/x-yaml" | "text/yaml"
    )
}

impl Payload for YamlText {
    const CONTENT_TYPE: &'static str = "application/yaml";

    fn check_content_type(content_type: &str) -> bool {
        is_yaml(content_type)
    }

    /// Any YAML document: the tenant crate, not the schema, says what is valid (a `type:
    /// string` here would claim the document is one YAML string).
    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            description: Some("A tenant YAML document (see docs/config-reference.md)."),
            ..MetaSchema::ANY
        }))
    }
}

impl ParsePayload for YamlText {
    const IS_REQUIRED: bool = true;

    async fn from_request(_request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let bytes = body.take()?.into_bytes_limit(MAX_YAML_BODY).await?;
        let text = String::from_utf8(bytes.to_vec()).map_err(|_| {
            poem::Error::from_string("the YAML body is not UTF-8", StatusCode::BAD_REQUEST)
        })?;
        Ok(Self(text))
    }
}

impl<'a> ApiExtractor<'a> for YamlText {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];

    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        <Self as Payload>::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: Some("A tenant YAML document (see docs/config-reference.md)."),
            content: vec![MetaMediaType {
                content_type: Self::CONTENT_TYPE,
                schema: Self::schema_ref(),
            }],
            required: true,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        match request.content_type() {
            Some(content_type) if is_yaml(content_type) => {
                <Self as ParsePayload>::from_request(request, body).await
            }
            Some(content_type) => Err(poem_openapi::error::ContentTypeError::NotSupported {
                content_type: content_type.to_owned(),
            }
            .into()),
            None => Err(poem_openapi::error::ContentTypeError::ExpectContentType.into()),
        }
    }
}

impl IntoResponse for YamlText {
    fn into_response(self) -> Response {
        let mut response = self.0.into_response();
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/yaml; charset=utf-8"),
        );
        response
    }
}

impl ApiResponse for YamlText {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "A tenant YAML document.",
                status: Some(200),
                status_range: None,
                content: vec![MetaMediaType {
                    content_type: Self::CONTENT_TYPE,
                    schema: Self::schema_ref(),
                }],
                headers: vec![],
            }],
        }
    }

    fn register(_registry: &mut Registry) {}
}

#[cfg(test)]
mod tests {
    use super::is_yaml;

    #[test]
    fn yaml_media_types_with_parameters_are_accepted_and_others_refused() {
        assert!(is_yaml("application/yaml"));
        assert!(is_yaml("application/yaml; charset=utf-8"));
        assert!(is_yaml("Application/X-YAML"));
        assert!(is_yaml("text/yaml"));
        assert!(!is_yaml("application/json"));
        assert!(!is_yaml("text/plain"));
        assert!(!is_yaml("application/yamlx"));
    }
}
