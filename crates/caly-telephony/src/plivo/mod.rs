//! Plivo: the `<Stream bidirectional="true">` answer, its stream messages (8 kHz μ-law in
//! base64: `start`, `media`, `dtmf`, `playedStream`, `stop`; we send `playAudio`, `checkpoint`,
//! `clearAudio`), and the V3 signature check in [`signature`].

pub mod signature;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{
    CallCommand, CallEvent, Carrier, Inbound, MediaError, MediaProtocol, Outbound, StreamStart,
    wire::{Dtmf, Event, Mark, Payload, in_sequence, json, ulaw_payload, ulaw_text},
    xml,
};

/// Plivo XML that streams the call both ways to `stream_url` and keeps it up while we talk.
pub fn stream_answer(stream_url: &str) -> String {
    xml::response(&format!(
        "<Stream bidirectional=\"true\" keepCallAlive=\"true\" contentType=\"audio/x-mulaw;rate=8000\">{}</Stream>",
        xml::text(stream_url)
    ))
}

/// Plivo XML that hands the call to a person at `number`.
pub fn dial(number: &str) -> String {
    xml::response(&format!("<Dial><Number>{}</Number></Dial>", xml::text(number)))
}

/// Plivo XML that hangs up, for calls we will not take.
pub fn reject() -> String {
    xml::response("<Hangup reason=\"rejected\"/>")
}

#[derive(Deserialize)]
#[serde(tag = "event", rename_all = "camelCase")]
enum Message {
    Start {
        start: Start,
    },
    Media {
        media: Payload,
    },
    Dtmf {
        dtmf: Dtmf,
    },
    PlayedStream(Mark),
    Stop,
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Start {
    call_id: String,
    stream_id: String,
}

/// A frame of agent audio, every 20 ms per call: written straight from these structs.
#[derive(Serialize)]
struct PlayAudio {
    event: &'static str,
    media: PlayMedia,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PlayMedia {
    content_type: &'static str,
    sample_rate: u32,
    payload: String,
}

/// One Plivo audio stream.
#[derive(Debug, Default)]
pub struct Media {
    stream_id: Option<String>,
}

impl MediaProtocol for Media {
    fn decode(&mut self, message: Inbound<'_>) -> Result<Option<CallEvent>, MediaError> {
        let event = match json(message)? {
            Message::Start { start } => Event::Start(StreamStart {
                stream_id: start.stream_id,
                carrier_call_id: start.call_id,
                parameters: Default::default(),
            }),
            Message::Media { media } => Event::Media(media),
            Message::Dtmf { dtmf } => Event::Dtmf(dtmf),
            Message::PlayedStream(mark) => Event::Mark(mark),
            Message::Stop => Event::Stop,
            Message::Other => Event::Other,
        };
        in_sequence(&mut self.stream_id, event, ulaw_payload)
    }

    fn encode(&mut self, command: CallCommand<'_>, out: &mut Vec<Outbound>) {
        let Some(stream_id) = &self.stream_id else { return };
        let message = match command {
            CallCommand::Play(frame) => {
                let media = PlayMedia { content_type: "audio/x-mulaw", sample_rate: 8_000, payload: ulaw_text(frame) };
                serde_json::to_string(&PlayAudio { event: "playAudio", media }).expect("strings always serialise")
            }
            CallCommand::Mark(name) => json!({"event": "checkpoint", "streamId": stream_id, "name": name}).to_string(),
            CallCommand::Clear => json!({"event": "clearAudio", "streamId": stream_id}).to_string(),
        };
        out.push(Outbound::Text(message));
    }

    fn carrier(&self) -> Carrier {
        Carrier::Plivo
    }
}
