//! Stand-ins for the paid speech and language services, on loopback, speaking their real wire
//! protocols with scripted words and latencies: OpenAI-compatible transcriptions (multipart WAV
//! in, JSON out), speech (JSON in, raw 24 kHz PCM streamed out) and chat completions (a streamed
//! `understand` tool call, server-sent events), and Deepgram's live WebSocket (binary PCM in;
//! interim and final `Results`, `Finalize`, `CloseStream`), and OpenAI's Realtime WebSocket
//! (its events as JSON text, 24 kHz PCM in base64, a server voice detector of its own).

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
    /// Speech streamed as it is made, in real time, rather than all at once.
    pub tts_paced: bool,
    /// Texts spoken (and the voice each was asked in), transcriptions made, live query
    /// strings, live control messages.
    pub spoken: Vec<String>,
    pub voices: Vec<String>,
    pub transcribed: usize,
    /// Transcriptions being made now, and the most at once.
    pub transcribing: usize,
    pub most_transcribing: usize,
    pub live_queries: Vec<String>,
    pub live_controls: Vec<String>,
    pub live_sockets_open: usize,
    /// The Realtime stand-in: its `session.update`, the caller audio it got (24 kHz samples),
    /// the client events it got by type, its truncations (item, played ms).
    pub realtime_session: Option<Value>,
    pub realtime_samples: usize,
    pub realtime_events: Vec<String>,
    pub realtime_truncations: Vec<(String, u64)>,
    /// Realtime sessions refused while set.
    pub realtime_down: bool,
    /// The Realtime stand-in drops the connection when asked to answer a caller's turn.
    pub realtime_breaks: bool,
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
        .route("/v1/realtime", any(realtime))
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
        let mut script = script.lock().unwrap();
        script.transcribing += 1;
        script.most_transcribing = script.most_transcribing.max(script.transcribing);
        (script.stt_delay, script.stt_down)
    };
    tokio::time::sleep(delay).await;
    let mut script = script.lock().unwrap();
    script.transcribing -= 1;
    if down {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
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
    let text = body["input"].as_str().unwrap().to_owned();
    let asked_voice = body["voice"].as_str().expect("a voice is always named").to_owned();
    let (delay, down, seconds, paced) = {
        let mut script = script.lock().unwrap();
        script.spoken.push(text.clone());
        script.voices.push(asked_voice);
        (script.tts_delay, script.tts_down, script.seconds_per_char * text.chars().count() as f64, script.tts_paced)
    };
    tokio::time::sleep(delay).await;
    if down {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    // 100 ms pieces, an odd number of bytes apart now and then, as a network delivers them.
    let audio = voice(seconds.max(0.2));
    let pieces: Vec<Result<Vec<u8>, std::io::Error>> = audio.chunks(4_801).map(|c| Ok(c.to_vec())).collect();
    let pace = if paced { Duration::from_millis(100) } else { Duration::ZERO };
    let pieces = futures::StreamExt::then(futures::stream::iter(pieces), move |piece| async move {
        tokio::time::sleep(pace).await;
        piece
    });
    Response::builder().header("content-type", "application/octet-stream").body(Body::from_stream(pieces)).unwrap()
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

async fn realtime(
    State(script): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<std::collections::HashMap<String, String>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    assert_eq!(headers["authorization"], "Bearer rt-key");
    assert_eq!(query["model"], "realtime-test");
    if script.lock().unwrap().realtime_down {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    upgrade.on_upgrade(move |socket| Realtime { script, socket: Some(socket), ..Realtime::default() }.run())
}

/// One Realtime session: answers `response.create` with speech or an agent tool call, streams
/// speech in 100 ms deltas four times faster than real time, stops on `response.cancel`.
#[derive(Default)]
struct Realtime {
    script: Shared,
    socket: Option<axum::extract::ws::WebSocket>,
    silence_ms: u64,
    loud_ms: u64,
    quiet_ms: u64,
    items: u32,
    /// The last turn's words, and the agent's answer to the last tool call.
    heard: String,
    tool_said: Option<String>,
    /// The response being streamed: its id, item and pieces still to send.
    streaming: Option<(String, String, VecDeque<String>)>,
}

impl Realtime {
    async fn run(mut self) {
        use base64::Engine as _;
        let mut tick = tokio::time::interval(Duration::from_millis(25));
        while self.socket.is_some() {
            tokio::select! {
                message = self.socket.as_mut().unwrap().recv() => {
                    let Some(Ok(Message::Text(text))) = message else { break };
                    let event: Value = serde_json::from_str(&text).unwrap();
                    let kind = event["type"].as_str().unwrap().to_owned();
                    if kind != "input_audio_buffer.append" {
                        self.script.lock().unwrap().realtime_events.push(kind.clone());
                    }
                    match kind.as_str() {
                        "session.update" => {
                            self.silence_ms = event["session"]["audio"]["input"]["turn_detection"]["silence_duration_ms"].as_u64().unwrap();
                            self.script.lock().unwrap().realtime_session = Some(event["session"].clone());
                        }
                        "input_audio_buffer.append" => {
                            let bytes = base64::engine::general_purpose::STANDARD.decode(event["audio"].as_str().unwrap()).unwrap();
                            self.heard_audio(&bytes).await;
                        }
                        "response.create" => self.respond(&event).await,
                        "conversation.item.create" => {
                            let output: Value = serde_json::from_str(event["item"]["output"].as_str().unwrap()).unwrap();
                            self.tool_said = output["say"].as_str().map(str::to_owned);
                        }
                        "response.cancel" => {
                            if let Some((id, ..)) = self.streaming.take() {
                                self.send(json!({"type": "response.done", "response": {"id": id, "status": "cancelled"}})).await;
                            }
                        }
                        "conversation.item.truncate" => {
                            let truncation = (event["item_id"].as_str().unwrap().to_owned(), event["audio_end_ms"].as_u64().unwrap());
                            self.script.lock().unwrap().realtime_truncations.push(truncation);
                        }
                        other => panic!("an unknown client event {other}"),
                    }
                }
                _ = tick.tick(), if self.streaming.is_some() => self.stream().await,
            }
        }
    }

    async fn send(&mut self, event: Value) {
        let _ = self.socket.as_mut().unwrap().send(Message::Text(event.to_string().into())).await;
    }

    /// The server's voice detector: loud audio, then `silence_ms` of quiet, is a turn.
    async fn heard_audio(&mut self, bytes: &[u8]) {
        let samples = bytes.len() / 2;
        self.script.lock().unwrap().realtime_samples += samples;
        let loud = bytes.chunks_exact(2).any(|s| i16::from_le_bytes([s[0], s[1]]).abs() > 2_000);
        let ms = samples as u64 * 1_000 / 24_000;
        if loud {
            self.loud_ms += ms;
            self.quiet_ms = 0;
            return;
        }
        self.quiet_ms += ms;
        if self.loud_ms >= 100 && self.quiet_ms >= self.silence_ms {
            self.loud_ms = 0;
            self.items += 1;
            let item = format!("item_in_{}", self.items);
            self.send(json!({"type": "input_audio_buffer.speech_stopped", "item_id": item, "audio_end_ms": 0})).await;
            self.send(json!({"type": "input_audio_buffer.committed", "item_id": item, "previous_item_id": null})).await;
            let (words, delay) = {
                let mut script = self.script.lock().unwrap();
                (script.words.pop_front().unwrap_or_default(), script.stt_delay)
            };
            tokio::time::sleep(delay).await;
            self.heard.clone_from(&words);
            self.send(json!({"type": "conversation.item.input_audio_transcription.completed", "item_id": item, "content_index": 0, "transcript": words})).await;
        }
    }

    /// Speaks what it is told to or what the agent tool said; else calls the agent tool.
    async fn respond(&mut self, event: &Value) {
        assert!(self.streaming.is_none(), "a response.create while a response is being made");
        self.items += 1;
        let (id, item) = (format!("resp_{}", self.items), format!("item_out_{}", self.items));
        self.send(json!({"type": "response.created", "response": {"id": id, "status": "in_progress"}})).await;
        let instructions = event["response"]["instructions"].as_str();
        let told = instructions.map(|i| i.split_once("nothing else: ").expect(i).1.to_owned());
        let Some(text) = told.or_else(|| self.tool_said.take()) else {
            if self.script.lock().unwrap().realtime_breaks {
                drop(self.socket.take());
                return;
            }
            let delay = self.script.lock().unwrap().llm_delay;
            tokio::time::sleep(delay).await;
            let arguments = json!({"said": self.heard}).to_string();
            self.send(json!({"type": "response.function_call_arguments.done", "response_id": id, "item_id": item,
                "output_index": 0, "call_id": format!("call_{}", self.items), "name": "store_agent", "arguments": arguments})).await;
            self.send(json!({"type": "response.done", "response": {"id": id, "status": "completed"}})).await;
            return;
        };
        let (delay, seconds) = {
            let mut script = self.script.lock().unwrap();
            script.spoken.push(text.clone());
            (script.tts_delay, script.seconds_per_char * text.chars().count() as f64)
        };
        tokio::time::sleep(delay).await;
        use base64::Engine as _;
        let pieces = voice(seconds.max(0.2))
            .chunks(4_800)
            .map(|c| base64::engine::general_purpose::STANDARD.encode(c))
            .collect();
        self.send(json!({"type": "response.output_audio_transcript.delta", "item_id": item, "delta": text})).await;
        self.streaming = Some((id, item, pieces));
        self.stream().await;
    }

    async fn stream(&mut self) {
        let Some((id, item, pieces)) = self.streaming.as_mut() else { return };
        let (id, item) = (id.clone(), item.clone());
        match pieces.pop_front() {
            Some(delta) => {
                self.send(json!({"type": "response.output_audio.delta", "response_id": id, "item_id": item,
                    "output_index": 0, "content_index": 0, "delta": delta}))
                    .await;
            }
            None => {
                self.streaming = None;
                let said = self.script.lock().unwrap().spoken.last().cloned().unwrap_or_default();
                self.send(
                    json!({"type": "response.output_audio_transcript.done", "item_id": item, "transcript": said}),
                )
                .await;
                self.send(json!({"type": "response.done", "response": {"id": id, "status": "completed"}})).await;
            }
        }
    }
}
