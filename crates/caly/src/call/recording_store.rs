//! Where finished recordings are kept: a directory on this machine (`<data_dir>/recordings`, the
//! default) or an S3-compatible bucket (`[recordings]` in the configuration). Both are an
//! `ObjectStore` to the download endpoint and the retention job; only storing a finished WAV
//! differs: into the directory it is moved by one rename, to a bucket it is uploaded.

use std::{
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use object_store::{
    ObjectStore, ObjectStoreExt, aws::AmazonS3Builder, buffered, local::LocalFileSystem, path::Path as ObjectPath,
    prefix::PrefixStore,
};
use secrecy::ExposeSecret;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::config::RecordingsConfig;

/// Recordings up to this size are stored in one request; longer ones (about 80 s of stereo at
/// 16 kHz) in parts of this size, S3's smallest part but the last.
const UPLOAD_PART_BYTES: usize = 5 * 1024 * 1024;
/// Parts uploading at once: an upload holds at most this many parts plus the one being filled.
const UPLOAD_PARTS_IN_FLIGHT: usize = 2;
/// A key no recording has: asking for it tells whether the store answers.
const PROBE_KEY: &str = ".caly-probe";
/// How long the probe waits; the client's own retries would wait minutes.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Clone)]
pub struct RecordingStore {
    objects: Arc<dyn ObjectStore>,
    /// The same store when it is a directory on this machine.
    on_disk: Option<Arc<LocalFileSystem>>,
}

impl RecordingStore {
    /// The store the configuration names; the local directory is created when missing.
    pub fn open(config: &RecordingsConfig, data_dir: &Path) -> anyhow::Result<Self> {
        let Some(bucket) = &config.s3_bucket else {
            let dir = data_dir.join("recordings");
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("creating the recordings directory {}", dir.display()))?;
            return Ok(Self::local(
                LocalFileSystem::new_with_prefix(&dir).context("opening the recordings directory")?,
            ));
        };
        crate::tls::install_crypto_provider();
        // The AWS_* environment first (credentials, region, an instance or task role), so that a
        // deployment on AWS needs no keys in Caly's configuration; what is configured wins.
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
        if let Some(endpoint) = &config.s3_endpoint {
            builder = builder.with_endpoint(endpoint).with_allow_http(endpoint.starts_with("http://"));
        }
        if let Some(region) = &config.s3_region {
            builder = builder.with_region(region);
        }
        if let (Some(id), Some(secret)) = (&config.s3_access_key_id, &config.s3_secret_access_key) {
            builder = builder.with_access_key_id(id).with_secret_access_key(secret.expose_secret());
        }
        let s3 = builder.build().context("configuring the recordings bucket ([recordings] s3_*)")?;
        let objects: Arc<dyn ObjectStore> = match config.s3_prefix.as_deref().filter(|p| !p.is_empty()) {
            Some(prefix) => Arc::new(PrefixStore::new(s3, prefix)),
            None => Arc::new(s3),
        };
        Ok(Self { objects, on_disk: None })
    }

    pub fn local(dir: LocalFileSystem) -> Self {
        let dir = Arc::new(dir);
        Self { objects: dir.clone(), on_disk: Some(dir) }
    }

    /// Reading, listing and deleting recordings.
    pub fn objects(&self) -> &Arc<dyn ObjectStore> {
        &self.objects
    }

    /// `Some` when the store is elsewhere: whether it answers, and how fast. Asks for a key no
    /// recording has, so that only an answer other than "not found" is a failure.
    pub async fn probe(&self) -> Option<anyhow::Result<Duration>> {
        if self.on_disk.is_some() {
            return None;
        }
        let started = Instant::now();
        Some(match tokio::time::timeout(PROBE_TIMEOUT, self.objects.head(&ObjectPath::from(PROBE_KEY))).await {
            Ok(Ok(_) | Err(object_store::Error::NotFound { .. })) => Ok(started.elapsed()),
            Ok(Err(error)) => Err(error.into()),
            Err(_) => Err(anyhow::anyhow!("no answer within {PROBE_TIMEOUT:?}")),
        })
    }

    /// Keeps the finished WAV at `file` under `key`. Into a directory on this machine it is moved
    /// by one rename; otherwise uploaded by object_store's `BufWriter`: one request up to a
    /// part's size, a multipart upload (aborted on error) past it. The file is gone once kept.
    pub async fn keep(&self, file: &Path, key: &str) -> anyhow::Result<()> {
        if let Some(disk) = &self.on_disk {
            let target = disk.path_to_filesystem(&ObjectPath::from(key))?;
            let part = file.to_owned();
            let moved = tokio::task::spawn_blocking(move || {
                if let Some(dir) = target.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                std::fs::rename(&part, &target)
            })
            .await?;
            match moved {
                Ok(()) => return Ok(()),
                // The store's directory is on another file system: the file is copied below.
                Err(error) if error.kind() == std::io::ErrorKind::CrossesDevices => {}
                Err(error) => return Err(error.into()),
            }
        }
        let mut upload =
            buffered::BufWriter::with_capacity(self.objects.clone(), ObjectPath::from(key), UPLOAD_PART_BYTES)
                .with_max_concurrency(UPLOAD_PARTS_IN_FLIGHT);
        let mut wav = tokio::fs::File::open(file).await?;
        if let Err(error) = upload_parts(&mut wav, &mut upload).await {
            if let Err(abort) = upload.abort().await {
                tracing::warn!(error = %abort, key, "the parts of a failed recording upload were not removed");
            }
            return Err(error.into());
        }
        // Past this point the writer cannot be aborted; it aborts itself when completing fails.
        upload.shutdown().await?;
        tokio::fs::remove_file(file).await?;
        Ok(())
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

    fn local(dir: &Path) -> RecordingStore {
        RecordingStore::local(LocalFileSystem::new_with_prefix(dir).unwrap())
    }

    #[tokio::test]
    async fn into_a_directory_on_this_machine_the_file_is_moved_not_copied() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c1.wav.part");
        std::fs::write(&file, b"RIFF and the rest").unwrap();
        let written = std::fs::metadata(&file).unwrap().ino();
        local(dir.path()).keep(&file, "t1/c1.wav").await.unwrap();
        let stored = dir.path().join("t1/c1.wav");
        assert_eq!(std::fs::metadata(&stored).unwrap().ino(), written, "moved into the store, not copied");
        assert_eq!(std::fs::read(stored).unwrap(), b"RIFF and the rest");
        assert!(!file.exists());
        assert!(local(dir.path()).probe().await.is_none(), "nothing to probe on this machine");
    }

    #[tokio::test]
    async fn a_file_longer_than_a_part_is_uploaded_whole() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("long.wav.part");
        // Two and a half parts of bytes, each telling where it is.
        let bytes: Vec<u8> = (0..UPLOAD_PART_BYTES * 5 / 2).map(|i| (i % 251) as u8).collect();
        std::fs::write(&file, &bytes).unwrap();
        // As to a store elsewhere: uploaded.
        let elsewhere = RecordingStore { on_disk: None, ..local(dir.path()) };
        elsewhere.keep(&file, "t1/long.wav").await.unwrap();
        let stored = std::fs::read(dir.path().join("t1/long.wav")).unwrap();
        assert!(stored == bytes, "{} bytes stored of {}", stored.len(), bytes.len());
        assert!(!file.exists());
        assert!(elsewhere.probe().await.unwrap().is_ok(), "a store that answers \"not found\" is up");
    }

    #[tokio::test]
    async fn a_bucket_over_tls_that_does_not_answer_fails_the_probe() {
        let config = RecordingsConfig {
            s3_bucket: Some("calls".into()),
            s3_endpoint: Some("https://127.0.0.1:1".into()),
            s3_access_key_id: Some("AKIDCALYTESTS".into()),
            s3_secret_access_key: Some("a secret".into()),
            ..RecordingsConfig::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let store = RecordingStore::open(&config, dir.path()).unwrap();
        assert!(store.probe().await.unwrap().is_err());
        assert!(!dir.path().join("recordings").exists(), "no local directory for a bucket");
    }
}
