//! One structured log line per request, inside a span that later layers enrich (tenant, user).

use std::{
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Instant,
};

use axum::{
    extract::{MatchedPath, Request},
    http::{HeaderValue, Method, StatusCode, Uri, header},
    response::Response,
};
use tower::{Layer, Service};
use tracing::field::Empty;

use crate::{ClientIp, RequestId, redact};

/// What a finished request reports to [`RequestLog::on_complete`], e.g. for metrics.
#[derive(Debug)]
pub struct Completed<'a> {
    pub method: &'a Method,
    /// The matched route template (`/calls/{id}`), or `unmatched`.
    pub route: &'a str,
    pub path: &'a str,
    pub status: StatusCode,
    pub latency: std::time::Duration,
    pub client_ip: Option<std::net::IpAddr>,
    /// The signed-in user, when the authentication layer named one.
    pub user: Option<&'a str>,
    /// The attack detector matched the request.
    pub attack: bool,
}

/// Who a request turned out to be from, filled in by the authentication layer so that the edge
/// can report it when the request completes (a span's fields cannot be read back).
#[derive(Debug, Clone, Default)]
pub struct Principal(Arc<std::sync::OnceLock<String>>);

impl Principal {
    pub fn set(&self, user: &str) {
        // The first authentication of a request wins; a second extractor names the same user.
        let _ = self.0.set(user.to_owned());
    }
}

/// Marks a response whose request the attack detector matched, for the edge to count.
#[derive(Debug, Clone, Copy)]
pub struct AttackFlagged;

type OnComplete = dyn Fn(&Completed<'_>) + Send + Sync;

/// Settings of the request log.
#[derive(Clone)]
pub struct RequestLog {
    /// Add the request headers (redacted) to every line; off by default for volume.
    pub log_headers: bool,
    pub on_complete: Arc<OnComplete>,
}

/// A request being served: its span, and what its log line needs at the end.
pub struct Entry {
    pub span: tracing::Span,
    started: Instant,
    method: Method,
    uri: Uri,
    user_agent: Option<HeaderValue>,
    headers: Option<String>,
    bytes_in: u64,
    client_ip: Option<std::net::IpAddr>,
    principal: Principal,
}

/// The route template the router matched, copied by the router into the response so that the
/// edge, which runs outside routing, can log and count by it.
#[derive(Debug, Clone)]
pub struct Route(pub MatchedPath);

impl Entry {
    /// Opens the request's span and gives the request a [`Principal`] slot. The route is not
    /// known yet: it goes on the closing line.
    pub fn begin(request: &mut Request, id: &RequestId, log_headers: bool) -> Self {
        let principal = Principal::default();
        request.extensions_mut().insert(principal.clone());
        let client_ip = request.extensions().get::<ClientIp>().map(|ip| ip.0);
        let span = tracing::info_span!(
            "request",
            request_id = id.as_str(),
            method = request.method().as_str(),
            client_ip = client_ip.map(tracing::field::display),
            tenant_id = Empty,
            user_id = Empty,
        );
        Self {
            span,
            started: Instant::now(),
            method: request.method().clone(),
            uri: request.uri().clone(),
            user_agent: request.headers().get(header::USER_AGENT).cloned(),
            headers: log_headers.then(|| redact::headers(request.headers())),
            bytes_in: content_length(request.headers()).unwrap_or(0),
            client_ip,
            principal,
        }
    }

    /// Writes the request's one log line and reports it to [`RequestLog::on_complete`].
    pub fn finish(self, response: &Response, log: &RequestLog) {
        let latency = self.started.elapsed();
        let route = response.extensions().get::<Route>().map_or("unmatched", |r| r.0.as_str());
        let status = response.status();
        let bytes_out = content_length(response.headers())
            .or_else(|| http_body::Body::size_hint(response.body()).exact())
            .unwrap_or(0);
        tracing::info!(
            parent: &self.span,
            route,
            status = status.as_u16(),
            latency_us = latency.as_micros() as u64,
            bytes_in = self.bytes_in,
            bytes_out,
            query = self.uri.query().map(redact::query).as_deref(),
            user_agent = self.user_agent.as_ref().and_then(|v| v.to_str().ok()),
            headers = self.headers,
            "request completed"
        );
        (log.on_complete)(&Completed {
            method: &self.method,
            route,
            path: self.uri.path(),
            status,
            latency,
            client_ip: self.client_ip,
            user: self.principal.0.get().map(String::as_str),
            attack: response.extensions().get::<AttackFlagged>().is_some(),
        });
    }
}

/// Layer for the router: copies the matched route template into the response. A plain service
/// rather than `from_fn`, which would box a future for every request.
#[derive(Debug, Clone, Copy)]
pub struct ExposeRouteLayer;

impl<S> Layer<S> for ExposeRouteLayer {
    type Service = ExposeRoute<S>;

    fn layer(&self, inner: S) -> ExposeRoute<S> {
        ExposeRoute(inner)
    }
}

#[derive(Debug, Clone)]
pub struct ExposeRoute<S>(S);

impl<S> Service<Request> for ExposeRoute<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = RouteExposed<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let route = request.extensions().get::<MatchedPath>().cloned();
        RouteExposed { inner: self.0.call(request), route }
    }
}

pin_project_lite::pin_project! {
    /// The inner service's response, with the route template added.
    pub struct RouteExposed<F> {
        #[pin]
        inner: F,
        route: Option<MatchedPath>,
    }
}

impl<F, E> Future for RouteExposed<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = std::task::ready!(this.inner.poll(cx))?;
        if let Some(route) = this.route.take() {
            response.extensions_mut().insert(Route(route));
        }
        Poll::Ready(Ok(response))
    }
}

fn content_length(headers: &axum::http::HeaderMap) -> Option<u64> {
    headers.get(header::CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}
