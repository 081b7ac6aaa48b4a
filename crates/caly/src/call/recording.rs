//! A call's recording: caller on the left, agent on the right, 16-bit PCM WAV at the carrier's
//! rate. The call's task only pairs samples ([`Pairing`]); the file is written by the call's
//! writer task on the blocking pool ([`WavFile`]), so disk stalls never delay a 20 ms frame, and
//! memory stays flat however long the call. At the end the file goes to the recordings store
//! under `<tenant>/<call>.wav` ([`RecordingStore::keep`]).

use std::{fs::File, io::BufWriter, path::PathBuf};

use anyhow::Context;
use hound::{SampleFormat, WavSpec, WavWriter};

use super::recording_store::RecordingStore;

/// Interleaved samples handed to the writer at a time (1 s of stereo at 8 kHz).
const CHUNK: usize = 16_000;
/// Agent audio waiting for caller audio to pair with; beyond this the caller's side is taken as
/// silent (a carrier that stopped sending).
const MAX_UNPAIRED: usize = 16_000;

/// Lines the two directions up in time: each caller frame is paired with the agent audio played
/// meanwhile, or silence.
#[derive(Default)]
pub struct Pairing {
    agent: Vec<i16>,
    stereo: Vec<i16>,
}

impl Pairing {
    /// The caller's audio; a chunk of interleaved samples once one is full.
    pub fn caller(&mut self, samples: &[i16]) -> Option<Vec<i16>> {
        let paired = samples.len().min(self.agent.len());
        let agent = self.agent.drain(..paired).chain(std::iter::repeat_n(0, samples.len() - paired));
        self.stereo.extend(samples.iter().zip(agent).flat_map(|(&left, right)| [left, right]));
        self.full()
    }

    pub fn agent(&mut self, samples: &[i16]) -> Option<Vec<i16>> {
        self.agent.extend_from_slice(samples);
        if self.agent.len() > MAX_UNPAIRED {
            self.unpaired_agent();
        }
        self.full()
    }

    /// Everything not yet handed over, agent audio left unpaired included.
    pub fn rest(&mut self) -> Vec<i16> {
        self.unpaired_agent();
        std::mem::take(&mut self.stereo)
    }

    fn unpaired_agent(&mut self) {
        self.stereo.extend(self.agent.drain(..).flat_map(|right| [0, right]));
    }

    fn full(&mut self) -> Option<Vec<i16>> {
        (self.stereo.len() >= CHUNK).then(|| std::mem::take(&mut self.stereo))
    }
}

/// The WAV file being written; every file operation runs on the blocking pool.
pub struct WavFile {
    path: PathBuf,
    wav: Option<WavWriter<BufWriter<File>>>,
}

impl WavFile {
    pub async fn create(dir: PathBuf, call_id: &str, rate: u32) -> anyhow::Result<Self> {
        let path = dir.join(format!("{call_id}.wav.part"));
        let spec = WavSpec { channels: 2, sample_rate: rate, bits_per_sample: 16, sample_format: SampleFormat::Int };
        let at = path.clone();
        let wav = tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&dir)?;
            anyhow::Ok(WavWriter::create(&at, spec)?)
        })
        .await??;
        Ok(Self { path, wav: Some(wav) })
    }

    /// Appends interleaved stereo samples.
    pub async fn append(&mut self, samples: Vec<i16>) -> anyhow::Result<()> {
        let mut wav = self.wav.take().ok_or_else(|| anyhow::anyhow!("an earlier write failed"))?;
        let wav = tokio::task::spawn_blocking(move || {
            // One buffer for the chunk: sample by sample, hound checks and writes each on its own.
            let mut writer = wav.get_i16_writer(u32::try_from(samples.len())?);
            for sample in samples {
                writer.write_sample(sample);
            }
            writer.flush()?;
            anyhow::Ok(wav)
        })
        .await??;
        self.wav = Some(wav);
        Ok(())
    }

    /// Completes the WAV and keeps it in `store`; returns its key. The file is left in place
    /// when storing fails, so the recording is not lost.
    pub async fn finish(mut self, store: &RecordingStore, tenant_id: &str, call_id: &str) -> anyhow::Result<String> {
        let wav = self.wav.take().ok_or_else(|| anyhow::anyhow!("an earlier write failed"))?;
        tokio::task::spawn_blocking(move || wav.finalize()).await??;
        let key = format!("{tenant_id}/{call_id}.wav");
        store.keep(&self.path, &key).await.with_context(|| format!("storing {} as {key}", self.path.display()))?;
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn caller_left_agent_right_aligned_in_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = RecordingStore::local(object_store::local::LocalFileSystem::new_with_prefix(dir.path()).unwrap());
        let mut file = WavFile::create(dir.path().join("tmp"), "c1", 8_000).await.unwrap();
        let mut pairing = Pairing::default();
        assert_eq!(pairing.agent(&[7, 8]), None);
        assert_eq!(pairing.caller(&[1, 2, 3]), None);
        assert_eq!(pairing.agent(&[9]), None);
        file.append(pairing.rest()).await.unwrap();
        let key = file.finish(&store, "t1", "c1").await.unwrap();
        assert_eq!(key, "t1/c1.wav");
        let wav = std::fs::read(dir.path().join("t1/c1.wav")).unwrap();
        assert_eq!(&wav[..4], b"RIFF");
        assert_eq!(u32::from_le_bytes(wav[40..44].try_into().unwrap()), 16, "4 stereo frames");
        let samples: Vec<i16> = wav[44..].chunks(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect();
        assert_eq!(samples, [1, 7, 2, 8, 3, 0, 0, 9]);
        assert!(!dir.path().join("tmp/c1.wav.part").exists());
    }

    #[test]
    fn a_chunk_is_handed_over_once_a_second_of_stereo_is_paired() {
        let mut pairing = Pairing::default();
        let frame = [5i16; 160];
        let chunks: Vec<Vec<i16>> = (0..100).filter_map(|_| pairing.caller(&frame)).collect();
        assert_eq!(chunks.len(), 2);
        assert!(chunks.iter().all(|chunk| chunk.len() == CHUNK));
        assert!(pairing.rest().is_empty());
    }
}
