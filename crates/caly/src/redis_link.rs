//! A Redis connection that heals: dropped after any error and re-opened on next use.

use std::{
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

    /// A `PING` round trip, bounded by a timeout; returns its duration.
    pub async fn ping(&self) -> Result<Duration, String> {
        let started = Instant::now();
        let result = tokio::time::timeout(TIMEOUT, async {
            let mut connection = self.connection().await?;
            redis::cmd("PING").query_async::<String>(&mut connection).await
        })
        .await;
        match result {
            Ok(Ok(_)) => Ok(started.elapsed()),
            Ok(Err(e)) => {
                self.connection.lock().await.take();
                Err(e.to_string())
            }
            Err(_) => {
                self.connection.lock().await.take();
                Err(format!("no answer within {TIMEOUT:?}"))
            }
        }
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
