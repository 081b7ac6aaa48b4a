//! Who someone is in a tenant: email, role, language, timezone.

use std::fmt;

use serde::Serialize;

use crate::{Invalid, choice};

/// An email address, trimmed and lower-cased. Checked for shape only: whether it exists is
/// for the verification mail to find out.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let email = input.trim().to_lowercase();
        let invalid = || Invalid::new("invalid_email", "must be an email address such as asha@example.in");
        if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = email.rsplit_once('@').ok_or_else(invalid)?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain.chars().all(|c| c.is_alphanumeric() || c == '.' || c == '-');
        if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
            return Err(invalid());
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before `@`, which a password must not contain.
    pub fn local_part(&self) -> &str {
        self.0.rsplit_once('@').map_or(&self.0, |(local, _)| local)
    }
}

choice! {
    /// What a user may do within their tenant. Roles are ordered: each may do what the ones
    /// before it may.
    #[derive(PartialOrd, Ord)]
    pub enum Role, invalid = "invalid_role" {
        /// Reads calls and analytics only.
        Viewer = "viewer",
        /// Sees calls and approves actions.
        Supervisor = "supervisor",
        /// Manages settings, team and API keys.
        Admin = "admin",
        /// All of the above; a tenant always keeps at least one.
        Owner = "owner",
    }
}

impl Role {
    pub fn at_least(self, required: Role) -> bool {
        self >= required
    }
}

choice! {
    /// The language a tenant's agent speaks by default.
    pub enum Language, invalid = "invalid_language" {
        Hi = "hi",
        En = "en",
        Hinglish = "hinglish",
    }
}

/// An IANA time zone name known to the bundled tz database, e.g. `Asia/Kolkata`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Timezone(String);

impl Timezone {
    pub fn parse(name: &str) -> Result<Self, Invalid> {
        match jiff::tz::TimeZone::get(name) {
            Ok(_) if !name.is_empty() => Ok(Self(name.to_owned())),
            _ => Err(Invalid::new("invalid_timezone", "must be an IANA time zone such as Asia/Kolkata")),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Timezone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(Email::parse("  Asha.Rao@Example.IN ").unwrap().as_str(), "asha.rao@example.in");
        assert_eq!(Email::parse("asha@example.in").unwrap().local_part(), "asha");
        for bad in ["", "asha", "@example.in", "asha@", "asha@localhost", "a sha@example.in", "asha@ex..in", "a@b@c.in"]
        {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Owner.at_least(Role::Admin));
        assert!(Role::Supervisor.at_least(Role::Viewer));
        assert!(!Role::Viewer.at_least(Role::Supervisor));
        assert_eq!("admin".parse::<Role>().unwrap(), Role::Admin);
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn timezones_come_from_the_tz_database() {
        assert!(Timezone::parse("Asia/Kolkata").is_ok());
        assert!(Timezone::parse("UTC").is_ok());
        assert!(Timezone::parse("Asia/Mumbai").is_err());
        assert!(Timezone::parse("").is_err());
    }
}
