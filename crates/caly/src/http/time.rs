//! Times as the API shows them: RFC 3339 in UTC.

/// µs since the Unix epoch as RFC 3339 (`2026-11-27T10:00:00Z`).
pub fn rfc3339(micros: i64) -> String {
    jiff::Timestamp::from_microsecond(micros).map(|t| t.to_string()).unwrap_or_default()
}

/// The tenant's time zone, UTC if its stored name is unknown to this build.
pub fn zone(name: &str) -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get(name).unwrap_or(jiff::tz::TimeZone::UTC)
}

/// The time zone of `tenant_id`, in which people's dates and charts' days are read.
pub async fn tenant_zone(store: &caly_store::Store, tenant_id: &str) -> Result<jiff::tz::TimeZone, super::ApiError> {
    let tenant = store.tenant(tenant_id).await?.ok_or(super::ApiError::NotFound("Tenant"))?;
    Ok(zone(&tenant.timezone))
}
