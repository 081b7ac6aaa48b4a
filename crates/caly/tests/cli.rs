//! The `caly` binary's commands, run as a user would.

mod support;

use support::caly_command as caly;

#[test]
fn every_command_has_help() {
    let dir = tempfile::tempdir().unwrap();
    let commands: [&[&str]; 6] = [
        &["--help"],
        &["serve", "--help"],
        &["migrate", "--help"],
        &["config", "--help"],
        &["dialogue", "--help"],
        &["dialogue", "classify", "--help"],
    ];
    for args in commands {
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

/// The first-run promise: `caly serve` on an empty data directory creates a demo tenant,
/// prints its owner's credentials once, and they sign in.
#[test]
fn first_run_prints_demo_credentials_once_and_they_work() {
    use std::io::{BufRead, BufReader};

    let dir = tempfile::tempdir().unwrap();
    let start = || {
        caly(dir.path())
            .env("CALY_LISTEN", "127.0.0.1:0")
            .env("CALY_LOG_FORMAT", "json")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let read_until_listening = |child: &mut std::process::Child| {
        let mut lines = Vec::new();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        while stdout.read_line(&mut line).unwrap() > 0 {
            lines.push(std::mem::take(&mut line));
            if lines.iter().any(|l| l.contains("migrations applied; ready")) {
                break;
            }
        }
        lines.join("")
    };

    let mut first = start();
    let output = read_until_listening(&mut first);
    let password = output
        .lines()
        .find_map(|l| l.trim().strip_prefix("password: "))
        .unwrap_or_else(|| panic!("no demo password printed:\n{output}"))
        .to_owned();
    assert!(output.contains("email:    owner@demo.caly.test"), "{output}");
    let address = output
        .lines()
        .find_map(|l| l.split("Caly listening on http://").nth(1))
        .map(|rest| rest.split('"').next().unwrap().to_owned())
        .unwrap_or_else(|| panic!("no address:\n{output}"));
    assert_eq!(output.matches(&password).count(), 1, "the password appears only in the printed notice");

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let status = runtime.block_on(async {
        let body = serde_json::json!({"email": "owner@demo.caly.test", "password": password});
        support::http_client()
            .post(format!("http://{address}/api/v1/auth/login"))
            .json(&body)
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 200);
    // `caly scan` flags the printed password until the owner changes it.
    let demo_flagged = || {
        let scan = caly(dir.path()).args(["scan", "--format", "json"]).output().unwrap();
        let report: serde_json::Value = serde_json::from_slice(&scan.stdout).unwrap();
        report["findings"].as_array().unwrap().iter().any(|f| f["id"] == "demo-credentials-active")
    };
    assert!(demo_flagged());
    let changed = runtime.block_on(async {
        let client = support::http_client();
        let login = serde_json::json!({"email": "owner@demo.caly.test", "password": password});
        let tokens: serde_json::Value = client
            .post(format!("http://{address}/api/v1/auth/login"))
            .json(&login)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let change = serde_json::json!({"current_password": password, "new_password": "my own demo passphrase"});
        let response = client
            .post(format!("http://{address}/api/v1/auth/password"))
            .bearer_auth(tokens["access_token"].as_str().unwrap())
            .json(&change)
            .send()
            .await
            .unwrap();
        response.status()
    });
    assert_eq!(changed, 204);
    assert!(!demo_flagged(), "a changed password is no longer reported");
    first.kill().unwrap();
    first.wait().unwrap();

    let mut second = start();
    let output = read_until_listening(&mut second);
    second.kill().unwrap();
    second.wait().unwrap();
    assert!(!output.contains("password:"), "credentials are printed only on the first start:\n{output}");
}

#[test]
fn scan_reports_json_and_fails_on_high_findings() {
    let dir = tempfile::tempdir().unwrap();
    let advisories = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/advisory-db");
    let clean =
        caly(dir.path()).args(["scan", "--format", "json"]).env("CALY_ADVISORY_DB", advisories).output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&clean.stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();
    assert!(findings.iter().all(|f| f["severity"] != "high" && f["severity"] != "critical"), "{report:#}");
    assert_eq!(clean.status.code(), Some(0), "{report:#}");

    let weak = caly(dir.path()).args(["scan", "--format", "json"]).env("CALY_RATE_LIMITS", "off").output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&weak.stdout).unwrap();
    let ids: Vec<&str> = report["findings"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"rate-limits-off") && ids.contains(&"dependency-audit-skipped"), "{ids:?}");
    assert_eq!(weak.status.code(), Some(1));
}

#[test]
fn dialogue_classify_prints_one_json_object_per_line() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut child = caly(dir.path())
        .args(["dialogue", "classify"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let utterances = "mera order char paanch do cancel kar do\nI was charged twice, ₹1,299\nहाँ\n4521\n";
    child.stdin.take().unwrap().write_all(utterances.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let lines: Vec<serde_json::Value> =
        String::from_utf8(output.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["intent"], "cancel_order");
    assert_eq!(lines[0]["language"], "hinglish");
    assert_eq!(lines[0]["entities"]["order_number"], "452");
    assert!(lines[0]["confidence"].as_f64().unwrap() > 0.5);
    assert_eq!(lines[1]["intent"], "payment_problem");
    assert_eq!(lines[1]["language"], "en");
    assert_eq!(lines[1]["entities"]["amount_paise"], 129_900);
    assert_eq!(lines[2]["intent"], "yes");
    assert_eq!(lines[2]["language"], "hi");
    assert_eq!(lines[3]["intent"], "unknown");
    assert_eq!(lines[3]["language"], serde_json::Value::Null);
    assert_eq!(lines[3]["entities"]["numbers"], serde_json::json!(["4521"]));
}
