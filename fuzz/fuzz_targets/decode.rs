//! The decoder alone: bounded output, no panic, on any text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (bool, &str)| {
    let (form, text) = input;
    let decoded = caly_guard::detector::decode(text, form);
    assert!(decoded.len() <= text.len() * 4 + 8);
});
