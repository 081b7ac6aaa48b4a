//! What a caller says (a transcript, or a sandbox message) is untrusted text: understanding it
//! must never panic, whatever the bytes.
#![no_main]

use caly_core::dialogue::Rules;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    thread_local!(static RULES: Rules = Rules::new());
    if let Ok(text) = std::str::from_utf8(data) {
        RULES.with(|rules| rules.understand(text));
    }
});
