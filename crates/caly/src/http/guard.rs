//! The routed part of the guard stack as one layer: request limits, then (on API routes) the
//! attack detector, then the body limit, around each route.
//!
//! One hand-written service rather than a `from_fn` layer per step: axum wraps every route
//! once per `Router::layer` and copies that wrapper for each request, and `from_fn` boxes its
//! future and the rest of the stack again; as three layers they cost about 4,000 instructions
//! more a request (`callgrind`, BENCHMARKS.md).

use std::{
    convert::Infallible,
    sync::Arc,
    task::{Context, Poll},
};

use axum::{
    extract::{DefaultBodyLimit, Request},
    response::Response,
};
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
    type Service = Guard<<DefaultBodyLimit as Layer<S>>::Service>;

    fn layer(&self, inner: S) -> Self::Service {
        let inner = DefaultBodyLimit::max(self.limits.body_bytes).layer(inner);
        Guard { inner, layer: self.clone() }
    }
}

#[derive(Clone)]
pub struct Guard<S> {
    inner: S,
    layer: GuardLayer,
}

impl<S> Service<Request> for Guard<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        // The instance that was polled ready serves this request; a fresh clone takes its place.
        let fresh = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, fresh);
        let GuardLayer { limits, detector } = self.layer.clone();
        Box::pin(async move {
            let serve = |request| async move {
                let Ok(response) = inner.call(request).await;
                response
            };
            let response = super::limits::enforce(&limits, request, |request| async move {
                match &detector {
                    Some(state) => attack::inspect(state, request, serve).await,
                    None => serve(request).await,
                }
            })
            .await;
            Ok(response)
        })
    }
}
