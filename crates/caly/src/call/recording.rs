//! A call's recording: caller on the left, agent on the right, 16-bit PCM WAV at the carrier's
//! rate. The call's task only pairs samples ([`Pairing`]); the file is written by the call's
//! writer task on the blocking pool ([`WavFile`]), so disk stalls never delay a 20 ms frame, and
//! memory stays flat however long the call. At the end the file goes to the object store under
//! `<tenant>/<call>.wav`, a part at a time when it is long, so memory stays flat then too.

use std::{fs::File, io::BufWriter, path::PathBuf, sync::Arc};

use hound::{SampleFormat, WavSpec, WavWriter};
use object_store::{ObjectStore, buffered, local::LocalFileSystem, path::Path as ObjectPath};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Interleaved samples handed to the writer at a time (1 s of stereo at 8 kHz).
const CHUNK: usize = 16_000;
/// Recordings up to this size are stored in one request; longer ones (about 80 s of stereo at
/// 16 kHz) in parts of this size, S3's smallest part but the last.
const UPLOAD_PART_BYTES: usize = 5 * 1024 * 1024;
/// Parts uploading at once: an upload holds at most this many parts plus the one being filled.
const UPLOAD_PARTS_IN_FLIGHT: usize = 2;
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
            for sample in samples {
                wav.write_sample(sample)?;
            }
            anyhow::Ok(wav)
        })
        .await??;
        self.wav = Some(wav);
        Ok(())
    }

    /// Completes the WAV and stores it; returns its key. Moved into `on_disk` (the store itself,
    /// when it is a directory on this machine) by one rename; otherwise stored by object_store's
    /// `BufWriter`: one request up to a part's size, a multipart upload (aborted on error) past it.
    pub async fn finish(
        mut self,
        store: Arc<dyn ObjectStore>,
        on_disk: Option<&LocalFileSystem>,
        tenant_id: &str,
        call_id: &str,
    ) -> anyhow::Result<String> {
        let wav = self.wav.take().ok_or_else(|| anyhow::anyhow!("an earlier write failed"))?;
        tokio::task::spawn_blocking(move || wav.finalize()).await??;
        let key = format!("{tenant_id}/{call_id}.wav");
        if let Some(disk) = on_disk {
            let target = disk.path_to_filesystem(&ObjectPath::from(key.as_str()))?;
            let part = self.path.clone();
            let moved = tokio::task::spawn_blocking(move || {
                if let Some(dir) = target.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                std::fs::rename(&part, &target)
            })
            .await?;
            match moved {
                Ok(()) => return Ok(key),
                // The store's directory is on another file system: the file is copied below.
                Err(error) if error.kind() == std::io::ErrorKind::CrossesDevices => {}
                Err(error) => return Err(error.into()),
            }
        }
        let mut upload = buffered::BufWriter::with_capacity(store, ObjectPath::from(key.as_str()), UPLOAD_PART_BYTES)
            .with_max_concurrency(UPLOAD_PARTS_IN_FLIGHT);
        let mut file = tokio::fs::File::open(&self.path).await?;
        if let Err(error) = upload_parts(&mut file, &mut upload).await {
            if let Err(abort) = upload.abort().await {
                tracing::warn!(error = %abort, key, "the parts of a failed recording upload were not removed");
            }
            return Err(error.into());
        }
        // Past this point the writer cannot be aborted; it aborts itself when completing fails.
        upload.shutdown().await?;
        tokio::fs::remove_file(&self.path).await?;
        Ok(key)
    }
}

/// Hands the file to the upload a part at a time. Each part is read by one operation on the
/// blocking pool and passed on without a copy; `tokio::io::copy` would read 8 KiB per hand-off,
/// over a hundred for a half-minute call, thousands a second when many calls end together.
async fn upload_parts(file: &mut tokio::fs::File, upload: &mut buffered::BufWriter) -> std::io::Result<()> {
    file.set_max_buf_size(UPLOAD_PART_BYTES);
    loop {
        let mut part = Vec::with_capacity(UPLOAD_PART_BYTES);
        (&mut *file).take(UPLOAD_PART_BYTES as u64).read_to_end(&mut part).await?;
        if part.is_empty() {
            return Ok(());
        }
        upload.put(part.into()).await?;
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt;

    use super::*;

    #[tokio::test]
    async fn caller_left_agent_right_aligned_in_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(object_store::local::LocalFileSystem::new_with_prefix(dir.path()).unwrap());
        let mut file = WavFile::create(dir.path().join("tmp"), "c1", 8_000).await.unwrap();
        let mut pairing = Pairing::default();
        assert_eq!(pairing.agent(&[7, 8]), None);
        assert_eq!(pairing.caller(&[1, 2, 3]), None);
        assert_eq!(pairing.agent(&[9]), None);
        file.append(pairing.rest()).await.unwrap();
        let written = std::fs::metadata(dir.path().join("tmp/c1.wav.part")).unwrap().ino();
        let key = file.finish(store.clone(), Some(&store), "t1", "c1").await.unwrap();
        assert_eq!(key, "t1/c1.wav");
        let stored = dir.path().join("t1/c1.wav");
        assert_eq!(std::fs::metadata(&stored).unwrap().ino(), written, "moved into the store, not copied");
        let wav = std::fs::read(stored).unwrap();
        assert_eq!(&wav[..4], b"RIFF");
        assert_eq!(u32::from_le_bytes(wav[40..44].try_into().unwrap()), 16, "4 stereo frames");
        let samples: Vec<i16> = wav[44..].chunks(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect();
        assert_eq!(samples, [1, 7, 2, 8, 3, 0, 0, 9]);
        assert!(!dir.path().join("tmp/c1.wav.part").exists());
    }

    #[tokio::test]
    async fn a_recording_longer_than_a_part_is_stored_whole() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(object_store::local::LocalFileSystem::new_with_prefix(dir.path()).unwrap());
        let mut file = WavFile::create(dir.path().join("tmp"), "long", 16_000).await.unwrap();
        // Two and a half parts of samples, each telling where it is.
        let samples: Vec<i16> = (0..(UPLOAD_PART_BYTES * 5 / 4) as u32).map(|i| (i % 65_521) as i16).collect();
        for chunk in samples.chunks(CHUNK * 10) {
            file.append(chunk.to_vec()).await.unwrap();
        }
        // As for a store elsewhere: uploaded.
        let key = file.finish(store, None, "t1", "long").await.unwrap();
        let wav = std::fs::read(dir.path().join(key)).unwrap();
        assert!(wav.len() > 2 * UPLOAD_PART_BYTES, "the multipart path is taken");
        let stored: Vec<i16> = wav[44..].chunks(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect();
        assert!(stored == samples, "{} samples stored of {}", stored.len(), samples.len());
        assert!(!dir.path().join("tmp/long.wav.part").exists());
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
