//! Speech to text. Every transcriber takes one utterance whole ([`Transcriber::transcribe`]);
//! Deepgram also listens live through a call ([`Transcriber::live`]), giving the words heard so
//! far while the caller speaks — what tells a backchannel from a barge-in and an unfinished
//! sentence from a finished one.
//!
//! Implementations: an OpenAI-compatible `POST /audio/transcriptions` (OpenAI, Groq,
//! faster-whisper/Speaches) and Deepgram (`/v1/listen`, pre-recorded and live WebSocket).

use std::time::Duration;

use caly_core::Language;
use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::{sync::mpsc, task::JoinHandle};
use tokio_tungstenite::tungstenite::{self, Message, client::IntoClientRequest};

use crate::{
    provider::{self, ProviderError},
    voice::RATE,
};

#[async_trait::async_trait]
pub trait Transcriber: Send + Sync {
    fn name(&self) -> &str;
    /// The words of one utterance (16 kHz PCM).
    async fn transcribe(&self, audio: &[i16], language: Language) -> Result<String, ProviderError>;
    /// A live session for the call, when this service has one.
    async fn live(&self, _language: Language) -> Option<Result<Live, ProviderError>> {
        None
    }
}

/// A utterance as a WAV file, as transcription APIs take it.
pub fn wav(audio: &[i16]) -> Vec<u8> {
    let spec =
        hound::WavSpec { channels: 1, sample_rate: RATE, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut bytes = std::io::Cursor::new(Vec::with_capacity(44 + audio.len() * 2));
    let mut writer = hound::WavWriter::new(&mut bytes, spec).expect("a WAV header fits in memory");
    for sample in audio {
        writer.write_sample(*sample).expect("memory takes every sample");
    }
    writer.finalize().expect("memory takes the header");
    bytes.into_inner()
}

/// `POST {base_url}/audio/transcriptions`, multipart, as OpenAI defines it.
pub struct OpenAiTranscriber {
    pub base_url: String,
    pub api_key: Option<String>,
    pub model: String,
    pub timeout: Duration,
    pub http: reqwest::Client,
}

#[async_trait::async_trait]
impl Transcriber for OpenAiTranscriber {
    fn name(&self) -> &str {
        "openai"
    }

    async fn transcribe(&self, audio: &[i16], language: Language) -> Result<String, ProviderError> {
        let url = format!("{}/audio/transcriptions", self.base_url.trim_end_matches('/'));
        let file = wav(audio);
        let build = || {
            let part = reqwest::multipart::Part::bytes(file.clone()).file_name("turn.wav").mime_str("audio/wav");
            let form = reqwest::multipart::Form::new()
                .part("file", part.expect("audio/wav is a MIME type"))
                .text("model", self.model.clone())
                .text("language", iso_639_1(language))
                .text("response_format", "json");
            provider::bearer(self.http.post(&url).multipart(form).timeout(self.timeout), self.api_key.as_ref())
        };
        #[derive(Deserialize)]
        struct Transcription {
            text: String,
        }
        let response = provider::send(build, "the transcription service").await?;
        let transcription: Transcription =
            response.json().await.map_err(|e| ProviderError::Unusable(format!("not a transcription: {e}")))?;
        Ok(transcription.text.trim().to_owned())
    }
}

/// Hinglish is Hindi to a recogniser.
fn iso_639_1(language: Language) -> &'static str {
    match language {
        Language::En => "en",
        Language::Hi | Language::Hinglish => "hi",
    }
}

/// Deepgram: `POST /v1/listen` for one utterance, the `/v1/listen` WebSocket live.
pub struct Deepgram {
    /// `https://api.deepgram.com`, or a stand-in.
    pub base_url: String,
    pub api_key: String,
    pub model: String,
    /// `hi`, `en` or `multi`; unset: the call's language.
    pub language: Option<String>,
    pub timeout: Duration,
    pub http: reqwest::Client,
}

#[derive(Deserialize)]
struct Alternative {
    transcript: String,
}

/// A `Results` message of the live API.
#[derive(Deserialize)]
struct LiveResults {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    is_final: bool,
    #[serde(default)]
    from_finalize: bool,
    channel: Option<LiveChannel>,
}

#[derive(Deserialize)]
struct LiveChannel {
    alternatives: Vec<Alternative>,
}

impl Deepgram {
    fn language(&self, language: Language) -> String {
        self.language.clone().unwrap_or_else(|| iso_639_1(language).to_owned())
    }
}

#[async_trait::async_trait]
impl Transcriber for Deepgram {
    fn name(&self) -> &str {
        "deepgram"
    }

    async fn transcribe(&self, audio: &[i16], language: Language) -> Result<String, ProviderError> {
        let url = format!("{}/v1/listen", self.base_url.trim_end_matches('/'));
        let query =
            [("model", self.model.clone()), ("language", self.language(language)), ("smart_format", "true".into())];
        let url = reqwest::Url::parse_with_params(&url, &query).map_err(|e| ProviderError::Unusable(e.to_string()))?;
        let file = wav(audio);
        let build = || {
            self.http
                .post(url.clone())
                .header("authorization", format!("Token {}", self.api_key))
                .header("content-type", "audio/wav")
                .body(file.clone())
                .timeout(self.timeout)
        };
        #[derive(Deserialize)]
        struct Listened {
            results: ListenedResults,
        }
        #[derive(Deserialize)]
        struct ListenedResults {
            channels: Vec<LiveChannel>,
        }
        let response = provider::send(build, "Deepgram").await?;
        let listened: Listened =
            response.json().await.map_err(|e| ProviderError::Unusable(format!("not a result: {e}")))?;
        let transcript =
            listened.results.channels.first().and_then(|c| c.alternatives.first()).map(|a| a.transcript.trim());
        Ok(transcript.unwrap_or_default().to_owned())
    }

    async fn live(&self, language: Language) -> Option<Result<Live, ProviderError>> {
        Some(self.connect(language).await)
    }
}

impl Deepgram {
    async fn connect(&self, language: Language) -> Result<Live, ProviderError> {
        let base = self.base_url.trim_end_matches('/').replacen("http", "ws", 1);
        let url = format!(
            "{base}/v1/listen?model={}&language={}&encoding=linear16&sample_rate={RATE}&channels=1&interim_results=true&endpointing=false",
            self.model,
            self.language(language)
        );
        let mut request = url.into_client_request().map_err(|e| ProviderError::Unavailable(e.to_string()))?;
        let token =
            format!("Token {}", self.api_key).parse().map_err(|_| ProviderError::Unusable("a bad key".into()))?;
        request.headers_mut().insert("authorization", token);
        let socket = provider::connect_websocket(request, self.timeout, "the live socket").await?;
        let (commands, mut to_send) = mpsc::channel::<LiveCommand>(64);
        let (heard_tx, heard) = mpsc::channel(64);
        let task = tokio::spawn(async move {
            let (mut sink, mut stream) = socket.split();
            loop {
                tokio::select! {
                    command = to_send.recv() => {
                        let message = match command {
                            Some(LiveCommand::Audio(bytes)) => Message::Binary(bytes.into()),
                            Some(LiveCommand::Finalize) => Message::Text(r#"{"type":"Finalize"}"#.into()),
                            None => {
                                let _ = sink.send(Message::Text(r#"{"type":"CloseStream"}"#.into())).await;
                                break;
                            }
                        };
                        if sink.send(message).await.is_err() {
                            break;
                        }
                    }
                    message = stream.next() => {
                        let Some(Ok(message)) = message else { break };
                        if let Some(heard) = live_heard(&message) && heard_tx.send(heard).await.is_err() {
                            break;
                        }
                    }
                }
            }
        });
        Ok(Live { commands, heard, task })
    }
}

fn live_heard(message: &tungstenite::Message) -> Option<LiveHeard> {
    let Message::Text(text) = message else { return None };
    let results: LiveResults = serde_json::from_str(text).ok()?;
    if results.kind != "Results" {
        return None;
    }
    let text = results.channel?.alternatives.into_iter().next()?.transcript;
    Some(LiveHeard { text, is_final: results.is_final, from_finalize: results.from_finalize })
}

/// What a live transcriber heard: interim words, final words of a stretch of audio, and the
/// final words that answer a finalize.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveHeard {
    pub text: String,
    pub is_final: bool,
    pub from_finalize: bool,
}

enum LiveCommand {
    /// 16-bit little-endian PCM, as the socket sends it.
    Audio(Vec<u8>),
    Finalize,
}

/// A live transcription: audio in, [`LiveHeard`] out, until dropped (which closes the stream
/// and ends its task).
pub struct Live {
    commands: mpsc::Sender<LiveCommand>,
    pub heard: mpsc::Receiver<LiveHeard>,
    task: JoinHandle<()>,
}

impl Live {
    /// Sends one frame; false when the session is gone or cannot keep up (the utterance is
    /// then transcribed whole instead).
    pub fn audio(&self, frame: &[i16]) -> bool {
        let bytes = frame.iter().flat_map(|s| s.to_le_bytes()).collect();
        self.commands.try_send(LiveCommand::Audio(bytes)).is_ok()
    }

    /// Asks for the final words of everything sent so far.
    pub fn finalize(&self) -> bool {
        self.commands.try_send(LiveCommand::Finalize).is_ok()
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        // Closing the command channel lets the task say CloseStream; a task stuck on a dead
        // socket is aborted after a moment.
        let task = self.task.abort_handle();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(2)).await;
            task.abort();
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deepgram_results_become_heard_words() {
        let message = Message::Text(
            r#"{"type":"Results","is_final":true,"from_finalize":true,"channel":{"alternatives":[{"transcript":"mera order","confidence":0.9}]}}"#.into(),
        );
        assert_eq!(
            live_heard(&message),
            Some(LiveHeard { text: "mera order".into(), is_final: true, from_finalize: true })
        );
        assert_eq!(live_heard(&Message::Text(r#"{"type":"Metadata","request_id":"x"}"#.into())), None);
        assert_eq!(live_heard(&Message::Text("not json".into())), None);
    }

    #[test]
    fn utterances_go_out_as_16_khz_wav() {
        let file = wav(&[0, 1, -1]);
        let reader = hound::WavReader::new(std::io::Cursor::new(file)).unwrap();
        assert_eq!(reader.spec().sample_rate, 16_000);
        assert_eq!(reader.into_samples::<i16>().map(Result::unwrap).collect::<Vec<_>>(), vec![0, 1, -1]);
    }
}
