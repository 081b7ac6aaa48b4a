//! Text to speech, streamed: each synthesiser sends 16 kHz PCM as it comes, so the call can
//! play the first syllables while the rest is still being made.
//!
//! Implementations: an OpenAI-compatible `POST /audio/speech` with raw PCM out (OpenAI,
//! Kokoro-FastAPI, Speaches), and the local `espeak-ng` (Debian package), which needs no
//! network and no key: the default, and the last resort when every service fails.

use std::{process::Stdio, time::Duration};

use caly_audio::resample::Resampler;
use caly_core::Language;
use futures::StreamExt;
use tokio::{io::AsyncReadExt, io::AsyncWriteExt, sync::mpsc};

use crate::{
    provider::{self, ProviderError},
    voice::RATE,
};

#[async_trait::async_trait]
pub trait Synthesizer: Send + Sync {
    fn name(&self) -> &str;
    /// Speaks `text`, sending its audio (16 kHz PCM) in pieces as they are made, in `voice`
    /// (the tenant's choice) where the synthesiser has voices by name, else its own.
    async fn synthesize(
        &self,
        text: &str,
        language: Language,
        voice: Option<&str>,
        out: &mpsc::Sender<Vec<i16>>,
    ) -> Result<(), ProviderError>;
}

/// Turns little-endian 16-bit bytes at `rate` into 16 kHz samples, whatever the byte
/// boundaries of the pieces it is given.
struct PcmStream {
    odd_byte: Option<u8>,
    resampler: Option<Resampler>,
    samples: Vec<i16>,
}

impl PcmStream {
    fn new(rate: u32) -> Result<Self, ProviderError> {
        let resampler = (rate != RATE)
            .then(|| Resampler::new(rate, RATE))
            .transpose()
            .map_err(|e| ProviderError::Unusable(format!("audio at {rate} Hz: {e}")))?;
        Ok(Self { odd_byte: None, resampler, samples: Vec::new() })
    }

    fn push(&mut self, mut bytes: &[u8]) -> Vec<i16> {
        self.samples.clear();
        if let (Some(first), Some(second)) = (self.odd_byte, bytes.first()) {
            self.samples.push(i16::from_le_bytes([first, *second]));
            self.odd_byte = None;
            bytes = &bytes[1..];
        }
        let pairs = bytes.chunks_exact(2);
        self.odd_byte = pairs.remainder().first().copied().or(self.odd_byte);
        self.samples.extend(pairs.map(|pair| i16::from_le_bytes([pair[0], pair[1]])));
        match &mut self.resampler {
            Some(resampler) => {
                let mut out = Vec::with_capacity(self.samples.len());
                resampler.push(&self.samples, &mut out);
                out
            }
            None => self.samples.clone(),
        }
    }
}

async fn forward(out: &mpsc::Sender<Vec<i16>>, samples: Vec<i16>) -> Result<(), ProviderError> {
    if samples.is_empty() {
        return Ok(());
    }
    out.send(samples).await.map_err(|_| ProviderError::Unavailable("nobody listens any more".into()))
}

/// `POST {base_url}/audio/speech` with `response_format: pcm` (24 kHz, 16-bit, mono).
pub struct OpenAiSpeech {
    pub base_url: String,
    pub api_key: Option<String>,
    pub model: String,
    pub voice: String,
    /// How long the first audio may take.
    pub timeout: Duration,
    pub http: reqwest::Client,
}

#[async_trait::async_trait]
impl Synthesizer for OpenAiSpeech {
    fn name(&self) -> &str {
        "openai"
    }

    async fn synthesize(
        &self,
        text: &str,
        _language: Language,
        voice: Option<&str>,
        out: &mpsc::Sender<Vec<i16>>,
    ) -> Result<(), ProviderError> {
        let url = format!("{}/audio/speech", self.base_url.trim_end_matches('/'));
        let voice = voice.unwrap_or(&self.voice);
        let body = serde_json::json!({ "model": self.model, "voice": voice, "input": text, "response_format": "pcm" });
        let build = || provider::bearer(self.http.post(&url).json(&body), self.api_key.as_ref());
        let response = tokio::time::timeout(self.timeout, provider::send(build, "the speech service"))
            .await
            .map_err(|_| ProviderError::Timeout)??;
        let mut pcm = PcmStream::new(24_000)?;
        let mut body = response.bytes_stream();
        loop {
            let piece = tokio::time::timeout(self.timeout, body.next()).await.map_err(|_| ProviderError::Timeout)?;
            match piece {
                Some(Ok(bytes)) => forward(out, pcm.push(&bytes)).await?,
                Some(Err(error)) => return Err(ProviderError::Unavailable(format!("the audio stream broke: {error}"))),
                None => return Ok(()),
            }
        }
    }
}

/// The local `espeak-ng`, reading the text from stdin and writing a WAV to stdout.
pub struct Espeak {
    pub program: String,
    /// Words per minute.
    pub speed: u32,
}

impl Default for Espeak {
    fn default() -> Self {
        Self { program: "espeak-ng".into(), speed: 160 }
    }
}

/// The canonical WAV header espeak-ng writes before its samples.
const WAV_HEADER: usize = 44;

#[async_trait::async_trait]
impl Synthesizer for Espeak {
    fn name(&self) -> &str {
        "espeak-ng"
    }

    async fn synthesize(
        &self,
        text: &str,
        language: Language,
        // A speech service's voice names mean nothing to espeak-ng: its voice follows the language.
        _voice: Option<&str>,
        out: &mpsc::Sender<Vec<i16>>,
    ) -> Result<(), ProviderError> {
        let voice = match language {
            Language::En => "en-us",
            Language::Hi | Language::Hinglish => "hi",
        };
        let mut child = tokio::process::Command::new(&self.program)
            .args(["-v", voice, "-s", &self.speed.to_string(), "--stdout"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| ProviderError::Unavailable(format!("{} could not start: {e}", self.program)))?;
        let mut stdin = child.stdin.take().expect("stdin is piped");
        stdin.write_all(text.as_bytes()).await.map_err(|e| ProviderError::Unavailable(e.to_string()))?;
        drop(stdin);
        let mut stdout = child.stdout.take().expect("stdout is piped");
        let mut header = [0u8; WAV_HEADER];
        stdout.read_exact(&mut header).await.map_err(|e| ProviderError::Unusable(format!("no WAV header: {e}")))?;
        if &header[..4] != b"RIFF" || &header[36..40] != b"data" {
            return Err(ProviderError::Unusable("not the WAV espeak-ng writes".into()));
        }
        let rate = u32::from_le_bytes([header[24], header[25], header[26], header[27]]);
        let mut pcm = PcmStream::new(rate)?;
        let mut buffer = vec![0u8; 8_192];
        loop {
            let read = stdout.read(&mut buffer).await.map_err(|e| ProviderError::Unavailable(e.to_string()))?;
            if read == 0 {
                break;
            }
            forward(out, pcm.push(&buffer[..read])).await?;
        }
        let status = child.wait().await.map_err(|e| ProviderError::Unavailable(e.to_string()))?;
        if !status.success() {
            return Err(ProviderError::Unavailable(format!("{} exited with {status}", self.program)));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcm_bytes_split_anywhere_make_the_same_samples() {
        let samples: Vec<i16> = (0..400).map(|i| (i * 37 - 5_000) as i16).collect();
        let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        for cut in [1, 3, 7, 400, 799] {
            let mut stream = PcmStream::new(RATE).unwrap();
            let mut heard = stream.push(&bytes[..cut]);
            heard.extend(stream.push(&bytes[cut..]));
            assert_eq!(heard, samples, "cut at {cut}");
        }
    }
}
