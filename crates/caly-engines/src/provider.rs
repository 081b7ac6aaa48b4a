//! What every provider client shares: one error type, an HTTP request retried once with
//! jitter when the failure says a retry may help, and a circuit breaker per provider so a dead
//! service is skipped at once instead of costing every turn its timeout.

use std::{sync::Mutex, time::Duration};

use tokio::time::Instant;

#[derive(Debug, Clone, thiserror::Error)]
pub enum ProviderError {
    #[error("no answer in time")]
    Timeout,
    #[error("the service failed: {0}")]
    Unavailable(String),
    #[error("the answer could not be used: {0}")]
    Unusable(String),
    #[error("skipped: its circuit breaker is open")]
    BreakerOpen,
}

const ATTEMPTS: u32 = 2;

/// `request` with the key as a bearer token, when there is one (local servers need none).
pub fn bearer(request: reqwest::RequestBuilder, key: Option<&String>) -> reqwest::RequestBuilder {
    match key {
        Some(key) => request.bearer_auth(key),
        None => request,
    }
}

/// A provider's WebSocket, opened within `timeout`, with no Nagle delay and a 16 KiB read
/// buffer (tungstenite zeroes the whole buffer before every read; its default is 128 KiB).
pub async fn connect_websocket(
    request: tokio_tungstenite::tungstenite::handshake::client::Request,
    timeout: Duration,
    what: &str,
) -> Result<tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>, ProviderError>
{
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default().read_buffer_size(16 * 1024);
    let connecting = tokio_tungstenite::connect_async_with_config(request, Some(config), true);
    match tokio::time::timeout(timeout, connecting).await {
        Ok(Ok((socket, _))) => Ok(socket),
        Ok(Err(error)) => Err(ProviderError::Unavailable(format!("{what} failed: {error}"))),
        Err(_) => Err(ProviderError::Timeout),
    }
}

/// Sends the request `build` makes, once more after a connection failure, 429 or 5xx (all
/// safe to repeat: these requests change nothing), after 100–200 ms.
pub async fn send(build: impl Fn() -> reqwest::RequestBuilder, what: &str) -> Result<reqwest::Response, ProviderError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let failure = match build().send().await {
            Ok(response) if response.status().is_success() => return Ok(response),
            Ok(response) if response.status().as_u16() == 429 || response.status().is_server_error() => {
                format!("answered {}", response.status())
            }
            Ok(response) => return Err(ProviderError::Unavailable(format!("answered {}", response.status()))),
            Err(error) if error.is_timeout() => return Err(ProviderError::Timeout),
            Err(error) => error.to_string(),
        };
        if attempt >= ATTEMPTS {
            return Err(ProviderError::Unavailable(failure));
        }
        let pause = 100 + rand::random_range(0..100);
        tracing::warn!(attempt, "{what} {failure}; retrying in {pause} ms");
        tokio::time::sleep(Duration::from_millis(pause)).await;
    }
}

/// Opens after `threshold` failures in a row and lets one request through per `cool_down`
/// to find out whether the service is back.
#[derive(Debug)]
pub struct Breaker {
    threshold: u32,
    cool_down: Duration,
    state: Mutex<BreakerState>,
}

#[derive(Debug, Default)]
struct BreakerState {
    failures: u32,
    open_until: Option<Instant>,
}

impl Default for Breaker {
    /// Three failures in a row; a trial every 30 s.
    fn default() -> Self {
        Self::new(3, Duration::from_secs(30))
    }
}

impl Breaker {
    pub fn new(threshold: u32, cool_down: Duration) -> Self {
        Self { threshold, cool_down, state: Mutex::default() }
    }

    /// Whether a request may go now; an open breaker lets one trial through per cool-down.
    pub fn allows(&self) -> bool {
        let mut state = self.state.lock().expect("breaker lock");
        match state.open_until {
            Some(until) if Instant::now() < until => false,
            Some(_) => {
                state.open_until = Some(Instant::now() + self.cool_down);
                true
            }
            None => true,
        }
    }

    pub fn record<T>(&self, result: &Result<T, ProviderError>) {
        let mut state = self.state.lock().expect("breaker lock");
        match result {
            Ok(_) => *state = BreakerState::default(),
            Err(ProviderError::BreakerOpen) => {}
            Err(_) => {
                state.failures += 1;
                if state.failures >= self.threshold {
                    state.open_until = Some(Instant::now() + self.cool_down);
                }
            }
        }
    }

    pub fn is_open(&self) -> bool {
        self.state.lock().expect("breaker lock").open_until.is_some_and(|until| Instant::now() < until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn opens_after_failures_in_a_row_and_tries_again_after_the_cool_down() {
        let breaker = Breaker::new(2, Duration::from_secs(10));
        let failed: Result<(), _> = Err(ProviderError::Timeout);
        breaker.record(&failed);
        assert!(breaker.allows());
        breaker.record(&Ok(()));
        breaker.record(&failed);
        assert!(breaker.allows(), "a success reset the count");
        breaker.record(&failed);
        assert!(!breaker.allows());
        tokio::time::advance(Duration::from_secs(10)).await;
        assert!(breaker.allows(), "one trial after the cool-down");
        assert!(!breaker.allows(), "and only one");
        breaker.record(&Ok(()));
        assert!(breaker.allows() && !breaker.is_open());
    }
}
