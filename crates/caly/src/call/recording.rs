//! A call's recording: caller on the left, agent on the right, 16-bit PCM WAV at the carrier's
//! rate. Written to a file under the data dir while the call lasts (memory stays flat however
//! long it is), then put into the object store under `<tenant>/<call>.wav`.

use std::{
    fs::File,
    io::{BufWriter, Seek, SeekFrom, Write},
    path::PathBuf,
};

use object_store::{ObjectStore, ObjectStoreExt, PutPayload, path::Path as ObjectPath};

/// Agent audio buffered waiting for caller audio to pair with; beyond this (1 s at 16 kHz)
/// the caller's side is taken as silent.
const MAX_UNPAIRED: usize = 16_000;

pub struct Recorder {
    path: PathBuf,
    file: BufWriter<File>,
    rate: u32,
    frames: u32,
    agent: Vec<i16>,
}

impl Recorder {
    pub fn create(dir: &std::path::Path, call_id: &str, rate: u32) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("{call_id}.wav.part"));
        let mut file = BufWriter::new(File::create(&path)?);
        file.write_all(&wav_header(rate, 0))?;
        Ok(Self { path, file, rate, frames: 0, agent: Vec::new() })
    }

    /// The caller's audio, paired with whatever the agent played meanwhile.
    pub fn caller(&mut self, samples: &[i16]) -> std::io::Result<()> {
        let paired = samples.len().min(self.agent.len());
        let agent: Vec<i16> =
            self.agent.drain(..paired).chain(std::iter::repeat_n(0, samples.len() - paired)).collect();
        self.write(samples.iter().copied(), agent.into_iter())
    }

    pub fn agent(&mut self, samples: &[i16]) -> std::io::Result<()> {
        self.agent.extend_from_slice(samples);
        if self.agent.len() > MAX_UNPAIRED {
            let agent = std::mem::take(&mut self.agent);
            self.write(std::iter::repeat_n(0, agent.len()), agent.into_iter())?;
        }
        Ok(())
    }

    fn write(&mut self, left: impl Iterator<Item = i16>, right: impl Iterator<Item = i16>) -> std::io::Result<()> {
        for (l, r) in left.zip(right) {
            self.file.write_all(&l.to_le_bytes())?;
            self.file.write_all(&r.to_le_bytes())?;
            self.frames += 1;
        }
        Ok(())
    }

    /// Completes the WAV and stores it; returns its key.
    pub async fn finish(mut self, store: &dyn ObjectStore, tenant_id: &str, call_id: &str) -> anyhow::Result<String> {
        let agent = std::mem::take(&mut self.agent);
        self.write(std::iter::repeat_n(0, agent.len()), agent.into_iter())?;
        self.file.seek(SeekFrom::Start(0))?;
        self.file.write_all(&wav_header(self.rate, self.frames))?;
        self.file.flush()?;
        let bytes = tokio::fs::read(&self.path).await?;
        let key = format!("{tenant_id}/{call_id}.wav");
        store.put(&ObjectPath::from(key.as_str()), PutPayload::from(bytes)).await?;
        tokio::fs::remove_file(&self.path).await?;
        Ok(key)
    }
}

/// A 44-byte RIFF header for `frames` stereo 16-bit frames at `rate`.
fn wav_header(rate: u32, frames: u32) -> [u8; 44] {
    let data = frames * 4;
    let mut header = [0u8; 44];
    let fields: [&[u8]; 13] = [
        b"RIFF",
        &(36 + data).to_le_bytes(),
        b"WAVEfmt ",
        &16u32.to_le_bytes(),
        &1u16.to_le_bytes(),
        &2u16.to_le_bytes(),
        &rate.to_le_bytes(),
        &(rate * 4).to_le_bytes(),
        &4u16.to_le_bytes(),
        &16u16.to_le_bytes(),
        b"data",
        &data.to_le_bytes(),
        &[],
    ];
    let mut at = 0;
    for field in fields {
        header[at..at + field.len()].copy_from_slice(field);
        at += field.len();
    }
    header
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
