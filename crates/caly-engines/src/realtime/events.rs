//! The OpenAI Realtime API's events (`wss://…/v1/realtime`, GA shapes), sans-IO: the client
//! events the engine sends, as JSON text, and the server events it acts on, parsed from text.

use base64::{Engine as _, engine::general_purpose::STANDARD};
use serde::Deserialize;
use serde_json::json;

/// The only PCM rate the API takes and gives.
pub const RATE: u32 = 24_000;

/// The one tool the model has: the store's agent, which decides and acts (with its
/// confirmations and approval rules) and says what to tell the caller.
pub const AGENT_TOOL: &str = "store_agent";

pub struct Session<'a> {
    pub instructions: &'a str,
    pub voice: &'a str,
    pub transcription_model: &'a str,
    /// Quiet that ends the caller's turn, for the server's voice detection.
    pub silence_ms: u64,
}

/// Configures the session. The server detects turns and transcribes them but neither answers
/// nor stops the agent on its own: the engine decides both (backchannels must not interrupt).
pub fn session_update(session: &Session<'_>) -> String {
    let pcm = json!({"type": "audio/pcm", "rate": RATE});
    json!({"type": "session.update", "session": {
        "type": "realtime",
        "output_modalities": ["audio"],
        "instructions": session.instructions,
        "audio": {
            "input": {
                "format": pcm,
                "transcription": {"model": session.transcription_model},
                "turn_detection": {
                    "type": "server_vad",
                    "silence_duration_ms": session.silence_ms,
                    "create_response": false,
                    "interrupt_response": false,
                },
            },
            "output": {"format": pcm, "voice": session.voice},
        },
        "tools": [{
            "type": "function",
            "name": AGENT_TOOL,
            "description": "The store's agent: looks up orders and products, cancels, returns, refunds, changes addresses and hands over to a person, following the store's rules. Returns what to say to the caller.",
            "parameters": {
                "type": "object",
                "properties": {"said": {"type": "string", "description": "What the caller just said, in their own words and language."}},
                "required": ["said"],
            },
        }],
        "tool_choice": "auto",
    }})
    .to_string()
}

/// The caller's audio, 16-bit PCM at [`RATE`].
pub fn append(samples: &[i16]) -> String {
    // Every 20 ms of every call: written directly, not through a JSON tree (base64 needs no
    // escaping).
    let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    let mut message = String::from(r#"{"type":"input_audio_buffer.append","audio":""#);
    STANDARD.encode_string(bytes, &mut message);
    message.push_str(r#""}"#);
    message
}

/// Answer the caller's turn (which may call the agent).
pub fn respond() -> String {
    json!({"type": "response.create"}).to_string()
}

/// Say `text` as it is: the agent's words (a greeting, an answer to keys).
pub fn say(text: &str) -> String {
    let instructions =
        format!("Say exactly this to the caller, in the language it is written in, and nothing else: {text}");
    json!({"type": "response.create", "response": {"instructions": instructions}}).to_string()
}

/// The agent's answer to a tool call; a `response.create` follows to speak it.
pub fn tool_output(call_id: &str, say: &str) -> String {
    let output = json!({"say": say}).to_string();
    json!({"type": "conversation.item.create", "item": {"type": "function_call_output", "call_id": call_id, "output": output}})
        .to_string()
}

pub fn cancel() -> String {
    json!({"type": "response.cancel"}).to_string()
}

/// The model's memory of what it said ends where the caller stopped hearing it.
pub fn truncate(item_id: &str, audio_end_ms: u64) -> String {
    json!({"type": "conversation.item.truncate", "item_id": item_id, "content_index": 0, "audio_end_ms": audio_end_ms})
        .to_string()
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type")]
pub enum ServerEvent {
    #[serde(rename = "input_audio_buffer.speech_stopped")]
    SpeechStopped,
    /// A caller turn ended and became a conversation item.
    #[serde(rename = "input_audio_buffer.committed")]
    Committed { item_id: String },
    /// Words of the caller's speech so far.
    #[serde(rename = "conversation.item.input_audio_transcription.delta")]
    HeardSoFar {
        item_id: String,
        #[serde(default)]
        delta: String,
    },
    #[serde(rename = "conversation.item.input_audio_transcription.completed")]
    Heard { item_id: String, transcript: String },
    #[serde(rename = "response.created")]
    ResponseCreated { response: Response },
    #[serde(rename = "response.output_audio.delta")]
    Audio { response_id: String, item_id: String, delta: String },
    /// The words of what the model said.
    #[serde(rename = "response.output_audio_transcript.done")]
    Said { item_id: String, transcript: String },
    #[serde(rename = "response.function_call_arguments.done")]
    ToolCall { call_id: String, name: String, arguments: String },
    #[serde(rename = "response.done")]
    ResponseDone { response: Response },
    #[serde(rename = "error")]
    Error { error: Problem },
    #[serde(other)]
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Response {
    pub id: String,
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Problem {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: String,
}

/// A server event; `None` for text that is not one.
pub fn parse(text: &str) -> Option<ServerEvent> {
    serde_json::from_str(text).ok()
}

/// An audio delta's samples; `None` when it is not base64 of whole 16-bit samples.
pub fn audio(delta: &str) -> Option<Vec<i16>> {
    let bytes = STANDARD.decode(delta).ok()?;
    if bytes.len() % 2 != 0 {
        return None;
    }
    Some(bytes.chunks_exact(2).map(|pair| i16::from_le_bytes([pair[0], pair[1]])).collect())
}

/// What the caller said, from the agent tool's arguments.
pub fn said(arguments: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Arguments {
        said: String,
    }
    serde_json::from_str::<Arguments>(arguments).ok().map(|a| a.said)
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    #[test]
    fn server_events_are_read_and_unknown_ones_let_be() {
        let audio_delta = r#"{"type":"response.output_audio.delta","event_id":"e1","response_id":"r1","item_id":"i1","output_index":0,"content_index":0,"delta":"AQD//w=="}"#;
        let Some(ServerEvent::Audio { response_id, item_id, delta }) = parse(audio_delta) else { panic!() };
        assert_eq!((response_id.as_str(), item_id.as_str()), ("r1", "i1"));
        assert_eq!(audio(&delta), Some(vec![1, -1]));
        assert_eq!(audio("AQD/"), None, "an odd byte");
        assert_eq!(audio("not base64!"), None);
        let call = r#"{"type":"response.function_call_arguments.done","call_id":"c1","name":"store_agent","arguments":"{\"said\":\"mera order kahan hai\"}","item_id":"i2","output_index":0,"response_id":"r2"}"#;
        let Some(ServerEvent::ToolCall { call_id, name, arguments }) = parse(call) else { panic!() };
        assert_eq!((call_id.as_str(), name.as_str()), ("c1", AGENT_TOOL));
        assert_eq!(said(&arguments).as_deref(), Some("mera order kahan hai"));
        assert_eq!(said("{}"), None);
        let done = r#"{"type":"response.done","response":{"id":"r2","object":"realtime.response","status":"cancelled","output":[]}}"#;
        assert_eq!(
            parse(done),
            Some(ServerEvent::ResponseDone {
                response: Response { id: "r2".into(), status: Some("cancelled".into()) }
            })
        );
        assert_eq!(parse(r#"{"type":"rate_limits.updated","rate_limits":[]}"#), Some(ServerEvent::Other));
        assert_eq!(
            parse(r#"{"type":"input_audio_buffer.speech_stopped","audio_end_ms":1200,"item_id":"i3"}"#),
            Some(ServerEvent::SpeechStopped)
        );
        assert_eq!(parse("[1, 2]"), None);
        assert_eq!(parse(r#"{"type":"input_audio_buffer.committed"}"#), None, "a committed turn names its item");
    }

    #[test]
    fn client_events_have_the_api_shapes() {
        let session = Session {
            instructions: "Be brief.",
            voice: "marin",
            transcription_model: "gpt-4o-mini-transcribe",
            silence_ms: 500,
        };
        let update: Value = serde_json::from_str(&session_update(&session)).unwrap();
        assert_eq!(update["type"], "session.update");
        assert_eq!(update["session"]["audio"]["input"]["format"], json!({"type": "audio/pcm", "rate": 24000}));
        let detection = &update["session"]["audio"]["input"]["turn_detection"];
        assert_eq!(
            (detection["create_response"].as_bool(), detection["interrupt_response"].as_bool()),
            (Some(false), Some(false))
        );
        assert_eq!(update["session"]["tools"][0]["name"], AGENT_TOOL);
        let append: Value = serde_json::from_str(&append(&[1, -1])).unwrap();
        assert_eq!(append["audio"], "AQD//w==");
        let truncate: Value = serde_json::from_str(&truncate("i1", 640)).unwrap();
        assert_eq!(
            truncate,
            json!({"type": "conversation.item.truncate", "item_id": "i1", "content_index": 0, "audio_end_ms": 640})
        );
        let output: Value = serde_json::from_str(&tool_output("c1", "Aapka order kal aayega.")).unwrap();
        assert_eq!(output["item"]["call_id"], "c1");
        assert_eq!(
            serde_json::from_str::<Value>(output["item"]["output"].as_str().unwrap()).unwrap()["say"],
            "Aapka order kal aayega."
        );
    }
}
