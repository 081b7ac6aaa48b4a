//! A call's writes to the store, in order, off the call's task so that a slow write never
//! delays the next 20 ms frame. Turns are numbered by the store; the call refers to its agent
//! turns by its own utterance numbers, mapped here.

use std::collections::HashMap;

use caly_store::{CallEnd, Turn};
use tokio::sync::mpsc;

use crate::state::AppState;

pub enum Write {
    Turn { utterance: Option<u64>, turn: Turn },
    Interrupted { utterance: u64, heard: String, at: i64 },
    Recording { key: String, at: i64 },
    Finish(Ending),
}

/// How a call ended, owned so it can cross the channel.
pub struct Ending {
    pub status: caly_core::call::CallStatus,
    pub outcome: Option<caly_core::call::Outcome>,
    pub reason: &'static str,
    pub at: i64,
}

/// Starts the writer of one call; it ends when every sender is gone and all is written.
pub fn spawn(
    state: AppState,
    tenant_id: String,
    call_id: String,
) -> (mpsc::UnboundedSender<Write>, tokio::task::JoinHandle<()>) {
    let (sender, mut writes) = mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        let mut turns: HashMap<u64, i64> = HashMap::new();
        while let Some(write) = writes.recv().await {
            let (tenant, call, store) = (&tenant_id, &call_id, &state.store);
            let result = match write {
                Write::Turn { utterance, turn } => store.append_turn(tenant, call, &turn, None).await.map(|seq| {
                    if let Some(utterance) = utterance {
                        turns.insert(utterance, seq);
                    }
                }),
                Write::Interrupted { utterance, heard, at } => match turns.get(&utterance) {
                    Some(seq) => store.interrupt_turn(tenant, call, *seq, &heard, at).await,
                    None => Ok(()),
                },
                Write::Recording { key, at } => store.set_recording(tenant, call, Some(&key), at).await.map(drop),
                Write::Finish(end) => store
                    .finish_call(
                        tenant,
                        call,
                        CallEnd {
                            status: end.status,
                            outcome: end.outcome,
                            end_reason: end.reason,
                            ended_at: end.at,
                            summary: None,
                        },
                    )
                    .await
                    .map(drop),
            };
            if let Err(error) = result {
                tracing::error!(%error, call_id, "a call write failed");
            }
        }
    });
    (sender, task)
}
