//! The realtime engine: one OpenAI Realtime WebSocket session per call speaks with the caller
//! (speech to speech) and calls the store's agent as its one tool for anything the store
//! decides — so confirmations and approval rules hold as in the cascade.
//!
//! Turns: the server detects and transcribes them but answers only when told to; a turn that
//! ends while the agent is still speaking was a backchannel and gets no answer. Barge-in is
//! ours, as in the cascade (the [`Listener`]: speech of `barge_in` plus `barge_in_wait` with
//! no words, or words that are more than a backchannel): the playback stops, the response is
//! cancelled and the model's item truncated to what was played. Audio is 16 kHz here and
//! 24 kHz on the wire. When the session breaks, the caller hears the apology and is handed
//! over, as with the cascade.

pub mod events;

use std::{collections::VecDeque, sync::Arc, time::Duration};

use caly_audio::resample::Resampler;
use caly_core::Language;
use futures::{SinkExt, StreamExt};
use tokio::{sync::mpsc, task::JoinHandle, time::Instant};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

use crate::{
    cascade::{Conversation, Reply, Said, Speech, Step, apology},
    connections::Slot,
    listen::{Heard, Listener},
    provider::{self, ProviderError},
    voice::{Answering, Cause, RATE, VoiceEngine, VoiceInput, VoiceOutput},
};
use events::ServerEvent;

/// Where and how to reach the Realtime API.
#[derive(Debug, Clone)]
pub struct RealtimeSettings {
    /// `wss://api.openai.com/v1/realtime`, or a compatible server.
    pub url: String,
    pub api_key: Option<String>,
    pub model: String,
    pub voice: String,
    pub transcription_model: String,
    pub timeout: Duration,
}

/// How the model is told to behave; the agent tool's words are the store's.
const INSTRUCTIONS: &str = "You are the voice of an online store's customer support line. Speak briefly and warmly, in the caller's language (Hindi, English or Hinglish). For anything about orders, deliveries, products, cancellations, returns, refunds, addresses or reaching a person, call the store_agent tool with what the caller said and tell the caller what it returns in `say`, faithfully: never promise, decide or invent anything yourself.";

/// Messages waiting for the socket; beyond it the session is too far behind to be of use.
const OUTGOING: usize = 512;

/// What the conversation answered, from its task.
enum Replied {
    /// Words to say as they are: the greeting, the answer to keys.
    Say(Result<Reply, String>),
    /// The agent tool's answer to the model's call.
    Tool { call_id: String, reply: Result<Reply, String> },
}

/// The model's latest spoken item: being made, or made and maybe still playing.
struct Speaking {
    item_id: String,
    /// Samples at [`RATE`] handed to the runtime.
    samples: u64,
    /// All of its audio was handed over.
    complete: bool,
}

/// A reply on its way to being spoken: what the model should say, and what follows it.
struct Pending {
    text: String,
    steps: Vec<VoiceOutput>,
}

pub struct Realtime {
    speech: Arc<Speech>,
    conversation: Arc<tokio::sync::Mutex<Box<dyn Conversation>>>,
    language: Language,
    listener: Listener,
    to_model: Resampler,
    from_model: Resampler,
    upsampled: Vec<i16>,
    outgoing: mpsc::Sender<String>,
    /// Server events; `None` once the session ended.
    incoming: Option<mpsc::Receiver<ServerEvent>>,
    socket: JoinHandle<()>,
    _slot: Slot,
    replies: mpsc::UnboundedSender<Replied>,
    replied: mpsc::UnboundedReceiver<Replied>,
    queued: VecDeque<VoiceOutput>,
    /// The response being made, and whether it was cancelled (its late audio is dropped).
    response: Option<(String, bool)>,
    speaking: Option<Speaking>,
    /// The words the next response says, once it is created.
    pending: Option<Pending>,
    /// The steps (transfer, hang up) due when the response that says them is done.
    steps_after: Option<(String, Vec<VoiceOutput>)>,
    /// A `response.create` waits for the response being made to finish.
    respond_when_done: Option<String>,
    answering: Option<Answering>,
    asked: Instant,
    speech_stopped: Option<Instant>,
    heard_so_far: String,
    agent_speaking: bool,
    /// How much of the agent's utterance the runtime has played, as of the last frame.
    agent_played: Duration,
    failed: bool,
}

/// A call's open session with the service, and the room it takes under the connection caps.
pub struct Connection {
    outgoing: mpsc::Sender<String>,
    incoming: mpsc::Receiver<ServerEvent>,
    socket: JoinHandle<()>,
    slot: Slot,
}

impl Connection {
    /// Opens and configures a session; an error when the service cannot be reached.
    pub async fn open(settings: &RealtimeSettings, end_silence: Duration, slot: Slot) -> Result<Self, ProviderError> {
        let unusable = |e: &dyn std::fmt::Display| ProviderError::Unusable(e.to_string());
        let url = format!("{}?model={}", settings.url, settings.model);
        let mut request = url.into_client_request().map_err(|e| unusable(&e))?;
        if let Some(key) = &settings.api_key {
            request.headers_mut().insert("authorization", format!("Bearer {key}").parse().map_err(|e| unusable(&e))?);
        }
        let socket = provider::connect_websocket(request, settings.timeout, "the realtime socket").await?;
        let (outgoing, to_send) = mpsc::channel(OUTGOING);
        let (received, incoming) = mpsc::channel(OUTGOING);
        let socket = tokio::spawn(relay(socket, to_send, received));
        let session = events::Session {
            instructions: INSTRUCTIONS,
            voice: &settings.voice,
            transcription_model: &settings.transcription_model,
            silence_ms: end_silence.as_millis() as u64,
        };
        let _ = outgoing.try_send(events::session_update(&session));
        Ok(Self { outgoing, incoming, socket, slot })
    }
}

impl Realtime {
    pub fn new(
        connection: Connection,
        speech: Arc<Speech>,
        conversation: Box<dyn Conversation>,
        language: Language,
    ) -> Self {
        let Connection { outgoing, incoming, socket, slot } = connection;
        let (replies, replied) = mpsc::unbounded_channel();
        Self {
            listener: Listener::new(speech.listen, RATE).expect("16 kHz needs no resampling"),
            to_model: Resampler::new(RATE, events::RATE).expect("16 to 24 kHz resamples"),
            from_model: Resampler::new(events::RATE, RATE).expect("24 to 16 kHz resamples"),
            speech,
            conversation: Arc::new(tokio::sync::Mutex::new(conversation)),
            language,
            upsampled: Vec::new(),
            outgoing,
            incoming: Some(incoming),
            socket,
            _slot: slot,
            replies,
            replied,
            queued: VecDeque::new(),
            response: None,
            speaking: None,
            pending: None,
            steps_after: None,
            respond_when_done: None,
            answering: None,
            asked: Instant::now(),
            speech_stopped: None,
            heard_so_far: String::new(),
            agent_speaking: false,
            agent_played: Duration::ZERO,
            failed: false,
        }
    }

    fn send(&mut self, message: String) {
        if self.outgoing.try_send(message).is_err() && !self.failed {
            tracing::warn!("the realtime session fell behind or closed");
        }
    }

    /// Asks the conversation on its own task (it runs to the end, as in the cascade).
    fn ask(&self, said: Said, call_id: Option<String>) {
        let (conversation, replies) = (self.conversation.clone(), self.replies.clone());
        tokio::spawn(async move {
            let reply = conversation.lock().await.reply(said).await;
            let _ = replies.send(match call_id {
                Some(call_id) => Replied::Tool { call_id, reply },
                None => Replied::Say(reply),
            });
        });
    }

    /// Creates a response now, or once the one being made is done.
    fn respond(&mut self, message: String) {
        self.asked = Instant::now();
        match &self.response {
            Some(_) => self.respond_when_done = Some(message),
            None => self.send(message),
        }
    }

    /// Whether the agent is still making or playing what it says.
    fn agent_speaking(&self) -> bool {
        self.agent_speaking || self.speaking.as_ref().is_some_and(|s| !s.complete)
    }

    fn barge_in(&mut self) -> VoiceOutput {
        if let Some(speaking) = self.speaking.take() {
            // What the caller heard: what the runtime played of it, at most what it was given.
            let sent_ms = speaking.samples * 1_000 / u64::from(RATE);
            let played_ms = (self.agent_played.as_millis() as u64).min(sent_ms);
            self.send(events::truncate(&speaking.item_id, played_ms));
        }
        if let Some((_, cancelled)) = self.response.as_mut().filter(|(_, cancelled)| !cancelled) {
            *cancelled = true;
            self.send(events::cancel());
        }
        VoiceOutput::StopSpeaking
    }

    fn replied(&mut self, replied: Replied) {
        let (reply, call_id) = match replied {
            Replied::Say(reply) => (reply, None),
            Replied::Tool { call_id, reply } => (reply, Some(call_id)),
        };
        let reply = match reply {
            Ok(reply) => reply,
            Err(error) => {
                tracing::error!(%error, "the conversation failed");
                self.failed = true;
                return;
            }
        };
        self.language = reply.language;
        let mut text = Vec::new();
        let mut steps = Vec::new();
        for step in reply.steps {
            match step {
                Step::Say(said) => text.push(said),
                Step::Transfer(reason) => steps.push(VoiceOutput::Transfer { reason }),
                Step::HangUp => steps.push(VoiceOutput::HangUp),
            }
        }
        let text = text.join(" ");
        if let Some(answering) = &mut self.answering {
            answering.llm_first_token = Some(self.asked.elapsed());
            answering.understanding = reply.understanding;
            answering.tools = reply.tools;
        }
        let message = match &call_id {
            Some(call_id) => {
                self.send(events::tool_output(call_id, &text));
                events::respond()
            }
            None if text.is_empty() => {
                self.queued.extend(steps);
                return;
            }
            None => events::say(&text),
        };
        self.pending = Some(Pending { text, steps });
        self.respond(message);
    }

    fn event(&mut self, event: ServerEvent) -> Option<VoiceOutput> {
        match event {
            ServerEvent::SpeechStopped => self.speech_stopped = Some(Instant::now()),
            ServerEvent::Committed { .. } => {
                self.heard_so_far.clear();
                if self.agent_speaking() {
                    // Speech the agent talked on through: a backchannel, not a turn.
                    return None;
                }
                let now = Instant::now();
                self.answering = Some(Answering {
                    cause: Cause::Speech,
                    speech_ended: self.speech_stopped.take().unwrap_or(now),
                    eos: self.speech.listen.end_silence,
                    stt: Duration::ZERO,
                    understanding: Duration::ZERO,
                    llm_first_token: None,
                    tools: Duration::ZERO,
                    tts_first_audio: Duration::ZERO,
                });
                self.respond(events::respond());
            }
            ServerEvent::HeardSoFar { delta, .. } => {
                self.heard_so_far.push_str(&delta);
                let words = self.heard_so_far.clone();
                if self.listener.words(words.trim(), self.agent_speaking()) == Some(Heard::BargeIn) {
                    return Some(self.barge_in());
                }
            }
            ServerEvent::Heard { transcript, .. } if !transcript.trim().is_empty() => {
                return Some(VoiceOutput::Heard {
                    text: transcript.trim().to_owned(),
                    language: Some(self.language),
                    intent: None,
                });
            }
            ServerEvent::ResponseCreated { response } => {
                if let Some(pending) = self.pending.as_mut() {
                    self.steps_after = Some((response.id.clone(), std::mem::take(&mut pending.steps)));
                }
                self.response = Some((response.id, false));
            }
            ServerEvent::Audio { response_id, item_id, delta } => {
                if self.response.as_ref().is_some_and(|(id, cancelled)| *id == response_id && *cancelled) {
                    return None;
                }
                let samples = events::audio(&delta)?;
                let mut audio = Vec::with_capacity(samples.len() * 2 / 3 + 1);
                self.from_model.push(&samples, &mut audio);
                if self.speaking.as_ref().is_none_or(|s| s.item_id != item_id || s.complete) {
                    let text = self.pending.take().map(|p| p.text).unwrap_or_default();
                    let answering =
                        self.answering.take().map(|a| Answering { tts_first_audio: self.asked.elapsed(), ..a });
                    self.speaking = Some(Speaking { item_id, samples: 0, complete: false });
                    self.queued.push_back(VoiceOutput::Speak { text, answering });
                }
                if let Some(speaking) = &mut self.speaking {
                    speaking.samples += audio.len() as u64;
                }
                self.queued.push_back(VoiceOutput::Audio(audio));
            }
            ServerEvent::Said { item_id, transcript } => {
                if self.speaking.as_ref().is_some_and(|s| s.item_id == item_id && !s.complete) {
                    return Some(VoiceOutput::Words(transcript));
                }
            }
            ServerEvent::ToolCall { call_id, name, arguments } => match events::said(&arguments) {
                Some(said) if name == events::AGENT_TOOL => self.ask(Said::Words(said), Some(call_id)),
                _ => {
                    tracing::warn!(tool = %name, "the model called a tool it does not have");
                    self.send(events::tool_output(&call_id, ""));
                }
            },
            ServerEvent::ResponseDone { response } => {
                if self.response.as_ref().is_some_and(|(id, _)| *id == response.id) {
                    self.response = None;
                }
                if let Some(speaking) = self.speaking.as_mut().filter(|s| !s.complete) {
                    speaking.complete = true;
                    self.queued.push_back(VoiceOutput::Spoken);
                }
                if let Some((id, steps)) = self.steps_after.take() {
                    if id == response.id {
                        self.queued.extend(steps);
                    } else {
                        self.steps_after = Some((id, steps));
                    }
                }
                if let Some(message) = self.respond_when_done.take() {
                    self.send(message);
                }
            }
            ServerEvent::Error { error } => {
                tracing::warn!(code = ?error.code, message = %error.message, "the realtime service reported an error");
            }
            ServerEvent::Heard { .. } | ServerEvent::Other => {}
        }
        None
    }

    /// Never silence: the apology, then a person or the end of the call.
    async fn give_up(&mut self) {
        let language = self.language;
        let text = apology(language);
        // The speech service's voice (the one made ahead): the model's voices are its own.
        match self.speech.voice.phrase(text, language, None).await {
            Ok(audio) => self.queued.extend(crate::voice::say(text, audio.to_vec())),
            Err(error) => tracing::error!(%error, "no synthesiser could apologise"),
        }
        self.queued.push_back(VoiceOutput::Transfer {
            reason: "the realtime speech service or the conversation failed".into(),
        });
        self.queued.push_back(VoiceOutput::HangUp);
    }
}

impl Drop for Realtime {
    fn drop(&mut self) {
        self.socket.abort();
    }
}

#[async_trait::async_trait]
impl VoiceEngine for Realtime {
    fn handle(&mut self, input: VoiceInput<'_>) -> Vec<VoiceOutput> {
        match input {
            VoiceInput::Started => self.ask(Said::Started, None),
            VoiceInput::Digits(digits) => {
                self.ask(Said::Keys(digits.to_owned()), None);
                return vec![VoiceOutput::Heard { text: digits.to_owned(), language: None, intent: None }];
            }
            VoiceInput::Audio { frame, agent_speaking, agent_played } => {
                self.agent_speaking = agent_speaking;
                self.agent_played = agent_played;
                let heard = self.listener.frame(frame, agent_speaking);
                if heard == Some(Heard::SpeechStarted) {
                    self.heard_so_far.clear();
                }
                self.upsampled.clear();
                self.to_model.push(frame, &mut self.upsampled);
                let append = events::append(&self.upsampled);
                self.send(append);
                if heard == Some(Heard::BargeIn) {
                    return vec![self.barge_in()];
                }
            }
        }
        Vec::new()
    }

    async fn later(&mut self, _agent_speaking: bool) -> VoiceOutput {
        loop {
            if let Some(output) = self.queued.pop_front() {
                return output;
            }
            if self.failed {
                self.failed = false;
                self.give_up().await;
                continue;
            }
            let incoming = async {
                match &mut self.incoming {
                    Some(incoming) => incoming.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                event = incoming => match event {
                    Some(event) => {
                        if let Some(output) = self.event(event) {
                            self.queued.push_back(output);
                        }
                    }
                    None => {
                        tracing::error!("the realtime session ended");
                        self.incoming = None;
                        self.failed = true;
                    }
                },
                Some(replied) = self.replied.recv() => self.replied(replied),
            }
        }
    }
}

/// The socket's task: messages out as they are queued, server events in as they arrive.
async fn relay(
    socket: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    mut to_send: mpsc::Receiver<String>,
    received: mpsc::Sender<ServerEvent>,
) {
    let (mut sink, mut stream) = socket.split();
    loop {
        tokio::select! {
            message = to_send.recv() => {
                let Some(message) = message else {
                    let _ = sink.close().await;
                    return;
                };
                if sink.send(Message::Text(message.into())).await.is_err() {
                    return;
                }
            }
            message = stream.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    if let Some(event) = events::parse(&text)
                        && event != ServerEvent::Other
                        && received.send(event).await.is_err()
                    {
                        return;
                    }
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
        }
    }
}
