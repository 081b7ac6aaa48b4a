//! Caps on connections to the speech and language providers: a call holds a few at a time and
//! a tenant a configured number across all its calls, so one store's rush cannot take every
//! connection the provider accounts allow, nor one runaway call many.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, Weak,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The caps, and what they refused, for the whole server.
#[derive(Debug)]
pub struct ConnectionCaps {
    per_call: usize,
    per_tenant: usize,
    /// Each tenant's semaphore lives as long as one of its calls does.
    tenants: Mutex<HashMap<String, Weak<Semaphore>>>,
    refused_by_call: AtomicU64,
    refused_by_tenant: AtomicU64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Exhausted {
    #[error("the call's provider connections are all in use")]
    Call,
    #[error("the tenant's provider connections are all in use")]
    Tenant,
}

impl ConnectionCaps {
    pub fn new(per_call: usize, per_tenant: usize) -> Self {
        Self {
            per_call,
            per_tenant,
            tenants: Mutex::default(),
            refused_by_call: AtomicU64::new(0),
            refused_by_tenant: AtomicU64::new(0),
        }
    }

    /// The connections of a new call of `tenant`.
    pub fn for_call(self: &Arc<Self>, tenant: &str) -> CallConnections {
        let mut tenants = self.tenants.lock().expect("tenants lock");
        let shared = match tenants.get(tenant).and_then(Weak::upgrade) {
            Some(shared) => shared,
            None => {
                tenants.retain(|_, semaphore| semaphore.strong_count() > 0);
                let shared = Arc::new(Semaphore::new(self.per_tenant));
                tenants.insert(tenant.to_owned(), Arc::downgrade(&shared));
                shared
            }
        };
        CallConnections { call: Arc::new(Semaphore::new(self.per_call)), tenant: shared, caps: self.clone() }
    }

    /// Connections refused because the call, or its tenant, had none left.
    pub fn refused(&self) -> (u64, u64) {
        (self.refused_by_call.load(Ordering::Relaxed), self.refused_by_tenant.load(Ordering::Relaxed))
    }

    fn count(&self, exhausted: Exhausted) -> Exhausted {
        let counter = match exhausted {
            Exhausted::Call => &self.refused_by_call,
            Exhausted::Tenant => &self.refused_by_tenant,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        exhausted
    }
}

/// One call's share of the caps.
#[derive(Debug, Clone)]
pub struct CallConnections {
    call: Arc<Semaphore>,
    tenant: Arc<Semaphore>,
    caps: Arc<ConnectionCaps>,
}

/// Room for one provider connection, given back when dropped.
#[derive(Debug)]
pub struct Slot {
    _call: OwnedSemaphorePermit,
    _tenant: OwnedSemaphorePermit,
}

impl CallConnections {
    /// A slot now, if the call and its tenant both have room.
    pub fn try_take(&self) -> Result<Slot, Exhausted> {
        let call = self.call.clone().try_acquire_owned().map_err(|_| self.caps.count(Exhausted::Call))?;
        let tenant = self.tenant.clone().try_acquire_owned().map_err(|_| self.caps.count(Exhausted::Tenant))?;
        Ok(Slot { _call: call, _tenant: tenant })
    }

    /// A slot within `wait`. The call's cap is taken first, always: a task that holds a
    /// tenant's slot never waits for anything else, so no two tasks wait on each other.
    pub async fn take(&self, wait: Duration) -> Result<Slot, Exhausted> {
        let deadline = tokio::time::Instant::now() + wait;
        let call = tokio::time::timeout_at(deadline, self.call.clone().acquire_owned())
            .await
            .map_err(|_| self.caps.count(Exhausted::Call))?
            .expect("the call's semaphore is never closed");
        let tenant = tokio::time::timeout_at(deadline, self.tenant.clone().acquire_owned())
            .await
            .map_err(|_| self.caps.count(Exhausted::Tenant))?
            .expect("a tenant's semaphore is never closed");
        Ok(Slot { _call: call, _tenant: tenant })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_call_and_a_tenant_hold_no_more_than_their_caps() {
        let caps = Arc::new(ConnectionCaps::new(2, 3));
        let (first, second) = (caps.for_call("asha-store"), caps.for_call("asha-store"));
        let held = [first.try_take().unwrap(), first.try_take().unwrap()];
        assert_eq!(first.try_take().unwrap_err(), Exhausted::Call);
        let third = second.try_take().unwrap();
        assert_eq!(second.try_take().unwrap_err(), Exhausted::Tenant, "the tenant's third slot is taken");
        assert!(caps.for_call("another-store").try_take().is_ok(), "other tenants have their own");
        assert_eq!(caps.refused(), (1, 1));
        drop(held);
        assert!(second.try_take().is_ok(), "slots come back when dropped");
        drop(third);
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_ends_with_a_slot_given_back_or_with_its_deadline() {
        let caps = Arc::new(ConnectionCaps::new(1, 1));
        let (first, second) = (caps.for_call("asha-store"), caps.for_call("asha-store"));
        let held = first.try_take().unwrap();
        let waiting = tokio::spawn(async move { second.take(Duration::from_secs(1)).await.map(drop) });
        tokio::time::sleep(Duration::from_millis(300)).await;
        drop(held);
        assert_eq!(waiting.await.unwrap(), Ok(()));
        let held = first.try_take().unwrap();
        let started = tokio::time::Instant::now();
        assert_eq!(first.take(Duration::from_secs(1)).await.unwrap_err(), Exhausted::Call);
        assert_eq!(started.elapsed(), Duration::from_secs(1));
        drop(held);
    }

    #[test]
    fn a_tenant_without_calls_is_forgotten() {
        let caps = Arc::new(ConnectionCaps::new(1, 1));
        drop(caps.for_call("asha-store"));
        let _other = caps.for_call("another-store");
        assert_eq!(caps.tenants.lock().unwrap().len(), 1);
    }
}
