//! Media-stream messages come from the network: every carrier's adapter must read any bytes,
//! as text or binary, before or after `start`, without panicking.
#![no_main]

use caly_telephony::{Carrier, Inbound, protocol};
use libfuzzer_sys::fuzz_target;

const START: &str = r#"{"event":"start","stream_sid":"s","streamSid":"s","start":{"streamSid":"s","callSid":"c","stream_sid":"s","call_sid":"c","callId":"c","streamId":"s"}}"#;

fuzz_target!(|data: &[u8]| {
    for carrier in [Carrier::Twilio, Carrier::Exotel, Carrier::Plivo, Carrier::Browser] {
        let mut media = protocol(carrier);
        let _ = media.decode(Inbound::Binary(data));
        if let Ok(text) = std::str::from_utf8(data) {
            let _ = media.decode(Inbound::Text(text));
            let _ = media.decode(Inbound::Text(START));
            let _ = media.decode(Inbound::Text(text));
        }
    }
});
