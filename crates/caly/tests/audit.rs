//! The audit log records sign-in events, refuses edits, and `caly audit verify` finds rows
//! that were changed or deleted behind its back — on both engines.

mod support;

use serde_json::json;
use sqlx::{AnyConnection, Connection, Executor};
use support::{Engine, TestApp};

async fn register_and_sign_in(app: &TestApp) -> String {
    let registration = json!({
        "email": "asha@example.in", "password": "correct horse battery", "name": "Asha Rao",
        "store_name": "Kurta Ghar", "timezone": "Asia/Kolkata", "language": "en"
    });
    let account: serde_json::Value = app.post_json("/api/v1/auth/register", &registration).await.json().await.unwrap();
    let wrong = json!({"email": "asha@example.in", "password": "wrong horse battery"});
    assert_eq!(app.post_json("/api/v1/auth/login", &wrong).await.status(), 401);
    let right = json!({"email": "asha@example.in", "password": "correct horse battery"});
    assert_eq!(app.post_json("/api/v1/auth/login", &right).await.status(), 200);
    let unknown = json!({"email": "nobody@example.in", "password": "wrong horse battery"});
    assert_eq!(app.post_json("/api/v1/auth/login", &unknown).await.status(), 401);
    account["tenant"]["id"].as_str().unwrap().to_owned()
}

fn database_url(app: &TestApp) -> String {
    match &app.database {
        Some(database) => database.url.clone(),
        None => app.server().state.config.database_url(),
    }
}

/// `caly audit verify` against the test's database: (exit code, stdout).
fn verify_cli(url: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let output =
        support::caly_command(dir.path()).args(["audit", "verify"]).env("CALY_DATABASE_URL", url).output().unwrap();
    (output.status.code().unwrap(), String::from_utf8(output.stdout).unwrap())
}

/// Runs SQL as someone with direct database access, with the append-only triggers bypassed.
async fn tamper(engine: Engine, url: &str, sql: &str) {
    sqlx::any::install_default_drivers();
    let mut conn = AnyConnection::connect(url).await.unwrap();
    match engine {
        Engine::Sqlite => {
            conn.execute("DROP TRIGGER IF EXISTS audit_log_no_update").await.unwrap();
            conn.execute("DROP TRIGGER IF EXISTS audit_log_no_delete").await.unwrap();
        }
        Engine::Postgres => {
            conn.execute("SET session_replication_role = replica").await.unwrap();
        }
    }
    conn.execute(sqlx::AssertSqlSafe(sql.to_owned())).await.unwrap();
    conn.close().await.unwrap();
}

on_both_engines! {
    async fn sign_in_events_are_recorded_in_each_tenants_chain(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        let tenant = register_and_sign_in(&app).await;
        let store = &app.server().state.store;
        let events = store.audit_events(&tenant).await.unwrap();
        let names: Vec<_> = events.iter().map(|e| (e.event.as_ref(), e.outcome.as_ref())).collect();
        assert_eq!(names, [("tenant.registered", "success"), ("auth.login.failed", "failure"), ("auth.login.succeeded", "success")]);
        let failed = &events[1];
        assert_eq!(failed.ip.as_deref(), Some("127.0.0.1"));
        assert!(failed.request_id.is_some() && failed.actor_id.is_some());
        assert!(!failed.details.contains("horse"), "no password in the audit log: {}", failed.details);
        let system = store.audit_events(caly_store::SYSTEM_CHAIN).await.unwrap();
        assert_eq!(system.len(), 1);
        assert_eq!(system[0].actor_type, "anonymous");
        let (code, output) = verify_cli(&database_url(&app));
        assert_eq!(code, 0, "{output}");
        assert!(output.contains("4 rows in 2 chains checked") && output.contains("audit log intact"), "{output}");
        let system = store.audit_events(caly_store::SYSTEM_CHAIN).await.unwrap();
        let last = system.last().unwrap();
        assert_eq!((last.event.as_ref(), last.outcome.as_ref(), last.actor_type.as_ref()), ("audit.verified", "success", "system"));
    }

    async fn the_database_refuses_edits_to_the_audit_log(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        register_and_sign_in(&app).await;
        sqlx::any::install_default_drivers();
        let mut conn = AnyConnection::connect(&database_url(&app)).await.unwrap();
        let update = conn.execute("UPDATE audit_log SET outcome = 'success'").await;
        assert!(update.unwrap_err().to_string().contains("append-only"));
        let delete = conn.execute("DELETE FROM audit_log").await;
        assert!(delete.unwrap_err().to_string().contains("append-only"));
    }

    async fn verify_names_the_first_edited_or_deleted_row(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        let tenant = register_and_sign_in(&app).await;
        let url = database_url(&app);

        // Rewrite history: the failed sign-in becomes a success.
        tamper(engine, &url, &format!("UPDATE audit_log SET outcome = 'success' WHERE chain = '{tenant}' AND seq = 2")).await;
        let verification = app.server().state.store.verify_audit().await.unwrap();
        assert_eq!(verification.breaks.len(), 1);
        assert_eq!((verification.breaks[0].seq, verification.breaks[0].reason), (2, "content does not match its hash"));
        let (code, output) = verify_cli(&url);
        assert_eq!(code, 1, "{output}");
        assert!(output.contains(&format!("BROKEN chain {tenant} at seq 2")), "{output}");

        // Remove the first row instead: the gap is found at the row after it.
        tamper(engine, &url, &format!("DELETE FROM audit_log WHERE chain = '{tenant}' AND seq = 1")).await;
        let breaks = app.server().state.store.verify_audit().await.unwrap().breaks;
        assert_eq!((breaks[0].seq, breaks[0].reason), (2, "a row is missing before this one"));
    }
}
