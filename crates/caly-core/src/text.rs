//! Free text that people type: names and passwords.

use std::{collections::HashSet, sync::LazyLock};

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

use crate::{Email, Invalid};

/// A person's or a store's name: 1–100 characters after trimming, no control characters, in
/// Unicode NFC, so that a Devanagari name typed on two keyboards is stored (and found) the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let name = input.trim();
        let length = name.chars().count();
        if length == 0 {
            return Err(Invalid::new("required", "must not be empty"));
        }
        if length > 100 {
            return Err(Invalid::new("too_long", "must be at most 100 characters"));
        }
        if name.chars().any(char::is_control) {
            return Err(Invalid::new("invalid_characters", "must not contain control characters"));
        }
        Ok(Self(name.nfc().collect()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Passwords that attackers try first (see `data/README.md`), compared lower-cased.
static COMMON_PASSWORDS: LazyLock<HashSet<String>> =
    LazyLock::new(|| include_str!("../data/common-passwords.txt").lines().map(str::to_lowercase).collect());

/// A new password that passes the policy: 12–128 characters, not a common password, not
/// containing the email's local part.
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 12;
    pub const MAX_CHARS: usize = 128;

    pub fn parse(input: &str, email: Option<&Email>) -> Result<Self, Invalid> {
        let length = input.chars().count();
        if length < Self::MIN_CHARS {
            return Err(Invalid::new("too_short", format!("must be at least {} characters", Self::MIN_CHARS)));
        }
        if length > Self::MAX_CHARS {
            return Err(Invalid::new("too_long", format!("must be at most {} characters", Self::MAX_CHARS)));
        }
        if COMMON_PASSWORDS.contains(&input.trim().to_lowercase()) {
            return Err(Invalid::new("common_password", "is one of the most common passwords; choose another"));
        }
        let local = email.map(|e| e.local_part().to_lowercase()).filter(|l| l.len() >= 3);
        if local.is_some_and(|local| input.to_lowercase().contains(&local)) {
            return Err(Invalid::new("contains_email", "must not contain the email address's name"));
        }
        Ok(Self(input.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(****)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(DisplayName::parse("  आशा राव ").unwrap().as_str(), "आशा राव");
        assert_eq!(DisplayName::parse(" ").unwrap_err().code, "required");
        assert_eq!(DisplayName::parse(&"a".repeat(101)).unwrap_err().code, "too_long");
        assert_eq!(DisplayName::parse("a\u{0}b").unwrap_err().code, "invalid_characters");
        // "क़" typed as क + nukta and as the precomposed letter are one name.
        assert_eq!(DisplayName::parse("\u{915}\u{93c}").unwrap(), DisplayName::parse("\u{958}").unwrap());
        assert_eq!(DisplayName::parse("Cafe\u{301}").unwrap().as_str(), "Caf\u{e9}");
    }

    #[test]
    fn password_policy() {
        let email = Email::parse("asha@example.in").unwrap();
        assert!(Password::parse("correct horse battery", Some(&email)).is_ok());
        assert_eq!(Password::parse("short", None).unwrap_err().code, "too_short");
        assert_eq!(Password::parse("my-name-is-ASHA-ok", Some(&email)).unwrap_err().code, "contains_email");
        assert_eq!(Password::parse(&"x".repeat(129), None).unwrap_err().code, "too_long");
        assert_eq!(Password::parse("1qaz2wsx3edc", None).unwrap_err().code, "common_password");
        assert_eq!(Password::parse("1QAZ2WSX3EDC", None).unwrap_err().code, "common_password", "any case");
        assert_eq!(Password::parse("Q1W2E3R4T5Y6", None).unwrap_err().code, "common_password");
        assert!(COMMON_PASSWORDS.len() >= 10_000, "{}", COMMON_PASSWORDS.len());
        assert_eq!(format!("{:?}", Password::parse("correct horse battery", None).unwrap()), "Password(****)");
    }
}
