//! Graceful shutdown: readiness fails at once, in-flight requests finish, then the process
//! stops; a request past the deadline is dropped.

mod support;

use std::time::Duration;

use axum::{Router, extract::Path, routing::get};
use caly::state::AppState;
use sqlx::{Connection, Executor};
use support::{Engine, TestApp, problem};

fn slow_route() -> Router<AppState> {
    Router::new().route(
        "/test/slow/{millis}",
        get(|Path(millis): Path<u64>| async move {
            tokio::time::sleep(Duration::from_millis(millis)).await;
            "finished"
        }),
    )
}

on_both_engines! {
    async fn shutdown_finishes_in_flight_requests(engine: Engine) {
        let mut app = TestApp::builder(engine)
            .routes(slow_route())
            .config(|c| c.http.drain_delay = Duration::from_millis(300))
            .spawn()
            .await;
        let in_flight = tokio::spawn(app.client.get(app.url("/test/slow/800")).send());
        tokio::time::sleep(Duration::from_millis(100)).await;

        app.server().shutdown();
        // During the drain delay the listener still accepts, and readiness says why not.
        let fresh = reqwest::Client::new();
        let ready = fresh.get(app.url("/readyz")).send().await.unwrap();
        let body = problem(ready, 503, "unavailable").await;
        assert_eq!(body["detail"], "Shutting down.");
        assert_eq!(fresh.get(app.url("/livez")).send().await.unwrap().status(), 200);

        let response = in_flight.await.unwrap().expect("the in-flight request completes");
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().await.unwrap(), "finished");

        let server = app.server.take().unwrap();
        tokio::time::timeout(Duration::from_secs(5), server.wait()).await.expect("stops").expect("cleanly");
        assert!(reqwest::Client::new().get(app.url("/livez")).send().await.is_err(), "listener closed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shutdown_deadline_bounds_the_wait() {
    let mut app = TestApp::builder(Engine::Sqlite)
        .routes(slow_route())
        .config(|c| c.http.shutdown_timeout = Duration::from_millis(300))
        .spawn()
        .await;
    let stuck = tokio::spawn(app.client.get(app.url("/test/slow/60000")).send());
    tokio::time::sleep(Duration::from_millis(100)).await;
    app.server().shutdown();
    let started = std::time::Instant::now();
    app.server.take().unwrap().wait().await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    assert!(stuck.await.unwrap().is_err(), "the stuck request was dropped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_report_starting_until_migrations_are_applied() {
    if !Engine::Postgres.available("lifecycle::probes_report_starting_until_migrations_are_applied") {
        return;
    }
    // Another session holds the migrations table, so the server's migrations wait behind it.
    let database = support::postgres::TestDatabase::create().await;
    let mut blocker = sqlx::PgConnection::connect(&database.url).await.unwrap();
    let mut lock = blocker.begin().await.unwrap();
    lock.execute("LOCK TABLE _sqlx_migrations IN ACCESS EXCLUSIVE MODE").await.unwrap();

    let app = TestApp::builder(Engine::Sqlite)
        .config(|c| c.database.url = Some(secrecy::SecretString::from(database.url.clone())))
        .start()
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let body = problem(app.get("/startupz").await, 503, "unavailable").await;
    assert_eq!(body["detail"], "Starting up.");
    problem(app.get("/readyz").await, 503, "unavailable").await;
    assert_eq!(app.get("/livez").await.status(), 200);

    lock.rollback().await.unwrap();
    let mut started = false;
    for _ in 0..200 {
        if app.get("/startupz").await.status() == 200 {
            started = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(started, "start-up completes once the lock is released");
    assert_eq!(app.get("/readyz").await.status(), 200);
    drop(app);
    drop(database);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_cannot_be_opened_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let config = caly::config::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_owned(),
        database: caly::config::DatabaseConfig {
            // A directory is not a database file.
            url: Some(secrecy::SecretString::from(format!("sqlite://{}", dir.path().display()))),
            ..Default::default()
        },
        ..Default::default()
    };
    let error = caly::server::RunningServer::start(config, Router::new()).await.err().expect("start-up fails");
    assert!(format!("{error:#}").contains("cannot open the database"), "{error:#}");
}
