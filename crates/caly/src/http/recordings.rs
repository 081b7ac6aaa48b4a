//! `GET /api/v1/calls/{id}/recording`: a call's recording, streamed from the object store with
//! byte ranges (players seek), to supervisors and above; every download is audited.

use axum::{
    body::Body,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::Response,
};
use caly_core::permission::Permission;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, path::Path as ObjectPath};

use super::{access::Access, audit::AuditContext, error::ApiError, extract::PathId};
use crate::state::AppState;

/// A `Range` header we honour: one range of bytes. Anything else (several ranges, other units)
/// is ignored, as RFC 9110 allows, and the whole recording is sent.
fn range(headers: &HeaderMap) -> Option<GetRange> {
    let spec = headers.get(header::RANGE)?.to_str().ok()?.strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (first, last) = spec.split_once('-')?;
    match (first.parse::<u64>().ok(), last.parse::<u64>().ok()) {
        (Some(first), Some(last)) if first <= last => Some(GetRange::Bounded(first..last + 1)),
        (Some(first), None) if last.is_empty() => Some(GetRange::Offset(first)),
        (None, Some(suffix)) if first.is_empty() && suffix > 0 => Some(GetRange::Suffix(suffix)),
        _ => None,
    }
}

/// Streams the call's recording (WAV: caller left, agent right).
#[utoipa::path(get, path = "/api/v1/calls/{id}/recording", operation_id = "get_recording", tag = "calls",
    params(("id" = String, Path, description = "The call's id"),
           ("Range" = Option<String>, Header, description = "One byte range, e.g. `bytes=0-1023`")),
    security(("bearer" = [])), responses(
    (status = 200, description = "The whole recording", content_type = "audio/wav"),
    (status = 206, description = "The range asked for, with `Content-Range`", content_type = "audio/wav"),
    (status = 403, description = "Supervisors and above only", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json"),
    (status = 404, description = "No such call in this tenant, or it has no recording", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json"),
    (status = 416, description = "The range lies beyond the recording", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn download(
    State(state): State<AppState>,
    access: Access,
    audit: AuditContext,
    PathId(id): PathId,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    access.require(Permission::ListenRecordings)?;
    let tenant = &access.tenant_id;
    let call = state.store.call(tenant, &id).await?.ok_or(ApiError::NotFound("Call"))?;
    let key = call.recording_key.ok_or(ApiError::NotFound("Recording"))?;
    let location = ObjectPath::from(key.as_str());
    let size = match state.recordings.objects().head(&location).await {
        Ok(meta) => meta.size,
        Err(object_store::Error::NotFound { .. }) => return Err(ApiError::NotFound("Recording")),
        Err(error) => return Err(ApiError::internal(error)),
    };
    let wanted = range(&headers);
    let satisfiable = match &wanted {
        Some(GetRange::Bounded(bytes)) => bytes.start < size,
        Some(GetRange::Offset(first)) => *first < size,
        _ => true,
    };
    if !satisfiable {
        return Err(ApiError::RangeNotSatisfiable { size });
    }
    let options = GetOptions { range: wanted.clone(), ..GetOptions::default() };
    let object = state.recordings.objects().get_opts(&location, options).await.map_err(ApiError::internal)?;
    let sent = object.range.clone();
    let details =
        serde_json::json!({ "bytes": format!("{}-{}", sent.start, sent.end.saturating_sub(1)), "size": size });
    audit.record(&state.store, tenant, access.actor(), "recording.downloaded", Some(&id), "success", details).await?;
    let partial = wanted.is_some();
    let mut response = Response::new(Body::from_stream(object.into_stream()));
    *response.status_mut() = if partial { StatusCode::PARTIAL_CONTENT } else { StatusCode::OK };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("audio/wav"));
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(sent.end - sent.start));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    if partial {
        let content_range = format!("bytes {}-{}/{size}", sent.start, sent.end - 1);
        headers.insert(header::CONTENT_RANGE, HeaderValue::from_str(&content_range).map_err(ApiError::internal)?);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(value: &str) -> Option<GetRange> {
        let mut headers = HeaderMap::new();
        headers.insert(header::RANGE, HeaderValue::from_str(value).unwrap());
        range(&headers)
    }

    #[test]
    fn one_byte_range_is_read_and_anything_else_means_everything() {
        assert_eq!(asked("bytes=0-43"), Some(GetRange::Bounded(0..44)));
        assert_eq!(asked("bytes=100-"), Some(GetRange::Offset(100)));
        assert_eq!(asked("bytes=-500"), Some(GetRange::Suffix(500)));
        for ignored in ["bytes=0-1,5-9", "bytes=9-3", "items=0-1", "bytes=-0", "bytes=x-y"] {
            assert_eq!(asked(ignored), None, "{ignored}");
        }
    }
}
