//! One call, one task: carrier messages in, the voice engine in the middle, paced agent audio
//! out. The task owns the call's state; writes go to the store in order through [`writer`], the
//! recording to a file, then the object store.
//!
//! Audio path: carrier PCM (8 kHz, or 16 kHz from browsers) → 16 kHz 20 ms frames → engine;
//! engine audio (16 kHz) → carrier rate → 20 ms frames → [`Pacer`] → wire. Each utterance ends
//! with a mark; the carrier's acknowledgement says it was heard, and on barge-in the unheard
//! part of what the agent said is cut from the transcript.

mod carrier_api;
mod conversation;
pub mod credentials;
mod recording;
pub mod recording_store;
pub mod retention;
pub mod speech;
mod writer;

use std::{collections::VecDeque, time::Duration};

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use caly_audio::{
    frame::Framer,
    pacing::{FRAME, Paced, Pacer},
    resample::Resampler,
};
use caly_core::{
    Language,
    agent::Setup,
    call::{CallStatus, Outcome, Speaker},
    settings::Settings,
};
use caly_engines::{
    cascade::Cascade,
    realtime::{Connection, Realtime},
    voice::{self, Answering, Cause, TestEngine, VoiceEngine, VoiceInput, VoiceOutput},
};
use caly_store::Turn;
use caly_telephony::{
    CallCommand, CallEvent, Carrier, Inbound, MediaError, MediaProtocol, Outbound, dtmf::DigitCollector,
};
use tokio::{sync::mpsc, time::Instant};
use tracing::Instrument;

use crate::{auth::now_micros, config::SpeechEngine, http::audit::AuditContext, state::AppState};
use writer::{Ending, Write};

/// What the webhook (or the dashboard) established before the media stream connected.
pub struct CallSetup {
    pub tenant_id: String,
    pub call_id: String,
    pub carrier: Carrier,
    pub carrier_call_id: Option<String>,
    pub greeting: String,
    pub escalation_number: Option<String>,
    pub record: bool,
    /// Where Plivo fetches the `<Dial>` of a transfer.
    pub dial_url: String,
    /// The calling number, E.164, when the carrier told it.
    pub caller: Option<String>,
    pub language: Language,
    pub timezone: String,
    pub settings: Settings,
    /// The media request's facts, for the audit rows of the call's actions.
    pub audit: AuditContext,
}

/// How long after its last frame an utterance's mark may take before the call moves on.
const MARK_GRACE: Duration = Duration::from_secs(3);

/// One thing the agent said, as it is being played.
struct Utterance {
    id: u64,
    text: String,
    frames: u32,
    sent: u32,
    /// All its audio is with the pacer.
    complete: bool,
    /// Its mark left: everything of it is with the carrier.
    marked: bool,
    /// How it came to answer the caller, until its first frame goes out.
    answering: Option<Answering>,
}

enum End {
    CallerHungUp,
    AgentHungUp,
    /// Handed to a person at this number.
    Transferred(String),
    SocketClosed,
    ServerStopping,
}

pub async fn run(state: AppState, setup: CallSetup, socket: WebSocket) {
    let span = tracing::info_span!("call", call_id = %setup.call_id, tenant_id = %setup.tenant_id, carrier = setup.carrier.as_str());
    async move {
        let _active = state.metrics.call_started();
        let target = writer::Target {
            tenant_id: setup.tenant_id.clone(),
            call_id: setup.call_id.clone(),
            record: setup.record.then_some(setup.carrier.sample_rate()),
        };
        let (writes, writer) = writer::spawn(state.clone(), target);
        let engine = match engine(&state, &setup).await {
            Ok(engine) => engine,
            Err(error) => {
                tracing::error!(%error, "the call's engine could not start");
                return;
            }
        };
        let mut session = match Session::new(&state, &setup, writes, engine) {
            Ok(session) => session,
            Err(error) => {
                tracing::error!(%error, "the call could not start");
                return;
            }
        };
        let end = session.run(socket).await;
        session.finish(end).await;
        drop(session);
        let _ = writer.await;
    }
    .instrument(span)
    .await
}

/// The engine `[speech] engine` names: the cascade or the realtime model with the tenant's
/// agent (the cascade when the realtime service cannot be reached), or the echo.
async fn engine(state: &AppState, setup: &CallSetup) -> anyhow::Result<Box<dyn VoiceEngine>> {
    let config = &state.config.speech;
    if config.engine == SpeechEngine::Echo {
        return Ok(Box::new(TestEngine::new(setup.greeting.clone())));
    }
    let connections = state.speech.caps.for_call(&setup.tenant_id);
    let voice = setup.settings.agent.chosen_voice();
    let realtime = match config.engine {
        SpeechEngine::Realtime => match connections.try_take() {
            Ok(slot) => {
                match Connection::open(&speech::realtime_settings(config, voice), config.end_silence, slot).await {
                    Ok(connection) => Some(connection),
                    Err(error) => {
                        tracing::error!(%error, "the realtime service cannot be reached; the cascade answers");
                        None
                    }
                }
            }
            Err(exhausted) => {
                tracing::warn!("no realtime session for this call ({exhausted}); the cascade answers");
                None
            }
        },
        _ => None,
    };
    let commerce = crate::commerce::connector_for(state, &setup.tenant_id, &setup.settings.store).await?;
    let agent = Setup {
        call_id: setup.call_id.clone(),
        caller: setup.caller.clone(),
        language: setup.language,
        timezone: setup.timezone.clone(),
        settings: setup.settings.clone(),
    };
    let conversation = Box::new(conversation::CallConversation::new(
        state.clone(),
        setup.tenant_id.clone(),
        agent,
        commerce,
        setup.audit.clone(),
    ));
    Ok(match realtime {
        Some(connection) => Box::new(Realtime::new(connection, state.speech.clone(), conversation, setup.language)),
        None => Box::new(Cascade::new(state.speech.clone(), voice, connections, conversation, setup.language).await),
    })
}

struct Session<'a> {
    state: &'a AppState,
    setup: &'a CallSetup,
    writes: mpsc::UnboundedSender<Write>,
    media: Box<dyn MediaProtocol>,
    engine: Box<dyn VoiceEngine>,
    pacer: Pacer<u64>,
    playing: VecDeque<Utterance>,
    next_utterance: u64,
    to_engine: Option<Resampler>,
    from_engine: Option<Resampler>,
    engine_frames: Framer,
    carrier_frames: Framer,
    digits: DigitCollector,
    /// `None` when the call is not recorded.
    recording: Option<recording::Pairing>,
    hang_up_when_played: bool,
    /// A transfer the agent decided, once what it is saying was heard.
    transfer_when_played: Option<String>,
    started: bool,
    outgoing: Vec<Outbound>,
    /// Caller audio at the engine's rate, reused frame after frame.
    engine_audio: Vec<i16>,
    engine_outputs: Vec<VoiceOutput>,
    last_frame_at: Instant,
    /// When the input being handled arrived.
    input_at: Instant,
    /// When the barge-in whose `clear` is about to go out was decided.
    clearing_since: Option<Instant>,
}

impl<'a> Session<'a> {
    fn new(
        state: &'a AppState,
        setup: &'a CallSetup,
        writes: mpsc::UnboundedSender<Write>,
        engine: Box<dyn VoiceEngine>,
    ) -> anyhow::Result<Self> {
        let rate = setup.carrier.sample_rate();
        let resampler = |from, to| (from != to).then(|| Resampler::new(from, to)).transpose();
        Ok(Self {
            state,
            setup,
            writes,
            media: caly_telephony::protocol(setup.carrier),
            engine,
            pacer: Pacer::new(Instant::now().into_std()),
            playing: VecDeque::new(),
            next_utterance: 1,
            to_engine: resampler(rate, voice::RATE)?,
            from_engine: resampler(voice::RATE, rate)?,
            engine_frames: Framer::new(voice::RATE),
            carrier_frames: Framer::new(rate),
            digits: DigitCollector::new(state.config.telephony.dtmf_timeout),
            recording: setup.record.then(recording::Pairing::default),
            hang_up_when_played: false,
            transfer_when_played: None,
            started: false,
            outgoing: Vec::new(),
            engine_audio: Vec::new(),
            engine_outputs: Vec::new(),
            last_frame_at: Instant::now(),
            input_at: Instant::now(),
            clearing_since: None,
        })
    }

    async fn run(&mut self, mut socket: WebSocket) -> End {
        if self.setup.carrier == Carrier::Browser {
            self.start();
        }
        let end = loop {
            let pace_at = self.pacer.next_deadline().map(Instant::from_std);
            let digits_at = self.digits.deadline().map(Instant::from_std);
            let leaving = self.hang_up_when_played || self.transfer_when_played.is_some();
            let mark_overdue = leaving && self.pacer.is_idle();
            let agent_speaking = !self.playing.is_empty();
            tokio::select! {
                biased;
                () = self.state.lifecycle.shutdown_requested() => break End::ServerStopping,
                () = sleep_until(pace_at) => self.pace(),
                output = self.engine.later(agent_speaking) => {
                    self.input_at = Instant::now();
                    self.perform(vec![output]);
                }
                message = socket.recv() => match message {
                    Some(Ok(Message::Text(text))) => { if let Some(end) = self.receive(Inbound::Text(&text)) { break end } }
                    Some(Ok(Message::Binary(bytes))) => { if let Some(end) = self.receive(Inbound::Binary(&bytes)) { break end } }
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break End::SocketClosed,
                    Some(Ok(_)) => {}
                },
                () = sleep_until(digits_at) => {
                    if let Some(typed) = self.digits.expire(Instant::now().into_std()) {
                        self.typed(&typed);
                    }
                }
                () = tokio::time::sleep_until(self.last_frame_at + MARK_GRACE), if mark_overdue => {
                    self.playing.clear();
                }
            }
            let played = self.pacer.is_idle() && self.playing.is_empty();
            if played
                && let Some(reason) = self.transfer_when_played.take()
                && let Some(end) = self.transfer(&reason)
            {
                break end;
            }
            if self.hang_up_when_played && played {
                break End::AgentHungUp;
            }
            if let Err(error) = self.flush(&mut socket).await {
                tracing::debug!(%error, "the media socket failed");
                break End::SocketClosed;
            }
        };
        if !matches!(end, End::SocketClosed) {
            let reason = match end {
                End::ServerStopping => "the server is restarting",
                _ => "the call ended",
            };
            let _ = socket.send(Message::Close(Some(CloseFrame { code: 1000, reason: reason.into() }))).await;
        }
        end
    }

    /// Sends what the last step produced.
    async fn flush(&mut self, socket: &mut WebSocket) -> Result<(), axum::Error> {
        for message in self.outgoing.drain(..) {
            let message = match message {
                Outbound::Text(text) => Message::Text(text.into()),
                Outbound::Binary(bytes) => Message::Binary(bytes.into()),
            };
            socket.send(message).await?;
        }
        if let Some(since) = self.clearing_since.take() {
            self.state.metrics.barge_in(since.elapsed());
        }
        Ok(())
    }

    fn receive(&mut self, message: Inbound<'_>) -> Option<End> {
        match self.media.decode(message) {
            Ok(Some(event)) => self.event(event),
            Ok(None) => None,
            Err(error) => {
                let reason = match error {
                    MediaError::Malformed(_) => "malformed",
                    MediaError::OutOfOrder(_) => "out_of_order",
                    MediaError::StartedTwice => "started_twice",
                };
                self.state.metrics.media_rejected(self.setup.carrier.as_str(), reason);
                tracing::warn!(%error, "a media message was ignored");
                None
            }
        }
    }

    fn event(&mut self, event: CallEvent) -> Option<End> {
        match event {
            CallEvent::Started(_) => self.start(),
            CallEvent::Audio(pcm) => {
                self.input_at = Instant::now();
                if let Some(chunk) = self.recording.as_mut().and_then(|pairing| pairing.caller(&pcm)) {
                    let _ = self.writes.send(Write::Audio(chunk));
                }
                let audio = match &mut self.to_engine {
                    Some(resampler) => {
                        self.engine_audio.clear();
                        resampler.push(&pcm, &mut self.engine_audio);
                        &self.engine_audio
                    }
                    None => &pcm,
                };
                let (engine, outputs) = (&mut self.engine, &mut self.engine_outputs);
                let agent_speaking = !self.playing.is_empty();
                let agent_played = self.playing.iter().find(|u| !u.marked).map_or(Duration::ZERO, |u| FRAME * u.sent);
                self.engine_frames.push(audio, |frame| {
                    outputs.extend(engine.handle(VoiceInput::Audio { frame, agent_speaking, agent_played }));
                });
                let outputs = std::mem::take(&mut self.engine_outputs);
                self.perform(outputs);
            }
            CallEvent::Dtmf(key) => {
                if let Some(typed) = self.digits.key(key, Instant::now().into_std()) {
                    self.typed(&typed);
                }
            }
            CallEvent::MarkPlayed(name) => {
                if let Some(id) = name.strip_prefix('u').and_then(|id| id.parse::<u64>().ok()) {
                    self.playing.retain(|utterance| utterance.id != id);
                }
            }
            CallEvent::Stopped => return Some(End::CallerHungUp),
        }
        None
    }

    fn start(&mut self) {
        if std::mem::replace(&mut self.started, true) {
            return;
        }
        let outputs = self.engine.handle(VoiceInput::Started);
        self.perform(outputs);
    }

    fn typed(&mut self, digits: &str) {
        self.turn(Speaker::System, format!("keypad: {digits}"), None);
        let outputs = self.engine.handle(VoiceInput::Digits(digits));
        self.perform(outputs);
    }

    fn perform(&mut self, outputs: Vec<VoiceOutput>) {
        for output in outputs {
            match output {
                VoiceOutput::Speak { text, answering } => self.speak(text, answering),
                VoiceOutput::Audio(audio) => self.play(&audio),
                VoiceOutput::Words(text) => {
                    if let Some(utterance) = self.playing.back_mut().filter(|u| !u.complete) {
                        utterance.text.clone_from(&text);
                        let _ = self.writes.send(Write::Words { utterance: utterance.id, text });
                    }
                }
                VoiceOutput::Spoken => self.spoken(),
                VoiceOutput::StopSpeaking => self.stop_speaking(),
                VoiceOutput::Heard { text, language, intent } => {
                    let turn = Turn {
                        language: language.map(|l| l.as_str().to_owned()),
                        intent,
                        ..Turn::new(Speaker::Caller, text, now_micros())
                    };
                    let _ = self.writes.send(Write::Turn { utterance: None, turn: Box::new(turn) });
                }
                VoiceOutput::Transfer { reason } => self.transfer_when_played = Some(reason),
                VoiceOutput::HangUp => self.hang_up_when_played = true,
            }
        }
    }

    fn turn(&self, speaker: Speaker, text: String, utterance: Option<u64>) {
        let turn = Turn::new(speaker, text, now_micros());
        let _ = self.writes.send(Write::Turn { utterance, turn: Box::new(turn) });
    }

    /// The agent starts an utterance; its audio follows in pieces.
    fn speak(&mut self, text: String, answering: Option<Answering>) {
        self.spoken();
        let id = self.next_utterance;
        self.next_utterance += 1;
        let mut turn = Turn::new(Speaker::Agent, text.clone(), now_micros());
        if let Some(answering) = answering.as_ref().filter(|a| a.cause == Cause::Speech) {
            turn.stt_ms = Some(answering.stt.as_millis() as i64);
            turn.dialogue_ms = Some(answering.understanding.as_millis() as i64);
            turn.tts_ms = Some(answering.tts_first_audio.as_millis() as i64);
            turn.latency = caly_store::TurnLatency {
                eos_ms: Some(answering.eos.as_millis() as i64),
                llm_ms: answering.llm_first_token.map(|d| d.as_millis() as i64),
                tool_ms: Some(answering.tools.as_millis() as i64),
                ..Default::default()
            };
        }
        let _ = self.writes.send(Write::Turn { utterance: Some(id), turn: Box::new(turn) });
        self.playing.push_back(Utterance { id, text, frames: 0, sent: 0, complete: false, marked: false, answering });
    }

    /// The next piece of the utterance being spoken, to the pacer in carrier-rate frames.
    fn play(&mut self, audio: &[i16]) {
        let Some(utterance) = self.playing.back_mut().filter(|u| !u.complete) else { return };
        let mut carrier_audio = Vec::new();
        match &mut self.from_engine {
            Some(resampler) => resampler.push(audio, &mut carrier_audio),
            None => carrier_audio.extend_from_slice(audio),
        }
        let now = Instant::now().into_std();
        let pacer = &mut self.pacer;
        self.carrier_frames.push(&carrier_audio, |frame| {
            pacer.push_frame(frame.to_vec(), now);
            utterance.frames += 1;
        });
    }

    /// The utterance being spoken is all there: its last frame and its mark.
    fn spoken(&mut self) {
        let Some(utterance) = self.playing.back_mut().filter(|u| !u.complete) else { return };
        let now = Instant::now().into_std();
        let pacer = &mut self.pacer;
        self.carrier_frames.flush(|frame| {
            pacer.push_frame(frame.to_vec(), now);
            utterance.frames += 1;
        });
        utterance.complete = true;
        self.pacer.push_marker(utterance.id);
    }

    /// Sends every frame and mark that is due.
    fn pace(&mut self) {
        let now = Instant::now();
        let underruns = self.pacer.underruns();
        loop {
            let due = self.pacer.due_at();
            let Some(item) = self.pacer.poll(now.into_std()) else { break };
            match item {
                Paced::Frame(frame) => {
                    self.state.metrics.pacing_lateness(now.into_std().saturating_duration_since(due));
                    let answered = self.playing.iter_mut().find(|u| !u.marked).and_then(|utterance| {
                        utterance.sent += 1;
                        utterance.answering.take().map(|answering| (utterance.id, answering))
                    });
                    if let Some((utterance, answering)) = answered {
                        self.answered(utterance, &answering);
                    }
                    if let Some(chunk) = self.recording.as_mut().and_then(|pairing| pairing.agent(&frame)) {
                        let _ = self.writes.send(Write::Audio(chunk));
                    }
                    self.media.encode(CallCommand::Play(&frame), &mut self.outgoing);
                    self.last_frame_at = now;
                }
                Paced::Marker(id) => {
                    if let Some(utterance) = self.playing.iter_mut().find(|u| u.id == id) {
                        utterance.marked = true;
                    }
                    self.media.encode(CallCommand::Mark(&format!("u{id}")), &mut self.outgoing);
                }
            }
        }
        self.state.metrics.pacing_underruns(self.pacer.underruns().since(underruns));
    }

    /// The first audio answering the caller's turn is going out: how long it took, and how
    /// much of that was ours rather than the providers'.
    fn answered(&self, utterance: u64, answering: &Answering) {
        let response = answering.speech_ended.elapsed();
        let providers = answering.stt + answering.understanding + answering.tools + answering.tts_first_audio;
        let overhead = response.saturating_sub(providers);
        self.state.metrics.turn_latency(answering, response, overhead);
        let _ = self.writes.send(Write::Answered {
            utterance,
            response_ms: response.as_millis() as i64,
            overhead_ms: overhead.as_millis() as i64,
        });
    }

    /// Barge-in: drop the agent's queued audio here and at the carrier, and cut what the
    /// caller did not hear from the transcript.
    fn stop_speaking(&mut self) {
        self.carrier_frames.clear();
        if self.pacer.is_idle() && self.playing.iter().all(|u| u.complete) {
            return;
        }
        self.pacer.clear();
        self.media.encode(CallCommand::Clear, &mut self.outgoing);
        self.clearing_since = Some(self.input_at);
        let at = now_micros();
        for utterance in self.playing.drain(..).filter(|u| !u.marked) {
            let heard = heard_part(&utterance.text, utterance.sent, utterance.frames);
            let _ = self.writes.send(Write::Interrupted { utterance: utterance.id, heard, at });
        }
        self.hang_up_when_played = false;
    }

    fn transfer(&mut self, reason: &str) -> Option<End> {
        let Some(number) = self.setup.escalation_number.clone() else {
            self.turn(Speaker::System, format!("transfer not possible, no escalation number: {reason}"), None);
            return None;
        };
        self.turn(Speaker::System, format!("transferred to {number}: {reason}"), None);
        Some(End::Transferred(number))
    }

    async fn finish(&mut self, end: End) {
        let at = now_micros();
        let (status, outcome, reason) = match end {
            End::CallerHungUp => (CallStatus::Completed, Some(Outcome::Resolved), "caller_hung_up"),
            End::AgentHungUp => (CallStatus::Completed, Some(Outcome::Resolved), "agent_hung_up"),
            End::Transferred(_) => (CallStatus::Completed, Some(Outcome::Transferred), "transferred"),
            End::SocketClosed => (CallStatus::Completed, Some(Outcome::Abandoned), "stream_closed"),
            End::ServerStopping => (CallStatus::Interrupted, None, "server_stopped"),
        };
        let request = match &end {
            End::Transferred(number) => Some(carrier_api::Request::Transfer { number, dial_url: &self.setup.dial_url }),
            End::AgentHungUp => Some(carrier_api::Request::HangUp),
            _ => None,
        };
        if let (Some(request), Some(carrier_call)) = (request, &self.setup.carrier_call_id)
            && let Err(error) =
                carrier_api::perform(self.state, &self.setup.tenant_id, self.setup.carrier, carrier_call, request).await
        {
            tracing::error!(%error, "the carrier did not take the {reason} request; the stream is closed anyway");
        }
        if let Some(mut pairing) = self.recording.take() {
            let _ = self.writes.send(Write::Audio(pairing.rest()));
        }
        let _ = self.writes.send(Write::Finish(Ending { status, outcome, reason, at }));
        tracing::info!(reason, "call ended");
    }
}

/// The words of `text` the caller heard when `sent` of its `frames` were played.
fn heard_part(text: &str, sent: u32, frames: u32) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let heard = (words.len() as u64 * u64::from(sent) / u64::from(frames.max(1))) as usize;
    words[..heard.min(words.len())].join(" ")
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
