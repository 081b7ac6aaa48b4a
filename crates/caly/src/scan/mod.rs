//! `caly scan`: the configuration's security posture and a dependency audit of the binary's
//! own `Cargo.lock` (embedded at build time) against a local RustSec advisory database.

mod dependencies;
mod posture;

use serde::Serialize;

use crate::config::Config;

pub use dependencies::audit_lockfile;
pub use posture::posture;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Finding {
    pub severity: Severity,
    /// Stable identifier: a check name such as `rate-limits-off`, or a RustSec id.
    pub id: String,
    pub title: String,
    /// What to do about it.
    pub detail: String,
}

impl Finding {
    fn new(severity: Severity, id: &str, title: &str, detail: impl Into<String>) -> Self {
        Self { severity, id: id.to_owned(), title: title.to_owned(), detail: detail.into() }
    }
}

/// The lock file this binary was built from.
pub const CARGO_LOCK: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.lock"));

/// Every finding, most severe first: the posture of `config` (and, with a database, whether the
/// demo owner can still sign in with the printed password) and the dependency audit. The audit reads the advisory
/// database from disk, so it runs on a blocking thread.
pub async fn findings(config: &Config, store: Option<&caly_store::Store>) -> anyhow::Result<Vec<Finding>> {
    let demo_active = match store {
        Some(store) => {
            let email = caly_core::Email::parse(crate::demo::DEMO_EMAIL)?;
            let demo_owner = store.user_by_email(&email).await.ok().flatten();
            demo_owner.is_some_and(|user| user.active && user.password_changed_at.is_none())
        }
        None => false,
    };
    let mut findings = posture(config, demo_active);
    match config.advisory_db.clone() {
        Some(db) => findings.extend(tokio::task::spawn_blocking(move || audit_lockfile(&db, CARGO_LOCK)).await??),
        None => findings.push(Finding::new(
            Severity::Info,
            "dependency-audit-skipped",
            "No advisory database configured",
            "set advisory_db (CALY_ADVISORY_DB) to a RustSec advisory-db checkout",
        )),
    }
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    Ok(findings)
}

/// Whether the findings should fail the scan: any of high severity or worse.
pub fn fails(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity >= Severity::High)
}
