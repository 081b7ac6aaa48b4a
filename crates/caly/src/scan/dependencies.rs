//! Known vulnerabilities and warnings (unmaintained, unsound, yanked) in a lock file, from a
//! RustSec advisory database on disk; nothing is fetched.

use std::{path::Path, str::FromStr};

use anyhow::Context;
use rustsec::{Database, Lockfile, report};

use super::{Finding, Severity};

/// Audits `lockfile` (the text of a `Cargo.lock`) against the database at `database`.
pub fn audit_lockfile(database: &Path, lockfile: &str) -> anyhow::Result<Vec<Finding>> {
    let db = Database::open(database)
        .with_context(|| format!("cannot open the advisory database at {}", database.display()))?;
    let lockfile = Lockfile::from_str(lockfile).context("cannot read the lock file")?;
    let report = report::Report::generate(&db, &lockfile, &report::Settings::default());
    let mut findings: Vec<Finding> = report
        .vulnerabilities
        .list
        .iter()
        .map(|vulnerability| {
            let advisory = &vulnerability.advisory;
            // Advisories without a CVSS score are still vulnerabilities: treat them as high.
            let severity = match advisory.cvss.as_ref().map(|c| c.score()) {
                Some(score) if score >= 9.0 => Severity::Critical,
                Some(score) if score >= 7.0 => Severity::High,
                Some(score) if score >= 4.0 => Severity::Medium,
                Some(_) => Severity::Low,
                None => Severity::High,
            };
            let package = &vulnerability.package;
            Finding::new(
                severity,
                advisory.id.as_str(),
                &format!("{} {}: {}", package.name, package.version, advisory.title),
                format!("upgrade {} ({})", package.name, vulnerability_fix(&vulnerability.versions)),
            )
        })
        .collect();
    findings.extend(report.warnings.values().flatten().map(|warning| {
        let id = warning.advisory.as_ref().map_or_else(|| "rustsec-warning".to_owned(), |a| a.id.to_string());
        let title = warning.advisory.as_ref().map_or("", |a| a.title.as_str());
        Finding::new(
            Severity::Low,
            &id,
            &format!("{} {} is {}: {title}", warning.package.name, warning.package.version, warning.kind),
            "replace or upgrade the dependency when a maintained alternative exists",
        )
    }));
    Ok(findings)
}

fn vulnerability_fix(versions: &rustsec::advisory::Versions) -> String {
    let patched: Vec<String> = versions.patched().iter().map(ToString::to_string).collect();
    if patched.is_empty() { "no patched version yet".into() } else { format!("patched: {}", patched.join(" or ")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/advisory-db")
    }

    #[test]
    fn a_vulnerable_lock_file_is_flagged_with_its_cvss_severity() {
        let lockfile = r#"
version = 4

[[package]]
name = "smallvec"
version = "1.6.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
"#;
        let findings = audit_lockfile(&database(), lockfile).unwrap();
        let found = findings.iter().find(|f| f.id == "RUSTSEC-2021-0003").expect("the smallvec advisory");
        assert_eq!(found.severity, Severity::Critical);
        assert!(found.title.starts_with("smallvec 1.6.0"), "{}", found.title);
        assert!(found.detail.contains(">=1.6.1") || found.detail.contains(">= 1.6.1"), "{}", found.detail);
    }

    #[test]
    fn a_patched_version_is_clean() {
        let lockfile = "version = 4\n\n[[package]]\nname = \"smallvec\"\nversion = \"1.13.2\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n";
        assert!(audit_lockfile(&database(), lockfile).unwrap().iter().all(|f| f.severity < Severity::Medium));
    }

    #[test]
    fn a_missing_database_is_an_error_not_a_clean_report() {
        assert!(audit_lockfile(Path::new("/nonexistent/advisory-db"), super::super::CARGO_LOCK).is_err());
    }
}
