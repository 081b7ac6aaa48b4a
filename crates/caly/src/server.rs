//! Start-up, serving and graceful shutdown.

use std::{net::SocketAddr, sync::Arc, time::Instant};

use anyhow::Context;
use axum::Router;
use caly_guard::anomaly::AnomalyDetector;
use caly_store::{PoolSettings, Store};
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_rustls::TlsAcceptor;

use crate::{
    auth::{self, PasswordHasher, TokenKeys},
    call::recording_store::RecordingStore,
    config::{Config, Switch},
    http,
    http::attack::AttackGuard,
    lifecycle::Lifecycle,
    listener,
    metrics::Metrics,
    rate_limits::{self, RateLimits},
    redis_link::RedisLink,
    state::{AppState, Shared},
    tls,
};

/// A server that is listening; it becomes ready once migrations are applied.
pub struct RunningServer {
    pub addr: SocketAddr,
    /// The state handlers see; tests and tools reach the store and lifecycle through it.
    pub state: AppState,
    task: JoinHandle<anyhow::Result<()>>,
}

impl RunningServer {
    /// Binds, connects to the database, starts serving, then migrates in the background so that
    /// the probes can already answer while the schema is brought up to date.
    pub async fn start(config: Config, extra_routes: Router<AppState>) -> anyhow::Result<Self> {
        let listener =
            TcpListener::bind(config.listen).await.with_context(|| format!("cannot listen on {}", config.listen))?;
        let addr = listener.local_addr()?;
        // On the blocking pool, so that the first request naming a number (a carrier's webhook,
        // perhaps with hundreds of calls in progress) does not hold a runtime thread for it.
        tokio::task::spawn_blocking(caly_core::PhoneNumber::load_numbering_plans).await?;
        let store = open_store(&config).await?;
        let redis = config
            .redis
            .url
            .as_ref()
            .map(|url| RedisLink::new(secrecy::ExposeSecret::expose_secret(url)))
            .transpose()
            .context("invalid redis.url")?;
        let secret = auth::signing_secret(&config.auth, &config.data_dir)?;
        let settings_key = auth::local_secret(
            config.auth.settings_key.as_ref(),
            &config.data_dir,
            "settings-key",
            "a key that encrypts provider credentials",
        )?;
        let settings_key = crate::secrets::key_bytes(secrecy::ExposeSecret::expose_secret(&settings_key))
            .context("<data_dir>/settings-key must hold 64 hex characters")?;
        let tls = match (&config.http.tls_cert, &config.http.tls_key) {
            (Some(cert), Some(key)) => Some(tls::acceptor(cert, key)?),
            _ => None,
        };
        let http = outbound_client(&config.commerce)?;
        let dialogue = crate::conversation::Dialogue::new(&config.llm, http.clone());
        let speech = Arc::new(
            crate::call::speech::build(&config.speech, dialogue.rules.0.clone())
                .context("building the speech providers")?,
        );
        let metrics = Metrics::new(store.clone(), speech.caps.clone());
        let recordings = RecordingStore::open(&config.recordings, &config.data_dir)?;
        let state = AppState::new(Shared {
            tokens: TokenKeys::new(&secret, config.auth.access_token_ttl),
            media_key: media_key(&secret),
            passwords: PasswordHasher::new(config.auth.hash_concurrency),
            secrets: crate::secrets::SecretBox::new(&settings_key),
            rate_limits: (config.rate_limits == Switch::On).then(|| {
                let shared = redis.clone().map(|link| (link, config.redis.key_prefix.clone()));
                Arc::new(RateLimits::new(&config.policies, shared, metrics.clone()))
            }),
            metrics,
            attack_guard: AttackGuard::new(&config.detector).map(Arc::new),
            anomalies: config.anomaly.enabled.then(|| Arc::new(AnomalyDetector::new(config.anomaly.clone()))),
            config: Arc::new(config),
            store,
            redis,
            lifecycle: Lifecycle::default(),
            started_at: Instant::now(),
            openapi: Arc::new(http::openapi()),
            dialogue,
            speech,
            http,
            recordings,
        });
        let task = tokio::spawn(run(listener, tls, state.clone(), extra_routes));
        Ok(Self { addr, state, task })
    }

    /// Begins a graceful shutdown, as SIGTERM does.
    pub fn shutdown(&self) {
        self.state.lifecycle.begin_shutdown();
    }

    /// Waits until the server stopped; an error if start-up or serving failed.
    pub async fn wait(self) -> anyhow::Result<()> {
        self.task.await.context("server task failed")?
    }
}

async fn run(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    state: AppState,
    extra_routes: Router<AppState>,
) -> anyhow::Result<()> {
    let lifecycle = state.lifecycle.clone();
    let store = state.store.clone();
    let http = state.config.http.clone();
    let demo = state.config.demo;
    let shared = state.clone();
    let app = http::app(state, extra_routes);
    let sweeper = shared.rate_limits.clone().map(|limits| {
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(rate_limits::SWEEP_EVERY).await;
                limits.forget_idle();
            }
        })
    });
    let delivery = crate::mail::Delivery::from_config(&shared.config.mail)?;
    let mail_sender = tokio::spawn(crate::mail::run_sender(store.clone(), delivery, lifecycle.clone()));
    let retention = tokio::spawn(crate::call::retention::run(shared.clone()));
    let serve = listener::serve(listener, tls, app, &lifecycle, http.drain_delay, http.shutdown_timeout);
    let migrate = async {
        store.migrate().await.context("migrations failed")?;
        // No call of this process is live yet: any call still open was cut off by a stop.
        let closed =
            store.close_interrupted_calls(crate::auth::now_micros()).await.context("closing interrupted calls")?;
        if closed > 0 {
            tracing::warn!(closed, "calls left open by the last stop were closed as interrupted");
        }
        if demo {
            crate::demo::create_on_first_run(&shared).await.context("cannot create the demo tenant")?;
        }
        lifecycle.mark_ready();
        tracing::info!("migrations applied; ready");
        if let Err(error) = crate::call::speech::prepare_at_start(&shared).await {
            tracing::warn!(error = %format!("{error:#}"), "greetings could not be made ahead");
        }
        std::future::pending::<anyhow::Result<()>>().await
    };
    let result = tokio::select! {
        () = serve => Ok(()),
        failed = migrate => {
            lifecycle.begin_shutdown();
            failed
        }
    };
    if let Some(sweeper) = sweeper {
        sweeper.abort();
    }
    mail_sender.abort();
    retention.abort();
    store.close().await;
    result
}

/// The media-token key: its own key, derived, so that neither kind of token can stand in for
/// the other.
fn media_key(secret: &secrecy::SecretString) -> [u8; 32] {
    use sha2::Digest;
    let mut hash = sha2::Sha256::new();
    hash.update(b"caly media tokens\0");
    hash.update(secrecy::ExposeSecret::expose_secret(secret).as_bytes());
    hash.finalize().into()
}

/// The HTTP client for tenants' shops. Its TLS uses the same crypto provider (ring) as the
/// server's, installed as the process default the first time.
fn outbound_client(config: &crate::config::CommerceConfig) -> anyhow::Result<reqwest::Client> {
    tls::install_crypto_provider();
    let client = reqwest::Client::builder()
        .timeout(config.timeout)
        .user_agent(concat!("caly/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("building the HTTP client for shops")?;
    Ok(client)
}

fn pool_settings(config: &Config) -> PoolSettings {
    let db = &config.database;
    PoolSettings {
        max_connections: db.max_connections,
        min_connections: db.min_connections,
        acquire_timeout: db.acquire_timeout,
        idle_timeout: db.idle_timeout,
        statement_timeout: db.statement_timeout,
    }
}

/// Opens the configured database (also for commands that do not serve).
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    Store::connect(&config.database_url(), &pool_settings(config)).await.context("cannot open the database")
}

/// Applies migrations and exits (`caly migrate`).
pub async fn migrate(config: &Config) -> anyhow::Result<i64> {
    let store = open_store(config).await?;
    store.migrate().await?;
    let version = store.schema_version().await?.unwrap_or_default();
    store.close().await;
    Ok(version)
}
