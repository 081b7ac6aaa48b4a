//! Recording retention: recordings of calls older than their tenant's `recording.retention_days`
//! are deleted from the recordings store and unlinked from their calls, hourly.

use std::time::Duration;

use object_store::{ObjectStoreExt, path::Path as ObjectPath};

use crate::{auth::now_micros, lifecycle::Phase, state::AppState};

const SWEEP_EVERY: Duration = Duration::from_secs(3_600);
const BATCH: i64 = 200;
const MICROS_PER_DAY: i64 = 86_400 * 1_000_000;

pub async fn run(state: AppState) {
    loop {
        // Until the migrations are applied the calls table may not be there.
        if state.lifecycle.phase() == Phase::Ready
            && let Err(error) = sweep(&state, now_micros()).await
        {
            tracing::warn!(error = %format!("{error:#}"), "deleting expired recordings failed; will retry");
        }
        tokio::select! {
            () = tokio::time::sleep(SWEEP_EVERY) => {}
            () = state.lifecycle.shutdown_requested() => return,
        }
    }
}

/// Deletes every recording past its tenant's retention at `now`; returns how many.
pub async fn sweep(state: &AppState, now: i64) -> anyhow::Result<u64> {
    let mut deleted = 0;
    for tenant_id in state.store.tenants_with_recordings().await? {
        let settings = crate::commerce::settings_of(state, &tenant_id).await?;
        let before = now - i64::from(settings.recording.retention_days) * MICROS_PER_DAY;
        loop {
            let expired = state.store.recordings_before(&tenant_id, before, BATCH).await?;
            for (call_id, key) in &expired {
                match state.recordings.objects().delete(&ObjectPath::from(key.as_str())).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                    Err(error) => return Err(error.into()),
                }
                state.store.set_recording(&tenant_id, call_id, None, now).await?;
                deleted += 1;
            }
            if (expired.len() as i64) < BATCH {
                break;
            }
        }
    }
    if deleted > 0 {
        tracing::info!(deleted, "expired recordings deleted");
    }
    Ok(deleted)
}
