//! Stand-ins for the paid speech and language services, on loopback, speaking their real wire
//! protocols with scripted words and latencies: OpenAI-compatible transcriptions (multipart WAV
//! in, JSON out), speech (JSON in, raw 24 kHz PCM streamed out) and chat completions (a streamed
//! `understand` tool call, server-sent events), and Deepgram's live WebSocket (binary PCM in;
//! interim and final `Results`, `Finalize`, `CloseStream`).

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Json, Router,
    body::Body,
    extract::{Multipart, Query, State, WebSocketUpgrade, ws::Message},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{any, post},
};
use serde_json::{Value, json};

/// What the stand-ins answer, and what they were asked.
#[derive(Default)]
pub struct Script {
    /// The words of each utterance, in order (transcriptions and Deepgram finals alike).
    pub words: VecDeque<String>,
    pub stt_delay: Duration,
    pub tts_delay: Duration,
    /// Before the model's first token; it always understands `order_status`.
    pub llm_delay: Duration,
    /// Transcriptions and speech answer 500 while set.
    pub stt_down: bool,
    pub tts_down: bool,
    /// Seconds of audio per character of text spoken.
    pub seconds_per_char: f64,
    /// Texts spoken, transcriptions made, live query strings, live control messages.
    pub spoken: Vec<String>,
    pub transcribed: usize,
    pub live_queries: Vec<String>,
    pub live_controls: Vec<String>,
    pub live_sockets_open: usize,
}

pub type Shared = Arc<Mutex<Script>>;

/// Starts the stand-ins; returns their base URL (`http://127.0.0.1:port`) and the script.
pub async fn start() -> (String, Shared) {
    let script: Shared = Arc::new(Mutex::new(Script { seconds_per_char: 0.02, ..Script::default() }));
    let router = Router::new()
        .route("/v1/audio/transcriptions", post(transcribe))
        .route("/v1/audio/speech", post(speak))
        .route("/v1/listen", any(listen))
        .route("/v1/chat/completions", post(chat))
        .with_state(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, script)
}

async fn transcribe(State(script): State<Shared>, headers: HeaderMap, mut form: Multipart) -> Response {
    assert_eq!(headers["authorization"], "Bearer stt-key");
    let (mut file, mut model) = (Vec::new(), String::new());
    while let Some(field) = form.next_field().await.unwrap() {
        match field.name().unwrap() {
            "file" => file = field.bytes().await.unwrap().to_vec(),
            "model" => model = field.text().await.unwrap(),
            _ => {}
        }
    }
    assert_eq!(model, "whisper-test");
    let wav = hound::WavReader::new(std::io::Cursor::new(file)).expect("a WAV file");
    assert_eq!(wav.spec().sample_rate, 16_000);
    assert!(wav.duration() > 1_600, "an utterance, not a click");
    let (delay, down) = {
        let script = script.lock().unwrap();
        (script.stt_delay, script.stt_down)
    };
    tokio::time::sleep(delay).await;
    if down {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let mut script = script.lock().unwrap();
    script.transcribed += 1;
    let text = script.words.pop_front().unwrap_or_default();
    Json(json!({ "text": text })).into_response()
}

/// A voice-like tone for `seconds`, 24 kHz PCM16 little-endian.
fn voice(seconds: f64) -> Vec<u8> {
    let samples = (24_000.0 * seconds) as usize;
    (0..samples)
        .flat_map(|i| {
            let t = i as f64 / 24_000.0;
            ((6_000.0 * (std::f64::consts::TAU * 200.0 * t).sin()) as i16).to_le_bytes()
        })
        .collect()
}

async fn speak(State(script): State<Shared>, Json(body): Json<Value>) -> Response {
    assert_eq!(body["response_format"], "pcm");
    assert_eq!(body["voice"], "test-voice");
    let text = body["input"].as_str().unwrap().to_owned();
    let (delay, down, seconds) = {
        let mut script = script.lock().unwrap();
        script.spoken.push(text.clone());
        (script.tts_delay, script.tts_down, script.seconds_per_char * text.chars().count() as f64)
    };
    tokio::time::sleep(delay).await;
    if down {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    // 100 ms pieces, an odd number of bytes apart now and then, as a network delivers them.
    let audio = voice(seconds.max(0.2));
    let pieces: Vec<Result<Vec<u8>, std::io::Error>> = audio.chunks(4_801).map(|c| Ok(c.to_vec())).collect();
    Response::builder()
        .header("content-type", "application/octet-stream")
        .body(Body::from_stream(futures::stream::iter(pieces)))
        .unwrap()
}

async fn chat(State(script): State<Shared>, Json(body): Json<Value>) -> Response {
    assert_eq!(body["stream"], true);
    assert_eq!(body["tool_choice"]["function"]["name"], "understand");
    let delay = script.lock().unwrap().llm_delay;
    tokio::time::sleep(delay).await;
    let call = json!({ "choices": [{ "index": 0, "delta": { "role": "assistant", "tool_calls": [{ "index": 0,
        "id": "call_1", "type": "function",
        "function": { "name": "understand", "arguments": r#"{"intent": "order_status", "language": "en"}"# } }] } }] });
    let body = format!("data: {call}\n\ndata: [DONE]\n\n");
    ([(axum::http::header::CONTENT_TYPE, "text/event-stream")], body).into_response()
}

async fn listen(
    State(script): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<std::collections::HashMap<String, String>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    assert_eq!(headers["authorization"], "Token dg-key");
    assert_eq!(query["encoding"], "linear16");
    assert_eq!(query["sample_rate"], "16000");
    assert_eq!(query["interim_results"], "true");
    script.lock().unwrap().live_queries.push(format!("{query:?}"));
    upgrade.on_upgrade(move |mut socket| async move {
        script.lock().unwrap().live_sockets_open += 1;
        let mut loud_frames = 0;
        let results = |text: &str, is_final: bool, from_finalize: bool| {
            json!({"type": "Results", "is_final": is_final, "speech_final": is_final, "from_finalize": from_finalize,
                "channel": {"alternatives": [{"transcript": text, "confidence": 0.93}]}})
            .to_string()
        };
        while let Some(Ok(message)) = socket.recv().await {
            match message {
                Message::Binary(audio) => {
                    let loud = audio.chunks_exact(2).any(|s| i16::from_le_bytes([s[0], s[1]]).abs() > 2_000);
                    loud_frames += usize::from(loud);
                    // After 300 ms of speech: the first word of what is being said, interim.
                    if loud && loud_frames == 15 {
                        let first = script.lock().unwrap().words.front().cloned().unwrap_or_default();
                        let first = first.split_whitespace().next().unwrap_or_default().to_owned();
                        let _ = socket.send(Message::Text(results(&first, false, false).into())).await;
                    }
                }
                Message::Text(control) => {
                    let kind = serde_json::from_str::<Value>(&control).unwrap()["type"].as_str().unwrap().to_owned();
                    script.lock().unwrap().live_controls.push(kind.clone());
                    match kind.as_str() {
                        "Finalize" => {
                            loud_frames = 0;
                            let delay = script.lock().unwrap().stt_delay;
                            tokio::time::sleep(delay).await;
                            let words = script.lock().unwrap().words.pop_front().unwrap_or_default();
                            let _ = socket.send(Message::Text(results(&words, true, true).into())).await;
                        }
                        "CloseStream" => break,
                        other => panic!("an unknown control message {other}"),
                    }
                }
                _ => {}
            }
        }
        script.lock().unwrap().live_sockets_open -= 1;
    })
}
