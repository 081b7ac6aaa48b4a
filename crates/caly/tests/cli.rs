//! The `caly` binary's commands, run as a user would.

use std::process::Command;

fn caly(dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_caly"));
    command.current_dir(dir).env("CALY_DATA_DIR", dir.join("data"));
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("CALY_")) {
        command.env_remove(key);
    }
    command.env("CALY_DATA_DIR", dir.join("data"));
    command
}

#[test]
fn every_command_has_help() {
    let dir = tempfile::tempdir().unwrap();
    for args in [&["--help"][..], &["serve", "--help"], &["migrate", "--help"], &["config", "--help"]] {
        let output = caly(dir.path()).args(args).output().unwrap();
        assert!(output.status.success(), "{args:?}");
        assert!(String::from_utf8(output.stdout).unwrap().contains("Usage: caly"), "{args:?}");
    }
}

#[test]
fn config_prints_the_effective_configuration_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("caly.toml"), "[http]\nconcurrency_limit = 77\n").unwrap();
    let output = caly(dir.path())
        .arg("config")
        .env("CALY_LISTEN", "0.0.0.0:9999")
        .env("CALY_HEALTH_TOKEN", "do-not-print-this-token")
        .output()
        .unwrap();
    assert!(output.status.success());
    let printed = String::from_utf8(output.stdout).unwrap();
    let parsed: toml::Value = toml::from_str(&printed).expect("the output is TOML");
    assert_eq!(parsed["listen"].as_str(), Some("0.0.0.0:9999"));
    assert_eq!(parsed["http"]["concurrency_limit"].as_integer(), Some(77));
    assert_eq!(parsed["health_token"].as_str(), Some("[REDACTED]"));
    assert!(!printed.contains("do-not-print-this-token"));
}

#[test]
fn an_invalid_value_stops_start_up_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let output = caly(dir.path()).env("CALY_HTTP_CONCURRENCY_LIMIT", "lots").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("CALY_HTTP_CONCURRENCY_LIMIT (http.concurrency_limit) = \"lots\""), "{stderr}");
}

#[test]
fn migrate_creates_and_migrates_the_sqlite_database() {
    let dir = tempfile::tempdir().unwrap();
    let output = caly(dir.path()).arg("migrate").output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(dir.path().join("data/caly.db").exists());
    let again = caly(dir.path()).arg("migrate").output().unwrap();
    assert!(again.status.success(), "migrate is idempotent");
}
