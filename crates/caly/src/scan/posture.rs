//! Configuration checks: settings that weaken a deployment.

use std::os::unix::fs::PermissionsExt;

use secrecy::ExposeSecret;

use caly_guard::detector::{AttackClass, Mode};

use super::{Finding, Severity};
use crate::config::{Config, Switch};

/// Findings about `config`, and about the files it points at; `demo_active` says whether the
/// demo tenant's owner can still sign in.
pub fn posture(config: &Config, demo_active: bool) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut add = |severity, id, title, detail: &str| findings.push(Finding::new(severity, id, title, detail));

    if config.rate_limits == Switch::Off {
        add(Severity::High, "rate-limits-off", "Rate limits are off", "set rate_limits = \"on\" (CALY_RATE_LIMITS)");
    }
    let not_blocking: Vec<&str> = AttackClass::ALL
        .iter()
        .filter(|&&class| config.detector.mode_of(class) != Mode::Block)
        .map(|class| class.as_str())
        .collect();
    if !not_blocking.is_empty() {
        let any_off = AttackClass::ALL.iter().any(|&class| config.detector.mode_of(class) == Mode::Off);
        add(
            if any_off { Severity::High } else { Severity::Medium },
            "detector-not-blocking",
            "The attack detector does not block every class",
            &format!(
                "{} not in block mode; set detector.mode = \"block\" (CALY_DETECTOR_MODE)",
                not_blocking.join(", ")
            ),
        );
    }
    if demo_active {
        add(
            Severity::High,
            "demo-credentials-active",
            "The demo tenant's owner can still sign in with the printed password",
            "change its password (POST /api/v1/auth/password), or start with CALY_DEMO=false on a fresh database",
        );
    }
    if config.http.trusted_proxies.iter().any(|net| net.prefix_len() == 0) {
        add(
            Severity::High,
            "trust-all-proxies",
            "Every address is a trusted proxy, so any client can choose its IP",
            "list only your reverse proxies' networks in http.trusted_proxies",
        );
    }
    if !config.listen.ip().is_loopback() && config.http.tls_cert.is_none() && !config.http.enforce_https {
        add(
            Severity::Medium,
            "plain-http-exposed",
            "Serving plain HTTP on a non-loopback address",
            "set http.tls_cert/http.tls_key, or terminate TLS in a trusted reverse proxy and set http.enforce_https",
        );
    }
    let url = config.database_url();
    if url.starts_with("postgres")
        && (url.contains("sslmode=disable") || !url.contains("sslmode="))
        && !is_loopback(url.split('@').nth(1).unwrap_or(&url))
    {
        add(
            Severity::Medium,
            "database-without-tls",
            "The PostgreSQL connection is not required to use TLS",
            "add sslmode=require (or verify-full) to database.url",
        );
    }
    if let Some(host) = config.recordings.s3_endpoint.as_deref().and_then(|url| url.strip_prefix("http://"))
        && !is_loopback(host)
    {
        add(
            Severity::Medium,
            "recordings-without-tls",
            "Call recordings travel to their bucket over plain HTTP",
            "use an https:// recordings.s3_endpoint",
        );
    }
    if url.starts_with("sqlite") {
        let path = config.data_dir.join("caly.db");
        let path = url.trim_start_matches("sqlite://").split('?').next().map(std::path::PathBuf::from).unwrap_or(path);
        if readable_by_others(&path) {
            add(
                Severity::Medium,
                "database-file-readable",
                "The SQLite database file is readable by other users",
                "chmod 600 the file and its -wal/-shm files",
            );
        }
    }
    if config.auth.jwt_secret.is_none() && readable_by_others(&config.data_dir.join("jwt-secret")) {
        add(
            Severity::High,
            "signing-key-readable",
            "The access-token signing key is readable by other users",
            "chmod 600 <data_dir>/jwt-secret",
        );
    }
    if config.health_token.as_ref().is_some_and(|t| t.expose_secret().len() < 32) {
        add(
            Severity::Low,
            "short-health-token",
            "The health token is shorter than 32 characters",
            "use 32 or more random characters",
        );
    }
    let level = config.log.level.to_ascii_lowercase();
    if level.contains("debug") || level.contains("trace") {
        add(Severity::Low, "verbose-logging", "Debug or trace logging is on", "use log.level = \"info\" in production");
    }
    findings
}

/// Whether `host` (with anything after it: a port, a path) names this machine.
fn is_loopback(host: &str) -> bool {
    ["127.0.0.1", "localhost", "[::1]"].iter().any(|name| host.starts_with(name))
}

fn readable_by_others(path: &std::path::Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o004 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(findings: &[Finding]) -> Vec<&str> {
        findings.iter().map(|f| f.id.as_str()).collect()
    }

    #[test]
    fn a_default_configuration_without_demo_is_clean() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config { data_dir: dir.path().to_owned(), ..Config::default() };
        assert!(posture(&config, false).is_empty());
    }

    #[test]
    fn weak_settings_are_reported_with_their_severity() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config {
            data_dir: dir.path().to_owned(),
            listen: "0.0.0.0:8080".parse().unwrap(),
            rate_limits: Switch::Off,
            ..Config::default()
        };
        config.detector.classes.insert(AttackClass::Xss, Mode::Off);
        config.http.trusted_proxies = vec!["0.0.0.0/0".parse().unwrap()];
        config.log.level = "caly=debug".into();
        config.database.url = Some("postgres://caly:pw@db.internal:5432/caly?sslmode=disable".into());
        config.recordings.s3_endpoint = Some("http://minio.internal:9000".into());
        let findings = posture(&config, true);
        assert_eq!(
            ids(&findings),
            [
                "rate-limits-off",
                "detector-not-blocking",
                "demo-credentials-active",
                "trust-all-proxies",
                "plain-http-exposed",
                "database-without-tls",
                "recordings-without-tls",
                "verbose-logging"
            ]
        );
        assert!(crate::scan::fails(&findings));
    }

    #[test]
    fn files_readable_by_others_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("jwt-secret");
        std::fs::write(&key, "k").unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let config = Config { data_dir: dir.path().to_owned(), ..Config::default() };
        assert_eq!(ids(&posture(&config, false)), ["signing-key-readable"]);
    }
}
