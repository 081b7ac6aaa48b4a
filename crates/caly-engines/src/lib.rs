//! Engines behind Caly's conversations. Here: the dialogue engines — the rules engine, and an
//! LLM engine that understands through an OpenAI-compatible chat API and falls back to the
//! rules when the model fails, is slow or answers nonsense.

pub mod dialogue;
pub mod openai;
pub mod voice;
