//! Extractors whose rejections are [`ApiError`]s, so that bad input leaves in the one error
//! format and names the field at fault.

use axum::{
    body::Bytes,
    extract::{FromRequest, Request},
    http::{HeaderMap, StatusCode, header},
};
use caly_guard::FieldError;
use serde::de::DeserializeOwned;

use super::{error::ApiError, limits::BodyLimit};

/// A JSON body: 400 for a wrong content type or broken JSON, 422 naming the field for JSON of
/// the wrong shape, 413 past the body limit.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(request.headers()) {
            return Err(ApiError::Malformed("Expected a body with Content-Type: application/json.".into()));
        }
        let limit = request.extensions().get::<BodyLimit>().map(|l| l.0);
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| match rejection {
            rejection if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::PayloadTooLarge { limit: limit.unwrap_or_default() }
            }
            other => ApiError::Malformed(format!("Could not read the request body: {}", other.body_text())),
        })?;
        parse_json(&bytes).map(Json)
    }
}

/// Query parameters; a bad one is a malformed request (400) that names it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> axum::extract::FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Query(value))
            .map_err(|rejection| ApiError::Malformed(rejection.body_text()))
    }
}

/// A JSON body that must also pass its `garde` rules; 422 lists every invalid field at once.
#[derive(Debug, Clone, Copy, Default)]
pub struct ValidJson<T>(pub T);

impl<T, S> FromRequest<S> for ValidJson<T>
where
    T: DeserializeOwned + garde::Validate<Context = ()>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let Json(value) = Json::<T>::from_request(request, state).await?;
        value.validate().map_err(|report| {
            ApiError::Validation(
                report
                    .iter()
                    .map(|(path, error)| FieldError::new(path.to_string(), "invalid", error.message()))
                    .collect(),
            )
        })?;
        Ok(Self(value))
    }
}

/// `application/json`, or any `application/…+json`, with or without parameters.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Deserialises JSON, telling syntax errors (400) from shape errors (422 with the field's path).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if inner.classify() != serde_json::error::Category::Data {
            return ApiError::Malformed(format!("The body is not valid JSON: {inner}"));
        }
        let message = inner.to_string();
        let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
        let field = match (message.strip_prefix("missing field `").and_then(|m| m.split('`').next()), path.as_str()) {
            (Some(missing), ".") => missing.to_owned(),
            (Some(missing), parent) => format!("{parent}.{missing}"),
            (None, ".") => "body".to_owned(),
            (None, _) => path,
        };
        ApiError::Validation(vec![FieldError::new(field, data_error_code(&message), message)])
    })?;
    deserializer.end().map_err(|e| ApiError::Malformed(format!("The body is not valid JSON: {e}")))?;
    Ok(value)
}

fn data_error_code(message: &str) -> &'static str {
    if message.starts_with("missing field") {
        "required"
    } else if message.starts_with("unknown field") {
        "unknown_field"
    } else if message.starts_with("invalid type") {
        "invalid_type"
    } else {
        "invalid"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Order {
        number: u32,
        address: Address,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Address {
        pin: String,
    }

    fn field_error(body: &str) -> FieldError {
        match parse_json::<Order>(body.as_bytes()) {
            Err(ApiError::Validation(mut errors)) => errors.remove(0),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn shape_errors_name_the_field() {
        let e = field_error(r#"{"number": "x", "address": {"pin": "1"}}"#);
        assert_eq!((e.field.as_str(), e.code.as_str()), ("number", "invalid_type"));
        let e = field_error(r#"{"number": 1, "address": {}}"#);
        assert_eq!((e.field.as_str(), e.code.as_str()), ("address.pin", "required"));
        let e = field_error(r#"{"address": {"pin": "1"}}"#);
        assert_eq!((e.field.as_str(), e.code.as_str()), ("number", "required"));
        let e = field_error(r#"{"number": 1, "address": {"pin": "1", "x": 1}}"#);
        assert_eq!((e.field.as_str(), e.code.as_str()), ("address.x", "unknown_field"));
    }

    #[test]
    fn syntax_errors_are_malformed() {
        for body in ["{", "", "{\"number\": 1,}", r#"{"number": 1, "address": {"pin": "1"}} trailing"#] {
            assert!(matches!(parse_json::<Order>(body.as_bytes()), Err(ApiError::Malformed(_))), "{body}");
        }
    }
}

/// The id of a resource in the path: a UUID (lower-case, hyphenated), else a malformed request.
#[derive(Debug, Clone)]
pub struct PathId(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Path(raw) = axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| ApiError::Malformed(rejection.body_text()))?;
        uuid(&raw).map(Self).map_err(|_| ApiError::Malformed("The id in the path must be a UUID.".into()))
    }
}

/// A resource id as stored: a UUID, lower-case and hyphenated, whichever way it was written.
pub fn uuid(text: &str) -> Result<String, caly_core::Invalid> {
    uuid::Uuid::parse_str(text)
        .map(|id| id.hyphenated().to_string())
        .map_err(|_| caly_core::Invalid::new("invalid_uuid", "must be a UUID"))
}
