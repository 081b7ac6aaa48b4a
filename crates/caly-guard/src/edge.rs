//! The outermost service: request id → client IP → scheme (HTTPS redirect) → request log (span,
//! one line, metrics callback) → security headers and HSTS → problem rendering → panic catching,
//! around the whole router.
//!
//! One [`Step`] instead of a stack of `from_fn` layers because every such layer boxes the inner
//! service and its future per request; here a request costs one allocation for the whole
//! envelope. The steps stay in their own modules.

use std::{any::Any, net::SocketAddr, panic::AssertUnwindSafe, sync::Arc};

use axum::{
    extract::{ConnectInfo, Request},
    response::Response,
};
use futures::{FutureExt, future::BoxFuture};
use tower::{Layer, Service};
use tracing::Instrument;

use crate::{
    around::{Around, Step},
    client_ip::TrustedProxies,
    problem, request_id, request_log,
    security_headers::SecurityHeaders,
    transport,
};

/// Turns a panic's payload into the response to send.
pub type OnPanic = dyn Fn(Box<dyn Any + Send>) -> Response + Send + Sync;

#[derive(Clone)]
pub struct EdgeLayer {
    pub log: request_log::RequestLog,
    pub security_headers: SecurityHeaders,
    pub trusted_proxies: TrustedProxies,
    pub https: transport::HttpsPolicy,
    pub on_panic: Arc<OnPanic>,
}

/// The edge around a service; its settings are behind an `Arc` because every request takes a
/// copy.
pub type Edge<S> = Around<S, Arc<EdgeLayer>>;

impl<S> Layer<S> for EdgeLayer {
    type Service = Edge<S>;

    fn layer(&self, inner: S) -> Edge<S> {
        Around::new(inner, Arc::new(self.clone()))
    }
}

impl<S> Step<S> for Arc<EdgeLayer>
where
    S: Service<Request, Response = Response, Error = std::convert::Infallible> + Send + 'static,
    S::Future: Send,
{
    fn run(&self, mut request: Request, mut inner: S) -> BoxFuture<'static, Response> {
        let config = self.clone();
        Box::pin(async move {
            let id = request_id::assign(&mut request);
            let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(peer)| peer.ip());
            if let Some(peer) = peer {
                let ip = config.trusted_proxies.resolve(peer, request.headers());
                request.extensions_mut().insert(ip);
            }
            let trusted_peer = peer.is_some_and(|peer| config.trusted_proxies.contains(peer));
            let tls = request.extensions().get::<transport::Tls>().is_some();
            let https = transport::is_https(tls, trusted_peer, request.headers());
            let entry = request_log::Entry::begin(&mut request, &id, config.log.log_headers);
            let uri = request.uri().clone();
            let span = entry.span.clone();
            let target = uri.path_and_query().map_or(uri.path(), |target| target.as_str());
            let response = match config.https.redirect(https, request.headers(), target) {
                Some(redirect) => redirect,
                None => {
                    let outcome = AssertUnwindSafe(inner.call(request)).catch_unwind().instrument(span.clone()).await;
                    match outcome {
                        Ok(Ok(response)) => response,
                        Err(panic) => span.in_scope(|| (config.on_panic)(panic)),
                    }
                }
            };
            let mut response = span.in_scope(|| problem::render(response, uri.path(), &id));
            config.security_headers.apply(response.headers_mut());
            transport::add_hsts(https, response.headers_mut());
            request_id::echo(&mut response, id);
            entry.finish(&response, &config.log);
            response
        })
    }
}
