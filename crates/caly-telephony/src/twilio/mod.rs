//! Twilio: the `<Connect><Stream>` answer, Media Streams messages (8 kHz μ-law in base64), and
//! the `X-Twilio-Signature` check in [`signature`].

pub mod signature;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{
    CallCommand, CallEvent, Carrier, Inbound, MediaError, MediaProtocol, Outbound, StreamStart,
    wire::{Dtmf, Event, Mark, Payload, PayloadOut, in_sequence, json, ulaw_payload, ulaw_text},
    xml,
};

/// TwiML that connects the call to our media stream and passes `parameters` back in `start`.
pub fn connect_stream(stream_url: &str, parameters: &BTreeMap<String, String>) -> String {
    let parameters: String = parameters
        .iter()
        .map(|(name, value)| format!("<Parameter name=\"{}\" value=\"{}\"/>", xml::text(name), xml::text(value)))
        .collect();
    xml::response(&format!("<Connect><Stream url=\"{}\">{parameters}</Stream></Connect>", xml::text(stream_url)))
}

/// TwiML that hands the call to a person at `number`.
pub fn dial(number: &str) -> String {
    xml::response(&format!("<Dial>{}</Dial>", xml::text(number)))
}

/// TwiML that says no, for calls we will not take.
pub fn reject() -> String {
    xml::response("<Reject/>")
}

#[derive(Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
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
    Mark {
        mark: Mark,
    },
    Stop,
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Start {
    stream_sid: String,
    call_sid: String,
    #[serde(default)]
    custom_parameters: BTreeMap<String, String>,
}

/// A frame of agent audio. One leaves every 20 ms per call, so it is written straight from
/// this struct rather than through a `serde_json::Value` tree.
#[derive(Serialize)]
struct MediaOut<'a> {
    event: &'static str,
    #[serde(rename = "streamSid")]
    stream_sid: &'a str,
    media: PayloadOut,
}

/// One Twilio Media Streams connection.
#[derive(Debug, Default)]
pub struct Media {
    stream_sid: Option<String>,
}

impl MediaProtocol for Media {
    fn decode(&mut self, message: Inbound<'_>) -> Result<Option<CallEvent>, MediaError> {
        let event = match json(message)? {
            Message::Start { start } => Event::Start(StreamStart {
                stream_id: start.stream_sid,
                carrier_call_id: start.call_sid,
                parameters: start.custom_parameters,
            }),
            Message::Media { media } => Event::Media(media),
            Message::Dtmf { dtmf } => Event::Dtmf(dtmf),
            Message::Mark { mark } => Event::Mark(mark),
            Message::Stop => Event::Stop,
            Message::Other => Event::Other,
        };
        in_sequence(&mut self.stream_sid, event, ulaw_payload)
    }

    fn encode(&mut self, command: CallCommand<'_>, out: &mut Vec<Outbound>) {
        let Some(stream_sid) = &self.stream_sid else { return };
        let message = match command {
            CallCommand::Play(frame) => {
                let media = MediaOut { event: "media", stream_sid, media: PayloadOut { payload: ulaw_text(frame) } };
                serde_json::to_string(&media).expect("strings always serialise")
            }
            CallCommand::Mark(name) => {
                json!({"event": "mark", "streamSid": stream_sid, "mark": {"name": name}}).to_string()
            }
            CallCommand::Clear => json!({"event": "clear", "streamSid": stream_sid}).to_string(),
        };
        out.push(Outbound::Text(message));
    }

    fn carrier(&self) -> Carrier {
        Carrier::Twilio
    }
}
