//! A Redis connection that heals: dropped after any error and re-opened on next use.

use std::{
    future::Future,
    sync::Arc,
    time::{Duration, Instant},
};

use redis::aio::MultiplexedConnection;
use tokio::sync::Mutex;

const TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Clone)]
pub struct RedisLink {
    client: redis::Client,
    connection: Arc<Mutex<Option<MultiplexedConnection>>>,
}

impl RedisLink {
    pub fn new(url: &str) -> redis::RedisResult<Self> {
        Ok(Self { client: redis::Client::open(url)?, connection: Arc::default() })
    }

    /// A `PING` round trip; returns its duration.
    pub async fn ping(&self) -> Result<Duration, String> {
        let started = Instant::now();
        self.run(|mut connection| async move { redis::cmd("PING").query_async::<String>(&mut connection).await })
            .await
            .map(|_| started.elapsed())
    }

    /// Runs `work` on the shared connection within a timeout. On any failure the connection is
    /// dropped, so the next call connects afresh.
    pub async fn run<T, F, Fut>(&self, work: F) -> Result<T, String>
    where
        F: FnOnce(MultiplexedConnection) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let result = tokio::time::timeout(TIMEOUT, async {
            let connection = self.connection().await?;
            work(connection).await
        })
        .await;
        let error = match result {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!("no answer within {TIMEOUT:?}"),
        };
        self.connection.lock().await.take();
        Err(error)
    }

    async fn connection(&self) -> redis::RedisResult<MultiplexedConnection> {
        let mut slot = self.connection.lock().await;
        if let Some(connection) = slot.as_ref() {
            return Ok(connection.clone());
        }
        let connection = self.client.get_multiplexed_async_connection().await?;
        *slot = Some(connection.clone());
        Ok(connection)
    }
}
