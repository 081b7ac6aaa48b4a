//! A fresh PostgreSQL database per test, cloned from a template that is migrated once.

use caly_store::{PoolSettings, Store};
use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection};
use std::time::Duration;

const TEMPLATE: &str = "caly_test_template";
/// Serialises template creation and cloning across test processes.
const LOCK_KEY: i64 = 0x6361_6c79;

pub fn admin_url() -> Option<String> {
    std::env::var("CALY_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty())
}

fn url_for(database: &str) -> String {
    let admin = admin_url().expect("checked by Engine::available");
    let (base, _) = admin.rsplit_once('/').expect("a database url ends in /<database>");
    format!("{base}/{database}")
}

pub struct TestDatabase {
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    pub async fn create() -> Self {
        let mut admin = PgConnection::connect(&admin_url().unwrap()).await.expect("CALY_TEST_DATABASE_URL reachable");
        admin.execute(sqlx::query("SELECT pg_advisory_lock($1)").bind(LOCK_KEY)).await.unwrap();
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(TEMPLATE)
            .fetch_one(&mut admin)
            .await
            .unwrap();
        if !exists {
            admin.execute(AssertSqlSafe(format!("CREATE DATABASE {TEMPLATE}"))).await.unwrap();
        }
        // Brings the template up to date; a no-op when nothing changed. A template migrated by
        // another version of a migration is rebuilt.
        if !migrate(TEMPLATE).await {
            admin.execute(AssertSqlSafe(format!("DROP DATABASE {TEMPLATE} WITH (FORCE)"))).await.unwrap();
            admin.execute(AssertSqlSafe(format!("CREATE DATABASE {TEMPLATE}"))).await.unwrap();
            assert!(migrate(TEMPLATE).await, "a fresh template migrates");
        }

        let name = format!("caly_test_{}", uuid::Uuid::now_v7().simple());
        admin.execute(AssertSqlSafe(format!("CREATE DATABASE {name} TEMPLATE {TEMPLATE}"))).await.unwrap();
        admin.execute(sqlx::query("SELECT pg_advisory_unlock($1)").bind(LOCK_KEY)).await.unwrap();
        admin.close().await.ok();
        Self { url: url_for(&name), name }
    }
}

impl Drop for TestDatabase {
    /// Drops the database from a thread of its own: `Drop` cannot await, and the test's
    /// runtime may be shutting down.
    fn drop(&mut self) {
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&admin_url().unwrap()).await?;
                admin.execute(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).await?;
                admin.close().await
            })
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("could not drop test database {}: {e}", self.name);
        }
    }
}

async fn migrate(database: &str) -> bool {
    let store = Store::connect(&url_for(database), &settings()).await.unwrap();
    let migrated = store.migrate().await;
    store.close().await;
    migrated.is_ok()
}

fn settings() -> PoolSettings {
    PoolSettings {
        max_connections: 2,
        min_connections: 0,
        acquire_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(10),
        statement_timeout: Duration::from_secs(30),
    }
}
