//! The accept loop. Written out (instead of `axum::serve`) because shutdown needs a hard
//! deadline: connections still busy when it passes are aborted rather than left running.

use std::{net::SocketAddr, time::Duration};

use std::convert::Infallible;

use axum::{body::Body, extract::ConnectInfo, extract::Request, response::Response};
use caly_guard::transport::Tls;
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioExecutor, TokioIo},
    server::{conn::auto::Builder, graceful::GracefulShutdown},
    service::TowerToHyperService,
};
use tokio::{net::TcpListener, task::JoinSet};
use tokio_rustls::TlsAcceptor;
use tower::{Service, ServiceExt};

use crate::lifecycle::Lifecycle;

/// How long to wait before accepting again after `accept` failed (e.g. out of file descriptors).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// A client that has not finished the TLS handshake by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `app` (over TLS when `tls` is given) until shutdown is requested: then waits
/// `drain_delay` (readiness already fails), stops accepting, lets in-flight requests finish for
/// up to `shutdown_timeout`, and aborts whatever is left.
pub async fn serve<S>(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    app: S,
    lifecycle: &Lifecycle,
    drain_delay: Duration,
    shutdown_timeout: Duration,
) where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + Sync + 'static,
    S::Future: Send,
{
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    let builder = Builder::new(TokioExecutor::new());
    let stop_accepting = async {
        lifecycle.shutdown_requested().await;
        tracing::info!(?drain_delay, "shutdown requested; readiness now fails");
        tokio::time::sleep(drain_delay).await;
    };
    tokio::pin!(stop_accepting);

    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            () = &mut stop_accepting => break,
        };
        // Media streams send a small message every 20 ms: Nagle's algorithm would hold one back
        // until the previous is acknowledged, up to the peer's delayed-ACK time (40 ms).
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "TCP_NODELAY not set");
        }
        while connections.try_join_next().is_some() {}
        let app = app.clone();
        let secure = tls.is_some();
        let service = TowerToHyperService::new(tower::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            if secure {
                request.extensions_mut().insert(Tls);
            }
            app.clone().oneshot(request.map(Body::new))
        }));
        let (builder, watcher, tls) = (builder.clone(), graceful.watcher(), tls.clone());
        connections.spawn(async move {
            let served = match tls {
                None => {
                    watcher
                        .watch(builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned())
                        .await
                }
                Some(acceptor) => match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(stream)) => {
                        let connection =
                            builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned();
                        watcher.watch(connection).await
                    }
                    Ok(Err(error)) => return tracing::debug!(%peer, %error, "TLS handshake failed"),
                    Err(_) => return tracing::debug!(%peer, "TLS handshake timed out"),
                },
            };
            if let Err(error) = served {
                tracing::debug!(%peer, error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tracing::info!(open = connections.len(), "listener closed; finishing in-flight requests");
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections finished"),
        () = tokio::time::sleep(shutdown_timeout) => {
            tracing::warn!(?shutdown_timeout, open = connections.len(), "shutdown deadline passed; aborting connections");
        }
    }
    connections.shutdown().await;
}
