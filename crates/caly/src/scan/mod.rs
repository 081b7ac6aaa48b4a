//! `caly scan`: the configuration's security posture and a dependency audit of the binary's
//! own `Cargo.lock` (embedded at build time) against a local RustSec advisory database.

mod dependencies;
mod posture;

use serde::Serialize;

pub use dependencies::audit_lockfile;
pub use posture::posture;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Debug, Clone, Serialize)]
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

/// Whether the findings should fail the scan: any of high severity or worse.
pub fn fails(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity >= Severity::High)
}
