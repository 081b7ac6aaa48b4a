//! The cascade engine: listen (VAD turns, live words) → speech to text → the conversation →
//! text to speech, per caller turn.
//!
//! The call's task drives it with frames ([`VoiceEngine::handle`], never blocking) and awaits
//! what its turn tasks produce ([`VoiceEngine::later`]). Each caller turn is answered by one
//! task: its words (the live transcriber's final words, else the utterance transcribed whole by
//! the first transcriber that answers), then the conversation, then speech. A task still
//! listening is cancelled when the caller goes on talking (the turn continues); a barge-in
//! cancels its speech and drops whatever of it was not played. The conversation itself always
//! runs to the end, on its own task, so an agent never stops halfway through a decision.
//! Dropping the engine aborts its tasks and closes its live transcription.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use caly_core::{Language, dialogue::Rules};
use tokio::{
    sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot},
    task::JoinHandle,
    time::Instant,
};

use crate::{
    connections::{CallConnections, ConnectionCaps, Slot},
    listen::{Heard, ListenSettings, Listener, is_backchannel},
    provider::{Breaker, ProviderError},
    speak::Voice,
    stt::{Live, Transcriber},
    voice::{Answering, Cause, VoiceEngine, VoiceInput, VoiceOutput},
};

/// What every call's cascade shares: providers, breakers, settings, caps.
pub struct Speech {
    transcribers: Vec<(Arc<dyn Transcriber>, Breaker)>,
    pub voice: Arc<Voice>,
    pub listen: ListenSettings,
    /// How long the live transcriber's final words may take before the utterance is
    /// transcribed whole instead.
    pub live_wait: Duration,
    /// Live transcriptions open at once, for the whole server.
    live_sessions: Arc<Semaphore>,
    /// Provider connections per call and per tenant.
    pub caps: Arc<ConnectionCaps>,
    /// Tells a sentence cut off by a pause.
    rules: Arc<Rules>,
}

impl Speech {
    pub fn new(
        transcribers: Vec<Arc<dyn Transcriber>>,
        voice: Voice,
        listen: ListenSettings,
        max_live: usize,
        caps: ConnectionCaps,
        rules: Arc<Rules>,
    ) -> Self {
        Self {
            transcribers: transcribers.into_iter().map(|t| (t, Breaker::default())).collect(),
            voice: Arc::new(voice),
            listen,
            live_wait: Duration::from_secs(1),
            live_sessions: Arc::new(Semaphore::new(max_live)),
            caps: Arc::new(caps),
            rules,
        }
    }

    /// The utterance's words from the first transcriber that answers.
    async fn transcribe(&self, audio: &[i16], language: Language) -> Result<String, ProviderError> {
        let mut last = ProviderError::Unavailable("no transcriber is configured".into());
        for (transcriber, breaker) in &self.transcribers {
            if !breaker.allows() {
                last = ProviderError::BreakerOpen;
                continue;
            }
            let result = transcriber.transcribe(audio, language).await;
            breaker.record(&result);
            match result {
                Ok(text) => return Ok(text),
                Err(error) => {
                    tracing::warn!(transcriber = transcriber.name(), %error, "transcription failed");
                    last = error;
                }
            }
        }
        Err(last)
    }

    /// A live session with the first transcriber that has one, if the server, the call and
    /// its tenant have room for it.
    async fn live(&self, language: Language, connections: &CallConnections) -> Option<LiveSession> {
        let (transcriber, breaker) = self.transcribers.first()?;
        let server = self.live_sessions.clone().try_acquire_owned().ok()?;
        if !breaker.allows() {
            return None;
        }
        let slot = connections
            .try_take()
            .inspect_err(|exhausted| tracing::warn!("no live transcription for this call: {exhausted}"))
            .ok()?;
        let result = transcriber.live(language).await?;
        breaker.record(&result);
        match result {
            Ok(live) => Some(LiveSession { live, _server: server, _slot: slot }),
            Err(error) => {
                tracing::warn!(transcriber = transcriber.name(), %error, "live transcription failed to start");
                None
            }
        }
    }
}

/// A live transcription and the room it takes.
struct LiveSession {
    live: Live,
    _server: OwnedSemaphorePermit,
    _slot: Slot,
}

/// How long a turn waits for room under its call's and tenant's connection caps before the
/// caller hears the apology.
const SLOT_WAIT: Duration = Duration::from_secs(1);

/// What the caller did, for the conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Said {
    Started,
    Words(String),
    Keys(String),
}

/// The conversation's answer to one thing the caller did.
#[derive(Debug, Clone)]
pub struct Reply {
    pub steps: Vec<Step>,
    /// The language to answer in.
    pub language: Language,
    /// What the caller meant, for the transcript.
    pub intent: Option<String>,
    pub understanding: Duration,
    pub llm_first_token: Option<Duration>,
    pub tools: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Say(String),
    Transfer(String),
    HangUp,
}

/// The dialogue behind a call: the agent, its store and its tools.
#[async_trait::async_trait]
pub trait Conversation: Send {
    async fn reply(&mut self, said: Said) -> Result<Reply, String>;
}

/// Said when a provider or the conversation failed, before the call is handed over or ended.
pub fn apology(language: Language) -> &'static str {
    match language {
        Language::En => "Sorry, I am having trouble right now. Let me connect you to someone who can help.",
        Language::Hi => "माफ़ कीजिए, अभी मुझे दिक्कत हो रही है। मैं आपको किसी साथी से जोड़ता हूँ।",
        Language::Hinglish => "Maaf kijiye, abhi mujhe dikkat ho rahi hai. Main aapko kisi saathi se jodta hoon.",
    }
}

/// Where a turn's task stands; the engine and the task agree on it under one lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Still getting the words: the caller may yet go on, and the task be cancelled.
    Listening,
    Cancelled,
    /// The conversation has the words: this turn is answered, whatever comes next.
    Committed,
}

struct TurnTask {
    generation: u64,
    phase: Arc<Mutex<Phase>>,
    /// The answer's steps not taken yet: a barge-in cuts off its speech, not its decisions.
    steps: Arc<Mutex<Vec<Step>>>,
    handle: JoinHandle<()>,
}

/// The generation of outputs no barge-in silences: the decisions of a reply cut off.
const DECIDED: u64 = u64::MAX;

/// The words of a turn, as the task gets them.
enum Words {
    Live(oneshot::Receiver<String>),
    Whole,
}

pub struct Cascade {
    speech: Arc<Speech>,
    /// The tenant's voice; `None`: the synthesisers' own.
    voice: Option<Arc<str>>,
    conversation: Arc<tokio::sync::Mutex<Box<dyn Conversation>>>,
    language: Arc<Mutex<Language>>,
    listener: Listener,
    live: Option<LiveSession>,
    connections: CallConnections,
    /// The caller's audio of this turn, kept for a whole transcription.
    utterance: Vec<i16>,
    /// The live transcriber's final words of this turn, and its latest interim ones.
    final_words: String,
    interim_words: String,
    finalizing: Option<oneshot::Sender<String>>,
    turn: Option<TurnTask>,
    generation: u64,
    /// Outputs of generations up to this one are dropped: their speech was cut off.
    silenced: u64,
    agent_was_speaking: bool,
    outputs: mpsc::UnboundedSender<(u64, VoiceOutput)>,
    received: mpsc::UnboundedReceiver<(u64, VoiceOutput)>,
}

/// The longest turn kept for a whole transcription.
const MAX_UTTERANCE: usize = crate::voice::RATE as usize * 30;

impl Cascade {
    pub async fn new(
        speech: Arc<Speech>,
        voice: Option<&str>,
        connections: CallConnections,
        conversation: Box<dyn Conversation>,
        language: Language,
    ) -> Self {
        let listener = Listener::new(speech.listen, crate::voice::RATE).expect("16 kHz needs no resampling");
        let live = speech.live(language, &connections).await;
        let (outputs, received) = mpsc::unbounded_channel();
        Self {
            speech,
            voice: voice.map(Arc::from),
            conversation: Arc::new(tokio::sync::Mutex::new(conversation)),
            language: Arc::new(Mutex::new(language)),
            listener,
            live,
            connections,
            utterance: Vec::new(),
            final_words: String::new(),
            interim_words: String::new(),
            finalizing: None,
            turn: None,
            generation: 0,
            silenced: 0,
            agent_was_speaking: false,
            outputs,
            received,
        }
    }

    fn start_turn(&mut self, said: Option<Said>) {
        self.generation += 1;
        let words = match (&said, &self.live) {
            (Some(_), _) => Words::Whole,
            (None, Some(session)) if session.live.finalize() => {
                let (sender, receiver) = oneshot::channel();
                self.finalizing = Some(sender);
                Words::Live(receiver)
            }
            (None, _) => Words::Whole,
        };
        let phase = Arc::new(Mutex::new(Phase::Listening));
        let steps = Arc::new(Mutex::new(Vec::new()));
        let eos = if said.is_none() { self.speech.listen.end_silence } else { Duration::ZERO };
        let job = Job {
            speech: self.speech.clone(),
            voice: self.voice.clone(),
            connections: self.connections.clone(),
            conversation: self.conversation.clone(),
            language: self.language.clone(),
            phase: phase.clone(),
            steps: steps.clone(),
            generation: self.generation,
            outputs: self.outputs.clone(),
            said,
            words,
            audio: self.utterance.clone(),
            agent_was_speaking: self.agent_was_speaking,
            speech_ended: Instant::now(),
            eos,
        };
        // A turn answered before this one keeps speaking until it is done or cut off: its
        // task is not ours to abort any more (dropping a handle does not).
        let handle = tokio::spawn(job.run());
        self.turn = Some(TurnTask { generation: self.generation, phase, steps, handle });
    }

    /// The caller spoke again: a turn still listening goes on with this speech; an answered
    /// one is left to finish.
    fn speech_started(&mut self) {
        let listening = self.turn.as_ref().is_some_and(|turn| {
            let mut phase = turn.phase.lock().expect("phase lock");
            if *phase == Phase::Listening {
                *phase = Phase::Cancelled;
                true
            } else {
                false
            }
        });
        if let Some(turn) = self.turn.as_ref().filter(|_| listening) {
            turn.handle.abort();
            self.silenced = self.silenced.max(turn.generation);
            self.finalizing = None;
        } else {
            self.utterance.clear();
            self.final_words.clear();
        }
        self.interim_words.clear();
    }

    fn barge_in(&mut self) -> VoiceOutput {
        if let Some(turn) = &self.turn {
            turn.handle.abort();
            self.silenced = self.silenced.max(turn.generation);
            // A transfer or hang-up the agent decided still happens; only its words stop.
            for step in turn.steps.lock().expect("steps lock").drain(..).rev() {
                let decided = match step {
                    Step::Say(_) => continue,
                    Step::Transfer(reason) => VoiceOutput::Transfer { reason },
                    Step::HangUp => VoiceOutput::HangUp,
                };
                let _ = self.outputs.send((DECIDED, decided));
            }
        }
        VoiceOutput::StopSpeaking
    }

    fn heard_live(&mut self, heard: crate::stt::LiveHeard, agent_speaking: bool) -> Option<VoiceOutput> {
        if heard.is_final {
            if !heard.text.trim().is_empty() {
                if !self.final_words.is_empty() {
                    self.final_words.push(' ');
                }
                self.final_words.push_str(heard.text.trim());
            }
            self.interim_words.clear();
        } else {
            self.interim_words = heard.text;
        }
        if heard.from_finalize
            && let Some(sender) = self.finalizing.take()
        {
            let _ = sender.send(self.final_words.clone());
        }
        let words = format!("{} {}", self.final_words, self.interim_words);
        match self.listener.words(words.trim(), agent_speaking) {
            Some(Heard::BargeIn) => Some(self.barge_in()),
            _ => None,
        }
    }
}

impl Drop for Cascade {
    fn drop(&mut self) {
        if let Some(turn) = &self.turn {
            turn.handle.abort();
        }
    }
}

#[async_trait::async_trait]
impl VoiceEngine for Cascade {
    fn handle(&mut self, input: VoiceInput<'_>) -> Vec<VoiceOutput> {
        match input {
            VoiceInput::Started => {
                self.start_turn(Some(Said::Started));
                Vec::new()
            }
            VoiceInput::Digits(digits) => {
                self.start_turn(Some(Said::Keys(digits.to_owned())));
                Vec::new()
            }
            VoiceInput::Audio { frame, agent_speaking, .. } => {
                let heard = self.listener.frame(frame, agent_speaking);
                if heard == Some(Heard::SpeechStarted) {
                    self.speech_started();
                    self.agent_was_speaking = agent_speaking;
                }
                if self.listener.is_speaking() || heard == Some(Heard::SpeechEnded) {
                    let room = MAX_UTTERANCE.saturating_sub(self.utterance.len());
                    self.utterance.extend_from_slice(&frame[..frame.len().min(room)]);
                }
                if let Some(session) = &self.live
                    && !session.live.audio(frame)
                {
                    tracing::warn!("live transcription fell behind; turns are transcribed whole");
                    self.live = None;
                }
                match heard {
                    Some(Heard::BargeIn) => vec![self.barge_in()],
                    Some(Heard::SpeechEnded) => {
                        self.start_turn(None);
                        Vec::new()
                    }
                    _ => Vec::new(),
                }
            }
        }
    }

    async fn later(&mut self, agent_speaking: bool) -> VoiceOutput {
        loop {
            let live = async {
                match &mut self.live {
                    Some(session) => session.live.heard.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                Some((generation, output)) = self.received.recv() => {
                    if generation > self.silenced {
                        return output;
                    }
                }
                heard = live => match heard {
                    Some(heard) => {
                        if let Some(output) = self.heard_live(heard, agent_speaking) {
                            return output;
                        }
                    }
                    None => {
                        tracing::warn!("live transcription ended; turns are transcribed whole");
                        self.live = None;
                    }
                },
            }
        }
    }
}

/// One turn's work, moved into its task.
struct Job {
    speech: Arc<Speech>,
    voice: Option<Arc<str>>,
    connections: CallConnections,
    conversation: Arc<tokio::sync::Mutex<Box<dyn Conversation>>>,
    language: Arc<Mutex<Language>>,
    phase: Arc<Mutex<Phase>>,
    steps: Arc<Mutex<Vec<Step>>>,
    generation: u64,
    outputs: mpsc::UnboundedSender<(u64, VoiceOutput)>,
    said: Option<Said>,
    words: Words,
    audio: Vec<i16>,
    agent_was_speaking: bool,
    speech_ended: Instant,
    eos: Duration,
}

impl Job {
    fn emit(&self, output: VoiceOutput) {
        let _ = self.outputs.send((self.generation, output));
    }

    /// A transfer or hang-up: it happens even if the words before it are cut off.
    fn decide(&self, output: VoiceOutput) {
        let _ = self.outputs.send((DECIDED, output));
    }

    fn language(&self) -> Language {
        *self.language.lock().expect("language lock")
    }

    async fn run(mut self) {
        let started = Instant::now();
        // A greeting is a phrase made ahead and a template: it takes no provider connection.
        let _slot = match self.said {
            Some(Said::Started) => None,
            _ => match self.connections.take(SLOT_WAIT).await {
                Ok(slot) => Some(slot),
                Err(exhausted) => {
                    tracing::error!("a caller's turn found no room: {exhausted}");
                    return self.give_up().await;
                }
            },
        };
        let said = match self.said.clone() {
            Some(said) => said,
            None => match self.words().await {
                Ok(words) if words.is_empty() => return,
                Ok(words) if self.agent_was_speaking && is_backchannel(&words) => return,
                Ok(words) => {
                    if self.speech.rules.is_incomplete(&words) {
                        tokio::time::sleep(self.speech.listen.max_wait.saturating_sub(self.eos)).await;
                    }
                    Said::Words(words)
                }
                Err(error) => {
                    tracing::error!(%error, "no transcriber understood the caller");
                    return self.give_up().await;
                }
            },
        };
        let stt = started.elapsed();
        {
            let mut phase = self.phase.lock().expect("phase lock");
            if *phase == Phase::Cancelled {
                return;
            }
            *phase = Phase::Committed;
        }
        let conversation = self.conversation.clone();
        let words = match &said {
            Said::Words(words) => Some(words.clone()),
            _ => None,
        };
        let reply = tokio::spawn(async move { conversation.lock().await.reply(said).await }).await;
        let reply = match reply {
            Ok(Ok(reply)) => reply,
            Ok(Err(error)) => {
                tracing::error!(%error, "the conversation failed");
                return self.give_up().await;
            }
            Err(error) => {
                tracing::error!(%error, "the conversation panicked");
                return self.give_up().await;
            }
        };
        *self.language.lock().expect("language lock") = reply.language;
        if let Some(text) = words {
            self.emit(VoiceOutput::Heard { text, language: Some(reply.language), intent: reply.intent.clone() });
        }
        let cause = match self.said {
            None => Cause::Speech,
            Some(Said::Keys(_)) => Cause::Keys,
            Some(_) => Cause::Greeting,
        };
        let mut answering = Some(Answering {
            cause,
            speech_ended: self.speech_ended,
            eos: self.eos,
            stt,
            understanding: reply.understanding,
            llm_first_token: reply.llm_first_token,
            tools: reply.tools,
            tts_first_audio: Duration::ZERO,
        });
        let fixed = self.said == Some(Said::Started);
        *self.steps.lock().expect("steps lock") = reply.steps.into_iter().rev().collect();
        while let Some(step) = self.next_step() {
            match step {
                Step::Say(text) if fixed => {
                    if !self.say_phrase(&text, reply.language, answering.take()).await {
                        return self.give_up().await;
                    }
                }
                Step::Say(text) => {
                    if !self.say(&text, reply.language, &mut answering).await {
                        return self.give_up().await;
                    }
                }
                Step::Transfer(reason) => self.decide(VoiceOutput::Transfer { reason }),
                Step::HangUp => self.decide(VoiceOutput::HangUp),
            }
        }
    }

    fn next_step(&self) -> Option<Step> {
        self.steps.lock().expect("steps lock").pop()
    }

    /// The turn's words: the live transcriber's, else the utterance transcribed whole.
    async fn words(&mut self) -> Result<String, ProviderError> {
        if let Words::Live(receiver) = std::mem::replace(&mut self.words, Words::Whole) {
            let waited = tokio::time::timeout(self.speech.live_wait, receiver).await;
            match waited {
                Ok(Ok(words)) => return Ok(words),
                _ => tracing::warn!("the live transcriber gave no final words; transcribing the turn whole"),
            }
        }
        self.speech.transcribe(&self.audio, self.language()).await
    }

    /// Speaks `text`, streamed; false when no synthesiser could.
    async fn say(&self, text: &str, language: Language, answering: &mut Option<Answering>) -> bool {
        let (pieces, mut received) = mpsc::channel(16);
        let asked = Instant::now();
        let mut first = answering.take();
        let relay = async {
            let mut started = false;
            while let Some(audio) = received.recv().await {
                if !started {
                    started = true;
                    let answering = first.take().map(|a| Answering { tts_first_audio: asked.elapsed(), ..a });
                    self.emit(VoiceOutput::Speak { text: text.to_owned(), answering });
                }
                self.emit(VoiceOutput::Audio(audio));
            }
            started
        };
        let speak = async {
            let result = self.speech.voice.speak(text, language, self.voice.as_deref(), &pieces).await;
            drop(pieces);
            result
        };
        let (result, started) = tokio::join!(speak, relay);
        if started {
            self.emit(VoiceOutput::Spoken);
        }
        if let Err(error) = &result {
            tracing::error!(%error, "no synthesiser could speak");
        }
        started
    }

    /// Speaks a fixed phrase (a greeting), synthesised once per text and language and kept,
    /// so it starts at once even when the speech service is cold.
    async fn say_phrase(&self, text: &str, language: Language, answering: Option<Answering>) -> bool {
        let asked = Instant::now();
        match self.speech.voice.phrase(text, language, self.voice.as_deref()).await {
            Ok(audio) => {
                let answering = answering.map(|a| Answering { tts_first_audio: asked.elapsed(), ..a });
                self.emit(VoiceOutput::Speak { text: text.to_owned(), answering });
                self.emit(VoiceOutput::Audio(audio.to_vec()));
                self.emit(VoiceOutput::Spoken);
                true
            }
            Err(error) => {
                tracing::error!(%error, "no synthesiser could speak");
                false
            }
        }
    }

    /// Never silence: an apology in the caller's language, then a person — or, where there is
    /// no one to transfer to, the end of the call.
    async fn give_up(&self) {
        let language = self.language();
        self.say_phrase(apology(language), language, None).await;
        self.emit(VoiceOutput::Transfer { reason: "the speech services or the conversation failed".into() });
        self.emit(VoiceOutput::HangUp);
    }
}
