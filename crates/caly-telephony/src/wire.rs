//! Messages as they cross a media WebSocket, and the payload encodings carriers share.

use base64::{Engine, engine::general_purpose::STANDARD};
use serde::de::DeserializeOwned;

use crate::MediaError;

/// One WebSocket message from a carrier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inbound<'a> {
    Text(&'a str),
    Binary(&'a [u8]),
}

/// One WebSocket message to a carrier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outbound {
    Text(String),
    Binary(Vec<u8>),
}

impl Outbound {
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(text) => Some(text),
            Self::Binary(_) => None,
        }
    }
}

/// A JSON text message of type `T`.
pub(crate) fn json<T: DeserializeOwned>(message: Inbound<'_>) -> Result<T, MediaError> {
    match message {
        Inbound::Text(text) => serde_json::from_str(text).map_err(|e| MediaError::Malformed(e.to_string())),
        Inbound::Binary(_) => Err(MediaError::Malformed("binary message where JSON text was expected".into())),
    }
}

pub(crate) fn base64_bytes(payload: &str) -> Result<Vec<u8>, MediaError> {
    STANDARD.decode(payload).map_err(|e| MediaError::Malformed(format!("payload: {e}")))
}

pub(crate) fn base64_text(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// μ-law bytes in base64 as PCM.
pub(crate) fn ulaw_payload(payload: &str) -> Result<Vec<i16>, MediaError> {
    let bytes = base64_bytes(payload)?;
    let mut pcm = Vec::with_capacity(bytes.len());
    caly_audio::g711::decode_ulaw(&bytes, &mut pcm);
    Ok(pcm)
}

/// PCM as μ-law bytes in base64.
pub(crate) fn ulaw_text(pcm: &[i16]) -> String {
    let mut bytes = Vec::with_capacity(pcm.len());
    caly_audio::g711::encode_ulaw(pcm, &mut bytes);
    base64_text(&bytes)
}

/// Little-endian 16-bit PCM bytes as samples; an odd byte out is malformed.
pub(crate) fn pcm16_samples(bytes: &[u8]) -> Result<Vec<i16>, MediaError> {
    if !bytes.len().is_multiple_of(2) {
        return Err(MediaError::Malformed(format!("{} bytes is not whole 16-bit samples", bytes.len())));
    }
    Ok(bytes.chunks_exact(2).map(|pair| i16::from_le_bytes([pair[0], pair[1]])).collect())
}

pub(crate) fn pcm16_bytes(pcm: &[i16], bytes: &mut Vec<u8>) {
    bytes.extend(pcm.iter().flat_map(|sample| sample.to_le_bytes()));
}

/// Compares secrets (signatures, credentials) in time that does not depend on where they differ.
pub(crate) fn same(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// A DTMF key as sent: one of `0-9 * # A-D`.
pub(crate) fn dtmf_digit(digit: &str) -> Result<char, MediaError> {
    let mut chars = digit.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D') => Ok(c),
        _ => Err(MediaError::Malformed(format!("not a DTMF key: {digit:?}"))),
    }
}

/// `{"digit": "5"}` of a DTMF event, as every carrier names it.
#[derive(serde::Deserialize)]
pub(crate) struct Dtmf {
    pub digit: String,
}

/// `{"name": "u1"}` of a mark event.
#[derive(serde::Deserialize)]
pub(crate) struct Mark {
    pub name: String,
}

/// The `media` object of an audio event; `track` is absent where a carrier sends one track.
#[derive(serde::Deserialize)]
pub(crate) struct Payload {
    #[serde(default)]
    pub track: Option<String>,
    pub payload: String,
}

/// `{"payload": …}` of outbound audio.
#[derive(serde::Serialize)]
pub(crate) struct PayloadOut {
    pub payload: String,
}

impl Payload {
    /// Whether this is the caller's audio rather than an echo of what the caller heard.
    pub fn is_inbound(&self) -> bool {
        self.track.as_deref().is_none_or(|track| track == "inbound")
    }
}

/// A carrier's stream message, read but not yet checked against the stream's state.
pub(crate) enum Event {
    Start(crate::StreamStart),
    Media(Payload),
    Dtmf(Dtmf),
    Mark(Mark),
    Stop,
    Other,
}

/// The stream's part of decoding, the same for every carrier: `start` once and first,
/// the caller's track only, audio payloads read by `audio`.
pub(crate) fn in_sequence(
    stream_id: &mut Option<String>,
    event: Event,
    audio: fn(&str) -> Result<Vec<i16>, MediaError>,
) -> Result<Option<crate::CallEvent>, MediaError> {
    use crate::CallEvent;
    let started = stream_id.is_some();
    Ok(match event {
        Event::Start(_) if started => return Err(MediaError::StartedTwice),
        Event::Start(start) => {
            *stream_id = Some(start.stream_id.clone());
            Some(CallEvent::Started(start))
        }
        Event::Other => None,
        _ if !started => return Err(MediaError::OutOfOrder("stream event")),
        // Some carriers can also send what the caller heard: that is our own audio.
        Event::Media(media) if !media.is_inbound() => None,
        Event::Media(media) => Some(CallEvent::Audio(audio(&media.payload)?)),
        Event::Dtmf(dtmf) => Some(CallEvent::Dtmf(dtmf_digit(&dtmf.digit)?)),
        Event::Mark(mark) => Some(CallEvent::MarkPlayed(mark.name)),
        Event::Stop => Some(CallEvent::Stopped),
    })
}

/// Base64 little-endian 16-bit PCM as samples.
pub(crate) fn pcm16_payload(payload: &str) -> Result<Vec<i16>, MediaError> {
    pcm16_samples(&base64_bytes(payload)?)
}
