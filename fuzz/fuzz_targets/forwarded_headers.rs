//! `Forwarded` / `X-Forwarded-For` / `X-Forwarded-Proto` from a trusted proxy: any bytes.
#![no_main]

use caly_guard::{client_ip::TrustedProxies, transport};
use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (Vec<u8>, Vec<u8>, Vec<u8>)| {
    let mut headers = HeaderMap::new();
    for (name, value) in [("forwarded", &input.0), ("x-forwarded-for", &input.1), ("x-forwarded-proto", &input.2)] {
        if let Ok(value) = HeaderValue::from_bytes(value) {
            headers.insert(name, value);
        }
    }
    let proxies = TrustedProxies::new(vec!["0.0.0.0/0".parse().unwrap(), "::/0".parse().unwrap()]);
    let _ = proxies.resolve("10.0.0.1".parse().unwrap(), &headers);
    let _ = transport::is_https(false, true, &headers);
});
