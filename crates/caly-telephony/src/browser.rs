//! Test calls from the dashboard: binary WebSocket messages of 16 kHz 16-bit little-endian PCM
//! both ways, and JSON text for everything else: `{"event":"dtmf","digit":"5"}`,
//! `{"event":"mark","name":…}` (the page echoes our marks once played) and `{"event":"stop"}`;
//! we send `mark` and `clear`. The session that opened the socket is the call: there is no
//! separate `start`, the runtime starts the call when the socket opens.

use serde::Deserialize;
use serde_json::json;

use crate::{
    CallCommand, CallEvent, Carrier, Inbound, MediaError, MediaProtocol, Outbound,
    wire::{dtmf_digit, json, pcm16_bytes, pcm16_samples},
};

#[derive(Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
enum Message {
    Dtmf {
        digit: String,
    },
    Mark {
        name: String,
    },
    Stop,
    #[serde(other)]
    Other,
}

#[derive(Debug, Default)]
pub struct Media;

impl MediaProtocol for Media {
    fn decode(&mut self, message: Inbound<'_>) -> Result<Option<CallEvent>, MediaError> {
        if let Inbound::Binary(bytes) = message {
            return Ok(Some(CallEvent::Audio(pcm16_samples(bytes)?)));
        }
        Ok(match json(message)? {
            Message::Dtmf { digit } => Some(CallEvent::Dtmf(dtmf_digit(&digit)?)),
            Message::Mark { name } => Some(CallEvent::MarkPlayed(name)),
            Message::Stop => Some(CallEvent::Stopped),
            Message::Other => None,
        })
    }

    fn encode(&mut self, command: CallCommand<'_>, out: &mut Vec<Outbound>) {
        out.push(match command {
            CallCommand::Play(frame) => {
                let mut bytes = Vec::with_capacity(frame.len() * 2);
                pcm16_bytes(frame, &mut bytes);
                Outbound::Binary(bytes)
            }
            CallCommand::Mark(name) => Outbound::Text(json!({"event": "mark", "name": name}).to_string()),
            CallCommand::Clear => Outbound::Text(json!({"event": "clear"}).to_string()),
        });
    }

    fn carrier(&self) -> Carrier {
        Carrier::Browser
    }
}
