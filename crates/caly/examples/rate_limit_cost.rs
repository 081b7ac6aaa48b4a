//! Cost of one rate-limit decision, in memory and through Redis (`benches/rate_limit.sh`).
//! Usage: rate_limit_cost [redis-url]

use std::time::{Duration, Instant};

use caly::{config::Config, metrics::Metrics, rate_limits::RateLimits, redis_link::RedisLink, server};
use caly_engines::connections::ConnectionCaps;

async fn measure(limits: &RateLimits, decisions: u32, keys: u32) -> Duration {
    let started = Instant::now();
    for n in 0..decisions {
        let key = format!("203.0.113.{}", n % keys);
        std::hint::black_box(limits.public.check(&key).await);
    }
    started.elapsed() / decisions
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let config = Config { data_dir: dir.path().to_owned(), ..Config::default() };
    let caps = ConnectionCaps::new(config.speech.max_connections_per_call, config.speech.max_connections_per_tenant);
    let metrics = Metrics::new(server::open_store(&config).await?, std::sync::Arc::new(caps));
    let memory = RateLimits::new(&config.policies, None, metrics.clone());
    measure(&memory, 100_000, 10_000).await;
    println!(
        "memory: {:?} per decision (1,000,000 decisions over 10,000 keys)",
        measure(&memory, 1_000_000, 10_000).await
    );

    if let Some(url) = std::env::args().nth(1) {
        let prefix = format!("caly-bench-{}:", std::process::id());
        let redis = RateLimits::new(&config.policies, Some((RedisLink::new(&url)?, prefix)), metrics.clone());
        measure(&redis, 1_000, 100).await;
        println!(
            "redis: {:?} per decision, one at a time (20,000 decisions over 1,000 keys)",
            measure(&redis, 20_000, 1_000).await
        );
        let started = Instant::now();
        let redis = std::sync::Arc::new(redis);
        let tasks: Vec<_> = (0..32)
            .map(|task| {
                let redis = redis.clone();
                tokio::spawn(async move {
                    for n in 0..2_000 {
                        std::hint::black_box(
                            redis.public.check(&format!("198.51.100.{}", (task * 2_000 + n) % 1_000)).await,
                        );
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await?;
        }
        let rate = 64_000.0 / started.elapsed().as_secs_f64();
        println!("redis: {rate:.0} decisions/s with 32 concurrent callers on one multiplexed connection");
    }
    Ok(())
}
