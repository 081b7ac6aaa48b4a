//! Recorded message sequences of each carrier (`tests/fixtures/<carrier>.txt`) run through its
//! adapter. `< msg` is a message from the carrier and `= …` what it must decode to; `> cmd`
//! (`play`, `mark NAME`, `clear`) is a command we send, and each `>= msg` after it one message
//! it must produce, in order and nothing more.

use caly_telephony::{CallCommand, CallEvent, Carrier, Inbound, MediaError, Outbound, protocol};

/// The frame `> play` sends: a ramp over the whole 16-bit range.
fn ramp() -> Vec<i16> {
    (0..160).map(|i: i32| ((i * 409) % 65_536 - 32_768) as i16).collect()
}

fn summary(decoded: Result<Option<CallEvent>, MediaError>) -> String {
    match decoded {
        Ok(None) => "none".into(),
        Ok(Some(CallEvent::Started(start))) => {
            let mut text = format!("started {} {}", start.stream_id, start.carrier_call_id);
            for (name, value) in &start.parameters {
                text.push_str(&format!(" {name}={value}"));
            }
            text
        }
        Ok(Some(CallEvent::Audio(pcm))) => {
            let head: Vec<String> = pcm.iter().take(4).map(i16::to_string).collect();
            format!("audio {} {}", pcm.len(), head.join(","))
        }
        Ok(Some(CallEvent::Dtmf(key))) => format!("dtmf {key}"),
        Ok(Some(CallEvent::MarkPlayed(name))) => format!("mark {name}"),
        Ok(Some(CallEvent::Stopped)) => "stopped".into(),
        Err(MediaError::Malformed(_)) => "error malformed".into(),
        Err(MediaError::OutOfOrder(_)) => "error out_of_order".into(),
        Err(MediaError::StartedTwice) => "error started_twice".into(),
    }
}

fn run(carrier: Carrier, fixture: &str) {
    let mut media = protocol(carrier);
    let mut decoded: Option<String> = None;
    let mut sent: std::collections::VecDeque<Outbound> = Default::default();
    let mut checked = 0;
    for (number, line) in fixture.lines().enumerate().map(|(i, l)| (i + 1, l)) {
        let at = format!("{carrier:?} fixture line {number}");
        if let Some(expected) = line.strip_prefix(">= ") {
            let message = sent.pop_front().unwrap_or_else(|| panic!("{at}: nothing more was sent"));
            let message: serde_json::Value = serde_json::from_str(message.as_text().expect("text")).unwrap();
            let expected: serde_json::Value = serde_json::from_str(expected).unwrap();
            assert_eq!(message, expected, "{at}");
            checked += 1;
            continue;
        }
        assert!(sent.is_empty(), "{at}: more was sent than expected: {sent:?}");
        if let Some(message) = line.strip_prefix("< ") {
            decoded = Some(summary(media.decode(Inbound::Text(message))));
        } else if let Some(expected) = line.strip_prefix("= ") {
            assert_eq!(decoded.take().as_deref(), Some(expected), "{at}");
            checked += 1;
        } else if let Some(command) = line.strip_prefix("> ") {
            let frame = ramp();
            let command = match command.split_once(' ') {
                _ if command == "play" => CallCommand::Play(&frame),
                _ if command == "clear" => CallCommand::Clear,
                Some(("mark", name)) => CallCommand::Mark(name),
                _ => panic!("{at}: unknown command {command}"),
            };
            let mut out = Vec::new();
            media.encode(command, &mut out);
            sent.extend(out);
        } else {
            assert!(line.is_empty() || line.starts_with('#'), "{at}: unreadable line");
        }
    }
    assert!(sent.is_empty(), "{carrier:?}: more was sent than expected: {sent:?}");
    assert!(checked >= 8, "{carrier:?}: the fixture checks too little");
}

#[test]
fn twilio_media_streams() {
    run(Carrier::Twilio, include_str!("fixtures/twilio.txt"));
}

#[test]
fn exotel_agent_stream() {
    run(Carrier::Exotel, include_str!("fixtures/exotel.txt"));
}

#[test]
fn plivo_audio_stream() {
    run(Carrier::Plivo, include_str!("fixtures/plivo.txt"));
}

#[test]
fn browser_calls_carry_pcm16_at_16_khz() {
    let mut media = protocol(Carrier::Browser);
    let bytes: Vec<u8> = [1i16, -2, 300].iter().flat_map(|s| s.to_le_bytes()).collect();
    assert_eq!(media.decode(Inbound::Binary(&bytes)), Ok(Some(CallEvent::Audio(vec![1, -2, 300]))));
    assert!(matches!(media.decode(Inbound::Binary(&bytes[..3])), Err(MediaError::Malformed(_))));
    assert_eq!(media.decode(Inbound::Text(r#"{"event":"dtmf","digit":"9"}"#)), Ok(Some(CallEvent::Dtmf('9'))));
    assert_eq!(
        media.decode(Inbound::Text(r#"{"event":"mark","name":"u1"}"#)),
        Ok(Some(CallEvent::MarkPlayed("u1".into())))
    );
    assert_eq!(media.decode(Inbound::Text(r#"{"event":"stop"}"#)), Ok(Some(CallEvent::Stopped)));
    let mut out = Vec::new();
    media.encode(CallCommand::Play(&[1, -2]), &mut out);
    media.encode(CallCommand::Clear, &mut out);
    assert_eq!(out, vec![Outbound::Binary(vec![1, 0, 254, 255]), Outbound::Text(r#"{"event":"clear"}"#.into())]);
}

proptest::proptest! {
    /// Whatever arrives, as text or binary, before or after `start`, no adapter panics.
    #[test]
    fn no_message_panics_an_adapter(data in proptest::collection::vec(proptest::num::u8::ANY, 0..400), text in ".{0,200}") {
        let start = r#"{"event":"start","stream_sid":"s","streamSid":"s","start":{"streamSid":"s","callSid":"c","stream_sid":"s","call_sid":"c","callId":"c","streamId":"s"}}"#;
        for carrier in [Carrier::Twilio, Carrier::Exotel, Carrier::Plivo, Carrier::Browser] {
            let mut media = protocol(carrier);
            let _ = media.decode(Inbound::Binary(&data));
            let _ = media.decode(Inbound::Text(&text));
            let _ = media.decode(Inbound::Text(start));
            let _ = media.decode(Inbound::Text(&text));
            let _ = media.decode(Inbound::Text(&format!(r#"{{"event":"media","media":{{"payload":"{text}"}}}}"#)));
        }
    }
}
