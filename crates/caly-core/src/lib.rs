//! Caly's domain: values that are valid by construction, and the rules that go with them.
//! Nothing here performs IO.

pub mod action;
pub mod agent;
pub mod call;
mod choice;
pub mod dialogue;
mod identity;
pub mod order;
pub mod period;
pub mod permission;
mod phone;
pub mod policy;
pub mod replies;
pub mod settings;
mod text;
mod url;

pub use identity::{Email, Language, Role, Timezone};
pub use phone::PhoneNumber;
pub use text::{DisplayName, Password};
pub use url::HttpsUrl;

/// Why a value was refused: a stable code and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Invalid {
    pub code: &'static str,
    pub message: String,
}

impl Invalid {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
}
