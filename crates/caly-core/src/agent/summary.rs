//! The paragraph a person receives with a transferred call, and the call record keeps.

use super::Agent;
use crate::Language;

impl Agent {
    pub fn summary(&self) -> String {
        let caller = self.setup.caller.as_deref().unwrap_or("an unknown number");
        let language = match self.language {
            Language::En => "English",
            Language::Hi => "Hindi",
            Language::Hinglish => "Hinglish",
        };
        let mut summary = format!("Caller from {caller}, speaking {language}.");
        if let Some(order) = &self.order {
            let verified = if self.verified { "identity confirmed" } else { "identity not confirmed" };
            summary.push_str(&format!(" Order {} is {} ({verified}).", order.number, order.status));
        }
        for note in &self.notes {
            summary.push(' ');
            summary.push_str(note);
        }
        summary
    }
}
