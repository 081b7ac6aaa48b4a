//! RFC 9457 problem details.
//!
//! Handlers and layers return a [`Problem`] as a response *extension* with an empty body; the
//! edge service, which knows the request id and path, serialises it with [`render`]. Error
//! responses that some other layer produced without a problem (axum's 405, a 413 from a body
//! limit) are given one there too, so every error leaves in the same shape.

use axum::{
    body::Body,
    http::{HeaderName, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;

use crate::RequestId;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// Path of the field in the request, e.g. `address.pin_code` or `query.limit`.
    pub field: String,
    /// Stable machine code, e.g. `required`, `too_long`, `invalid_type`.
    pub code: String,
    /// Human readable explanation.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), code: code.into(), message: message.into() }
    }
}

/// An error on its way to the client.
#[derive(Debug, Clone)]
pub struct Problem {
    pub status: StatusCode,
    /// Stable machine code; also the last segment of the `type` URI.
    pub code: &'static str,
    pub title: &'static str,
    pub detail: String,
    pub errors: Vec<FieldError>,
    /// Extra headers such as `Retry-After` or `WWW-Authenticate`.
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        Self { status, code, title, detail: detail.into(), errors: Vec::new(), headers: Vec::new() }
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// The problem for an error status that reached the edge without one.
    pub fn for_status(status: StatusCode) -> Self {
        let (code, title, detail) = match status {
            StatusCode::NOT_FOUND => ("not_found", "Not Found", "No resource matches this path."),
            StatusCode::METHOD_NOT_ALLOWED => {
                ("method_not_allowed", "Method Not Allowed", "This path does not accept this method.")
            }
            StatusCode::PAYLOAD_TOO_LARGE => {
                ("payload_too_large", "Payload Too Large", "The request body is larger than this route accepts.")
            }
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                ("malformed_request", "Bad Request", "The request's content type is not supported here.")
            }
            StatusCode::REQUEST_TIMEOUT => ("timeout", "Request Timeout", "The request took too long."),
            s if s.is_client_error() => ("malformed_request", "Bad Request", "The request could not be understood."),
            _ => ("internal", "Internal Server Error", "An unexpected error occurred."),
        };
        Self::new(status, code, title, detail)
    }

    /// Body as the client sees it, given the request's path and id.
    fn body(self, instance: String, request_id: String) -> ProblemBody {
        ProblemBody {
            type_uri: format!("urn:caly:problem:{}", self.code),
            title: self.title.to_owned(),
            status: self.status.as_u16(),
            detail: self.detail,
            instance,
            code: self.code.to_owned(),
            request_id,
            errors: self.errors,
        }
    }
}

/// An error response body (RFC 9457).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProblemBody {
    /// `urn:caly:problem:{code}`
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The request path.
    pub instance: String,
    /// Stable machine code such as `validation` or `not_found`.
    pub code: String,
    /// Also sent as `X-Request-Id`; quote it when reporting a problem.
    pub request_id: String,
    /// Present for `validation`: every invalid field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

/// Serialises a response's [`Problem`], or gives an error response that has none (axum's 405,
/// an empty 404) one, so every error leaves in the same shape.
pub fn render(response: Response, instance: &str, request_id: &RequestId) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let mut problem = match parts.extensions.remove::<Problem>() {
        Some(problem) => problem,
        None if is_json(&parts.headers) => return Response::from_parts(parts, body),
        None => Problem::for_status(status),
    };
    parts.status = problem.status;
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    for (name, value) in problem.headers.drain(..) {
        parts.headers.insert(name, value);
    }
    let body = problem.body(instance.to_owned(), request_id.as_str().to_owned());
    let body = serde_json::to_vec(&body).expect("a problem always serialises");
    Response::from_parts(parts, Body::from(body))
}

/// Error bodies that are already JSON (a problem, or `application/health+json`) are left alone.
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
        let essence = v.split(';').next().unwrap_or_default().trim();
        essence.starts_with("application/") && essence.ends_with("json")
    })
}
