//! The whole request view: any target, header value and body of any content type.
#![no_main]

use std::sync::LazyLock;

use caly_guard::detector::{Detector, Mode, RequestView};
use libfuzzer_sys::fuzz_target;

static DETECTOR: LazyLock<Detector> = LazyLock::new(|| Detector::new(|_| Mode::Block));

const CONTENT_TYPES: [&[u8]; 5] = [
    b"application/json",
    b"application/xml",
    b"multipart/form-data; boundary=x",
    b"application/x-www-form-urlencoded",
    b"text/plain",
];

fuzz_target!(|input: (u8, String, Vec<u8>, Vec<u8>)| {
    let (kind, target, header, body) = input;
    let view = RequestView {
        target: &target,
        headers: vec![
            ("content-type", CONTENT_TYPES[usize::from(kind) % CONTENT_TYPES.len()]),
            ("cookie", &header),
            ("user-agent", &header),
        ],
        body: &body,
        binary_fields: &["audio"],
    };
    let _ = DETECTOR.inspect(&view);
});
