//! A call's recording: caller on the left, agent on the right, 16-bit PCM WAV at the carrier's
//! rate. Written to a file under the data dir while the call lasts (memory stays flat however
//! long it is), then put into the object store under `<tenant>/<call>.wav`.

use std::{fs::File, io::BufWriter, path::PathBuf};

use hound::{SampleFormat, WavSpec, WavWriter};
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, path::Path as ObjectPath};

/// Agent audio buffered waiting for caller audio to pair with; beyond this (1 s at 16 kHz)
/// the caller's side is taken as silent.
const MAX_UNPAIRED: usize = 16_000;

pub struct Recorder {
    path: PathBuf,
    wav: WavWriter<BufWriter<File>>,
    agent: Vec<i16>,
}

impl Recorder {
    pub fn create(dir: &std::path::Path, call_id: &str, rate: u32) -> Result<Self, hound::Error> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("{call_id}.wav.part"));
        let spec = WavSpec { channels: 2, sample_rate: rate, bits_per_sample: 16, sample_format: SampleFormat::Int };
        Ok(Self { wav: WavWriter::create(&path, spec)?, path, agent: Vec::new() })
    }

    /// The caller's audio, paired with whatever the agent played meanwhile.
    pub fn caller(&mut self, samples: &[i16]) -> Result<(), hound::Error> {
        let paired = samples.len().min(self.agent.len());
        let silence = std::iter::repeat_n(0, samples.len() - paired);
        write(&mut self.wav, samples.iter().copied(), self.agent.drain(..paired).chain(silence))
    }

    pub fn agent(&mut self, samples: &[i16]) -> Result<(), hound::Error> {
        self.agent.extend_from_slice(samples);
        if self.agent.len() > MAX_UNPAIRED {
            self.flush_agent()?;
        }
        Ok(())
    }

    /// Agent audio with no caller audio to pair with, against silence.
    fn flush_agent(&mut self) -> Result<(), hound::Error> {
        write(&mut self.wav, std::iter::repeat_n(0, self.agent.len()), self.agent.drain(..))
    }

    /// Completes the WAV and stores it; returns its key.
    pub async fn finish(mut self, store: &dyn ObjectStore, tenant_id: &str, call_id: &str) -> anyhow::Result<String> {
        self.flush_agent()?;
        self.wav.finalize()?;
        let bytes = tokio::fs::read(&self.path).await?;
        let key = format!("{tenant_id}/{call_id}.wav");
        store.put(&ObjectPath::from(key.as_str()), PutPayload::from(bytes)).await?;
        tokio::fs::remove_file(&self.path).await?;
        Ok(key)
    }
}

fn write(
    wav: &mut WavWriter<BufWriter<File>>,
    left: impl Iterator<Item = i16>,
    right: impl Iterator<Item = i16>,
) -> Result<(), hound::Error> {
    for (l, r) in left.zip(right) {
        wav.write_sample(l)?;
        wav.write_sample(r)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn caller_left_agent_right_aligned_in_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = object_store::local::LocalFileSystem::new_with_prefix(dir.path()).unwrap();
        let mut recorder = Recorder::create(&dir.path().join("tmp"), "c1", 8_000).unwrap();
        recorder.agent(&[7, 8]).unwrap();
        recorder.caller(&[1, 2, 3]).unwrap();
        recorder.agent(&[9]).unwrap();
        let key = recorder.finish(&store, "t1", "c1").await.unwrap();
        assert_eq!(key, "t1/c1.wav");
        let wav = std::fs::read(dir.path().join("t1/c1.wav")).unwrap();
        assert_eq!(&wav[..4], b"RIFF");
        assert_eq!(u32::from_le_bytes(wav[40..44].try_into().unwrap()), 16, "4 stereo frames");
        let samples: Vec<i16> = wav[44..].chunks(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect();
        assert_eq!(samples, [1, 7, 2, 8, 3, 0, 0, 9]);
        assert!(!dir.path().join("tmp/c1.wav.part").exists());
    }
}
