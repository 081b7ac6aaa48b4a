//! A call's writes, in order, off the call's task so that a slow write never delays the next
//! 20 ms frame: turns to the store (numbered by the store; the call refers to its agent turns by
//! its own utterance numbers, mapped here), the recording to its file, and the call's end.

use std::collections::HashMap;

use caly_store::{CallEnd, Turn};
use tokio::sync::mpsc;

use super::recording::WavFile;
use crate::state::AppState;

pub enum Write {
    Turn {
        utterance: Option<u64>,
        turn: Box<Turn>,
    },
    /// The agent turn's words, known after it began.
    Words {
        utterance: u64,
        text: String,
    },
    Interrupted {
        utterance: u64,
        heard: String,
        at: i64,
    },
    /// The agent turn's first frame went out.
    Answered {
        utterance: u64,
        response_ms: i64,
        overhead_ms: i64,
    },
    /// Interleaved stereo samples of the recording.
    Audio(Vec<i16>),
    Finish(Ending),
}

/// How a call ended, owned so it can cross the channel.
pub struct Ending {
    pub status: caly_core::call::CallStatus,
    pub outcome: Option<caly_core::call::Outcome>,
    pub reason: &'static str,
    pub at: i64,
}

/// The call a writer writes for; `record` is the recording's sample rate if it is recorded.
pub struct Target {
    pub tenant_id: String,
    pub call_id: String,
    pub record: Option<u32>,
}

struct Writer {
    state: AppState,
    target: Target,
    turns: HashMap<u64, i64>,
    recording: Option<WavFile>,
}

/// Starts the writer of one call; it ends when every sender is gone and all is written.
pub fn spawn(state: AppState, target: Target) -> (mpsc::UnboundedSender<Write>, tokio::task::JoinHandle<()>) {
    let (sender, mut writes) = mpsc::unbounded_channel();
    let mut writer = Writer { state, target, turns: HashMap::new(), recording: None };
    let task = tokio::spawn(async move {
        while let Some(write) = writes.recv().await {
            if let Err(error) = writer.write(write).await {
                tracing::error!(error = %format!("{error:#}"), call_id = %writer.target.call_id, "a call write failed");
            }
        }
    });
    (sender, task)
}

impl Writer {
    async fn write(&mut self, write: Write) -> anyhow::Result<()> {
        let (store, tenant, call) = (&self.state.store, &self.target.tenant_id, &self.target.call_id);
        match write {
            Write::Turn { utterance, turn } => {
                let seq = store.append_turn(tenant, call, &turn, None).await?;
                if let Some(utterance) = utterance {
                    self.turns.insert(utterance, seq);
                }
            }
            Write::Words { utterance, text } => {
                if let Some(seq) = self.turns.get(&utterance) {
                    store.set_turn_text(tenant, call, *seq, &text, None).await?;
                }
            }
            Write::Interrupted { utterance, heard, at } => {
                if let Some(seq) = self.turns.get(&utterance) {
                    store.set_turn_text(tenant, call, *seq, &heard, Some(at)).await?;
                }
            }
            Write::Answered { utterance, response_ms, overhead_ms } => {
                if let Some(seq) = self.turns.get(&utterance) {
                    store.answer_turn(tenant, call, *seq, response_ms, overhead_ms).await?;
                }
            }
            Write::Audio(samples) => {
                let Some(rate) = self.target.record else { return Ok(()) };
                if self.recording.is_none() {
                    let dir = self.state.config.data_dir.join("recordings-in-progress");
                    self.recording = Some(WavFile::create(dir, call, rate).await?);
                }
                if let Some(recording) = &mut self.recording {
                    recording.append(samples).await?;
                }
            }
            Write::Finish(end) => {
                let ended_at = end.at;
                let end = CallEnd {
                    status: end.status,
                    outcome: end.outcome,
                    end_reason: end.reason,
                    ended_at,
                    summary: None,
                };
                // The call's end first: a recordings bucket slow to answer never keeps it open.
                store.finish_call(tenant, call, end).await?;
                if let Some(recording) = self.recording.take() {
                    match recording.finish(&self.state.recordings, tenant, call).await {
                        Ok(key) => {
                            store.set_recording(tenant, call, Some(&key), ended_at).await?;
                        }
                        Err(error) => {
                            tracing::error!(error = %format!("{error:#}"), call_id = %call, "the recording could not be stored")
                        }
                    }
                }
            }
        }
        Ok(())
    }
}
