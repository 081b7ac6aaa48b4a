//! The connection pool: opening either engine, migrations, ping and pool figures.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use sqlx::{
    AnyPool, Executor,
    any::{AnyPoolOptions, install_default_drivers},
    migrate::Migrator,
    pool::PoolConnection,
};

use crate::StoreError;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Which engine a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(StoreError::InvalidUrl("expected sqlite://… or postgres://…".into()))
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }

    fn migrator(self) -> &'static Migrator {
        match self {
            Self::Sqlite => &SQLITE_MIGRATIONS,
            Self::Postgres => &POSTGRES_MIGRATIONS,
        }
    }
}

/// Pool configuration.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub min_connections: u32,
    pub acquire_timeout: Duration,
    pub idle_timeout: Duration,
    /// PostgreSQL only: `statement_timeout` of every session.
    pub statement_timeout: Duration,
}

/// A snapshot of the pool for metrics and health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    pub max: u32,
    pub open: u32,
    pub idle: u32,
    pub acquires: u64,
    pub acquire_timeouts: u64,
    pub acquire_wait_total: Duration,
}

#[derive(Debug, Default)]
struct AcquireCounters {
    acquires: AtomicU64,
    timeouts: AtomicU64,
    wait_micros: AtomicU64,
}

/// Handle to the database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    max_connections: u32,
    counters: Arc<AcquireCounters>,
}

impl Store {
    /// Opens a pool. A SQLite file (and its directory) is created when missing, in WAL mode with
    /// foreign keys on.
    pub async fn connect(url: &str, settings: &PoolSettings) -> Result<Self, StoreError> {
        install_default_drivers();
        let backend = Backend::from_url(url)?;
        let url = match backend {
            Backend::Sqlite => sqlite_url(url)?,
            Backend::Postgres => url.to_owned(),
        };
        let statement_timeout_ms = settings.statement_timeout.as_millis();
        let pool = AnyPoolOptions::new()
            .max_connections(settings.max_connections)
            .min_connections(settings.min_connections)
            .acquire_timeout(settings.acquire_timeout)
            .idle_timeout(settings.idle_timeout)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    match backend {
                        Backend::Sqlite => {
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                                 PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                            )
                            .await?;
                        }
                        Backend::Postgres => {
                            sqlx::query("SELECT set_config('statement_timeout', $1, false)")
                                .bind(format!("{statement_timeout_ms}ms"))
                                .execute(&mut *conn)
                                .await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        Ok(Self { pool, backend, max_connections: settings.max_connections, counters: Arc::default() })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies every pending migration of this engine.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        self.backend.migrator().run(&self.pool).await?;
        Ok(())
    }

    /// The newest migration this binary ships.
    pub fn expected_schema_version(&self) -> i64 {
        self.backend.migrator().iter().map(|m| m.version).max().unwrap_or(0)
    }

    /// The newest migration applied to the database, if any.
    pub async fn schema_version(&self) -> Result<Option<i64>, StoreError> {
        let mut conn = self.acquire().await?;
        let version: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success = $1")
            .bind(true)
            .fetch_one(&mut *conn)
            .await?;
        Ok(version)
    }

    /// A round trip to the database; returns its duration.
    pub async fn ping(&self) -> Result<Duration, StoreError> {
        let started = Instant::now();
        let mut conn = self.acquire().await?;
        conn.execute("SELECT 1").await?;
        Ok(started.elapsed())
    }

    pub fn stats(&self) -> PoolStats {
        PoolStats {
            max: self.max_connections,
            open: self.pool.size(),
            idle: self.pool.num_idle() as u32,
            acquires: self.counters.acquires.load(Ordering::Relaxed),
            acquire_timeouts: self.counters.timeouts.load(Ordering::Relaxed),
            acquire_wait_total: Duration::from_micros(self.counters.wait_micros.load(Ordering::Relaxed)),
        }
    }

    /// Closes every connection; later calls fail as [`StoreError::Unavailable`].
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        let started = Instant::now();
        let result = self.pool.begin().await;
        self.count_acquire(started, &result);
        Ok(result?)
    }

    /// Takes a connection, counting how long the wait was so pool pressure shows in metrics.
    pub(crate) async fn acquire(&self) -> Result<PoolConnection<sqlx::Any>, StoreError> {
        let started = Instant::now();
        let result = self.pool.acquire().await;
        self.count_acquire(started, &result);
        Ok(result?)
    }

    fn count_acquire<T>(&self, started: Instant, result: &Result<T, sqlx::Error>) {
        let waited = started.elapsed().as_micros() as u64;
        self.counters.acquires.fetch_add(1, Ordering::Relaxed);
        self.counters.wait_micros.fetch_add(waited, Ordering::Relaxed);
        if matches!(result, Err(sqlx::Error::PoolTimedOut)) {
            self.counters.timeouts.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Ensures the SQLite file's directory exists and the file is created on first use.
fn sqlite_url(url: &str) -> Result<String, StoreError> {
    let rest = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let (path, params) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" {
        return Err(StoreError::InvalidUrl("Caly needs a SQLite file, not an in-memory database".into()));
    }
    if let Some(dir) = std::path::Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::InvalidUrl(format!("cannot create directory {}: {e}", dir.display())))?;
    }
    // Created here, owner-only, rather than by SQLite with the process umask: the database
    // holds password hashes and call data. SQLite gives its -wal and -shm files the same mode.
    if !std::path::Path::new(path).exists() {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| StoreError::InvalidUrl(format!("cannot create {path}: {e}")))?;
    }
    let params = if params.contains("mode=") { params.to_owned() } else { format!("mode=rwc&{params}") };
    Ok(format!("sqlite://{path}?{}", params.trim_end_matches('&')))
}

/// A fresh, migrated SQLite store in a temporary directory, for unit tests.
#[cfg(test)]
pub(crate) async fn test_store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store =
        Store::connect(&format!("sqlite://{}/caly.db", dir.path().display()), &tests::settings()).await.unwrap();
    store.migrate().await.unwrap();
    (store, dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn settings() -> PoolSettings {
        PoolSettings {
            max_connections: 4,
            min_connections: 0,
            acquire_timeout: Duration::from_secs(2),
            idle_timeout: Duration::from_secs(60),
            statement_timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn rejects_unknown_and_in_memory_urls() {
        assert!(Backend::from_url("mysql://x").is_err());
        assert!(sqlite_url("sqlite::memory:").is_err());
        assert_eq!(sqlite_url("sqlite://a.db").unwrap(), "sqlite://a.db?mode=rwc");
    }

    #[tokio::test]
    async fn sqlite_file_is_created_migrated_and_in_wal_mode() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/nested/caly.db", dir.path().display());
        let store = Store::connect(&url, &settings()).await.unwrap();
        assert!(store.schema_version().await.is_err(), "no migrations table yet");
        store.migrate().await.unwrap();
        assert_eq!(store.schema_version().await.unwrap(), Some(store.expected_schema_version()));
        store.migrate().await.unwrap();

        let mut conn = store.acquire().await.unwrap();
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&mut *conn).await.unwrap();
        let fks: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(&mut *conn).await.unwrap();
        drop(conn);
        assert_eq!((mode.as_str(), fks), ("wal", 1));
        use std::os::unix::fs::PermissionsExt;
        for file in ["caly.db", "caly.db-wal"] {
            let mode = std::fs::metadata(dir.path().join("nested").join(file)).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "{file} is owner-only");
        }

        store.close().await;
        assert!(matches!(store.ping().await, Err(StoreError::Unavailable(_))));
    }
}
