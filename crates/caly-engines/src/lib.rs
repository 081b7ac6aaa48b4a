//! Engines behind Caly's conversations: the speech engines (listening and turn-taking, speech
//! to text, text to speech, the cascade that joins them to a conversation, the realtime
//! speech-to-speech engine, and a test engine)
//! and the dialogue engines (rules, and an LLM that falls back to the rules), with their
//! providers' clients, retries and circuit breakers.

pub mod cascade;
pub mod connections;
pub mod dialogue;
pub mod listen;
pub mod openai;
pub mod provider;
pub mod realtime;
pub mod speak;
pub mod stt;
pub mod tts;
pub mod voice;
