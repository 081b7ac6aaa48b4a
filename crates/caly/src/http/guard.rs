//! The routed part of the guard stack as one layer: request limits, then (on API routes) the
//! attack detector, then the body limit, around each route.
//!
//! One [`Step`] rather than a `from_fn` layer per step: axum wraps every route once per
//! `Router::layer` and copies that wrapper for each request, and `from_fn` boxes its future and
//! the rest of the stack again; as three layers they cost about 4,000 instructions more a request
//! (`callgrind`, BENCHMARKS.md).

use std::{convert::Infallible, sync::Arc};

use axum::{
    extract::{DefaultBodyLimit, Request},
    response::Response,
};
use caly_guard::around::{Around, Step};
use futures::future::BoxFuture;
use tower::{Layer, Service};

use super::{attack, limits::Limits};
use crate::state::AppState;

#[derive(Clone)]
pub struct GuardLayer {
    limits: Arc<Limits>,
    /// Present on routes that anyone may call; carrier routes prove their sender first.
    detector: Option<AppState>,
}

impl GuardLayer {
    /// Limits and the attack detector, for API routes.
    pub fn api(limits: Arc<Limits>, state: AppState) -> Self {
        Self { limits, detector: Some(state) }
    }

    /// Limits only, for carrier routes.
    pub fn carrier(limits: Arc<Limits>) -> Self {
        Self { limits, detector: None }
    }
}

impl<S> Layer<S> for GuardLayer {
    type Service = Around<<DefaultBodyLimit as Layer<S>>::Service, GuardLayer>;

    fn layer(&self, inner: S) -> Self::Service {
        Around::new(DefaultBodyLimit::max(self.limits.body_bytes).layer(inner), self.clone())
    }
}

impl<S> Step<S> for GuardLayer
where
    S: Service<Request, Response = Response, Error = Infallible> + Send + 'static,
    S::Future: Send,
{
    fn run(&self, request: Request, mut inner: S) -> BoxFuture<'static, Response> {
        let GuardLayer { limits, detector } = self.clone();
        Box::pin(async move {
            let serve = |request| async move {
                let Ok(response) = inner.call(request).await;
                response
            };
            super::limits::enforce(&limits, request, |request| async move {
                match &detector {
                    Some(state) => attack::inspect(state, request, serve).await,
                    None => serve(request).await,
                }
            })
            .await
        })
    }
}
