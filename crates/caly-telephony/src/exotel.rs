//! Exotel: the Voicebot applet's webhook answer and its AgentStream messages (8 kHz 16-bit PCM
//! in base64). Exotel plays audio sent in chunks that are whole multiples of 320 bytes and at
//! least 3.2 KB, except the last of an utterance; 20 ms frames are gathered to 200 ms here.
//! Exotel does not sign requests: they carry the account's API key and token as HTTP Basic
//! credentials instead ([`basic_credentials_match`]).

use std::collections::BTreeMap;

use base64::Engine;
use serde::Deserialize;
use serde_json::json;

use crate::{
    CallCommand, CallEvent, Carrier, Inbound, MediaError, MediaProtocol, Outbound, StreamStart,
    wire::{Dtmf, Event, Mark, Payload, base64_text, in_sequence, json, pcm16_bytes, pcm16_payload, same},
};

/// The smallest chunk Exotel plays, except the last of an utterance.
pub const MIN_CHUNK_BYTES: usize = 3_200;
/// Chunks are whole multiples of this: 20 ms of 8 kHz 16-bit PCM.
pub const CHUNK_UNIT_BYTES: usize = 320;

/// Whether an `Authorization` header holds `key:token` as HTTP Basic credentials.
pub fn basic_credentials_match(authorization: Option<&str>, key: &str, token: &str) -> bool {
    let decoded = authorization
        .and_then(|value| value.strip_prefix("Basic "))
        .and_then(|encoded| base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok());
    match decoded.as_deref().and_then(|d| d.split_once(':')) {
        // Both halves compared, always, so the time taken says nothing of which was wrong.
        Some((user, password)) => same(user, key) & same(password, token),
        None => false,
    }
}

/// The applet's answer: where to open the stream.
pub fn stream_answer(stream_url: &str) -> String {
    json!({ "url": stream_url }).to_string()
}

#[derive(Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
enum Message {
    Start {
        #[serde(default)]
        stream_sid: Option<String>,
        start: Start,
    },
    Media {
        media: Payload,
    },
    Dtmf {
        dtmf: Dtmf,
    },
    Mark {
        mark: Mark,
    },
    Stop,
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct Start {
    #[serde(default)]
    stream_sid: Option<String>,
    call_sid: String,
    #[serde(default)]
    custom_parameters: BTreeMap<String, String>,
}

/// One Exotel AgentStream connection.
#[derive(Debug, Default)]
pub struct Media {
    stream_sid: Option<String>,
    /// Agent audio not yet sent: less than one chunk.
    pending: Vec<u8>,
}

impl Media {
    fn flush(&mut self, out: &mut Vec<Outbound>) {
        if let (Some(stream_sid), false) = (&self.stream_sid, self.pending.is_empty()) {
            let payload = base64_text(&self.pending);
            out.push(Outbound::Text(
                json!({"event": "media", "stream_sid": stream_sid, "media": {"payload": payload}}).to_string(),
            ));
        }
        self.pending.clear();
    }
}

impl MediaProtocol for Media {
    fn decode(&mut self, message: Inbound<'_>) -> Result<Option<CallEvent>, MediaError> {
        let event = match json(message)? {
            Message::Start { stream_sid, start } => Event::Start(StreamStart {
                stream_id: start
                    .stream_sid
                    .or(stream_sid)
                    .ok_or_else(|| MediaError::Malformed("start without stream_sid".into()))?,
                carrier_call_id: start.call_sid,
                parameters: start.custom_parameters,
            }),
            Message::Media { media } => Event::Media(media),
            Message::Dtmf { dtmf } => Event::Dtmf(dtmf),
            Message::Mark { mark } => Event::Mark(mark),
            Message::Stop => Event::Stop,
            Message::Other => Event::Other,
        };
        in_sequence(&mut self.stream_sid, event, pcm16_payload)
    }

    fn encode(&mut self, command: CallCommand<'_>, out: &mut Vec<Outbound>) {
        let Some(stream_sid) = self.stream_sid.clone() else { return };
        match command {
            CallCommand::Play(frame) => {
                pcm16_bytes(frame, &mut self.pending);
                if self.pending.len() >= MIN_CHUNK_BYTES {
                    self.flush(out);
                }
            }
            CallCommand::Mark(name) => {
                self.flush(out);
                out.push(Outbound::Text(
                    json!({"event": "mark", "stream_sid": stream_sid, "mark": {"name": name}}).to_string(),
                ));
            }
            CallCommand::Clear => {
                self.pending.clear();
                out.push(Outbound::Text(json!({"event": "clear", "stream_sid": stream_sid}).to_string()));
            }
        }
    }

    fn carrier(&self) -> Carrier {
        Carrier::Exotel
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_must_match_both_halves() {
        let header =
            |user_password: &str| format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(user_password));
        assert!(basic_credentials_match(Some(&header("key:token")), "key", "token"));
        assert!(!basic_credentials_match(Some(&header("key:other")), "key", "token"));
        assert!(!basic_credentials_match(Some(&header("other:token")), "key", "token"));
        assert!(!basic_credentials_match(Some("Basic !!!"), "key", "token"));
        assert!(!basic_credentials_match(Some("Bearer key:token"), "key", "token"));
        assert!(!basic_credentials_match(None, "key", "token"));
    }
}
