//! A service that runs an async [`Step`] around the service it wraps, for hand-written guard
//! layers. axum's `from_fn` would do the same but also box the rest of the stack for every
//! request; here a request costs the step's one boxed future.

use std::{
    convert::Infallible,
    task::{Context, Poll},
};

use axum::{extract::Request, response::Response};
use futures::{
    FutureExt,
    future::{BoxFuture, Map},
};
use tower::Service;

/// What a layer does with a request: `inner` is the wrapped service, ready to be called.
pub trait Step<S>: Clone {
    fn run(&self, request: Request, inner: S) -> BoxFuture<'static, Response>;
}

#[derive(Clone)]
pub struct Around<S, T> {
    inner: S,
    step: T,
}

impl<S, T> Around<S, T> {
    pub fn new(inner: S, step: T) -> Self {
        Self { inner, step }
    }
}

impl<S, T> Service<Request> for Around<S, T>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone,
    T: Step<S>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Map<BoxFuture<'static, Response>, fn(Response) -> Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        // The instance that was polled ready serves this request; a fresh clone takes its place.
        let fresh = self.inner.clone();
        let ready = std::mem::replace(&mut self.inner, fresh);
        self.step.run(request, ready).map(Ok)
    }
}
