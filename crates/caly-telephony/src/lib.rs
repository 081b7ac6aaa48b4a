//! Carrier wire protocols, sans-IO: each carrier's media-stream messages become one
//! [`CallEvent`] model and [`CallCommand`]s become its messages back; webhook signatures are
//! checked and webhook answers (TwiML, Plivo XML, Exotel JSON) written here. Sockets, clocks and
//! storage live in the caller.

pub mod browser;
pub mod dtmf;
pub mod exotel;
pub mod plivo;
pub mod token;
pub mod twilio;
mod wire;
mod xml;

use std::collections::BTreeMap;

pub use wire::{Inbound, Outbound};

/// The carriers a call can come through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Carrier {
    Twilio,
    Exotel,
    Plivo,
    Browser,
}

impl Carrier {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Twilio => "twilio",
            Self::Exotel => "exotel",
            Self::Plivo => "plivo",
            Self::Browser => "browser",
        }
    }

    /// The rate of the PCM a carrier's media stream carries.
    pub const fn sample_rate(self) -> u32 {
        match self {
            Self::Browser => 16_000,
            Self::Twilio | Self::Exotel | Self::Plivo => 8_000,
        }
    }
}

/// What a media stream said, the same for every carrier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallEvent {
    Started(StreamStart),
    /// Caller audio as 16-bit PCM at the carrier's [`Carrier::sample_rate`].
    Audio(Vec<i16>),
    Dtmf(char),
    /// The carrier played everything sent before the mark of this name.
    MarkPlayed(String),
    Stopped,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StreamStart {
    pub stream_id: String,
    pub carrier_call_id: String,
    /// Parameters we put in the webhook answer, handed back by the carrier.
    pub parameters: BTreeMap<String, String>,
}

/// What we tell a media stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallCommand<'a> {
    /// One 20 ms frame of agent audio at the carrier's rate.
    Play(&'a [i16]),
    /// Ask to be told (by [`CallEvent::MarkPlayed`]) once everything before it was played.
    Mark(&'a str),
    /// Drop whatever audio the carrier still holds.
    Clear,
}

/// Why a message could not be read. The call goes on: these are logged and counted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MediaError {
    #[error("not a message of this protocol: {0}")]
    Malformed(String),
    #[error("`{0}` before the stream started")]
    OutOfOrder(&'static str),
    #[error("the stream started twice")]
    StartedTwice,
}

/// One carrier's media-stream protocol: its messages in, our commands out.
pub trait MediaProtocol: Send {
    /// Reads one message. `Ok(None)` for messages that carry nothing for the call
    /// (`connected`, acknowledgements, events this version does not know).
    fn decode(&mut self, message: Inbound<'_>) -> Result<Option<CallEvent>, MediaError>;

    /// Writes a command as the messages the carrier expects; some carriers batch audio, so a
    /// command may produce none.
    fn encode(&mut self, command: CallCommand<'_>, out: &mut Vec<Outbound>);

    fn carrier(&self) -> Carrier;
}

/// The protocol of a carrier's media stream, ready for its first message.
pub fn protocol(carrier: Carrier) -> Box<dyn MediaProtocol> {
    match carrier {
        Carrier::Twilio => Box::new(twilio::Media::default()),
        Carrier::Exotel => Box::new(exotel::Media::default()),
        Carrier::Plivo => Box::new(plivo::Media::default()),
        Carrier::Browser => Box::new(browser::Media),
    }
}
